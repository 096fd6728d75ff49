//! The services the project's binaries serve and call, generated at build
//! time from the workspace's `idl/`:
//!
//! - [`echo`]: the echo service of the benchmarks (`idl/echo.thrift`), with
//!   zero-copy strings;
//! - [`echo_async`]: the same service with an async handler trait (for
//!   `echo-server --handlers tokio`);
//! - [`thrift_test`]: Apache Thrift's cross-language test service
//!   (`idl/ThriftTest.thrift`), for interoperability with other
//!   implementations;
//! - [`headers`]: the THeader/TTHeader header check of the interop suite;
//! - [`test_server`]: the cross-test handler and server of `thrift-test-server`.

mod generated_echo {
    include!(concat!(env!("OUT_DIR"), "/thriftgen/mod.rs"));
}

mod generated_echo_async {
    thriftgen_runtime::include_generated!("echo_async");
}

mod generated_thrift_test {
    include!(concat!(env!("OUT_DIR"), "/thrift_test/mod.rs"));
}

pub use generated_echo::echo;
pub use generated_echo_async::echo as echo_async;
pub use generated_thrift_test::thrift_test;

pub mod cli;
pub mod headers;
pub mod test_server;
