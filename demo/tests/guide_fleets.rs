//! The snippets of the guide's "Fleets" chapter (docs/guide.md, section 11),
//! over the demo's `Store` service, so that they keep compiling. One of
//! them runs: a static fleet of two instances, called through the typed
//! client and through a tower stack.

#![allow(dead_code)]

mod gen {
    include!(concat!(env!("OUT_DIR"), "/thriftgen/mod.rs"));
}

use gen::store::{
    Health, NotFound, Store, StoreAsyncClient, StoreGetArgs, StoreGetError, StoreGetMethod,
    StoreProcessor,
};
use std::sync::Arc;
use std::time::Duration;
use thriftgen_runtime::protocol::ApplicationException;
use thriftgen_runtime::service::CallContext;

struct Shelf;

impl Health for Shelf {
    fn ping(&self, _ctx: &CallContext) -> Result<String, ApplicationException> {
        Ok("pong".into())
    }
}

impl Store for Shelf {
    fn get(&self, _ctx: &CallContext, key: String) -> Result<String, StoreGetError> {
        match key.as_str() {
            "missing" => Err(NotFound { key: Some(key) }.into()),
            _ => Ok(format!("value of {key}")),
        }
    }

    fn put(&self, _: &CallContext, _: String, _: String) -> Result<String, ApplicationException> {
        Ok(String::new())
    }

    fn size(&self, _ctx: &CallContext) -> Result<i64, ApplicationException> {
        Ok(0)
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

// ---- Discovery ----------------------------------------------------------

fn discovery(a: std::net::SocketAddr, b: std::net::SocketAddr) -> Result<(), Error> {
    use thriftgen_runtime::client::{AsyncClient, AsyncClientOptions, FleetOptions};
    use thriftgen_runtime::discover::{DnsDiscover, Instance, StaticDiscover};

    // A fixed list; weights and tags with `StaticDiscover::instances`.
    let fixed = StaticDiscover::instances([
        Instance::new(a).with_weight(20).with_tag("zone", "eu-1"),
        Instance::new(b),
    ]);
    // Every A/AAAA address of a name, resolved again every 10 s.
    let dns = DnsDiscover::new("store.internal:9090").interval(Duration::from_secs(10));
    // Kitex's etcd registry.
    let etcd = thriftgen_etcd::EtcdDiscover::from_url("etcd://127.0.0.1:2379/store")?;

    let store = StoreAsyncClient::from_client(AsyncClient::discover(
        fixed,
        AsyncClientOptions::default(),
        FleetOptions::default(),
    ));
    drop((store, dns, etcd));
    Ok(())
}

// ---- Registration -------------------------------------------------------

fn registration() -> Result<(), Error> {
    use thriftgen_etcd::{EtcdOptions, EtcdRegistrar};
    use thriftgen_runtime::server::{Registration, Server, ServerOptions};

    let registrar = EtcdRegistrar::new("127.0.0.1:2379", "store", EtcdOptions::default())?;
    let server = Server::new(StoreProcessor::new(Shelf))
        .options(ServerOptions {
            exit_wait: Some(Duration::from_secs(5)),
            ..ServerOptions::default()
        })
        .register(
            Registration::new(Arc::new(registrar))
                .weight(20)
                .tag("zone", "eu-1"),
        )
        .bind("0.0.0.0:9090")?; // registers the address clients can dial
    println!("registered as {:?}", server.registered());
    // Deregister, keep serving 5 s with `crrst` on TTHeader replies, then
    // drain for at most 10 s.
    server.shutdown(Duration::from_secs(10));
    Ok(())
}

// ---- Balancing, retries, breakers ----------------------------------------

fn fleet_options() -> thriftgen_runtime::client::FleetOptions {
    use thriftgen_runtime::client::{Balancer, BreakerOptions, FleetOptions, RetryOptions};

    FleetOptions {
        balancer: Balancer::ConsistentHash,
        retry: RetryOptions {
            // As if `put` were marked `(idempotent = "true")` in the IDL.
            idempotent_methods: vec!["put".to_string()],
            attempt_timeout: Some(Duration::from_millis(300)),
            backup_delay: Some(Duration::from_millis(20)),
            ..RetryOptions::default()
        },
        breaker: BreakerOptions {
            min_samples: 50,
            ..BreakerOptions::default()
        },
        ..FleetOptions::default()
    }
}

async fn per_call(store: &StoreAsyncClient) -> Result<(), Error> {
    use thriftgen_runtime::client::CallOptions;

    // Calls with the same key go to the same instance (ConsistentHash).
    let user = store.with_call_options(CallOptions::new().hash_key("user-42"));
    let value = user.get("cart").await?;
    // Never sent twice, whatever the IDL or `idempotent_methods` say.
    let once = store.with_call_options(CallOptions::new().idempotent(false));
    once.get("cart").await?;
    for stats in store.client().instances() {
        println!(
            "{}: {} calls, {} failures, breaker {:?}, draining {}",
            stats.instance.addr, stats.calls, stats.failures, stats.breaker, stats.draining
        );
    }
    drop(value);
    Ok(())
}

// ---- Tower ---------------------------------------------------------------

async fn tower_client(store: &StoreAsyncClient) -> Result<String, Error> {
    use thriftgen_runtime::client::Call;
    use tower::{ServiceBuilder, ServiceExt};

    let service = ServiceBuilder::new()
        .concurrency_limit(64)
        .timeout(Duration::from_millis(500))
        .service(store.client().service());
    let call: Call<_, StoreGetMethod> = Call::new("get", StoreGetArgs { key: "cart" });
    let value: String = service.oneshot(call).await?;
    Ok(value)
}

fn tower_server() -> std::io::Result<()> {
    use thriftgen_runtime::server::layer::{
        CallInfo, CallOutcome, InterceptLayer, Interceptor, Metrics, TokenAuth,
    };
    use thriftgen_runtime::server::Server;

    /// Logs each call with its trace.
    struct Log;

    impl Interceptor for Log {
        type Guard = ();

        fn before(&self, _call: &CallInfo<'_>) -> Result<(), ApplicationException> {
            Ok(())
        }

        fn after(&self, call: &CallInfo<'_>, _: (), outcome: CallOutcome<'_>, took: Duration) {
            let parent = call.ctx().trace_parent().map(|p| p.to_string());
            println!(
                "{} {outcome:?} in {took:?}: trace {}, caller's span {parent:?}",
                call.method(),
                call.trace().trace_id(),
            );
        }
    }

    let metrics = Arc::new(Metrics::default());
    let server = Server::new(StoreProcessor::new(Shelf))
        .layer(InterceptLayer::new(Log))
        .layer(InterceptLayer::new(Arc::clone(&metrics)))
        .layer(InterceptLayer::new(TokenAuth::new(
            "authorization",
            "Bearer s3cret",
        )))
        .bind("127.0.0.1:0")?;
    println!("get: {:?}", metrics.method("get"));
    server.shutdown(Duration::from_secs(1));
    Ok(())
}

// ---- Tracing --------------------------------------------------------------

async fn traced(store: &StoreAsyncClient) -> Result<(), Error> {
    use thriftgen_runtime::trace::TraceContext;

    // A new trace for this piece of work; every call made inside it
    // (THeader or TTHeader) sends `traceparent`, a child span of it.
    let root = TraceContext::new_root();
    root.in_scope(async {
        store.get("cart").await?;
        store.size().await?;
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

// ---- One of them, run -----------------------------------------------------

#[test]
fn a_static_fleet_answers_through_the_typed_client_and_tower() {
    use thriftgen_runtime::client::{AsyncClient, AsyncClientOptions, CallError};
    use thriftgen_runtime::discover::StaticDiscover;
    use thriftgen_runtime::server::Server;
    use thriftgen_runtime::transport::{Dialect, ProtocolId};

    let a = Server::new(StoreProcessor::new(Shelf))
        .bind("127.0.0.1:0")
        .unwrap();
    let b = Server::new(StoreProcessor::new(Shelf))
        .bind("127.0.0.1:0")
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = StoreAsyncClient::from_client(AsyncClient::discover(
            StaticDiscover::new([a.local_addr(), b.local_addr()]),
            AsyncClientOptions::multiplexed(Dialect::TTHeader, ProtocolId::Binary),
            fleet_options(),
        ));
        tokio::time::timeout(Duration::from_secs(30), async {
            per_call(&store).await.unwrap();
            traced(&store).await.unwrap();
            assert_eq!(tower_client(&store).await.unwrap(), "value of cart");
            // A declared exception is an answer, not a failure.
            assert!(matches!(
                store.get("missing").await,
                Err(CallError::Service(StoreGetError::NotFound(_)))
            ));
            let instances = store.client().instances();
            assert_eq!(instances.len(), 2);
            assert!(instances.iter().all(|s| s.failures == 0));
        })
        .await
        .expect("in time");
    });
    a.shutdown(Duration::from_secs(5));
    b.shutdown(Duration::from_secs(5));
    tower_server().unwrap();
    let _ = (discovery, registration);
}
