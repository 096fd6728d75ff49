//! Generates the fixture `idl/fuzz.thrift` twice through the `build.rs` API
//! (as `tests/build.rs` does): as is, and with `keep_unknown_fields`.

fn main() {
    let idl = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("idl/fuzz.thrift");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("run by Cargo"));
    thriftgen::Builder::new()
        .out_dir(out.join("plain"))
        .compile(&[&idl])
        .unwrap_or_else(|e| panic!("{e}"));
    thriftgen::Builder::new()
        .out_dir(out.join("keep"))
        .keep_unknown_fields(true)
        .cargo_metadata(false)
        .compile(&[&idl])
        .unwrap_or_else(|e| panic!("{e}"));
}
