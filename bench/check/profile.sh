#!/usr/bin/env bash
# Profiles `sonde serve` under the same wrk load as run.sh (keep-alive by
# default; MODE=close for `Connection: close`): per-thread CPU and the hottest
# symbols, with perf. Run bench/check/run.sh first (it builds the release binaries).
# Usage: bash bench/check/profile.sh   (needs perf, wrk)
set -euo pipefail
# One load generator on one address is what the per-address rate limit
# refuses: keep the limiter in the measured path, with a limit out of reach
# (an environment variable, so builds without the limit still run).
export SONDE_RATE_LIMIT=${SONDE_RATE_LIMIT:-1000000}
cd "$(dirname "$0")/../.."
MODE=${MODE:-keepalive}
OUT=bench/out/profile-$(date -u +%Y%m%dT%H%M%SZ)
DATA=$OUT/data
mkdir -p "$DATA"
S=target/release/sonde
"$S" release publish --data-dir "$DATA" --product terraform --version 1.6.0 >/dev/null
"$S" alert add --data-dir "$DATA" --product terraform --level critical --message m --affects '<1.5.7' >/dev/null
"$S" release publish --data-dir "$DATA" --product prisma --version 5.22.0 --package prisma --release-tag latest >/dev/null
"$S" serve --listen 127.0.0.1:0 --data-dir "$DATA" >"$OUT/sonde.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do ADDR=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$OUT/sonde.log" | head -n1 || true); [ -n "$ADDR" ] && break; sleep 0.1; done
extra=(); [ "$MODE" = close ] && extra=(-H 'Connection: close')
wrk -t2 -c50 -d12s -s bench/check/check.lua "${extra[@]}" "http://$ADDR/" >"$OUT/wrk.txt" 2>&1 &
WRK=$!
sleep 2
perf record -F 499 ${PERF_CG:--g} -o "$OUT/perf.data" -p "$PID" -- sleep 8 >/dev/null 2>&1
wait $WRK
grep WRK_RESULT "$OUT/wrk.txt"
perf report -i "$OUT/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -12
perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -45
echo "perf data: $OUT/perf.data"
