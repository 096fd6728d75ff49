//! `echo-server`: the benchmarks' echo service (`idl/echo.thrift`), every
//! transport and protocol on one port.
//!
//! ```sh
//! echo-server --addr 127.0.0.1:9090 [--pollers N] [--workers N | --inline]
//! ```

use clap::Parser;
use std::time::Duration;
use thriftgen_interop::echo::{EchoServer, EchoServerProcessor, Request, Response};
use thriftgen_runtime::protocol::ApplicationException;
use thriftgen_runtime::server::{Handlers, Server, ServerOptions};
use thriftgen_runtime::service::CallContext;

/// Serves the echo service until SIGINT or SIGTERM.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    addr: String,
    /// Poller threads (default: one per two CPUs).
    #[arg(long)]
    pollers: Option<usize>,
    /// Run handlers on a pool of N worker threads.
    #[arg(long, value_name = "N", conflicts_with = "inline")]
    workers: Option<usize>,
    /// Run handlers on the pollers (the default).
    #[arg(long)]
    inline: bool,
}

struct Echo;

impl EchoServer for Echo {
    fn echo(&self, _ctx: &CallContext, req: Request) -> Result<Response, ApplicationException> {
        Ok(Response {
            action: req.action,
            msg: req.msg,
        })
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let defaults = ServerOptions::default();
    let options = ServerOptions {
        pollers: args.pollers.unwrap_or(defaults.pollers),
        handlers: match args.workers {
            Some(n) => Handlers::Workers(n),
            None => Handlers::Inline,
        },
        ..defaults
    };
    let server = Server::new(EchoServerProcessor::new(Echo))
        .options(options)
        .bind(&args.addr)?;
    eprintln!("echo-server listening on {}", server.local_addr());
    thriftgen_interop::cli::wait_for_signal();
    let stats = server.shutdown(Duration::from_secs(5));
    eprintln!("echo-server stopped: {stats:?}");
    Ok(())
}
