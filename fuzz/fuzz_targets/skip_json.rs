//! `skip` (and the raw read `keep_unknown_fields` uses) of every type id
//! over arbitrary bytes with the JSON reader and production limits.
#![no_main]

use thriftgen_runtime::protocol::Json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    thriftgen_fuzz::skip_all::<Json>(data);
});
