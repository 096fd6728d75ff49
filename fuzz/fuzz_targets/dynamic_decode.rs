//! Dynamic reads (`thriftgen-dynamic`, driven by the checked IDL) against
//! generated reads of the same fixture type (`idl/fuzz.thrift`): the first
//! byte picks the protocol (bit 0) and the type (the rest), the other bytes
//! are the encoded value. Both must accept the same inputs and fail with the
//! same error (kind, message and field path). What both accept is written
//! back by both: either both can (a union holding a variant it does not
//! know cannot be written by either), and then generated code reads what
//! dynamic code wrote.
#![no_main]

use std::sync::OnceLock;
use thriftgen_dynamic::ir::Type;
use thriftgen_dynamic::Schema;
use thriftgen_fuzz::{decode, encode, with_fixture_type, Proto, LIMITS};
use thriftgen_runtime::bytes::Bytes;
use thriftgen_runtime::protocol::{BinaryReader, CompactReader};
use thriftgen_runtime::ProtocolId;

/// The plain fixture types, in `with_fixture_type!`'s order.
const NAMES: [&str; 8] = [
    "Key",
    "Nothing",
    "Choice",
    "Tree",
    "Expr",
    "BinOp",
    "Everything",
    "Oops",
];

fn schema() -> &'static (Schema, Vec<Type>) {
    static SCHEMA: OnceLock<(Schema, Vec<Type>)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let checked = thriftgen::analyze_source(
            "fuzz.thrift",
            include_str!("../idl/fuzz.thrift"),
            &[] as &[&str],
        )
        .into_result()
        .expect("the fixture checks");
        let schema = Schema::new(checked);
        let types = NAMES
            .iter()
            .map(|n| schema.type_named(n).expect("a fixture type"))
            .collect();
        (schema, types)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let proto = Proto::from_byte(first);
    let index = usize::from(first >> 1) % NAMES.len();
    let bytes = Bytes::copy_from_slice(rest);
    let (schema, types) = schema();
    let ty = &types[index];
    let dynamic = match proto {
        Proto::Binary => schema.read(ty, &mut BinaryReader::with_limits(bytes.clone(), LIMITS)),
        Proto::Compact => schema.read(ty, &mut CompactReader::with_limits(bytes.clone(), LIMITS)),
    };
    with_fixture_type!(index, T => {
        let generated = decode::<T>(proto, bytes);
        match (&generated, &dynamic) {
            (Ok(typed), Ok(value)) => {
                let id = match proto {
                    Proto::Binary => ProtocolId::Binary,
                    Proto::Compact => ProtocolId::Compact,
                };
                match (encode(proto, typed), schema.encode(id, ty, value)) {
                    (Ok(_), Ok(again)) => {
                        if let Err(e) = decode::<T>(proto, again) {
                            panic!(
                                "{}: generated code cannot read what dynamic code wrote: {e}",
                                NAMES[index]
                            );
                        }
                    }
                    (Err(_), Err(_)) => {}
                    (g, d) => panic!(
                        "{}: writing back: generated {:?}, dynamic {:?}",
                        NAMES[index],
                        g.map(drop),
                        d.map(drop)
                    ),
                }
            }
            (Err(g), Err(d)) => assert_eq!(
                (g.kind(), g.to_string()),
                (d.kind(), d.to_string()),
                "{}: the errors differ",
                NAMES[index]
            ),
            _ => panic!(
                "{}: generated {:?}, dynamic {:?}",
                NAMES[index],
                generated.as_ref().map(drop),
                dynamic.as_ref().map(drop)
            ),
        }
    });
});
