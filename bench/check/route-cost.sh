#!/usr/bin/env bash
# Diagnostic for the /v1/check figure: how much a router's size costs per
# connection. axum 0.8's `serve(listener, router)` calls `router.with_state(())`
# for every accepted connection (rebuilding every route), whereas
# `serve(listener, router.into_make_service())` clones one Arc. With
# `Connection: close` that is once per request. Measures the baseline with 1,
# 17 and 65 routes, served both ways, under wrk with `Connection: close`.
# Usage: bash bench/check/route-cost.sh   (after bench/check/run.sh built the binaries)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/release/check-baseline
OUT=bench/out/route-cost-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
echo '{"product":"terraform","current_version":"1.6.0","outdated":true,"alerts":[]}' >"$OUT/body.json"
CLK_TCK=$(getconf CLK_TCK)
echo "| routes | served as | req/s | server CPU us/request |"
echo "| ---: | --- | ---: | ---: |"
for extra in 0 16 64; do
  for how in router make-service; do
    flags=(); [ "$how" = make-service ] && flags=(--make-service)
    "$BIN" --listen 127.0.0.1:0 --body "terraform=$OUT/body.json" --body "prisma=$OUT/body.json" \
      --extra-routes "$extra" "${flags[@]}" >"$OUT/server.log" 2>&1 &
    pid=$!
    addr=""
    for _ in $(seq 1 100); do addr=$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$OUT/server.log" | head -n1 || true); [ -n "$addr" ] && break; sleep 0.1; done
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    line=$(wrk -t2 -c50 -d${DURATION:-8s} -H 'Connection: close' -s bench/check/check.lua "http://$addr/" | grep WRK_RESULT)
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" || true
    req=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
    rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    echo "| $((extra + 1)) | $how | ${rps%.*} | $(( (after - before) * 1000000 / CLK_TCK / req )) |"
  done
done
