#!/usr/bin/env bash
# Fuzz smoke for CI: builds every target, replays each committed corpus,
# then fuzzes each target briefly. Exits non-zero on any crash, leak,
# timeout or out-of-memory.
#
#   bash fuzz/ci.sh              # 15 s per target (10 targets: about 3 min)
#   FUZZ_SECONDS=5 bash fuzz/ci.sh
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs
# cargo-fuzz if it is missing. New inputs found go to a temporary directory,
# never into the committed corpus; a crash is written to fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${FUZZ_SECONDS:-15}
targets=(skip_binary skip_compact skip_json decode_generated dynamic_decode roundtrip framing server_call idl_check idl_structured)
limits=(-rss_limit_mb=512 -malloc_limit_mb=64 -dict=thrift.dict -timeout=10)
# AddressSanitizer's quarantine (256 MiB by default) counts towards the RSS
# limit; the IDL targets allocate enough to fill it and trip 512 MiB with
# nothing live. 64 MiB keeps use-after-free detection and the limit honest.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64}

echo "== cargo-fuzz"
if ! cargo +nightly fuzz --version > /dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo +nightly fuzz --version

echo "== build every target"
cargo +nightly fuzz build

# The target list here must match fuzz/Cargo.toml.
listed=$(cargo +nightly fuzz list | sort | tr '\n' ' ')
expected=$(printf '%s\n' "${targets[@]}" | sort | tr '\n' ' ')
if [ "$listed" != "$expected" ]; then
  echo "fuzz/ci.sh lists [$expected] but fuzz/Cargo.toml has [$listed]"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in "${targets[@]}"; do
  echo "== replay corpus/$t ($(ls "corpus/$t" | wc -l) inputs)"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -runs=0 "${limits[@]}"
done

for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  mkdir -p "$work/$t"
  # The first directory receives new inputs; the committed one only seeds.
  if ! cargo +nightly fuzz run "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" "${limits[@]}" > "$work/$t.log" 2>&1; then
    tail -n 80 "$work/$t.log"
    echo "fuzz: $t failed (the input is in fuzz/artifacts/$t/)"
    exit 1
  fi
  grep -E '^#[0-9]+.*DONE' "$work/$t.log" || tail -n 2 "$work/$t.log"
done

echo "fuzz: ${#targets[@]} targets built, corpora replayed, ${seconds}s each without a crash"
