//! `echo-client`: N tokio tasks share one async client and call `Echo` in a
//! loop; the client side of the benchmarks, with the same flags and output as
//! `../shared/bench`'s `volo-echo-client`.
//!
//! ```sh
//! echo-client (--addr HOST:PORT[,HOST:PORT..] | --discover etcd://HOST:PORT/NAME)
//!             [--concurrency N] [--duration S] [--warmup S]
//!             [--payload BYTES] [--transport framed|ttheader] [--mode pool|multiplex]
//!             [--connections K] [--threads T] [--label L]
//!             [--lb round-robin|weighted|hash|p2c] [--idempotent] [--backup-ms B]
//! ```
//!
//! One `--addr` and none of the fleet flags (`--lb`, `--idempotent`,
//! `--backup-ms`) is a client of that one address; several addresses, or
//! `--discover`, or a fleet flag make a fleet client
//! (`AsyncClient::discover`) over them, whose connection options
//! (`--mode`, `--connections`) apply per instance.
//!
//! Every reply is checked (the echoed `msg` must equal what was sent). The
//! last line is `JSON {"label":..,"qps":..,"p50_us":..,"p99_us":..,
//! "p999_us":..,"errors":..,"failed_calls":..,"requests":..,"client_cpu_s":..,
//! "cpu_us_per_call":..,"instances":{"ADDR":N,..},..}`; client CPU is this
//! process's user + system time in the measured window. `failed_calls` are
//! calls that returned an error to the caller (`errors` adds wrong
//! replies). `instances` counts, per instance, the attempts the client sent
//! it in the measured window (retries and backup requests included; an
//! instance that left and came back adds up both), `instance_failures`
//! those that failed; `total_calls` and `total_failed_calls` count every
//! call of the run, warmup and wind-down included (to compare with what the
//! servers counted).

use clap::Parser;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thriftgen_etcd::EtcdDiscover;
use thriftgen_interop::echo::{EchoServerAsyncClient, Request};
use thriftgen_runtime::client::{
    AsyncClient, AsyncClientOptions, Balancer, BreakerState, FleetOptions, MultiplexOptions,
    PoolOptions, Strategy,
};
use thriftgen_runtime::discover::StaticDiscover;
use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// Calls the echo service from many tasks through one shared client.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The server, or a comma-separated list of servers (a static fleet).
    #[arg(long, value_delimiter = ',', num_args = 1.., required_unless_present = "discover", conflicts_with = "discover")]
    addr: Vec<SocketAddr>,
    /// Find the servers in etcd: `etcd://HOST:PORT/SERVICE_NAME` (Kitex's
    /// key layout), watched for changes.
    #[arg(long, value_name = "URL")]
    discover: Option<String>,
    /// How a fleet picks the instance of a call (default p2c).
    #[arg(long, value_enum)]
    lb: Option<Lb>,
    /// Mark `Echo` idempotent: calls that may have run (a lost connection,
    /// an application exception, a timeout) are retried on another
    /// instance, and backup requests are allowed.
    #[arg(long)]
    idempotent: bool,
    /// With `--idempotent`: send a backup request to another instance when
    /// a call has not answered after B ms.
    #[arg(long, value_name = "B", requires = "idempotent")]
    backup_ms: Option<u64>,
    /// Every T ms from the start to the end of the run, print one line to
    /// stderr: `TRACE {"unix_ms":..,"calls":..,"failed_calls":..,
    /// "instances":{"ADDR":{"calls":..,"failures":..,"in_flight":..,
    /// "breaker":"closed|open|half-open"},..}}` (calls and failures since
    /// the start, warmup included; an instance's counters start again when
    /// it rejoins the set). For measurements around a kill or a breaker.
    #[arg(long, value_name = "T")]
    trace_ms: Option<u64>,
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

/// `--lb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Lb {
    /// Each instance in turn.
    RoundRobin,
    /// Smooth weighted round robin by the instances' weights.
    Weighted,
    /// Consistent hashing (each task has its own key).
    Hash,
    /// Power of two choices, peak-EWMA latency × calls in flight.
    P2c,
}

impl From<Lb> for Balancer {
    fn from(lb: Lb) -> Balancer {
        match lb {
            Lb::RoundRobin => Balancer::RoundRobin,
            Lb::Weighted => Balancer::WeightedRoundRobin,
            Lb::Hash => Balancer::ConsistentHash,
            Lb::P2c => Balancer::PowerOfTwoChoices,
        }
    }
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
    /// Every call of the run, measured or not.
    total: AtomicU64,
    /// Every call of the run that returned an error.
    total_failed: AtomicU64,
}

/// Per-instance attempt and failure counts accumulated from
/// `AsyncClient::instances` snapshots: an instance's counters start again
/// when it leaves the set and comes back, so a counter that went down is a
/// new start.
#[derive(Default)]
struct PerInstance {
    last: BTreeMap<SocketAddr, (u64, u64)>,
    calls: BTreeMap<SocketAddr, u64>,
    failures: BTreeMap<SocketAddr, u64>,
}

impl PerInstance {
    /// Takes a snapshot; adds what changed since the last one when
    /// `count`.
    fn sample(&mut self, client: &AsyncClient, count: bool) {
        for stats in client.instances() {
            let addr = stats.instance.addr;
            let now = (stats.calls, stats.failures);
            let before = self.last.insert(addr, now).unwrap_or((0, 0));
            let delta = |now: u64, before: u64| if now >= before { now - before } else { now };
            if count {
                *self.calls.entry(addr).or_default() += delta(now.0, before.0);
                *self.failures.entry(addr).or_default() += delta(now.1, before.1);
            } else {
                self.calls.entry(addr).or_default();
                self.failures.entry(addr).or_default();
            }
        }
    }

    fn json(map: &BTreeMap<SocketAddr, u64>) -> String {
        let fields: Vec<String> = map.iter().map(|(a, n)| format!("\"{a}\":{n}")).collect();
        format!("{{{}}}", fields.join(","))
    }
}

/// One `--trace-ms` line.
fn trace(client: &AsyncClient, counts: &Counts) {
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let instances: Vec<String> = client
        .instances()
        .iter()
        .map(|i| {
            let breaker = match i.breaker {
                BreakerState::Closed => "closed",
                BreakerState::Open => "open",
                BreakerState::HalfOpen => "half-open",
            };
            format!(
                "\"{}\":{{\"calls\":{},\"failures\":{},\"in_flight\":{},\"breaker\":\"{breaker}\"}}",
                i.instance.addr, i.calls, i.failures, i.in_flight
            )
        })
        .collect();
    eprintln!(
        "TRACE {{\"unix_ms\":{unix_ms},\"calls\":{},\"failed_calls\":{},\"instances\":{{{}}}}}",
        counts.total.load(Ordering::Relaxed),
        counts.total_failed.load(Ordering::Relaxed),
        instances.join(",")
    );
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

    let fleet_flags = args.lb.is_some() || args.idempotent || args.backup_ms.is_some();
    let mut fleet = FleetOptions::default();
    if let Some(lb) = args.lb {
        fleet.balancer = lb.into();
    }
    if args.idempotent {
        fleet.retry.idempotent_methods = vec!["Echo".to_owned()];
        fleet.retry.backup_delay = args.backup_ms.map(Duration::from_millis);
    }
    let hashing = args.lb == Some(Lb::Hash);

    let per_instance = Arc::new(Mutex::new(PerInstance::default()));
    let (window, cpu) = runtime.block_on(async {
        let raw = match (&args.discover, args.addr.as_slice()) {
            (Some(url), _) => {
                let discover = EtcdDiscover::from_url(url).unwrap_or_else(|e| {
                    eprintln!("echo-client: {e}");
                    std::process::exit(2)
                });
                AsyncClient::discover(discover, options, fleet)
            }
            (None, [one]) if !fleet_flags => AsyncClient::new(*one, options),
            (None, addrs) => {
                AsyncClient::discover(StaticDiscover::new(addrs.to_vec()), options, fleet)
            }
        };
        let client = EchoServerAsyncClient::from_client(raw.clone());
        let mut tasks = Vec::with_capacity(args.concurrency);
        for task in 0..args.concurrency {
            let client = if hashing {
                client.with_call_options(
                    thriftgen_runtime::client::CallOptions::default().hash_key(task.to_le_bytes()),
                )
            } else {
                client.clone()
            };
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
                    counts.total.fetch_add(1, Ordering::Relaxed);
                    if reply.is_err() {
                        counts.total_failed.fetch_add(1, Ordering::Relaxed);
                    }
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
        let tracer = args.trace_ms.map(|every| {
            let (raw, stop, counts) = (raw.clone(), stop.clone(), counts.clone());
            tokio::spawn(async move {
                let every = Duration::from_millis(every.max(1));
                while !stop.load(Ordering::Relaxed) {
                    trace(&raw, &counts);
                    tokio::time::sleep(every).await;
                }
                trace(&raw, &counts);
            })
        });
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
        let sample = |count: bool| {
            if let Ok(mut p) = per_instance.lock() {
                p.sample(&raw, count);
            }
        };
        sample(false);
        let (t0, c0) = (Instant::now(), cpu_seconds());
        measuring.store(true, Ordering::Relaxed);
        // Snapshots every 100 ms, so that an instance that leaves the set
        // takes few uncounted attempts with it.
        let end = t0 + Duration::from_secs_f64(args.duration);
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            tokio::time::sleep((end - now).min(Duration::from_millis(100))).await;
            sample(true);
        }
        measuring.store(false, Ordering::Relaxed);
        let (window, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        if let Some(tracer) = tracer {
            let _ = tokio::time::timeout(Duration::from_secs(5), tracer).await;
        }
        (window, cpu)
    });

    let per_instance = per_instance
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
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
         \"client_cpu_s\":{cpu:.3},\"cpu_us_per_call\":{:.2},\"total_calls\":{},\
         \"total_failed_calls\":{},\"instances\":{},\"instance_failures\":{}}}",
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
        counts.total.load(Ordering::Relaxed),
        counts.total_failed.load(Ordering::Relaxed),
        PerInstance::json(&per_instance.calls),
        PerInstance::json(&per_instance.failures),
    );
}
