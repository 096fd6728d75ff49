//! `echo-server`: the benchmarks' echo service (`idl/echo.thrift`), every
//! transport and protocol on one port.
//!
//! ```sh
//! echo-server --addr 127.0.0.1:9090 [--pollers N] [--handlers inline|workers|tokio]
//!             [--workers N] [--threads N] [--delay-ms D] [--per-connection sequential|concurrent]
//! ```
//!
//! On SIGINT or SIGTERM it drains and prints `echo-server stopped: Stats { .. }`
//! on stderr.

use clap::Parser;
use std::sync::Arc;
use std::time::Duration;
use thriftgen_interop::{echo, echo_async};
use thriftgen_runtime::server::{Handlers, PerConnection, Server, ServerOptions};
use thriftgen_runtime::{ApplicationException, CallContext};

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
    /// Where handlers run: on the pollers, on a pool of worker threads, or
    /// as futures on a tokio runtime.
    #[arg(long, value_enum)]
    handlers: Option<HandlerMode>,
    /// Run handlers on a pool of N worker threads (implies `--handlers
    /// workers`; default with `--handlers workers`: 4 per CPU).
    #[arg(long, value_name = "N", conflicts_with = "inline")]
    workers: Option<usize>,
    /// Run handlers on the pollers (the default; the same as `--handlers inline`).
    #[arg(long, conflicts_with = "handlers")]
    inline: bool,
    /// tokio worker threads with `--handlers tokio` (default: one per CPU).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The handler waits this long before answering: `tokio::time::sleep`
    /// with `--handlers tokio`, a thread sleep otherwise.
    #[arg(long, value_name = "D", default_value_t = 0)]
    delay_ms: u64,
    /// Whether the calls of one connection run one after another (the
    /// server's default) or at once (for pipelining and multiplexing
    /// clients; workers and tokio only).
    #[arg(long, value_enum)]
    per_connection: Option<Order>,
}

/// `--handlers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum HandlerMode {
    /// On the poller that read the request.
    Inline,
    /// On a pool of worker threads.
    Workers,
    /// As futures on a tokio runtime.
    Tokio,
}

/// `--per-connection`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    /// A call starts once the previous one finished.
    Sequential,
    /// Up to 64 calls of a connection at once.
    Concurrent,
}

/// The blocking handler (inline and workers).
struct Echo {
    delay: Duration,
}

impl echo::EchoServer for Echo {
    fn echo(
        &self,
        _ctx: &CallContext,
        req: echo::Request,
    ) -> Result<echo::Response, ApplicationException> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        Ok(echo::Response {
            action: req.action,
            msg: req.msg,
        })
    }
}

/// The async handler (tokio).
struct AsyncEcho {
    delay: Duration,
}

impl echo_async::EchoServer for AsyncEcho {
    async fn echo(
        &self,
        _ctx: &CallContext,
        req: echo_async::Request,
    ) -> Result<echo_async::Response, ApplicationException> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        Ok(echo_async::Response {
            action: req.action,
            msg: req.msg,
        })
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // Before serving: the pipe must exist even if the server later runs out
    // of file descriptors.
    let signals = thriftgen_interop::cli::Signals::install()?;
    let delay = Duration::from_millis(args.delay_ms);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mode = match (args.handlers, args.workers, args.inline) {
        (Some(mode), _, _) => mode,
        (None, Some(_), _) => HandlerMode::Workers,
        (None, None, _) => HandlerMode::Inline,
    };
    let defaults = ServerOptions::default();
    let options = ServerOptions {
        pollers: args.pollers.unwrap_or(defaults.pollers),
        handlers: match mode {
            HandlerMode::Workers => Handlers::Workers(args.workers.unwrap_or(4 * cpus).max(1)),
            HandlerMode::Inline | HandlerMode::Tokio => Handlers::Inline,
        },
        per_connection: match args.per_connection {
            Some(Order::Concurrent) => PerConnection::CONCURRENT,
            Some(Order::Sequential) => PerConnection::Sequential,
            None => defaults.per_connection,
        },
        ..defaults
    };
    let stats = if mode == HandlerMode::Tokio {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(args.threads.unwrap_or(cpus).max(1));
        let runtime = builder.enable_all().build()?;
        let processor = echo_async::EchoServerProcessor::from_arc(Arc::new(AsyncEcho { delay }));
        let server = Server::new_async(processor, runtime.handle().clone())
            .options(options)
            .bind(&args.addr)?;
        eprintln!(
            "echo-server listening on {} (handlers: tokio)",
            server.local_addr()
        );
        signals.wait();
        let stats = server.shutdown(Duration::from_secs(5));
        runtime.shutdown_timeout(Duration::from_secs(1));
        stats
    } else {
        let server = Server::new(echo::EchoServerProcessor::new(Echo { delay }))
            .options(options)
            .bind(&args.addr)?;
        eprintln!(
            "echo-server listening on {} (handlers: {mode:?})",
            server.local_addr()
        );
        signals.wait();
        server.shutdown(Duration::from_secs(5))
    };
    eprintln!("echo-server stopped: {stats:?}");
    Ok(())
}
