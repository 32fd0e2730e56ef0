#!/usr/bin/env bash
# Wall time of sonde-demo with telemetry on vs off, and of Prisma's npm
# checkpoint-client (check() then exit) vs bare node, in one run, for:
#   (1) ping due, collector unreachable (closed port)
#   (2) ping due, blackholed collector (accepts, never answers)
#   (3) no ping due
# and, in every hyperfine run of sonde-demo, the floor of process start on
# this machine: `exit-floor` (crates/sonde-bench), a program that only exits,
# under the same settings.
# Usage: bash bench/client/run.sh [RUNS [NODE_RUNS]]
#   OUT=DIR keeps the hyperfine JSON there (default target/bench-client);
#   RESULTS=FILE appends the medians as `client_*=value` lines (bench/run.sh).
#   (default 2000 runs per sonde-demo command, 200 per node command: node
#   takes ~50x longer per run)
# Needs hyperfine, python3, node (+ `npm ci --prefix compat/prisma`).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${1:-2000}
NODE_RUNS=${2:-200}
WARMUP=50
OUT=${OUT:-$ROOT/target/bench-client}
mkdir -p "$OUT"

cargo build --release -p sonde-demo >&2
cargo build --release -p sonde-bench --bin exit-floor >&2
DEMO=$ROOT/target/release/sonde-demo
FLOOR=$ROOT/target/release/exit-floor
PRISMA=$ROOT/compat/prisma/node_modules/checkpoint-client
[ -d "$PRISMA" ] || npm ci --prefix compat/prisma >&2

SANDBOX=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$SANDBOX"; }
trap cleanup EXIT

# Every run in its own HOME/XDG dirs, with no real opt-out in the environment.
unset DO_NOT_TRACK CHECKPOINT_DISABLE SONDE_DEBUG SONDE_DEMO_TELEMETRY CI
export HOME=$SANDBOX/home XDG_CACHE_HOME=$SANDBOX/cache XDG_CONFIG_HOME=$SANDBOX/config
export SONDE_POLICY_FILE=$SANDBOX/no-policy.json
mkdir -p "$HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME"

CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
exec 3< <(python3 "$ROOT/bench/client/blackhole.py")
read -r HOLE <&3
PIDS+=($(pgrep -n -f bench/client/blackhole.py))

prisma_check() { # endpoint
  echo "require('$PRISMA').check({product: 'prisma', version: '1.0.0', endpoint: '$1'}).then(() => {})"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(uname -sr); load before: $(load)" | tee "$OUT/machine.txt"

hf() { # name, then hyperfine args; the process-start floor is timed beside them
  local name=$1; shift
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/$name.json" "$@" \
    -n "process start floor" "$FLOOR" >&2
}
hfnode() { # name, endpoint
  hyperfine -N --warmup 10 --runs "$NODE_RUNS" --export-json "$OUT/$1-node.json" \
    -n "node bare" "node -e ''" \
    -n "node checkpoint-client" "node -e \"$(prisma_check "$2")\"" >&2
}

# (1) ping due (interval 0: every run is due), closed port.
export SONDE_DEMO_INTERVAL_SECS=0 SONDE_DEMO_ENDPOINT=http://127.0.0.1:$CLOSED
hf unreachable \
  -n "sonde-demo off" "$DEMO --no-telemetry" \
  -n "sonde-demo on" "$DEMO"
hfnode unreachable "http://127.0.0.1:$CLOSED"

# (1') the same, but before every run the backoff left by the failed upload
# is cleared and the previous uploader has exited (flock waits for its lock),
# so every run starts an uploader: what the run that finds a ping due pays.
S=$XDG_CACHE_HOME/sonde/sonde-demo
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/spawn.json" \
  --prepare "sh -c 'rm -f $S/retry-at; flock $S/uploader.lock true'" \
  -n "sonde-demo off" "$DEMO --no-telemetry" \
  -n "sonde-demo on" "$DEMO" >&2

# (2) ping due, blackholed collector. One uploader at a time: while the first
# one waits out its timeout, later runs queue and start none.
rm -rf "$XDG_CACHE_HOME"/*
export SONDE_DEMO_ENDPOINT=http://127.0.0.1:$HOLE
hf blackhole \
  -n "sonde-demo off" "$DEMO --no-telemetry" \
  -n "sonde-demo on" "$DEMO"
hfnode blackhole "http://127.0.0.1:$HOLE"

# (3) no ping due: the ping went out (spool empty, last ping fresh) and
# Prisma's cache is fresh (primed once against a server that answers).
rm -rf "$XDG_CACHE_HOME"/*
export SONDE_DEMO_INTERVAL_SECS=43200 SONDE_DEMO_ENDPOINT=http://127.0.0.1:$CLOSED
"$DEMO" >/dev/null
for _ in $(seq 100); do [ -e "$XDG_CACHE_HOME/sonde/sonde-demo/retry-at" ] && break; sleep 0.05; done
rm -f "$XDG_CACHE_HOME"/sonde/sonde-demo/spool/*.json "$XDG_CACHE_HOME/sonde/sonde-demo/retry-at"
exec 4< <(python3 "$ROOT/bench/client/answer.py")
read -r ANSWER <&4
PIDS+=($(pgrep -n -f bench/client/answer.py))
node -e "$(prisma_check "http://127.0.0.1:$ANSWER")"
for _ in $(seq 100); do ls "$XDG_CACHE_HOME"/checkpoint-nodejs/prisma-* >/dev/null 2>&1 && break; sleep 0.05; done
hf not-due \
  -n "sonde-demo off" "$DEMO --no-telemetry" \
  -n "sonde-demo on" "$DEMO"
hfnode not-due "http://127.0.0.1:$CLOSED"

echo "load after: $(load)" | tee -a "$OUT/machine.txt"

# Summary: medians (ms) and the difference on - off.
python3 - "$OUT" "${RESULTS:-}" "$RUNS" "$NODE_RUNS" <<'PY'
import json, sys, os
out, results = sys.argv[1], sys.argv[2]
lines = [f"client_command=bash bench/client/run.sh {sys.argv[3]} {sys.argv[4]}"]
print("| scenario | process start floor | sonde-demo off | sonde-demo on | sonde +median | node bare | node + checkpoint-client | Prisma +median |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for name, label in [("unreachable", "(1) ping due, collector unreachable"), ("spawn", "(1') as (1), every run starts an uploader"), ("blackhole", "(2) ping due, blackholed collector"), ("not-due", "(3) no ping due")]:
    r = {}
    for f in (name + ".json", name + "-node.json"):
        if os.path.exists(os.path.join(out, f)):
            r.update({x["command"]: x for x in json.load(open(os.path.join(out, f)))["results"]})
    med = lambda k: r[k]["median"] * 1000
    off, on = med("sonde-demo off"), med("sonde-demo on")
    if "node bare" in r:
        nb, nc = med("node bare"), med("node checkpoint-client")
        node = f"{nb:.1f} ms | {nc:.1f} ms | {nc-nb:+.1f} ms"
    else:
        node = "— | — | —"
    floor = f"{med('process start floor'):.2f} ms" if "process start floor" in r else "—"
    print(f"| {label} | {floor} | {off:.2f} ms | {on:.2f} ms | {on-off:+.2f} ms | {node} |")
    key = name.replace("-", "_")
    lines += [f"client_{key}_off_ms={off:.3f}", f"client_{key}_on_ms={on:.3f}"]
    if "process start floor" in r:
        lines.append(f"client_{key}_floor_ms={med('process start floor'):.3f}")
    if "node bare" in r:
        lines += [f"client_{key}_node_bare_ms={nb:.2f}", f"client_{key}_node_client_ms={nc:.2f}"]
if results:
    with open(results, "a") as f:
        f.write("\n".join(lines) + "\n")
PY
