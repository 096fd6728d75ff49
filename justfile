# Everyday commands. Each recipe shows the cargo command it runs.

default: check test

# Formatting and lints, as CI runs them.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Every test of the workspace.
test:
    cargo test --workspace

# The front end over generated IDL of 750 to 6,000 lines (criterion).
bench:
    cargo bench -p thriftgen --bench frontend

# Encode and decode the codec benchmark's Order (criterion).
bench-codec:
    cargo bench --bench codec

# The same with pilota's and Apache's codecs in one sitting, and the table.
bench-codec-peers:
    bash bench/codec.sh

# `thriftgen check` on a 3,000-line file, timed with hyperfine.
bench-cli:
    cargo build --release -p thriftgen-cli
    mkdir -p target/bench
    cargo run -q --release -p thriftgen --example large_idl -- 3000 > target/bench/large.thrift
    hyperfine -N --warmup 5 'target/release/thriftgen check target/bench/large.thrift'

# Scaffold a crate with `thriftgen new` from thriftgen/cli/template/, build it with cargo,
# run its server and call it with its example client.
template:
    cargo test -p thriftgen-cli --test new -- --ignored

# The end-to-end demo (the README's main job).
demo:
    cargo run --release -p demo

# Our ThriftTest server and client against Apache Thrift's Python library
# (installs thrift-compiler and a Python venv if missing; see interop/README.md).
interop:
    cargo build --release -p thriftgen-interop -p thriftgen-cli
    bash interop/run.sh

# The echo server against raw-echo and Volo with ../shared/bench's load
# generator (see BENCHMARKS.md).
bench-echo:
    bash bench/echo.sh

# The async client (pooled, multiplexed) against volo-echo-client and tokio
# handlers against workers and Volo's server (see BENCHMARKS.md).
bench-async:
    bash bench/async.sh

# thriftgen-etcd against a real etcd (installs etcd-server and protobuf-compiler if
# missing; the tests start their own etcd), and its generated gRPC code up to date.
etcd:
    bash etcd/setup.sh
    bash etcd/codegen/regen.sh --check
    cargo test -p thriftgen-etcd -- --ignored

# A long moderate load with reconnects and hostile frames on a fresh
# echo-server (MINUTES=10 by default; not part of CI).
soak:
    bash bench/soak.sh

# A fuzz campaign on one target (nightly; see fuzz/README.md): `just fuzz
# roundtrip 3600`. Seeded from fuzz/corpus/TARGET; new inputs go to
# fuzz/grown/TARGET (not committed), crashes to fuzz/artifacts/TARGET.
# `bash fuzz/ci.sh` is the short smoke of every target.
fuzz target seconds="600":
    mkdir -p fuzz/grown/{{target}}
    cd fuzz && ASAN_OPTIONS=quarantine_size_mb=64 cargo +nightly fuzz run {{target}} grown/{{target}} corpus/{{target}} -- -max_total_time={{seconds}} -rss_limit_mb=512 -malloc_limit_mb=64 -dict=thrift.dict

# Review changed snapshots (needs cargo-insta).
snapshots:
    cargo insta review

# Check every IDL in a directory (for example ../shared/idl) and print verdicts.
verdicts dir:
    cargo build --release -p thriftgen-cli
    for f in $(find {{dir}} -name '*.thrift' | sort); do \
      if target/release/thriftgen check --format short "$f" > /tmp/verdict.txt 2>&1; then \
        echo "ok     $f ($(grep -c ': warning:' /tmp/verdict.txt) warnings)"; \
      else echo "ERROR  $f: $(grep -m1 ': error:' /tmp/verdict.txt)"; fi; \
    done
