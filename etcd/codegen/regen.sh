#!/usr/bin/env bash
# Regenerates etcd/src/generated/*.rs from etcd/proto/*.proto with tonic's
# codegen (needs protoc: Debian's protobuf-compiler).
#
#   bash etcd/codegen/regen.sh          rewrite the committed files
#   bash etcd/codegen/regen.sh --check  regenerate into a temp dir and diff
#                                       against the committed files (CI)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
etcd="$(dirname "$here")"
committed="$etcd/src/generated"
if ! command -v protoc > /dev/null; then
  echo "regen.sh: protoc not found (apt-get install protobuf-compiler)" >&2
  exit 1
fi
export PROTOC="${PROTOC:-$(command -v protoc)}"
# Its own target dir: the generator is not a workspace member.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_CODEGEN:-$etcd/../target/etcd-codegen}"
case "${1:-}" in
  "")
    cargo run -q --locked --manifest-path "$here/Cargo.toml" -- "$etcd/proto" "$committed"
    echo "regen.sh: wrote $committed"
    ;;
  --check)
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    cargo run -q --locked --manifest-path "$here/Cargo.toml" -- "$etcd/proto" "$tmp"
    for f in etcdserverpb.rs mvccpb.rs; do
      if ! diff -u "$committed/$f" "$tmp/$f"; then
        echo "regen.sh: etcd/src/generated/$f is out of date; run bash etcd/codegen/regen.sh" >&2
        exit 1
      fi
    done
    echo "regen.sh: etcd/src/generated is up to date"
    ;;
  *)
    echo "usage: regen.sh [--check]" >&2
    exit 2
    ;;
esac
