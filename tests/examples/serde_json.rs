//! A generated value through serde_json (`Builder::serde(true)`), for the
//! guide's chapter 14:
//!
//! ```sh
//! cargo run -q -p thriftgen-tests --example serde_json
//! ```

use std::collections::HashMap;
use thriftgen_runtime::bytes::Bytes;
use thriftgen_tests::gen_serde::serde_shapes::{Address, Contact, Profile, Status};

fn main() -> Result<(), serde_json::Error> {
    let profile = Profile {
        user_id: 42,
        display_name: "Ann".into(),
        is_admin: Some(true),
        avatar: Some(Bytes::from_static(b"\x89PNG")),
        session_id: Some(*b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff"),
        status: Some(Status::SUSPENDED),
        notes_by_status: Some(HashMap::from([(Status(7), "a newer peer's value".into())])),
        home: Some(Address {
            street_name: "Main St".into(),
            zip_code: None,
        }),
        contacts: Some(vec![Contact::PgpKey(Bytes::from_static(b"key"))]),
        token: Bytes::from_static(b"secret"),
        ..Profile::default()
    };
    let json = serde_json::to_string_pretty(&profile)?;
    println!("{json}");
    let back: Profile = serde_json::from_str(&json)?;
    assert_eq!(back, profile);
    // Missing fields read as their IDL defaults; a required one is an error.
    let minimal: Profile = serde_json::from_str(r#"{"userId":1,"displayName":"Bo","token":""}"#)?;
    println!(
        "missing fields: isAdmin {:?}, status {:?}, motto {:?}",
        minimal.is_admin, minimal.status, minimal.motto
    );
    let missing = serde_json::from_str::<Profile>(r#"{"userId":1}"#).unwrap_err();
    println!("required field missing: {missing}");
    Ok(())
}
