//! Generated types through serde (`Builder::serde(true)`), with
//! `serde_json`: values round-trip, and the JSON is the IDL's (field names
//! as written, enums by name or number, `binary` as base64, `None` left
//! out).

use serde::{de::DeserializeOwned, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use thriftgen_runtime::bytes::Bytes;
use thriftgen_tests::gen_serde::serde_shapes::{
    Address, Contact, Keyed, NotFound, Profile, Status,
};
use thriftgen_tests::gen_serde::{basic_types, enums, names, unions};

/// The JSON of `value`, after checking that it reads back as `value`.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> String {
    let json = serde_json::to_string(value).expect("serializes");
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(&back, value, "{json}");
    json
}

fn parse<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

const UUID: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

/// Every field set, every kind of value.
fn full_profile() -> Profile {
    let manager = Profile {
        user_id: 1,
        display_name: "Boss".into(),
        token: Bytes::new(),
        ..Profile::default()
    };
    Profile {
        user_id: -9_007_199_254_740_993,
        display_name: "Ann \u{e9}\"quoted\"".into(),
        is_admin: Some(true),
        tiny: Some(-128),
        small: Some(32_767),
        medium: Some(i32::MIN),
        score: Some(0.1),
        avatar: Some(Bytes::from_static(&[0, 255, 1, 254])),
        session_id: Some(UUID),
        status: Some(Status(42)),
        tags: Some(vec!["a".into(), "".into()]),
        lucky_numbers: Some(HashSet::from([7, -1, 13])),
        counters: Some(HashMap::from([("x".into(), i64::MAX), ("y".into(), 0)])),
        notes_by_status: Some(HashMap::from([
            (Status::SUSPENDED, "paused".into()),
            (Status::CLOSED_FOR_GOOD, "gone".into()),
            (Status(99), "from a newer peer".into()),
        ])),
        attachments: Some(vec![Bytes::from_static(b"a"), Bytes::new()]),
        keys_by_name: Some(HashMap::from([("k".into(), Bytes::from_static(b"ab"))])),
        home: Some(Address {
            street_name: "Main".into(),
            zip_code: None,
        }),
        contacts: Some(vec![
            Contact::EmailAddress("a@example.com".into()),
            Contact::Phone(5),
            Contact::PgpKey(Bytes::from_static(b"key")),
            Contact::Postal(Address {
                street_name: "Side".into(),
                zip_code: Some(12345),
            }),
        ]),
        manager: Some(Box::new(manager)),
        last_error: Some(NotFound {
            what: "it".into(),
            error_code: None,
        }),
        motto: None,
        deep: Some(HashMap::from([(
            3,
            vec![HashSet::from([Bytes::from_static(b"x")]), HashSet::new()],
        )])),
        token: Bytes::from_static(b"secret"),
        by_score: Some(vec![(1.5, Bytes::from_static(b"s")), (-0.0, Bytes::new())]),
    }
}

#[test]
fn every_kind_of_field_round_trips() {
    round_trip(&full_profile());
    round_trip(&Profile::default());
    let everything = basic_types::Everything {
        flag: true,
        small_legacy: 1,
        small: -2,
        medium: Some(3),
        regular: Some(4),
        large: Some(5),
        ratio: Some(f64::MAX),
        name: Some("n".into()),
        payload: Some(Bytes::from_static(b"\x00")),
        id: Some(UUID),
    };
    round_trip(&everything);
    round_trip(&basic_types::Defaults::default());
    round_trip(&unions::NewMessage {
        id: Some(1),
        choice: Some(unions::NewChoice::Inners(vec![unions::NewInner {
            id: Some(2),
            on: Some(false),
        }])),
        key: Some(UUID),
        far_away: Some(Bytes::from_static(b"far")),
        ..Default::default()
    });
}

#[test]
fn the_json_has_the_idl_names_enum_names_and_base64() {
    let profile = Profile {
        user_id: 7,
        display_name: "Ann".into(),
        is_admin: Some(true),
        avatar: Some(Bytes::from_static(b"hi")),
        session_id: Some(UUID),
        status: Some(Status::SUSPENDED),
        home: Some(Address {
            street_name: "Main".into(),
            zip_code: None,
        }),
        motto: Some("carpe diem".into()),
        token: Bytes::from_static(&[0, 1, 2]),
        ..Profile::default()
    };
    assert_eq!(
        round_trip(&profile),
        r#"{"userId":7,"displayName":"Ann","isAdmin":true,"avatar":"aGk=","sessionId":"00112233-4455-6677-8899-aabbccddeeff","status":"SUSPENDED","home":{"streetName":"Main"},"motto":"carpe diem","token":"AAEC"}"#
    );
    // A name as the IDL writes it, whatever its Rust constant.
    assert_eq!(round_trip(&Status::CLOSED_FOR_GOOD), r#""closedForGood""#);
    // Fields whose Rust names are escaped or numbered.
    let collisions = names::Collisions {
        foo_bar: Some(1),
        foo_bar_2: Some(2),
        foo_bar_3: Some(3),
    };
    assert_eq!(
        round_trip(&collisions),
        r#"{"fooBar":1,"foo_bar":2,"FooBar":3}"#
    );
    let keywords = names::Type {
        r#match: Some(1),
        crate_: Some(2),
        r#async: Some(3),
        r#type: Some("t".into()),
        ..Default::default()
    };
    assert_eq!(
        round_trip(&keywords),
        r#"{"match":1,"crate":2,"async_":3,"type":"t"}"#
    );
}

#[test]
fn an_enum_number_the_idl_does_not_name_is_a_number() {
    assert_eq!(round_trip(&Status(42)), "42");
    assert_eq!(parse::<Status>(r#""ACTIVE""#), Ok(Status::ACTIVE));
    assert_eq!(parse::<Status>("2"), Ok(Status::SUSPENDED));
    assert_eq!(
        parse::<Status>(r#""GONE""#).unwrap_err(),
        "unknown value `GONE` of enum `Status`, expected one of `ACTIVE`, `SUSPENDED`, `closedForGood` or an i32 at line 1 column 6"
    );
    // As map keys, JSON strings: names, and numbers as text.
    let notes = Profile {
        notes_by_status: Some(HashMap::from([(Status(99), "new".into())])),
        ..Profile::default()
    };
    assert!(round_trip(&notes).contains(r#""notesByStatus":{"99":"new"}"#));
    // Two names for one value: the first is written, both are read.
    assert_eq!(round_trip(&enums::Aliased::SUCCESS), r#""OK""#);
    assert_eq!(
        parse::<enums::Aliased>(r#""SUCCESS""#),
        Ok(enums::Aliased::OK)
    );
    assert_eq!(round_trip(&enums::Empty(3)), "3");
}

#[test]
fn absent_fields_read_as_their_idl_defaults_and_required_ones_are_errors() {
    let read: Profile = parse(r#"{"userId":1,"displayName":"x","token":""}"#).unwrap();
    assert_eq!(
        read,
        Profile {
            user_id: 1,
            display_name: "x".into(),
            ..Profile::default()
        }
    );
    assert_eq!(read.is_admin, Some(false));
    assert_eq!(read.status, Some(Status::ACTIVE));
    assert_eq!(read.motto.as_deref(), Some("carpe diem"));
    // A field with an IDL default that is `None` is `null`, so that it reads
    // back as `None`, not as the default.
    let unset = NotFound {
        what: "user".into(),
        error_code: None,
    };
    assert_eq!(round_trip(&unset), r#"{"what":"user","errorCode":null}"#);
    assert_eq!(
        parse::<NotFound>(r#"{"what":"user"}"#).unwrap().error_code,
        Some(404)
    );
    assert_eq!(
        parse::<Profile>(r#"{"userId":1,"displayName":"x"}"#).unwrap_err(),
        "missing field `token` at line 1 column 30"
    );
    // Unknown fields are ignored; unpadded base64 is read.
    let read: Profile =
        parse(r#"{"userId":1,"displayName":"x","token":"aGk","addedLater":[1]}"#).unwrap();
    assert_eq!(read.token, "hi");
    assert!(
        parse::<Profile>(r#"{"userId":1,"displayName":"x","token":"!"}"#)
            .unwrap_err()
            .starts_with("invalid base64")
    );
}

#[test]
fn unions_are_single_key_objects() {
    assert_eq!(
        round_trip(&Contact::PgpKey(Bytes::from_static(b"k"))),
        r#"{"pgpKey":"aw=="}"#
    );
    assert_eq!(
        round_trip(&Contact::Postal(Address {
            street_name: "S".into(),
            zip_code: Some(1)
        })),
        r#"{"postal":{"streetName":"S","zipCode":1}}"#
    );
    // The unknown variant (a newer peer's field) has no JSON form.
    let err = serde_json::to_string(&Contact::Unknown(9)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the enum variant Contact::Unknown cannot be serialized"
    );
    assert!(parse::<Contact>(r#"{"Unknown":9}"#)
        .unwrap_err()
        .starts_with(
        "unknown variant `Unknown`, expected one of `emailAddress`, `phone`, `pgpKey`, `postal`"
    ));
    assert!(parse::<Contact>(r#"{}"#).is_err());
    assert!(parse::<unions::Empty>(r#"{"a":1}"#).is_err());
}

#[test]
fn maps_with_struct_keys_do_not_go_through_serde_json() {
    let keyed = Keyed {
        by_address: Some(HashMap::from([(
            Address {
                street_name: "k".into(),
                zip_code: None,
            },
            1,
        )])),
    };
    assert_eq!(
        serde_json::to_string(&keyed).unwrap_err().to_string(),
        "key must be a string"
    );
}

#[test]
fn zero_copy_strings_are_strings_and_kept_unknown_fields_are_skipped() {
    use thriftgen_runtime::protocol::{BinaryReader, BinaryWriter};
    use thriftgen_runtime::Struct;
    use thriftgen_tests::gen_serde_zero_copy::serde_shapes as zc;
    use thriftgen_tests::gen_serde_zero_copy::unions as zcu;

    let address = zc::Address {
        street_name: "a street name longer than twenty-three bytes".into(),
        zip_code: Some(1),
        _unknown_fields: Default::default(),
    };
    assert_eq!(
        round_trip(&address),
        r#"{"streetName":"a street name longer than twenty-three bytes","zipCode":1}"#
    );
    // Fields a newer peer sent are kept for the wire, and not in JSON.
    let newer = zcu::NewMessage {
        id: Some(1),
        text: Some("t".into()),
        ..Default::default()
    };
    let mut buf = thriftgen_runtime::bytes::BytesMut::new();
    newer.write(&mut BinaryWriter::new(&mut buf)).unwrap();
    let older = zcu::OldMessage::read(&mut BinaryReader::new(buf.freeze())).unwrap();
    assert!(!older._unknown_fields.is_empty());
    assert_eq!(serde_json::to_string(&older).unwrap(), r#"{"id":1}"#);
    let full = zc::Profile {
        display_name: "x".into(),
        contacts: Some(vec![zc::Contact::EmailAddress("e".into())]),
        ..Default::default()
    };
    round_trip(&full);
}
