#!/usr/bin/env bash
# The fleet benchmark of BENCHMARKS.md ("Fleets"): three release
# echo-servers registered in an etcd of its own (loopback, free ports),
# called by echo-client through etcd discovery, measuring
#
#   1. graceful restarts: 10 restarts (SIGTERM: deregister, exit wait,
#      drain; then a new process on the same port) spread over 60 s of
#      1,000 tasks calling: failed calls (target 0);
#   2. one SIGKILL under 1,000 tasks: failed calls against the calls in
#      flight on the killed instance at the kill, failures later than 1 s
#      after it (target none), and the same with --idempotent (target 0);
#   3. one instance answering after 20 ms (--delay-ms 20): its share of the
#      calls with p2c (target <= 10 %) and with round robin;
#   4. one instance failing every call (--fail-percent 100): its share of
#      the calls once its breaker opened (target <= 1 %), and the extra load
#      of retries, requests the servers saw / calls made - 1 (target <= 10 %).
#
# Registration visibility (<= 200 ms) and lease expiry (<= TTL + 1 s) are
# measured by etcd/tests/etcd.rs (cargo test -p thriftgen-etcd -- --ignored).
#
#   bash bench/fleet.sh                  # about 3 minutes after the build
#   SKIP_BUILD=1 KEEP=1 bash bench/fleet.sh
#
# Every process it starts is stopped by PID; logs are in a temporary
# directory (kept with KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BIN=$REPO/target/release
[[ -n "${SKIP_BUILD:-}" ]] || cargo build --release -p thriftgen-interop --bin echo-server --bin echo-client
command -v etcd > /dev/null || { echo "no etcd on PATH: bash etcd/setup.sh" >&2; exit 1; }
ulimit -n 20000 2> /dev/null || ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/thriftgen-fleet-bench.XXXXXX)
ETCD_PID=""
declare -a SPID=("" "" "")
declare -a SLOG=("" "" "")
CLIENT_PID=""
cleanup() {
  for pid in "${SPID[@]}" "$CLIENT_PID" "$ETCD_PID"; do
    [[ -n "$pid" ]] && kill -9 "$pid" 2> /dev/null || true
  done
  wait 2> /dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "logs: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# --- etcd -------------------------------------------------------------------
ETCD_PORT=$(free_port)
PEER_PORT=$(free_port)
etcd --name default --data-dir "$WORK/etcd-data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$PEER_PORT" > "$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 1 200); do
  python3 -c "import urllib.request, sys; sys.exit(0 if b'\"health\":\"true\"' in urllib.request.urlopen('http://127.0.0.1:$ETCD_PORT/health', timeout=1).read() else 1)" 2> /dev/null && break
  sleep 0.1
done
echo "etcd on 127.0.0.1:$ETCD_PORT (pid $ETCD_PID)"

PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
addr() { echo "127.0.0.1:${PORTS[$1]}"; }

# start_server I SERVICE GENERATION [echo-server flags..]: once registered.
start_server() {
  local i=$1 service=$2 gen=$3
  shift 3
  local log="$WORK/$service-$i-$gen.log"
  "$BIN/echo-server" --addr "$(addr "$i")" --register "etcd://127.0.0.1:$ETCD_PORT/$service" "$@" 2> "$log" &
  SPID[i]=$!
  SLOG[i]=$log
  for _ in $(seq 1 150); do
    grep -qs "registered as" "$log" && return 0
    kill -0 "${SPID[i]}" 2> /dev/null || break
    sleep 0.1
  done
  echo "echo-server $i did not register:" >&2
  cat "$log" >&2
  exit 1
}

# stop_server I: SIGTERM, wait (at most 20 s, then SIGKILL).
stop_server() {
  local i=$1 pid=${SPID[$1]}
  kill -TERM "$pid"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  SPID[i]=""
}

# kill_server I: SIGKILL.
kill_server() {
  local i=$1 pid=${SPID[$1]}
  kill -9 "$pid"
  wait "$pid" 2> /dev/null || true
  SPID[i]=""
}

# served LOG: the requests of the stop line.
served() { sed -n 's/.*echo-server stopped: .*requests: \([0-9]*\),.*/\1/p' "$1" | tail -1; }

stop_all() { for i in 0 1 2; do [[ -z "${SPID[i]}" ]] || stop_server "$i"; done; }

# client NAME SERVICE [echo-client flags..]: in the background.
client() {
  local name=$1 service=$2
  shift 2
  "$BIN/echo-client" --discover "etcd://127.0.0.1:$ETCD_PORT/$service" --label "$name" "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" &
  CLIENT_PID=$!
}
wait_client() {
  wait "$CLIENT_PID" || { echo "echo-client failed:" >&2; tail -5 "$WORK/$1.err" >&2; exit 1; }
  CLIENT_PID=""
  grep '^JSON ' "$WORK/$1.out" | tail -1 | cut -c6- > "$WORK/$1.json"
}
# field NAME KEY: a top-level field of a client's JSON line.
field() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$WORK/$1.json" "$2"; }

SUMMARY=$WORK/summary
say() { echo "$*" | tee -a "$SUMMARY"; }

echo "== load while measuring: $(uptime)"

# --- 1. graceful restarts ---------------------------------------------------
echo "== 1. 10 graceful restarts over 60 s, 1,000 tasks"
for i in 0 1 2; do start_server "$i" fleet-graceful 0; done
GRACEFUL_LOGS=()
client graceful fleet-graceful --concurrency 1000 --warmup 2 --duration 60 --trace-ms 50
sleep 2
t0=$(now_ms)
for k in $(seq 0 9); do
  at=$((3000 + k * 6000))
  while (($(now_ms) - t0 < at)); do sleep 0.05; done
  i=$((k % 3))
  s=$(now_ms)
  echo "$s" >> "$WORK/graceful.terms"
  GRACEFUL_LOGS+=("${SLOG[i]}")
  stop_server "$i"
  stopped=$(($(now_ms) - s))
  start_server "$i" fleet-graceful $((k + 1))
  echo "restart $k: $(addr "$i") stopped in ${stopped} ms, back after $(($(now_ms) - s)) ms"
done
wait_client graceful
GRACEFUL_LOGS+=("${SLOG[@]}")
stop_all
# Where the failures were: per restart (from SIGTERM to 3 s later), and the
# requests the stopped servers read but never executed (bytes read beyond
# bytes written, in requests of the average size).
where=$(python3 - "$WORK/graceful.err" "$WORK/graceful.terms" "${GRACEFUL_LOGS[@]}" << 'EOF'
import json, re, sys
traces = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("TRACE ")]
terms = [int(l) for l in open(sys.argv[2])]
def failed_at(ms):
    before = [t["failed_calls"] for t in traces if t["unix_ms"] <= ms]
    return before[-1] if before else 0
per = [failed_at(t + 3000) - failed_at(t) for t in terms]
first = []
for t in terms:
    after = [x for x in traces if t < x["unix_ms"] <= t + 3000 and x["failed_calls"] > failed_at(t)]
    if after:
        first.append(after[0]["unix_ms"] - t)
unexecuted = 0
for log in sys.argv[3:]:
    m = re.search(r"replies: (\d+),.*bytes_read: (\d+), bytes_written: (\d+)", open(log).read())
    if m and int(m.group(1)):
        replies, read, written = map(int, m.groups())
        unexecuted += round((read - written) / (written / replies))
print(f"failed calls per restart {per}; first failure of a restart at {first} ms after its SIGTERM; "
      f"requests the stopping servers read and never executed: {unexecuted}")
EOF
)
say "graceful: 10 restarts in 60 s, 1000 tasks: failed_calls $(field graceful failed_calls) (whole run: $(field graceful total_failed_calls) of $(field graceful total_calls)), errors $(field graceful errors), qps $(field graceful qps), p99 $(field graceful p99_us) us, p999 $(field graceful p999_us) us; per instance $(field graceful instances); $where"

# --- 2. SIGKILL -------------------------------------------------------------
for variant in plain idempotent; do
  flags=()
  [[ $variant == idempotent ]] && flags=(--idempotent)
  echo "== 2. one SIGKILL, 1,000 tasks ($variant)"
  for i in 0 1 2; do start_server "$i" "fleet-kill-$variant" 0; done
  client "kill-$variant" "fleet-kill-$variant" --concurrency 1000 --warmup 1 --duration 6 --trace-ms 20 "${flags[@]}"
  sleep 3
  kill_ms=$(now_ms)
  kill_server 0
  wait_client "kill-$variant"
  stop_all
  result=$(python3 - "$WORK/kill-$variant.err" "$kill_ms" "$(addr 0)" << 'EOF'
import json, sys
path, kill_ms, victim = sys.argv[1], int(sys.argv[2]), sys.argv[3]
traces = [json.loads(l[6:]) for l in open(path) if l.startswith("TRACE ")]
before = [t for t in traces if t["unix_ms"] <= kill_ms]
after = [t for t in traces if t["unix_ms"] > kill_ms]
in_flight = before[-1]["instances"].get(victim, {}).get("in_flight", 0) if before else -1
next_in_flight = after[0]["instances"].get(victim, {}).get("in_flight", 0) if after else -1
failed_at_kill = before[-1]["failed_calls"] if before else 0
late = [t for t in traces if t["unix_ms"] >= kill_ms + 1000]
final = traces[-1]["failed_calls"]
after_1s = final - late[0]["failed_calls"] if late else -1
gap = (after[0]["unix_ms"] - before[-1]["unix_ms"]) if before and after else -1
print(f"failed {final - failed_at_kill} (before the kill: {failed_at_kill}); in flight on the killed "
      f"instance {in_flight} (sample {kill_ms - before[-1]['unix_ms']} ms before the kill; "
      f"{next_in_flight} in the sample after; samples {gap} ms apart); failed later than 1 s after "
      f"the kill: {after_1s}")
EOF
  )
  say "sigkill ($variant): $result; qps $(field "kill-$variant" qps)"
done

# --- 3. a slow instance -----------------------------------------------------
for lb in p2c round-robin; do
  echo "== 3. one instance --delay-ms 20, 100 tasks, --lb $lb"
  start_server 0 "fleet-slow-$lb" 0 --handlers tokio --delay-ms 20
  for i in 1 2; do start_server "$i" "fleet-slow-$lb" 0 --handlers tokio; done
  client "slow-$lb" "fleet-slow-$lb" --concurrency 100 --warmup 2 --duration 10 --lb "$lb"
  wait_client "slow-$lb"
  stop_all
  share=$(python3 -c "
import json, sys
j = json.load(open(sys.argv[1])); inst = j['instances']
print(f\"{100 * inst.get(sys.argv[2], 0) / max(1, sum(inst.values())):.2f} % ({inst})\")" "$WORK/slow-$lb.json" "$(addr 0)")
  say "slow instance ($lb): share of calls $share; qps $(field "slow-$lb" qps), p99 $(field "slow-$lb" p99_us) us"
done

# --- 4. a failing instance --------------------------------------------------
for variant in idempotent plain; do
  flags=()
  [[ $variant == idempotent ]] && flags=(--idempotent)
  echo "== 4. one instance --fail-percent 100, 100 tasks ($variant)"
  start_server 0 "fleet-fail-$variant" 0 --fail-percent 100
  for i in 1 2; do start_server "$i" "fleet-fail-$variant" 0; done
  client "fail-$variant" "fleet-fail-$variant" --concurrency 100 --warmup 1 --duration 20 --trace-ms 100 "${flags[@]}"
  wait_client "fail-$variant"
  logs=("${SLOG[@]}")
  stop_all
  seen=0
  for log in "${logs[@]}"; do seen=$((seen + $(served "$log"))); done
  result=$(python3 - "$WORK/fail-$variant.err" "$(addr 0)" "$seen" "$WORK/fail-$variant.json" << 'EOF'
import json, sys
path, victim, seen, summary = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.load(open(sys.argv[4]))
traces = [json.loads(l[6:]) for l in open(path) if l.startswith("TRACE ")]
opened = next((t for t in traces if t["instances"].get(victim, {}).get("breaker", "closed") != "closed"), None)
calls = summary["total_calls"]
extra = 100 * (seen / max(1, calls) - 1)
if opened is None:
    print(f"the breaker never opened; extra load {extra:.2f} % ({seen} requests served, {calls} calls)")
    sys.exit()
last = traces[-1]
delta = {a: last["instances"][a]["calls"] - opened["instances"].get(a, {}).get("calls", 0) for a in last["instances"]}
share = 100 * delta.get(victim, 0) / max(1, sum(delta.values()))
t_open = opened["unix_ms"] - traces[0]["unix_ms"]
print(f"breaker open {t_open} ms after the start (at {opened['instances'][victim]['calls']} attempts on it); "
      f"its share after that {share:.3f} % ({delta.get(victim, 0)} of {sum(delta.values())} attempts); "
      f"extra load {extra:.2f} % ({seen} requests served, {calls} calls); "
      f"failed calls {summary['total_failed_calls']} (in the window: {summary['failed_calls']})")
EOF
  )
  say "failing instance ($variant): $result"
done

echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg))"
cat "$SUMMARY"
