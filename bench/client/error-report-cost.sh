#!/usr/bin/env bash
# What an error report costs the crashing process: the median wall time of
# `sonde-demo crash` with the library's panic hook (`never` saved, so the
# report is built from a captured backtrace, scrubbed and kept on disk; no
# question, nothing sent) minus the same panic without the hook
# (`SONDE_DEMO_NO_PANIC_HOOK=1`), interleaved, N runs each (default 20),
# without a terminal, in a temporary HOME. No hyperfine needed.
# PROFILE=debug measures the dev build instead (full debug info: the
# backtrace is symbolized with file and line, which costs more).
# Usage: [PROFILE=release|debug] bash bench/client/error-report-cost.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-20}
PROFILE=${PROFILE:-release}
if [ "$PROFILE" = release ]; then
  cargo build --release -p sonde-demo --bin sonde-demo >/dev/null
else
  cargo build -p sonde-demo --bin sonde-demo >/dev/null
fi
BIN=$PWD/target/$PROFILE/sonde-demo
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run() { # extra env…; prints the wall time in microseconds
  local start end
  start=$(date +%s%N)
  env -i PATH="$PATH" HOME="$TMP/home" XDG_CACHE_HOME="$TMP/cache" XDG_CONFIG_HOME="$TMP/config" \
    SONDE_POLICY_FILE="$TMP/policy.json" SONDE_DEMO_ENDPOINT=http://127.0.0.1:9 "$@" \
    "$BIN" crash </dev/null >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
}
mkdir -p "$TMP/home"
env -i PATH="$PATH" HOME="$TMP/home" XDG_CACHE_HOME="$TMP/cache" XDG_CONFIG_HOME="$TMP/config" \
  "$BIN" telemetry errors never >/dev/null
hook=() plain=()
for _ in $(seq "$N"); do
  hook+=("$(run)")
  plain+=("$(run SONDE_DEMO_NO_PANIC_HOOK=1)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mh=$(median "${hook[@]}")
mp=$(median "${plain[@]}")
echo "profile: $PROFILE, runs each: $N"
echo "median, panic hook + report kept (never saved): ${mh} µs"
echo "median, plain panic:                            ${mp} µs"
echo "difference:                                     $((${mh%.*} - ${mp%.*})) µs"
