//! `cargo bench --bench codec`: the codec benchmark's `Order` (see
//! `idl/bench/codec.thrift` and `src/fixture.rs`) encoded into a reused
//! buffer and decoded from `Bytes` (dropping the value included), in the
//! binary and compact protocols, with `String`s and with zero-copy strings
//! (`Builder::zero_copy_strings`), with foldhash's hasher for maps and sets
//! (`Builder::hasher`), and with both. The groups `ours_binary` and
//! `ours_compact` are the default configuration. Run the peers' `codec_volo` and
//! `codec_apache` benches (../shared/bench) in the same sitting to compare.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use thriftgen_runtime::bytes::BytesMut;
use thriftgen_runtime::protocol::{BinaryReader, BinaryWriter, CompactReader, CompactWriter};
use thriftgen_runtime::Struct;
use thriftgen_tests::gen::codec::Order;
use thriftgen_tests::gen_fast_hash::codec::Order as FastHashOrder;
use thriftgen_tests::gen_zero_copy::codec::Order as ZeroCopyOrder;
use thriftgen_tests::gen_zero_copy_fast_hash::codec::Order as ZeroCopyFastHashOrder;

/// Encode and decode groups for one generated `Order` type.
macro_rules! bench_order {
    ($c:expr, $order:expr, $ty:ty, $binary:literal, $compact:literal) => {{
        let order = $order;
        let mut buf = BytesMut::with_capacity(4096);
        order.write(&mut BinaryWriter::new(&mut buf)).unwrap();
        let binary = buf.split().freeze();
        buf.clear();
        order.write(&mut CompactWriter::new(&mut buf)).unwrap();
        let compact = buf.split().freeze();
        assert_eq!((binary.len(), compact.len()), (1117, 815));

        let mut group = $c.benchmark_group($binary);
        group.throughput(Throughput::Bytes(binary.len() as u64));
        group.bench_function("encode", |b| {
            b.iter(|| {
                buf.clear();
                black_box(&order)
                    .write(&mut BinaryWriter::new(&mut buf))
                    .unwrap();
                black_box(buf.len())
            })
        });
        group.bench_function("decode", |b| {
            b.iter(|| <$ty>::read(&mut BinaryReader::new(black_box(binary.clone()))).unwrap())
        });
        group.finish();

        let mut group = $c.benchmark_group($compact);
        group.throughput(Throughput::Bytes(compact.len() as u64));
        group.bench_function("encode", |b| {
            b.iter(|| {
                buf.clear();
                black_box(&order)
                    .write(&mut CompactWriter::new(&mut buf))
                    .unwrap();
                black_box(buf.len())
            })
        });
        group.bench_function("decode", |b| {
            b.iter(|| <$ty>::read(&mut CompactReader::new(black_box(compact.clone()))).unwrap())
        });
        group.finish();
    }};
}

fn codec(c: &mut Criterion) {
    bench_order!(
        c,
        thriftgen_tests::fixture::order(),
        Order,
        "ours_binary",
        "ours_compact"
    );
    bench_order!(
        c,
        thriftgen_tests::fixture::zero_copy::order(),
        ZeroCopyOrder,
        "ours_binary_zero_copy",
        "ours_compact_zero_copy"
    );
    bench_order!(
        c,
        thriftgen_tests::fixture::fast_hash::order(),
        FastHashOrder,
        "ours_binary_fast_hash",
        "ours_compact_fast_hash"
    );
    bench_order!(
        c,
        thriftgen_tests::fixture::zero_copy_fast_hash::order(),
        ZeroCopyFastHashOrder,
        "ours_binary_zero_copy_fast_hash",
        "ours_compact_zero_copy_fast_hash"
    );
}

criterion_group!(benches, codec);
criterion_main!(benches);
