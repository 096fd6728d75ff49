#!/usr/bin/env bash
# The echo benchmark of BENCHMARKS.md: our echo-server next to raw-echo (the
# socket path alone) and Volo, measured with ../shared/bench's load generator
# in one run, ping-pong and with 8 requests pipelined per connection, then the
# RSS of 10,000 idle connections on our server and on Volo's.
#
#   bash bench/echo.sh                       # REPS=2 DURATION=5 CONNS="16 100"
#   REPS=3 DURATION=10 bash bench/echo.sh
#
# ../shared/bench is copied to target/bench-peers first, so its build and
# results stay out of shared/ (or set BENCH_PEERS_DIR to a built copy).
# Results: <peers dir>/results/<time>/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SHARED=${SHARED_BENCH:-$REPO/../shared/bench}
# BENCH_PEERS_DIR: an already built copy of ../shared/bench to use as is.
PEERS_DIR=${BENCH_PEERS_DIR:-$REPO/target/bench-peers}
if [[ -z "${BENCH_PEERS_DIR:-}" ]]; then
  [[ -d "$SHARED" ]] || { echo "no $SHARED: this benchmark needs ../shared/bench" >&2; exit 1; }
  mkdir -p "$PEERS_DIR"
  # Copy the sources (not a target/ dir that may sit there).
  (cd "$SHARED" && tar --exclude=./target --exclude=./results -cf - .) | (cd "$PEERS_DIR" && tar -xf -)
fi

cargo build --release -p thriftgen-interop --bin echo-server
OURS="$REPO/target/release/echo-server --addr 127.0.0.1:{port}"

export REPS=${REPS:-2} DURATION=${DURATION:-5} CONNS=${CONNS:-"16 100"}
export PEERS="raw volo ours" OURS_CMD="$OURS" SKIP_CODEC=1
for pipeline in 1 8; do
  echo "==== pipeline $pipeline"
  (cd "$PEERS_DIR" && PIPELINE=$pipeline SKIP_TESTS=${SKIP_TESTS:-} bash run_all.sh)
  export SKIP_TESTS=1 SKIP_SELFCHECK=1
done

echo "==== 10,000 idle connections"
ulimit -n 20000
idle() { # name command...
  local name=$1; shift
  "$@" > /dev/null 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/9797) 2>/dev/null && break; sleep 0.1; done
  echo -n "$name: "
  python3 "$REPO/bench/idle_rss.py" --pid "$pid" --addr 127.0.0.1:9797 -n 10000
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
idle ours "$REPO/target/release/echo-server" --addr 127.0.0.1:9797
idle volo "$PEERS_DIR/target/release/volo-echo-server" --addr 127.0.0.1:9797 --codec framed
