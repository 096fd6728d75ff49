//! The async client as a `tower::Service`: `poll_ready` is back-pressure
//! (pending while the pool is full, never a panic), and tower's timeout,
//! concurrency limit, retry and p2c balancing stacks compose with it.

mod support;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{echo_server, rogue, Action, EchoReply};
use thriftgen_runtime::client::{
    AsyncClient, AsyncClientOptions, Call, CallError, ClientService, PoolOptions, Strategy,
};
use thriftgen_runtime::protocol::{OutputProtocol, Result as ProtocolResult};
use thriftgen_runtime::service::Args;
use thriftgen_runtime::TType;
use tower::{Service, ServiceBuilder, ServiceExt};

const LIMIT: Duration = Duration::from_secs(30);

fn run<F: Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(async {
            tokio::time::timeout(LIMIT, test)
                .await
                .expect("the test finished in time")
        });
}

/// `echo`'s arguments, clonable for retries.
#[derive(Clone, Debug)]
struct X(i32);

impl Args for X {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> ProtocolResult<()> {
        output.write_struct_begin("echo_args")?;
        output.write_field_begin(TType::I32, 1)?;
        output.write_i32(self.0)?;
        output.write_field_end()?;
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

/// The one request type of these tests.
type Req = Call<X, EchoReply>;

fn echo(x: i32) -> Req {
    Call::new("echo", X(x))
}

fn pooled(max_connections: usize) -> AsyncClientOptions {
    AsyncClientOptions {
        strategy: Strategy::Pooled(PoolOptions {
            max_connections,
            max_idle: max_connections,
            ..PoolOptions::default()
        }),
        ..AsyncClientOptions::default()
    }
}

#[test]
fn poll_ready_waits_for_room_and_never_panics() {
    let (server, _) = echo_server();
    let addr = server.local_addr();
    run(async move {
        let client = AsyncClient::new(addr, pooled(2));
        let mut a = client.service();
        let mut b = client.service();
        let mut c = client.service();
        ServiceExt::<Req>::ready(&mut a).await.unwrap();
        ServiceExt::<Req>::ready(&mut b).await.unwrap();
        // Both connections are reserved: the third waits.
        let waited =
            tokio::time::timeout(Duration::from_millis(50), ServiceExt::<Req>::ready(&mut c)).await;
        assert!(waited.is_err(), "ready while the pool is full");
        // A call frees its reservation when it ends.
        assert_eq!(a.call(echo(1)).await.unwrap(), 1);
        ServiceExt::<Req>::ready(&mut c).await.unwrap();
        assert_eq!(c.call(echo(3)).await.unwrap(), 3);
        // Calling without readiness works too, unreserved.
        let mut d: ClientService = client.service();
        assert_eq!(d.call(echo(4)).await.unwrap(), 4);
        assert_eq!(b.call(echo(2)).await.unwrap(), 2);
        // Plain `oneshot`.
        assert_eq!(client.service().oneshot(echo(5)).await.unwrap(), 5);
    });
    server.shutdown(Duration::from_secs(1));
}

/// Retries failed calls up to `0` more times.
#[derive(Clone, Debug)]
struct Attempts(usize);

impl<Req: Clone, Res, E> tower::retry::Policy<Req, Res, E> for Attempts {
    type Future = std::future::Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
        match result {
            Err(_) if self.0 > 0 => {
                self.0 -= 1;
                Some(std::future::ready(()))
            }
            _ => None,
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req.clone())
    }
}

#[test]
fn timeout_concurrency_limit_and_retry_layers_compose() {
    run(async {
        // x = 1 never answers; the others at once.
        let server = rogue(1, |x| match x {
            1 => Action::Hold,
            _ => Action::Answer,
        })
        .await;
        let client = AsyncClient::new(server.addr, pooled(4));
        let mut stack = ServiceBuilder::new()
            .retry(Attempts(2))
            .timeout(Duration::from_millis(100))
            .concurrency_limit(2)
            .service(client.service());
        for x in [2, 3, 4] {
            let ready = ServiceExt::<Req>::ready(&mut stack).await.unwrap();
            let answer = ready.call(echo(x)).await.unwrap();
            assert_eq!(answer, x);
        }
        // The silent call times out, is retried twice, then fails.
        let before = server.requests.load(Ordering::SeqCst);
        let ready = ServiceExt::<Req>::ready(&mut stack).await.unwrap();
        let e = ready.call(echo(1)).await.unwrap_err();
        assert!(
            e.is::<tower::timeout::error::Elapsed>(),
            "expected a tower timeout, got {e}"
        );
        assert_eq!(server.requests.load(Ordering::SeqCst) - before, 3);
        // Many at once through the limit.
        let calls: Vec<_> = (10..40)
            .map(|x| {
                let stack = stack.clone();
                tokio::spawn(async move { stack.oneshot(echo(x)).await.map_err(|e| e.to_string()) })
            })
            .collect();
        for (x, call) in (10..40).zip(calls) {
            assert_eq!(call.await.unwrap().unwrap(), x);
        }
        // A service error is an error too (the typed one, before boxing).
        let bare = AsyncClient::new(server.addr, pooled(1));
        let typed: Result<i32, CallError<_>> = bare
            .service()
            .oneshot(Call::<X, EchoReply>::new("echo", X(5)))
            .await;
        assert_eq!(typed.unwrap(), 5);
    });
}

#[test]
fn tower_p2c_balances_over_several_clients() {
    let (first, _) = echo_server();
    let (second, _) = echo_server();
    let addrs = [first.local_addr(), second.local_addr()];
    run(async move {
        let clients: Vec<AsyncClient> = addrs
            .iter()
            .map(|&addr| AsyncClient::new(addr, pooled(8)))
            .collect();
        let services: Vec<_> = clients
            .iter()
            .map(|client| {
                tower::load::PendingRequests::new(
                    client.service(),
                    tower::load::CompleteOnResponse::default(),
                )
            })
            .collect();
        let mut balance = tower::balance::p2c::Balance::<_, Req>::new(
            tower::discover::ServiceList::new::<Req>(services),
        );
        for x in 0..200 {
            let ready = ServiceExt::<Req>::ready(&mut balance).await.unwrap();
            let answer = ready.call(echo(x)).await.unwrap();
            assert_eq!(answer, x);
        }
        for client in &clients {
            assert!(client.stats().connects >= 1, "each client got calls");
        }
    });
    first.shutdown(Duration::from_secs(1));
    second.shutdown(Duration::from_secs(1));
}
