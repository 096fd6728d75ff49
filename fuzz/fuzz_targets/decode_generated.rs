//! Typed reads of the generated fixture types (`idl/fuzz.thrift`): the first
//! byte picks the protocol (bit 0) and the type (the rest), the other bytes
//! are the encoded value. A read may fail, never panic.
#![no_main]

use thriftgen_fuzz::{decode, with_fixture_type, Proto};
use thriftgen_runtime::bytes::Bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let proto = Proto::from_byte(first);
    let bytes = Bytes::copy_from_slice(rest);
    with_fixture_type!(usize::from(first >> 1), T => {
        let _ = decode::<T>(proto, bytes);
    });
});
