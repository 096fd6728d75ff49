//! Generates Rust for every valid IDL file in `idl/good/` through the
//! `build.rs` API, so that `cargo build` and `cargo clippy` check all of it
//! (five ways: as is, zero-copy strings, async handlers, unknown fields kept,
//! serde), and the codec benchmark's `idl/bench/codec.thrift`; with serde
//! also `idl/serde/shapes.thrift`, and that file with zero-copy strings too. File names need not
//! be Rust identifiers (`simple-service.thrift`, `2fa.thrift`, `type.thrift`).

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../idl/good");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("idl/good exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "thrift"))
        .collect();
    files.sort();
    // The codec benchmark's message (benches/codec.rs).
    files.push(dir.join("../bench/codec.thrift"));
    thriftgen::compile(&files, &[&dir]).unwrap_or_else(|e| panic!("{e}"));
    // Everything again with zero-copy strings, so both variants are compiled.
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("run by Cargo"));
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_zero_copy"))
        .zero_copy_strings(true)
        // Attributes by IDL path land where they should, and compile.
        .type_attribute("structs.Account", "#[doc(alias = \"customer_account\")]")
        .field_attribute("structs.Account.id", "#[doc(alias = \"account_id\")]")
        .cargo_metadata(false)
        .compile(&files)
        .unwrap_or_else(|e| panic!("{e}"));
    // And with async handler traits, so that form is compiled too.
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_async"))
        .async_handlers(true)
        .cargo_metadata(false)
        .compile(&files)
        .unwrap_or_else(|e| panic!("{e}"));
    // The codec benchmark's message with a fast hasher (`Builder::hasher`).
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_fast_hash"))
        .hasher("::foldhash::fast::RandomState")
        .cargo_metadata(false)
        .compile(&[dir.join("../bench/codec.thrift")])
        .unwrap_or_else(|e| panic!("{e}"));
    // And with both zero-copy strings and the fast hasher.
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_zero_copy_fast_hash"))
        .zero_copy_strings(true)
        .hasher("::foldhash::fast::RandomState")
        .cargo_metadata(false)
        .compile(&[dir.join("../bench/codec.thrift")])
        .unwrap_or_else(|e| panic!("{e}"));
    // And with serde (tests/serde.rs), with the serde test's own IDL.
    let serde_idl = dir.join("../serde/shapes.thrift");
    let with_serde_idl: Vec<_> = files.iter().cloned().chain([serde_idl.clone()]).collect();
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_serde"))
        .serde(true)
        .cargo_metadata(false)
        .compile(&with_serde_idl)
        .unwrap_or_else(|e| panic!("{e}"));
    // And serde with zero-copy strings and unknown fields kept.
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_serde_zero_copy"))
        .serde(true)
        .zero_copy_strings(true)
        .keep_unknown_fields(true)
        .cargo_metadata(false)
        .compile(&[
            serde_idl,
            dir.join("unions.thrift"),
            dir.join("basic_types.thrift"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
    // And with unknown fields kept, for the forward-compatibility tests.
    thriftgen::Builder::new()
        .include_dir(&dir)
        .out_dir(out.join("thriftgen_keep"))
        .keep_unknown_fields(true)
        .cargo_metadata(false)
        .compile(&files)
        .unwrap_or_else(|e| panic!("{e}"));
}
