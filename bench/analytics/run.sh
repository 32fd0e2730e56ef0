#!/usr/bin/env bash
# Dashboard-query benchmark: generates a seeded analytics data set with
# `sonde-gen` (crates/sonde-bench) into a data directory (cached under
# bench/out/analytics-data/, keyed by the parameters and the generator's and
# store's source, so a rerun does not regenerate), starts `sonde serve` on
# it, times every query the dashboard makes through the admin API (each
# REPEAT times after one untimed first request; median and p95 in ms), times
# the dashboard page at `/` if this collector serves one, and records the
# collector's peak RSS (VmHWM). Prints a markdown table and keeps the raw
# output under bench/runs/<date>/.
#
# Usage: bash bench/analytics/run.sh                      (full size: 1M signatures, 10M pings)
#        SIGNATURES=100000 PINGS=1000000 bash bench/analytics/run.sh
#        STORE=clickhouse://127.0.0.1:8123/sonde_analytics bash bench/analytics/run.sh
#          the same data set generated into ClickHouse (`sonde-gen --store`, a
#          database that does not exist yet; never cached: it lives in the
#          server) and the same queries against a collector serving from it.
# Env: SIGNATURES, PINGS, DAYS (90), END (2026-11-30), SEED (1), REPEAT (20),
#      PRODUCT (acme), KEEP_DATA=0 (delete the generated data set afterwards),
#      STORE (sqlite), RAW_DIR (where the report goes; default bench/runs/<date>),
#      RESULTS=FILE (append the figures as `analytics_<backend>_*=value` lines).
# Needs: cargo, curl, python3 (median and p95).
set -euo pipefail
cd "$(dirname "$0")/../.."

SIGNATURES=${SIGNATURES:-1000000}
PINGS=${PINGS:-10000000}
DAYS=${DAYS:-90}
END=${END:-2026-11-30}
SEED=${SEED:-1}
REPEAT=${REPEAT:-20}
PRODUCT=${PRODUCT:-acme}
KEEP_DATA=${KEEP_DATA:-1}
STORE=${STORE:-sqlite}
case $STORE in
  sqlite) BACKEND=sqlite; STORE_ARGS=() ;;
  clickhouse://*) BACKEND=clickhouse; STORE_ARGS=(--store "$STORE") ;;
  *) echo "run.sh: STORE must be sqlite or clickhouse://host:port/database" >&2; exit 1 ;;
esac

for tool in cargo curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 1; }
done

# (a) build
cargo build --release --locked -q -p sonde-cli -p sonde-bench
SONDE=target/release/sonde
GEN=target/release/sonde-gen

# (b) the data set, cached by its parameters and the source that makes it
SOURCE=$( (git rev-parse HEAD:crates/sonde-bench HEAD:crates/sonde-store 2>/dev/null || echo dirty) | cut -c1-8 | tr -d '\n')
if [ -n "$(git status --porcelain crates/sonde-bench crates/sonde-store 2>/dev/null)" ]; then SOURCE="$SOURCE-dirty"; fi
KEY="s${SIGNATURES}-p${PINGS}-d${DAYS}-e${END}-seed${SEED}-${PRODUCT}-${SOURCE}"
CACHE=bench/out/analytics-data
DATA="$CACHE/$KEY"
mkdir -p "$CACHE"
if [ "$BACKEND" = clickhouse ]; then
  # The rows live in the server; the data directory holds the token and spill.
  DATA=$(mktemp -d "$CACHE/clickhouse-XXXXXX")
  KEEP_DATA=0
  KEY="$KEY-clickhouse"
  echo "run.sh: generating $KEY into $STORE" >&2
  "$GEN" --store "$STORE" --data-dir "$DATA" --seed "$SEED" --product "$PRODUCT" --signatures "$SIGNATURES" \
    --pings "$PINGS" --days "$DAYS" --end "$END" >"$DATA/gen.log" 2>"$DATA/gen.err" \
    || { cat "$DATA/gen.err" >&2; exit 1; }
  GENERATED="in this run"
elif [ -f "$DATA/gen.log" ]; then
  echo "run.sh: using the cached data set $DATA" >&2
  GENERATED="cached (generated earlier; its log below)"
else
  rm -rf "$DATA.partial"
  echo "run.sh: generating $KEY (this takes a while at full size)" >&2
  "$GEN" --data-dir "$DATA.partial" --seed "$SEED" --product "$PRODUCT" --signatures "$SIGNATURES" \
    --pings "$PINGS" --days "$DAYS" --end "$END" >"$CACHE/$KEY.gen.out" 2>"$CACHE/$KEY.gen.err"
  cat "$CACHE/$KEY.gen.out" >"$DATA.partial/gen.log"
  rm -f "$CACHE/$KEY.gen.out" "$CACHE/$KEY.gen.err"
  mv "$DATA.partial" "$DATA"
  sed -i "s#$DATA.partial#$DATA#" "$DATA/gen.log"
  GENERATED="in this run"
fi
FROM=$(date -u -d "$END - $((DAYS - 1)) days" +%F)

RUN_DATE=$(date -u +%F)
RUNS=${RAW_DIR:-bench/runs/$RUN_DATE}
mkdir -p "$RUNS"
TAG="analytics-queries-s${SIGNATURES}-p${PINGS}"
[ "$BACKEND" = clickhouse ] && TAG="$TAG-clickhouse"
QRESULTS=$(mktemp)
RAW="$RUNS/$TAG-raw.txt"
REPORT="$RUNS/$TAG.md"
: >"$RAW"

# (c) the collector
LOG=$(mktemp)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # The collector's log is kept beside the report: a query that failed is explained there.
  cp "$LOG" "$RUNS/$TAG-serve.log" 2>/dev/null || true
  rm -f "$LOG" "${JAR:-}" "$QRESULTS"
  if [ "$KEEP_DATA" = 0 ]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT
"$SONDE" serve "${STORE_ARGS[@]}" --listen 127.0.0.1:0 --data-dir "$DATA" >"$LOG" 2>&1 &
SONDE_PID=$!; PIDS+=("$SONDE_PID")
ADDR=""
for _ in $(seq 1 600); do
  ADDR=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$LOG" | head -n1 || true)
  [ -n "$ADDR" ] && break
  kill -0 "$SONDE_PID" 2>/dev/null || { echo "run.sh: sonde serve exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "run.sh: sonde serve printed no address" >&2; exit 1; }
TOKEN=$(cat "$DATA/admin-token")
BASE="http://$ADDR"

# time NAME PATH [curl args...]: one untimed request (must be 200), then
# REPEAT timed ones; appends "NAME first_ms median_ms p95_ms bytes" to ROWS.
ROWS=()
QUERY_FAILED=0
time_get() {
  local name=$1 path=$2; shift 2
  local out status first
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}' "$@" "$BASE$path")
  status=${out%% *}
  if [ "$status" != 200 ]; then
    # Recorded and reported, and the other queries still run; the script
    # exits 1 at the end.
    local body
    body=$(curl -s "$@" "$BASE$path" | head -c 300 || true)
    echo "run.sh: $name: GET $path answered $status after ${out#* }: $body" >&2
    echo "$name GET $path status=$status time=$(echo "$out" | cut -d' ' -f2) body=$body" >>"$RAW"
    local slug
    slug=$(echo "$name" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\+/_/g; s/^_//; s/_$//')
    echo "q_${slug}_failed=answered $status after $(echo "$out" | cut -d' ' -f2 | python3 -c 'import sys; print(f"{float(sys.stdin.read()):.1f}")') s" >>"$QRESULTS"
    ROWS+=("| $name | \`$path\` | answered $status | | | |")
    QUERY_FAILED=1
    return 0
  fi
  first=$(echo "$out" | cut -d' ' -f2)
  local bytes=${out##* }
  local times=()
  for _ in $(seq 1 "$REPEAT"); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$@" "$BASE$path")")
  done
  echo "$name GET $path first=$first times=${times[*]}" >>"$RAW"
  ROWS+=("$(python3 - "$QRESULTS" "$name" "$path" "$first" "$bytes" "${times[@]}" <<'EOF'
import re, statistics, sys
results, name, path, first, size = sys.argv[1:6]
ms = sorted(float(t) * 1000 for t in sys.argv[6:])
p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
print(f"| {name} | `{path}` | {float(first) * 1000:.1f} | {statistics.median(ms):.1f} | {p95:.1f} | {int(size):,} |")
slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
with open(results, "a") as f:
    f.write(f"q_{slug}_median_ms={statistics.median(ms):.1f}\nq_{slug}_p95_ms={p95:.1f}\n")
EOF
)")
}

AUTH=(-H "Authorization: Bearer $TOKEN")
Q="/api/v1/query?product=$PRODUCT&from=$FROM&to=$END"
LAST7=$(date -u -d "$END - 6 days" +%F)
LAST28=$(date -u -d "$END - 27 days" +%F)
LAST30=$(date -u -d "$END - 29 days" +%F)

# (d) every dashboard query
time_get "active per day" "$Q&metric=active&interval=day" "${AUTH[@]}"
time_get "active per day, CI included" "$Q&metric=active&interval=day&include_ci=true" "${AUTH[@]}"
time_get "active per ISO week" "$Q&metric=active&interval=week" "${AUTH[@]}"
time_get "active per month" "$Q&metric=active&interval=month" "${AUTH[@]}"
time_get "active, rolling 7 days" "/api/v1/query?product=$PRODUCT&from=$LAST7&to=$END&metric=unique" "${AUTH[@]}"
time_get "active, rolling 28 days" "/api/v1/query?product=$PRODUCT&from=$LAST28&to=$END&metric=unique" "${AUTH[@]}"
time_get "active, rolling 30 days" "/api/v1/query?product=$PRODUCT&from=$LAST30&to=$END&metric=unique" "${AUTH[@]}"
time_get "active, whole range" "$Q&metric=unique" "${AUTH[@]}"
time_get "active per day, filter os:linux" "$Q&metric=active&interval=day&filter=os:linux" "${AUTH[@]}"
time_get "versions per day" "$Q&metric=breakdown&dimension=version&interval=day" "${AUTH[@]}"
time_get "versions per week" "$Q&metric=breakdown&dimension=version&interval=week" "${AUTH[@]}"
time_get "versions per month" "$Q&metric=breakdown&dimension=version&interval=month" "${AUTH[@]}"
for dim in os arch runtime; do
  time_get "$dim per month" "$Q&metric=breakdown&dimension=$dim&interval=month" "${AUTH[@]}"
done
time_get "CI vendors per month" "$Q&metric=breakdown&dimension=ci_name&interval=month&include_ci=true" "${AUTH[@]}"
time_get "retention (cohorts)" "$Q&metric=cohorts" "${AUTH[@]}"
time_get "versions per day, CSV" "$Q&metric=breakdown&dimension=version&interval=day&format=csv" "${AUTH[@]}"
time_get "error groups" "/api/v1/errors?product=$PRODUCT" "${AUTH[@]}"
time_get "command counts" "/api/v1/stats/events?product=$PRODUCT&kind=command" "${AUTH[@]}"
time_get "heartbeat counts" "/api/v1/stats/events?product=hasura&kind=heartbeat" "${AUTH[@]}"
time_get "alerts" "/api/v1/alerts?product=$PRODUCT" "${AUTH[@]}"
time_get "releases" "/api/v1/releases?product=$PRODUCT" "${AUTH[@]}"

# (e) the dashboard page, if this collector serves one: `GET /` answers 200
# and `POST /session` with the admin token sets a session cookie.
PAGE_NOTE=""
JAR=$(mktemp)
HOME_STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/")
SIGNED_IN=no
if [ "$HOME_STATUS" = 200 ] \
  && curl -s -D - -o /dev/null -c "$JAR" --data-urlencode "token=$TOKEN" "$BASE/session" | grep -qi '^set-cookie:'; then
  SIGNED_IN=yes
fi
if [ "$SIGNED_IN" = yes ]; then
  PAGE="/?product=$PRODUCT&from=$FROM&to=$END"
  time_get "dashboard page (HTML with its data)" "$PAGE" -b "$JAR"
  # The whole page: the HTML and every same-origin script, style and image it names, in turn.
  PAGE_TIMES=()
  for _ in $(seq 1 "$REPEAT"); do
    start=$(date +%s%N)
    html=$(curl -s -b "$JAR" "$BASE$PAGE")
    for ref in $(echo "$html" | grep -o '\(src\|href\)="/[^"]*"' | sed 's/^[a-z]*="//; s/"$//' | sort -u); do
      curl -s -o /dev/null -b "$JAR" "$BASE${ref//&amp;/&}"
    done
    PAGE_TIMES+=("$(python3 -c "print(($(date +%s%N) - $start) / 1e9)")")
  done
  echo "dashboard-whole-page times=${PAGE_TIMES[*]}" >>"$RAW"
  ROWS+=("$(python3 - "$QRESULTS" "${PAGE_TIMES[@]}" <<'EOF'
import statistics, sys
ms = sorted(float(t) * 1000 for t in sys.argv[2:])
p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
print(f"| dashboard, whole page (HTML + its assets, one after another) | `/` | | {statistics.median(ms):.1f} | {p95:.1f} | |")
with open(sys.argv[1], "a") as f:
    f.write(f"q_whole_page_median_ms={statistics.median(ms):.1f}\nq_whole_page_p95_ms={p95:.1f}\n")
EOF
)")
else
  PAGE_NOTE="Dashboard page: not timed: this collector does not serve one (GET / answered $HOME_STATUS; a POST of the token to /session gave no session cookie)."
fi

# (f) the collector's peak RSS
HWM=$(awk '/VmHWM/ {print $2, $3}' "/proc/$SONDE_PID/status")
RSS=$(awk '/VmRSS/ {print $2, $3}' "/proc/$SONDE_PID/status")

{
  echo "# Dashboard queries, $RUN_DATE"
  echo
  echo "Command: \`STORE=$STORE SIGNATURES=$SIGNATURES PINGS=$PINGS DAYS=$DAYS END=$END SEED=$SEED REPEAT=$REPEAT bash bench/analytics/run.sh\`"
  echo
  echo "Machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; commit $(git rev-parse --short HEAD)."
  echo "Data set ($KEY), generated $GENERATED:"
  echo
  echo '```'
  cat "$DATA/gen.log"
  echo '```'
  echo
  echo "Range: $FROM to $END. Each query: one untimed request, then $REPEAT timed (curl \`time_total\`, a new connection each)."
  echo
  echo "| query | path | first (ms) | median (ms) | p95 (ms) | bytes |"
  echo "| --- | --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${ROWS[@]}"
  echo
  [ -n "$PAGE_NOTE" ] && { echo "$PAGE_NOTE"; echo; }
  echo "Collector memory after the queries: peak RSS (VmHWM) $HWM, RSS $RSS."
} | tee "$REPORT"
echo "run.sh: report in $REPORT, raw timings in $RAW" >&2
if [ -n "${RESULTS:-}" ]; then
  {
    echo "analytics_${BACKEND}_command=STORE=$STORE SIGNATURES=$SIGNATURES PINGS=$PINGS DAYS=$DAYS END=$END SEED=$SEED REPEAT=$REPEAT bash bench/analytics/run.sh"
    echo "analytics_${BACKEND}_size=$SIGNATURES signatures, $PINGS pings, $DAYS days"
    echo "analytics_${BACKEND}_generated=$GENERATED"
    echo "analytics_${BACKEND}_gen_rate=$(sed -n 's/^rate: //p' "$DATA/gen.log")"
    echo "analytics_${BACKEND}_rss_hwm=$HWM"
    echo "analytics_${BACKEND}_report=$REPORT"
    sed "s/^/analytics_${BACKEND}_/" "$QRESULTS"
  } >>"$RESULTS"
fi
if [ "$QUERY_FAILED" = 1 ]; then
  echo "run.sh: at least one query did not answer 200 (see $RAW and $RUNS/$TAG-serve.log)" >&2
  exit 1
fi
