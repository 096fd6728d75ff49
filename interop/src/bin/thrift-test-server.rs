//! `thrift-test-server`: Apache Thrift's cross-language test service
//! (`idl/ThriftTest.thrift`) with the semantics the cross tests expect
//! ([`thriftgen_interop::test_server`]). Every transport and protocol
//! (binary, compact, JSON) on one port; `ThriftTest:` and `SecondService:`
//! multiplexed names are served too, plain names go to `ThriftTest`. Over
//! THeader and TTHeader it answers the interop suite's header check
//! (`thriftgen_interop::headers`): byte-string headers in, byte-string
//! headers out.
//!
//! ```sh
//! thrift-test-server --port 9090 [--pollers N] [--workers N]
//! ```

use clap::Parser;
use std::time::Duration;
use thriftgen_runtime::server::{Handlers, ServerOptions};

/// Serves ThriftTest until SIGINT or SIGTERM.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The port to listen on (on 127.0.0.1 unless --host says otherwise).
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Poller threads (default: one per two CPUs).
    #[arg(long)]
    pollers: Option<usize>,
    /// Worker threads for handlers (testOneway sleeps, so handlers run on
    /// workers, not on the pollers).
    #[arg(long, default_value_t = 4)]
    workers: usize,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // Before serving: the pipe must exist even if the server later runs out
    // of file descriptors.
    let signals = thriftgen_interop::cli::Signals::install()?;
    let defaults = ServerOptions::default();
    let options = ServerOptions {
        pollers: args.pollers.unwrap_or(defaults.pollers),
        handlers: Handlers::Workers(args.workers.max(1)),
        ..defaults
    };
    let server = thriftgen_interop::test_server::bind((args.host.as_str(), args.port), options)?;
    eprintln!("thrift-test-server listening on {}", server.local_addr());
    signals.wait();
    let stats = server.shutdown(Duration::from_secs(5));
    eprintln!("thrift-test-server stopped: {stats:?}");
    Ok(())
}
