#!/usr/bin/env bash
# /v1/check benchmark: `sonde serve` against a minimal axum handler that
# returns the same JSON (crates/sonde-bench, `check-baseline`), in the same
# run, on loopback, with the same wrk threads/connections/duration, once with
# keep-alive and once with `Connection: close` (how most real pings arrive).
#
# Afterwards it checks that every ping the collector acknowledged with a 2xx
# is in its SQLite file (stored pings >= 2xx answers), and prints a markdown
# table with the ratio to the baseline (target: >= 0.7), and a second one of
# where the CPU went: the server's CPU per request and, of it, the store
# writer thread's; wrk's own CPU per request; and how much of the machine's
# CPU sat idle during the run.
#
# Usage: bash bench/check/run.sh            (THREADS, CONNECTIONS, DURATION, ROUNDS override)
#        RAW_DIR=DIR: keep the raw output in DIR (default bench/out/check-<time>-<pid>);
#        RESULTS=FILE: also append the figures to FILE as `check_*=value` lines
#        (what bench/run.sh builds BENCHMARKS.md from).
#        DATA_PARENT=/dev/shm bash bench/check/run.sh   diagnostic only: data dir on
#        tmpfs, where fsync costs nothing, to see how much of the gap is the disk.
# Needs: cargo, wrk, curl, sqlite3 (Debian: apt-get install wrk curl sqlite3).
set -euo pipefail
# One load generator on one address is what the per-address rate limit
# refuses: keep the limiter in the measured path, with a limit out of reach
# (an environment variable, so builds without the limit still run).
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-1000000}
cd "$(dirname "$0")/../.."

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}

for tool in cargo wrk curl sqlite3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required (apt-get install wrk curl sqlite3)" >&2; exit 1; }
done

cargo build --release --locked -q -p sonde-cli -p sonde-bench
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# What one durable commit costs on the disk right now: sonde's figures move
# with it, the baseline's do not (it does no I/O).
FSYNC="not measured (python3 missing)"
if command -v python3 >/dev/null; then
  FSYNC=$(python3 bench/check/fsync.py "${DATA_PARENT:-bench/out}") || FSYNC="not measured (bench/check/fsync.py failed)"
fi
SONDE=${SONDE_BIN:-target/release/sonde}  # SONDE_BIN: measure another build (a proposed change) the same way
BASELINE=target/release/check-baseline

OUT=${RAW_DIR:-bench/out/check-$(date -u +%Y%m%dT%H%M%SZ)-$$}
DATA=${DATA_PARENT:-$OUT}/sonde-bench-data-$$
mkdir -p "$OUT" "$DATA"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The two products the wrk script asks about, with a newer release and alerts,
# so every answer is a full one (outdated, alerts, Prisma's extra fields).
"$SONDE" release publish --data-dir "$DATA" --product terraform --version 1.6.0 \
  --date 2024-11-05T00:00:00Z --download-url https://releases.example.com/terraform/1.6.0 \
  --changelog-url https://releases.example.com/terraform/1.6.0/CHANGELOG.md \
  --website https://www.terraform.io >/dev/null
"$SONDE" alert add --data-dir "$DATA" --product terraform --level critical \
  --message "state corruption fixed in 1.5.7" --url https://releases.example.com/advisories/1 \
  --affects '<1.5.7' >/dev/null
"$SONDE" release publish --data-dir "$DATA" --product prisma --version 5.22.0 \
  --date 2024-11-05T00:00:00Z --download-url https://www.npmjs.com/package/prisma \
  --changelog-url https://github.com/prisma/prisma/releases/tag/5.22.0 \
  --website https://www.prisma.io --package prisma --release-tag latest \
  --install-command 'npm i --save-dev prisma@latest' >/dev/null
"$SONDE" alert add --data-dir "$DATA" --product prisma --level warn \
  --message "Prisma 4 reaches end of support" --affects '<5.0.0' >/dev/null

# wait_addr LOGFILE PID: the first 127.0.0.1:PORT the process prints.
wait_addr() {
  local addr=""
  for _ in $(seq 1 600); do
    addr=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$1" | head -n1 || true)
    [ -n "$addr" ] && { echo "$addr"; return 0; }
    kill -0 "$2" 2>/dev/null || { echo "run.sh: process exited; log:" >&2; cat "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: no address in $1" >&2; return 1
}

"$SONDE" serve --listen 127.0.0.1:0 --data-dir "$DATA" >"$OUT/sonde.log" 2>&1 &
SONDE_PID=$!; PIDS+=("$SONDE_PID")
SONDE_ADDR=$(wait_addr "$OUT/sonde.log" "$SONDE_PID")

# Capture real answers (two acknowledged pings) for the baseline to serve.
GO_Q='arch=amd64&os=linux&signature=0f6a3b57-88a2-5e21-9c3d-2b6f1e0a4c77&version=1.5.0'
PRISMA_Q='checkpoint_version=4&local_timestamp=2026-11-22T01%3A21%3A53Z&information=&schema_providers=postgresql&schema_preview_features=fullTextSearch&schema_preview_features=metrics&schema_generators_providers=prisma-client-js&command=migrate%20dev%20--name%20%5Bredacted%5D&client_event_id=05366bb5-d03b-44a4-907b-006f74dbff13&signature=3cbb5d4d-c257-4f25-972f-044167692257&project_hash=ea4e393a&cli_path_hash=6a417062&arch=x64&os=linux&node_version=v20.20.2&version=4.16.2&ci=false&ci_name=&cli_install_type=local&previous_client_event_id=&check_if_update_available=true'
curl -fsS -H 'User-Agent: HashiCorp/go-checkpoint' "http://$SONDE_ADDR/v1/check/terraform?$GO_Q" >"$OUT/terraform.json"
curl -fsS -H 'User-Agent: prisma/js-checkpoint' "http://$SONDE_ADDR/v1/check/prisma?$PRISMA_Q" >"$OUT/prisma.json"
CAPTURED=2

"$BASELINE" --listen 127.0.0.1:0 --body "terraform=$OUT/terraform.json" --body "prisma=$OUT/prisma.json" \
  >"$OUT/baseline.log" 2>&1 &
BASELINE_PID=$!; PIDS+=("$BASELINE_PID")
BASELINE_ADDR=$(wait_addr "$OUT/baseline.log" "$BASELINE_PID")

WRK_BASE=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$DURATION" --latency -s bench/check/check.lua)

field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
CLK_TCK=$(getconf CLK_TCK)
# cpu_ticks PID: user+system CPU the process used so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# writer_ticks PID: user+system CPU of the collector's store writer thread so
# far (0 for the baseline, which has none).
writer_ticks() {
  local t sum=0
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = sonde-store-wri ] && sum=$((sum + $(awk '{ print $14 + $15 }' "$t/stat")))
  done
  echo "$sum"
}
# idle_ticks / all_ticks: the machine's idle (idle + iowait) and total CPU time.
idle_ticks() { awk '/^cpu /{ print $5 + $6 }' /proc/stat; }
all_ticks() { awk '/^cpu /{ s = 0; for (i = 2; i <= NF; i++) s += $i; print s }' /proc/stat; }
# children_ticks FILE: user+system CPU of this shell's finished children
# (wrk), from `times` as written to FILE (no subshell: it would count its own).
children_ticks() { awk -v hz="$CLK_TCK" 'NR == 2 { gsub(/[ms]/, " "); printf "%d", ($1 * 60 + $2 + $3 * 60 + $4) * hz }' "$1"; }

# run_wrk NAME ADDR PID [extra wrk args]: runs wrk, keeps its output, echoes
# WRK_RESULT plus, per request, the server's CPU time (cpu_us) and of it the
# store writer's (writer_us), wrk's own CPU time (wrk_us), and the share of
# the machine's CPU time that was idle during the run (idle_pct).
run_wrk() {
  local name=$1 addr=$2 pid=$3; shift 3
  local before after wbefore wafter ibefore iafter abefore aafter cbefore cafter line
  times >"$OUT/times-$name-before"
  before=$(cpu_ticks "$pid"); wbefore=$(writer_ticks "$pid")
  ibefore=$(idle_ticks); abefore=$(all_ticks)
  "${WRK_BASE[@]}" "$@" "http://$addr/" >"$OUT/wrk-$name.txt" 2>&1
  iafter=$(idle_ticks); aafter=$(all_ticks)
  times >"$OUT/times-$name-after"
  after=$(cpu_ticks "$pid"); wafter=$(writer_ticks "$pid")
  cbefore=$(children_ticks "$OUT/times-$name-before"); cafter=$(children_ticks "$OUT/times-$name-after")
  line=$(grep '^WRK_RESULT' "$OUT/wrk-$name.txt") || { cat "$OUT/wrk-$name.txt" >&2; exit 1; }
  awk -v line="$line" -v t=$((after - before)) -v w=$((wafter - wbefore)) -v c="$cbefore" -v c2="$cafter" \
    -v i=$((iafter - ibefore)) -v a=$((aafter - abefore)) -v hz="$CLK_TCK" -v n="$(field "$line" requests)" \
    'BEGIN { printf "%s cpu_us=%d writer_us=%d wrk_us=%d idle_pct=%d\n", line, t * 1e6 / hz / n, w * 1e6 / hz / n, (c2 - c) * 1e6 / hz / n, 100 * i / a }'
}

declare -A RESULT
for round in $(seq 1 "$ROUNDS"); do
  for mode in keepalive close; do
    extra=()
    [ "$mode" = close ] && extra=(-H 'Connection: close')
    for target in baseline sonde; do
      addr=$BASELINE_ADDR; pid=$BASELINE_PID
      [ "$target" = sonde ] && { addr=$SONDE_ADDR; pid=$SONDE_PID; }
      echo "run.sh: round $round/$ROUNDS: wrk $target ($mode) ..." >&2
      RESULT[$target-$mode-$round]=$(run_wrk "$target-$mode-$round" "$addr" "$pid" "${extra[@]}")
    done
  done
done

# Stop the collector cleanly (drains), then count what it stored.
kill -TERM "$SONDE_PID"; wait "$SONDE_PID" || { echo "run.sh: sonde serve exited non-zero" >&2; exit 1; }
kill -TERM "$BASELINE_PID"; wait "$BASELINE_PID" || true
PIDS=()

DB=$(find "$DATA" -maxdepth 1 -type f \( -name '*.db' -o -name '*.sqlite' -o -name '*.sqlite3' \) | head -n1)
STORED=$(sqlite3 "$DB" 'SELECT count(*) FROM pings')
ACKED=$CAPTURED
NON2XX=0
for key in "${!RESULT[@]}"; do
  [[ $key == sonde-* ]] || continue
  r=${RESULT[$key]}
  ACKED=$(( ACKED + $(field "$r" requests) - $(field "$r" non2xx) ))
  NON2XX=$(( NON2XX + $(field "$r" non2xx) ))
done

# mid [FORMAT]: the median of the numbers on stdin, one per line (printf
# FORMAT, default %s).
mid() {
  sort -g | awk -v fmt="${1:-%s}" '{ v[NR] = $1 } END { printf fmt "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# median TARGET MODE KEY: the median over the rounds of one WRK_RESULT field.
median() {
  local round
  for round in $(seq 1 "$ROUNDS"); do printf '%s\n' "$(field "${RESULT[$1-$2-$round]}" "$3")"; done | mid
}
# ratios MODE: the per-round ratios sonde/baseline of req/s (each pair measured back to back).
ratios() {
  local round
  for round in $(seq 1 "$ROUNDS"); do
    awk -v s="$(field "${RESULT[sonde-$1-$round]}" rps)" -v b="$(field "${RESULT[baseline-$1-$round]}" rps)" 'BEGIN { printf "%.2f\n", s / b }'
  done
}

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
# label MODE: how the tables name a connection mode.
label() { if [ "$1" = close ]; then echo "Connection: close"; else echo "keep-alive"; fi; }
{
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/check/check.lua (keep-alive; and with -H 'Connection: close')"
  echo "machine: $(nproc) cores, $(uname -sr), load average before the run: $LOAD, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "collector data dir on: $(df -T "$DATA" | awk 'NR==2 { print $2 " (" $1 ")" }'); before the run, $FSYNC"
  echo
  echo "median of $ROUNDS interleaved rounds; ratio = median of the per-round ratios of req/s"
  echo
  echo "| connection | server | req/s | p50 ms | p99 ms | errors (all rounds) | server CPU us/request | ratio to baseline |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for mode in keepalive close; do
    label=$(label "$mode")
    for target in baseline sonde; do
      errs=0
      for round in $(seq 1 "$ROUNDS"); do
        r=${RESULT[$target-$mode-$round]}
        errs=$(( errs + $(field "$r" non2xx) + $(field "$r" connect_errors) + $(field "$r" read_errors) + $(field "$r" write_errors) + $(field "$r" timeouts) ))
      done
      ratio="1.00"
      [ "$target" = sonde ] && ratio=$(ratios "$mode" | mid %.2f)
      name="axum baseline (static JSON)"; [ "$target" = sonde ] && name="sonde serve (SQLite, group commit)"
      echo "| $label | $name | $(printf '%.0f' "$(median "$target" "$mode" rps)") | $(ms "$(median "$target" "$mode" p50_us)") | $(ms "$(median "$target" "$mode" p99_us)") | $errs | $(median "$target" "$mode" cpu_us) | $ratio |"
    done
  done
  echo
  for mode in keepalive close; do echo "per-round ratios ($mode): $(ratios "$mode" | tr '\n' ' ')"; done
  echo
  echo "where the CPU went (medians, microseconds per request; idle: share of the machine's CPU time):"
  echo
  echo "| connection | server | server CPU | of it, store writer | wrk CPU | machine idle % |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  for mode in keepalive close; do
    label=$(label "$mode")
    for target in baseline sonde; do
      echo "| $label | $target | $(median "$target" "$mode" cpu_us) | $(median "$target" "$mode" writer_us) | $(median "$target" "$mode" wrk_us) | $(median "$target" "$mode" idle_pct) |"
    done
  done
  echo
  echo "durability: $ACKED pings acknowledged with 2xx by sonde, $STORED stored in $(basename "$DB") (non-2xx: $NON2XX)"
} | tee "$OUT/summary.md"

if [ -n "${RESULTS:-}" ]; then
  {
    echo "check_command=THREADS=$THREADS CONNECTIONS=$CONNECTIONS DURATION=$DURATION ROUNDS=$ROUNDS bash bench/check/run.sh"
    echo "check_rounds=$ROUNDS"
    echo "check_fsync=$FSYNC"
    for mode in keepalive close; do
      for target in baseline sonde; do
        echo "check_${target}_rps_$mode=$(printf '%.0f' "$(median "$target" "$mode" rps)")"
        echo "check_${target}_p99_ms_$mode=$(ms "$(median "$target" "$mode" p99_us)")"
        echo "check_${target}_cpu_us_$mode=$(median "$target" "$mode" cpu_us)"
      done
      echo "check_ratio_$mode=$(ratios "$mode" | mid %.2f)"
      echo "check_ratios_$mode=$(ratios "$mode" | tr '\n' ' ' | sed 's/ $//')"
      echo "check_idle_pct_$mode=$(median sonde "$mode" idle_pct)"
    done
    echo "check_acked=$ACKED"
    echo "check_stored=$STORED"
    echo "check_non2xx=$NON2XX"
  } >>"$RESULTS"
fi

if [ "$STORED" -lt "$ACKED" ]; then
  echo "run.sh: FAIL: $ACKED acknowledged but only $STORED stored" >&2
  exit 1
fi
echo "run.sh: every acknowledged ping is stored; raw output in $OUT" >&2
if [ -n "${DATA_PARENT:-}" ]; then rm -rf "$DATA"; fi
