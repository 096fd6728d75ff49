#!/usr/bin/env bash
# Installs what thriftgen-etcd's etcd tests and its codegen check need, if
# missing: `etcd` (Debian's etcd-server) and `protoc` (protobuf-compiler),
# with apt-get, idempotently. Building and the normal tests need neither.
set -euo pipefail

say() { echo "etcd/setup: $*"; }
die() { echo "etcd/setup: error: $*" >&2; exit 1; }

need=()
command -v etcd > /dev/null || need+=(etcd-server)
command -v protoc > /dev/null || need+=(protobuf-compiler)

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo=(sudo -n)
  else
    die "missing ${need[*]}; install them (apt-get install ${need[*]}) or run this script as root"
  fi
  command -v apt-get > /dev/null || die "missing ${need[*]} and no apt-get to install them with"
  say "apt-get update"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
  say "apt-get install ${need[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${need[@]}" > /dev/null \
    || die "apt-get install ${need[*]} failed"
fi
command -v etcd > /dev/null || die "no etcd on PATH after installing etcd-server"
command -v protoc > /dev/null || die "no protoc on PATH after installing protobuf-compiler"
say "$(etcd --version | head -n 1); $(protoc --version)"
