#!/usr/bin/env bash
# Compares the verdicts in verdicts.txt with what Apache Thrift's compiler
# (`thrift` on PATH) says about each file of this directory, and with what
# `thriftgen check --strict` says. A file is accepted by Apache when
# `thrift --gen G` succeeds for every generator G in APACHE_GENERATORS.
#
#   bash idl/portability/check_against_apache.sh [THRIFTGEN]
#
# THRIFTGEN defaults to target/release/thriftgen, then target/debug/thriftgen.
# Without `thrift` on PATH the Apache half is skipped (exit 0), unless
# REQUIRE_APACHE=1. Exit status 1 when any verdict disagrees. Self-contained:
# it only reads this directory and writes under a temporary directory.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
GENERATORS=${APACHE_GENERATORS:-py java go}
THRIFTGEN=${1:-}
if [ -z "$THRIFTGEN" ]; then
  for candidate in "$REPO/target/release/thriftgen" "$REPO/target/debug/thriftgen"; do
    if [ -x "$candidate" ]; then THRIFTGEN=$candidate; break; fi
  done
fi

have_apache=1
if ! command -v thrift > /dev/null 2>&1; then
  have_apache=0
  if [ "${REQUIRE_APACHE:-0}" = 1 ]; then
    echo "portability: \`thrift\` is not on PATH (REQUIRE_APACHE=1)" >&2
    exit 1
  fi
  echo "portability: \`thrift\` is not on PATH; skipping Apache's verdicts"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

apache_verdict() {
  local file=$1 gen
  for gen in $GENERATORS; do
    rm -rf "$work/out" && mkdir -p "$work/out"
    if ! thrift --gen "$gen" -out "$work/out" "$file" > "$work/log" 2>&1; then
      echo reject
      return
    fi
  done
  echo accept
}

thriftgen_verdict() {
  if "$THRIFTGEN" check --strict --format short "$1" > "$work/log" 2>&1; then
    echo accept
  else
    echo reject
  fi
}

agree=0
disagree=0
while read -r name expected; do
  case "$name" in '' | '#'*) continue ;; esac
  file="$HERE/$name"
  line="$name: expected $expected"
  ok=1
  if [ "$have_apache" = 1 ]; then
    apache=$(apache_verdict "$file")
    line="$line, apache $apache"
    [ "$apache" = "$expected" ] || ok=0
  fi
  if [ -n "$THRIFTGEN" ]; then
    ours=$(thriftgen_verdict "$file")
    line="$line, thriftgen --strict $ours"
    [ "$ours" = "$expected" ] || ok=0
  fi
  if [ "$ok" = 1 ]; then
    agree=$((agree + 1))
  else
    disagree=$((disagree + 1))
    echo "DISAGREE $line"
  fi
done < "$HERE/verdicts.txt"

if [ -n "$THRIFTGEN" ]; then ours="thriftgen --strict"; else ours="(no thriftgen binary)"; fi
if [ "$have_apache" = 1 ]; then
  echo "portability: $(thrift --version), $ours: $agree agree, $disagree disagree"
else
  echo "portability: $ours: $agree agree, $disagree disagree"
fi
[ "$disagree" = 0 ]
