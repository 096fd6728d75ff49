//! Generated types (from `idl/good/`, see `build.rs`) over both protocols.

use proptest::prelude::*;
use thriftgen_runtime::bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, CompactReader, CompactWriter, ProtocolErrorKind,
};
use thriftgen_runtime::Struct;
use thriftgen_tests::gen::{constants, enums, structs};

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

fn round_trip<T: Struct + PartialEq + std::fmt::Debug>(value: &T) {
    assert_eq!(
        &T::read(&mut BinaryReader::new(binary(value))).unwrap(),
        value
    );
    assert_eq!(
        &T::read(&mut CompactReader::new(compact(value))).unwrap(),
        value
    );
}

fn tree(depth: u32) -> structs::Tree {
    structs::Tree {
        value: Some(depth as i32),
        children: Some((0..depth.min(2)).map(|_| tree(depth - 1)).collect()),
        left: (depth > 0).then(|| Box::new(tree(depth - 1))),
        right: None,
    }
}

#[test]
fn recursive_structs_round_trip() {
    round_trip(&tree(5));
}

#[test]
fn defaults_come_from_the_idl() {
    let account = structs::Account::default();
    assert_eq!(account.balance_cents, Some(0));
    assert_eq!(account.notes, Some(vec![]));
    let point = &*constants::ORIGIN;
    assert_eq!((point.x, point.y), (Some(0), Some(0)));
    assert_eq!(constants::PRIMES.as_slice(), [2, 3, 5, 7, 11]);
    assert_eq!(constants::FAVOURITE, constants::Color::BLUE);
    assert_eq!(
        constants::DOUBLE_QUOTED,
        "say \"hi\"\n\ttab \\ backslash \r"
    );
}

#[test]
fn missing_required_fields_are_errors_and_absent_ones_stay_absent() {
    // Only an unknown field 1 of the wrong type: required `needed_cents` is missing.
    let err = structs::InsufficientFunds::read(&mut BinaryReader::new(Bytes::from_static(&[
        0x0b, 0x00, 0x01, 0, 0, 0, 0, 0,
    ])))
    .unwrap_err();
    assert_eq!(err.kind(), ProtocolErrorKind::MissingRequiredField);
    assert_eq!(
        err.message(),
        "required field `InsufficientFunds.needed_cents` (#1) is missing"
    );
    let value = structs::InsufficientFunds {
        needed_cents: 5,
        available_cents: None,
        message: None,
    };
    round_trip(&value);
    // The IDL default is what `Default` gives.
    assert_eq!(
        structs::InsufficientFunds::default().message.as_deref(),
        Some("insufficient funds")
    );
    assert_eq!(value.to_string(), format!("InsufficientFunds: {value:?}"));
}

#[test]
fn unions_need_exactly_one_field() {
    round_trip(&structs::Payment::AccountId(42));
    round_trip(&structs::Payment::Voucher(Bytes::from_static(b"v")));
    let none = structs::Payment::read(&mut BinaryReader::new(Bytes::from_static(&[0])));
    assert_eq!(
        none.unwrap_err().message(),
        "union `Payment` has no field set"
    );
    #[rustfmt::skip]
    let two: &[u8] = &[
        0x0a, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1,   // 2: account_id = 1
        0x0a, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 2,   // 2: account_id = 2
        0x00,
    ];
    let err = structs::Payment::read(&mut BinaryReader::new(Bytes::from_static(two))).unwrap_err();
    assert_eq!(err.message(), "union `Payment` has more than one field set");
}

#[test]
fn enums_are_open() {
    let state = enums::OrderState(999);
    assert_eq!(state.name(), None);
    assert_eq!(format!("{state:?}"), "OrderState(999)");
    assert_eq!(
        format!("{:?}", enums::OrderState::DELIVERED),
        "OrderState::DELIVERED"
    );
    assert_eq!(enums::OrderState::DELIVERED.0, 11);
    assert_eq!(enums::OrderState::CANCELLED.0, 0x20);
    assert_eq!(enums::Aliased::SUCCESS.name(), Some("OK"));
}

#[test]
fn errors_carry_the_field_path() {
    // Folder { 2: files = [File { 1: name = <invalid UTF-8> }] }
    #[rustfmt::skip]
    let bytes: &[u8] = &[
        0x0f, 0x00, 0x02, 0x0c, 0, 0, 0, 1,    // 2: list<struct>, one element
        0x0b, 0x00, 0x01, 0, 0, 0, 1, 0xff,    //   1: string of one invalid byte
        0x00,
        0x00,
    ];
    let err = structs::Folder::read(&mut BinaryReader::new(Bytes::from_static(bytes))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Folder.files (#2): File.name (#1): invalid UTF-8 at byte 0"
    );
}

#[test]
fn unknown_fields_are_skipped() {
    #[rustfmt::skip]
    let bytes: &[u8] = &[
        0x0b, 0x00, 0x63, 0, 0, 0, 2, b'h', b'i',   // 99: an unknown string
        0x08, 0x00, 0x01, 0, 0, 0, 7,                // 1: a = 7
        0x00,
    ];
    let s = structs::Separators::read(&mut BinaryReader::new(Bytes::from_static(bytes))).unwrap();
    assert_eq!(s.a, Some(7));
}

proptest! {
    #[test]
    fn accounts_round_trip(
        id in any::<i64>(),
        owner in ".{0,20}",
        email in proptest::option::of(".{0,20}"),
        balance in proptest::option::of(any::<i32>()),
        notes in proptest::option::of(prop::collection::vec(".{0,8}", 0..5)),
        labels in proptest::option::of(prop::collection::hash_map(".{0,4}", ".{0,4}", 0..5)),
    ) {
        round_trip(&structs::Account { id, owner, email, balance_cents: balance, notes, labels });
    }
}

#[test]
fn the_codec_fixture_has_the_peers_sizes() {
    let order = thriftgen_tests::fixture::order();
    assert_eq!(binary(&order).len(), 1117);
    assert_eq!(compact(&order).len(), 815);
    round_trip(&order);
}

#[test]
fn zero_copy_strings_slice_the_message() {
    use thriftgen_tests::gen_zero_copy::codec::Order;
    let order = thriftgen_tests::fixture::zero_copy::order();
    let bytes = binary(&order);
    assert_eq!(bytes.len(), 1117);
    let back = Order::read(&mut BinaryReader::new(bytes.clone())).unwrap();
    assert_eq!(back, order);
    // A long string points into the message, not into a copy; a short one
    // (at most `ByteString::INLINE` bytes) is copied into the value.
    let range = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
    let note = back.note.as_ref().expect("the fixture has a note");
    assert!(note.len() > thriftgen_runtime::ByteString::INLINE);
    assert!(range.contains(&(note.as_ptr() as usize)));
    assert!(back.order_no.len() <= thriftgen_runtime::ByteString::INLINE);
    assert!(!range.contains(&(back.order_no.as_ptr() as usize)));
    assert_eq!(
        back.attributes.get("channel").map(|v| v.as_str()),
        Some("web")
    );
}

fn payment() -> impl Strategy<Value = structs::Payment> {
    prop_oneof![
        ".{0,20}".prop_map(structs::Payment::CardToken),
        any::<i64>().prop_map(structs::Payment::AccountId),
        prop::collection::vec(any::<u8>(), 0..20)
            .prop_map(|b| structs::Payment::Voucher(Bytes::from(b))),
        ".{0,20}".prop_map(structs::Payment::CashNote),
    ]
}

fn arbitrary_tree() -> impl Strategy<Value = structs::Tree> {
    let leaf = proptest::option::of(any::<i32>()).prop_map(|value| structs::Tree {
        value,
        children: None,
        left: None,
        right: None,
    });
    leaf.prop_recursive(4, 32, 4, |inner| {
        (
            proptest::option::of(any::<i32>()),
            proptest::option::of(prop::collection::vec(inner.clone(), 0..3)),
            proptest::option::of(inner.clone().prop_map(Box::new)),
            proptest::option::of(inner.prop_map(Box::new)),
        )
            .prop_map(|(value, children, left, right)| structs::Tree {
                value,
                children,
                left,
                right,
            })
    })
}

proptest! {
    #[test]
    fn unions_round_trip(value in payment()) {
        round_trip(&value);
    }

    #[test]
    fn recursive_trees_round_trip(tree in arbitrary_tree()) {
        round_trip(&tree);
    }

    #[test]
    fn codec_orders_round_trip_with_any_strings(
        order_no in ".{0,30}",
        note in proptest::option::of(".{0,30}"),
        labels in proptest::option::of(prop::collection::hash_set(".{0,8}", 0..6)),
        related in proptest::option::of(prop::collection::vec(any::<i64>(), 0..10)),
    ) {
        let mut order = thriftgen_tests::fixture::order();
        order.order_no = order_no;
        order.note = note;
        order.labels = labels;
        order.related_ids = related;
        round_trip(&order);
    }
}

#[test]
fn file_names_and_shared_namespaces_become_modules() {
    use thriftgen_tests::gen::{_2fa, r#type, self_, simple_service, transit};
    // `2fa.thrift` refers to `type.thrift`'s types.
    let challenge = _2fa::Challenge {
        code: "123456".into(),
        ..Default::default()
    };
    assert_eq!(challenge.kind, Some(r#type::Kind::TOTP));
    round_trip(&r#type::Match {
        r#fn: Some("f".into()),
    });
    assert_eq!(self_::SELF, 1);
    round_trip(&simple_service::Ping { at: Some(1) });
    // `transit` re-exports what only one of its files defines; what both
    // define is reached through the file's module.
    let stop = transit::Stop {
        name: Some("Central".into()),
        lat: None,
        lon: None,
    };
    let line = transit::Line {
        name: None,
        stops: Some(vec![stop.clone()]),
    };
    round_trip(&line);
    assert_eq!(
        (
            transit::transit_lines::VERSION,
            transit::transit_stops::VERSION
        ),
        (1, 2)
    );
    let fare = transit::fares::Fare {
        from: Some(stop),
        line: Some(line),
        ..Default::default()
    };
    round_trip(&fare);
    assert_eq!(transit::fares::LINES_VERSION, 2);
}
