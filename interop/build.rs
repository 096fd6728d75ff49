//! Generates the echo and ThriftTest services from the workspace's `idl/`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    thriftgen::Builder::new()
        // The echo server hands strings back: zero-copy strings make that a
        // slice of the request, not a copy.
        .zero_copy_strings(true)
        .compile(&["../idl/echo.thrift"])?;
    // The same service with an async handler trait, for `--handlers tokio`.
    thriftgen::Builder::new()
        .zero_copy_strings(true)
        .async_handlers(true)
        .client(false)
        .out_dir(std::path::Path::new(&std::env::var("OUT_DIR")?).join("echo_async"))
        .compile(&["../idl/echo.thrift"])?;
    thriftgen::Builder::new()
        .out_dir(std::path::Path::new(&std::env::var("OUT_DIR")?).join("thrift_test"))
        .compile(&["../idl/ThriftTest.thrift"])?;
    Ok(())
}
