//! Dynamic values against generated code: the same bytes in every protocol,
//! the same errors on bad input, the same limits; and the JSON mapping.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use thriftgen_dynamic::ir::Type;
use thriftgen_dynamic::{Schema, StructValue, Value};
use thriftgen_interop::thrift_test::{
    Bools, CrazyNesting, Insanity, Numberz, SomeUnion, StructA, StructB, Xception, Xtruct, Xtruct2,
    Xtruct3,
};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, JsonReader, JsonWriter, Limits,
    OutputProtocol, ProtocolError, ProtocolErrorKind,
};
use thriftgen_runtime::{ProtocolId, Struct, TType};

const PROTOCOLS: [ProtocolId; 3] = [ProtocolId::Binary, ProtocolId::Compact, ProtocolId::Json];

fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let idl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl/ThriftTest.thrift");
        Schema::load(&[idl], &[] as &[&Path]).expect("ThriftTest.thrift checks")
    })
}

fn ty(name: &str) -> Type {
    schema()
        .type_named(name)
        .unwrap_or_else(|| panic!("no type {name}"))
}

fn generated_encode<T: Struct>(protocol: ProtocolId, value: &T) -> Bytes {
    let mut out = BytesMut::new();
    match protocol {
        ProtocolId::Binary => value.write(&mut BinaryWriter::new(&mut out)),
        ProtocolId::Compact => value.write(&mut CompactWriter::new(&mut out)),
        ProtocolId::Json => value.write(&mut JsonWriter::new(&mut out)),
        ProtocolId::Other(_) => unreachable!("not tested"),
    }
    .expect("generated code writes");
    out.freeze()
}

fn generated_decode<T: Struct>(protocol: ProtocolId, bytes: Bytes) -> Result<T, ProtocolError> {
    match protocol {
        ProtocolId::Binary => T::read(&mut BinaryReader::new(bytes)),
        ProtocolId::Compact => T::read(&mut CompactReader::new(bytes)),
        ProtocolId::Json => T::read(&mut JsonReader::new(bytes)),
        ProtocolId::Other(_) => unreachable!("not tested"),
    }
}

/// Decodes what generated code wrote, checks that writing it again gives
/// the same bytes (when `same_bytes`: no multi-entry hash collections) and
/// that generated code reads back the original; returns the dynamic value
/// of the binary encoding.
fn agrees<T: Struct + PartialEq + std::fmt::Debug>(
    type_name: &str,
    value: &T,
    same_bytes: bool,
) -> Value {
    let ty = ty(type_name);
    let mut first = None;
    for protocol in PROTOCOLS {
        let bytes = generated_encode(protocol, value);
        let dynamic = schema()
            .decode(protocol, &ty, bytes.clone(), Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{type_name} over {protocol:?}: {e}"));
        let again = schema()
            .encode(protocol, &ty, &dynamic)
            .unwrap_or_else(|e| panic!("{type_name} over {protocol:?}: {e}"));
        if same_bytes {
            assert_eq!(again, bytes, "{type_name} over {protocol:?}");
        }
        let back: T = generated_decode(protocol, again).expect("generated code reads it");
        assert_eq!(&back, value, "{type_name} over {protocol:?}");
        first.get_or_insert(dynamic);
    }
    first.expect("three protocols")
}

fn xtruct(s: &str, n: i32) -> Xtruct {
    Xtruct {
        string_thing: Some(s.to_string()),
        byte_thing: Some(n as i8),
        i32_thing: Some(n),
        i64_thing: Some(i64::from(n) << 40),
    }
}

fn insanity(one_entry: bool) -> Insanity {
    let mut user_map = HashMap::from([(Numberz::FIVE, 5)]);
    if !one_entry {
        user_map.insert(Numberz::EIGHT, -8);
        user_map.insert(Numberz(77), 77);
    }
    Insanity {
        user_map: Some(user_map),
        xtructs: Some(vec![xtruct("a", 1), Xtruct::default()]),
    }
}

fn crazy(one_entry: bool) -> CrazyNesting {
    let inner = vec![vec![vec![(insanity(one_entry), "deep".to_string())]]];
    CrazyNesting {
        string_field: Some("crazy".into()),
        set_field: Some(vec![insanity(one_entry)]),
        list_field: vec![vec![(HashSet::from([3]), HashMap::from([(1, inner)]))]],
        binary_field: Some(Bytes::from_static(b"\x00\x01\xfe\xff")),
        uuid_field: Some(*b"0123456789abcdef"),
    }
}

#[test]
fn dynamic_and_generated_code_write_the_same_bytes() {
    agrees("Xtruct", &xtruct("Zero", -3), true);
    agrees("Xtruct", &Xtruct::default(), true);
    agrees(
        "Xtruct2",
        &Xtruct2 {
            byte_thing: Some(1),
            struct_thing: Some(xtruct("inner", 7)),
            i32_thing: Some(-1),
        },
        true,
    );
    agrees(
        "Bools",
        &Bools {
            im_true: Some(true),
            im_false: Some(false),
        },
        true,
    );
    agrees("Insanity", &insanity(true), true);
    agrees("CrazyNesting", &crazy(true), true);
    agrees(
        "StructB",
        &StructB {
            aa: None,
            ab: StructA { s: "ab".into() },
        },
        true,
    );
    agrees(
        "Xception",
        &Xception {
            error_code: Some(1001),
            message: Some("boom".into()),
        },
        true,
    );
    for union in [
        SomeUnion::StringThing("s".into()),
        SomeUnion::I32Thing(-9),
        SomeUnion::MapThing(HashMap::from([(Numberz::ONE, 1)])),
        SomeUnion::XtructThing(Xtruct3 {
            string_thing: Some("x3".into()),
            changed: Some(2),
            i32_thing: None,
            i64_thing: Some(4),
        }),
    ] {
        agrees("SomeUnion", &union, true);
    }
}

#[test]
fn hash_collections_read_back_whatever_their_order() {
    agrees("Insanity", &insanity(false), false);
    agrees("CrazyNesting", &crazy(false), false);
}

#[test]
fn a_dynamic_value_is_what_the_wire_holds() {
    let value = agrees(
        "Xtruct2",
        &Xtruct2 {
            byte_thing: None,
            struct_thing: Some(xtruct("s", 2)),
            i32_thing: Some(5),
        },
        true,
    );
    let expected = Value::Struct(StructValue::from_iter([
        (
            2,
            Value::Struct(StructValue::from_iter([
                (1, Value::String("s".into())),
                (4, Value::I8(2)),
                (9, Value::I32(2)),
                (11, Value::I64(2 << 40)),
            ])),
        ),
        (3, Value::I32(5)),
    ]));
    assert_eq!(value, expected);
}

/// Every proper prefix of a message fails in dynamic code with the error
/// generated code gives (same kind, same message, same field path).
#[test]
fn truncated_input_fails_as_in_generated_code() {
    let value = crazy(true);
    let ty = ty("CrazyNesting");
    for protocol in PROTOCOLS {
        let bytes = generated_encode(protocol, &value);
        for len in 0..bytes.len() {
            let cut = bytes.slice(..len);
            let generated = generated_decode::<CrazyNesting>(protocol, cut.clone())
                .expect_err("a prefix is not a value");
            let dynamic = dynamic_read(protocol, &ty, cut).expect_err("a prefix is not a value");
            assert_eq!(
                (dynamic.kind(), dynamic.to_string()),
                (generated.kind(), generated.to_string()),
                "{protocol:?}, {len} of {} bytes",
                bytes.len()
            );
        }
    }
}

/// Reads one value as generated code is given one (bytes left over are
/// not checked).
fn dynamic_read(protocol: ProtocolId, ty: &Type, bytes: Bytes) -> Result<Value, ProtocolError> {
    match protocol {
        ProtocolId::Binary => schema().read(ty, &mut BinaryReader::new(bytes)),
        ProtocolId::Compact => schema().read(ty, &mut CompactReader::new(bytes)),
        _ => schema().read(ty, &mut JsonReader::new(bytes)),
    }
}

#[test]
fn a_missing_required_field_fails_as_in_generated_code() {
    let ty = ty("StructB");
    // StructB with only its optional field: `ab` (required) is missing.
    let only_aa = StructValue::from_iter([(
        1,
        Value::Struct(StructValue::from_iter([(1, Value::String("aa".into()))])),
    )]);
    let mut bytes = BytesMut::new();
    {
        let mut w = BinaryWriter::new(&mut bytes);
        w.write_struct_begin("StructB").unwrap();
        w.write_field_begin(TType::Struct, 1).unwrap();
        w.write_struct_begin("StructA").unwrap();
        w.write_field_begin(TType::String, 1).unwrap();
        w.write_string("aa").unwrap();
        w.write_field_stop().unwrap();
        w.write_struct_end().unwrap();
        w.write_field_stop().unwrap();
        w.write_struct_end().unwrap();
    }
    let bytes = bytes.freeze();
    let generated = generated_decode::<StructB>(ProtocolId::Binary, bytes.clone()).unwrap_err();
    let dynamic = schema()
        .decode(ProtocolId::Binary, &ty, bytes, Limits::DEFAULT)
        .unwrap_err();
    assert_eq!(dynamic.kind(), ProtocolErrorKind::MissingRequiredField);
    assert_eq!(dynamic.to_string(), generated.to_string());
    // Writing one is refused too, naming the field.
    let err = schema()
        .encode(ProtocolId::Binary, &ty, &Value::Struct(only_aa))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "required field `StructB.ab` (#2) is missing"
    );
}

#[test]
fn hostile_nesting_hits_the_depth_limit() {
    let checked = thriftgen::analyze_source(
        "tree.thrift",
        "struct Node { 1: list<Node> kids }",
        &[] as &[&str],
    )
    .into_result()
    .expect("checks");
    let schema = Schema::new(checked);
    let node = schema.type_named("Node").expect("Node");
    // 200 levels, written with a writer whose limit allows them.
    let deep = Limits {
        max_depth: 1000,
        ..Limits::DEFAULT
    };
    for protocol in PROTOCOLS {
        let mut out = BytesMut::new();
        match protocol {
            ProtocolId::Binary => nest(&mut BinaryWriter::with_limits(&mut out, deep), 200),
            ProtocolId::Compact => nest(&mut CompactWriter::with_limits(&mut out, deep), 200),
            _ => nest(&mut JsonWriter::with_limits(&mut out, deep), 200),
        }
        let err = schema
            .decode(protocol, &node, out.freeze(), Limits::DEFAULT)
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ProtocolErrorKind::DepthLimit,
            "{protocol:?}: {err}"
        );
    }
}

fn nest<O: OutputProtocol>(out: &mut O, levels: usize) {
    out.write_struct_begin("Node").unwrap();
    if levels > 0 {
        out.write_field_begin(TType::List, 1).unwrap();
        out.write_list_begin(TType::Struct, 1).unwrap();
        nest(out, levels - 1);
        out.write_list_end().unwrap();
        out.write_field_end().unwrap();
    }
    out.write_field_stop().unwrap();
    out.write_struct_end().unwrap();
}

#[test]
fn unions_need_exactly_one_field() {
    let ty = ty("SomeUnion");
    for (value, message) in [
        (StructValue::new(), "union `SomeUnion` has no field set"),
        (
            StructValue::from_iter([(2, Value::String("a".into())), (3, Value::I32(1))]),
            "union `SomeUnion` has more than one field set",
        ),
    ] {
        let err = schema()
            .encode(ProtocolId::Binary, &ty, &Value::Struct(value))
            .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn values_of_the_wrong_type_are_refused() {
    let ty = ty("Xtruct");
    let value = Value::Struct(StructValue::from_iter([(1, Value::I32(1))]));
    let err = schema()
        .encode(ProtocolId::Binary, &ty, &value)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Xtruct.string_thing (#1): a value of type `string` cannot be written from a i32 value"
    );
    let value = Value::Struct(StructValue::from_iter([(99, Value::I32(1))]));
    let err = schema()
        .encode(ProtocolId::Binary, &ty, &value)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`Xtruct` has no field #99 (it has: string_thing, byte_thing, i32_thing, i64_thing)"
    );
}

#[test]
fn json_mapping_of_every_type() {
    let value = agrees("CrazyNesting", &crazy(true), true);
    let json = schema().to_json(&ty("CrazyNesting"), &value).unwrap();
    let insanity = json!({
        "userMap": [["FIVE", 5]],
        "xtructs": [
            {"string_thing": "a", "byte_thing": 1, "i32_thing": 1, "i64_thing": 1i64 << 40},
            {}
        ]
    });
    assert_eq!(
        json,
        json!({
            "string_field": "crazy",
            "set_field": [insanity],
            "list_field": [[[[3], [[1, [[[[insanity, "deep"]]]]]]]]],
            "binary_field": "AAH+/w==",
            "uuid_field": "30313233-3435-3637-3839-616263646566"
        })
    );
    // Field order is the IDL's.
    let text = json.to_string();
    assert!(
        text.starts_with(r#"{"string_field":"crazy","set_field":"#),
        "{text}"
    );
    // And back.
    assert_eq!(
        schema().from_json(&ty("CrazyNesting"), &json).unwrap(),
        value
    );
}

#[test]
fn json_scalars() {
    let cases: [(&str, Value, serde_json::Value); 6] = [
        ("double", Value::Double(f64::INFINITY), json!("Infinity")),
        ("double", Value::Double(-0.5), json!(-0.5)),
        ("i64", Value::I64(i64::MIN), json!(i64::MIN)),
        ("Numberz", Value::Enum(2), json!("TWO")),
        ("Numberz", Value::Enum(4), json!(4)),
        (
            "binary",
            Value::Binary(Bytes::from_static(b"ab")),
            json!("YWI="),
        ),
    ];
    for (name, value, expected) in cases {
        let ty = match name {
            "double" => Type::Double,
            "i64" => Type::I64,
            "binary" => Type::Binary,
            other => ty(other),
        };
        assert_eq!(schema().to_json(&ty, &value).unwrap(), expected, "{name}");
        assert_eq!(schema().from_json(&ty, &expected).unwrap(), value, "{name}");
    }
    // Doubles are read exactly (the value Rust's own parser gives), and
    // written as the shortest text that reads back the same.
    for text in [
        "-5.25e-300",
        "0.1",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
    ] {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let exact: f64 = text.parse().unwrap();
        let value = schema().from_json(&Type::Double, &json).unwrap();
        assert_eq!(value, Value::Double(exact), "{text}");
        let back = schema().to_json(&Type::Double, &value).unwrap().to_string();
        assert_eq!(
            back.parse::<f64>().unwrap().to_bits(),
            exact.to_bits(),
            "{text}"
        );
    }
    let nan = schema().from_json(&Type::Double, &json!("NaN")).unwrap();
    assert!(matches!(nan, Value::Double(d) if d.is_nan()));
    // Other accepted spellings.
    for (ty, given, value) in [
        (ty("Numberz"), json!("Numberz.EIGHT"), Value::Enum(8)),
        (ty("Numberz"), json!(8), Value::Enum(8)),
        (
            Type::Binary,
            json!("YWI"),
            Value::Binary(Bytes::from_static(b"ab")),
        ),
        (Type::I32, json!("-7"), Value::I32(-7)),
        (
            Type::Uuid,
            json!("000102030405060708090A0B0C0D0E0F"),
            Value::Uuid([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
        ),
    ] {
        assert_eq!(schema().from_json(&ty, &given).unwrap(), value, "{given}");
    }
}

#[test]
fn json_maps_with_other_keys_are_pairs_or_objects_of_key_text() {
    let map = Type::Map(Box::new(ty("Numberz")), Box::new(Type::I64));
    let value = Value::Map(vec![(Value::Enum(1), Value::I64(10))]);
    assert_eq!(
        schema().to_json(&map, &value).unwrap(),
        json!([["ONE", 10]])
    );
    for given in [json!([["ONE", 10]]), json!({"ONE": 10}), json!({"1": 10})] {
        assert_eq!(schema().from_json(&map, &given).unwrap(), value, "{given}");
    }
    let strings = Type::Map(Box::new(Type::String), Box::new(Type::Bool));
    let value = Value::Map(vec![(Value::String("k".into()), Value::Bool(true))]);
    assert_eq!(
        schema().to_json(&strings, &value).unwrap(),
        json!({"k": true})
    );
}

#[test]
fn json_defaults_fill_fields_left_out() {
    let value = schema().from_json(&ty("BoolTest"), &json!({})).unwrap();
    assert_eq!(
        value,
        Value::Struct(StructValue::from_iter([
            (1, Value::Bool(true)),
            (2, Value::String("true".into())),
        ]))
    );
    let value = schema()
        .from_json(
            &ty("OptionalSetDefaultTest"),
            &json!({"with_default": null}),
        )
        .unwrap();
    assert_eq!(
        value,
        Value::Struct(StructValue::from_iter([(
            1,
            Value::Set(vec![Value::String("test".into())])
        )]))
    );
}

#[test]
fn json_errors_name_the_path() {
    let cases = [
        (
            "Insanity",
            json!({"xtructs": [{}, {"i32_thing": "x"}]}),
            "at `xtructs[1].i32_thing`: expected an i32, found a string `\"x\"`",
        ),
        (
            "Insanity",
            json!({"userMap": [["NINE", 1]]}),
            "at `userMap[0]`: `NINE` is not a value of enum `Numberz` (values: ONE, TWO, THREE, FIVE, SIX, EIGHT)",
        ),
        (
            "Insanity",
            json!({"userMap": [[1]]}),
            "at `userMap[0]`: expected a [key, value] pair, found an array `[1]`",
        ),
        (
            "Xtruct",
            json!({"string": "x"}),
            "`Xtruct` has no field `string` (it has: string_thing, byte_thing, i32_thing, i64_thing)",
        ),
        (
            "Xtruct",
            json!({"byte_thing": 300}),
            "at `byte_thing`: 300 is out of range for an i8",
        ),
        (
            "StructB",
            json!({"aa": {"s": "x"}}),
            "required field `ab` (#2, StructA) of `StructB` is missing",
        ),
        (
            "SomeUnion",
            json!({"string_thing": "a", "i32_thing": 1}),
            "union `SomeUnion` has more than one field set",
        ),
        (
            "SomeUnion",
            json!({}),
            "union `SomeUnion` needs exactly one field set (it has: map_thing, string_thing, i32_thing, xtruct_thing, insanity_thing)",
        ),
        (
            "CrazyNesting",
            json!({"list_field": [], "binary_field": "!!"}),
            "at `binary_field`: invalid base64: Invalid symbol 33, offset 0.",
        ),
        (
            "CrazyNesting",
            json!({"list_field": [], "uuid_field": "nope"}),
            "at `uuid_field`: `nope` is not a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
        ),
    ];
    for (name, json, message) in cases {
        let err = schema().from_json(&ty(name), &json).unwrap_err();
        assert_eq!(err.to_string(), message, "{json}");
    }
}

#[test]
fn method_arguments_and_results() {
    let method = schema().method("ThriftTest.testMultiException").unwrap();
    assert_eq!(
        method.signature(),
        "Xtruct testMultiException(1: string arg0, 2: string arg1) throws (1: Xception err1, 2: Xception2 err2)"
    );
    let args = method
        .args_from_json(&json!({"arg0": "a", "arg1": "b"}))
        .unwrap();
    assert_eq!(
        method.args_to_json(&args).unwrap(),
        json!({"arg0": "a", "arg1": "b"})
    );
    // A result as a generated server writes it: exception 2 set.
    for outcome in [
        thriftgen_dynamic::Outcome::Returned(Some(Value::Struct(StructValue::new()))),
        thriftgen_dynamic::Outcome::Exception(thriftgen_dynamic::Thrown {
            id: 2,
            field: "err2".into(),
            type_name: "Xception2".into(),
            value: Value::Struct(StructValue::from_iter([(1, Value::I32(2002))])),
        }),
    ] {
        let mut out = BytesMut::new();
        method
            .write_result(&outcome, &mut CompactWriter::new(&mut out))
            .unwrap();
        let read = method
            .read_result(&mut CompactReader::new(out.freeze()))
            .unwrap()
            .unwrap();
        assert_eq!(read, outcome);
    }
    // A result with nothing in it, for a method that returns a value.
    let mut out = BytesMut::new();
    {
        let mut w = BinaryWriter::new(&mut out);
        w.write_struct_begin("").unwrap();
        w.write_field_stop().unwrap();
        w.write_struct_end().unwrap();
    }
    let err = method
        .read_result(&mut BinaryReader::new(out.freeze()))
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "MISSING_RESULT: testMultiException failed: unknown result"
    );
    // Lookups that fail say what there is.
    assert_eq!(
        schema()
            .method("SecondService.nope")
            .unwrap_err()
            .to_string(),
        "service `SecondService` has no method `nope` (methods: secondtestString)"
    );
}

fn arb_xtruct() -> impl Strategy<Value = Xtruct> {
    (
        proptest::option::of(".{0,12}"),
        proptest::option::of(any::<i8>()),
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(|(s, b, i, l)| Xtruct {
            string_thing: s,
            byte_thing: b,
            i32_thing: i,
            i64_thing: l,
        })
}

fn arb_insanity() -> impl Strategy<Value = Insanity> {
    (
        proptest::option::of(proptest::collection::hash_map(
            any::<i32>().prop_map(Numberz),
            any::<i64>(),
            0..4,
        )),
        proptest::option::of(proptest::collection::vec(arb_xtruct(), 0..4)),
    )
        .prop_map(|(user_map, xtructs)| Insanity { user_map, xtructs })
}

proptest! {
    #[test]
    fn random_values_round_trip_through_dynamic_code(value in arb_insanity()) {
        let ty = ty("Insanity");
        for protocol in PROTOCOLS {
            let bytes = generated_encode(protocol, &value);
            let dynamic = schema().decode(protocol, &ty, bytes, Limits::DEFAULT).unwrap();
            // Through JSON too.
            let json = schema().to_json(&ty, &dynamic).unwrap();
            let dynamic = schema().from_json(&ty, &json).unwrap();
            let again = schema().encode(protocol, &ty, &dynamic).unwrap();
            let back: Insanity = generated_decode(protocol, again).unwrap();
            prop_assert_eq!(&back, &value);
        }
    }
}

#[test]
fn a_call_whose_arguments_do_not_fit_sends_nothing() {
    let checked = thriftgen::analyze_source(
        "shop.thrift",
        "service Shop { void put(1: required i64 id) }",
        &[] as &[&str],
    )
    .into_result()
    .expect("checks");
    let schema = Schema::new(checked);
    let method = schema.method("Shop.put").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client =
        thriftgen_runtime::Client::connect(addr, thriftgen_runtime::ClientOptions::default())
            .unwrap();
    // Built by hand, without the required `id`.
    let err = method.call(&mut client, &StructValue::new()).unwrap_err();
    assert!(
        matches!(&err, thriftgen_dynamic::CallError::Encode(e) if e.kind() == ProtocolErrorKind::MissingRequiredField),
        "{err}"
    );
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(&mut conn, &mut byte);
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{read:?}"
    );
}
