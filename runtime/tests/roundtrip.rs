//! Property tests: what a writer writes, its reader reads back, for any
//! values; and any bytes at all are an error or a value, never a panic.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use thriftgen_runtime::protocol::{
    ApplicationErrorKind, ApplicationException, BinaryReader, BinaryWriter, CompactReader,
    CompactWriter, InputProtocol, JsonReader, JsonWriter, OutputProtocol, Result,
};
use thriftgen_runtime::TType;

/// One field value of a struct under test.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    Double(f64),
    String(String),
    Binary(Vec<u8>),
    Uuid([u8; 16]),
    I64s(Vec<i64>),
    Bools(Vec<bool>),
    Map(Vec<(String, i32)>),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i8>().prop_map(Value::I8),
        any::<i16>().prop_map(Value::I16),
        any::<i32>().prop_map(Value::I32),
        any::<i64>().prop_map(Value::I64),
        any::<f64>()
            .prop_filter("NaN != NaN", |d| !d.is_nan())
            .prop_map(Value::Double),
        ".{0,40}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Binary),
        any::<[u8; 16]>().prop_map(Value::Uuid),
        prop::collection::vec(any::<i64>(), 0..40).prop_map(Value::I64s),
        prop::collection::vec(any::<bool>(), 0..20).prop_map(Value::Bools),
        prop::collection::vec((".{0,8}", any::<i32>()), 0..20).prop_map(Value::Map),
    ]
}

fn ttype(v: &Value) -> TType {
    match v {
        Value::Bool(_) => TType::Bool,
        Value::I8(_) => TType::I8,
        Value::I16(_) => TType::I16,
        Value::I32(_) => TType::I32,
        Value::I64(_) => TType::I64,
        Value::Double(_) => TType::Double,
        Value::String(_) | Value::Binary(_) => TType::String,
        Value::Uuid(_) => TType::Uuid,
        Value::I64s(_) | Value::Bools(_) => TType::List,
        Value::Map(_) => TType::Map,
    }
}

fn write_value<O: OutputProtocol>(o: &mut O, v: &Value) -> Result<()> {
    match v {
        Value::Bool(b) => o.write_bool(*b),
        Value::I8(n) => o.write_i8(*n),
        Value::I16(n) => o.write_i16(*n),
        Value::I32(n) => o.write_i32(*n),
        Value::I64(n) => o.write_i64(*n),
        Value::Double(d) => o.write_double(*d),
        Value::String(s) => o.write_string(s),
        Value::Binary(b) => o.write_binary(b),
        Value::Uuid(u) => o.write_uuid(u),
        Value::I64s(items) => {
            o.write_list_begin(TType::I64, items.len())?;
            items.iter().try_for_each(|n| o.write_i64(*n))?;
            o.write_list_end()
        }
        Value::Bools(items) => {
            o.write_list_begin(TType::Bool, items.len())?;
            items.iter().try_for_each(|b| o.write_bool(*b))?;
            o.write_list_end()
        }
        Value::Map(entries) => {
            o.write_map_begin(TType::String, TType::I32, entries.len())?;
            for (k, v) in entries {
                o.write_string(k)?;
                o.write_i32(*v)?;
            }
            o.write_map_end()
        }
    }
}

fn read_value<I: InputProtocol>(i: &mut I, like: &Value) -> Result<Value> {
    Ok(match like {
        Value::Bool(_) => Value::Bool(i.read_bool()?),
        Value::I8(_) => Value::I8(i.read_i8()?),
        Value::I16(_) => Value::I16(i.read_i16()?),
        Value::I32(_) => Value::I32(i.read_i32()?),
        Value::I64(_) => Value::I64(i.read_i64()?),
        Value::Double(_) => Value::Double(i.read_double()?),
        Value::String(_) => Value::String(i.read_string()?),
        Value::Binary(_) => Value::Binary(i.read_binary()?.to_vec()),
        Value::Uuid(_) => Value::Uuid(i.read_uuid()?),
        Value::I64s(_) => {
            let header = i.read_list_begin()?;
            let mut items = Vec::with_capacity(i.capacity::<i64>(header.len));
            for _ in 0..header.len {
                items.push(i.read_i64()?);
            }
            i.read_list_end()?;
            Value::I64s(items)
        }
        Value::Bools(_) => {
            let header = i.read_list_begin()?;
            let items = (0..header.len)
                .map(|_| i.read_bool())
                .collect::<Result<_>>()?;
            i.read_list_end()?;
            Value::Bools(items)
        }
        Value::Map(_) => {
            let header = i.read_map_begin()?;
            let mut entries = Vec::new();
            for _ in 0..header.len {
                entries.push((i.read_string()?, i.read_i32()?));
            }
            i.read_map_end()?;
            Value::Map(entries)
        }
    })
}

/// Writes the values as fields of a struct with the given ids.
fn write_struct<O: OutputProtocol>(o: &mut O, fields: &[(i16, Value)]) -> Result<()> {
    o.write_struct_begin("Any")?;
    for (id, v) in fields {
        o.write_field_begin(ttype(v), *id)?;
        write_value(o, v)?;
        o.write_field_end()?;
    }
    o.write_field_stop()?;
    o.write_struct_end()
}

fn read_struct<I: InputProtocol>(i: &mut I, like: &[(i16, Value)]) -> Result<Vec<(i16, Value)>> {
    i.read_struct_begin()?;
    let mut out = Vec::new();
    for (_, v) in like {
        let header = i.read_field_begin()?;
        assert_eq!(header.ttype, ttype(v));
        out.push((header.id, read_value(i, v)?));
        i.read_field_end()?;
    }
    assert_eq!(i.read_field_begin()?.ttype, TType::Stop);
    i.read_struct_end()?;
    Ok(out)
}

fn fields() -> impl Strategy<Value = Vec<(i16, Value)>> {
    prop::collection::vec((any::<i16>(), value()), 0..12)
}

proptest! {
    #[test]
    fn binary_round_trips(fields in fields()) {
        let mut out = BytesMut::new();
        write_struct(&mut BinaryWriter::new(&mut out), &fields).unwrap();
        let mut reader = BinaryReader::new(out.freeze());
        prop_assert_eq!(read_struct(&mut reader, &fields).unwrap(), fields);
        prop_assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn compact_round_trips(fields in fields()) {
        let mut out = BytesMut::new();
        write_struct(&mut CompactWriter::new(&mut out), &fields).unwrap();
        let mut reader = CompactReader::new(out.freeze());
        prop_assert_eq!(read_struct(&mut reader, &fields).unwrap(), fields);
        prop_assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn json_round_trips(fields in fields()) {
        let mut out = BytesMut::new();
        write_struct(&mut JsonWriter::new(&mut out), &fields).unwrap();
        let mut reader = JsonReader::new(out.freeze());
        prop_assert_eq!(read_struct(&mut reader, &fields).unwrap(), fields);
        prop_assert_eq!(reader.remaining(), 0);
    }

    #[test]
    fn json_skip_consumes_exactly_one_struct(fields in fields()) {
        let mut out = BytesMut::new();
        write_struct(&mut JsonWriter::new(&mut out), &fields).unwrap();
        out.extend_from_slice(b"tail");
        let mut reader = JsonReader::new(out.freeze());
        reader.skip(TType::Struct).unwrap();
        prop_assert_eq!(reader.remaining(), 4);
    }

    #[test]
    fn json_converts_to_compact(fields in fields()) {
        // Strings read as text (`text_strings`); a `binary` would come
        // through as its base64: left out.
        let fields: Vec<_> = fields
            .into_iter()
            .filter(|(_, v)| !matches!(v, Value::Binary(_)))
            .collect();
        let mut json = BytesMut::new();
        write_struct(&mut JsonWriter::new(&mut json), &fields).unwrap();
        let mut compact = BytesMut::new();
        thriftgen_runtime::protocol::copy(
            &mut JsonReader::new(json.freeze()).text_strings(),
            &mut CompactWriter::new(&mut compact),
            TType::Struct,
        )
        .unwrap();
        let mut reader = CompactReader::new(compact.freeze());
        prop_assert_eq!(read_struct(&mut reader, &fields).unwrap(), fields);
    }

    #[test]
    fn random_json_never_panics(bytes in prop::collection::vec(
        prop::sample::select(&b"[]{}\",:\\0123456789-+.eEtfrucbdniau ABlsmp"[..]), 0..200)
    ) {
        let bytes = Bytes::from(bytes);
        let _ = JsonReader::new(bytes.clone()).read_message_begin();
        let _ = JsonReader::new(bytes.clone()).skip(TType::Struct);
        let _ = ApplicationException::read(&mut JsonReader::new(bytes));
    }

    #[test]
    fn skip_consumes_exactly_one_struct(fields in fields()) {
        for compact in [false, true] {
            let mut out = BytesMut::new();
            if compact {
                write_struct(&mut CompactWriter::new(&mut out), &fields).unwrap();
            } else {
                write_struct(&mut BinaryWriter::new(&mut out), &fields).unwrap();
            }
            out.extend_from_slice(b"tail");
            let bytes = out.freeze();
            let left = if compact {
                let mut r = CompactReader::new(bytes);
                r.skip(TType::Struct).unwrap();
                r.remaining()
            } else {
                let mut r = BinaryReader::new(bytes);
                r.skip(TType::Struct).unwrap();
                r.remaining()
            };
            prop_assert_eq!(left, 4);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let bytes = Bytes::from(bytes);
        let _ = BinaryReader::new(bytes.clone()).read_message_begin();
        let _ = BinaryReader::new(bytes.clone()).skip(TType::Struct);
        let _ = CompactReader::new(bytes.clone()).read_message_begin();
        let _ = CompactReader::new(bytes.clone()).skip(TType::Struct);
        let _ = ApplicationException::read(&mut CompactReader::new(bytes.clone()));
        let _ = JsonReader::new(bytes.clone()).read_message_begin();
        let _ = JsonReader::new(bytes).skip(TType::Struct);
    }
}

#[test]
fn application_exception_round_trips_with_unknown_kinds() {
    for kind in [
        ApplicationErrorKind::UNKNOWN_METHOD,
        ApplicationErrorKind(99),
    ] {
        let exc = ApplicationException::new(kind, "no method `frobnicate`");
        let mut out = BytesMut::new();
        exc.write(&mut BinaryWriter::new(&mut out)).unwrap();
        assert_eq!(
            ApplicationException::read(&mut BinaryReader::new(out.freeze())).unwrap(),
            exc
        );
        let mut out = BytesMut::new();
        exc.write(&mut CompactWriter::new(&mut out)).unwrap();
        assert_eq!(
            ApplicationException::read(&mut CompactReader::new(out.freeze())).unwrap(),
            exc
        );
    }
    assert_eq!(
        ApplicationException::new(ApplicationErrorKind::UNKNOWN_METHOD, "x").to_string(),
        "UNKNOWN_METHOD: x"
    );
    assert_eq!(
        ApplicationException::new(ApplicationErrorKind(99), "x").to_string(),
        "application error 99: x"
    );
}

#[test]
fn writers_refuse_nesting_beyond_the_depth_limit() {
    let mut out = BytesMut::new();
    let mut writer = BinaryWriter::new(&mut out);
    let deepest = (0..100).find_map(|_| writer.write_struct_begin("Deep").err());
    assert!(deepest.is_some_and(|e| e.message() == "nested deeper than 64 levels"));
}
