//! Dynamic values against generated code on the same message: decoding and
//! encoding ThriftTest's `Insanity` (a map of enums, a list of structs) in
//! the binary and compact protocols, and the JSON conversions `thriftgen
//! call` does. A dynamic value is a tree of enums, so it is expected to be
//! several times slower than generated code; this says by how much.
//!
//! `cargo bench -p thriftgen-dynamic --bench dynamic`

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::HashMap;
use std::path::Path;
use thriftgen_dynamic::Schema;
use thriftgen_interop::thrift_test::{Insanity, Numberz, Xtruct};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, Limits,
};
use thriftgen_runtime::{ProtocolId, Struct};

fn value() -> Insanity {
    let xtructs = (0..16)
        .map(|i| Xtruct {
            string_thing: Some(format!("string number {i}")),
            byte_thing: Some(i as i8),
            i32_thing: Some(i * 1000),
            i64_thing: Some(i64::from(i) << 33),
        })
        .collect();
    Insanity {
        user_map: Some(HashMap::from([
            (Numberz::ONE, 1),
            (Numberz::TWO, 2),
            (Numberz::FIVE, 5),
            (Numberz::EIGHT, 8),
        ])),
        xtructs: Some(xtructs),
    }
}

fn bench(c: &mut Criterion) {
    let idl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl/ThriftTest.thrift");
    let schema = Schema::load(&[idl], &[] as &[&Path]).expect("ThriftTest.thrift checks");
    let ty = schema.type_named("Insanity").expect("Insanity");
    let typed = value();

    for (name, protocol) in [
        ("binary", ProtocolId::Binary),
        ("compact", ProtocolId::Compact),
    ] {
        let mut out = BytesMut::new();
        match protocol {
            ProtocolId::Binary => typed.write(&mut BinaryWriter::new(&mut out)),
            _ => typed.write(&mut CompactWriter::new(&mut out)),
        }
        .expect("writes");
        let bytes: Bytes = out.freeze();
        let dynamic = schema
            .decode(protocol, &ty, bytes.clone(), Limits::DEFAULT)
            .expect("decodes");

        let mut group = c.benchmark_group(format!("insanity/{name}"));
        group.bench_function("decode/generated", |b| {
            b.iter(|| match protocol {
                ProtocolId::Binary => {
                    Insanity::read(&mut BinaryReader::new(black_box(bytes.clone())))
                }
                _ => Insanity::read(&mut CompactReader::new(black_box(bytes.clone()))),
            })
        });
        group.bench_function("decode/dynamic", |b| {
            b.iter(|| match protocol {
                ProtocolId::Binary => {
                    schema.read(&ty, &mut BinaryReader::new(black_box(bytes.clone())))
                }
                _ => schema.read(&ty, &mut CompactReader::new(black_box(bytes.clone()))),
            })
        });
        let mut buf = BytesMut::with_capacity(4096);
        group.bench_function("encode/generated", |b| {
            b.iter(|| {
                buf.clear();
                match protocol {
                    ProtocolId::Binary => black_box(&typed).write(&mut BinaryWriter::new(&mut buf)),
                    _ => black_box(&typed).write(&mut CompactWriter::new(&mut buf)),
                }
            })
        });
        group.bench_function("encode/dynamic", |b| {
            b.iter(|| {
                buf.clear();
                match protocol {
                    ProtocolId::Binary => {
                        schema.write(&ty, black_box(&dynamic), &mut BinaryWriter::new(&mut buf))
                    }
                    _ => schema.write(&ty, black_box(&dynamic), &mut CompactWriter::new(&mut buf)),
                }
            })
        });
        group.finish();
    }

    let dynamic = schema
        .decode(
            ProtocolId::Binary,
            &ty,
            {
                let mut out = BytesMut::new();
                typed
                    .write(&mut BinaryWriter::new(&mut out))
                    .expect("writes");
                out.freeze()
            },
            Limits::DEFAULT,
        )
        .expect("decodes");
    let json = schema.to_json(&ty, &dynamic).expect("to JSON");
    let mut group = c.benchmark_group("insanity/json");
    group.bench_function("to_json", |b| {
        b.iter(|| schema.to_json(&ty, black_box(&dynamic)))
    });
    group.bench_function("from_json", |b| {
        b.iter(|| schema.from_json(&ty, black_box(&json)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
