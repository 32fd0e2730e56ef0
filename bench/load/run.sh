#!/usr/bin/env bash
# The load generator against a fresh release build of `sonde serve` on
# loopback, then the check that every acknowledged item is stored exactly
# once. Prints requests/s, items/s and p50/p99 latency per kind.
#
#   bash bench/load/run.sh                       # 30 s, 32 workers, as fast as answers come
#   DURATION=60 CONCURRENCY=64 RATE=2000 bash bench/load/run.sh
#   ARGS="--mix check-go=1,check-prisma=1 --keep-alive-share 1" bash bench/load/run.sh
# RESULTS=FILE appends the figures (and the collector's peak RSS) as
# `load_sqlite_*=value` lines (bench/run.sh; bench/load/results.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-30}
CONCURRENCY=${CONCURRENCY:-32}
RATE=${RATE:-0}
SEED=${SEED:-1}
PORT=${PORT:-17571}
# One generator on one address is what the per-address rate limit refuses.
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-0}

# PROFILE=dev runs debug builds (a quick check of the script itself).
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
cargo build --profile "$PROFILE" -p sonde-cli -p sonde-bench >&2
SONDE=${SONDE_BIN:-target/$DIR/sonde}
LOAD=target/$DIR/sonde-load
DATA=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT

RUST_LOG=warn "$SONDE" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA/data" >/dev/null 2>"$DATA/serve.log" &
PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# shellcheck disable=SC2086 # ARGS is split on purpose
"$LOAD" run --target "127.0.0.1:$PORT" --token-file "$DATA/data/admin-token" \
  --duration-secs "$DURATION" --concurrency "$CONCURRENCY" --rate "$RATE" --seed "$SEED" \
  --ledger "$DATA/acked.json" ${ARGS:-} | tee "$DATA/out.txt"
RSS_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$PID/status")
echo "collector peak RSS: $RSS_KB kB"
kill -TERM "$PID"; wait "$PID"
status=0
"$LOAD" verify --ledger "$DATA/acked.json" --data-dir "$DATA/data" | tee -a "$DATA/out.txt" || status=$?
if [ -n "${RESULTS:-}" ]; then
  python3 bench/load/results.py "$RESULTS" load_sqlite <"$DATA/out.txt" \
    "command=DURATION=$DURATION CONCURRENCY=$CONCURRENCY bash bench/load/run.sh" \
    "duration_s=$DURATION" "concurrency=$CONCURRENCY" "peak_rss_kb=$RSS_KB" "verify_exit=$status"
fi
exit "$status"
