#!/usr/bin/env bash
# What the server costs at a steady rate against what a call costs at
# saturation (issue 3 of 6, "no fixed spinning floor"): `soak` at 1k, 5k and
# 20k calls/s on 100 connections (no reconnects, no hostile frames), reading
# the server's CPU from /proc over each run; then `loadgen` at saturation on
# the same server. Bounded: SECONDS per rate (default 30) plus 12 s.
#
#   bash bench/rate_cpu.sh          # RATES="1000 5000 20000" SECONDS_PER_RATE=30
#   BENCH_PEERS_DIR=/tmp/bench bash bench/rate_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"1000 5000 20000"} SECS=${SECONDS_PER_RATE:-30} PORT=${PORT:-19491}
CONNS=${CONNS:-100}
cargo build --release -q -p thriftgen-interop --bin echo-server --bin soak
peers=${BENCH_PEERS_DIR:-target/bench-peers}
if [ ! -x "$peers/target/release/loadgen" ]; then
  mkdir -p "$peers"
  cp -r ../shared/bench/. "$peers/"
  (cd "$peers" && cargo build --release -q -p loadgen -p raw-echo)
fi
measure() { # LABEL PID
  local label=$1 pid=$2
  for _ in $(seq 1 100); do (exec 3<> /dev/tcp/127.0.0.1/$PORT) 2> /dev/null && break; sleep 0.05; done
  for rate in $RATES; do
    per=$(( rate / CONNS ))
    line=$(target/release/soak --addr 127.0.0.1:$PORT --pid "$pid" --minutes "$minutes" \
      --connections "$CONNS" --rate "$per" --reconnect-percent 0 --hostile false \
      --sample-seconds 3600 | grep '^JSON ')
    echo "$label rate $rate: ${line#JSON }"
  done
  echo "$label saturation:"
  "$peers/target/release/loadgen" --addr 127.0.0.1:$PORT -c "$CONNS" -d 10 -w 2 -b 256 \
    --server-pid "$pid" --label "$label" | grep -E '^(qps|server|JSON)'
}
minutes=$(python3 -c "print($SECS / 60)")
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2> /dev/null || true; fi' EXIT
target/release/echo-server --addr 127.0.0.1:$PORT 2> /dev/null &
pid=$!
measure echo-server $pid
kill -TERM $pid; wait $pid || true
# The physical-limit peer: one epoll thread answering pre-encoded replies.
"$peers/target/release/raw-echo" --addr 127.0.0.1:$PORT &
pid=$!
measure raw-echo $pid
kill -TERM $pid; wait $pid || true
pid=
