#!/usr/bin/env bash
# Large messages at the socket limit (issue 5 of 6): echo with 64 KiB and
# 1 MiB `msg` payloads through our echo-server next to raw-echo (the socket
# path alone), with ../shared/bench's load generator, in one sitting. Runs
# are interleaved (rep -> case -> server); each reports QPS, p50/p99 and the
# server's CPU time per call over the measured window (loadgen reads it from
# /proc/PID/stat with --server-pid). Bounded: REPS x cases x servers x
# (WARMUP + DURATION + about 3 s, plus at most QUIET_WAIT s of waiting).
#
#   bash bench/large.sh                    # REPS=2 DURATION=5 WARMUP=1
#   BENCH_PEERS_DIR=/tmp/bench bash bench/large.sh
#   CASES="65536:100 1048576:16" ECHO_ARGS="--handlers workers" bash bench/large.sh
#   QUIET_MAX=10 QUIET_WAIT=60   # before each run, wait up to 60 s for the
#                                # machine to be at most 10% busy (0: don't)
#   BASE_BIN=/path/to/echo-server bash bench/large.sh   # also an echo-server
#                                # built from another commit ("base"), to
#                                # compare before and after in one sitting
#
# ../shared/bench is copied to target/bench-peers and built there first (or
# set BENCH_PEERS_DIR to a built copy). Raw loadgen output goes to
# target/bench-large/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
REPS=${REPS:-2} DURATION=${DURATION:-5} WARMUP=${WARMUP:-1}
CASES=${CASES:-"65536:100 1048576:16"}
ECHO_ARGS=${ECHO_ARGS:-}
BASE_BIN=${BASE_BIN:-}
QUIET_MAX=${QUIET_MAX:-10} QUIET_WAIT=${QUIET_WAIT:-60}
SHARED=${SHARED_BENCH:-$REPO/../shared/bench}
PEERS_DIR=${BENCH_PEERS_DIR:-$REPO/target/bench-peers}
if [[ ! -x "$PEERS_DIR/target/release/loadgen" || ! -x "$PEERS_DIR/target/release/raw-echo" ]]; then
  [[ -d "$SHARED" ]] || { echo "no $SHARED: this benchmark needs ../shared/bench" >&2; exit 1; }
  mkdir -p "$PEERS_DIR"
  # Copy the sources (not a target/ dir that may sit there).
  (cd "$SHARED" && tar --exclude=./target --exclude=./results -cf - .) | (cd "$PEERS_DIR" && tar -xf -)
  (cd "$PEERS_DIR" && cargo build --release -q -p loadgen -p raw-echo)
fi
cargo build --release -q -p thriftgen-interop --bin echo-server
LOADGEN=$PEERS_DIR/target/release/loadgen
OUT=$REPO/target/bench-large/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # PORT
  for _ in $(seq 1 100); do (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2
  return 1
}

# Waits (at most QUIET_WAIT s) for the machine to be at most QUIET_MAX% busy
# over a second, from /proc/stat.
wait_quiet() {
  [[ $QUIET_WAIT -gt 0 ]] || return 0
  local waited=0 busy idle pct a b c d e f g a2 b2 c2 d2 e2 f2 g2
  while :; do
    read -r _ a b c d e f g _ < /proc/stat
    sleep 1
    read -r _ a2 b2 c2 d2 e2 f2 g2 _ < /proc/stat
    busy=$(( (a2 + b2 + c2 + f2 + g2) - (a + b + c + f + g) ))
    idle=$(( (d2 + e2) - (d + e) ))
    pct=$(( 100 * busy / (busy + idle + 1) ))
    [[ $pct -le $QUIET_MAX ]] && return 0
    waited=$((waited + 1))
    if [[ $waited -ge $QUIET_WAIT ]]; then
      echo "  (machine still $pct% busy after ${QUIET_WAIT}s; measuring anyway)" >&2
      return 0
    fi
  done
}

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
}
trap stop_all EXIT

raw_port=$(free_port)
"$PEERS_DIR/target/release/raw-echo" --addr "127.0.0.1:$raw_port" > "$OUT/raw-echo.log" 2>&1 &
raw_pid=$!
pids+=("$raw_pid")
ours_port=$(free_port)
# shellcheck disable=SC2086 # ECHO_ARGS is a list of flags
"$REPO/target/release/echo-server" --addr "127.0.0.1:$ours_port" $ECHO_ARGS > "$OUT/ours.log" 2>&1 &
ours_pid=$!
pids+=("$ours_pid")
wait_port "$raw_port"
wait_port "$ours_port"
servers="raw ours"
if [[ -n $BASE_BIN ]]; then
  base_port=$(free_port)
  # shellcheck disable=SC2086 # ECHO_ARGS is a list of flags
  "$BASE_BIN" --addr "127.0.0.1:$base_port" $ECHO_ARGS > "$OUT/base.log" 2>&1 &
  base_pid=$!
  pids+=("$base_pid")
  wait_port "$base_port"
  servers="raw ours base"
fi

echo "uptime before: $(uptime)" | tee "$OUT/uptime"
for rep in $(seq 1 "$REPS"); do
  for case in $CASES; do
    payload=${case%%:*} conns=${case##*:}
    for server in $servers; do
      case $server in
        raw) port=$raw_port pid=$raw_pid ;;
        ours) port=$ours_port pid=$ours_pid ;;
        base) port=$base_port pid=$base_pid ;;
      esac
      file="$OUT/$server-$payload-$conns-$rep.txt"
      wait_quiet
      "$LOADGEN" --addr "127.0.0.1:$port" -c "$conns" -b "$payload" -d "$DURATION" -w "$WARMUP" \
        --server-pid "$pid" --label "$server" > "$file" 2>&1 || echo "loadgen exited $? ($file)" >&2
      line=$(grep '^JSON ' "$file" || true)
      echo "$server b=$payload c=$conns rep $rep: $(grep '^qps' "$file" || echo 'no result')"
      echo "${line#JSON }" >> "$OUT/results.jsonl"
    done
  done
done
echo "uptime after: $(uptime)" | tee -a "$OUT/uptime"

python3 - "$OUT/results.jsonl" << 'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def key(r): return (r["payload"], r["conns"], r["label"])
groups = {}
for r in rows:
    groups.setdefault(key(r), []).append(r)
def summary(rs):
    qps = [r["qps"] for r in rs]
    med = statistics.median(qps)
    # The run whose QPS is the median (or nearest) gives the latencies.
    mid = min(rs, key=lambda r: abs(r["qps"] - med))
    cpu = sum(r["server"]["cpu_s"] for r in rs) / max(1, sum(r["requests"] for r in rs)) * 1e6
    pct = statistics.median(r["server"]["cpu_pct"] for r in rs)
    errors = sum(r["errors"] for r in rs)
    # Machine busy x CPUs - server - loadgen: other processes (and kernel
    # time charged to neither); near 0 is an undisturbed run.
    busy = statistics.median(max(0.0, r["machine_busy_pct"] * r["ncpu"] - r["server"]["cpu_pct"]
                                 - r["loadgen_cpu_pct"]) for r in rs)
    return dict(qps=med, runs=qps, p50=mid["p50_us"], p99=mid["p99_us"], cpu=cpu, pct=pct,
                errors=errors, rss=max(r["server"]["hwm_kb"] for r in rs) / 1024, busy=busy)
print()
print("| server | payload | conns | QPS (median) | runs | p50 µs | p99 µs | server CPU | CPU µs/call | peak RSS MiB | errors | other CPU |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
cases = sorted({(p, c) for (p, c, _) in groups}, key=lambda x: x[0])
s = {}
for (p, c) in cases:
    for label in ("base", "ours", "raw"):
        rs = groups.get((p, c, label))
        if not rs:
            continue
        s[(p, c, label)] = x = summary(rs)
        name = {"base": "ours, base build", "ours": "ours", "raw": "raw-echo"}[label]
        runs = " / ".join(f"{q:,.0f}" for q in x["runs"])
        print(f"| {name} | {p // 1024} KiB | {c} | {x['qps']:,.0f} | {runs} | {x['p50']:,.0f} | "
              f"{x['p99']:,.0f} | {x['pct']:.0f}% | {x['cpu']:,.1f} | {x['rss']:.1f} | {x['errors']} | "
              f"{x['busy']:.0f}% |")
print()
print("| server | payload | conns | QPS /raw (target ≥ 0.9) | CPU per call /raw (target ≤ 1.2) | p99 /raw |")
print("|---|---:|---:|---:|---:|---:|")
for (p, c) in cases:
    for label in ("base", "ours"):
        o, r = s.get((p, c, label)), s.get((p, c, "raw"))
        if not (o and r):
            continue
        q = o["qps"] / r["qps"] if r["qps"] else float("nan")
        u = o["cpu"] / r["cpu"] if r["cpu"] else float("nan")
        l = o["p99"] / r["p99"] if r["p99"] else float("nan")
        name = {"base": "ours, base build", "ours": "ours"}[label]
        print(f"| {name} | {p // 1024} KiB | {c} | {q:.2f}× {'✓' if q >= 0.9 else '✗'} | "
              f"{u:.2f}× {'✓' if u <= 1.2 else '✗'} | {l:.2f}× |")
EOF
echo
echo "raw output: $OUT"
