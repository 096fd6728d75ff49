//! Exact bytes for the binary and compact protocols.
//!
//! The kitchen-sink message is written by our writers and compared with the
//! bytes Apache's Python library wrote for the same calls
//! (`tests/vectors/apache_python.py` made `tests/vectors/sample.*.hex`), then
//! read back with our readers. Smaller vectors are spelled out byte by byte.

use bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, InputProtocol, MessageHeader,
    OutputProtocol, Result,
};
use thriftgen_runtime::{MessageType, TType};

fn field<O: OutputProtocol>(
    o: &mut O,
    ttype: TType,
    id: i16,
    write: impl FnOnce(&mut O) -> Result<()>,
) -> Result<()> {
    o.write_field_begin(ttype, id)?;
    write(o)?;
    o.write_field_end()
}

fn inner<O: OutputProtocol>(o: &mut O, fields: impl FnOnce(&mut O) -> Result<()>) -> Result<()> {
    o.write_struct_begin("Inner")?;
    fields(o)?;
    o.write_field_stop()?;
    o.write_struct_end()
}

/// The same calls as `sample()` in `vectors/apache_python.py`.
fn write_sample<O: OutputProtocol>(o: &mut O) -> Result<()> {
    o.write_message_begin(&MessageHeader {
        name: "getOrder".into(),
        kind: MessageType::Call,
        seqid: 7,
    })?;
    o.write_struct_begin("Sample")?;
    field(o, TType::Bool, 1, |o| o.write_bool(true))?;
    field(o, TType::Bool, 2, |o| o.write_bool(false))?;
    field(o, TType::I8, 3, |o| o.write_i8(-1))?;
    field(o, TType::I16, 4, |o| o.write_i16(-300))?;
    field(o, TType::I32, 5, |o| o.write_i32(100_000))?;
    field(o, TType::I64, 6, |o| o.write_i64(-1))?;
    field(o, TType::I64, 7, |o| o.write_i64(i64::MAX))?;
    field(o, TType::Double, 8, |o| o.write_double(1.5))?;
    field(o, TType::Double, 9, |o| o.write_double(-0.0))?;
    field(o, TType::String, 10, |o| o.write_string("héllo ☃"))?;
    field(o, TType::String, 11, |o| o.write_binary(&[0, 1, 0xff]))?;
    field(o, TType::List, 12, |o| {
        o.write_list_begin(TType::I32, 3)?;
        for v in [1, -2, 3] {
            o.write_i32(v)?;
        }
        o.write_list_end()
    })?;
    field(o, TType::List, 13, |o| {
        o.write_list_begin(TType::Bool, 2)?;
        o.write_bool(true)?;
        o.write_bool(false)?;
        o.write_list_end()
    })?;
    field(o, TType::Set, 14, |o| {
        o.write_set_begin(TType::String, 2)?;
        o.write_string("a")?;
        o.write_string("b")?;
        o.write_set_end()
    })?;
    field(o, TType::Map, 15, |o| {
        o.write_map_begin(TType::String, TType::I64, 1)?;
        o.write_string("k")?;
        o.write_i64(7)?;
        o.write_map_end()
    })?;
    field(o, TType::Map, 16, |o| {
        o.write_map_begin(TType::I32, TType::I32, 0)?;
        o.write_map_end()
    })?;
    field(o, TType::Struct, 17, |o| {
        inner(o, |o| {
            field(o, TType::I32, 1, |o| o.write_i32(5))?;
            field(o, TType::Bool, 20, |o| o.write_bool(true))
        })
    })?;
    field(o, TType::List, 18, |o| {
        o.write_list_begin(TType::I16, 20)?;
        for v in -10..10 {
            o.write_i16(v)?;
        }
        o.write_list_end()
    })?;
    field(o, TType::I16, 40, |o| o.write_i16(1))?;
    field(o, TType::I32, -1, |o| o.write_i32(42))?;
    field(o, TType::List, 41, |o| {
        o.write_list_begin(TType::Struct, 1)?;
        inner(o, |o| field(o, TType::String, 1, |o| o.write_string("x")))?;
        o.write_list_end()
    })?;
    field(o, TType::Map, 42, |o| {
        o.write_map_begin(TType::String, TType::List, 1)?;
        o.write_string("tags")?;
        o.write_list_begin(TType::String, 2)?;
        o.write_string("x")?;
        o.write_string("y")?;
        o.write_list_end()?;
        o.write_map_end()
    })?;
    o.write_field_stop()?;
    o.write_struct_end()?;
    o.write_message_end()
}

fn expect_field<I: InputProtocol>(i: &mut I, ttype: TType, id: i16) {
    let f = i.read_field_begin().unwrap();
    assert_eq!((f.ttype, f.id), (ttype, id));
}

/// Reads the kitchen sink back and checks every value.
fn read_sample<I: InputProtocol>(i: &mut I) {
    let header = i.read_message_begin().unwrap();
    assert_eq!(
        header,
        MessageHeader {
            name: "getOrder".into(),
            kind: MessageType::Call,
            seqid: 7
        }
    );
    i.read_struct_begin().unwrap();
    expect_field(i, TType::Bool, 1);
    assert!(i.read_bool().unwrap());
    expect_field(i, TType::Bool, 2);
    assert!(!i.read_bool().unwrap());
    expect_field(i, TType::I8, 3);
    assert_eq!(i.read_i8().unwrap(), -1);
    expect_field(i, TType::I16, 4);
    assert_eq!(i.read_i16().unwrap(), -300);
    expect_field(i, TType::I32, 5);
    assert_eq!(i.read_i32().unwrap(), 100_000);
    expect_field(i, TType::I64, 6);
    assert_eq!(i.read_i64().unwrap(), -1);
    expect_field(i, TType::I64, 7);
    assert_eq!(i.read_i64().unwrap(), i64::MAX);
    expect_field(i, TType::Double, 8);
    assert_eq!(i.read_double().unwrap(), 1.5);
    expect_field(i, TType::Double, 9);
    let z = i.read_double().unwrap();
    assert!(z == 0.0 && z.is_sign_negative());
    expect_field(i, TType::String, 10);
    assert_eq!(i.read_string().unwrap(), "héllo ☃");
    expect_field(i, TType::String, 11);
    assert_eq!(i.read_binary().unwrap(), Bytes::from_static(&[0, 1, 0xff]));
    expect_field(i, TType::List, 12);
    let l = i.read_list_begin().unwrap();
    assert_eq!((l.element, l.len), (TType::I32, 3));
    assert_eq!(
        [
            i.read_i32().unwrap(),
            i.read_i32().unwrap(),
            i.read_i32().unwrap()
        ],
        [1, -2, 3]
    );
    i.read_list_end().unwrap();
    expect_field(i, TType::List, 13);
    let l = i.read_list_begin().unwrap();
    assert_eq!((l.element, l.len), (TType::Bool, 2));
    assert_eq!(
        [i.read_bool().unwrap(), i.read_bool().unwrap()],
        [true, false]
    );
    i.read_list_end().unwrap();
    expect_field(i, TType::Set, 14);
    let s = i.read_set_begin().unwrap();
    assert_eq!((s.element, s.len), (TType::String, 2));
    assert_eq!(
        [i.read_string().unwrap(), i.read_string().unwrap()],
        ["a", "b"]
    );
    i.read_set_end().unwrap();
    expect_field(i, TType::Map, 15);
    let m = i.read_map_begin().unwrap();
    assert_eq!((m.key, m.value, m.len), (TType::String, TType::I64, 1));
    assert_eq!(
        (i.read_string().unwrap(), i.read_i64().unwrap()),
        ("k".to_string(), 7)
    );
    i.read_map_end().unwrap();
    expect_field(i, TType::Map, 16);
    assert_eq!(i.read_map_begin().unwrap().len, 0);
    i.read_map_end().unwrap();
    expect_field(i, TType::Struct, 17);
    i.read_struct_begin().unwrap();
    expect_field(i, TType::I32, 1);
    assert_eq!(i.read_i32().unwrap(), 5);
    expect_field(i, TType::Bool, 20);
    assert!(i.read_bool().unwrap());
    expect_field(i, TType::Stop, 0);
    i.read_struct_end().unwrap();
    expect_field(i, TType::List, 18);
    let l = i.read_list_begin().unwrap();
    assert_eq!((l.element, l.len), (TType::I16, 20));
    let values: Vec<i16> = (0..20).map(|_| i.read_i16().unwrap()).collect();
    assert_eq!(values, (-10..10).collect::<Vec<i16>>());
    i.read_list_end().unwrap();
    expect_field(i, TType::I16, 40);
    assert_eq!(i.read_i16().unwrap(), 1);
    expect_field(i, TType::I32, -1);
    assert_eq!(i.read_i32().unwrap(), 42);
    // The rest is skipped, as a reader does with fields it does not know.
    expect_field(i, TType::List, 41);
    i.skip(TType::List).unwrap();
    expect_field(i, TType::Map, 42);
    i.skip(TType::Map).unwrap();
    expect_field(i, TType::Stop, 0);
    i.read_struct_end().unwrap();
    i.read_message_end().unwrap();
    assert_eq!(i.remaining(), 0);
}

fn hex(path: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/vectors/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let text = text.trim();
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn binary_kitchen_sink_matches_apache_python() {
    let mut out = BytesMut::new();
    write_sample(&mut BinaryWriter::new(&mut out)).unwrap();
    assert_eq!(out.as_ref(), hex("sample.binary.hex").as_slice());
    read_sample(&mut BinaryReader::new(out.freeze()));
}

#[test]
fn compact_kitchen_sink_matches_apache_python() {
    let mut out = BytesMut::new();
    write_sample(&mut CompactWriter::new(&mut out)).unwrap();
    assert_eq!(out.as_ref(), hex("sample.compact.hex").as_slice());
    read_sample(&mut CompactReader::new(out.freeze()));
}

/// A struct `{1: bool true, 2: i32 -2, 17: uuid, 3: string "hi"}`.
fn write_small<O: OutputProtocol>(o: &mut O) -> Result<()> {
    o.write_struct_begin("Small")?;
    field(o, TType::Bool, 1, |o| o.write_bool(true))?;
    field(o, TType::I32, 2, |o| o.write_i32(-2))?;
    field(o, TType::Uuid, 17, |o| o.write_uuid(&UUID))?;
    field(o, TType::String, 3, |o| o.write_string("hi"))?;
    o.write_field_stop()?;
    o.write_struct_end()
}

const UUID: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

#[rustfmt::skip]
const SMALL_BINARY: &[u8] = &[
    0x02, 0x00, 0x01, 0x01,                                 // 1: bool (type 2, id 1) true
    0x08, 0x00, 0x02, 0xff, 0xff, 0xff, 0xfe,               // 2: i32 (type 8, id 2) -2
    0x10, 0x00, 0x11,                                       // 17: uuid (type 16, id 17)
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,         //     16 bytes, big-endian
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x0b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, b'h', b'i',   // 3: string (type 11, id 3), length 2
    0x00,                                                   // stop
];

#[rustfmt::skip]
const SMALL_COMPACT: &[u8] = &[
    0x11,                                                   // delta 1, BOOLEAN_TRUE: field 1 = true
    0x15, 0x03,                                             // delta 1, I32: field 2, zigzag(-2) = 3
    0xfd,                                                   // delta 15, UUID (13): field 17
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,         //     16 bytes
    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x08, 0x06,                                             // delta 0, BINARY: long form, zigzag(3) = 6
    0x02, b'h', b'i',                                       //     varint length 2
    0x00,                                                   // stop
];

fn read_small<I: InputProtocol>(i: &mut I) {
    i.read_struct_begin().unwrap();
    expect_field(i, TType::Bool, 1);
    assert!(i.read_bool().unwrap());
    expect_field(i, TType::I32, 2);
    assert_eq!(i.read_i32().unwrap(), -2);
    expect_field(i, TType::Uuid, 17);
    assert_eq!(i.read_uuid().unwrap(), UUID);
    expect_field(i, TType::String, 3);
    assert_eq!(i.read_string().unwrap(), "hi");
    expect_field(i, TType::Stop, 0);
    i.read_struct_end().unwrap();
    assert_eq!(i.remaining(), 0);
}

#[test]
fn small_struct_with_uuid_byte_by_byte() {
    let mut out = BytesMut::new();
    write_small(&mut BinaryWriter::new(&mut out)).unwrap();
    assert_eq!(out.as_ref(), SMALL_BINARY);
    read_small(&mut BinaryReader::new(out.freeze()));

    let mut out = BytesMut::new();
    write_small(&mut CompactWriter::new(&mut out)).unwrap();
    assert_eq!(out.as_ref(), SMALL_COMPACT);
    read_small(&mut CompactReader::new(out.freeze()));
}

#[test]
fn binary_reads_the_old_non_strict_message_header() {
    #[rustfmt::skip]
    let bytes: &[u8] = &[
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g',   // name length, then the name
        0x02,                                             // type: reply
        0x00, 0x00, 0x00, 0x09,                           // seqid 9
    ];
    let header = BinaryReader::new(Bytes::from_static(bytes))
        .read_message_begin()
        .unwrap();
    assert_eq!(
        header,
        MessageHeader {
            name: "ping".into(),
            kind: MessageType::Reply,
            seqid: 9
        }
    );
}

#[test]
fn compact_bool_elements_read_the_spec_and_the_libraries() {
    // Header: 3 elements of type BOOLEAN_FALSE (2, the spec's element code);
    // values 1 (true), 0 (the spec's false) and 2 (the libraries' false).
    let mut reader = CompactReader::new(Bytes::from_static(&[0x32, 0x01, 0x00, 0x02]));
    let header = reader.read_list_begin().unwrap();
    assert_eq!((header.element, header.len), (TType::Bool, 3));
    let values: Vec<bool> = (0..3).map(|_| reader.read_bool().unwrap()).collect();
    assert_eq!(values, [true, false, false]);
}

#[test]
fn binary_bytes_are_slices_of_the_input() {
    let mut out = BytesMut::new();
    BinaryWriter::new(&mut out)
        .write_binary(b"payload")
        .unwrap();
    let input = out.freeze();
    let start = input.as_ptr() as usize;
    let value = BinaryReader::new(input.clone()).read_binary().unwrap();
    // Four bytes of length, then the value: the same memory, not a copy.
    assert_eq!(value.as_ptr() as usize, start + 4);
}
