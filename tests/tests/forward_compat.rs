//! Forward compatibility: what an older peer does with a newer peer's
//! message. `unions.thrift`'s `New*` types are the `Old*` ones with fields
//! added. With `keep_unknown_fields` (`gen_keep`) the older side passes the
//! newer message on whole, in either protocol; without it (`gen`) the unknown
//! fields are skipped and a union's unknown variant keeps its field id.

use proptest::prelude::*;
use thriftgen_runtime::bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, ProtocolErrorKind, ProtocolId,
};
use thriftgen_runtime::{Struct, TType};
use thriftgen_tests::gen::unions as plain;
use thriftgen_tests::gen_keep::unions as keep;

fn binary<T: Struct>(value: &T) -> Bytes {
    let mut out = BytesMut::new();
    value.write(&mut BinaryWriter::new(&mut out)).unwrap();
    out.freeze()
}

fn compact<T: Struct>(value: &T) -> Bytes {
    let mut out = BytesMut::new();
    value.write(&mut CompactWriter::new(&mut out)).unwrap();
    out.freeze()
}

fn from_binary<T: Struct>(bytes: Bytes) -> T {
    T::read(&mut BinaryReader::new(bytes)).unwrap()
}

fn from_compact<T: Struct>(bytes: Bytes) -> T {
    T::read(&mut CompactReader::new(bytes)).unwrap()
}

fn inner(id: i64, on: Option<bool>) -> keep::NewInner {
    keep::NewInner {
        id: Some(id),
        on,
        _unknown_fields: Default::default(),
    }
}

fn newer(choice: keep::NewChoice) -> keep::NewMessage {
    keep::NewMessage {
        id: Some(7),
        choice: Some(choice),
        after: Some(-1),
        flag: Some(true),
        other_flag: Some(false),
        text: Some("added later".into()),
        inners: Some(vec![inner(1, Some(true)), inner(2, None)]),
        by_name: Some([("a".to_string(), inner(3, Some(false)))].into()),
        empty_map: Some(Default::default()),
        flags: Some([true, false].into()),
        ratio: Some(0.25),
        key: Some([0xab; 16]),
        far_away: Some(Bytes::from_static(b"\x00\xffraw")),
        _unknown_fields: Default::default(),
    }
}

/// Every way round: newer encoded, decoded as older (keeping what it does
/// not know), re-encoded in the same or the other protocol, decoded as
/// newer: the original.
fn passes_on_whole(original: &keep::NewMessage) {
    let via_binary: keep::OldMessage = from_binary(binary(original));
    let via_compact: keep::OldMessage = from_compact(compact(original));
    assert!(!via_binary._unknown_fields.is_empty());
    assert_eq!(via_binary.id, original.id);
    assert_eq!(via_binary.after, original.after);
    for old in [&via_binary, &via_compact] {
        assert_eq!(&from_binary::<keep::NewMessage>(binary(old)), original);
        assert_eq!(&from_compact::<keep::NewMessage>(compact(old)), original);
    }
    // Same protocol in and out: the bytes themselves survive.
    assert_eq!(binary(&via_binary), binary(original));
}

#[test]
fn an_older_struct_keeps_and_writes_back_what_a_newer_one_added() {
    passes_on_whole(&newer(keep::NewChoice::Number(5)));
}

#[test]
fn an_older_union_keeps_a_newer_variant() {
    for choice in [
        keep::NewChoice::Text("t".into()),
        keep::NewChoice::Flag(true),
        keep::NewChoice::Flag(false),
        keep::NewChoice::Inners(vec![inner(9, Some(true))]),
    ] {
        let original = newer(choice);
        passes_on_whole(&original);
        let old: keep::OldMessage = from_compact(compact(&original));
        let Some(keep::OldChoice::Unknown(field)) = &old.choice else {
            panic!("expected the unknown variant: {old:?}");
        };
        assert_eq!(field.value.protocol(), ProtocolId::Compact);
        assert!([2, 3, 4].contains(&field.id));
    }
}

#[test]
fn without_keeping_the_message_still_decodes_and_the_variant_keeps_its_id() {
    let original = newer(keep::NewChoice::Text("t".into()));
    for old in [
        from_binary::<plain::OldMessage>(binary(&original)),
        from_compact::<plain::OldMessage>(compact(&original)),
    ] {
        assert_eq!(old.id, Some(7));
        assert_eq!(old.after, Some(-1));
        assert_eq!(old.choice, Some(plain::OldChoice::Unknown(2)));
    }
    // Writing the unknown variant back is an error: its value is gone.
    let old = plain::OldMessage {
        id: None,
        choice: Some(plain::OldChoice::Unknown(2)),
        after: None,
    };
    let mut out = BytesMut::new();
    let err = old.write(&mut BinaryWriter::new(&mut out)).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::Unsupported);
    assert_eq!(
        err.message(),
        "union `OldChoice` holds unknown field #2, whose value was not kept \
         (generate with `keep_unknown_fields` to pass it on)"
    );
}

#[test]
fn an_empty_union_reads_only_the_unknown_variant() {
    #[rustfmt::skip]
    let one: &[u8] = &[
        0x08, 0x00, 0x03, 0, 0, 0, 9,   // 3: i32 = 9
        0x00,
    ];
    let value: plain::Empty = from_binary(Bytes::from_static(one));
    assert_eq!(value, plain::Empty::Unknown(3));
    let none = plain::Empty::read(&mut BinaryReader::new(Bytes::from_static(&[0])));
    assert_eq!(
        none.unwrap_err().message(),
        "union `Empty` has no field set"
    );
    let mut out = BytesMut::new();
    let err = value.write(&mut BinaryWriter::new(&mut out)).unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::Unsupported);
    // Kept, it goes back out as it came.
    let kept: keep::Empty = from_binary(Bytes::from_static(one));
    assert_eq!(binary(&kept), Bytes::from_static(one));
    let keep::Empty::Unknown(field) = &kept;
    assert_eq!(field.value.ttype(), TType::I32);
    assert_eq!(&field.value.bytes()[..], [0, 0, 0, 9]);
}

#[test]
fn a_union_variant_named_unknown_moves_the_unknown_variant_aside() {
    let known = plain::Clash::Unknown(1);
    let read: plain::Clash = from_compact(compact(&known));
    assert_eq!(read, known);
    #[rustfmt::skip]
    let other: &[u8] = &[
        0x08, 0x00, 0x09, 0, 0, 0, 1,   // 9: i32 = 1
        0x00,
    ];
    assert_eq!(
        from_binary::<plain::Clash>(Bytes::from_static(other)),
        plain::Clash::Unknown0(9)
    );
}

fn arb_inner() -> impl Strategy<Value = keep::NewInner> {
    (any::<i64>(), any::<Option<bool>>()).prop_map(|(id, on)| inner(id, on))
}

fn arb_choice() -> impl Strategy<Value = keep::NewChoice> {
    prop_oneof![
        any::<i32>().prop_map(keep::NewChoice::Number),
        ".{0,8}".prop_map(keep::NewChoice::Text),
        any::<bool>().prop_map(keep::NewChoice::Flag),
        proptest::collection::vec(arb_inner(), 0..3).prop_map(keep::NewChoice::Inners),
    ]
}

proptest! {
    #[test]
    fn any_newer_message_passes_through_an_older_one(
        choice in proptest::option::of(arb_choice()),
        flag in any::<Option<bool>>(),
        other_flag in any::<Option<bool>>(),
        text in proptest::option::of(".{0,12}"),
        inners in proptest::option::of(proptest::collection::vec(arb_inner(), 0..4)),
        by_name in proptest::option::of(proptest::collection::hash_map(".{0,4}", arb_inner(), 0..3)),
        flags in proptest::option::of(proptest::collection::hash_set(any::<bool>(), 0..2)),
        ratio in proptest::option::of(-1e9f64..1e9),
        key in any::<Option<[u8; 16]>>(),
        far_away in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
    ) {
        let original = keep::NewMessage {
            id: Some(1),
            choice,
            after: None,
            flag,
            other_flag,
            text,
            inners,
            by_name,
            empty_map: None,
            flags,
            ratio,
            key,
            far_away: far_away.map(Bytes::from),
            _unknown_fields: Default::default(),
        };
        for old in [
            from_binary::<keep::OldMessage>(binary(&original)),
            from_compact::<keep::OldMessage>(compact(&original)),
        ] {
            prop_assert_eq!(&from_binary::<keep::NewMessage>(binary(&old)), &original);
            prop_assert_eq!(&from_compact::<keep::NewMessage>(compact(&old)), &original);
        }
    }
}
