//! Exact bytes for the binary, compact and JSON protocols.
//!
//! The kitchen-sink message is written by our writers and compared with the
//! bytes Apache's Python library wrote for the same calls
//! (`tests/vectors/apache_python.py` made `tests/vectors/sample.*.hex`), then
//! read back with our readers. Smaller vectors are spelled out byte by byte.
//!
//! The TTHeader frames at the end are the bytes CloudWeGo Volo (volo-thrift
//! 0.12.7) sent and answered on 127.0.0.1, captured with a TCP relay: its
//! client's request (framed payload), its server's replies to it and to our
//! client's bare request, each field commented.

use bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, InputProtocol, JsonReader,
    JsonWriter, MessageHeader, OutputProtocol, Result,
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
    i.read_field_end().unwrap();
    expect_field(i, TType::Bool, 2);
    assert!(!i.read_bool().unwrap());
    i.read_field_end().unwrap();
    expect_field(i, TType::I8, 3);
    assert_eq!(i.read_i8().unwrap(), -1);
    i.read_field_end().unwrap();
    expect_field(i, TType::I16, 4);
    assert_eq!(i.read_i16().unwrap(), -300);
    i.read_field_end().unwrap();
    expect_field(i, TType::I32, 5);
    assert_eq!(i.read_i32().unwrap(), 100_000);
    i.read_field_end().unwrap();
    expect_field(i, TType::I64, 6);
    assert_eq!(i.read_i64().unwrap(), -1);
    i.read_field_end().unwrap();
    expect_field(i, TType::I64, 7);
    assert_eq!(i.read_i64().unwrap(), i64::MAX);
    i.read_field_end().unwrap();
    expect_field(i, TType::Double, 8);
    assert_eq!(i.read_double().unwrap(), 1.5);
    i.read_field_end().unwrap();
    expect_field(i, TType::Double, 9);
    let z = i.read_double().unwrap();
    assert!(z == 0.0 && z.is_sign_negative());
    i.read_field_end().unwrap();
    expect_field(i, TType::String, 10);
    assert_eq!(i.read_string().unwrap(), "héllo ☃");
    i.read_field_end().unwrap();
    expect_field(i, TType::String, 11);
    assert_eq!(i.read_binary().unwrap(), Bytes::from_static(&[0, 1, 0xff]));
    i.read_field_end().unwrap();
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
    i.read_field_end().unwrap();
    expect_field(i, TType::List, 13);
    let l = i.read_list_begin().unwrap();
    assert_eq!((l.element, l.len), (TType::Bool, 2));
    assert_eq!(
        [i.read_bool().unwrap(), i.read_bool().unwrap()],
        [true, false]
    );
    i.read_list_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::Set, 14);
    let s = i.read_set_begin().unwrap();
    assert_eq!((s.element, s.len), (TType::String, 2));
    assert_eq!(
        [i.read_string().unwrap(), i.read_string().unwrap()],
        ["a", "b"]
    );
    i.read_set_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::Map, 15);
    let m = i.read_map_begin().unwrap();
    assert_eq!((m.key, m.value, m.len), (TType::String, TType::I64, 1));
    assert_eq!(
        (i.read_string().unwrap(), i.read_i64().unwrap()),
        ("k".to_string(), 7)
    );
    i.read_map_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::Map, 16);
    assert_eq!(i.read_map_begin().unwrap().len, 0);
    i.read_map_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::Struct, 17);
    i.read_struct_begin().unwrap();
    expect_field(i, TType::I32, 1);
    assert_eq!(i.read_i32().unwrap(), 5);
    i.read_field_end().unwrap();
    expect_field(i, TType::Bool, 20);
    assert!(i.read_bool().unwrap());
    i.read_field_end().unwrap();
    expect_field(i, TType::Stop, 0);
    i.read_struct_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::List, 18);
    let l = i.read_list_begin().unwrap();
    assert_eq!((l.element, l.len), (TType::I16, 20));
    let values: Vec<i16> = (0..20).map(|_| i.read_i16().unwrap()).collect();
    assert_eq!(values, (-10..10).collect::<Vec<i16>>());
    i.read_list_end().unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::I16, 40);
    assert_eq!(i.read_i16().unwrap(), 1);
    i.read_field_end().unwrap();
    expect_field(i, TType::I32, -1);
    assert_eq!(i.read_i32().unwrap(), 42);
    // The rest is skipped, as a reader does with fields it does not know.
    i.read_field_end().unwrap();
    expect_field(i, TType::List, 41);
    i.skip(TType::List).unwrap();
    i.read_field_end().unwrap();
    expect_field(i, TType::Map, 42);
    i.skip(TType::Map).unwrap();
    i.read_field_end().unwrap();
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

#[test]
fn json_kitchen_sink_matches_apache_python() {
    let mut out = BytesMut::new();
    write_sample(&mut JsonWriter::new(&mut out)).unwrap();
    let want = hex("sample.json.hex");
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(out.as_ref(), want.as_slice());
    read_sample(&mut JsonReader::new(out.freeze()));
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
    i.read_field_end().unwrap();
    expect_field(i, TType::I32, 2);
    assert_eq!(i.read_i32().unwrap(), -2);
    i.read_field_end().unwrap();
    expect_field(i, TType::Uuid, 17);
    assert_eq!(i.read_uuid().unwrap(), UUID);
    i.read_field_end().unwrap();
    expect_field(i, TType::String, 3);
    assert_eq!(i.read_string().unwrap(), "hi");
    i.read_field_end().unwrap();
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

    // JSON: a uuid is its 8-4-4-4-12 text, type `uid` (Apache's
    // thrift-json-protocol.md; the Python library of 0.22 has none).
    let mut out = BytesMut::new();
    write_small(&mut JsonWriter::new(&mut out)).unwrap();
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        concat!(
            r#"{"1":{"tf":1},"2":{"i32":-2},"#,
            r#""17":{"uid":"00112233-4455-6677-8899-aabbccddeeff"},"#,
            r#""3":{"str":"hi"}}"#
        )
    );
    read_small(&mut JsonReader::new(out.freeze()));
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

// ---------------------------------------------------------------------------
// TTHeader as CloudWeGo Volo sends it
// ---------------------------------------------------------------------------

/// The second call (sequence number 1) of volo-thrift 0.12.7's client with
/// its default codec (`TTHeader<Framed<Binary>>`, Kitex's `TTHeaderFramed`)
/// to `EchoServer.Echo(Request { action: "echo", msg: "xxxxx" })`, as it
/// crossed a TCP relay on 127.0.0.1 (the benchmarks' `volo-echo-client
/// --codec ttheader --payload 5`, connected to port 19302).
#[rustfmt::skip]
const VOLO_REQUEST: [u8; 142] = [
    0x00, 0x00, 0x00, 0x8a,             // LENGTH 138 = 10 + 80 + 48
    0x10, 0x00,                         // TTHeader magic
    0x00, 0x00,                         // FLAGS
    0x00, 0x00, 0x00, 0x01,             // SEQUENCE NUMBER 1
    0x00, 0x14,                         // HEADER SIZE: 20 words = 80 bytes
    0x00,                               // PROTOCOL ID: binary
    0x00,                               // NUM TRANSFORMS: 0
    0x01,                               // INFO_KEYVALUE
    0x00, 0x01,                         //   1 pair
    0x00, 0x03, b'i', b's', b'n',       //   "isn" (the IDL service name) =
    0x00, 0x0a, b'E', b'c', b'h', b'o', b'S', b'e', b'r', b'v', b'e', b'r',
    0x10,                               // INFO_INTKEYVALUE
    0x00, 0x06,                         //   6 pairs
    0x00, 0x10, 0x00, 0x01, b'3',       //   0x10 WITH_MESH_HEADER = "3"
    0x00, 0x0c, 0x00, 0x05, b'1', b'0', b'0', b'0', b'0', // 0x0c RPC_TIMEOUT = "10000" (ms)
    0x00, 0x03, 0x00, 0x00,             //   0x03 FROM_SERVICE = "" (empty)
    0x00, 0x09, 0x00, 0x04, b'E', b'c', b'h', b'o', // 0x09 TO_METHOD = "Echo"
    0x00, 0x06, 0x00, 0x04, b'e', b'c', b'h', b'o', // 0x06 TO_SERVICE = "echo"
    0x00, 0x0b, 0x00, 0x0f,             //   0x0b DEST_ADDRESS = "127.0.0.1:19302"
    b'1', b'2', b'7', b'.', b'0', b'.', b'0', b'.', b'1', b':', b'1', b'9', b'3', b'0', b'2',
    0x00, 0x00,                         // padding to 80 bytes
    0x00, 0x00, 0x00, 0x2c,             // the payload is framed: a length of 44,
    0x80, 0x01, 0x00, 0x01,             //   then a strict binary call
    0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', // method "Echo"
    0x00, 0x00, 0x00, 0x01,             //   seqid 1
    0x0c, 0x00, 0x01,                   //   1: req (struct)
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, b'e', b'c', b'h', b'o', // 1: action "echo"
    0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, b'x', b'x', b'x', b'x', b'x', // 2: msg
    0x00,                               //   Request's stop
    0x00,                               //   the arguments' stop
];

/// volo-thrift 0.12.7's server (default codec) answering [`VOLO_REQUEST`].
#[rustfmt::skip]
const VOLO_REPLY: [u8; 74] = [
    0x00, 0x00, 0x00, 0x46,             // LENGTH 70 = 10 + 12 + 48
    0x10, 0x00,                         // TTHeader magic
    0x00, 0x00,                         // FLAGS
    0x00, 0x00, 0x00, 0x01,             // SEQUENCE NUMBER 1: the request's
    0x00, 0x03,                         // HEADER SIZE: 3 words = 12 bytes
    0x00,                               // PROTOCOL ID: binary
    0x00,                               // NUM TRANSFORMS: 0
    0x10,                               // INFO_INTKEYVALUE
    0x00, 0x01,                         //   1 pair
    0x00, 0x16, 0x00, 0x01, 0x02,       //   0x16 MSG_TYPE = the byte 2 (reply), not text
    0x00, 0x00,                         // padding to 12 bytes
    0x00, 0x00, 0x00, 0x2c,             // framed like the request: a length of 44,
    0x80, 0x01, 0x00, 0x02,             //   then a strict binary reply
    0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', // method "Echo"
    0x00, 0x00, 0x00, 0x01,             //   seqid 1
    0x0c, 0x00, 0x00,                   //   0: success (struct Response)
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, b'e', b'c', b'h', b'o', // 1: action
    0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, b'x', b'x', b'x', b'x', b'x', // 2: msg
    0x00,                               //   Response's stop
    0x00,                               //   the result's stop
];

#[test]
fn volo_ttheader_framed_request_decodes() {
    use std::time::Duration;
    use thriftgen_runtime::service::CallContext;
    use thriftgen_runtime::transport::{
        detect_dialect, int_keys, Detect, Dialect, ProtocolId, Transport,
    };

    assert_eq!(detect_dialect(&VOLO_REQUEST), Ok(Some(Dialect::TTHeader)));
    let mut input = BytesMut::from(&VOLO_REQUEST[..]);
    let frame = Detect::default()
        .decode(&mut input)
        .expect("Volo's request is valid")
        .expect("and whole");
    assert!(input.is_empty());
    let info = &frame.info;
    assert_eq!(info.dialect, Dialect::TTHeader);
    assert_eq!(info.protocol, ProtocolId::Binary);
    assert_eq!((info.flags, info.seq_id), (0, 1));
    assert!(info.framed_payload, "the payload is framed");
    assert!(info.transforms.is_empty());
    let headers = &info.headers;
    assert_eq!(headers.get_str("isn"), Some("EchoServer"));
    assert_eq!(headers.get_int_str(int_keys::TO_METHOD), Some("Echo"));
    assert_eq!(headers.get_int_str(int_keys::TO_SERVICE), Some("echo"));
    assert_eq!(headers.get_int(int_keys::FROM_SERVICE), Some(&b""[..]));
    assert_eq!(
        headers.get_int_str(int_keys::DEST_ADDRESS),
        Some("127.0.0.1:19302")
    );
    assert_eq!(headers.get_int_str(int_keys::WITH_MESH_HEADER), Some("3"));
    let keys: Vec<u16> = headers.iter_ints().map(|(k, _)| k).collect();
    assert_eq!(keys, [0x10, 0x0c, 0x03, 0x09, 0x06, 0x0b]);

    // The handler sees the caller's timeout.
    let ctx = CallContext::new(None, headers.clone());
    assert_eq!(ctx.timeout(), Some(Duration::from_millis(10_000)));

    // The payload is the bare message, length stripped.
    assert_eq!(&frame.payload[..], &VOLO_REQUEST[98..]);
    let mut reader = BinaryReader::new(frame.payload.clone());
    let header = reader.read_message_begin().unwrap();
    assert_eq!(header.name.as_str(), "Echo");
    assert_eq!(header.kind, MessageType::Call);
    assert_eq!(header.seqid, 1);
}

#[test]
fn a_reply_to_volo_is_framed_like_volos_own() {
    use thriftgen_runtime::transport::{int_keys, Detect, FrameInfo, Headers, Transport};

    let mut input = BytesMut::from(&VOLO_REQUEST[..]);
    let request = Detect::default().decode(&mut input).unwrap().unwrap();
    // What the server does: the request's frame information, the handler's
    // headers in place of the request's.
    let info = FrameInfo {
        headers: {
            let mut h = Headers::new();
            h.insert_int(int_keys::MSG_TYPE, &[0x02]);
            h
        },
        ..request.info
    };
    let mut transport = Detect::default();
    let mut out = BytesMut::new();
    let start = transport.begin(&mut out, &info).unwrap();
    out.extend_from_slice(&VOLO_REPLY[30..]);
    transport.finish(&mut out, start, &info).unwrap();
    assert_eq!(&out[..], &VOLO_REPLY[..]);

    // And Volo's reply reads back as what it is.
    let mut input = BytesMut::from(&VOLO_REPLY[..]);
    let reply = Detect::default().decode(&mut input).unwrap().unwrap();
    assert_eq!(reply.info, info);
    assert_eq!(&reply.payload[..], &VOLO_REPLY[30..]);
    assert_eq!(
        reply.info.headers.get_int(int_keys::MSG_TYPE),
        Some(&[2][..])
    );
}

/// Our client's first call over TTHeader with a bare payload (the
/// `ttheader_echo` example of `interop/`, `framed_payload: false`), which
/// volo-thrift 0.12.7's server (default codec) answered with
/// [`VOLO_REPLY_BARE`].
#[rustfmt::skip]
const OUR_BARE_REQUEST: [u8; 105] = [
    0x00, 0x00, 0x00, 0x65,             // LENGTH 101 = 10 + 44 + 47
    0x10, 0x00,                         // TTHeader magic
    0x00, 0x00,                         // FLAGS
    0x00, 0x00, 0x00, 0x01,             // SEQUENCE NUMBER 1 (the client's seqid)
    0x00, 0x0b,                         // HEADER SIZE: 11 words = 44 bytes
    0x00, 0x00,                         // binary, no transforms
    0x01, 0x00, 0x01,                   // INFO_KEYVALUE, 1 pair
    0x00, 0x03, b'i', b's', b'n',       //   "isn" = "EchoServer"
    0x00, 0x0a, b'E', b'c', b'h', b'o', b'S', b'e', b'r', b'v', b'e', b'r',
    0x10, 0x00, 0x02,                   // INFO_INTKEYVALUE, 2 pairs
    0x00, 0x09, 0x00, 0x04, b'E', b'c', b'h', b'o', // TO_METHOD = "Echo"
    0x00, 0x0c, 0x00, 0x04, b'1', b'0', b'0', b'0', // RPC_TIMEOUT = "1000"
    0x00, 0x00, 0x00,                   // padding to 44 bytes
    0x80, 0x01, 0x00, 0x01,             // the bare message: strict binary call
    0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', // "Echo"
    0x00, 0x00, 0x00, 0x01,             //   seqid 1
    0x0c, 0x00, 0x01,                   //   1: req
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, b'e', b'c', b'h', b'o',
    0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, b'h', b'e', b'l', b'l', b'o', b' ', b'#', b'0',
    0x00, 0x00,                         //   stops
];

/// volo-thrift 0.12.7's server answering [`OUR_BARE_REQUEST`]: bare too.
#[rustfmt::skip]
const VOLO_REPLY_BARE: [u8; 73] = [
    0x00, 0x00, 0x00, 0x45,             // LENGTH 69 = 10 + 12 + 47
    0x10, 0x00, 0x00, 0x00,             // magic, FLAGS
    0x00, 0x00, 0x00, 0x01,             // SEQUENCE NUMBER 1
    0x00, 0x03,                         // HEADER SIZE: 3 words
    0x00, 0x00,                         // binary, no transforms
    0x10, 0x00, 0x01,                   // INFO_INTKEYVALUE, 1 pair
    0x00, 0x16, 0x00, 0x01, 0x02,       //   MSG_TYPE = the byte 2
    0x00, 0x00,                         // padding
    0x80, 0x01, 0x00, 0x02,             // the bare message: strict binary reply
    0x00, 0x00, 0x00, 0x04, b'E', b'c', b'h', b'o', // "Echo"
    0x00, 0x00, 0x00, 0x01,             //   seqid 1
    0x0c, 0x00, 0x00,                   //   0: success
    0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, b'e', b'c', b'h', b'o',
    0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, b'h', b'e', b'l', b'l', b'o', b' ', b'#', b'0',
    0x00, 0x00,                         //   stops
];

#[test]
fn our_bare_ttheader_request_and_volos_bare_answer() {
    use thriftgen_runtime::transport::{
        int_keys, Dialect, FrameInfo, ProtocolId, TTHeader, Transport,
    };

    // What our client writes for that call.
    let mut info = FrameInfo::new(Dialect::TTHeader, ProtocolId::Binary);
    info.seq_id = 1;
    info.headers.insert("isn", "EchoServer");
    info.headers.insert_int(int_keys::TO_METHOD, "Echo");
    info.headers.insert_int(int_keys::RPC_TIMEOUT, "1000");
    let mut transport = TTHeader::default();
    let mut out = BytesMut::new();
    let start = transport.begin(&mut out, &info).unwrap();
    out.extend_from_slice(&OUR_BARE_REQUEST[58..]);
    transport.finish(&mut out, start, &info).unwrap();
    assert_eq!(&out[..], &OUR_BARE_REQUEST[..]);

    let mut input = BytesMut::from(&VOLO_REPLY_BARE[..]);
    let reply = transport.decode(&mut input).unwrap().unwrap();
    assert!(!reply.info.framed_payload);
    assert_eq!(reply.info.seq_id, 1);
    assert_eq!(
        reply.info.headers.get_int(int_keys::MSG_TYPE),
        Some(&[2][..])
    );
    assert_eq!(&reply.payload[..], &VOLO_REPLY_BARE[26..]);
}
