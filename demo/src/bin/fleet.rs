//! A fleet on one machine:
//!
//! ```sh
//! cargo run --release -p demo --bin fleet
//! cargo run --release -p demo --bin fleet -- --etcd 127.0.0.1:2379
//! ```
//!
//! Three instances of the `Store` service of `idl/demo/store.thrift` on
//! free loopback ports, behind one store, each with two layers (a token
//! check, and a log line showing the `traceparent` of the first traced call
//! it serves) and a metrics layer. A fleet client finds them (a static list,
//! or with `--etcd HOST:PORT` the etcd there, in which the servers register
//! themselves with Kitex's key layout) and spreads calls over them by power
//! of two choices, from 16 tasks for a few seconds. Midway, one instance is
//! restarted gracefully on the same port: deregister, exit wait with the
//! `crrst` drain hint, drain, start again. No call fails: the client stops
//! choosing the instance when it deregisters or sends the hint, and calls
//! that never reached it are sent elsewhere. At the end: calls per instance
//! and `failed calls: 0` (the exit status is 1 otherwise).
//!
//! `get`, `size` and `ping` are marked `(idempotent = "true")` in the IDL,
//! so the fleet may also retry them after failures that may have reached a
//! server, and send backup requests for them; `put` only ever goes once.

use demo::gen::store::{StoreAsyncClient, StoreProcessor};
use demo::MemoryStore;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thriftgen_etcd::{EtcdDiscover, EtcdOptions, EtcdRegistrar};
use thriftgen_runtime::client::{
    AsyncClient, AsyncClientOptions, Balancer, CallError, CallOptions, FleetOptions, RetryOptions,
};
use thriftgen_runtime::discover::{Discover, StaticDiscover};
use thriftgen_runtime::protocol::ApplicationException;
use thriftgen_runtime::server::layer::{CallInfo, InterceptLayer, Interceptor, Metrics, TokenAuth};
use thriftgen_runtime::server::{Registration, Server, ServerOptions};
use thriftgen_runtime::trace::TraceContext;
use thriftgen_runtime::transport::{Dialect, ProtocolId};
use thriftgen_runtime::RunningServer;

type Error = Box<dyn std::error::Error>;

/// The header the servers check, and its value.
const AUTH_HEADER: &str = "authorization";
const TOKEN: &str = "Bearer fleet-demo";
/// The service name in etcd.
const SERVICE: &str = "thriftgen-demo-store";
const INSTANCES: usize = 3;
/// The instance restarted midway.
const RESTARTED: usize = 1;
const TASKS: usize = 16;

/// A server layer: logs the trace of the first call that carries a
/// `traceparent`, once per server start.
struct TraceLog {
    instance: usize,
    logged: AtomicBool,
}

impl Interceptor for TraceLog {
    type Guard = ();

    fn before(&self, call: &CallInfo<'_>) -> Result<(), ApplicationException> {
        let ctx = call.ctx();
        if let Some(parent) = ctx.trace_parent() {
            if !self.logged.swap(true, Ordering::Relaxed) {
                println!(
                    "  [instance {}] {}: traceparent {parent} -> server span {}",
                    self.instance,
                    call.method(),
                    ctx.trace().span_id(),
                );
            }
        }
        Ok(())
    }
}

/// What the command line says.
struct Args {
    etcd: Option<String>,
    seconds: f64,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        etcd: None,
        seconds: 4.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--etcd" => args.etcd = Some(it.next().ok_or("--etcd needs HOST:PORT")?),
            "--seconds" => {
                let s: f64 = it.next().ok_or("--seconds needs a number")?.parse()?;
                if !(0.5..=60.0).contains(&s) {
                    return Err("--seconds must be between 0.5 and 60".into());
                }
                args.seconds = s;
            }
            "-h" | "--help" => {
                println!("usage: fleet [--etcd HOST:PORT] [--seconds N (default 4)]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(args)
}

/// One slot of the fleet: the address it keeps across restarts and the
/// counters that outlive each server.
struct Slot {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    server: Option<RunningServer>,
}

/// Starts instance `instance` on `addr` (port 0: a free one).
fn start(
    instance: usize,
    addr: SocketAddr,
    store: &Arc<MemoryStore>,
    metrics: &Arc<Metrics>,
    registrar: Option<&Arc<EtcdRegistrar>>,
) -> Result<RunningServer, Error> {
    let make = || {
        let server = Server::new(StoreProcessor::new(store.clone()))
            .layer(InterceptLayer::new(Arc::clone(metrics)))
            .layer(InterceptLayer::new(TraceLog {
                instance,
                logged: AtomicBool::new(false),
            }))
            // Added last, so outermost: a call without the token goes no
            // further.
            .layer(InterceptLayer::new(TokenAuth::new(AUTH_HEADER, TOKEN)))
            .options(ServerOptions {
                pollers: 1,
                // Deregistered (or not), the instance keeps serving this
                // long with the drain hint on its replies before it stops
                // accepting.
                exit_wait: Some(Duration::from_millis(500)),
                ..ServerOptions::default()
            });
        match registrar {
            Some(registrar) => server.register(Registration::new(registrar.clone())),
            None => server,
        }
    };
    // The port was ours a moment ago; give the old listener time to go.
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match make().bind(addr) {
            Ok(running) => return Ok(running),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("instance {instance} on {addr}: {e}").into()),
        }
    }
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let store = Arc::new(MemoryStore::default());
    let registrar = match &args.etcd {
        Some(endpoint) => Some(Arc::new(EtcdRegistrar::new(
            endpoint.clone(),
            SERVICE,
            // A demo that is killed leaves its keys for 10 s, not 60.
            EtcdOptions::default().with_ttl(Duration::from_secs(10)),
        )?)),
        None => None,
    };
    let localhost: SocketAddr = "127.0.0.1:0".parse()?;
    let mut slots = Vec::new();
    for instance in 0..INSTANCES {
        let metrics = Arc::new(Metrics::default());
        let server = start(instance, localhost, &store, &metrics, registrar.as_ref())?;
        slots.push(Slot {
            addr: server.local_addr(),
            metrics,
            server: Some(server),
        });
    }
    let addrs: Vec<SocketAddr> = slots.iter().map(|s| s.addr).collect();
    let discover: Arc<dyn Discover> = match &args.etcd {
        Some(endpoint) => {
            println!(
                "3 instances of Store on {addrs:?}, registered in etcd at {endpoint} \
                 under kitex/registry-etcd/{SERVICE}/"
            );
            Arc::new(EtcdDiscover::new(
                endpoint.clone(),
                SERVICE,
                EtcdOptions::default(),
            )?)
        }
        None => {
            println!("3 instances of Store on {addrs:?}, a static list");
            Arc::new(StaticDiscover::new(addrs.clone()))
        }
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let fleet = FleetOptions {
        balancer: Balancer::PowerOfTwoChoices,
        retry: RetryOptions {
            // A backup request for an idempotent call (`get`, `size`) that
            // has not answered in 50 ms.
            backup_delay: Some(Duration::from_millis(50)),
            ..RetryOptions::default()
        },
        ..FleetOptions::default()
    };
    let options = AsyncClientOptions {
        call_timeout: Some(Duration::from_secs(2)),
        // TTHeader carries the token, the traceparent and the drain hint.
        ..AsyncClientOptions::multiplexed(Dialect::TTHeader, ProtocolId::Binary)
    };
    let client = StoreAsyncClient::from_client(
        AsyncClient::discover(discover, options, fleet)
            .with_call_options(CallOptions::new().header(AUTH_HEADER, TOKEN)),
    );

    // Some keys to read, and wait until every instance is known.
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async {
            for i in 0..64 {
                client
                    .put(&format!("key-{i}"), &format!("value {i}"))
                    .await?;
            }
            while client.client().instances().len() < INSTANCES {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<_, Error>(())
        })
        .await
        .map_err(|_| "the fleet did not come up within 10 s")?
    })?;

    // The load: 16 tasks, each call in a trace of its own.
    let duration = Duration::from_secs_f64(args.seconds);
    let start_at = Instant::now();
    let deadline = start_at + duration;
    let failed = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let client = client.clone();
            let failed = failed.clone();
            runtime.spawn(async move {
                let mut ok = 0u64;
                let mut i = task as u64;
                while Instant::now() < deadline {
                    i += 1;
                    let key = format!("key-{}", i % 64);
                    let call = async {
                        match i % 10 {
                            0 => client
                                .put(&key, "updated")
                                .await
                                .map(drop)
                                .map_err(|e| e.to_string()),
                            1 => client.size().await.map(drop).map_err(|e| e.to_string()),
                            _ => client.get(&key).await.map(drop).map_err(|e| match e {
                                CallError::Service(e) => format!("declared exception {e:?}"),
                                e => e.to_string(),
                            }),
                        }
                    };
                    match TraceContext::new_root().in_scope(call).await {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            if failed.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("  call failed: {e}");
                            }
                        }
                    }
                }
                ok
            })
        })
        .collect();

    // Midway: a graceful restart of one instance, on the same port.
    std::thread::sleep(duration.mul_f64(0.4));
    let slot = &mut slots[RESTARTED];
    if let Some(server) = slot.server.take() {
        let t = Instant::now();
        let stats = server.shutdown(Duration::from_secs(5));
        println!(
            "  [instance {RESTARTED}] stopped in {:.2} s ({}deregister, exit wait with crrst, drain): {} requests served",
            t.elapsed().as_secs_f64(),
            if registrar.is_some() { "" } else { "no registry to " },
            stats.requests,
        );
        let server = start(
            RESTARTED,
            slot.addr,
            &store,
            &slot.metrics,
            registrar.as_ref(),
        )?;
        println!(
            "  [instance {RESTARTED}] started again on {}",
            server.local_addr()
        );
        slot.server = Some(server);
    }

    let ok: u64 = runtime.block_on(async {
        let mut ok = 0;
        for task in tasks {
            ok += tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .map_err(|_| "a load task did not finish")??;
        }
        Ok::<_, Error>(ok)
    })?;
    let elapsed = start_at.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);

    println!("\ncalls per instance (as each instance's metrics layer counted them):");
    let seen = client.client().instances();
    for (instance, slot) in slots.iter().enumerate() {
        let calls: u64 = slot.metrics.snapshot().values().map(|m| m.calls).sum();
        let restarted = if instance == RESTARTED {
            "  (restarted once)"
        } else {
            ""
        };
        let breaker = seen
            .iter()
            .find(|s| s.instance.addr == slot.addr)
            .map(|s| format!(", breaker {:?}", s.breaker))
            .unwrap_or_default();
        println!(
            "  instance {instance} {}: {calls} calls{breaker}{restarted}",
            slot.addr
        );
    }
    println!(
        "\n{TASKS} tasks, {:.1} s: {ok} calls answered ({:.0} calls/s)",
        elapsed,
        ok as f64 / elapsed
    );
    println!("failed calls: {failed}");

    drop(client);
    for slot in &mut slots {
        if let Some(server) = slot.server.take() {
            server.shutdown(Duration::from_secs(5));
        }
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
