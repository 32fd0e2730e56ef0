#!/usr/bin/env bash
# The full-size crash run: the load generator runs for DURATION seconds
# against a release build of `sonde serve`, which is SIGKILLed KILLS times at
# random moments (seeded: SEED) and restarted on the same data directory and
# port; then every acknowledged ping, event, console frame and error report
# must be stored exactly once (`sonde-load verify` exits 1 otherwise).
# STORE=clickhouse://host:8123/db runs the collector on ClickHouse (a
# database of its own: the check reads every row of the load's products
# there) and checks against it; SQLite in the data directory otherwise.
# CI runs the small size on both: `cargo test -p sonde-cli --test crash`.
#
#   bash bench/load/crash.sh                     # 60 s, 10 kills, seed 1
#   SEED=7 KILLS=20 DURATION=120 bash bench/load/crash.sh
#   STORE=clickhouse://127.0.0.1:8123/sonde_crash bash bench/load/crash.sh
# RESULTS=FILE appends the figures as `crash_<sqlite|clickhouse>_*=value`
# lines (bench/run.sh; bench/load/results.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-60}
KILLS=${KILLS:-10}
SEED=${SEED:-1}
CONCURRENCY=${CONCURRENCY:-32}
PORT=${PORT:-17572}
STORE=${STORE:-}
STORE_ARGS=()
VERIFY_ARGS=()
case "$STORE" in
  "" | sqlite) ;;
  clickhouse://*) STORE_ARGS=(--store "$STORE"); VERIFY_ARGS=(--store "$STORE") ;;
  *) echo "crash.sh: STORE must be sqlite or clickhouse://host:port/database" >&2; exit 2 ;;
esac
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-0}

# PROFILE=dev runs debug builds (a quick check of the script itself).
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
cargo build --profile "$PROFILE" -p sonde-cli -p sonde-bench >&2
SONDE=${SONDE_BIN:-target/$DIR/sonde}
LOAD=target/$DIR/sonde-load
WORK=$(mktemp -d)
PID=
LOAD_PID=
trap 'kill -9 "$PID" 2>/dev/null || true; kill "$LOAD_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

start() {
  RUST_LOG=warn "$SONDE" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" "${STORE_ARGS[@]}" >/dev/null 2>>"$WORK/serve.log" &
  PID=$!
  for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return
    sleep 0.05
  done
  echo "crash.sh: the collector did not come up" >&2; cat "$WORK/serve.log" >&2; exit 1
}

start
"$LOAD" run --target "127.0.0.1:$PORT" --token-file "$WORK/data/admin-token" \
  --duration-secs "$DURATION" --concurrency "$CONCURRENCY" --seed "$SEED" \
  --ledger "$WORK/acked.json" >"$WORK/load.out" &
LOAD_PID=$!

# Kill moments: KILLS points spread over the run, each at a seeded random
# offset inside its slice (bash's RANDOM is deterministic once seeded).
RANDOM=$SEED
SLICE_MS=$(( DURATION * 1000 / (KILLS + 1) ))
for i in $(seq 1 "$KILLS"); do
  WAIT_MS=$(( SLICE_MS / 2 + RANDOM % (SLICE_MS / 2 + 1) ))
  sleep "$(printf '%d.%03d' $((WAIT_MS / 1000)) $((WAIT_MS % 1000)))"
  echo "kill $i of $KILLS after ${WAIT_MS} ms" >&2
  kill -9 "$PID"; wait "$PID" 2>/dev/null || true
  start
done

wait "$LOAD_PID"
cat "$WORK/load.out"
kill -TERM "$PID"; wait "$PID"
echo "seed $SEED, $KILLS kills, $DURATION s, store ${STORE:-sqlite}"
status=0
if [ ${#VERIFY_ARGS[@]} -gt 0 ]; then
  "$LOAD" verify --ledger "$WORK/acked.json" "${VERIFY_ARGS[@]}" | tee "$WORK/verify.out" || status=$?
else
  "$LOAD" verify --ledger "$WORK/acked.json" --data-dir "$WORK/data" | tee "$WORK/verify.out" || status=$?
fi
if [ -n "${RESULTS:-}" ]; then
  backend=$([ ${#STORE_ARGS[@]} -gt 0 ] && echo clickhouse || echo sqlite)
  cat "$WORK/load.out" "$WORK/verify.out" | python3 bench/load/results.py "$RESULTS" "crash_$backend" \
    "command=$([ "$backend" = clickhouse ] && echo 'STORE=clickhouse://… ')DURATION=$DURATION KILLS=$KILLS SEED=$SEED bash bench/load/crash.sh" \
    "kills=$KILLS" "duration_s=$DURATION" "verify_exit=$status"
fi
exit "$status"
