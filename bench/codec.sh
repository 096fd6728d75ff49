#!/usr/bin/env bash
# The codec benchmark in one sitting: ours (`cargo bench --bench codec`, every
# configuration), then the peers' (pilota through `codec_volo`, Apache's
# crate through `codec_apache`), then a table of medians and ratios from
# criterion's estimates. Run it on a quiet machine (nothing compiling); it
# builds everything first. About 6 minutes.
#
#   bash bench/codec.sh
#   BENCH_PEERS_DIR=/tmp/bench bash bench/codec.sh   # a built copy of ../shared/bench
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${BENCH_PEERS_DIR:-target/bench-peers}
if [ ! -d "$peers/peer-volo" ]; then
  mkdir -p "$peers"
  cp -r ../shared/bench/. "$peers/"
fi
# Build first, so that no compilation runs beside a measurement.
cargo bench -q -p thriftgen-tests --bench codec --no-run
(cd "$peers" && cargo bench -q -p peer-volo --bench codec_volo --no-run \
  && cargo bench -q -p peer-apache --bench codec_apache --no-run)
uptime
cargo bench -q -p thriftgen-tests --bench codec -- --noplot > /dev/null
(cd "$peers" && cargo bench -q -p peer-volo --bench codec_volo -- --noplot > /dev/null \
  && cargo bench -q -p peer-apache --bench codec_apache -- --noplot > /dev/null)
uptime
python3 - "$PWD/target/criterion" "$peers/target/criterion" <<'EOF'
import json, os, sys

def median(root, group, function):
    for base in root:
        path = os.path.join(base, group, function, "new", "estimates.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)["median"]["point_estimate"]
    return None

ours, peers = [sys.argv[1]], sys.argv[2:]
def fmt(ns):
    return "—" if ns is None else (f"{ns:,.0f} ns" if ns < 1000 else f"{ns / 1000:.3f} µs")

def find(roots, names, function):
    for name in names:
        value = median(roots, name, function)
        if value is not None:
            return value
    return None

configs = ["", "_zero_copy", "_fast_hash", "_zero_copy_fast_hash"]
print("| | ours | ours zero-copy | ours fast hash | ours zero-copy + fast hash | pilota | Apache | ours / peer | best ours / peer |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for proto in ["binary", "compact"]:
    for function in ["encode", "decode"]:
        row = [median(ours, f"ours_{proto}{c}", function) for c in configs]
        # criterion names a group `a/b`'s folder `a_b`.
        pilota = find(peers, [f"pilota_{proto}"], function) if proto == "binary" else None
        apache = find(peers, [f"apache_{proto}"], function)
        peer, name = (pilota, "pilota") if proto == "binary" else (apache, "Apache")
        ratio = "—" if peer is None or row[0] is None else f"{row[0] / peer:.2f}× {name}"
        best = [v for v in row if v is not None]
        best_ratio = "—" if peer is None or not best else f"{min(best) / peer:.2f}× {name}"
        print(f"| {proto} {function} | " + " | ".join(fmt(v) for v in row)
              + f" | {fmt(pilota)} | {fmt(apache)} | {ratio} | {best_ratio} |")
EOF
