//! Whatever decodes as a fixture type re-encodes, in its own protocol and
//! in the other, and decodes again to an equal value (see
//! `thriftgen_fuzz::roundtrip` for how NaN doubles and unknown fields are
//! compared). The first byte picks protocol and type, as in `decode_generated`.
#![no_main]

use thriftgen_fuzz::{roundtrip, with_fixture_type, Proto};
use thriftgen_runtime::bytes::Bytes;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let proto = Proto::from_byte(first);
    let bytes = Bytes::copy_from_slice(rest);
    with_fixture_type!(usize::from(first >> 1), T => roundtrip::<T>(proto, bytes));
});
