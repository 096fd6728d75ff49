#!/usr/bin/env bash
# The async benchmarks of BENCHMARKS.md, in one sitting, 1 KiB echo, framed
# binary, with ../shared/bench's peers (Volo's client and server, loadgen):
#
#   1. clients, multiplexed: our echo-client --mode multiplex (1,000 tasks,
#      4 connections) and volo-echo-client (1,000 tasks), against our
#      echo-server with inline handlers;
#   2. clients, pooled: our echo-client --mode pool (100 tasks, cap 100) and
#      volo-echo-client (100 tasks), same server; the server's accepted
#      connections are counted (a fresh server per run);
#   3. servers: echo-server --handlers tokio, --handlers workers and
#      volo-echo-server at 100 connections (loadgen, ping-pong);
#   4. servers with a 10 ms handler delay, 1,000 connections one call in
#      flight each: echo-server --handlers tokio and volo-echo-server
#      --delay-ms 10 (loadgen with --server-pid for RSS).
#
#   bash bench/async.sh                  # REPS=3 DURATION=8 WARMUP=2
#   SECTIONS="1 2" REPS=1 bash bench/async.sh
#
# Every run is bounded (warmup + duration, plus loadgen's drain); only the
# processes started here are stopped here, by PID. Results: one JSON line per
# run in target/bench-async/<time>/runs.jsonl, and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
SHARED=${SHARED_BENCH:-$REPO/../shared/bench}
PEERS_DIR=${BENCH_PEERS_DIR:-$REPO/target/bench-peers}
if [[ -z "${BENCH_PEERS_DIR:-}" ]]; then
  [[ -d "$SHARED" ]] || { echo "no $SHARED: this benchmark needs ../shared/bench" >&2; exit 1; }
  mkdir -p "$PEERS_DIR"
  (cd "$SHARED" && tar --exclude=./target --exclude=./results -cf - .) | (cd "$PEERS_DIR" && tar -xf -)
fi
(cd "$PEERS_DIR" && cargo build --release --locked -q -p loadgen -p peer-volo --bins)
cargo build --release -q -p thriftgen-interop --bin echo-server --bin echo-client

REPS=${REPS:-3} DURATION=${DURATION:-8} WARMUP=${WARMUP:-2}
SECTIONS=${SECTIONS:-"1 2 3 4"}
BIN=$REPO/target/release
PEER=$PEERS_DIR/target/release
OUT=$REPO/target/bench-async/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
RUNS=$OUT/runs.jsonl
PORT=19450
ulimit -n 20000

server_pid=
start_server() { # log command...
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2> /dev/null && return 0
    sleep 0.05
  done
  echo "server did not listen: $*" >&2; cat "$log" >&2; return 1
}
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2> /dev/null || true
  for _ in $(seq 1 60); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.1; done
  kill -9 "$server_pid" 2> /dev/null || true
  wait "$server_pid" 2> /dev/null || true
  server_pid=
}
trap stop_server EXIT

# record SECTION LABEL JSON_LINE [EXTRA_JSON_FIELDS]
record() {
  local json=${3#JSON }
  echo "{\"section\":$1,\"label\":\"$2\"${4:+,$4},\"run\":$json}" >> "$RUNS"
}

accepted() { # the connections our echo-server accepted, less the port probe of start_server
  local n
  n=$(sed -n 's/.*connections_accepted: \([0-9]*\).*/\1/p' "$1" | tail -1)
  echo $((${n:-1} - 1))
}

ours_inline() { start_server "$OUT/server.log" "$BIN/echo-server" --addr 127.0.0.1:$PORT; }

client_run() { # section label clientcommand...
  local section=$1 label=$2; shift 2
  ours_inline
  local line
  line=$("$@" --addr 127.0.0.1:$PORT --duration "$DURATION" --warmup "$WARMUP" | grep '^JSON' | tail -1)
  stop_server
  record "$section" "$label" "$line" "\"server_accepted\":$(accepted "$OUT/server.log")"
  echo "  $label: $line"
}

loadgen_run() { # section label conns servercommand...
  local section=$1 label=$2 conns=$3; shift 3
  start_server "$OUT/server.log" "$@"
  local line
  line=$("$PEER/loadgen" --addr 127.0.0.1:$PORT --transport framed -c "$conns" -b 1024 \
    -w "$WARMUP" -d "$DURATION" --server-pid "$server_pid" --label "$label" | grep '^JSON' | tail -1) || true
  stop_server
  record "$section" "$label" "$line"
  echo "  $label: $line"
}

for rep in $(seq 1 "$REPS"); do
  echo "==== rep $rep"
  for section in $SECTIONS; do
    case $section in
      1)
        client_run 1 ours-multiplex "$BIN/echo-client" --concurrency 1000 --mode multiplex --connections 4
        client_run 1 volo-client "$PEER/volo-echo-client" --concurrency 1000
        ;;
      2)
        client_run 2 ours-pool "$BIN/echo-client" --concurrency 100 --mode pool --connections 100
        client_run 2 volo-client "$PEER/volo-echo-client" --concurrency 100
        ;;
      3)
        loadgen_run 3 ours-tokio 100 "$BIN/echo-server" --addr 127.0.0.1:$PORT --handlers tokio
        loadgen_run 3 ours-workers 100 "$BIN/echo-server" --addr 127.0.0.1:$PORT --handlers workers
        loadgen_run 3 volo-server 100 "$PEER/volo-echo-server" --addr 127.0.0.1:$PORT --codec framed
        ;;
      4)
        loadgen_run 4 ours-tokio-delay10 1000 "$BIN/echo-server" --addr 127.0.0.1:$PORT --handlers tokio --delay-ms 10
        loadgen_run 4 volo-server-delay10 1000 "$PEER/volo-echo-server" --addr 127.0.0.1:$PORT --codec framed --delay-ms 10
        ;;
    esac
  done
done

python3 - "$RUNS" <<'PY'
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["section"], r["label"])].append(r)
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")
print("| section | label | runs | QPS (median) | QPS runs | p99 µs | cpu µs/call (client) | errors | server peak RSS MiB | accepted |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (section, label), rs in sorted(runs.items()):
    qps = [r["run"].get("qps") for r in rs]
    p99 = [r["run"].get("p99_us") for r in rs]
    cpu = [r["run"].get("cpu_us_per_call") for r in rs]
    errors = sum(r["run"].get("errors", 0) for r in rs)
    rss = [((r["run"].get("server") or {}).get("hwm_kb") or 0) / 1024 for r in rs if r["run"].get("server")]
    acc = [r.get("server_accepted") for r in rs if r.get("server_accepted") is not None]
    print(f"| {section} | {label} | {len(rs)} | {med(qps):,.0f} | {' / '.join(f'{q:,.0f}' for q in qps if q)} | "
          f"{med(p99):,.0f} | {med(cpu):.2f} | {errors} | {f'{med(rss):.1f}' if rss else ''} | {max(acc) if acc else ''} |")
PY
echo "runs: $RUNS"
