#!/usr/bin/env bash
# Batched native ingestion: durable events/s through POST /api/v1/events,
# batches of 100 events with unique ids, measured with wrk against a release
# build of `sonde serve` on loopback. Afterwards the stored row count is read
# from the store and compared with what wrk says was acknowledged (2xx). An
# event is acknowledged only after the batch holding it is durable: on SQLite
# once its commit is (WAL, synchronous=FULL); on ClickHouse once ClickHouse
# accepted the insert holding it (or, were it unreachable, once it is in the
# local spill: the run reports the spill's depth, which must be 0).
#
# Then the physical limit, in the same run and on the same disk (RAW=1, the
# default): the rows the collector stored are inserted again with nothing in
# between by `raw-insert` (crates/sonde-bench), in batches of CONNS x BATCH
# rows, the most one commit of the collector can hold while CONNS requests
# are outstanding:
#   SQLite: into a new file beside the collector's, the same table, index
#           and settings (WAL, synchronous=FULL), one transaction per batch;
#   ClickHouse: the same rows as JSONEachRow posted straight to ClickHouse's
#           HTTP interface into a table of the same shape, one insert per batch.
#
#   bash bench/ingest/run.sh                # SQLite, 20 s, 2 threads, 32 connections
#   DURATION=30s CONNS=64 bash bench/ingest/run.sh
#   STORE=clickhouse://127.0.0.1:8123/sonde_ingest bash bench/ingest/run.sh
# Env: STORE (sqlite; or a clickhouse:// URL as `sonde serve --store` takes
#      it, a database that does not exist yet), RAW (1), DATA_PARENT (where the
#      data directory goes; default bench/out), RAW_DIR (keep the output there),
#      RESULTS=FILE (append the figures as `ingest_<backend>_*=value` lines).
# Needs: cargo, wrk, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
BATCH=${BATCH:-100}
PORT=${PORT:-17471}
STORE=${STORE:-sqlite}
RAW=${RAW:-1}
# One load generator on one address is what the per-address rate limit
# refuses: keep the limiter in the measured path, with a limit out of reach
# (an environment variable, so builds without the limit still run).
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-1000000}

for tool in cargo wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required (apt-get install wrk curl python3)" >&2; exit 1; }
done
case $STORE in
  sqlite) BACKEND=sqlite ;;
  clickhouse://*)
    BACKEND=clickhouse
    # clickhouse://host:port/db -> http://host:port and db
    CH_HTTP=http://$(echo "$STORE" | sed 's#^clickhouse://##; s#/.*##')
    CH_DB=$(echo "$STORE" | sed 's#^clickhouse://[^/]*/##; s#[?].*##')
    ;;
  *) echo "run.sh: STORE must be sqlite or clickhouse://host:port/database" >&2; exit 1 ;;
esac
cargo build --release --locked -q -p sonde-cli -p sonde-bench >&2
SONDE=${SONDE_BIN:-target/release/sonde}  # SONDE_BIN: measure another build (a proposed change) the same way
mkdir -p "${DATA_PARENT:-bench/out}"
DATA=$(mktemp -d "${DATA_PARENT:-bench/out}/ingest-$BACKEND-XXXXXX")
OUT=${RAW_DIR:-$DATA}
mkdir -p "$OUT"
PID=""
trap '[ -n "$PID" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

# ch SQL: one statement over ClickHouse's HTTP interface.
ch() { curl -fsS --data-binary "$1" "$CH_HTTP/"; }

STORE_ARGS=()
[ "$BACKEND" = clickhouse ] && STORE_ARGS=(--store "$STORE")
RUST_LOG=warn $SONDE serve "${STORE_ARGS[@]}" --listen "127.0.0.1:$PORT" --data-dir "$DATA" >/dev/null 2>"$OUT/serve-$BACKEND.log" &
PID=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "run.sh: sonde serve exited:" >&2; cat "$OUT/serve-$BACKEND.log" >&2; exit 1; }
  sleep 0.1
done
# The product, published through the admin API (the CLI's own writes go to
# the data directory's SQLite file, which a ClickHouse collector does not read).
$SONDE release publish --server "http://127.0.0.1:$PORT" --token-file "$DATA/admin-token" \
  --product bench --version 1.0.0 >/dev/null

COMMAND="STORE=$STORE DURATION=$DURATION THREADS=$THREADS CONNS=$CONNS BATCH=$BATCH bash bench/ingest/run.sh"
echo "wrk -t$THREADS -c$CONNS -d$DURATION -s bench/ingest/post_batch.lua (BATCH=$BATCH, store $STORE)" >&2
CPU_BEFORE=$(awk '{ print $14 + $15 }' "/proc/$PID/stat")
BATCH=$BATCH wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/ingest/post_batch.lua \
  "http://127.0.0.1:$PORT/api/v1/events" >"$OUT/wrk-ingest-$BACKEND.txt"
CPU_TICKS=$(( $(awk '{ print $14 + $15 }' "/proc/$PID/stat") - CPU_BEFORE ))
cat "$OUT/wrk-ingest-$BACKEND.txt"
SPILL=0
if [ "$BACKEND" = clickhouse ]; then
  SPILL=$(curl -fsS -H "Authorization: Bearer $(cat "$DATA/admin-token")" "http://127.0.0.1:$PORT/metrics" \
    | awk '$1 == "sonde_spill_depth" { print $2 }')
fi

# Stop the collector (drains its queue), then count what is stored.
kill -TERM "$PID"; wait "$PID" || true
PID=""
if [ "$BACKEND" = sqlite ]; then
  STORED=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM events WHERE product = ?", ("bench",)).fetchone()[0])' "$DATA/sonde.db")
else
  STORED=$(ch "SELECT count() FROM $CH_DB.events WHERE product = 'bench'")
fi

SUMMARY=$(python3 - "$BATCH" "$OUT/wrk-ingest-$BACKEND.txt" "$CPU_TICKS" "$(getconf CLK_TCK)" "$STORED" <<'PY'
import re, sys
batch, out = int(sys.argv[1]), open(sys.argv[2]).read()
cpu_secs = int(sys.argv[3]) / int(sys.argv[4])
rows = int(sys.argv[5])
reqs = int(re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out).group(1))
dur = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
secs = float(dur.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[dur.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
non2xx = int(non2xx.group(1)) if non2xx else 0
acked = (reqs - non2xx) * batch
print(f"requests={reqs} non_2xx={non2xx} acknowledged_events={acked} stored_rows={rows} "
      f"seconds={secs:.2f} durable_events_per_s={acked / secs:.0f} "
      f"server_cpu_us_per_event={cpu_secs * 1e6 / max(acked, 1):.2f}")
PY
)
echo "$SUMMARY" | tee "$OUT/ingest-$BACKEND.txt"
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ACKED=$(field acknowledged_events "$SUMMARY")

RAW_LINE=""
RAW_BATCH=$((CONNS * BATCH))
if [ "$RAW" = 1 ]; then
  echo "raw insert of the same $STORED rows, $RAW_BATCH rows per commit ..." >&2
  if [ "$BACKEND" = sqlite ]; then
    RAW_LINE=$(target/release/raw-insert sqlite --from "$DATA/sonde.db" --to "$DATA/raw.db" --batch "$RAW_BATCH")
  else
    RAW_LINE=$(target/release/raw-insert clickhouse --http "$CH_HTTP" --source "$CH_DB.events" \
      --target "${CH_DB}_raw.events" --batch "$RAW_BATCH")
  fi
  echo "$RAW_LINE" | tee -a "$OUT/ingest-$BACKEND.txt"
fi

if [ -n "${RESULTS:-}" ]; then
  {
    echo "ingest_${BACKEND}_command=$COMMAND"
    echo "ingest_${BACKEND}_events_per_s=$(field durable_events_per_s "$SUMMARY")"
    echo "ingest_${BACKEND}_acked=$ACKED"
    echo "ingest_${BACKEND}_stored=$STORED"
    echo "ingest_${BACKEND}_non2xx=$(field non_2xx "$SUMMARY")"
    echo "ingest_${BACKEND}_cpu_us_per_event=$(field server_cpu_us_per_event "$SUMMARY")"
    echo "ingest_${BACKEND}_spill=$SPILL"
    if [ -n "$RAW_LINE" ]; then
      echo "ingest_${BACKEND}_raw_batch=$RAW_BATCH"
      echo "ingest_${BACKEND}_raw_rows=$(field rows "$RAW_LINE")"
      echo "ingest_${BACKEND}_raw_commits=$(field commits "$RAW_LINE")"
      echo "ingest_${BACKEND}_raw_rows_per_s=$(field rows_per_s "$RAW_LINE")"
    fi
  } >>"$RESULTS"
fi

if [ "$STORED" -lt "$ACKED" ]; then
  echo "run.sh: LOST: $((ACKED - STORED)) acknowledged events are not stored" >&2
  exit 1
fi
if [ "${SPILL:-0}" != 0 ]; then
  echo "run.sh: $SPILL writes were spilled, not inserted: ClickHouse did not accept every batch" >&2
  exit 1
fi
