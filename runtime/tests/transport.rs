//! The transports: round trips through `begin`/`finish` and `decode` for
//! every dialect, exact bytes from the specs, every split point of a frame,
//! detection, and hostile input (each a clean error, never a panic).

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use thriftgen_runtime::protocol::{
    BinaryWriter, CompactWriter, JsonWriter, MessageHeader, OutputProtocol,
    Result as ProtocolResult,
};
use thriftgen_runtime::transport::{
    detect_dialect, message_len, AnyTransport, Buffered, Detect, Dialect, Frame, FrameInfo, Framed,
    Header, Headers, MessageScanner, ProtocolId, TTHeader, Transform, Transport, TransportError,
    TransportErrorKind, TransportLimits, MAX_MESSAGE_DEPTH,
};
use thriftgen_runtime::{MessageType, TType};

const DIALECTS: [Dialect; 4] = [
    Dialect::Buffered,
    Dialect::Framed,
    Dialect::Header,
    Dialect::TTHeader,
];
const PROTOCOLS: [ProtocolId; 3] = [ProtocolId::Binary, ProtocolId::Compact, ProtocolId::Json];

// ---------------------------------------------------------------------------
// Messages to frame
// ---------------------------------------------------------------------------

/// A call with a struct exercising every wire type, nested containers and
/// field ids far apart (absolute ids in the compact protocol).
fn write_call<O: OutputProtocol>(
    o: &mut O,
    name: &str,
    seqid: i32,
    blob: usize,
) -> ProtocolResult<()> {
    o.write_message_begin(&MessageHeader {
        name: name.to_owned().into(),
        kind: MessageType::Call,
        seqid,
    })?;
    o.write_struct_begin("Args")?;
    o.write_field_begin(TType::Bool, 1)?;
    o.write_bool(true)?;
    o.write_field_end()?;
    o.write_field_begin(TType::I8, 2)?;
    o.write_i8(-3)?;
    o.write_field_end()?;
    o.write_field_begin(TType::I16, 3)?;
    o.write_i16(300)?;
    o.write_field_end()?;
    o.write_field_begin(TType::I32, 40)?;
    o.write_i32(-70_000)?;
    o.write_field_end()?;
    o.write_field_begin(TType::I64, 41)?;
    o.write_i64(i64::MIN)?;
    o.write_field_end()?;
    o.write_field_begin(TType::Double, 42)?;
    o.write_double(1.5)?;
    o.write_field_end()?;
    o.write_field_begin(TType::String, 43)?;
    o.write_string("héllo")?;
    o.write_field_end()?;
    o.write_field_begin(TType::String, 44)?;
    o.write_binary(&vec![0xab; blob])?;
    o.write_field_end()?;
    o.write_field_begin(TType::Uuid, 45)?;
    o.write_uuid(&[7; 16])?;
    o.write_field_end()?;
    o.write_field_begin(TType::List, 46)?;
    o.write_list_begin(TType::Bool, 3)?;
    for b in [true, false, true] {
        o.write_bool(b)?;
    }
    o.write_list_end()?;
    o.write_field_end()?;
    o.write_field_begin(TType::Set, 47)?;
    o.write_set_begin(TType::I64, 0)?;
    o.write_set_end()?;
    o.write_field_end()?;
    o.write_field_begin(TType::Map, 48)?;
    o.write_map_begin(TType::String, TType::List, 2)?;
    for key in ["a", "b"] {
        o.write_string(key)?;
        o.write_list_begin(TType::Struct, 2)?;
        for i in 0..2 {
            o.write_struct_begin("Inner")?;
            o.write_field_begin(TType::I32, 1)?;
            o.write_i32(i)?;
            o.write_field_end()?;
            o.write_field_begin(TType::Struct, 2)?;
            o.write_struct_begin("Leaf")?;
            o.write_field_begin(TType::Double, 1)?;
            o.write_double(-0.25)?;
            o.write_field_end()?;
            o.write_field_stop()?;
            o.write_struct_end()?;
            o.write_field_end()?;
            o.write_field_stop()?;
            o.write_struct_end()?;
        }
        o.write_list_end()?;
    }
    o.write_map_end()?;
    o.write_field_end()?;
    o.write_field_begin(TType::Map, 49)?;
    o.write_map_begin(TType::I32, TType::Double, 0)?;
    o.write_map_end()?;
    o.write_field_end()?;
    o.write_field_stop()?;
    o.write_struct_end()?;
    o.write_message_end()
}

/// Writes a call with a `blob`-byte binary field in `protocol` to `out`.
fn put_call(out: &mut BytesMut, protocol: ProtocolId, seqid: i32, blob: usize) {
    let written = match protocol {
        ProtocolId::Binary => write_call(&mut BinaryWriter::new(out), "echo", seqid, blob),
        ProtocolId::Compact => write_call(&mut CompactWriter::new(out), "echo", seqid, blob),
        ProtocolId::Json => write_call(&mut JsonWriter::new(out), "echo", seqid, blob),
        other => panic!("no writer for {other:?}"),
    };
    written.expect("the test message is valid");
}

fn call(protocol: ProtocolId, seqid: i32, blob: usize) -> Bytes {
    let mut out = BytesMut::new();
    put_call(&mut out, protocol, seqid, blob);
    out.freeze()
}

/// Frame information a client of `dialect` might choose, with every header
/// field the dialect carries.
fn rich_info(dialect: Dialect, protocol: ProtocolId) -> FrameInfo {
    let mut info = FrameInfo::new(dialect, protocol);
    match dialect {
        Dialect::Buffered | Dialect::Framed => {}
        Dialect::Header => {
            info.flags = 0x0001;
            info.seq_id = 0xdead_beef;
            info.transforms = vec![Transform::Zlib];
            info.headers.insert("trace-id", "abc123");
            info.headers.insert("", "empty key");
            info.headers.insert("ünïcode", "välue");
            // Keys and values are bytes: not UTF-8, NUL and 0xff, empty.
            info.headers.insert(&b"\xff\xfe-key"[..], "non-UTF-8 key");
            info.headers.insert("binary", &b"\x00\x01\xff"[..]);
            info.headers.insert("empty", "");
        }
        Dialect::TTHeader => {
            info.flags = 0x0100;
            info.seq_id = 42;
            info.headers.insert("trace-id", "abc123");
            info.headers
                .insert(&b"\xff\xfe-key"[..], &b"\x00\x01\xff"[..]);
            info.headers.insert("empty", "");
            info.headers.insert_int(3, "from-service");
            info.headers.insert_int(9, "");
            info.headers.insert_int(0x16, &[0x02]);
            info.headers.set_acl_token(&b"se\x00cret\xff"[..]);
            // Volo's shape: the message framed inside the payload.
            info.framed_payload = true;
        }
    }
    info
}

/// Frames `payload` (already encoded) with `transport` into `out`.
fn frame_into(
    transport: &mut impl Transport,
    out: &mut BytesMut,
    info: &FrameInfo,
    payload: &[u8],
) {
    let start = transport.begin(out, info).expect("begin");
    out.put_slice(payload);
    transport.finish(out, start, info).expect("finish");
}

fn framed(dialect: Dialect, info: &FrameInfo, payload: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    frame_into(
        &mut AnyTransport::new(dialect, TransportLimits::DEFAULT),
        &mut out,
        info,
        payload,
    );
    out
}

fn decode_one(dialect: Dialect, bytes: &[u8]) -> Result<Option<Frame>, TransportError> {
    AnyTransport::new(dialect, TransportLimits::DEFAULT).decode(&mut BytesMut::from(bytes))
}

fn kind(result: Result<Option<Frame>, TransportError>) -> TransportErrorKind {
    match result {
        Ok(frame) => panic!("expected an error, got {frame:?}"),
        Err(err) => err.kind(),
    }
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

#[test]
fn every_dialect_and_protocol_round_trips_payload_and_frame_info() {
    for dialect in DIALECTS {
        for protocol in PROTOCOLS {
            for info in [
                FrameInfo::new(dialect, protocol),
                rich_info(dialect, protocol),
            ] {
                let payload = call(protocol, 7, 100);
                let mut input = framed(dialect, &info, &payload);
                let mut transport = AnyTransport::new(dialect, TransportLimits::DEFAULT);
                let frame = transport
                    .decode(&mut input)
                    .unwrap_or_else(|e| panic!("{dialect:?}/{protocol:?}: {e}"))
                    .unwrap_or_else(|| panic!("{dialect:?}/{protocol:?}: incomplete"));
                assert_eq!(frame.payload, payload, "{dialect:?}/{protocol:?}");
                assert_eq!(frame.info, info, "{dialect:?}/{protocol:?}");
                assert!(input.is_empty());
                assert!(transport.decode(&mut input).unwrap().is_none());
            }
        }
    }
}

#[test]
fn a_reply_repeats_the_request_frame() {
    for dialect in DIALECTS {
        let request_info = rich_info(dialect, ProtocolId::Compact);
        let mut input = framed(dialect, &request_info, &call(ProtocolId::Compact, 1, 0));
        let mut server = Detect::default();
        let request = server.decode(&mut input).unwrap().unwrap();
        assert_eq!(server.dialect(), Some(dialect));

        let mut out = BytesMut::new();
        let reply = call(ProtocolId::Compact, 1, 3);
        frame_into(&mut server, &mut out, &request.info, &reply);
        let mut client = AnyTransport::new(dialect, TransportLimits::DEFAULT);
        let answer = client.decode(&mut out).unwrap().unwrap();
        assert_eq!(answer.payload, reply);
        assert_eq!(answer.info, request.info);
    }
}

#[test]
fn zlib_compresses_the_payload_on_the_wire() {
    for dialect in [Dialect::Header, Dialect::TTHeader] {
        let mut info = FrameInfo::new(dialect, ProtocolId::Binary);
        info.transforms = vec![Transform::Zlib];
        let payload = call(ProtocolId::Binary, 1, 100_000);
        let wire = framed(dialect, &info, &payload);
        assert!(wire.len() < payload.len() / 10, "{} bytes", wire.len());
        let frame = decode_one(dialect, &wire).unwrap().unwrap();
        assert_eq!(frame.payload, payload);
        assert_eq!(frame.info.transforms, [Transform::Zlib]);

        // Twice is twice.
        info.transforms = vec![Transform::Zlib, Transform::Zlib];
        let frame = decode_one(dialect, &framed(dialect, &info, &payload))
            .unwrap()
            .unwrap();
        assert_eq!(frame.payload, payload);
    }
}

#[test]
fn several_frames_back_to_back_in_one_buffer() {
    for dialect in DIALECTS {
        let mut input = BytesMut::new();
        let mut expected = Vec::new();
        let mut writer = AnyTransport::new(dialect, TransportLimits::DEFAULT);
        for (i, protocol) in [ProtocolId::Binary, ProtocolId::Compact, ProtocolId::Binary]
            .into_iter()
            .enumerate()
        {
            let mut info = rich_info(dialect, protocol);
            if matches!(dialect, Dialect::Header | Dialect::TTHeader) {
                info.seq_id = i as u32;
            }
            let payload = call(protocol, i as i32, i * 10);
            frame_into(&mut writer, &mut input, &info, &payload);
            expected.push((payload, info));
        }
        // A partial fourth frame stays in the buffer.
        let partial = framed(
            dialect,
            &rich_info(dialect, ProtocolId::Binary),
            &call(ProtocolId::Binary, 9, 0),
        );
        input.put_slice(&partial[..partial.len() - 1]);

        let mut reader = AnyTransport::new(dialect, TransportLimits::DEFAULT);
        for (payload, info) in expected {
            let frame = reader.decode(&mut input).unwrap().unwrap();
            assert_eq!((frame.payload, frame.info), (payload, info), "{dialect:?}");
        }
        assert!(reader.decode(&mut input).unwrap().is_none());
        assert_eq!(&input[..], &partial[..partial.len() - 1]);
    }
}

#[test]
fn every_split_point_needs_more_and_leaves_the_input_untouched() {
    for dialect in DIALECTS {
        for protocol in PROTOCOLS {
            let info = rich_info(dialect, protocol);
            let payload = call(protocol, 3, 20);
            let wire = framed(dialect, &info, &payload);

            // One byte at a time through one transport (which may resume).
            let mut transport = AnyTransport::new(dialect, TransportLimits::DEFAULT);
            let mut input = BytesMut::new();
            for (i, &byte) in wire.iter().enumerate() {
                input.put_u8(byte);
                let decoded = transport
                    .decode(&mut input)
                    .unwrap_or_else(|e| panic!("{dialect:?}/{protocol:?} at {i}: {e}"));
                if i + 1 < wire.len() {
                    assert!(decoded.is_none(), "{dialect:?}/{protocol:?} at {i}");
                    assert_eq!(&input[..], &wire[..=i]);
                } else {
                    let frame = decoded.expect("the whole frame");
                    assert_eq!((frame.payload, frame.info), (payload.clone(), info.clone()));
                    assert!(input.is_empty());
                }
            }

            // And every prefix afresh.
            for cut in 0..wire.len() {
                let mut input = BytesMut::from(&wire[..cut]);
                let mut fresh = AnyTransport::new(dialect, TransportLimits::DEFAULT);
                assert!(fresh.decode(&mut input).unwrap().is_none());
                assert_eq!(&input[..], &wire[..cut]);
            }
        }
    }
}

#[test]
fn the_concrete_transports_work_on_their_own() {
    fn check(mut transport: impl Transport, dialect: Dialect) {
        let info = rich_info(dialect, ProtocolId::Binary);
        let mut out = BytesMut::new();
        frame_into(&mut transport, &mut out, &info, &PING);
        let frame = transport.decode(&mut out).unwrap().unwrap();
        assert_eq!((&frame.payload[..], frame.info), (&PING[..], info));
    }
    check(Buffered::default(), Dialect::Buffered);
    check(Framed::default(), Dialect::Framed);
    check(Header::default(), Dialect::Header);
    check(TTHeader::default(), Dialect::TTHeader);
    let limits = TransportLimits::default();
    check(Buffered::new(limits), Dialect::Buffered);
    check(Framed::new(limits), Dialect::Framed);
    check(Header::new(limits), Dialect::Header);
    check(TTHeader::new(limits), Dialect::TTHeader);
}

#[test]
fn a_large_buffered_message_arriving_in_pieces() {
    for protocol in PROTOCOLS {
        let payload = call(protocol, 1, 300_000);
        let mut transport = Buffered::default();
        let mut input = BytesMut::new();
        let mut frames = Vec::new();
        for piece in payload.chunks(1000) {
            input.put_slice(piece);
            if let Some(frame) = transport.decode(&mut input).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].payload, payload);
    }
}

#[test]
fn frames_are_slices_of_the_input_not_copies() {
    for dialect in DIALECTS {
        for protocol in PROTOCOLS {
            let mut info = rich_info(dialect, protocol);
            info.transforms.clear();
            let mut input = framed(dialect, &info, &call(protocol, 1, 64));
            input.put_slice(b"next frame");
            let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
            let frame = AnyTransport::new(dialect, TransportLimits::DEFAULT)
                .decode(&mut input)
                .unwrap()
                .unwrap();
            let at = frame.payload.as_ptr() as usize;
            assert!(range.contains(&at), "{dialect:?}/{protocol:?}");
            assert!(range.contains(&(at + frame.payload.len() - 1)));
        }
    }
}

#[test]
fn old_non_strict_binary_is_read_buffered_and_framed() {
    #[rustfmt::skip]
    let message = [
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // name
        0x01,                                           // call
        0x00, 0x00, 0x00, 0x05,                         // seqid 5
        0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,       // 1: i32 2
        0x00,                                           // stop
    ];
    assert_eq!(message_len(&message, 1 << 20), Ok(Some(message.len())));
    for dialect in [Dialect::Buffered, Dialect::Framed] {
        let info = FrameInfo::new(dialect, ProtocolId::Binary);
        let mut input = framed(dialect, &info, &message);
        assert_eq!(detect_dialect(&input), Ok(Some(dialect)));
        let frame = Detect::default().decode(&mut input).unwrap().unwrap();
        assert_eq!(&frame.payload[..], &message);
        assert_eq!(frame.info, info);
    }
}

// ---------------------------------------------------------------------------
// Exact bytes from the specs
// ---------------------------------------------------------------------------

/// A strict binary call `ping`, seqid 1, with empty arguments.
#[rustfmt::skip]
const PING: [u8; 17] = [
    0x80, 0x01, 0x00, 0x01,                         // version 1, call
    0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // name "ping"
    0x00, 0x00, 0x00, 0x01,                         // seqid 1
    0x00,                                           // stop
];

#[test]
fn theader_frame_from_the_spec_byte_for_byte() {
    #[rustfmt::skip]
    let head: &[u8] = &[
        0x00, 0x00, 0x00, 0x2b,     // LENGTH 43: 10 + 16 header + 17 payload
        0x0f, 0xff,                 // HEADER MAGIC
        0x00, 0x00,                 // FLAGS
        0x00, 0x00, 0x00, 0x01,     // SEQUENCE NUMBER 1
        0x00, 0x04,                 // HEADER SIZE: 4 words = 16 bytes
        0x00,                       // PROTOCOL ID (varint): binary
        0x00,                       // NUM TRANSFORMS (varint): 0
        0x01,                       // INFO_KEYVALUE
        0x01,                       // 1 header (varint)
        0x03, b'k', b'e', b'y',     // key: varint length + bytes
        0x05, b'v', b'a', b'l', b'u', b'e',
        0x00, 0x00,                 // padding to a multiple of 4
    ];
    let wire = [head, &PING[..]].concat();

    let frame = decode_one(Dialect::Header, &wire).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &PING);
    let mut expected = FrameInfo::new(Dialect::Header, ProtocolId::Binary);
    expected.seq_id = 1;
    expected.headers.insert("key", "value");
    assert_eq!(frame.info, expected);

    assert_eq!(
        &framed(Dialect::Header, &frame.info, &frame.payload)[..],
        &wire[..]
    );
}

#[test]
fn ttheader_frame_from_the_spec_byte_for_byte() {
    #[rustfmt::skip]
    let head: &[u8] = &[
        0x00, 0x00, 0x00, 0x3f,     // LENGTH 63: 10 + 36 header + 17 payload
        0x10, 0x00,                 // HEADER MAGIC
        0x00, 0x00,                 // FLAGS
        0x00, 0x00, 0x00, 0x02,     // SEQUENCE NUMBER 2
        0x00, 0x09,                 // HEADER SIZE: 9 words = 36 bytes
        0x00,                       // PROTOCOL ID (u8): binary
        0x00,                       // NUM TRANSFORMS (u8): 0
        0x01,                       // INFO_KEYVALUE
        0x00, 0x01,                 // 1 pair (u16)
        0x00, 0x03, b'k', b'e', b'y',
        0x00, 0x05, b'v', b'a', b'l', b'u', b'e',
        0x10,                       // INFO_INTKEYVALUE
        0x00, 0x01,                 // 1 pair (u16)
        0x00, 0x03,                 // key 3 (FROM_SERVICE)
        0x00, 0x04, b'e', b'c', b'h', b'o',
        0x11,                       // INFO_ACL_TOKEN
        0x00, 0x03, b't', b'o', b'k',
        0x00, 0x00,                 // padding to a multiple of 4
    ];
    let wire = [head, &PING[..]].concat();

    let frame = decode_one(Dialect::TTHeader, &wire).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &PING);
    let mut expected = FrameInfo::new(Dialect::TTHeader, ProtocolId::Binary);
    expected.seq_id = 2;
    expected.headers.insert("key", "value");
    expected.headers.insert_int(3, "echo");
    expected.headers.set_acl_token("tok");
    assert_eq!(frame.info, expected);

    assert_eq!(
        &framed(Dialect::TTHeader, &frame.info, &frame.payload)[..],
        &wire[..]
    );
}

#[test]
fn framed_frame_byte_for_byte() {
    let wire = [&[0x00, 0x00, 0x00, 0x11][..], &PING[..]].concat();
    let frame = decode_one(Dialect::Framed, &wire).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &PING);
    assert_eq!(
        &framed(Dialect::Framed, &frame.info, &frame.payload)[..],
        &wire[..]
    );
}

#[test]
fn padding_and_unknown_infos_end_the_info_section() {
    #[rustfmt::skip]
    let head: &[u8] = &[
        0x00, 0x00, 0x00, 0x1b,     // LENGTH 27: 10 + 8 + 9
        0x0f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02,                 // 8 header bytes
        0x02, 0x00,                 // compact, no transforms
        0x7f, 0x01, 0x01, 0x01,     // an unknown info (id 127) and its data
        0x00, 0x00,                 // padding
    ];
    let payload = [0x82, 0x21, 0x00, 0x03, b'a', b'b', b'c', 0x00, 0x00];
    let wire = [head, &payload[..]].concat();
    let frame = decode_one(Dialect::Header, &wire).unwrap().unwrap();
    assert_eq!(frame.info.protocol, ProtocolId::Compact);
    assert!(frame.info.headers.is_empty());
    assert_eq!(&frame.payload[..], &payload);
}

// ---------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------

#[test]
fn each_dialect_and_protocol_is_detected_from_its_first_bytes() {
    for dialect in DIALECTS {
        for protocol in PROTOCOLS {
            let info = rich_info(dialect, protocol);
            let wire = framed(dialect, &info, &call(protocol, 1, 0));
            assert_eq!(
                detect_dialect(&wire[..8]),
                Ok(Some(dialect)),
                "{dialect:?}/{protocol:?}"
            );

            let mut detect = Detect::default();
            assert_eq!(detect.dialect(), None);
            let mut input = BytesMut::from(&wire[..]);
            let frame = detect.decode(&mut input).unwrap().unwrap();
            assert_eq!(detect.dialect(), Some(dialect));
            assert_eq!(frame.info.dialect, dialect);
            assert_eq!(frame.info.protocol, protocol);
        }
    }
}

#[test]
fn detection_waits_for_enough_bytes_and_keeps_the_input() {
    let wire = framed(
        Dialect::Framed,
        &FrameInfo::new(Dialect::Framed, ProtocolId::Binary),
        &PING,
    );
    let mut detect = Detect::default();
    for cut in 0..6 {
        let mut input = BytesMut::from(&wire[..cut]);
        assert!(detect.decode(&mut input).unwrap().is_none());
        assert_eq!(&input[..], &wire[..cut]);
        assert_eq!(detect.dialect(), None);
    }
}

#[test]
fn detect_frames_with_the_info_dialect_before_any_input() {
    let mut detect = Detect::default();
    let info = rich_info(Dialect::TTHeader, ProtocolId::Binary);
    let mut out = BytesMut::new();
    frame_into(&mut detect, &mut out, &info, &PING);
    assert_eq!(detect.dialect(), Some(Dialect::TTHeader));
    let frame = decode_one(Dialect::TTHeader, &out).unwrap().unwrap();
    assert_eq!(frame.info, info);
}

#[test]
fn unknown_dialects_are_errors() {
    for bytes in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &b"PRI * HTTP/2.0\r\n"[..],
        &[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00][..],
        &[0xff; 8][..],
        &[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00][..],
        &[0x00, 0x00, 0x00, 0x10, 0x12, 0x34, 0x00, 0x00][..],
    ] {
        let err = Detect::default()
            .decode(&mut BytesMut::from(bytes))
            .unwrap_err();
        assert_eq!(
            err.kind(),
            TransportErrorKind::UnknownDialect,
            "{bytes:02x?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------

#[test]
fn oversized_frame_length_is_an_error_before_the_bytes_arrive() {
    let limits = TransportLimits::DEFAULT;
    for (dialect, magic) in [
        (Dialect::Framed, &[][..]),
        (Dialect::Header, &[0x0f, 0xff][..]),
        (Dialect::TTHeader, &[0x10, 0x00][..]),
    ] {
        let over = (limits.max_frame_len + 1) as u32;
        let bytes = [&over.to_be_bytes()[..], magic].concat();
        let err = decode_one(dialect, &bytes).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge, "{dialect:?}");
        assert_eq!(
            err.message(),
            "frame of 16777217 bytes is over the limit of 16777216"
        );
        assert_eq!(
            kind(decode_one(dialect, &[0x7f, 0xff, 0xff, 0xff])),
            TransportErrorKind::FrameTooLarge
        );
    }
    // Exactly at the limit is fine: it only waits for the bytes.
    let at = (limits.max_frame_len as u32).to_be_bytes();
    assert!(decode_one(Dialect::Framed, &[&at[..], &[0x80]].concat())
        .unwrap()
        .is_none());
}

#[test]
fn negative_frame_length_is_an_error() {
    for dialect in [Dialect::Framed, Dialect::Header, Dialect::TTHeader] {
        let err = decode_one(dialect, &[0xff, 0xff, 0xff, 0xfe]).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::NegativeSize, "{dialect:?}");
        assert_eq!(err.message(), "negative frame length -2");
    }
}

#[test]
fn empty_and_non_thrift_framed_payloads_are_errors() {
    assert_eq!(
        kind(decode_one(Dialect::Framed, &[0, 0, 0, 0])),
        TransportErrorKind::Malformed
    );
    assert_eq!(
        kind(decode_one(Dialect::Framed, &[0, 0, 0, 9, 0xc0])),
        TransportErrorKind::UnsupportedProtocol
    );
}

/// A THeader/TTHeader frame with `header` (unpadded: padded here) and a
/// `PING` payload.
fn header_frame(magic: u16, header: &[u8]) -> Vec<u8> {
    let mut header = header.to_vec();
    header.resize(header.len().next_multiple_of(4), 0);
    let mut out = Vec::new();
    out.extend_from_slice(&((10 + header.len() + PING.len()) as u32).to_be_bytes());
    out.extend_from_slice(&magic.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(&((header.len() / 4) as u16).to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&PING);
    out
}

fn theader(header: &[u8]) -> Result<Option<Frame>, TransportError> {
    decode_one(Dialect::Header, &header_frame(0x0fff, header))
}

fn ttheader(header: &[u8]) -> Result<Option<Frame>, TransportError> {
    decode_one(Dialect::TTHeader, &header_frame(0x1000, header))
}

#[test]
fn the_frame_builder_makes_valid_frames() {
    assert!(theader(&[0x00, 0x00]).unwrap().is_some());
    assert!(ttheader(&[0x00, 0x00]).unwrap().is_some());
}

#[test]
fn header_size_past_the_frame_is_an_error_before_the_bytes_arrive() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0x00, 0x00, 0x0e,     // LENGTH 14: room for 4 header bytes
        0x0f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02,                 // HEADER SIZE 8 bytes
    ];
    let err = decode_one(Dialect::Header, &bytes).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(
        err.message(),
        "THeader header of 8 bytes does not fit in a frame of 14 bytes"
    );

    let mut bytes = bytes;
    bytes[4..6].copy_from_slice(&[0x10, 0x00]);
    assert_eq!(
        kind(decode_one(Dialect::TTHeader, &bytes)),
        TransportErrorKind::Malformed
    );

    // A LENGTH too short for the fixed fields.
    let short = [0x00, 0x00, 0x00, 0x04, 0x0f, 0xff];
    assert_eq!(
        kind(decode_one(Dialect::Header, &short)),
        TransportErrorKind::Malformed
    );
}

#[test]
fn header_over_the_limit_is_an_error() {
    #[rustfmt::skip]
    let bytes = [
        0x00, 0xff, 0xff, 0xff,     // LENGTH (within 16 MiB)
        0x0f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xff, 0xff,                 // HEADER SIZE 262140 bytes > 64 KiB
    ];
    let err = decode_one(Dialect::Header, &bytes).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::HeaderTooLarge);
    assert_eq!(
        err.message(),
        "THeader header of 262140 bytes is over the limit of 65536"
    );
}

#[test]
fn wrong_magic_is_an_error() {
    let wire = header_frame(0x1000, &[0x00, 0x00]);
    assert_eq!(
        kind(decode_one(Dialect::Header, &wire[..6])),
        TransportErrorKind::BadMagic
    );
    let err = decode_one(Dialect::TTHeader, &header_frame(0x0fff, &[0, 0])).unwrap_err();
    assert_eq!(
        err.message(),
        "not a TTHeader frame (magic 0x0fff, expected 0x1000)"
    );
}

#[test]
fn varint_of_eleven_bytes_is_an_error() {
    let mut header = vec![0x80; 10];
    header.push(0x00);
    let err = theader(&header).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(
        err.message(),
        "THeader protocol id is a varint longer than 10 bytes"
    );
    // Ten bytes overflowing 64 bits.
    let mut header = vec![0xff; 9];
    header.push(0x02);
    assert_eq!(kind(theader(&header)), TransportErrorKind::Malformed);
}

#[test]
fn info_count_larger_than_the_bytes_is_an_error() {
    // 1000 headers announced, a few bytes there.
    let err = theader(&[0x00, 0x00, 0x01, 0xe8, 0x07, 0x01, b'k']).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(
        err.message(),
        "THeader header announces 1000 key/value headers but has 3 bytes left"
    );
    let err = ttheader(&[0x00, 0x00, 0x01, 0xff, 0xff, 0x00, 0x01]).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    let err = ttheader(&[0x00, 0x00, 0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00]).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    // A string longer than the header.
    let err = theader(&[0x00, 0x00, 0x01, 0x01, 0x7f, b'k']).unwrap_err();
    assert_eq!(err.message(), "THeader header ends inside header key");
    let err = ttheader(&[0x00, 0x00, 0x11, 0x01, 0x00]).unwrap_err();
    assert_eq!(err.message(), "TTHeader header ends inside ACL token");
}

#[test]
fn theader_keys_and_values_are_bytes_byte_for_byte() {
    // What Apache's Python THeaderTransport sends for
    // set_header(b"\xff\xfe", b"\x00\x01\xff") and set_header(b"e", b"").
    #[rustfmt::skip]
    let head: &[u8] = &[
        0x00, 0x00, 0x00, 0x2b,     // LENGTH 43: 10 + 16 header + 17 payload
        0x0f, 0xff,                 // HEADER MAGIC
        0x00, 0x00,                 // FLAGS
        0x00, 0x00, 0x00, 0x01,     // SEQUENCE NUMBER 1
        0x00, 0x04,                 // HEADER SIZE: 4 words = 16 bytes
        0x00,                       // PROTOCOL ID (varint): binary
        0x00,                       // NUM TRANSFORMS (varint): 0
        0x01,                       // INFO_KEYVALUE
        0x02,                       // 2 headers (varint)
        0x02, 0xff, 0xfe,           // key: 2 bytes, not UTF-8
        0x03, 0x00, 0x01, 0xff,     // value: 3 bytes, NUL and 0xff
        0x01, b'e',                 // key "e"
        0x00,                       // value: empty
        0x00, 0x00,                 // padding to a multiple of 4
    ];
    let wire = [head, &PING[..]].concat();
    let frame = decode_one(Dialect::Header, &wire).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &PING);
    let headers = &frame.info.headers;
    assert_eq!(headers.get(b"\xff\xfe"), Some(&b"\x00\x01\xff"[..]));
    assert_eq!(headers.get_str(b"\xff\xfe"), None, "not UTF-8: no str view");
    assert_eq!(headers.get("e"), Some(&b""[..]));
    assert_eq!(headers.get_str("e"), Some(""));
    let pairs: Vec<(&[u8], &[u8])> = headers.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert_eq!(
        pairs,
        [(&b"\xff\xfe"[..], &b"\x00\x01\xff"[..]), (b"e", b"")]
    );
    // Written back byte for byte.
    let mut info = FrameInfo::new(Dialect::Header, ProtocolId::Binary);
    info.seq_id = 1;
    info.headers.insert(&[0xff, 0xfe], vec![0x00, 0x01, 0xff]);
    info.headers.insert("e", "");
    assert_eq!(frame.info, info);
    assert_eq!(&framed(Dialect::Header, &info, &PING)[..], &wire[..]);
}

#[test]
fn ttheader_keys_and_values_are_bytes_byte_for_byte() {
    #[rustfmt::skip]
    let head: &[u8] = &[
        0x00, 0x00, 0x00, 0x37,     // LENGTH 55: 10 + 28 header + 17 payload
        0x10, 0x00,                 // HEADER MAGIC
        0x00, 0x00,                 // FLAGS
        0x00, 0x00, 0x00, 0x07,     // SEQUENCE NUMBER 7
        0x00, 0x07,                 // HEADER SIZE: 7 words = 28 bytes
        0x00,                       // PROTOCOL ID (u8): binary
        0x00,                       // NUM TRANSFORMS (u8): 0
        0x01,                       // INFO_KEYVALUE
        0x00, 0x02,                 // 2 pairs (u16)
        0x00, 0x01, 0x80,           // key: 1 byte, not UTF-8
        0x00, 0x03, 0x00, 0x01, 0xff, // value: NUL and 0xff
        0x00, 0x01, b'e',           // key "e"
        0x00, 0x00,                 // value: empty
        0x10,                       // INFO_INTKEYVALUE
        0x00, 0x01,                 // 1 pair (u16)
        0x00, 0x16,                 // key 0x16 (MSG_TYPE)
        0x00, 0x01, 0x02,           // value: the byte 2, as Volo sends it
        0x00, 0x00,                 // padding to a multiple of 4
    ];
    let wire = [head, &PING[..]].concat();
    let frame = decode_one(Dialect::TTHeader, &wire).unwrap().unwrap();
    assert_eq!(&frame.payload[..], &PING);
    let headers = &frame.info.headers;
    assert_eq!(headers.get([0x80]), Some(&b"\x00\x01\xff"[..]));
    assert_eq!(headers.get("e"), Some(&b""[..]));
    assert_eq!(headers.get_int(0x16), Some(&[0x02][..]));
    let mut info = FrameInfo::new(Dialect::TTHeader, ProtocolId::Binary);
    info.seq_id = 7;
    info.headers.insert(&[0x80], &b"\x00\x01\xff"[..]);
    info.headers.insert("e", "");
    info.headers.insert_int(0x16, vec![0x02]);
    assert_eq!(frame.info, info);
    assert_eq!(&framed(Dialect::TTHeader, &info, &PING)[..], &wire[..]);
}

#[test]
fn a_header_value_past_the_header_is_still_an_error() {
    // THeader: a value of 0x7f bytes in a header of 8.
    let err = theader(&[0x00, 0x00, 0x01, 0x01, 0x01, 0xff, 0x7f, 0x00]).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(err.message(), "THeader header ends inside header value");
    // TTHeader: a key of 0x0100 bytes.
    let err = ttheader(&[
        0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff,
    ])
    .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(err.message(), "TTHeader header ends inside header key");
    // TTHeader: an integer header's value past the header.
    let err = ttheader(&[
        0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x09, b'1', 0x00, 0x00,
    ])
    .unwrap_err();
    assert_eq!(
        err.message(),
        "TTHeader header ends inside int header value"
    );
}

#[test]
fn zlib_bomb_over_the_cap_is_an_error() {
    let limits = TransportLimits {
        max_decompressed_len: 64 << 10,
        ..TransportLimits::DEFAULT
    };
    for dialect in [Dialect::Header, Dialect::TTHeader] {
        let mut info = FrameInfo::new(dialect, ProtocolId::Binary);
        info.transforms = vec![Transform::Zlib];
        let mut wire = BytesMut::new();
        // 64 times the cap, in a few kilobytes.
        frame_into(
            &mut AnyTransport::new(dialect, limits),
            &mut wire,
            &info,
            &vec![0; 4 << 20],
        );
        assert!(wire.len() < 16 << 10, "{} bytes", wire.len());
        let err = AnyTransport::new(dialect, limits)
            .decode(&mut wire)
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::DecompressedTooLarge);
        assert_eq!(
            err.message(),
            "compressed payload inflates to more than 65536 bytes"
        );
    }
}

#[test]
fn corrupt_zlib_is_an_error() {
    // Zlib announced, plain payload sent.
    assert_eq!(
        kind(theader(&[0x00, 0x01, 0x01])),
        TransportErrorKind::Decompress
    );
    assert_eq!(
        kind(ttheader(&[0x00, 0x01, 0x01])),
        TransportErrorKind::Decompress
    );
}

#[test]
fn unknown_transform_id_is_an_error() {
    for id in [0x02, 0x03, 0x7f] {
        let err = theader(&[0x00, 0x01, id]).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::UnsupportedTransform);
        assert_eq!(err.message(), format!("unsupported transform {id}"));
        assert_eq!(
            kind(ttheader(&[0x00, 0x01, id])),
            TransportErrorKind::UnsupportedTransform
        );
    }
    // More transforms than any frame needs.
    assert_eq!(
        kind(theader(&[0x00, 0x05, 1, 1, 1, 1, 1])),
        TransportErrorKind::Malformed
    );
}

#[test]
fn unknown_protocol_id_is_an_error() {
    // 1 is JSON (Apache THeader's number, used for TTHeader too).
    assert_eq!(
        theader(&[0x01, 0x00]).unwrap().unwrap().info.protocol,
        ProtocolId::Json
    );
    assert_eq!(
        ttheader(&[0x01, 0x00]).unwrap().unwrap().info.protocol,
        ProtocolId::Json
    );
    for id in [0x03, 0x04, 0x05] {
        let err = theader(&[id, 0x00]).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::UnsupportedProtocol);
        assert_eq!(
            err.message(),
            format!("unsupported THeader protocol id {id}")
        );
        assert_eq!(
            kind(ttheader(&[id, 0x00])),
            TransportErrorKind::UnsupportedProtocol
        );
    }
}

#[test]
fn buffered_list_declaring_2_pow_31_minus_1_elements_is_an_error() {
    #[rustfmt::skip]
    let binary = [
        &PING[..16],                    // message header
        &[0x0f, 0x00, 0x01,             // field 1: list
          0x0c, 0x7f, 0xff, 0xff, 0xff, // of 2^31 - 1 structs
          0x00, 0x00][..],
    ].concat();
    #[rustfmt::skip]
    let compact = [
        0x82, 0x21, 0x01, 0x01, b'p',   // call "p", seqid 1
        0x19,                           // field 1: list
        0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, // of 2^31 - 1 structs
        0x00, 0x00,
    ];
    for bytes in [&binary[..], &compact[..]] {
        let err = decode_one(Dialect::Buffered, bytes).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge);
        assert_eq!(
            err.message(),
            "container of 2147483647 elements cannot fit in a message of at most 16777216 bytes"
        );
    }
    // Negative counts and lengths.
    let negative = [
        &PING[..16],
        &[0x0f, 0x00, 0x01, 0x08, 0xff, 0xff, 0xff, 0xff][..],
    ]
    .concat();
    assert_eq!(
        kind(decode_one(Dialect::Buffered, &negative)),
        TransportErrorKind::NegativeSize
    );
    let negative = [&PING[..16], &[0x0b, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00][..]].concat();
    assert_eq!(
        kind(decode_one(Dialect::Buffered, &negative)),
        TransportErrorKind::NegativeSize
    );
}

#[test]
fn buffered_string_longer_than_the_limit_is_an_error_at_once() {
    let bytes = [&PING[..16], &[0x0b, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff][..]].concat();
    assert_eq!(
        kind(decode_one(Dialect::Buffered, &bytes)),
        TransportErrorKind::FrameTooLarge
    );
}

#[test]
fn fifty_thousand_nested_structs_are_an_error() {
    // Field 1: a struct whose field 1 is a struct whose field 1 is ...
    let binary = [&PING[..16], &[0x0c, 0x00, 0x01].repeat(50_000)].concat();
    // Field +1: a struct ...
    let compact = [&[0x82, 0x21, 0x01, 0x01, b'p'][..], &[0x1c; 50_000]].concat();
    for bytes in [&binary, &compact] {
        let err = decode_one(Dialect::Buffered, bytes).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::DepthLimit);
        assert_eq!(err.message(), "message nested deeper than 64 levels");
        // Detection hands it to the same walker.
        let err = Detect::default()
            .decode(&mut BytesMut::from(&bytes[..]))
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::DepthLimit);
    }
}

#[test]
fn nesting_up_to_the_limit_is_fine() {
    let depth = MAX_MESSAGE_DEPTH;
    let mut binary = PING[..16].to_vec();
    for _ in 1..depth {
        binary.extend_from_slice(&[0x0c, 0x00, 0x01]);
    }
    binary.extend(std::iter::repeat_n(0x00, depth));
    assert_eq!(message_len(&binary, 1 << 20), Ok(Some(binary.len())));
}

#[test]
fn buffered_varint_of_eleven_bytes_is_an_error() {
    let mut bytes = vec![0x82, 0x21, 0x01, 0x01, b'p', 0x16]; // field 1: i64
    bytes.extend_from_slice(&[0x80; 10]);
    bytes.push(0x00);
    let err = decode_one(Dialect::Buffered, &bytes).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(err.message(), "varint longer than 10 bytes");
}

#[test]
fn buffered_unknown_types_are_errors() {
    let bytes = [&PING[..16], &[0x05, 0x00, 0x01][..]].concat();
    assert_eq!(
        decode_one(Dialect::Buffered, &bytes).unwrap_err().message(),
        "unknown type code 5"
    );
    let bytes = [0x82, 0x21, 0x01, 0x01, b'p', 0x1e];
    assert_eq!(
        decode_one(Dialect::Buffered, &bytes).unwrap_err().message(),
        "unknown compact type 14"
    );
    // A non-empty list of stops would take no bytes at all.
    let bytes = [
        &PING[..16],
        &[0x0f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05][..],
    ]
    .concat();
    assert_eq!(
        kind(decode_one(Dialect::Buffered, &bytes)),
        TransportErrorKind::Malformed
    );
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

#[test]
fn finish_over_the_limit_removes_the_frame_and_keeps_earlier_ones() {
    let limits = TransportLimits {
        max_frame_len: 64,
        ..TransportLimits::DEFAULT
    };
    for dialect in DIALECTS {
        let info = FrameInfo::new(dialect, ProtocolId::Binary);
        let mut transport = AnyTransport::new(dialect, limits);
        let mut out = BytesMut::new();
        frame_into(&mut transport, &mut out, &info, &PING);
        let earlier = out.clone();
        let start = transport.begin(&mut out, &info).unwrap();
        out.put_slice(&[0; 100]);
        let err = transport.finish(&mut out, start, &info).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge, "{dialect:?}");
        assert_eq!(out, earlier);
    }
}

#[test]
fn headers_over_the_limit_are_an_error_and_write_nothing() {
    let limits = TransportLimits {
        max_header_len: 32,
        ..TransportLimits::DEFAULT
    };
    for dialect in [Dialect::Header, Dialect::TTHeader] {
        let mut info = FrameInfo::new(dialect, ProtocolId::Binary);
        info.headers
            .insert("key", "a value longer than the header limit");
        let mut out = BytesMut::from(&b"earlier"[..]);
        let err = AnyTransport::new(dialect, limits)
            .begin(&mut out, &info)
            .unwrap_err();
        assert_eq!(
            err.kind(),
            TransportErrorKind::HeaderTooLarge,
            "{dialect:?}"
        );
        assert_eq!(&out[..], b"earlier");
    }
}

#[test]
fn a_foreign_frame_start_is_an_error_not_a_panic() {
    for dialect in DIALECTS {
        let info = FrameInfo::new(dialect, ProtocolId::Binary);
        let mut transport = AnyTransport::new(dialect, TransportLimits::DEFAULT);
        let mut big = BytesMut::from(&[0u8; 64][..]);
        let start = transport.begin(&mut big, &info).unwrap();
        let mut small = BytesMut::new();
        let err = transport.finish(&mut small, start, &info).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Malformed, "{dialect:?}");
    }
}

#[test]
fn headers_get_the_last_value_and_insert_replaces() {
    let mut headers = Headers::new();
    assert!(headers.is_empty());
    headers.append("k", "1");
    headers.append("x", "x");
    headers.append("k", "2");
    assert_eq!(headers.len(), 3);
    assert_eq!(headers.get("k"), Some(&b"2"[..]));
    assert_eq!(headers.get_str("k"), Some("2"));
    assert_eq!(headers.get("missing"), None);
    assert!(headers.contains_key(b"x"));
    headers.insert("k", "3");
    let pairs: Vec<(&[u8], &[u8])> = headers.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert_eq!(pairs, [(&b"k"[..], &b"3"[..]), (b"x", b"x")]);
    // Owned and borrowed, text and bytes.
    headers.insert(String::from("s"), Bytes::from_static(b"\xff"));
    let name = String::from("t");
    headers.insert(name.as_str(), vec![0u8]);
    assert_eq!(name, "t", "borrowed, not moved");
    assert_eq!(headers.get("s"), Some(&b"\xff"[..]));
    assert_eq!(headers.get_str("s"), None);
    assert_eq!(headers.get_bytes("t"), Some(&Bytes::from_static(b"\x00")));
    assert_eq!(headers.remove("k"), Some(Bytes::from_static(b"3")));
    assert_eq!(headers.get("k"), None);

    headers.insert_int(1, "a");
    headers.insert_int(1, "b");
    headers.append_int(2, &[0xff]);
    assert_eq!(headers.get_int(1), Some(&b"b"[..]));
    assert_eq!(headers.get_int_str(1), Some("b"));
    assert_eq!(headers.get_int_str(2), None);
    assert_eq!(headers.iter_ints().len(), 2);
    assert_eq!(headers.remove_int(2), Some(Bytes::from_static(b"\xff")));

    let mut token_only = Headers::new();
    token_only.set_acl_token("");
    assert!(!token_only.is_empty());
    assert_eq!(token_only.acl_token(), Some(&b""[..]));
    token_only.clear();
    assert!(token_only.is_empty());

    let collected: Headers = [("a", "1"), ("a", "2")].into_iter().collect();
    assert_eq!(collected.len(), 2);
    assert_eq!(
        format!("{:?}", {
            let mut h = Headers::new();
            h.insert("k", &b"\x00\xff"[..]);
            h
        }),
        r#"Headers { pairs: {"k": b"\x00\xff"} }"#
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// A struct value for the scanner to walk: fields of every shape, nested.
#[derive(Clone, Debug)]
struct Node(Vec<Field>);

#[derive(Clone, Debug)]
enum Field {
    Bool(bool),
    I16(i16),
    I64(i64),
    Double(f64),
    Text(String),
    Uuid([u8; 16]),
    Bools(Vec<bool>),
    Ints(Vec<i32>),
    Struct(Node),
    Structs(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Field::Bool),
        any::<i16>().prop_map(Field::I16),
        any::<i64>().prop_map(Field::I64),
        any::<f64>().prop_map(Field::Double),
        ".{0,20}".prop_map(Field::Text),
        any::<[u8; 16]>().prop_map(Field::Uuid),
        prop::collection::vec(any::<bool>(), 0..20).prop_map(Field::Bools),
        prop::collection::vec(any::<i32>(), 0..20).prop_map(Field::Ints),
    ];
    let leaves = prop::collection::vec(leaf.clone(), 0..6).prop_map(Node);
    leaves.prop_recursive(4, 64, 6, move |inner| {
        let field = prop_oneof![
            leaf.clone(),
            inner.clone().prop_map(Field::Struct),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Field::Structs),
            prop::collection::vec((".{0,4}", inner), 0..4).prop_map(Field::Map),
        ];
        prop::collection::vec(field, 0..6).prop_map(Node)
    })
}

fn write_node<O: OutputProtocol>(o: &mut O, node: &Node) -> ProtocolResult<()> {
    o.write_struct_begin("Node")?;
    for (i, field) in node.0.iter().enumerate() {
        // Gaps of 1 and of 20: short and absolute compact field ids.
        let id = (i as i16) * if i % 2 == 0 { 1 } else { 20 } + 1;
        match field {
            Field::Bool(v) => {
                o.write_field_begin(TType::Bool, id)?;
                o.write_bool(*v)?;
            }
            Field::I16(v) => {
                o.write_field_begin(TType::I16, id)?;
                o.write_i16(*v)?;
            }
            Field::I64(v) => {
                o.write_field_begin(TType::I64, id)?;
                o.write_i64(*v)?;
            }
            Field::Double(v) => {
                o.write_field_begin(TType::Double, id)?;
                o.write_double(*v)?;
            }
            Field::Text(v) => {
                o.write_field_begin(TType::String, id)?;
                o.write_string(v)?;
            }
            Field::Uuid(v) => {
                o.write_field_begin(TType::Uuid, id)?;
                o.write_uuid(v)?;
            }
            Field::Bools(v) => {
                o.write_field_begin(TType::List, id)?;
                o.write_list_begin(TType::Bool, v.len())?;
                for b in v {
                    o.write_bool(*b)?;
                }
                o.write_list_end()?;
            }
            Field::Ints(v) => {
                o.write_field_begin(TType::Set, id)?;
                o.write_set_begin(TType::I32, v.len())?;
                for n in v {
                    o.write_i32(*n)?;
                }
                o.write_set_end()?;
            }
            Field::Struct(inner) => {
                o.write_field_begin(TType::Struct, id)?;
                write_node(o, inner)?;
            }
            Field::Structs(v) => {
                o.write_field_begin(TType::List, id)?;
                o.write_list_begin(TType::Struct, v.len())?;
                for inner in v {
                    write_node(o, inner)?;
                }
                o.write_list_end()?;
            }
            Field::Map(v) => {
                o.write_field_begin(TType::Map, id)?;
                o.write_map_begin(TType::String, TType::Struct, v.len())?;
                for (key, inner) in v {
                    o.write_string(key)?;
                    write_node(o, inner)?;
                }
                o.write_map_end()?;
            }
        }
        o.write_field_end()?;
    }
    o.write_field_stop()?;
    o.write_struct_end()
}

fn node_message(protocol: ProtocolId, node: &Node) -> Vec<u8> {
    fn write<O: OutputProtocol>(o: &mut O, node: &Node) -> ProtocolResult<()> {
        o.write_message_begin(&MessageHeader {
            name: "walk".to_owned().into(),
            kind: MessageType::Reply,
            seqid: -1,
        })?;
        write_node(o, node)?;
        o.write_message_end()
    }
    let mut out = BytesMut::new();
    let written = match protocol {
        ProtocolId::Binary => write(&mut BinaryWriter::new(&mut out), node),
        ProtocolId::Compact => write(&mut CompactWriter::new(&mut out), node),
        other => panic!("no writer for {other:?}"),
    };
    written.expect("a valid node");
    out.to_vec()
}

/// Valid frames of every dialect, to mutate.
fn sample_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for dialect in DIALECTS {
        for protocol in PROTOCOLS {
            let info = rich_info(dialect, protocol);
            frames.push(framed(dialect, &info, &call(protocol, 1, 8)).to_vec());
        }
    }
    frames
}

/// Decodes everything it can; must never panic.
fn drain(transport: &mut impl Transport, bytes: &[u8]) {
    let mut input = BytesMut::from(bytes);
    while let Ok(Some(_)) = transport.decode(&mut input) {}
}

proptest! {
    #[test]
    fn the_scanner_finds_the_end_of_any_message(node in node(), compact in any::<bool>()) {
        let protocol = if compact { ProtocolId::Compact } else { ProtocolId::Binary };
        let message = node_message(protocol, &node);
        prop_assert_eq!(message_len(&message, 1 << 20), Ok(Some(message.len())));
        // Growing one byte at a time through one (resuming) scanner.
        let mut scanner = MessageScanner::new(1 << 20);
        for cut in 0..message.len() {
            prop_assert_eq!(scanner.scan(&message[..cut]), Ok(None));
        }
        prop_assert_eq!(scanner.scan(&message), Ok(Some(message.len())));
        // With the next message behind it.
        let two = [&message[..], &message[..]].concat();
        prop_assert_eq!(message_len(&two, 1 << 20), Ok(Some(message.len())));
    }

    #[test]
    fn random_bytes_never_panic_detect(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        drain(&mut Detect::default(), &bytes);
        for dialect in DIALECTS {
            drain(&mut AnyTransport::new(dialect, TransportLimits::DEFAULT), &bytes);
        }
    }

    #[test]
    fn mutated_frames_never_panic_detect(
        which in 0..8usize,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut frame = sample_frames().swap_remove(which);
        for (at, byte) in edits {
            let at = at.index(frame.len());
            frame[at] = byte;
        }
        let keep = cut.index(frame.len() + 1);
        frame.truncate(keep);
        frame.extend_from_slice(&tail);
        drain(&mut Detect::default(), &frame);
        for dialect in DIALECTS {
            drain(&mut AnyTransport::new(dialect, TransportLimits::DEFAULT), &frame);
        }
    }

    #[test]
    fn valid_prefixes_then_random_bytes_never_panic(
        prefix in prop::sample::select(vec![
            vec![0x80, 0x01, 0x00, 0x01],
            vec![0x82, 0x21],
            vec![0x00, 0x00, 0x01, 0x00, 0x0f, 0xff],
            vec![0x00, 0x00, 0x01, 0x00, 0x10, 0x00],
            vec![0x00, 0x00, 0x01, 0x00, 0x80, 0x01, 0x00, 0x01],
            vec![0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g'],
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let bytes = [prefix, tail].concat();
        drain(&mut Detect::default(), &bytes);
    }
}

// ---------------------------------------------------------------------------
// TTHeader's framed payload (Kitex's TTHeaderFramed, Volo's default)
// ---------------------------------------------------------------------------

/// A TTHeader frame with an empty header and `payload` after it.
fn ttheader_with_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&((10 + 4 + payload.len()) as u32).to_be_bytes());
    out.extend_from_slice(&[0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01]);
    out.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // binary, no transforms, padding
    out.extend_from_slice(payload);
    out
}

#[test]
fn ttheader_payload_shape_is_told_from_its_first_bytes() {
    // Bare: a strict binary message (0x80 0x01).
    let frame = decode_one(Dialect::TTHeader, &ttheader_with_payload(&PING))
        .unwrap()
        .unwrap();
    assert!(!frame.info.framed_payload);
    assert_eq!(&frame.payload[..], &PING);
    // Framed: a length equal to the rest, then the message.
    let framed_ping = [&[0x00, 0x00, 0x00, 0x11][..], &PING[..]].concat();
    let wire = ttheader_with_payload(&framed_ping);
    let frame = decode_one(Dialect::TTHeader, &wire).unwrap().unwrap();
    assert!(frame.info.framed_payload);
    assert_eq!(frame.info.seq_id, 9);
    assert_eq!(&frame.payload[..], &PING);
    // Written back in the same shape, byte for byte.
    assert_eq!(
        &framed(Dialect::TTHeader, &frame.info, &frame.payload)[..],
        &wire[..]
    );
    // Bare compact (0x82).
    let compact = call(ProtocolId::Compact, 3, 0);
    let frame = decode_one(Dialect::TTHeader, &ttheader_with_payload(&compact))
        .unwrap()
        .unwrap();
    assert!(!frame.info.framed_payload);
    assert_eq!(frame.payload, compact);
    // Bare old non-strict binary: a name length that is not the rest.
    #[rustfmt::skip]
    let non_strict = [
        0x00, 0x00, 0x00, 0x04, b'p', b'i', b'n', b'g', // name "ping"
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00,             // call, seqid 1, stop
    ];
    let frame = decode_one(Dialect::TTHeader, &ttheader_with_payload(&non_strict))
        .unwrap()
        .unwrap();
    assert!(!frame.info.framed_payload);
    assert_eq!(&frame.payload[..], &non_strict);
}

#[test]
fn a_framed_ttheader_payload_with_the_wrong_length_is_an_error() {
    let framed_ping = [&[0x00, 0x00, 0x00, 0x10][..], &PING[..]].concat();
    let err = decode_one(Dialect::TTHeader, &ttheader_with_payload(&framed_ping)).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Malformed);
    assert_eq!(
        err.message(),
        "TTHeader payload of 17 bytes after its length holds a framed message of 16 bytes"
    );
}

#[test]
fn a_framed_ttheader_payload_round_trips_with_zlib_and_split_anywhere() {
    let mut info = rich_info(Dialect::TTHeader, ProtocolId::Compact);
    info.transforms = vec![Transform::Zlib];
    assert!(info.framed_payload);
    let payload = call(ProtocolId::Compact, 5, 300);
    let wire = framed(Dialect::TTHeader, &info, &payload);
    for cut in 0..wire.len() {
        let mut transport = TTHeader::default();
        let mut input = BytesMut::from(&wire[..cut]);
        assert!(transport.decode(&mut input).unwrap().is_none(), "cut {cut}");
        input.extend_from_slice(&wire[cut..]);
        let frame = transport.decode(&mut input).unwrap().unwrap();
        assert_eq!(frame.payload, payload);
        assert_eq!(frame.info, info);
    }
}
