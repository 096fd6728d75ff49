//! The one line a user's build script needs.

fn main() -> Result<(), thriftgen::Error> {
    thriftgen::compile(&["../idl/demo/store.thrift"], &["../idl/demo"])
}
