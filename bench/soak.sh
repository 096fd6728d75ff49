#!/usr/bin/env bash
# The soak of issue 3 of 6: `soak` against a fresh echo-server for MINUTES
# (default 10) on 100 connections at 50 calls/s each, 1% reconnecting every
# second, hostile frames every second; a table of samples, then the server's
# stop line (connections_open must be 0). Bounded by MINUTES; stops only the
# server it started, by PID.
#
#   bash bench/soak.sh                 # MINUTES=10 SAMPLE=30
#   MINUTES=2 SAMPLE=10 bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-10} SAMPLE=${SAMPLE:-30} PORT=${PORT:-19490}
cargo build --release -q -p thriftgen-interop --bin echo-server --bin soak
log=$(mktemp)
target/release/echo-server --addr 127.0.0.1:$PORT 2> "$log" &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<> /dev/tcp/127.0.0.1/$PORT) 2> /dev/null && break; sleep 0.05; done
target/release/soak --addr 127.0.0.1:$PORT --pid $pid --minutes "$MINUTES" --sample-seconds "$SAMPLE"
# Past the server's read timeout (30 s), so the half-sent hostile frames are gone too.
sleep 31
echo "server fds after the read timeout: $(ls /proc/$pid/fd | wc -l), RSS $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB"
kill -TERM $pid
wait $pid || true
trap - EXIT
grep "stopped" "$log"
rm -f "$log"
