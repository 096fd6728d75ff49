#!/usr/bin/env bash
# Differential checks against Apache Thrift's Python library, both ways, for
# binary and compact:
#
#   rust -> python   values of every ThriftTest type that we encoded, decoded
#                    by Python (pure Python and the C extension) and compared
#                    with what we meant;
#   python -> rust   Python's re-encodings of them, decoded by our generated
#                    code and compared with the values regenerated from the seed;
#   skip             Python's skip(STRUCT) against ours on mutated encodings.
#
#   cargo build --release -p thriftgen-interop
#   bash interop/differential.sh [BIN_DIR]
#
# Environment:
#   BIN_DIR          where thrift-corpus is (default: $REPO/target/release;
#                    the argument wins)
#   DIFF_SEED        the seed (default 20240611)
#   DIFF_COUNT       values per protocol (default 840: 30 of each of the 28 types)
#   DIFF_SKIP_COUNT  skip inputs per protocol (default 6000)
#   INTEROP_VENV     passed on to setup.sh
#
# Prints `differential: N agree, M allowlisted, K disagree` per check and
# last `differential: X passed, Y failed`; the exit status is non-zero when
# any check found an unexplained disagreement. Files: target/interop/differential/.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${1:-${BIN_DIR:-$REPO/target/release}}
OUT="$REPO/target/interop/differential"
VENV=${INTEROP_VENV:-$REPO/target/interop/venv}
PY="$VENV/bin/python"
SEED=${DIFF_SEED:-20240611}
COUNT=${DIFF_COUNT:-840}
SKIP_COUNT=${DIFF_SKIP_COUNT:-6000}
CORPUS="$BIN_DIR/thrift-corpus"
DIFF_PY="$REPO/interop/python/differential.py"

say() { echo "differential: $*"; }
die() { echo "differential: error: $*" >&2; exit 1; }

[ -x "$CORPUS" ] || die "no $CORPUS: run \`cargo build --release -p thriftgen-interop\` first"

say "setup"
timeout -k 10 900 bash "$REPO/interop/setup.sh" > /dev/null || die "interop/setup.sh failed"
rm -rf "$OUT"
mkdir -p "$OUT"

passed=0
failed=0

# check LABEL LOG CMD...: runs CMD (output to LOG and to the terminal) and
# scores each `N agree, M allowlisted, K disagree` line it prints; a check
# whose command failed with no such line counts as failed.
check() {
  local label=$1 log=$2 rc line name n=0 bad=0
  shift 2
  timeout -k 5 300 "$@" > "$log" 2>&1
  rc=$?
  # Details: disagreements, allowlist counts, notes (at most 40 lines).
  grep -E '^(DISAGREE|differential: (allowlisted|skip|binary|compact|no C)|thrift-corpus: error)' "$log" \
    | head -n 40 | sed 's/^/  /'
  name=$label
  while IFS= read -r line; do
    if [[ "$line" == "differential: check "* ]]; then
      name=${line#differential: check }
      continue
    fi
    n=$((n + 1))
    printf '%-30s %s\n' "$name" "$line"
    [[ "$line" == *" 0 disagree" ]] || bad=1
    if [ "$bad" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    bad=0
  done < <(grep -E '^differential: (check .*|[0-9]+ agree, [0-9]+ allowlisted, [0-9]+ disagree)$' "$log")
  if [ "$n" -eq 0 ]; then
    echo "$label: FAIL: no result (exit $rc; log ${log#"$REPO"/})"
    tail -n 5 "$log" | sed 's/^/    /'
    failed=$((failed + 1))
  elif [ "$rc" -ne 0 ] && ! grep -qE ' [1-9][0-9]* disagree$' "$log"; then
    echo "$label: FAIL: exit $rc with no disagreement reported (log ${log#"$REPO"/})"
    failed=$((failed + 1))
  fi
}

for protocol in binary compact; do
  dir="$OUT/$protocol"
  "$CORPUS" write --seed "$SEED" --count "$COUNT" --protocol "$protocol" "$dir/ours" \
    || die "thrift-corpus write failed"
  check "rust -> python $protocol" "$dir/python.log" "$PY" "$DIFF_PY" corpus "$dir/ours" "$dir/python"
  for impl in "$dir"/python/*/; do
    impl=$(basename "$impl")
    check "python -> rust $protocol $impl" "$dir/check-$impl.log" "$CORPUS" check "$dir/python/$impl"
  done
  "$CORPUS" skip --seed "$SEED" --count "$SKIP_COUNT" --protocol "$protocol" "$dir/skip" \
    || die "thrift-corpus skip failed"
  check "skip $protocol" "$dir/skip.log" "$PY" "$DIFF_PY" skip "$dir/skip"
done

echo "differential: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
