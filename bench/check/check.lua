-- wrk script for bench/check/run.sh: realistic checkpoint checks.
--
-- Requests alternate between the two real clients' shapes (see
-- docs/compatibility.md): go-checkpoint's four sorted keys for product
-- "terraform", and Prisma's checkpoint-client query (repeated keys, empty
-- values) for product "prisma". Every request carries a fresh random
-- signature (and Prisma a fresh client_event_id), so the collector stores a
-- new ping and a new monthly signature each time: the worst case for the
-- store (real traffic repeats a signature within a month, and only its first
-- ping adds to the first-seen set).
--
-- SONDE_CHECK_POPULATION=N (environment) draws every signature from a fixed
-- population of N developers instead (the same N signatures in every wrk
-- thread and run): after the first check of each, a check adds a ping and
-- costs hash lookups only, as a tool's returning users do within a day.
--
-- Headers given to wrk with -H (e.g. "Connection: close") are kept.
-- done() prints one machine-readable line, "WRK_RESULT key=value ...".

local thread_counter = 0
local population = tonumber(os.getenv("SONDE_CHECK_POPULATION") or "") or 0

function setup(thread)
   thread_counter = thread_counter + 1
   thread:set("thread_id", thread_counter)
end

function init(args)
   -- Each wrk thread has its own Lua state: seed each differently.
   math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor(os.clock() * 1e6))
   n = 0
end

local function hex(digits)
   local parts = {}
   for i = 1, digits / 4 do
      parts[i] = string.format("%04x", math.random(0, 0xffff))
   end
   return table.concat(parts)
end

local function uuid_v4()
   return hex(8) .. "-" .. hex(4) .. "-4" .. hex(4):sub(2) .. "-"
      .. string.format("%x", 8 + math.random(0, 3)) .. hex(4):sub(2) .. "-" .. hex(12)
end

-- Signature number `i` of the fixed population, in UUID v4 layout.
local function member(i)
   return string.format("%08x-0000-4000-8000-%012x", i, i * 7919)
end

-- go-checkpoint: 16 random bytes in UUID layout, no version bits.
local function go_signature()
   if population > 0 then return member(math.random(1, population)) end
   return hex(8) .. "-" .. hex(4) .. "-" .. hex(4) .. "-" .. hex(4) .. "-" .. hex(12)
end

-- Prisma's signature: a random UUID v4, or a member of the population.
local function prisma_signature()
   if population > 0 then return member(math.random(1, population)) end
   return uuid_v4()
end

local function with_base_headers(extra)
   local h = {}
   for k, v in pairs(wrk.headers) do h[k] = v end
   for k, v in pairs(extra) do h[k] = v end
   return h
end

local go_headers, prisma_headers

function request()
   if not go_headers then
      go_headers = with_base_headers({
         ["Accept"] = "application/json",
         ["User-Agent"] = "HashiCorp/go-checkpoint",
         ["Accept-Encoding"] = "gzip",
      })
      prisma_headers = with_base_headers({
         ["Accept"] = "application/json",
         ["User-Agent"] = "prisma/js-checkpoint",
         ["Accept-Encoding"] = "gzip,deflate",
      })
   end
   n = n + 1
   if n % 2 == 0 then
      local path = "/v1/check/terraform?arch=amd64&os=linux&signature=" .. go_signature()
         .. "&version=1.5.0"
      return wrk.format("GET", path, go_headers)
   end
   local path = "/v1/check/prisma?checkpoint_version=4"
      .. "&local_timestamp=2026-11-22T01%3A21%3A53Z"
      .. "&information="
      .. "&schema_providers=postgresql"
      .. "&schema_preview_features=fullTextSearch&schema_preview_features=metrics"
      .. "&schema_generators_providers=prisma-client-js"
      .. "&command=migrate%20dev%20--name%20%5Bredacted%5D"
      .. "&client_event_id=" .. uuid_v4()
      .. "&signature=" .. prisma_signature()
      .. "&project_hash=ea4e393a&cli_path_hash=6a417062"
      .. "&arch=x64&os=linux&node_version=v20.20.2&version=4.16.2"
      .. "&ci=false&ci_name=&cli_install_type=local&previous_client_event_id="
      .. "&check_if_update_available=true"
   return wrk.format("GET", path, prisma_headers)
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "WRK_RESULT requests=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
         .. "seconds=%.3f rps=%.1f p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
      seconds, summary.requests / seconds,
      latency:percentile(50.0), latency:percentile(99.0), latency.max))
end
