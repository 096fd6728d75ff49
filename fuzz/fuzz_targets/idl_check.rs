//! The front end and the code generator on arbitrary text (valid UTF-8, at
//! most 64 KiB): diagnostics, never a panic. Includes resolve nowhere (the
//! file sits in a directory that does not exist, no include dirs).
#![no_main]

use thriftgen::codegen::{generate, Options};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() > 64 << 10 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let analysis = thriftgen::analyze_source("/nonexistent/fuzz.thrift", text, &[] as &[&str]);
    if analysis.has_errors() {
        return;
    }
    let _ = generate(&analysis.ir, &analysis.sources, &Options::default());
});
