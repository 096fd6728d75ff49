#!/usr/bin/env bash
# Prepares the Python side of the interop suite; safe to run again.
#
#   1. the Apache compiler `thrift` (Debian: thrift-compiler) and a Python
#      with a working `venv` (Debian: python3-venv), installed with apt-get
#      only when missing;
#   2. a virtualenv with the Apache `thrift` library from PyPI;
#   3. Python code generated from idl/ThriftTest.thrift, minus `uuid`.
#
# Environment:
#   INTEROP_VENV    the virtualenv (default: $REPO/target/interop/venv)
#   PYTHON          the interpreter the venv is made from (default: python3)
#   THRIFT          the Apache compiler (default: thrift)
#   THRIFT_PY_VERSION  the PyPI `thrift` version (default: 0.22.0)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$REPO/target/interop"
VENV=${INTEROP_VENV:-$OUT/venv}
PYTHON=${PYTHON:-python3}
THRIFT=${THRIFT:-thrift}
THRIFT_PY_VERSION=${THRIFT_PY_VERSION:-0.22.0}
IDL="$REPO/idl/ThriftTest.thrift"
GEN="$OUT/gen-py"

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

mkdir -p "$OUT"

# --- 1. system packages ------------------------------------------------------

apt_updated=0
apt_install() {
  if [ "$(id -u)" -eq 0 ]; then
    local sudo=()
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    local sudo=(sudo -n)
  else
    die "missing $*; install them (apt-get install $*) or run this script as root"
  fi
  command -v apt-get > /dev/null || die "missing $* and no apt-get to install them with"
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      || die "apt-get update failed"
    apt_updated=1
  fi
  say "apt-get install $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "$@" > /dev/null \
    || die "apt-get install $* failed"
}

if ! command -v "$THRIFT" > /dev/null; then
  [ "$THRIFT" = thrift ] || die "THRIFT=$THRIFT is not an executable"
  apt_install thrift-compiler
fi
command -v "$THRIFT" > /dev/null || die "no \`$THRIFT\` after installing thrift-compiler"
say "compiler: $("$THRIFT" --version)"

command -v "$PYTHON" > /dev/null || apt_install python3
# Debian's python3 has `venv` but no `ensurepip` until python3-venv is there.
if ! "$PYTHON" -c 'import venv, ensurepip' 2> /dev/null; then
  [ "$PYTHON" = python3 ] || die "$PYTHON has no working venv module"
  apt_install python3-venv
  "$PYTHON" -c 'import venv, ensurepip' 2> /dev/null \
    || die "python3 still has no venv/ensurepip after installing python3-venv"
fi
say "python: $("$PYTHON" --version 2>&1) ($(command -v "$PYTHON"))"

# --- 2. the virtualenv with the Apache library -------------------------------

installed_version() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("thrift"))' 2> /dev/null
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'pass' 2> /dev/null; then
  say "creating venv $VENV"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv $VENV failed"
fi

if [ "$(installed_version || true)" != "$THRIFT_PY_VERSION" ]; then
  say "pip install thrift==$THRIFT_PY_VERSION into $VENV"
  log="$OUT/pip-install.log"
  # The sdist builds a C extension when it can and installs pure Python
  # when no compiler is around, so a build failure here is a real failure.
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check \
      "thrift==$THRIFT_PY_VERSION" > "$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "pip install thrift==$THRIFT_PY_VERSION failed (full log: $log)"
  fi
fi
accel=$("$VENV/bin/python" -c '
try:
    import thrift.protocol.fastbinary  # noqa: F401
    print("with the C extension")
except ImportError:
    print("pure Python")' 2> /dev/null) || die "the venv cannot import thrift"
say "library: thrift $(installed_version) ($accel)"

# --- 3. generated code ---------------------------------------------------------

[ -f "$IDL" ] || die "missing $IDL"
stripped="$OUT/ThriftTest.nouuid.thrift"
# The compiler (0.17) and the Python library know no `uuid`: drop every
# declaration whose type is uuid (the CrazyNesting field, testUuid).
"$PYTHON" - "$IDL" "$stripped" << 'EOF' || die "could not strip uuid from $IDL"
import re, sys
src, dst = sys.argv[1], sys.argv[2]
decl = re.compile(r"^\s*(\d+\s*:\s*)?uuid\s+\w+")
kept, dropped = [], []
for line in open(src, encoding="utf-8"):
    (dropped if decl.match(line) else kept).append(line)
left = [l for l in kept if re.search(r"\buuid\b", l.split("//")[0])
        and not l.lstrip().startswith(("*", "/*"))]
if not dropped or left:
    sys.exit("unexpected uuid declarations: dropped %r, left %r" % (dropped, left))
open(dst, "w", encoding="utf-8").writelines(kept)
for line in dropped:
    print("setup: dropped from the copy: " + line.strip())
EOF

rm -rf "$GEN"
mkdir -p "$GEN"
"$THRIFT" --gen py -out "$GEN" "$stripped" || die "thrift --gen py failed on $stripped"
PYTHONPATH="$GEN" "$VENV/bin/python" -c 'from thrift_test import ThriftTest, SecondService, ttypes' \
  || die "the generated code in $GEN does not import"
say "generated $GEN/thrift_test from $stripped"
say "ready"
