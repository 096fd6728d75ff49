//! The async client over a discovered fleet, on loopback: every balancer,
//! the power-of-two-choices latency target, refused instances left out and
//! probed back, retries (connect failures always, the rest only for
//! idempotent calls), the retry budget, backup requests, the circuit
//! breaker, the drain hint (`crrst`) on one address and in a fleet, and
//! instances leaving. The servers are the runtime's own (async handlers),
//! each answering with its id; discovery is a tokio watch channel.

mod support;

use bytes::BytesMut;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use support::EchoArgs;
use thriftgen_runtime::client::{
    AsyncClient, AsyncClientOptions, Balancer, BreakerOptions, BreakerState, CallError,
    CallOptions, ClientError, FleetOptions, InstanceStats, MultiplexOptions, PoolOptions,
    RetryBudgetOptions, RetryOptions, Strategy,
};
use thriftgen_runtime::discover::{Discover, Instance, InstanceStream, StaticDiscover};
use thriftgen_runtime::protocol::{
    ApplicationErrorKind, ApplicationException, InputProtocol, Limits, MessageHeader,
    OutputProtocol, Protocol, Result as ProtocolResult,
};
use thriftgen_runtime::server::{PerConnection, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{AsyncProcessor, CallContext, Dispatch, ProcessError, Reply};
use thriftgen_runtime::transport::Dialect;
use thriftgen_runtime::{MessageType, TType};
use tokio::sync::watch;

/// Every test's bound: a hang fails the test instead of stalling the run.
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

// ---------------------------------------------------------------------------
// Servers: `echo(1: i32 x) -> i32` answers the server's id after
// `delay_ms + x` ms, or an application exception while `fail` is set.
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Knobs {
    id: i32,
    delay_ms: AtomicU64,
    fail: AtomicBool,
    /// Calls executed.
    calls: AtomicU64,
}

impl Knobs {
    fn new(id: i32) -> Arc<Knobs> {
        Arc::new(Knobs {
            id,
            ..Knobs::default()
        })
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

struct Service(Arc<Knobs>);

fn read_x<I: InputProtocol>(input: &mut I) -> ProtocolResult<i32> {
    let mut x = 0;
    input.read_struct_begin()?;
    loop {
        let field = input.read_field_begin()?;
        match (field.ttype, field.id) {
            (TType::Stop, _) => break,
            (TType::I32, 1) => x = input.read_i32()?,
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end()?;
    Ok(x)
}

fn write_answer<O: OutputProtocol>(
    output: &mut O,
    header: &MessageHeader,
    answer: Result<i32, ApplicationException>,
) -> ProtocolResult<()> {
    let kind = match answer {
        Ok(_) => MessageType::Reply,
        Err(_) => MessageType::Exception,
    };
    output.write_message_begin(&MessageHeader {
        name: header.name.clone(),
        kind,
        seqid: header.seqid,
    })?;
    match answer {
        Ok(value) => {
            output.write_struct_begin("echo_result")?;
            output.write_field_begin(TType::I32, 0)?;
            output.write_i32(value)?;
            output.write_field_end()?;
            output.write_field_stop()?;
            output.write_struct_end()?;
        }
        Err(e) => e.write(output)?,
    }
    output.write_message_end()
}

impl AsyncProcessor for Service {
    fn dispatch<R: Protocol>(
        &self,
        _ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        let x = match header.name.as_str() {
            "echo" => read_x(input).map_err(ProcessError::Decode)?,
            "note" => {
                read_x(input).map_err(ProcessError::Decode)?;
                return Ok(Dispatch::Oneway(Box::pin(async {})));
            }
            _ => return Ok(Dispatch::UnknownMethod),
        };
        let knobs = self.0.clone();
        let header = header.clone();
        Ok(Dispatch::Reply(Box::pin(async move {
            knobs.calls.fetch_add(1, Ordering::SeqCst);
            let delay = knobs.delay_ms.load(Ordering::SeqCst) + x.max(0) as u64;
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let answer = if knobs.fail.load(Ordering::SeqCst) {
                Err(ApplicationException::new(
                    ApplicationErrorKind::INTERNAL_ERROR,
                    "failing on purpose",
                ))
            } else {
                Ok(knobs.id)
            };
            let mut buf = BytesMut::new();
            write_answer(&mut R::writer(&mut buf, limits), &header, answer)
                .map_err(ProcessError::Encode)?;
            Ok(buf)
        })))
    }
}

/// A server of `knobs` on `addr`, on the current tokio runtime.
fn serve_at(knobs: &Arc<Knobs>, addr: &str) -> RunningServer {
    let options = ServerOptions {
        pollers: 1,
        per_connection: PerConnection::CONCURRENT,
        linger: Duration::from_millis(50),
        ..ServerOptions::default()
    };
    Server::new_async(Service(knobs.clone()), tokio::runtime::Handle::current())
        .options(options)
        .bind(addr)
        .expect("bind on loopback")
}

fn serve(knobs: &Arc<Knobs>) -> RunningServer {
    serve_at(knobs, "127.0.0.1:0")
}

/// `n` servers with ids 1..=n.
fn servers(n: i32) -> (Vec<RunningServer>, Vec<Arc<Knobs>>) {
    let knobs: Vec<_> = (1..=n).map(Knobs::new).collect();
    (knobs.iter().map(serve).collect(), knobs)
}

fn addrs(servers: &[RunningServer]) -> Vec<SocketAddr> {
    servers.iter().map(RunningServer::local_addr).collect()
}

/// An address nothing listens on (just freed).
fn dead_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

fn stop(servers: Vec<RunningServer>) {
    for server in servers {
        server.handle().shutdown(Duration::from_millis(200));
    }
}

/// The reply of `echo`: the id of the server that answered.
struct Echo;

impl Reply for Echo {
    type Ok = i32;
    type Err = ApplicationException;

    fn read<I: InputProtocol>(input: &mut I) -> ProtocolResult<Result<i32, ApplicationException>> {
        support::EchoReply::read(input)
    }
}

async fn echo(client: &AsyncClient, x: i32) -> Result<i32, CallError<ApplicationException>> {
    client.call::<Echo, _>("echo", &EchoArgs(x)).await
}

// ---------------------------------------------------------------------------
// Discovery from a watch channel.
// ---------------------------------------------------------------------------

struct WatchDiscover(watch::Receiver<Vec<Instance>>);

impl Discover for WatchDiscover {
    fn watch(&self) -> InstanceStream {
        let mut changes = self.0.clone();
        changes.mark_changed();
        Box::pin(Changes {
            state: ChangesState::Idle(changes),
        })
    }
}

type Changed = Pin<
    Box<
        dyn Future<
                Output = (
                    watch::Receiver<Vec<Instance>>,
                    Result<(), watch::error::RecvError>,
                ),
            > + Send,
    >,
>;

enum ChangesState {
    Idle(watch::Receiver<Vec<Instance>>),
    Waiting(Changed),
    Done,
}

/// The sets a watch channel holds, as a stream.
struct Changes {
    state: ChangesState,
}

impl futures_core::Stream for Changes {
    type Item = Result<Vec<Instance>, thriftgen_runtime::discover::DiscoverError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match std::mem::replace(&mut self.state, ChangesState::Done) {
                ChangesState::Idle(mut changes) => {
                    self.state = ChangesState::Waiting(Box::pin(async move {
                        let changed = changes.changed().await;
                        (changes, changed)
                    }));
                }
                ChangesState::Waiting(mut wait) => match wait.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.state = ChangesState::Waiting(wait);
                        return Poll::Pending;
                    }
                    Poll::Ready((_, Err(_))) => return Poll::Ready(None),
                    Poll::Ready((mut changes, Ok(()))) => {
                        let set = changes.borrow_and_update().clone();
                        self.state = ChangesState::Idle(changes);
                        return Poll::Ready(Some(Ok(set)));
                    }
                },
                ChangesState::Done => return Poll::Ready(None),
            }
        }
    }
}

fn watched(addrs: &[SocketAddr]) -> (watch::Sender<Vec<Instance>>, WatchDiscover) {
    let (set, changes) = watch::channel(addrs.iter().copied().map(Instance::new).collect());
    (set, WatchDiscover(changes))
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: still not so after 3 s");
}

fn stats_of(client: &AsyncClient, addr: SocketAddr) -> InstanceStats {
    client
        .instances()
        .into_iter()
        .find(|stats| stats.instance.addr == addr)
        .expect("the instance is in the set")
}

fn options() -> AsyncClientOptions {
    AsyncClientOptions {
        call_timeout: Some(Duration::from_secs(5)),
        ..AsyncClientOptions::default()
    }
}

fn fleet(balancer: Balancer) -> FleetOptions {
    FleetOptions {
        balancer,
        ..FleetOptions::default()
    }
}

/// Which server answered each call, counted.
async fn tally(client: &AsyncClient, calls: usize) -> HashMap<i32, usize> {
    let mut seen = HashMap::new();
    for _ in 0..calls {
        let id = echo(client, 0).await.expect("the call succeeds");
        *seen.entry(id).or_default() += 1;
    }
    seen
}

// ---------------------------------------------------------------------------
// Balancers.
// ---------------------------------------------------------------------------

#[test]
fn round_robin_takes_each_instance_in_turn_on_both_strategies() {
    run(async {
        let (servers, _) = servers(3);
        let strategies = [
            Strategy::Pooled(PoolOptions::default()),
            Strategy::Multiplexed(MultiplexOptions::default()),
        ];
        for strategy in strategies {
            let options = AsyncClientOptions {
                strategy,
                ..options()
            };
            let client = AsyncClient::discover(
                StaticDiscover::new(addrs(&servers)),
                options,
                fleet(Balancer::RoundRobin),
            );
            // No I/O until the first call.
            assert!(client.instances().is_empty());
            let seen = tally(&client, 300).await;
            assert_eq!(seen.len(), 3, "{seen:?}");
            for count in seen.values() {
                assert_eq!(*count, 100, "{seen:?}");
            }
            let instances = client.instances();
            assert_eq!(instances.len(), 3);
            for stats in &instances {
                assert_eq!(stats.calls, 100, "{stats:?}");
                assert_eq!(stats.failures, 0, "{stats:?}");
                assert_eq!(stats.breaker, BreakerState::Closed);
            }
            // Oneway calls go too.
            client.send_oneway("note", &EchoArgs(1)).await.unwrap();
        }
        stop(servers);
    });
}

#[test]
fn weighted_round_robin_follows_the_weights_smoothly() {
    run(async {
        let (servers, _) = servers(3);
        let weights = [50, 10, 10];
        let instances = addrs(&servers)
            .into_iter()
            .zip(weights)
            .map(|(addr, weight)| Instance::new(addr).with_weight(weight));
        let client = AsyncClient::discover(
            StaticDiscover::instances(instances),
            options(),
            fleet(Balancer::WeightedRoundRobin),
        );
        // Smooth: within any 7 calls, 5, 1 and 1.
        let mut order = Vec::new();
        for _ in 0..7 {
            order.push(echo(&client, 0).await.unwrap());
        }
        assert_eq!(order, [1, 1, 2, 1, 3, 1, 1], "smooth, not bursty");
        let seen = tally(&client, 700).await;
        assert_eq!(seen[&1], 500, "{seen:?}");
        assert_eq!(seen[&2], 100, "{seen:?}");
        assert_eq!(seen[&3], 100, "{seen:?}");
        stop(servers);
    });
}

#[test]
fn consistent_hashing_keeps_keys_on_their_instance() {
    run(async {
        let (servers, _) = servers(3);
        let all = addrs(&servers);
        let (set, discover) = watched(&all);
        let client = AsyncClient::discover(discover, options(), fleet(Balancer::ConsistentHash));
        let mut placed = HashMap::new();
        for key in 0..60 {
            let keyed =
                client.with_call_options(CallOptions::new().hash_key(format!("user-{key}")));
            let first = echo(&keyed, 0).await.unwrap();
            for _ in 0..3 {
                assert_eq!(echo(&keyed, 0).await.unwrap(), first, "key {key}");
            }
            placed.insert(key, first);
        }
        let used: HashSet<_> = placed.values().copied().collect();
        assert_eq!(used.len(), 3, "60 keys over 3 instances: {placed:?}");
        // No key: round robin.
        assert_eq!(tally(&client, 30).await.len(), 3);
        // Instance 3 leaves: the keys of 1 and 2 stay where they were.
        set.send_replace(all[..2].iter().copied().map(Instance::new).collect());
        eventually("the set shrank", || client.instances().len() == 2).await;
        for (key, was) in &placed {
            let keyed =
                client.with_call_options(CallOptions::new().hash_key(format!("user-{key}")));
            let now = echo(&keyed, 0).await.unwrap();
            if *was != 3 {
                assert_eq!(now, *was, "key {key} moved");
            } else {
                assert_ne!(now, 3, "key {key} went to a removed instance");
            }
        }
        stop(servers);
    });
}

#[test]
fn power_of_two_choices_starves_a_slow_instance() {
    run(async {
        let (servers, knobs) = servers(3);
        knobs[2].delay_ms.store(20, Ordering::SeqCst);
        let client = AsyncClient::discover(
            StaticDiscover::new(addrs(&servers)),
            options(),
            fleet(Balancer::PowerOfTwoChoices),
        );
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { tally(&client, 50).await })
            })
            .collect();
        let mut slow = 0;
        let mut total = 0;
        for task in tasks {
            let seen = task.await.unwrap();
            slow += seen.get(&3).copied().unwrap_or(0);
            total += seen.values().sum::<usize>();
        }
        assert_eq!(total, 400);
        assert!(
            slow * 10 <= total,
            "the slow instance took {slow} of {total} calls"
        );
        // Round robin, for contrast, gives it a third.
        let round_robin = AsyncClient::discover(
            StaticDiscover::new(addrs(&servers)),
            options(),
            fleet(Balancer::RoundRobin),
        );
        let seen = tally(&round_robin, 30).await;
        assert_eq!(seen[&3], 10, "{seen:?}");
        stop(servers);
    });
}

// ---------------------------------------------------------------------------
// Instances that refuse connections; retries.
// ---------------------------------------------------------------------------

#[test]
fn a_refused_instance_is_left_out_then_probed_back() {
    run(async {
        let (servers, _) = servers(2);
        let dead = dead_addr();
        let mut all = addrs(&servers);
        all.push(dead);
        let mut options_rr = fleet(Balancer::RoundRobin);
        options_rr.backoff.initial = Duration::from_millis(100);
        options_rr.backoff.max = Duration::from_millis(200);
        let client = AsyncClient::discover(StaticDiscover::new(all), options(), options_rr);
        // Not one call fails: a refused connect is retried elsewhere.
        let seen = tally(&client, 200).await;
        assert_eq!(seen.values().sum::<usize>(), 200);
        let stats = stats_of(&client, dead);
        assert!(stats.backing_off, "{stats:?}");
        assert!(stats.calls >= 1 && stats.calls <= 20, "{stats:?}");
        // It comes back: the next probe after the backoff finds it.
        let knobs = Knobs::new(3);
        let revived = serve_at(&knobs, &dead.to_string());
        for _ in 0..400 {
            if knobs.calls() > 0 && !stats_of(&client, dead).backing_off {
                break;
            }
            echo(&client, 0).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(knobs.calls() > 0, "the revived instance gets calls again");
        assert!(!stats_of(&client, dead).backing_off);
        stop(servers);
        stop(vec![revived]);
    });
}

#[test]
fn connect_failures_are_retried_with_the_default_balancer() {
    run(async {
        let (servers, _) = servers(2);
        let mut all = addrs(&servers);
        all.insert(1, dead_addr());
        let client =
            AsyncClient::discover(StaticDiscover::new(all), options(), FleetOptions::default());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { tally(&client, 50).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().values().sum::<usize>(), 50);
        }
        stop(servers);
    });
}

/// A fleet with no breaker, so that failures stay visible.
fn no_breaker(retry: RetryOptions) -> FleetOptions {
    FleetOptions {
        balancer: Balancer::RoundRobin,
        retry,
        breaker: BreakerOptions {
            enabled: false,
            ..BreakerOptions::default()
        },
        ..FleetOptions::default()
    }
}

#[test]
fn only_idempotent_calls_are_retried_after_they_may_have_run() {
    run(async {
        let (servers, knobs) = servers(2);
        knobs[0].fail.store(true, Ordering::SeqCst);
        let discover = StaticDiscover::new(addrs(&servers));
        let plain = AsyncClient::discover(
            discover.clone(),
            options(),
            no_breaker(RetryOptions::default()),
        );
        // Not idempotent: an application exception is the answer.
        let mut failed = 0;
        for _ in 0..20 {
            match echo(&plain, 0).await {
                Ok(id) => assert_eq!(id, 2),
                Err(CallError::Service(e)) => {
                    assert!(e.to_string().contains("on purpose"), "{e}");
                    failed += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(failed, 10);
        assert_eq!(knobs[0].calls(), 10, "no call ran twice");
        // Idempotent by method name, or per call: retried on the other.
        let by_name = AsyncClient::discover(
            discover.clone(),
            options(),
            no_breaker(RetryOptions {
                idempotent_methods: vec!["echo".to_string()],
                ..RetryOptions::default()
            }),
        );
        let per_call = plain.with_call_options(CallOptions::new().idempotent(true));
        for client in [&by_name, &per_call] {
            for _ in 0..20 {
                assert_eq!(echo(client, 0).await.unwrap(), 2);
            }
        }
        // A method listed idempotent, but this call says no.
        let refused = by_name.with_call_options(CallOptions::new().idempotent(false));
        let mut failed = 0;
        for _ in 0..10 {
            failed += usize::from(echo(&refused, 0).await.is_err());
        }
        assert_eq!(failed, 5);

        // Timeouts of an attempt: retried only when idempotent.
        knobs[0].fail.store(false, Ordering::SeqCst);
        knobs[0].delay_ms.store(500, Ordering::SeqCst);
        let retry = RetryOptions {
            attempt_timeout: Some(Duration::from_millis(50)),
            ..RetryOptions::default()
        };
        let timing_out = AsyncClient::discover(discover.clone(), options(), no_breaker(retry));
        let mut timed_out = 0;
        for _ in 0..4 {
            match echo(&timing_out, 0).await {
                Ok(id) => assert_eq!(id, 2),
                Err(CallError::Client(ClientError::Timeout(_))) => timed_out += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(timed_out, 2);
        let idempotent = timing_out.with_call_options(CallOptions::new().idempotent(true));
        for _ in 0..4 {
            assert_eq!(echo(&idempotent, 0).await.unwrap(), 2);
        }
        stop(servers);
    });
}

#[test]
fn the_retry_budget_caps_the_extra_load() {
    run(async {
        let (servers, knobs) = servers(3);
        for knob in &knobs {
            knob.fail.store(true, Ordering::SeqCst);
        }
        let retry = RetryOptions {
            max_retries: 2,
            idempotent_methods: vec!["echo".to_string()],
            budget: RetryBudgetOptions {
                ttl: Duration::from_secs(10),
                min_per_sec: 1,
                ratio: 0.1,
            },
            ..RetryOptions::default()
        };
        let client = AsyncClient::discover(
            StaticDiscover::new(addrs(&servers)),
            options(),
            no_breaker(retry),
        );
        let calls = 400;
        for _ in 0..calls {
            assert!(matches!(echo(&client, 0).await, Err(CallError::Service(_))));
        }
        let executed: u64 = knobs.iter().map(|knob| knob.calls()).sum();
        // 10 % of the calls, plus the reserve of 1/s over 10 s.
        let extra = executed - calls;
        assert!(
            extra <= calls / 10 + 10 + 1,
            "{extra} retries for {calls} calls"
        );
        assert!(extra >= 10, "the budget allowed some retries: {extra}");
        stop(servers);
    });
}

#[test]
fn backup_requests_answer_for_a_slow_instance() {
    run(async {
        let (servers, knobs) = servers(2);
        knobs[0].delay_ms.store(400, Ordering::SeqCst);
        let retry = RetryOptions {
            backup_delay: Some(Duration::from_millis(20)),
            idempotent_methods: vec!["echo".to_string()],
            ..RetryOptions::default()
        };
        let client = AsyncClient::discover(
            StaticDiscover::new(addrs(&servers)),
            options(),
            no_breaker(retry),
        );
        // Half the first attempts go to the slow one; the backup answers.
        for _ in 0..6 {
            assert_eq!(echo(&client, 0).await.unwrap(), 2);
        }
        assert!(knobs[0].calls() >= 2, "the slow instance was tried");
        // The lost attempts were dropped, not waited for.
        eventually("the abandoned attempts are gone", || {
            client.stats().in_flight == 0
        })
        .await;
        // Not idempotent: no backup, the slow answer is waited for.
        let plain = client.with_call_options(CallOptions::new().idempotent(false));
        let answers: HashSet<_> = [
            echo(&plain, 0).await.unwrap(),
            echo(&plain, 0).await.unwrap(),
        ]
        .into_iter()
        .collect();
        assert!(answers.contains(&1), "{answers:?}");
        stop(servers);
    });
}

// ---------------------------------------------------------------------------
// The circuit breaker.
// ---------------------------------------------------------------------------

#[test]
fn the_breaker_opens_then_half_opens_and_closes() {
    run(async {
        let (servers, knobs) = servers(2);
        knobs[0].fail.store(true, Ordering::SeqCst);
        let failing = servers[0].local_addr();
        let options_cb = FleetOptions {
            balancer: Balancer::RoundRobin,
            retry: RetryOptions {
                max_retries: 0,
                ..RetryOptions::default()
            },
            breaker: BreakerOptions {
                enabled: true,
                error_rate: 0.5,
                min_samples: 10,
                window: Duration::from_secs(10),
                cooling: Duration::from_millis(1000),
                half_open_successes: 2,
            },
            ..FleetOptions::default()
        };
        let client =
            AsyncClient::discover(StaticDiscover::new(addrs(&servers)), options(), options_cb);
        for _ in 0..40 {
            let _ = echo(&client, 0).await;
            if stats_of(&client, failing).breaker == BreakerState::Open {
                break;
            }
        }
        assert_eq!(stats_of(&client, failing).breaker, BreakerState::Open);
        // Open: the failing instance gets (almost) nothing.
        let before = knobs[0].calls();
        let calls = 400;
        let mut failed = 0;
        for _ in 0..calls {
            failed += u64::from(echo(&client, 0).await.is_err());
        }
        let got = knobs[0].calls() - before;
        assert!(got * 100 <= calls, "{got} of {calls} calls");
        assert_eq!(failed, got);
        // Healed and cooled down: half-open, probes close it.
        knobs[0].fail.store(false, Ordering::SeqCst);
        eventually("the breaker half-opens", || {
            stats_of(&client, failing).breaker == BreakerState::HalfOpen
        })
        .await;
        for _ in 0..100 {
            if stats_of(&client, failing).breaker == BreakerState::Closed {
                break;
            }
            echo(&client, 0).await.unwrap();
        }
        assert_eq!(stats_of(&client, failing).breaker, BreakerState::Closed);
        let before = knobs[0].calls();
        tally(&client, 10).await;
        assert_eq!(knobs[0].calls() - before, 5, "taken back fully");
        stop(servers);
    });
}

#[test]
fn an_empty_or_silent_fleet_is_a_clear_error() {
    run(async {
        let empty =
            AsyncClient::discover(StaticDiscover::new([]), options(), FleetOptions::default());
        match echo(&empty, 0).await {
            Err(CallError::Client(ClientError::NoInstance(why))) => {
                assert!(why.contains("no instance"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        // Discovery that never answers: the call waits its timeout.
        struct Silent;
        impl Discover for Silent {
            fn watch(&self) -> InstanceStream {
                Box::pin(Never)
            }
        }
        struct Never;
        impl futures_core::Stream for Never {
            type Item = Result<Vec<Instance>, thriftgen_runtime::discover::DiscoverError>;
            fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                Poll::Pending
            }
        }
        let silent = AsyncClient::discover(Silent, options(), FleetOptions::default())
            .with_call_options(CallOptions::new().timeout(Duration::from_millis(100)));
        match echo(&silent, 0).await {
            Err(CallError::Client(ClientError::NoInstance(why))) => {
                assert!(why.contains("within 100 ms"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    });
}

// ---------------------------------------------------------------------------
// Instances leaving; the drain hint.
// ---------------------------------------------------------------------------

#[test]
fn a_removed_instance_finishes_its_calls_and_gets_no_more() {
    run(async {
        let (servers, knobs) = servers(3);
        let all = addrs(&servers);
        let (set, discover) = watched(&all);
        let client = AsyncClient::discover(discover, options(), fleet(Balancer::RoundRobin));
        tally(&client, 30).await;
        // A slow call on each, then instance 3 leaves.
        let slow: Vec<_> = (0..3)
            .map(|_| tokio::spawn(client.call::<Echo, _>("echo", &EchoArgs(200))))
            .collect();
        eventually("the slow calls run", || knobs[2].calls() == 11).await;
        set.send_replace(all[..2].iter().copied().map(Instance::new).collect());
        eventually("the set shrank", || client.instances().len() == 2).await;
        let ids: HashSet<_> = {
            let mut ids = HashSet::new();
            for call in slow {
                ids.insert(call.await.unwrap().expect("in-flight calls finish"));
            }
            ids
        };
        assert!(ids.contains(&3), "{ids:?}");
        let seen = tally(&client, 30).await;
        assert!(!seen.contains_key(&3), "{seen:?}");
        assert_eq!(knobs[2].calls(), 11);
        // Its connections close.
        let gone = servers[2].handle();
        eventually("the removed instance's connections closed", || {
            gone.stats().connections_open == 0
        })
        .await;
        stop(servers);
    });
}

/// TTHeader (where the drain hint lives), `strategy`, to one address.
fn ttheader(strategy: Strategy) -> AsyncClientOptions {
    AsyncClientOptions {
        dialect: Dialect::TTHeader,
        strategy,
        ..options()
    }
}

#[test]
fn a_pooled_connection_that_got_the_drain_hint_is_not_reused() {
    run(async {
        let knobs = Knobs::new(1);
        let server = serve(&knobs);
        let client = AsyncClient::new(
            server.local_addr(),
            ttheader(Strategy::Pooled(PoolOptions {
                max_connections: 2,
                ..PoolOptions::default()
            })),
        );
        // Before: a connection goes back to the pool.
        echo(&client, 0).await.unwrap();
        assert_eq!(client.stats().idle, 1);
        let long = tokio::spawn(client.call::<Echo, _>("echo", &EchoArgs(400)));
        let short = tokio::spawn(client.call_with_headers::<Echo, _>("echo", &EchoArgs(150)));
        eventually("both calls run", || knobs.calls() == 3).await;
        server.handle().shutdown(Duration::from_secs(2));
        let (id, headers) = short.await.unwrap().unwrap();
        assert_eq!(id, 1);
        assert_eq!(headers.get_str("crrst"), Some("1"));
        // Closed after its call, not pooled.
        assert_eq!(client.stats().idle, 0, "{:?}", client.stats());
        assert_eq!(long.await.unwrap().unwrap(), 1);
        assert_eq!(client.stats().idle, 0, "{:?}", client.stats());
        server.join();
    });
}

#[test]
fn a_multiplexed_connection_that_got_the_drain_hint_takes_no_new_calls() {
    run(async {
        let knobs = Knobs::new(1);
        let server = serve(&knobs);
        let client = AsyncClient::new(
            server.local_addr(),
            ttheader(Strategy::Multiplexed(MultiplexOptions {
                connections: 1,
                ..MultiplexOptions::default()
            })),
        );
        echo(&client, 0).await.unwrap();
        let long = tokio::spawn(client.call::<Echo, _>("echo", &EchoArgs(400)));
        let short = tokio::spawn(client.call_with_headers::<Echo, _>("echo", &EchoArgs(150)));
        eventually("both calls run", || knobs.calls() == 3).await;
        server.handle().shutdown(Duration::from_secs(2));
        let (_, headers) = short.await.unwrap().unwrap();
        assert_eq!(headers.get_str("crrst"), Some("1"));
        // A new call is not queued on the draining connection (where it
        // would never be read): it dials, and the server refuses.
        match echo(&client, 0).await {
            Err(CallError::Client(ClientError::Io(_))) => {}
            other => panic!("expected a refused connect, got {other:?}"),
        }
        assert_eq!(knobs.calls(), 3);
        // The call in flight still gets its answer; then the connection closes.
        assert_eq!(long.await.unwrap().unwrap(), 1);
        eventually("the drained connection closed", || client.stats().open == 0).await;
        server.join();
    });
}

#[test]
fn a_fleet_avoids_a_restarting_instance_and_takes_it_back() {
    for strategy in [
        Strategy::Pooled(PoolOptions::default()),
        Strategy::Multiplexed(MultiplexOptions::default()),
    ] {
        run(async {
            let (mut servers, _) = servers(2);
            let restarting = servers[0].local_addr();
            let mut options_rr = fleet(Balancer::RoundRobin);
            options_rr.drain_probe = Duration::from_millis(50);
            options_rr.backoff.initial = Duration::from_millis(50);
            options_rr.backoff.max = Duration::from_millis(100);
            let client = AsyncClient::discover(
                StaticDiscover::new(addrs(&servers)),
                ttheader(strategy.clone()),
                options_rr,
            );
            tally(&client, 10).await;
            // Calls in flight on both while instance 1 begins to restart.
            let calls: Vec<_> = (0..4)
                .map(|_| tokio::spawn(client.call::<Echo, _>("echo", &EchoArgs(150))))
                .collect();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let old = servers.remove(0);
            old.handle().shutdown(Duration::from_secs(2));
            for call in calls {
                call.await.unwrap().expect("calls in flight are answered");
            }
            assert!(stats_of(&client, restarting).draining);
            // While it restarts: every call succeeds, on the other.
            let seen = tally(&client, 100).await;
            assert_eq!(seen.get(&2), Some(&100), "{seen:?}");
            // Back on the same address: taken back.
            tokio::task::spawn_blocking(move || old.join())
                .await
                .unwrap();
            let knobs = Knobs::new(3);
            let new = serve_at(&knobs, &restarting.to_string());
            for _ in 0..400 {
                if knobs.calls() > 0 && !stats_of(&client, restarting).draining {
                    break;
                }
                echo(&client, 0).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert!(knobs.calls() > 0, "{:?}", strategy);
            assert!(!stats_of(&client, restarting).draining);
            let seen = tally(&client, 20).await;
            assert!(seen.get(&3).is_some_and(|&n| n >= 5), "{seen:?}");
            servers.push(new);
            stop(servers);
        });
    }
}
