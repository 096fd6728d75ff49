#!/usr/bin/env bash
# The interop matrix: our ThriftTest binaries against Apache Thrift's Python
# library, both ways, for binary|compact|json x buffered|framed|header (json
# over buffered and framed only: the Python library's THeader has no JSON);
# and `thriftgen call` (interop/python/call_client.py drives it) against the
# Python server over the same combinations.
#
#   bash interop/run.sh [BIN_DIR]       after `cargo build --release --workspace`
#   INTEROP_SELFTEST=1 bash interop/run.sh   Python client against Python server
#
# Environment:
#   BIN_DIR              where thrift-test-server, thrift-test-client and
#                        thriftgen are
#                        (default: $REPO/target/release; the argument wins)
#   INTEROP_SELFTEST=1   check the suite itself: no Rust binaries needed
#   INTEROP_PROTOCOLS    default "binary compact json" ("binary compact" for
#                        the self-test)
#   INTEROP_TRANSPORTS   default "buffered framed header"
#   CLIENT_TIMEOUT       seconds one client run may take (default 120)
#   PORT_WAIT            seconds a server may take to listen (default 30)
#   INTEROP_VENV         passed on to setup.sh
#
# Logs go to target/interop/logs/. Exit status 0 only when every combination
# passed. Only the processes started here are stopped here.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${1:-${BIN_DIR:-$REPO/target/release}}
OUT="$REPO/target/interop"
LOGS="$OUT/logs"
VENV=${INTEROP_VENV:-$OUT/venv}
PY="$VENV/bin/python"
SELFTEST=${INTEROP_SELFTEST:-0}
# The self-test leaves json out by default: the Python library's JSON writer
# writes NaN and the infinities as bare `nan`/`inf`, which its own reader
# refuses (testDouble fails python -> python; our reader takes them).
if [ "$SELFTEST" = 1 ]; then
  PROTOCOLS=${INTEROP_PROTOCOLS:-binary compact}
else
  PROTOCOLS=${INTEROP_PROTOCOLS:-binary compact json}
fi
TRANSPORTS=${INTEROP_TRANSPORTS:-buffered framed header}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-120}
PORT_WAIT=${PORT_WAIT:-30}

say() { echo "interop: $*"; }
die() { echo "interop: error: $*" >&2; exit 1; }

# --- processes: remember what we start, stop exactly that --------------------

started=()

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null; return 0; }
  kill "$pid" 2> /dev/null
  for _ in $(seq 50); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2> /dev/null
  wait "$pid" 2> /dev/null
  return 0
}

cleanup() {
  local pid
  for pid in "${started[@]}"; do stop_pid "$pid"; done
  started=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
  local keep=() pid
  for pid in "${started[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  started=("${keep[@]}")
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PID PORT: until PORT accepts a connection, PID exits, or PORT_WAIT
# seconds pass.
wait_port() {
  local pid=$1 port=$2
  for _ in $(seq $((PORT_WAIT * 10))); do
    kill -0 "$pid" 2> /dev/null || return 1
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# start_server LOG CMD...: starts CMD in the background; sets server_pid.
start_server() {
  local log=$1
  shift
  "$@" > "$log" 2>&1 &
  server_pid=$!
  started+=("$server_pid")
}

# --- the matrix ----------------------------------------------------------------

# supported PROTOCOL TRANSPORT: whether the Python library speaks the pair
# (its THeader carries binary and compact only).
supported() {
  [ "$1" != json ] || [ "$2" != header ]
}

rows=()
passed=0
failed=0

# run_client DIRECTION PROTOCOL TRANSPORT LOG CMD...: runs one client under a
# timeout and records a matrix row.
run_client() {
  local direction=$1 protocol=$2 transport=$3 log=$4
  shift 4
  local rc pid summary verdict
  timeout -k 5 "$CLIENT_TIMEOUT" "$@" > "$log" 2>&1 &
  pid=$!
  started+=("$pid")
  wait "$pid"
  rc=$?
  forget_pid "$pid"

  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ "$rc" -eq 0 ] && [ -n "$summary" ] && [[ "$summary" == *" 0 failed"* ]]; then
    verdict=ok
    passed=$((passed + 1))
  else
    verdict=FAIL
    failed=$((failed + 1))
    case $rc in
      0) summary="${summary:-no summary line} (exit 0)" ;;
      124 | 137) summary="timed out after ${CLIENT_TIMEOUT} s; ${summary:-no summary line}" ;;
      *) summary="${summary:-no summary line} (exit $rc)" ;;
    esac
  fi
  rows+=("$(printf '%-18s %-8s %-9s %-4s %s' "$direction" "$protocol" "$transport" "$verdict" "$summary")")
  echo "${rows[-1]}"
  if [ "$verdict" = FAIL ]; then
    grep -E '^(FAIL|error)' "$log" | head -n 15 | sed 's/^/    /'
    echo "    log: ${log#"$REPO"/}"
  fi
}

# fail_row DIRECTION PROTOCOL TRANSPORT WHY: a combination that could not run.
fail_row() {
  failed=$((failed + 1))
  rows+=("$(printf '%-18s %-8s %-9s %-4s %s' "$1" "$2" "$3" FAIL "$4")")
  echo "${rows[-1]}"
}

# Commands are run directly (never through a shell function), so the PID we
# keep is the process itself and stopping it stops the program.
PY_SERVER=("$PY" "$REPO/interop/python/server.py")
PY_CLIENT=("$PY" "$REPO/interop/python/client.py" --host 127.0.0.1)
RUST_SERVER=("$BIN_DIR/thrift-test-server")
# shellcheck disable=SC2034 # used through a nameref
RUST_CLIENT=("$BIN_DIR/thrift-test-client" --host 127.0.0.1)

# shellcheck disable=SC2034 # used through a nameref
CALL_CLIENT=("$PY" "$REPO/interop/python/call_client.py" --thriftgen "$BIN_DIR/thriftgen"
  --idl "$REPO/idl/ThriftTest.thrift" --host 127.0.0.1)

# Every combination against a Python server started for it; the client is
# PY_CLIENT, RUST_CLIENT or CALL_CLIENT, named by $2.
against_python_servers() {
  local direction=$1 tag=$3 protocol transport port log
  local -n client=$2
  for protocol in $PROTOCOLS; do
    for transport in $TRANSPORTS; do
      supported "$protocol" "$transport" || continue
      port=$(free_port) || die "no free port"
      log="$LOGS/$tag-$protocol-$transport"
      start_server "$log.server.log" "${PY_SERVER[@]}" --port "$port" \
        --protocol "$protocol" --transport "$transport"
      if wait_port "$server_pid" "$port"; then
        run_client "$direction" "$protocol" "$transport" "$log.client.log" \
          "${client[@]}" --port "$port" --protocol "$protocol" --transport "$transport"
      else
        fail_row "$direction" "$protocol" "$transport" "the Python server did not listen on port $port"
        tail -n 5 "$log.server.log" | sed 's/^/    /'
      fi
      stop_pid "$server_pid"
      forget_pid "$server_pid"
    done
  done
}

start_rust_server() {
  rust_port=$(free_port) || die "no free port"
  start_server "$LOGS/rust-server.log" "${RUST_SERVER[@]}" --port "$rust_port"
  rust_pid=$server_pid
  wait_port "$rust_pid" "$rust_port"
}

# Every combination against one thrift-test-server, which serves every
# dialect on one port; restarted (and reported) if it goes away.
against_rust_server() {
  local protocol transport log
  start_rust_server || say "thrift-test-server did not listen on port $rust_port"
  for protocol in $PROTOCOLS; do
    for transport in $TRANSPORTS; do
      supported "$protocol" "$transport" || continue
      log="$LOGS/py-rust-$protocol-$transport.client.log"
      if ! kill -0 "$rust_pid" 2> /dev/null; then
        fail_row "python -> rust" "$protocol" "$transport" \
          "thrift-test-server had exited; restarted (its log: target/interop/logs/rust-server.before-$protocol-$transport.log)"
        forget_pid "$rust_pid"
        wait "$rust_pid" 2> /dev/null
        cp "$LOGS/rust-server.log" "$LOGS/rust-server.before-$protocol-$transport.log" 2> /dev/null
        start_rust_server || say "thrift-test-server did not listen on port $rust_port"
        continue
      fi
      run_client "python -> rust" "$protocol" "$transport" "$log" \
        "${PY_CLIENT[@]}" --port "$rust_port" --protocol "$protocol" --transport "$transport"
    done
  done
  if ! kill -0 "$rust_pid" 2> /dev/null; then
    say "thrift-test-server exited during the run; see target/interop/logs/rust-server.log"
  fi
  stop_pid "$rust_pid"
  forget_pid "$rust_pid"
}

# --- main ------------------------------------------------------------------------

if [ "$SELFTEST" != 1 ]; then
  for bin in thrift-test-server thrift-test-client thriftgen; do
    [ -x "$BIN_DIR/$bin" ] \
      || die "no $BIN_DIR/$bin: run \`cargo build --release --workspace\` first (or INTEROP_SELFTEST=1 to check the suite alone)"
  done
fi

say "setup"
timeout -k 10 900 bash "$REPO/interop/setup.sh" || die "interop/setup.sh failed"
rm -rf "$LOGS"
mkdir -p "$LOGS"

export PYTHONUNBUFFERED=1
if [ "$SELFTEST" = 1 ]; then
  say "self-test: the Python client against the Python server"
  against_python_servers "python -> python" PY_CLIENT py-py
else
  say "the Python client against $BIN_DIR/thrift-test-server"
  against_rust_server
  say "$BIN_DIR/thrift-test-client against the Python server"
  against_python_servers "rust -> python" RUST_CLIENT rust-py
  say "$BIN_DIR/thriftgen call against the Python server"
  against_python_servers "call -> python" CALL_CLIENT call-py
fi

echo
echo "interop matrix (client -> server, protocol, transport, verdict, methods):"
printf '  %s\n' "${rows[@]}"
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
