//! Apache's JSON protocol: exact text for every type, what Apache's libraries
//! write that the spec does not (bare `nan`/`inf`, raw control characters,
//! unpadded base64), and every limit and malformed input as an error.

use bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    InputProtocol, JsonReader, JsonWriter, Limits, MessageHeader, OutputProtocol,
    ProtocolErrorKind, Result, UnknownFields,
};
use thriftgen_runtime::transport::{
    detect_dialect, message_len, Buffered, Dialect, Framed, ProtocolId, Transport,
    TransportErrorKind,
};
use thriftgen_runtime::{MessageType, TType};

fn json(write: impl FnOnce(&mut JsonWriter<'_>) -> Result<()>) -> String {
    let mut out = BytesMut::new();
    write(&mut JsonWriter::new(&mut out)).unwrap();
    String::from_utf8(out.to_vec()).unwrap()
}

fn reader(text: &str) -> JsonReader {
    JsonReader::new(Bytes::copy_from_slice(text.as_bytes()))
}

/// A struct with one field of `ttype` whose value `write` writes.
fn one_field(
    ttype: TType,
    write: impl FnOnce(&mut JsonWriter<'_>) -> Result<()>,
) -> impl FnOnce(&mut JsonWriter<'_>) -> Result<()> {
    move |o| {
        o.write_struct_begin("S")?;
        o.write_field_begin(ttype, 1)?;
        write(o)?;
        o.write_field_end()?;
        o.write_field_stop()?;
        o.write_struct_end()
    }
}

/// Reads `{"1":{"<type>":<value>}}` with `read`.
fn read_one<T>(text: &str, read: impl FnOnce(&mut JsonReader) -> Result<T>) -> Result<T> {
    let mut r = reader(text);
    r.read_struct_begin()?;
    r.read_field_begin()?;
    let value = read(&mut r)?;
    r.read_field_end()?;
    assert_eq!(r.read_field_begin()?.ttype, TType::Stop);
    r.read_struct_end()?;
    Ok(value)
}

fn error<T: std::fmt::Debug>(result: Result<T>) -> (ProtocolErrorKind, String) {
    let err = result.unwrap_err();
    (err.kind(), err.to_string())
}

#[test]
fn message_header_and_end() {
    let header = MessageHeader {
        name: "svc:method".into(),
        kind: MessageType::Oneway,
        seqid: -5,
    };
    let text = json(|o| {
        o.write_message_begin(&header)?;
        o.write_struct_begin("Args")?;
        o.write_field_stop()?;
        o.write_struct_end()?;
        o.write_message_end()
    });
    assert_eq!(text, r#"[1,"svc:method",4,-5,{}]"#);
    let mut r = reader(&text);
    assert_eq!(r.read_message_begin().unwrap(), header);
    r.skip(TType::Struct).unwrap();
    r.read_message_end().unwrap();
    assert_eq!(r.remaining(), 0);
}

type WriteFn = dyn Fn(&mut JsonWriter<'_>) -> Result<()>;

#[test]
fn every_scalar_as_apache_writes_it() {
    #[rustfmt::skip]
    let cases: Vec<(TType, Box<WriteFn>, &str)> = vec![
        (TType::Bool, Box::new(|o| o.write_bool(true)), r#"{"1":{"tf":1}}"#),
        (TType::I8, Box::new(|o| o.write_i8(i8::MIN)), r#"{"1":{"i8":-128}}"#),
        (TType::I16, Box::new(|o| o.write_i16(i16::MAX)), r#"{"1":{"i16":32767}}"#),
        (TType::I32, Box::new(|o| o.write_i32(i32::MIN)), r#"{"1":{"i32":-2147483648}}"#),
        (TType::I64, Box::new(|o| o.write_i64(i64::MIN)), r#"{"1":{"i64":-9223372036854775808}}"#),
        (TType::Double, Box::new(|o| o.write_double(0.1)), r#"{"1":{"dbl":0.1}}"#),
        (TType::Double, Box::new(|o| o.write_double(1e100)), r#"{"1":{"dbl":1e100}}"#),
        (TType::Double, Box::new(|o| o.write_double(f64::NAN)), r#"{"1":{"dbl":"NaN"}}"#),
        (TType::Double, Box::new(|o| o.write_double(f64::INFINITY)), r#"{"1":{"dbl":"Infinity"}}"#),
        (TType::Double, Box::new(|o| o.write_double(f64::NEG_INFINITY)), r#"{"1":{"dbl":"-Infinity"}}"#),
        (TType::String, Box::new(|o| o.write_string("a\"\\/\n\u{1}\u{7f}é😀")),
            "{\"1\":{\"str\":\"a\\\"\\\\/\\n\\u0001\u{7f}é😀\"}}"),
        (TType::String, Box::new(|o| o.write_binary(b"\xfb\xff")), r#"{"1":{"str":"+/8="}}"#),
        (TType::Uuid, Box::new(|o| o.write_uuid(&[0xab; 16])),
            r#"{"1":{"uid":"abababab-abab-abab-abab-abababababab"}}"#),
    ];
    for (ttype, write, want) in cases {
        assert_eq!(json(one_field(ttype, write)), want);
    }
}

#[test]
fn containers_and_keys_in_quotes() {
    let text = json(|o| {
        o.write_map_begin(TType::I64, TType::List, 2)?;
        o.write_i64(-1)?;
        o.write_list_begin(TType::Bool, 2)?;
        o.write_bool(true)?;
        o.write_bool(false)?;
        o.write_list_end()?;
        o.write_i64(2)?;
        o.write_list_begin(TType::Bool, 0)?;
        o.write_list_end()?;
        o.write_map_end()
    });
    assert_eq!(text, r#"["i64","lst",2,{"-1":["tf",2,1,0],"2":["tf",0]}]"#);
    let mut r = reader(&text);
    let map = r.read_map_begin().unwrap();
    assert_eq!((map.key, map.value, map.len), (TType::I64, TType::List, 2));
    assert_eq!(r.read_i64().unwrap(), -1);
    assert_eq!(r.read_list_begin().unwrap().len, 2);
    assert!(r.read_bool().unwrap());
    assert!(!r.read_bool().unwrap());
    r.read_list_end().unwrap();
    assert_eq!(r.read_i64().unwrap(), 2);
    assert_eq!(r.read_list_begin().unwrap().len, 0);
    r.read_list_end().unwrap();
    r.read_map_end().unwrap();

    // Doubles and bools as keys are quoted too; set elements are not.
    let text = json(|o| {
        o.write_map_begin(TType::Double, TType::Bool, 1)?;
        o.write_double(f64::INFINITY)?;
        o.write_bool(true)?;
        o.write_map_end()?;
        o.write_set_begin(TType::Double, 1)?;
        o.write_double(-2.5)?;
        o.write_set_end()
    });
    assert_eq!(text, r#"["dbl","tf",1,{"Infinity":1}]["dbl",1,-2.5]"#);
}

#[test]
fn reads_what_apache_python_writes() {
    // Bare `nan`/`inf`/`-inf`, integral doubles without a fraction, and a
    // quoted double key ("{0:.17g}" formatting).
    for (text, want) in [
        ("nan", f64::NAN),
        ("inf", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("-0", -0.0),
        ("1.0000000000000000e+100", 1e100),
        ("0.10000000000000001", 0.1),
        (r#""NaN""#, f64::NAN),
        (r#""-Infinity""#, f64::NEG_INFINITY),
    ] {
        let got = read_one(&format!(r#"{{"1":{{"dbl":{text}}}}}"#), |r| r.read_double()).unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "{text}");
    }
    // Raw control characters and raw UTF-8 in strings; `\/`; surrogate pairs.
    let got = read_one(
        "{\"1\":{\"str\":\"\u{0}\u{1f}é\\/\\ud83d\\ude00\\u00e9\"}}",
        |r| r.read_string(),
    )
    .unwrap();
    assert_eq!(got, "\u{0}\u{1f}é/😀é");
    // Base64 with and without padding.
    for text in ["AAH/", "AAE=", "AAE"] {
        let got = read_one(&format!(r#"{{"1":{{"str":"{text}"}}}}"#), |r| {
            r.read_binary()
        });
        assert!(got.is_ok(), "{text}");
    }
    // Whitespace between tokens.
    let got = read_one(" { \"1\" : { \"i32\" : 7 } } ", |r| r.read_i32()).unwrap();
    assert_eq!(got, 7);
}

#[test]
fn strings_without_escapes_are_slices_of_the_input() {
    let input = Bytes::from_static(br#"{"1":{"str":"a string longer than twenty-three bytes"}}"#);
    let mut r = JsonReader::new(input.clone());
    r.read_struct_begin().unwrap();
    r.read_field_begin().unwrap();
    let text = r.read_byte_string().unwrap();
    assert_eq!(&*text, "a string longer than twenty-three bytes");
    let range = input.as_ptr_range();
    assert!(range.contains(&text.as_ptr()));
}

#[test]
fn numbers_out_of_range_are_errors() {
    for (ttype, value, want) in [
        ("i8", "128", "128 does not fit in an i8"),
        ("i8", "-129", "-129 does not fit in an i8"),
        ("i16", "32768", "32768 does not fit in an i16"),
        ("i32", "2147483648", "2147483648 does not fit in an i32"),
        (
            "i64",
            "9223372036854775808",
            "`9223372036854775808` is not an integer",
        ),
        ("i32", "1.5", "`1.5` is not an integer"),
        ("i32", "\"1\"", "expected an integer in JSON"),
        ("i32", "x", "expected an integer in JSON"),
    ] {
        let text = format!(r#"{{"1":{{"{ttype}":{value}}}}}"#);
        let got = read_one(&text, |r| match ttype {
            "i8" => r.read_i8().map(i64::from),
            "i16" => r.read_i16().map(i64::from),
            "i32" => r.read_i32().map(i64::from),
            _ => r.read_i64(),
        });
        assert_eq!(
            error(got),
            (ProtocolErrorKind::InvalidData, want.to_string()),
            "{text}"
        );
    }
    let got = read_one(r#"{"70000":{"i32":1}}"#, |r| r.read_i32());
    assert_eq!(error(got).1, "70000 does not fit in an i16 field id");
}

#[test]
fn malformed_json_is_an_error() {
    let cases = [
        (
            r#"{"1":{"str":"\x"}}"#,
            "invalid escape `\\x` in a JSON string",
        ),
        (r#"{"1":{"str":"\u12G4"}}"#, "invalid \\u escape `\\u12G4`"),
        (
            r#"{"1":{"str":"\ud800x"}}"#,
            "high surrogate \\ud800 not followed by a low surrogate",
        ),
        (
            r#"{"1":{"str":"\ud800\u0041"}}"#,
            "high surrogate \\ud800 followed by \\u0041, not a low surrogate",
        ),
        (
            r#"{"1":{"str":"\udc00"}}"#,
            "low surrogate \\udc00 without a high surrogate",
        ),
        (r#"{"1":{"str":"\u00"#, "unexpected end of input"),
        (r#"{"1":{"str":"abc"#, "unexpected end of input"),
        (r#"{"1" {"str":""}}"#, "expected `:`, found `{` in JSON"),
        (r#"{"1":{"xyz":1}}"#, "unknown JSON type name `xyz`"),
    ];
    for (text, want) in cases {
        let got = read_one(text, |r| {
            let _ = r.read_string()?;
            Ok(())
        });
        assert_eq!(error(got).1, want, "{text}");
    }
    let got = read_one(r#"{"1":{"dbl":"abc"}}"#, |r| r.read_double());
    assert_eq!(error(got).1, "`abc` is not a double");
    let got = read_one(r#"{"1":{"dbl":1e999999x}}"#, |r| r.read_double());
    assert_eq!(error(got).1, "`1e999999x` is not a double");
    // Bad base64.
    for (text, want) in [
        ("A", "invalid base64: 1 characters"),
        ("AA=A", "invalid base64 character `=`"),
        ("AAA*", "invalid base64 character `*`"),
        ("AA=", "invalid base64: 3 characters"),
    ] {
        let got = read_one(&format!(r#"{{"1":{{"str":"{text}"}}}}"#), |r| {
            r.read_binary()
        });
        assert_eq!(error(got).1, want, "{text}");
    }
    // Invalid UTF-8, raw and escaped.
    let mut r = JsonReader::new(Bytes::from_static(b"\"\xff\""));
    assert_eq!(error(r.read_string()).1, "invalid UTF-8 at byte 0");
    // Bad message headers.
    let mut r = reader(r#"[2,"m",1,0,{}]"#);
    assert_eq!(
        error(r.read_message_begin()),
        (
            ProtocolErrorKind::BadVersion,
            "unknown JSON protocol version 2".into()
        )
    );
    let mut r = reader(r#"[1,"m",9,0,{}]"#);
    assert_eq!(error(r.read_message_begin()).1, "unknown message type 9");
    let mut r = reader("");
    assert_eq!(
        error(r.read_message_begin()).0,
        ProtocolErrorKind::UnexpectedEof
    );
}

#[test]
fn limits_are_errors() {
    let tight = Limits {
        max_depth: 3,
        max_string_len: 4,
        max_container_len: 2,
        ..Limits::DEFAULT
    };
    let with = |text: &str| JsonReader::with_limits(Bytes::copy_from_slice(text.as_bytes()), tight);
    // String length, unescaped and escaped, and binary's decoded length.
    assert_eq!(
        error(with(r#""12345""#).read_string()),
        (
            ProtocolErrorKind::SizeLimit,
            "string of 5 bytes is over the limit of 4".into()
        )
    );
    assert_eq!(
        error(with(r#""\n\n\n\n\n""#).read_string()).0,
        ProtocolErrorKind::SizeLimit
    );
    assert_eq!(
        error(with(r#""AAAAAAAA""#).read_binary()).0,
        ProtocolErrorKind::SizeLimit
    );
    assert_eq!(&with(r#""AAAA""#).read_binary().unwrap()[..], [0, 0, 0]);
    // Container counts: the limit, the bytes left, negative.
    assert_eq!(
        error(with(r#"["i8",3,1,2,3]"#).read_list_begin()).1,
        "container of 3 elements is over the limit of 2"
    );
    let mut r = JsonReader::new(Bytes::from_static(br#"["i32",1000000,1]"#));
    assert_eq!(
        error(r.read_list_begin()).1,
        "container of 1000000 elements cannot fit in the 3 bytes left"
    );
    let mut r = JsonReader::new(Bytes::from_static(br#"["str","i32",2147483647,{}]"#));
    assert_eq!(error(r.read_map_begin()).0, ProtocolErrorKind::SizeLimit);
    let mut r = JsonReader::new(Bytes::from_static(br#"["i8",-1]"#));
    assert_eq!(
        error(r.read_set_begin()),
        (
            ProtocolErrorKind::NegativeSize,
            "negative container size -1".into()
        )
    );
    // Depth: structs and containers, read and skipped.
    let deep = r#"{"1":{"rec":{"1":{"rec":{"1":{"rec":{}}}}}}}"#;
    assert_eq!(
        error(with(deep).skip(TType::Struct)).0,
        ProtocolErrorKind::DepthLimit
    );
    let deep = "[\"lst\",1,".repeat(100) + &"]".repeat(100);
    assert_eq!(
        error(JsonReader::new(Bytes::from(deep)).skip(TType::List)).0,
        ProtocolErrorKind::DepthLimit
    );
    // Writing too deep.
    let mut out = BytesMut::new();
    let mut w = JsonWriter::with_limits(&mut out, tight);
    let deepest = (0..10).find_map(|_| w.write_struct_begin("Deep").err());
    assert_eq!(deepest.unwrap().kind(), ProtocolErrorKind::DepthLimit);
}

#[test]
fn truncation_anywhere_is_an_error_never_a_panic() {
    let text = json(|o| {
        o.write_message_begin(&MessageHeader {
            name: "m".into(),
            kind: MessageType::Call,
            seqid: 1,
        })?;
        one_field(TType::Map, |o| {
            o.write_map_begin(TType::String, TType::Double, 1)?;
            o.write_string("k\n")?;
            o.write_double(f64::NAN)?;
            o.write_map_end()
        })(o)?;
        o.write_message_end()
    });
    for cut in 0..text.len() {
        let mut r = JsonReader::new(Bytes::copy_from_slice(&text.as_bytes()[..cut]));
        let result = r
            .read_message_begin()
            .and_then(|_| r.skip(TType::Struct))
            .and_then(|()| r.read_message_end());
        assert!(result.is_err(), "cut at {cut}");
    }
}

#[test]
fn unknown_fields_pass_through_as_json() {
    let text = r#"{"1":{"i32":5},"7":{"lst":["str",2,"x\n","AAH/"]},"8":{"tf":1}}"#;
    let mut r = reader(text);
    r.read_struct_begin().unwrap();
    let mut unknown = UnknownFields::new();
    loop {
        let field = r.read_field_begin().unwrap();
        if field.ttype == TType::Stop {
            break;
        }
        unknown.read_field(&mut r, field.id, field.ttype).unwrap();
        r.read_field_end().unwrap();
    }
    r.read_struct_end().unwrap();
    let first = unknown.iter().next().unwrap();
    assert_eq!(first.value.protocol(), ProtocolId::Json);
    assert_eq!(&first.value.bytes()[..], b"5");
    let again = json(|o| {
        o.write_struct_begin("S")?;
        unknown.write(o)?;
        o.write_field_stop()?;
        o.write_struct_end()
    });
    assert_eq!(again, text);
    // Into the compact protocol: strings come through as text.
    let mut out = BytesMut::new();
    let mut w = thriftgen_runtime::protocol::CompactWriter::new(&mut out);
    w.write_struct_begin("S").unwrap();
    unknown.write(&mut w).unwrap();
    w.write_field_stop().unwrap();
    w.write_struct_end().unwrap();
    let mut c = thriftgen_runtime::protocol::CompactReader::new(out.freeze());
    c.read_struct_begin().unwrap();
    c.read_field_begin().unwrap();
    assert_eq!(c.read_i32().unwrap(), 5);
    c.read_field_begin().unwrap();
    c.read_list_begin().unwrap();
    assert_eq!(c.read_string().unwrap(), "x\n");
    assert_eq!(c.read_string().unwrap(), "AAH/");
}

#[test]
fn json_messages_are_detected_and_cut() {
    let message = br#"[1,"a]b\"}",1,0,{"1":{"str":"[{\\"}}]"#;
    assert_eq!(detect_dialect(b"["), Ok(Some(Dialect::Buffered)));
    assert_eq!(detect_dialect(b"\0\0\0\x10[1"), Ok(Some(Dialect::Framed)));
    assert_eq!(message_len(message, 1 << 20), Ok(Some(message.len())));
    for cut in 0..message.len() {
        assert_eq!(message_len(&message[..cut], 1 << 20), Ok(None), "cut {cut}");
    }
    // Two messages in one read: the first ends at its closing bracket.
    let mut input = BytesMut::from(&message[..]);
    input.extend_from_slice(message);
    let mut buffered = Buffered::default();
    let frame = buffered.decode(&mut input).unwrap().unwrap();
    assert_eq!(frame.info.protocol, ProtocolId::Json);
    assert_eq!(&frame.payload[..], &message[..]);
    assert_eq!(input.len(), message.len());
    // Framed.
    let mut input = BytesMut::from(&(message.len() as u32).to_be_bytes()[..]);
    input.extend_from_slice(message);
    let frame = Framed::default().decode(&mut input).unwrap().unwrap();
    assert_eq!(frame.info.protocol, ProtocolId::Json);
    // Limits: length and nesting.
    let err = message_len(message, 10).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge);
    let deep = "[".repeat(200);
    let err = message_len(deep.as_bytes(), 1 << 20).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::DepthLimit);
}
