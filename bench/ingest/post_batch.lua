-- wrk script: POST /api/v1/events with batches of BATCH command events, every
-- event with a unique id (thread number + counter in UUID layout), so every
-- event is a new row (no duplicates).
--
--   wrk -t2 -c32 -d20s -s bench/ingest/post_batch.lua http://127.0.0.1:PORT/api/v1/events

local BATCH = tonumber(os.getenv("BATCH") or "100")
local PRODUCT = os.getenv("PRODUCT") or "bench"

local threads = {}
local counter = 0
-- `thread_no` is a global: setup() sets it in each thread's own Lua state.
thread_no = 0

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local parts = {}
  for i = 1, BATCH do
    counter = counter + 1
    parts[i] = string.format(
      '{"id":"%08x-0000-4000-8000-%012x","kind":"command","command":"bench run","flags":["--fast"],"is_error":false,"duration_ms":%d,"os_platform":"linux","os_arch":"x86_64","version":"1.0.0"}',
      thread_no, counter, counter % 1000)
  end
  local body = '{"product":"' .. PRODUCT .. '","events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end
