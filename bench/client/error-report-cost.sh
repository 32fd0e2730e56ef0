#!/usr/bin/env bash
# What an error report costs the crashing process: the median wall time of
# `sonde-demo crash` with the library's panic hook and `never` saved (the
# report is built from a captured backtrace, scrubbed and kept on disk; no
# question, nothing sent), and with `always` saved (kept, then queued in the
# spool and the detached uploader started; the endpoint is a closed port),
# each minus the same panic without the hook (`SONDE_DEMO_NO_PANIC_HOOK=1`);
# for scale, the plain panic with `RUST_BACKTRACE=1` (std printing its own
# backtrace, the same symbolization the report needs),
# interleaved, N runs each (default 20), without a terminal, in temporary
# HOMEs. No hyperfine needed.
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
in_home() { # home, command…
  local h=$TMP/$1
  shift
  env -i PATH="$PATH" HOME="$h/home" XDG_CACHE_HOME="$h/cache" XDG_CONFIG_HOME="$h/config" \
    SONDE_POLICY_FILE="$h/policy.json" SONDE_DEMO_ENDPOINT=http://127.0.0.1:9 "$@"
}
run() { # home, extra env…; prints the wall time in microseconds
  local home=$1 start end
  shift
  start=$(date +%s%N)
  in_home "$home" "$@" "$BIN" crash </dev/null >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo $(((end - start) / 1000))
}
for setting in never always; do
  mkdir -p "$TMP/$setting/home"
  in_home "$setting" "$BIN" telemetry errors "$setting" >/dev/null
done
hook=() sent=() plain=() std=()
for _ in $(seq "$N"); do
  hook+=("$(run never)")
  sent+=("$(run always)")
  plain+=("$(run never SONDE_DEMO_NO_PANIC_HOOK=1)")
  std+=("$(run never SONDE_DEMO_NO_PANIC_HOOK=1 RUST_BACKTRACE=1)")
  # The spool of `always` is emptied between runs (nothing can be sent).
  rm -rf "$TMP/always/cache/sonde/sonde-demo/spool" "$TMP/always/cache/sonde/sonde-demo/retry-at"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mh=$(median "${hook[@]}")
ms=$(median "${sent[@]}")
mp=$(median "${plain[@]}")
mb=$(median "${std[@]}")
echo "profile: $PROFILE, runs each: $N"
echo "median, plain panic:                          ${mp} µs"
echo "median, hook, never saved (report kept):      ${mh} µs (+$((${mh%.*} - ${mp%.*})) µs)"
echo "median, hook, always saved (kept and queued): ${ms} µs (+$((${ms%.*} - ${mp%.*})) µs)"
echo "median, plain panic, RUST_BACKTRACE=1:        ${mb} µs (+$((${mb%.*} - ${mp%.*})) µs)"
