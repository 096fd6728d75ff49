//! `echo-server`: the benchmarks' echo service (`idl/echo.thrift`), every
//! transport and protocol on one port.
//!
//! ```sh
//! echo-server --addr 127.0.0.1:9090 [--pollers N] [--handlers inline|workers|tokio]
//!             [--workers N] [--threads N] [--delay-ms D] [--per-connection sequential|concurrent]
//!             [--fail-percent P] [--register etcd://HOST:PORT/NAME [--ttl-s S]] [--exit-wait-ms W]
//! ```
//!
//! With `--register` it announces its listening address in etcd (Kitex's
//! key layout) once it listens. On SIGINT or SIGTERM it first deregisters,
//! keeps serving for the exit wait (TTHeader replies carry the `crrst` drain hint),
//! then drains, and prints `echo-server stopped: Stats { .. }` on stderr.

use clap::Parser;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thriftgen_etcd::{parse_etcd_url, EtcdOptions, EtcdRegistrar};
use thriftgen_interop::{echo, echo_async};
use thriftgen_runtime::discover::Registrar;
use thriftgen_runtime::server::{Handlers, PerConnection, Registration, Server, ServerOptions};
use thriftgen_runtime::ApplicationErrorKind;
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
    /// Answer P% of the calls (evenly spread: call n fails when
    /// `n % 100 < P`) with an `ApplicationException` `INTERNAL_ERROR`.
    #[arg(long, value_name = "P", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    fail_percent: u8,
    /// Register the listening address in etcd, as the service NAME
    /// (`etcd://HOST:PORT/NAME`), and deregister first on SIGTERM.
    #[arg(long, value_name = "URL")]
    register: Option<String>,
    /// The etcd lease TTL in seconds with `--register` (Kitex's default:
    /// 60): a killed server disappears from etcd within it.
    #[arg(long, value_name = "S", default_value_t = 60, requires = "register")]
    ttl_s: u64,
    /// How long a graceful shutdown keeps serving after it deregistered,
    /// before it drains (default: 1000 with `--register`, 0 without).
    #[arg(long, value_name = "W")]
    exit_wait_ms: Option<u64>,
    /// How long the drain may take before what is left is dropped.
    #[arg(long, value_name = "D", default_value_t = 5000)]
    drain_ms: u64,
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

/// Decides which calls fail (`--fail-percent`).
struct Failer {
    percent: u64,
    calls: AtomicU64,
}

impl Failer {
    fn new(percent: u8) -> Failer {
        Failer {
            percent: u64::from(percent),
            calls: AtomicU64::new(0),
        }
    }

    /// `Err` for `percent` calls in every 100.
    fn check(&self) -> Result<(), ApplicationException> {
        if self.percent == 0 {
            return Ok(());
        }
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        if n % 100 < self.percent {
            return Err(ApplicationException::new(
                ApplicationErrorKind::INTERNAL_ERROR,
                "echo-server --fail-percent",
            ));
        }
        Ok(())
    }
}

/// The blocking handler (inline and workers).
struct Echo {
    delay: Duration,
    fail: Failer,
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
        self.fail.check()?;
        Ok(echo::Response {
            action: req.action,
            msg: req.msg,
        })
    }
}

/// The async handler (tokio).
struct AsyncEcho {
    delay: Duration,
    fail: Failer,
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
        self.fail.check()?;
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
    let registration = match &args.register {
        None => None,
        Some(url) => {
            let url = parse_etcd_url(url)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let options = EtcdOptions::default().with_ttl(Duration::from_secs(args.ttl_s));
            let registrar = EtcdRegistrar::new(url.endpoint, url.service, options)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            let registrar: Arc<dyn Registrar> = Arc::new(registrar);
            Some(Registration::new(registrar))
        }
    };
    let drain = Duration::from_millis(args.drain_ms);
    let defaults = ServerOptions::default();
    let options = ServerOptions {
        registration,
        exit_wait: args.exit_wait_ms.map(Duration::from_millis),
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
        let processor = echo_async::EchoServerProcessor::from_arc(Arc::new(AsyncEcho {
            delay,
            fail: Failer::new(args.fail_percent),
        }));
        let server = Server::new_async(processor, runtime.handle().clone())
            .options(options)
            .bind(&args.addr)?;
        announce(&server, "tokio");
        signals.wait();
        let stats = server.shutdown(drain);
        runtime.shutdown_timeout(Duration::from_secs(1));
        stats
    } else {
        let server = Server::new(echo::EchoServerProcessor::new(Echo {
            delay,
            fail: Failer::new(args.fail_percent),
        }))
        .options(options)
        .bind(&args.addr)?;
        announce(&server, &format!("{mode:?}"));
        signals.wait();
        server.shutdown(drain)
    };
    eprintln!("echo-server stopped: {stats:?}");
    Ok(())
}

/// The line that says the server listens (and, registered, as what).
fn announce(server: &thriftgen_runtime::server::RunningServer, handlers: &str) {
    match server.registered() {
        Some(instance) => eprintln!(
            "echo-server listening on {} (handlers: {handlers}), registered as {}",
            server.local_addr(),
            instance.addr
        ),
        None => eprintln!(
            "echo-server listening on {} (handlers: {handlers})",
            server.local_addr()
        ),
    }
}
