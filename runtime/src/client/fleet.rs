//! A fleet: the [`AsyncClient`](super::AsyncClient) of
//! [`AsyncClient::discover`](super::AsyncClient::discover), over the
//! instances a [`Discover`] finds.
//!
//! Each instance ([`Member`]) has its own [`Endpoint`] (pool or multiplexed
//! connections), a circuit breaker, a connect backoff, a drain mark and a
//! load estimate. The set is published as an immutable snapshot that
//! calls read; a task spawned on first use watches the discovery stream and
//! replaces the snapshot on each change. A call picks an instance with the
//! [`Balancer`], and retries or hedges per [`RetryOptions`].

use super::asynchronous::{AsyncClientOptions, AsyncClientStats, Request};
use super::balance::BalanceState;
use super::breaker::{Admission, Breaker, BreakerState, Ticket};
use super::endpoint::{Endpoint, Phase};
use super::ClientError;
use crate::discover::{Discover, DiscoverError, Instance};
use crate::service::Reply;
use crate::transport::Headers;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch, Semaphore};
use tower::retry::budget::{Budget, TpsBudget};

/// How a fleet picks the instance for a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Balancer {
    /// Each instance in turn.
    RoundRobin,
    /// Each instance in proportion to its [`Instance::weight`], spread
    /// evenly (nginx's smooth weighted round robin: weights 5, 1, 1 give
    /// `a a b a c a a`, not `a a a a a b c`).
    WeightedRoundRobin,
    /// By the call's [`CallOptions::hash_key`](super::CallOptions::hash_key)
    /// on a ring of [`FleetOptions::virtual_nodes`] points per instance
    /// (more for heavier ones), so equal keys go to the same instance and a
    /// change of the set moves only the keys of the instances that came or
    /// went. A call without a key goes round robin; an instance that takes
    /// no calls (breaker open, backing off, draining) passes its keys to
    /// the next on the ring.
    ConsistentHash,
    /// Two instances at random, the less loaded of them: load is the
    /// instance's calls in flight (plus one) times a peak-sensitive moving
    /// average of its latency (Finagle's and tower's peak EWMA), so a slow
    /// or overloaded instance gets few calls. Ignores weights. The default.
    #[default]
    PowerOfTwoChoices,
}

/// How a fleet spreads, retries and guards its calls.
///
/// Defaults, beside Kitex's (whose instance breaker and retries are off
/// until configured):
///
/// | setting | here | Kitex |
/// | --- | --- | --- |
/// | balancer | power of two choices, peak-EWMA latency × calls in flight | weighted random |
/// | retries | 2, only when the call never reached a server, or for idempotent methods | failure retry: max 2 retries |
/// | retry budget | 10 % of calls (+10/s reserve) over 10 s | retries stop at a 10 % error rate ("retry circuit break") |
/// | backup requests | off (`backup_delay`), idempotent calls only | backup request: off |
/// | breaker | error rate 0.5, 200 samples, 10 s window, 5 s cooling, 3 probes | ErrRate 0.5, MinSample 200, 10 s window |
/// | connect backoff | 100 ms doubling to 10 s, ±20 % jitter | instance removed by its breaker |
#[derive(Clone, Debug)]
pub struct FleetOptions {
    /// How an instance is picked (default [`Balancer::PowerOfTwoChoices`]).
    pub balancer: Balancer,
    /// [`Balancer::ConsistentHash`]: ring points per instance of the
    /// default weight (default 100).
    pub virtual_nodes: usize,
    /// [`Balancer::PowerOfTwoChoices`]: how fast the latency average
    /// forgets (default 10 s, Finagle's and linkerd's): a slow answer
    /// counts fully at once, then fades over this period.
    pub load_decay: Duration,
    /// [`Balancer::PowerOfTwoChoices`]: the latency assumed of an instance
    /// before its first answer (default 1 ms).
    pub default_rtt: Duration,
    /// Retries and backup requests.
    pub retry: RetryOptions,
    /// The per-instance circuit breaker.
    pub breaker: BreakerOptions,
    /// How long an instance that refused (or timed out) a connection is
    /// left out.
    pub backoff: BackoffOptions,
    /// How often an instance that sent the drain hint (it is restarting)
    /// gets one probe call while other instances take the calls (default
    /// 1 s); an answer on a fresh connection takes it back.
    pub drain_probe: Duration,
}

impl Default for FleetOptions {
    fn default() -> FleetOptions {
        FleetOptions {
            balancer: Balancer::default(),
            virtual_nodes: 100,
            load_decay: Duration::from_secs(10),
            default_rtt: Duration::from_millis(1),
            retry: RetryOptions::default(),
            breaker: BreakerOptions::default(),
            backoff: BackoffOptions::default(),
            drain_probe: Duration::from_secs(1),
        }
    }
}

/// When a fleet sends a call again, always to another instance when there
/// is one.
///
/// A call that never reached a server whole (the connect was refused or
/// timed out, no connection came free, the write failed) is retried,
/// whatever the method. One that may have run (a timeout, the connection
/// lost with the call in flight, an [`ApplicationException`](crate::ApplicationException))
/// is retried only when the method is idempotent: listed in
/// [`idempotent_methods`](RetryOptions::idempotent_methods), marked so by
/// [`CallOptions::idempotent`](super::CallOptions::idempotent), or by the
/// generated code. A declared exception is the method's result: never
/// retried, and not a failure. Those retries, and backup requests, draw
/// on a budget that caps them to a share of the calls.
#[derive(Clone, Debug)]
pub struct RetryOptions {
    /// Extra attempts per call, backup requests included (default 2;
    /// 0: none at all).
    pub max_retries: usize,
    /// Methods (as named in the IDL, without a service prefix) that may
    /// run twice.
    pub idempotent_methods: Vec<String>,
    /// The longest one attempt may take before it counts as timed out and
    /// the call is retried (idempotent calls) or fails (default `None`:
    /// only the call's timeout, which bounds all attempts together).
    pub attempt_timeout: Option<Duration>,
    /// Idempotent calls: when the first attempt has not answered after
    /// this long, a backup request goes to another instance; the first
    /// answer wins and the other attempt is dropped (default `None`: no
    /// backup requests).
    pub backup_delay: Option<Duration>,
    /// The cap on retries of calls that may have run, and backup requests.
    pub budget: RetryBudgetOptions,
}

impl Default for RetryOptions {
    fn default() -> RetryOptions {
        RetryOptions {
            max_retries: 2,
            idempotent_methods: Vec::new(),
            attempt_timeout: None,
            backup_delay: None,
            budget: RetryBudgetOptions::default(),
        }
    }
}

/// The retry budget (tower's `TpsBudget`, after Finagle's): every call
/// deposits, every retry of a call that may have run (and every backup
/// request) withdraws; without funds the call is not retried. Retries of
/// calls that never reached a server do not draw on it (they load no
/// server).
#[derive(Clone, Debug)]
pub struct RetryBudgetOptions {
    /// How long a deposit counts (default 10 s; 1 s to 60 s).
    pub ttl: Duration,
    /// Retries allowed per second whatever the traffic (default 10).
    pub min_per_sec: u32,
    /// Retries allowed per call, on top (default 0.1: extra load of at most
    /// 10 % beyond the reserve).
    pub ratio: f32,
}

impl Default for RetryBudgetOptions {
    fn default() -> RetryBudgetOptions {
        RetryBudgetOptions {
            ttl: Duration::from_secs(10),
            min_per_sec: 10,
            ratio: 0.1,
        }
    }
}

/// The per-instance circuit breaker: failures are answers with an
/// application exception and calls with no valid answer (not declared
/// exceptions, and not a wait for a free connection of this client's).
#[derive(Clone, Debug)]
pub struct BreakerOptions {
    /// Whether instances have breakers (default true).
    pub enabled: bool,
    /// The share of failed calls in the window that opens the breaker
    /// (default 0.5).
    pub error_rate: f64,
    /// Calls the window must hold before it can open (default 200).
    pub min_samples: u64,
    /// The sliding window (default 10 s, in 10 buckets).
    pub window: Duration,
    /// How long it stays open before probes (default 5 s).
    pub cooling: Duration,
    /// Probes in a row that must succeed to close it (default 3); a failed
    /// probe opens it again.
    pub half_open_successes: u32,
}

impl Default for BreakerOptions {
    fn default() -> BreakerOptions {
        BreakerOptions {
            enabled: true,
            error_rate: 0.5,
            min_samples: 200,
            window: Duration::from_secs(10),
            cooling: Duration::from_secs(5),
            half_open_successes: 3,
        }
    }
}

/// How long an instance whose connect failed is left out: `initial`,
/// doubling with each failure in a row up to `max`, with ±20 % jitter.
/// When it passes, the next call probes the instance; an answer ends the
/// backoff. An instance backing off still gets calls when no other can
/// take them.
#[derive(Clone, Debug)]
pub struct BackoffOptions {
    /// After the first failure (default 100 ms).
    pub initial: Duration,
    /// The longest (default 10 s).
    pub max: Duration,
}

impl Default for BackoffOptions {
    fn default() -> BackoffOptions {
        BackoffOptions {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

/// The counters of one instance ([`AsyncClient::instances`](super::AsyncClient::instances)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InstanceStats {
    /// The instance.
    pub instance: Instance,
    /// Calls sent to it (each attempt counts), answered or not.
    pub calls: u64,
    /// Of those, the ones that got no valid answer or an application
    /// exception.
    pub failures: u64,
    /// Calls in flight on it now.
    pub in_flight: usize,
    /// Its circuit breaker.
    pub breaker: BreakerState,
    /// It sent the drain hint (it is restarting) and has not answered on a
    /// fresh connection since.
    pub draining: bool,
    /// Its last connect failed and it is left out for a while.
    pub backing_off: bool,
    /// Its connections.
    pub connections: AsyncClientStats,
}

impl InstanceStats {
    /// The one instance of a client of one address.
    pub(super) fn single(endpoint: &Endpoint) -> InstanceStats {
        let (calls, failures) = endpoint.counts();
        let connections = endpoint.stats();
        InstanceStats {
            instance: Instance::new(endpoint.connector.addr),
            calls,
            failures,
            in_flight: connections.in_flight,
            breaker: BreakerState::Closed,
            draining: false,
            backing_off: false,
            connections,
        }
    }
}

/// What a fleet needs to know of one call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub(super) timeout: Option<Duration>,
    pub(super) idempotent: Option<bool>,
    pub(super) marked_idempotent: bool,
    pub(super) hash_key: Option<u64>,
}

/// Where a member stands for the balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tier {
    /// Takes calls.
    Healthy,
    /// Takes calls when no healthy instance can (draining, backing off).
    Fallback,
    /// Takes none (breaker open, weight 0, removed).
    Out,
}

/// One instance of the current set.
pub(super) struct Member {
    id: u64,
    pub(super) addr: SocketAddr,
    endpoint: Endpoint,
    in_flight: AtomicUsize,
    rtt: Mutex<Rtt>,
    decay_ns: f64,
    breaker: Breaker,
    backoff: Mutex<Backoff>,
    backoff_options: BackoffOptions,
    /// Set while backing off (read without the lock).
    backing_off: AtomicBool,
    /// 0, or (draining) the index of the first dial after the drain hint:
    /// an answer on that connection or a later one ends the drain.
    drain: AtomicU64,
    /// While draining: when (nanoseconds from `epoch`) the next probe may go.
    drain_probe_at: AtomicU64,
    drain_probe: Duration,
    epoch: Instant,
    removed: AtomicBool,
}

/// Why a picked member did not take the call.
enum Refusal {
    /// Its breaker refused (the probe was taken meanwhile).
    Breaker,
    /// It is draining and its probe was taken.
    Draining,
}

struct Rtt {
    estimate_ns: f64,
    at: Instant,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

impl Member {
    fn new(
        id: u64,
        addr: SocketAddr,
        client: &AsyncClientOptions,
        options: &FleetOptions,
    ) -> Member {
        Member {
            id,
            addr,
            endpoint: Endpoint::new(addr, client),
            in_flight: AtomicUsize::new(0),
            rtt: Mutex::new(Rtt {
                estimate_ns: (options.default_rtt.as_nanos() as f64).max(1.0),
                at: Instant::now(),
            }),
            decay_ns: (options.load_decay.as_nanos() as f64).max(1.0),
            breaker: Breaker::new(options.breaker.clone()),
            backoff: Mutex::new(Backoff::default()),
            backoff_options: options.backoff.clone(),
            backing_off: AtomicBool::new(false),
            drain: AtomicU64::new(0),
            drain_probe_at: AtomicU64::new(0),
            drain_probe: options.drain_probe,
            epoch: Instant::now(),
            removed: AtomicBool::new(false),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    /// Whether a draining member's probe is due.
    fn drain_probe_due(&self, now: Instant) -> bool {
        self.nanos(now) >= self.drain_probe_at.load(Ordering::Acquire)
    }

    /// Takes the right to one call, picked in `tier`.
    fn claim(&self, tier: Tier, now: Instant) -> Result<Ticket, Refusal> {
        if tier == Tier::Healthy && self.drain.load(Ordering::Acquire) != 0 {
            let due = self.drain_probe_at.load(Ordering::Acquire);
            let next = self.nanos(now + self.drain_probe);
            if self.nanos(now) < due
                || self
                    .drain_probe_at
                    .compare_exchange(due, next, Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
            {
                return Err(Refusal::Draining);
            }
        }
        self.breaker.admit(now).ok_or(Refusal::Breaker)
    }

    fn rtt(&self) -> MutexGuard<'_, Rtt> {
        self.rtt.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn backoff(&self) -> MutexGuard<'_, Backoff> {
        self.backoff.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The load: the latency estimate (decayed to now) times the calls in
    /// flight plus one.
    pub(super) fn cost(&self, now: Instant) -> f64 {
        let pending = self.in_flight.load(Ordering::Relaxed) as f64;
        let estimate = {
            let rtt = self.rtt();
            let elapsed = now.saturating_duration_since(rtt.at).as_nanos() as f64;
            rtt.estimate_ns * (-elapsed / self.decay_ns).exp()
        };
        estimate * (pending + 1.0)
    }

    /// Folds one observed latency into the peak EWMA.
    fn observe(&self, took: Duration, now: Instant) {
        let took = took.as_nanos() as f64;
        let mut rtt = self.rtt();
        if took > rtt.estimate_ns {
            rtt.estimate_ns = took;
        } else {
            let elapsed = now.saturating_duration_since(rtt.at).as_nanos() as f64;
            let decay = (-elapsed / self.decay_ns).exp();
            rtt.estimate_ns = rtt.estimate_ns * decay + took * (1.0 - decay);
        }
        rtt.at = now;
    }

    fn backing_off_at(&self, now: Instant) -> bool {
        self.backing_off.load(Ordering::Acquire) && self.backoff().until.is_some_and(|t| t > now)
    }

    fn tier(&self, weight: u32, now: Instant) -> Tier {
        if weight == 0 || self.removed.load(Ordering::Acquire) {
            return Tier::Out;
        }
        let admission = self.breaker.peek(now);
        if admission == Admission::No {
            return Tier::Out;
        }
        if self.backing_off_at(now) {
            return Tier::Fallback;
        }
        if self.drain.load(Ordering::Acquire) != 0 && !self.drain_probe_due(now) {
            return Tier::Fallback;
        }
        Tier::Healthy
    }

    /// A connect failed: leave the instance out for a while.
    fn connect_failed(&self, now: Instant) {
        let mut backoff = self.backoff();
        backoff.failures = backoff.failures.saturating_add(1);
        let options = &self.backoff_options;
        let doubling = 2u32.saturating_pow(backoff.failures.saturating_sub(1).min(20));
        let delay = options.initial.saturating_mul(doubling).min(options.max);
        let delay = delay.mul_f64(0.8 + 0.4 * fastrand::f64());
        backoff.until = Some(now + delay);
        self.backing_off.store(true, Ordering::Release);
    }

    /// The instance answered on connection number `connection`.
    fn answered(&self, drain: bool, connection: u64) {
        if self.backing_off.load(Ordering::Acquire) {
            *self.backoff() = Backoff::default();
            self.backing_off.store(false, Ordering::Release);
        }
        if drain {
            let fresh = self.endpoint.connector.connects.load(Ordering::Relaxed) + 1;
            if self.drain.fetch_max(fresh, Ordering::AcqRel) == 0 {
                let next = self.nanos(Instant::now() + self.drain_probe);
                self.drain_probe_at.store(next, Ordering::Release);
            }
        } else {
            let mark = self.drain.load(Ordering::Acquire);
            if mark != 0 && connection >= mark {
                let _ = self
                    .drain
                    .compare_exchange(mark, 0, Ordering::AcqRel, Ordering::Relaxed);
            }
        }
    }

    fn stats(&self, instance: &Instance, now: Instant) -> InstanceStats {
        let (calls, failures) = self.endpoint.counts();
        InstanceStats {
            instance: instance.clone(),
            calls,
            failures,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            breaker: self.breaker.state(now),
            draining: self.drain.load(Ordering::Acquire) != 0,
            backing_off: self.backing_off_at(now),
            connections: self.endpoint.stats(),
        }
    }
}

/// One instance set, as calls see it.
struct Snapshot {
    /// A set arrived (or discovery ended without one).
    discovered: bool,
    members: Vec<Arc<Member>>,
    instances: Vec<Instance>,
    weights: Vec<u32>,
    balance: BalanceState,
}

impl Snapshot {
    fn empty(balancer: Balancer) -> Snapshot {
        Snapshot {
            discovered: false,
            members: Vec::new(),
            instances: Vec::new(),
            weights: Vec::new(),
            balance: BalanceState::new(balancer, &[], &[], 1),
        }
    }
}

/// The fleet of one client (shared by its clones).
pub(super) struct Fleet {
    options: FleetOptions,
    client: AsyncClientOptions,
    idempotent: HashSet<String>,
    /// Taken by the first call, which starts the watcher.
    discover: Mutex<Option<Box<dyn Discover>>>,
    /// The watcher was started (read without the lock on every call).
    started: AtomicBool,
    /// The watcher ends when this is dropped (with the fleet).
    _stop: oneshot::Sender<()>,
    stopped: Mutex<Option<oneshot::Receiver<()>>>,
    state: watch::Sender<Arc<Snapshot>>,
    last_error: Mutex<Option<String>>,
    budget: TpsBudget,
    next_id: AtomicU64,
    /// The tower service's room: `per_instance` per instance.
    slots: Arc<Semaphore>,
    per_instance: usize,
    capacity: AtomicUsize,
}

/// What one attempt came to.
enum Outcome<R: Reply> {
    Answer {
        result: Result<R::Ok, R::Err>,
        exception: bool,
        headers: Headers,
    },
    Failed {
        error: ClientError,
        sent: bool,
    },
}

type Attempt<R> = Pin<Box<dyn Future<Output = Outcome<R>> + Send>>;

/// What a fleet's call comes to: the service's answer and the reply
/// headers, or no answer.
type Answered<R> = Result<(Result<<R as Reply>::Ok, <R as Reply>::Err>, Headers), ClientError>;

/// A member's call in flight: counts it, and settles its breaker ticket.
struct InFlight<'a> {
    member: &'a Member,
    ticket: Option<Ticket>,
}

impl<'a> InFlight<'a> {
    fn new(member: &'a Member, ticket: Ticket) -> InFlight<'a> {
        member.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            member,
            ticket: Some(ticket),
        }
    }

    fn record(&mut self, ok: bool, now: Instant) {
        if let Some(ticket) = self.ticket.take() {
            self.member.breaker.record(ticket, ok, now);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.member.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Some(ticket) = self.ticket.take() {
            self.member.breaker.release(ticket);
        }
    }
}

/// One attempt of a call on `member`.
async fn attempt<R>(
    member: Arc<Member>,
    ticket: Ticket,
    request: Request,
    limit: Option<Duration>,
) -> Outcome<R>
where
    R: Reply,
{
    let mut guard = InFlight::new(&member, ticket);
    let started = Instant::now();
    let mut phase = Phase::Waiting;
    let call = member.endpoint.call::<R>(&request, &mut phase);
    let result = match limit {
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => {
                member.endpoint.count_failure();
                Err(ClientError::Timeout(limit))
            }
        },
        None => call.await,
    };
    let now = Instant::now();
    match result {
        Ok(answer) => {
            member.observe(now - started, now);
            member.answered(answer.drain, answer.connection);
            guard.record(!answer.exception, now);
            Outcome::Answer {
                result: answer.result,
                exception: answer.exception,
                headers: answer.headers,
            }
        }
        Err(error) => {
            if phase == Phase::Connecting {
                member.connect_failed(now);
            }
            if matches!(error, ClientError::NoConnection(_)) {
                // This client's own congestion, not the instance's fault.
                drop(guard);
            } else {
                member.observe(now - started, now);
                guard.record(false, now);
            }
            Outcome::Failed {
                error,
                sent: phase == Phase::Sent,
            }
        }
    }
}

impl Fleet {
    pub(super) fn new(
        discover: Box<dyn Discover>,
        client: AsyncClientOptions,
        options: FleetOptions,
        slots: Arc<Semaphore>,
    ) -> Arc<Fleet> {
        let budget = &options.retry.budget;
        let budget = TpsBudget::new(
            budget
                .ttl
                .clamp(Duration::from_secs(1), Duration::from_secs(60)),
            budget.min_per_sec.min(i32::MAX as u32 - 1),
            if budget.ratio.is_finite() {
                budget.ratio.clamp(0.0, 1000.0)
            } else {
                0.0
            },
        );
        let (stop, stopped) = oneshot::channel();
        let (state, _) = watch::channel(Arc::new(Snapshot::empty(options.balancer)));
        let per_instance = slots.available_permits();
        Arc::new(Fleet {
            idempotent: options.retry.idempotent_methods.iter().cloned().collect(),
            options,
            client,
            discover: Mutex::new(Some(discover)),
            started: AtomicBool::new(false),
            _stop: stop,
            stopped: Mutex::new(Some(stopped)),
            state,
            last_error: Mutex::new(None),
            budget,
            next_id: AtomicU64::new(1),
            slots,
            per_instance,
            capacity: AtomicUsize::new(per_instance),
        })
    }

    /// Starts watching discovery, once, on the current tokio runtime.
    pub(super) fn start(self: &Arc<Self>) {
        if self.started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(discover) = lock(&self.discover).take() else {
            return;
        };
        self.started.store(true, Ordering::Release);
        let stopped = lock(&self.stopped).take();
        let fleet = Arc::downgrade(self);
        runtime.spawn(watch_instances(fleet, discover, stopped));
    }

    fn current(&self) -> Arc<Snapshot> {
        self.state.borrow().clone()
    }

    /// The snapshot to call in: waits for the first set until `deadline`.
    async fn snapshot(
        self: &Arc<Self>,
        timeout: Option<Duration>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Arc<Snapshot>, ClientError> {
        self.start();
        let current = self.current();
        let snapshot = if current.discovered {
            current
        } else {
            let mut changes = self.state.subscribe();
            let wait = async {
                let found = changes.wait_for(|snapshot| snapshot.discovered).await;
                found.map(|snapshot| snapshot.clone()).ok()
            };
            let found = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, wait).await.ok().flatten(),
                None => wait.await,
            };
            match found {
                Some(snapshot) => snapshot,
                None => {
                    let waited = timeout.map_or(0, |t| t.as_millis());
                    let why = match lock(&self.last_error).clone() {
                        Some(e) => format!(
                            "no instance set discovered within {waited} ms (discovery: {e})"
                        ),
                        None => format!("no instance set discovered within {waited} ms"),
                    };
                    return Err(ClientError::NoInstance(why));
                }
            }
        };
        if snapshot.members.is_empty() {
            return Err(ClientError::NoInstance(
                "discovery found no instance".to_string(),
            ));
        }
        Ok(snapshot)
    }

    /// A member to call (and its breaker ticket): healthy ones first, then
    /// fallbacks; untried ones first unless `fresh_only`.
    fn choose(
        &self,
        snapshot: &Snapshot,
        key: Option<u64>,
        tried: &[u64],
        fresh_only: bool,
    ) -> Option<(Arc<Member>, Ticket)> {
        let now = Instant::now();
        let members = &snapshot.members;
        let mut tiers: Vec<Tier> = members
            .iter()
            .zip(&snapshot.weights)
            .map(|(member, &weight)| member.tier(weight, now))
            .collect();
        let rounds: &[bool] = if fresh_only { &[false] } else { &[false, true] };
        for &allow_tried in rounds {
            for tier in [Tier::Healthy, Tier::Fallback] {
                // A breaker that refuses its probe (taken meanwhile) leaves
                // the round; bounded by the members.
                for _ in 0..=members.len() {
                    let picked =
                        snapshot
                            .balance
                            .pick(members, &snapshot.weights, key, now, |index| {
                                tiers[index] == tier
                                    && (allow_tried || !tried.contains(&members[index].id))
                            });
                    let Some(index) = picked else {
                        break;
                    };
                    match members[index].claim(tier, now) {
                        Ok(ticket) => return Some((members[index].clone(), ticket)),
                        Err(Refusal::Breaker) => tiers[index] = Tier::Out,
                        Err(Refusal::Draining) => tiers[index] = Tier::Fallback,
                    }
                }
            }
        }
        None
    }

    /// Starts an attempt on a member chosen in the latest snapshot.
    fn launch<R>(
        &self,
        request: &Request,
        key: Option<u64>,
        tried: &mut Vec<u64>,
        fresh_only: bool,
    ) -> Option<Attempt<R>>
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
    {
        let snapshot = self.current();
        let (member, ticket) = self.choose(&snapshot, key, tried, fresh_only)?;
        tried.push(member.id);
        let limit = self.options.retry.attempt_timeout;
        Some(Box::pin(attempt::<R>(
            member,
            ticket,
            request.clone(),
            limit,
        )))
    }

    /// Whether an instance can take a call at all, to say why not.
    fn none_available(&self) -> ClientError {
        ClientError::NoInstance(
            "every instance's circuit breaker is open (or its weight is 0)".to_string(),
        )
    }

    /// Calls `request` in the fleet, retrying and hedging as configured,
    /// within the call's timeout.
    pub(super) async fn call<R>(self: &Arc<Self>, request: Request, plan: Plan) -> Answered<R>
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
    {
        let deadline = plan.timeout.map(|t| tokio::time::Instant::now() + t);
        let snapshot = self.snapshot(plan.timeout, deadline).await?;
        drop(snapshot);
        let idempotent = plan
            .idempotent
            .unwrap_or_else(|| plan.marked_idempotent || self.idempotent.contains(request.method));
        let run = self.run::<R>(request, idempotent, plan.hash_key);
        match (deadline, plan.timeout) {
            (Some(deadline), Some(limit)) => tokio::time::timeout_at(deadline, run)
                .await
                .map_err(|_| ClientError::Timeout(limit))?,
            _ => run.await,
        }
    }

    async fn run<R>(&self, request: Request, idempotent: bool, key: Option<u64>) -> Answered<R>
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
    {
        let retry = &self.options.retry;
        self.budget.deposit();
        let mut tried = Vec::new();
        let mut extra = 0;
        let Some(first) = self.launch::<R>(&request, key, &mut tried, false) else {
            return Err(self.none_available());
        };
        let mut attempts = vec![first];
        let mut backup = match (idempotent, retry.backup_delay) {
            (true, Some(delay)) if retry.max_retries > 0 => {
                Some(Box::pin(tokio::time::sleep(delay)))
            }
            _ => None,
        };
        // What to answer if every attempt fails.
        let mut last: Option<Answered<R>>;
        loop {
            let event = poll_fn(|cx| {
                for index in 0..attempts.len() {
                    if let Poll::Ready(outcome) = attempts[index].as_mut().poll(cx) {
                        drop(attempts.swap_remove(index));
                        return Poll::Ready(Some(outcome));
                    }
                }
                if let Some(timer) = &mut backup {
                    if timer.as_mut().poll(cx).is_ready() {
                        backup = None;
                        return Poll::Ready(None);
                    }
                }
                Poll::Pending
            })
            .await;
            let (retryable, sent) = match event {
                // The backup request's time: another instance, if the
                // budget allows.
                None => {
                    if extra < retry.max_retries && self.budget.withdraw() {
                        if let Some(backup) = self.launch::<R>(&request, key, &mut tried, true) {
                            extra += 1;
                            attempts.push(backup);
                        }
                    }
                    continue;
                }
                Some(Outcome::Answer {
                    result,
                    exception: false,
                    headers,
                }) => return Ok((result, headers)),
                Some(Outcome::Answer {
                    result,
                    exception: true,
                    headers,
                }) => {
                    last = Some(Ok((result, headers)));
                    (idempotent, true)
                }
                Some(Outcome::Failed { error, sent }) => {
                    last = Some(Err(error));
                    (idempotent || !sent, sent)
                }
            };
            if retryable && extra < retry.max_retries && (!sent || self.budget.withdraw()) {
                if let Some(again) = self.launch::<R>(&request, key, &mut tried, false) {
                    extra += 1;
                    attempts.push(again);
                }
            }
            if attempts.is_empty() {
                return last.unwrap_or_else(|| Err(self.none_available()));
            }
        }
    }

    /// Sends a oneway call, retrying only when it was not sent.
    pub(super) async fn send_oneway(
        self: &Arc<Self>,
        request: Request,
        plan: Plan,
    ) -> Result<(), ClientError> {
        let deadline = plan.timeout.map(|t| tokio::time::Instant::now() + t);
        drop(self.snapshot(plan.timeout, deadline).await?);
        let send = async {
            let mut tried = Vec::new();
            let mut last = None;
            for _ in 0..=self.options.retry.max_retries {
                let snapshot = self.current();
                let Some((member, ticket)) = self.choose(&snapshot, plan.hash_key, &tried, false)
                else {
                    break;
                };
                tried.push(member.id);
                let mut guard = InFlight::new(&member, ticket);
                let mut phase = Phase::Waiting;
                let result = member.endpoint.send_oneway(&request, &mut phase).await;
                let now = Instant::now();
                match result {
                    Ok(()) => {
                        guard.record(true, now);
                        return Ok(());
                    }
                    Err(error) => {
                        if phase == Phase::Connecting {
                            member.connect_failed(now);
                        }
                        guard.record(false, now);
                        if phase == Phase::Sent {
                            return Err(error);
                        }
                        last = Some(error);
                    }
                }
            }
            Err(last.unwrap_or_else(|| self.none_available()))
        };
        match (deadline, plan.timeout) {
            (Some(deadline), Some(limit)) => tokio::time::timeout_at(deadline, send)
                .await
                .map_err(|_| ClientError::Timeout(limit))?,
            _ => send.await,
        }
    }

    /// Replaces the instance set.
    fn update(&self, set: Vec<Instance>) {
        let old = self.current();
        let mut known: HashMap<SocketAddr, &Arc<Member>> = old
            .members
            .iter()
            .map(|member| (member.addr, member))
            .collect();
        let mut seen = HashSet::new();
        let mut members = Vec::with_capacity(set.len());
        let mut instances = Vec::with_capacity(set.len());
        for instance in set {
            if !seen.insert(instance.addr) {
                continue;
            }
            let member = match known.remove(&instance.addr) {
                Some(member) => member.clone(),
                None => Arc::new(Member::new(
                    self.next_id.fetch_add(1, Ordering::Relaxed),
                    instance.addr,
                    &self.client,
                    &self.options,
                )),
            };
            members.push(member);
            instances.push(instance);
        }
        // The ones that left: no new calls; idle connections close now.
        for gone in known.into_values() {
            gone.removed.store(true, Ordering::Release);
            gone.endpoint.retire();
        }
        let weights: Vec<u32> = instances.iter().map(|instance| instance.weight).collect();
        let balance = BalanceState::new(
            self.options.balancer,
            &members,
            &weights,
            self.options.virtual_nodes,
        );
        self.resize(members.len());
        *lock(&self.last_error) = None;
        self.state.send_replace(Arc::new(Snapshot {
            discovered: true,
            members,
            instances,
            weights,
            balance,
        }));
    }

    /// Room for the tower service: `per_instance` per instance.
    fn resize(&self, instances: usize) {
        let target = self
            .per_instance
            .saturating_mul(instances.max(1))
            .min(Semaphore::MAX_PERMITS);
        let before = self.capacity.swap(target, Ordering::AcqRel);
        if target > before {
            self.slots.add_permits(target - before);
        } else if before > target {
            // Best effort: permits in use now are not taken back.
            self.slots.forget_permits(before - target);
        }
    }

    fn report(&self, error: DiscoverError) {
        tracing::warn!("discovery failed (keeping the last instance set): {error}");
        *lock(&self.last_error) = Some(error.to_string());
    }

    /// Discovery ended: the set will not change again.
    fn finish(&self) {
        if !self.current().discovered {
            self.state.send_replace(Arc::new(Snapshot {
                discovered: true,
                ..Snapshot::empty(self.options.balancer)
            }));
        }
    }

    pub(super) fn stats(&self) -> AsyncClientStats {
        let mut total = AsyncClientStats::default();
        for member in &self.current().members {
            let stats = member.endpoint.stats();
            total.connects += stats.connects;
            total.open += stats.open;
            total.idle += stats.idle;
            total.in_flight += stats.in_flight;
            total.abandoned += stats.abandoned;
        }
        total
    }

    pub(super) fn instances(&self) -> Vec<InstanceStats> {
        let now = Instant::now();
        let snapshot = self.current();
        snapshot
            .members
            .iter()
            .zip(&snapshot.instances)
            .map(|(member, instance)| member.stats(instance, now))
            .collect()
    }
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("options", &self.options)
            .field("instances", &self.current().instances)
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The watcher: applies each instance set until the stream ends or the
/// fleet is dropped.
async fn watch_instances(
    fleet: Weak<Fleet>,
    discover: Box<dyn Discover>,
    stopped: Option<oneshot::Receiver<()>>,
) {
    let mut stream = discover.watch();
    let mut stopped = stopped;
    loop {
        let next = poll_fn(|cx| {
            if let Some(stopped) = &mut stopped {
                if Pin::new(stopped).poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
            }
            stream.as_mut().poll_next(cx).map(Some)
        })
        .await;
        let Some(item) = next else {
            return;
        };
        let Some(fleet) = fleet.upgrade() else {
            return;
        };
        match item {
            Some(Ok(set)) => fleet.update(set),
            Some(Err(e)) => fleet.report(e),
            None => {
                fleet.finish();
                return;
            }
        }
    }
}
