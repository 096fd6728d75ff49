//! `cargo bench --bench codec`: the codec benchmark's `Order` (see
//! `idl/bench/codec.thrift` and `src/fixture.rs`) encoded into a reused
//! buffer and decoded from `Bytes` (dropping the value included), in the
//! binary and compact protocols. Run the peers' `codec_volo` and
//! `codec_apache` benches (../shared/bench) in the same sitting to compare.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use thriftgen_runtime::bytes::BytesMut;
use thriftgen_runtime::protocol::{BinaryReader, BinaryWriter, CompactReader, CompactWriter};
use thriftgen_runtime::Struct;
use thriftgen_tests::gen::codec::Order;

fn codec(c: &mut Criterion) {
    let order = thriftgen_tests::fixture::order();
    let mut buf = BytesMut::with_capacity(4096);

    order.write(&mut BinaryWriter::new(&mut buf)).unwrap();
    let binary = buf.split().freeze();
    let mut group = c.benchmark_group("ours_binary");
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
        b.iter(|| Order::read(&mut BinaryReader::new(black_box(binary.clone()))).unwrap())
    });
    group.finish();

    buf.clear();
    order.write(&mut CompactWriter::new(&mut buf)).unwrap();
    let compact = buf.split().freeze();
    assert_eq!((binary.len(), compact.len()), (1117, 815));
    let mut group = c.benchmark_group("ours_compact");
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
        b.iter(|| Order::read(&mut CompactReader::new(black_box(compact.clone()))).unwrap())
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
