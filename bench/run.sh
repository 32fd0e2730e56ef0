#!/usr/bin/env bash
# One command for the whole results page: runs every benchmark area, each
# figure beside its baseline or physical limit measured in the same run on
# this machine, and writes BENCHMARKS.md from bench/page/template.md with the
# tables filled from this run (bench/page/render.py). See bench/README.md.
#
#   bash bench/run.sh                      full size; the page goes to bench/out/
#   OUT=BENCHMARKS.md bash bench/run.sh    rewrite the repository's page (a quiet machine!)
#   QUICK=1 bash bench/run.sh              short durations, small data: checks the script in minutes
#   AREAS="ingest analytics" bash bench/run.sh   a subset (the other tables say "not run")
#
# Areas (AREAS, default all): check, ingest (SQLite and ClickHouse), analytics
# (SQLite and ClickHouse), load (the load generator and the SIGKILL runs on
# SQLite and ClickHouse), client, errors (error-report cost), size (client size).
# Raw output of every area: bench/runs/<UTC date>/page-<time>/ (QUICK: under
# bench/out/runs/, never committed), with results.env, the figures the page is
# made from. The script starts its own clickhouse-server on loopback
# (`clickhouse-for-bench`, the test kit's) and stops it at the end.
# Sizes (each overridable): SIGNATURES, PINGS (analytics; CH_SIGNATURES and
# CH_PINGS for the ClickHouse data set if it is to differ), REPEAT (timed
# requests per query; CH_REPEAT on ClickHouse, 3 at full size, where a
# query takes seconds), CHECK_ROUNDS,
# CHECK_DURATION, INGEST_DURATION, LOAD_DURATION, CRASH_DURATION, CRASH_KILLS,
# CLIENT_RUNS, CLIENT_NODE_RUNS, ERROR_RUNS.
# Needs: cargo, wrk, curl, sqlite3, python3, hyperfine, node, clickhouse-server.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${QUICK:-0}
AREAS=${AREAS:-check ingest analytics load client errors size}
DAY=$(date -u +%F)
STAMP=$(date -u +%H%M%SZ)
if [ "$QUICK" = 1 ]; then
  : "${CHECK_ROUNDS:=1}" "${CHECK_DURATION:=3s}" "${INGEST_DURATION:=3s}"
  : "${SIGNATURES:=2000}" "${PINGS:=20000}" "${REPEAT:=3}"
  : "${CLIENT_RUNS:=50}" "${CLIENT_NODE_RUNS:=5}" "${ERROR_RUNS:=3}"
  : "${LOAD_DURATION:=5}" "${CRASH_DURATION:=10}" "${CRASH_KILLS:=2}"
  RAW_DIR=${RAW_DIR:-bench/out/runs/$DAY/page-$STAMP-quick}
else
  : "${CHECK_ROUNDS:=3}" "${CHECK_DURATION:=10s}" "${INGEST_DURATION:=20s}"
  : "${SIGNATURES:=1000000}" "${PINGS:=10000000}" "${REPEAT:=20}" "${CH_REPEAT:=3}"
  : "${CLIENT_RUNS:=1000}" "${CLIENT_NODE_RUNS:=20}" "${ERROR_RUNS:=20}"
  : "${LOAD_DURATION:=30}" "${CRASH_DURATION:=60}" "${CRASH_KILLS:=10}"
  RAW_DIR=${RAW_DIR:-bench/runs/$DAY/page-$STAMP}
fi
# The ClickHouse data set's size, if it is to differ from SQLite's.
CH_SIGNATURES=${CH_SIGNATURES:-$SIGNATURES}
CH_PINGS=${CH_PINGS:-$PINGS}
CH_REPEAT=${CH_REPEAT:-$REPEAT}
OUT=${OUT:-bench/out/BENCHMARKS-$DAY-$STAMP.md}
# Every data directory (SQLite files, ClickHouse's files) on one filesystem.
DATA_PARENT=${DATA_PARENT:-bench/out}
mkdir -p "$RAW_DIR" "$DATA_PARENT" "$(dirname "$OUT")"
RAW_DIR=$(cd "$RAW_DIR" && pwd)
RESULTS=$RAW_DIR/results.env
: >"$RESULTS"
has() { [[ " $AREAS " == *" $1 "* ]]; }

for tool in cargo wrk curl sqlite3 python3 hyperfine node; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is required" >&2; exit 1; }
done

# What the page's header says about this machine and this build.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "quick=$QUICK"
  echo "areas=$AREAS"
  echo "commit=$(git rev-parse --short HEAD)$( [ -n "$(git status --porcelain --untracked-files=no)" ] && echo ' (with uncommitted changes)')"
  echo "cores=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "memory=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel=$(uname -sr)"
  echo "filesystem=$(df -T "$DATA_PARENT" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "run_command=$( [ "$QUICK" = 1 ] && echo 'QUICK=1 ')$( [ "$CH_SIGNATURES/$CH_PINGS" != "$SIGNATURES/$PINGS" ] && echo "CH_SIGNATURES=$CH_SIGNATURES CH_PINGS=$CH_PINGS ")bash bench/run.sh"
  echo "raw_dir=${RAW_DIR#"$ROOT"/}"
} >>"$RESULTS"

echo "bench/run.sh: building (release) ..." >&2
cargo build --release --locked -q -p sonde-cli -p sonde-bench -p sonde-testkit --bins

FAILED=()
# area NAME COMMAND...: runs one area with its output in RAW_DIR/NAME.log;
# a failing area is recorded (the page says so) and the others still run.
area() {
  local name=$1; shift
  echo "bench/run.sh: $name ..." >&2
  if "$@" >"$RAW_DIR/$name.log" 2>&1; then
    echo "status_$name=ok" >>"$RESULTS"
  else
    echo "status_$name=failed (see $name.log)" >>"$RESULTS"
    FAILED+=("$name")
    echo "bench/run.sh: $name FAILED; its output: $RAW_DIR/$name.log" >&2
  fi
}

CH_PID=""
stop_clickhouse() {
  if [ -n "$CH_PID" ]; then
    # (a bare `exec` with a redirection would keep it for the whole script)
    { exec {CH[1]}>&-; } 2>/dev/null || true
    wait "$CH_PID" 2>/dev/null || true
    CH_PID=""
  fi
}
trap stop_clickhouse EXIT
if has ingest || has analytics || has load; then
  # The test kit's server, its files under DATA_PARENT; it stops when its stdin closes.
  coproc CH { TMPDIR=$ROOT/$DATA_PARENT exec target/release/clickhouse-for-bench 2>"$RAW_DIR/clickhouse.log"; }
  CH_PID=$CH_PID
  read -r CH_HTTP <&"${CH[0]}" || { echo "bench/run.sh: clickhouse-server did not start" >&2; cat "$RAW_DIR/clickhouse.log" >&2; exit 1; }
  CH_HOST=${CH_HTTP#http://}
  echo "clickhouse_version=$(curl -fsS --data-binary 'SELECT version()' "$CH_HTTP/")" >>"$RESULTS"
fi
export RESULTS DATA_PARENT

if has check; then
  area check env RAW_DIR="$RAW_DIR/check" ROUNDS="$CHECK_ROUNDS" DURATION="$CHECK_DURATION" bash bench/check/run.sh
fi
if has ingest; then
  area ingest-sqlite env RAW_DIR="$RAW_DIR/ingest" DURATION="$INGEST_DURATION" bash bench/ingest/run.sh
  area ingest-clickhouse env RAW_DIR="$RAW_DIR/ingest" DURATION="$INGEST_DURATION" \
    STORE="clickhouse://$CH_HOST/sonde_ingest" bash bench/ingest/run.sh
fi
if has analytics; then
  area analytics-sqlite env RAW_DIR="$RAW_DIR/analytics" SIGNATURES="$SIGNATURES" PINGS="$PINGS" REPEAT="$REPEAT" \
    bash bench/analytics/run.sh
  area analytics-clickhouse env RAW_DIR="$RAW_DIR/analytics" SIGNATURES="$CH_SIGNATURES" PINGS="$CH_PINGS" REPEAT="$CH_REPEAT" \
    STORE="clickhouse://$CH_HOST/sonde_analytics" bash bench/analytics/run.sh
fi
if has load; then
  area load-sqlite env DURATION="$LOAD_DURATION" bash bench/load/run.sh
  area crash-sqlite env DURATION="$CRASH_DURATION" KILLS="$CRASH_KILLS" bash bench/load/crash.sh
  area crash-clickhouse env DURATION="$CRASH_DURATION" KILLS="$CRASH_KILLS" \
    STORE="clickhouse://$CH_HOST/sonde_crash" bash bench/load/crash.sh
fi
stop_clickhouse
if has client; then
  area client env OUT="$RAW_DIR/client" bash bench/client/run.sh "$CLIENT_RUNS" "$CLIENT_NODE_RUNS"
fi
if has errors; then
  area errors bash bench/client/error-report-cost.sh "$ERROR_RUNS"
fi
if has size; then
  area size bash bench/client/size.sh
fi
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"

python3 bench/page/render.py --results "$RESULTS" --template bench/page/template.md --out "$OUT"
echo "bench/run.sh: page written to $OUT; raw output in ${RAW_DIR#"$ROOT"/}" >&2
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "bench/run.sh: failed areas: ${FAILED[*]}" >&2
  exit 1
fi
