//! IDL built from an `arbitrary` structure (see `thriftgen_fuzz::idl`),
//! rendered to text, checked, and generated with options the first byte
//! picks: mostly valid programs, so the checker's later passes and the
//! code generator see far more than random text reaches.
#![no_main]

use thriftgen::codegen::{generate, Options};
use thriftgen_fuzz::idl::Document;

libfuzzer_sys::fuzz_target!(|input: (u8, Document)| {
    let (flags, document) = input;
    let text = document.render();
    let analysis = thriftgen::analyze_source("/nonexistent/fuzz.thrift", &text, &[] as &[&str]);
    if analysis.has_errors() {
        return;
    }
    let options = Options {
        btree: flags & 1 != 0,
        zero_copy_strings: flags & 2 != 0,
        async_handlers: flags & 4 != 0,
        keep_unknown_fields: flags & 8 != 0,
        server: flags & 16 == 0,
        client: flags & 32 == 0,
        serde: flags & 64 != 0,
        ..Options::default()
    };
    if let Err(e) = generate(&analysis.ir, &analysis.sources, &options) {
        panic!("valid IDL does not generate: {e:?}\n{text}");
    }
});
