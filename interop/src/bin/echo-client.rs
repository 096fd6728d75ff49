//! `echo-client`: N tokio tasks share one async client and call `Echo` in a
//! loop; the client side of the benchmarks, with the same flags and output as
//! `../shared/bench`'s `volo-echo-client`.
//!
//! ```sh
//! echo-client --addr HOST:PORT [--concurrency N] [--duration S] [--warmup S]
//!             [--payload BYTES] [--transport framed|ttheader] [--mode pool|multiplex]
//!             [--connections K] [--threads T] [--label L]
//! ```
//!
//! Every reply is checked (the echoed `msg` must equal what was sent). The
//! last line is `JSON {"label":..,"qps":..,"p50_us":..,"p99_us":..,
//! "p999_us":..,"errors":..,"failed_calls":..,"requests":..,"client_cpu_s":..,
//! "cpu_us_per_call":..}`; client CPU is this process's user + system time in
//! the measured window.

use clap::Parser;
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thriftgen_interop::echo::{EchoServerAsyncClient, Request};
use thriftgen_runtime::client::{AsyncClientOptions, MultiplexOptions, PoolOptions, Strategy};
use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// Calls the echo service from many tasks through one shared client.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The server.
    #[arg(long)]
    addr: SocketAddr,
    /// Tasks calling at the same time, each one call in flight.
    #[arg(long, short = 'c', default_value_t = 100)]
    concurrency: usize,
    /// Seconds measured.
    #[arg(long, short = 'd', default_value_t = 8.0)]
    duration: f64,
    /// Seconds of calls before measuring.
    #[arg(long, short = 'w', default_value_t = 2.0)]
    warmup: f64,
    /// Bytes of `msg` in each request.
    #[arg(long, short = 'b', default_value_t = 1024)]
    payload: usize,
    /// The framing: framed binary, or TTHeader with a framed payload (what
    /// Kitex and Volo send).
    #[arg(long, value_enum, default_value_t = Transport::Framed)]
    transport: Transport,
    /// Pooled ping-pong connections, or calls multiplexed by seqid.
    #[arg(long, value_enum, default_value_t = Mode::Pool)]
    mode: Mode,
    /// Pool: the cap on connections (default: the concurrency). Multiplex:
    /// how many connections (default 1).
    #[arg(long, short = 'k')]
    connections: Option<usize>,
    /// tokio worker threads (default: one per CPU).
    #[arg(long, short = 't')]
    threads: Option<usize>,
    /// A name for the run, echoed in the JSON line.
    #[arg(long, default_value = "thriftgen")]
    label: String,
}

/// `--transport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Transport {
    /// A 4-byte length, then the binary message.
    Framed,
    /// TTHeader around a framed binary message.
    Ttheader,
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// One call in flight per connection, connections pooled.
    Pool,
    /// Many calls in flight per connection, matched by seqid.
    Multiplex,
}

/// This process's user + system CPU seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: `rusage` is plain data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// What the tasks count while the window is open.
#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    errors: AtomicU64,
    failed_calls: AtomicU64,
}

fn main() {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime.enable_all().build().expect("a tokio runtime");

    let mut options = AsyncClientOptions {
        protocol: ProtocolId::Binary,
        ..AsyncClientOptions::default()
    };
    match args.transport {
        Transport::Framed => options.dialect = Dialect::Framed,
        Transport::Ttheader => {
            options.dialect = Dialect::TTHeader;
            options.framed_payload = true;
        }
    }
    options.strategy = match args.mode {
        Mode::Pool => {
            let cap = args.connections.unwrap_or(args.concurrency).max(1);
            Strategy::Pooled(PoolOptions {
                max_connections: cap,
                max_idle: cap,
                ..PoolOptions::default()
            })
        }
        Mode::Multiplex => Strategy::Multiplexed(MultiplexOptions {
            connections: args.connections.unwrap_or(1).max(1),
            // Every task may have its call in flight on one connection.
            max_in_flight: args.concurrency.max(1),
            ..MultiplexOptions::default()
        }),
    };
    // Volo's benchmark client waits up to 10 s for a call.
    options.call_timeout = Some(Duration::from_secs(10));

    let request = Request {
        action: "echo".into(),
        msg: "x".repeat(args.payload).into(),
    };
    let merged = Arc::new(Mutex::new(histogram()));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());

    let (window, cpu) = runtime.block_on(async {
        let client = EchoServerAsyncClient::new(args.addr, options);
        let mut tasks = Vec::with_capacity(args.concurrency);
        for _ in 0..args.concurrency {
            let client = client.clone();
            let request = request.clone();
            let (merged, measuring, stop, counts) = (
                merged.clone(),
                measuring.clone(),
                stop.clone(),
                counts.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut local = histogram();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let reply = client.echo(&request).await;
                    if !measuring.load(Ordering::Relaxed) {
                        continue;
                    }
                    match reply {
                        Ok(response) if response.msg == request.msg => {
                            counts.ok.fetch_add(1, Ordering::Relaxed);
                            let micros = started.elapsed().as_micros().max(1);
                            let _ = local.record(u64::try_from(micros).unwrap_or(u64::MAX));
                        }
                        other => {
                            let first = counts.errors.fetch_add(1, Ordering::Relaxed) == 0;
                            if other.is_err() {
                                counts.failed_calls.fetch_add(1, Ordering::Relaxed);
                            }
                            if first {
                                match other {
                                    Err(e) => eprintln!("echo-client: first error: {e}"),
                                    Ok(r) => eprintln!(
                                        "echo-client: first error: a reply `msg` of {} bytes",
                                        r.msg.len()
                                    ),
                                }
                            }
                        }
                    }
                }
                if let Ok(mut merged) = merged.lock() {
                    let _ = merged.add(&local);
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
        let (t0, c0) = (Instant::now(), cpu_seconds());
        measuring.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
        measuring.store(false, Ordering::Relaxed);
        let (window, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        (window, cpu)
    });

    let merged = merged
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| histogram());
    let requests = counts.ok.load(Ordering::Relaxed);
    let quantile = |q: f64| merged.value_at_quantile(q) as f64;
    println!(
        "JSON {{\"label\":{:?},\"transport\":{:?},\"mode\":{:?},\"concurrency\":{},\"payload\":{},\
         \"window_s\":{window:.3},\"requests\":{requests},\"qps\":{:.1},\"p50_us\":{:.1},\
         \"p99_us\":{:.1},\"p999_us\":{:.1},\"errors\":{},\"failed_calls\":{},\
         \"client_cpu_s\":{cpu:.3},\"cpu_us_per_call\":{:.2}}}",
        args.label,
        format!("{:?}", args.transport).to_lowercase(),
        format!("{:?}", args.mode).to_lowercase(),
        args.concurrency,
        args.payload,
        requests as f64 / window,
        quantile(0.5),
        quantile(0.99),
        quantile(0.999),
        counts.errors.load(Ordering::Relaxed),
        counts.failed_calls.load(Ordering::Relaxed),
        cpu / (requests.max(1) as f64) * 1e6,
    );
}
