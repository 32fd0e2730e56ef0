#!/usr/bin/env bash
# Batched native ingestion: durable events/s into SQLite through
# POST /api/v1/events, batches of 100 events with unique ids, measured with
# wrk against a release build of `sonde serve` on loopback. Afterwards the
# stored row count is read from the database file and compared with what wrk
# says was acknowledged (2xx). An event is acknowledged only after the batch
# holding it has committed (WAL, synchronous=FULL).
#
#   bash bench/ingest/run.sh                # 20 s, 2 threads, 32 connections
#   DURATION=30s CONNS=64 bash bench/ingest/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
BATCH=${BATCH:-100}
PORT=${PORT:-17471}
# One load generator on one address is what the per-address rate limit
# refuses: keep the limiter in the measured path, with a limit out of reach
# (an environment variable, so builds without the limit still run).
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-1000000}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release -p sonde-cli >&2
SONDE=${SONDE_BIN:-target/release/sonde}  # SONDE_BIN: measure another build (a proposed change) the same way
DATA=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT

$SONDE release publish --product bench --version 1.0.0 --data-dir "$DATA" >/dev/null
RUST_LOG=warn $SONDE serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" >/dev/null 2>"$DATA/serve.log" &
PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "wrk -t$THREADS -c$CONNS -d$DURATION -s bench/ingest/post_batch.lua (BATCH=$BATCH)" >&2
CPU_BEFORE=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
OUT=$(BATCH=$BATCH wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/ingest/post_batch.lua \
  "http://127.0.0.1:$PORT/api/v1/events")
CPU_TICKS=$(( $(awk '{ print $14 + $15 }' "/proc/$PID/stat") - CPU_BEFORE ))
echo "$OUT"

# Stop the collector (drains its queue), then count what is on disk.
kill -TERM "$PID"; wait "$PID" || true
python3 - "$DATA/sonde.db" "$BATCH" "$OUT" "$CPU_TICKS" "$(getconf CLK_TCK)" <<'PY'
import re, sqlite3, sys
db, batch, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cpu_secs = int(sys.argv[4]) / int(sys.argv[5])
rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM events WHERE product='bench'").fetchone()[0]
reqs = int(re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out).group(1))
dur = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
secs = float(dur.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[dur.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
non2xx = int(non2xx.group(1)) if non2xx else 0
acked = (reqs - non2xx) * batch
print(f"requests={reqs} non_2xx={non2xx} acknowledged_events={acked} stored_rows={rows} "
      f"seconds={secs:.2f} durable_events_per_s={acked / secs:,.0f} "
      f"server_cpu_us_per_event={cpu_secs * 1e6 / max(acked, 1):.2f}")
if rows < acked:
    sys.exit(f"LOST: {acked - rows} acknowledged events are not in the database")
PY
