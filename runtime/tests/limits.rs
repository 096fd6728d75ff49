//! Crafted inputs that crash or abort other Thrift implementations: each must
//! be a clean error here, without a panic or a large allocation.
//!
//! A struct is read the way a decoder that does not know its fields reads
//! it, with `skip`, which exercises every length, count and depth check.

use bytes::Bytes;
use thriftgen_runtime::protocol::{
    BinaryReader, CompactReader, InputProtocol, Limits, ProtocolError, ProtocolErrorKind,
};
use thriftgen_runtime::TType;

fn binary(bytes: Vec<u8>) -> Result<(), ProtocolError> {
    BinaryReader::new(Bytes::from(bytes)).skip(TType::Struct)
}

fn compact(bytes: Vec<u8>) -> Result<(), ProtocolError> {
    CompactReader::new(Bytes::from(bytes)).skip(TType::Struct)
}

fn kind(result: Result<(), ProtocolError>) -> ProtocolErrorKind {
    result.expect_err("a crafted input must be an error").kind()
}

#[test]
fn list_of_structs_declaring_2_pow_31_minus_1_elements_in_12_bytes() {
    #[rustfmt::skip]
    let bytes = vec![
        0x0f, 0x00, 0x01,               // field 1: list
        0x0c, 0x7f, 0xff, 0xff, 0xff,   // of struct, 2^31 - 1 elements
        0x00, 0x00, 0x00, 0x00,         // and four bytes of data
    ];
    assert_eq!(bytes.len(), 12);
    let err = binary(bytes).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::SizeLimit);
    assert_eq!(
        err.message(),
        "container of 2147483647 elements is over the limit of 16777216"
    );
}

#[test]
fn list_within_the_count_limit_but_beyond_the_bytes_left() {
    #[rustfmt::skip]
    let bytes = vec![
        0x0f, 0x00, 0x01,               // field 1: list
        0x08, 0x00, 0x10, 0x00, 0x00,   // of i32, 1 Mi elements (4 MiB)
        0x00, 0x00, 0x00, 0x01,         // with one element's bytes
    ];
    let err = binary(bytes).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::SizeLimit);
    assert_eq!(
        err.message(),
        "container of 1048576 elements cannot fit in the 4 bytes left"
    );
}

#[test]
fn negative_list_size() {
    #[rustfmt::skip]
    let bytes = vec![
        0x0f, 0x00, 0x01,               // field 1: list
        0x08, 0xff, 0xff, 0xff, 0xfe,   // of i32, -2 elements
    ];
    assert_eq!(kind(binary(bytes)), ProtocolErrorKind::NegativeSize);
    // Compact: long form, varint 0xfffffffe is -2 as an i32.
    let bytes = vec![0x19, 0xf5, 0xfe, 0xff, 0xff, 0xff, 0x0f];
    assert_eq!(kind(compact(bytes)), ProtocolErrorKind::NegativeSize);
}

#[test]
fn string_length_longer_than_the_data() {
    #[rustfmt::skip]
    let bytes = vec![
        0x0b, 0x00, 0x01,               // field 1: string
        0x00, 0x00, 0x10, 0x00,         // of 4096 bytes
        b'a', b'b', b'c',               // but three follow
    ];
    let err = binary(bytes).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::SizeLimit);
    assert_eq!(err.message(), "length 4096 is more than the 3 bytes left");
    assert_eq!(
        kind(compact(vec![0x18, 0x80, 0x20, b'a'])),
        ProtocolErrorKind::SizeLimit
    );
}

#[test]
fn self_referencing_struct_nested_50_000_deep() {
    // Field 1 of type struct, again and again: 3 bytes a level, 150 KB.
    let bytes: Vec<u8> = [0x0c, 0x00, 0x01].repeat(50_000);
    assert_eq!(bytes.len(), 150_000);
    let err = binary(bytes).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::DepthLimit);
    assert_eq!(err.message(), "nested deeper than 64 levels");
    // Compact: delta 1, STRUCT, 1 byte a level.
    assert_eq!(
        kind(compact(vec![0x1c; 50_000])),
        ProtocolErrorKind::DepthLimit
    );
}

#[test]
fn containers_nested_deeper_than_the_limit() {
    // A list of lists of lists ...: the depth limit counts containers too.
    let mut bytes = vec![0x0f, 0x00, 0x01];
    for _ in 0..1000 {
        bytes.extend_from_slice(&[0x0f, 0x00, 0x00, 0x00, 0x01]);
    }
    assert_eq!(kind(binary(bytes)), ProtocolErrorKind::DepthLimit);
}

#[test]
fn map_of_string_to_struct_declaring_60_million_entries_in_9_bytes() {
    #[rustfmt::skip]
    let bytes = vec![
        0x0d, 0x00, 0x01,               // field 1: map
        0x0b, 0x0c,                     // string -> struct
        0x03, 0x93, 0x87, 0x00,         // 60,000,000 entries
    ];
    assert_eq!(bytes.len(), 9);
    assert_eq!(kind(binary(bytes)), ProtocolErrorKind::SizeLimit);
    // With a higher count limit it is still refused: the bytes are not there.
    let limits = Limits {
        max_container_len: usize::MAX,
        ..Limits::DEFAULT
    };
    let bytes = vec![0x0d, 0x00, 0x01, 0x0b, 0x0c, 0x03, 0x93, 0x87, 0x00];
    let err = BinaryReader::with_limits(Bytes::from(bytes), limits)
        .skip(TType::Struct)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "container of 60000000 elements cannot fit in the 0 bytes left"
    );
}

#[test]
fn compact_varint_of_11_bytes() {
    // Field 1: i64, then eleven bytes with the continuation bit set but the last.
    let mut bytes = vec![0x16];
    bytes.extend_from_slice(&[0xff; 10]);
    bytes.push(0x01);
    let err = compact(bytes).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::InvalidData);
    // And a 10-byte varint whose last byte overflows 64 bits.
    let mut bytes = vec![0x16];
    bytes.extend_from_slice(&[0xff; 9]);
    bytes.push(0x02);
    assert_eq!(
        compact(bytes).unwrap_err().message(),
        "varint overflows 64 bits"
    );
}

#[test]
fn compact_struct_that_declares_a_bool_field_and_ends() {
    // Delta 1, BOOLEAN_TRUE: the value is in the header; then nothing, not
    // even the stop byte.
    let err = compact(vec![0x11]).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::UnexpectedEof);
}

#[test]
fn invalid_utf8_in_a_string() {
    let mut reader = BinaryReader::new(Bytes::from_static(&[0, 0, 0, 2, 0xc3, 0x28]));
    let err = reader.read_string().unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::InvalidData);
    assert_eq!(err.message(), "invalid UTF-8 at byte 0");
}

#[test]
fn unknown_type_codes_are_errors() {
    assert_eq!(
        kind(binary(vec![0x05, 0x00, 0x01])),
        ProtocolErrorKind::InvalidData
    );
    assert_eq!(kind(compact(vec![0x1e])), ProtocolErrorKind::InvalidData);
    // A list whose elements claim to be `stop`.
    assert_eq!(
        kind(binary(vec![0x0f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01])),
        ProtocolErrorKind::InvalidData
    );
}

#[test]
fn bad_message_headers() {
    let mut reader = BinaryReader::new(Bytes::from_static(&[0x80, 0x02, 0x00, 0x01]));
    assert_eq!(
        reader.read_message_begin().unwrap_err().kind(),
        ProtocolErrorKind::BadVersion
    );
    let mut reader = CompactReader::new(Bytes::from_static(&[0x81, 0x21]));
    assert_eq!(
        reader.read_message_begin().unwrap_err().kind(),
        ProtocolErrorKind::BadVersion
    );
    let mut reader = CompactReader::new(Bytes::from_static(&[0x82, 0x22]));
    assert_eq!(
        reader.read_message_begin().unwrap_err().kind(),
        ProtocolErrorKind::BadVersion
    );
}

#[test]
fn capacity_is_capped_before_elements_arrive() {
    let reader = BinaryReader::new(Bytes::new());
    assert_eq!(reader.capacity::<u8>(10), 10);
    assert_eq!(reader.capacity::<[u8; 1024]>(1 << 20), 1024);
}

#[test]
fn every_truncation_of_a_valid_message_is_an_error_not_a_panic() {
    let bytes = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/sample.compact.hex"
    ))
    .unwrap();
    let bytes: Vec<u8> = (0..bytes.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&bytes[i..i + 2], 16).unwrap())
        .collect();
    for end in 0..bytes.len() {
        let mut reader = CompactReader::new(Bytes::copy_from_slice(&bytes[..end]));
        let result = reader
            .read_message_begin()
            .and_then(|_| reader.skip(TType::Struct));
        assert!(result.is_err(), "truncated at {end}");
    }
}
