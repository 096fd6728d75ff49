//! [`AsyncClient`]: one client shared by many tokio tasks.
//!
//! Its sockets are tokio `TcpStream`s registered with the reactor of the
//! user's runtime, not the server's mio pollers: a call is then an
//! executor-native future that the task awaiting it drives itself (a reply
//! wakes that task directly), with no hop to a thread of our own and back
//! through a channel. The server keeps mio, where it owns its threads and
//! loops and has no caller to wake.
//!
//! Calls are encoded synchronously when they are made, by the same sans-IO
//! transports and protocols the blocking [`Client`](super::Client) uses, so
//! the future holds bytes, not borrows. Sequence ids come from one
//! client-wide atomic counter.

use super::endpoint::{Endpoint, Phase};
use super::fleet::{Fleet, FleetOptions, InstanceStats, Plan};
use super::tower::ClientService;
use super::{encode_frame, CallError, ClientError};
use crate::discover::Discover;
use crate::protocol::{Limits, MessageHeader, Standard};
use crate::service::{Args, Reply};
use crate::transport::{
    AnyTransport, Dialect, FrameInfo, Headers, IntoHeaderBytes, ProtocolId, TransportLimits,
};
use crate::wire::MessageType;
use crate::ByteString;
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How an [`AsyncClient`] talks to its server.
#[derive(Clone, Debug)]
pub struct AsyncClientOptions {
    /// The framing (default: framed).
    pub dialect: Dialect,
    /// The protocol (default: binary; binary, compact and
    /// [`ProtocolId::Json`] are spoken).
    pub protocol: ProtocolId,
    /// TTHeader only: send each call's message framed inside the TTHeader
    /// payload (Kitex's `TTHeaderFramed`, Volo's default). Default `false`.
    /// Replies are read in either shape.
    pub framed_payload: bool,
    /// When set, method names are sent as `service:method` (Apache's
    /// `TMultiplexedProtocol`).
    pub service_name: Option<String>,
    /// Limits on the replies read.
    pub limits: Limits,
    /// Limits on reply frames.
    pub transport_limits: TransportLimits,
    /// The longest wait for a new connection (default 5 s; `None`: the
    /// operating system's).
    pub connect_timeout: Option<Duration>,
    /// The longest a call may take, from when its future is first polled to
    /// its decoded reply: waiting for a connection, dialing, sending and
    /// the server's work included (default 5 s; `None`: no limit, which
    /// lets a server that never answers hold a call forever). A
    /// [`CallOptions::timeout`] overrides it per call.
    pub call_timeout: Option<Duration>,
    /// Pooled ping-pong or multiplexed connections (default pooled).
    pub strategy: Strategy,
}

impl Default for AsyncClientOptions {
    fn default() -> AsyncClientOptions {
        AsyncClientOptions {
            dialect: Dialect::Framed,
            protocol: ProtocolId::Binary,
            framed_payload: false,
            service_name: None,
            limits: Limits::DEFAULT,
            transport_limits: TransportLimits::DEFAULT,
            connect_timeout: Some(Duration::from_secs(5)),
            call_timeout: Some(Duration::from_secs(5)),
            strategy: Strategy::default(),
        }
    }
}

impl AsyncClientOptions {
    /// Pooled connections speaking `dialect` and `protocol`, with the
    /// default limits and timeouts.
    pub fn pooled(dialect: Dialect, protocol: ProtocolId) -> AsyncClientOptions {
        AsyncClientOptions {
            dialect,
            protocol,
            ..AsyncClientOptions::default()
        }
    }

    /// Multiplexed connections speaking `dialect` and `protocol`, with the
    /// default limits and timeouts.
    pub fn multiplexed(dialect: Dialect, protocol: ProtocolId) -> AsyncClientOptions {
        AsyncClientOptions {
            dialect,
            protocol,
            strategy: Strategy::Multiplexed(MultiplexOptions::default()),
            ..AsyncClientOptions::default()
        }
    }
}

/// How an [`AsyncClient`] spreads calls over connections.
#[derive(Clone, Debug)]
pub enum Strategy {
    /// One call in flight per connection (ping-pong), connections kept in
    /// a pool: works with every Thrift server.
    Pooled(PoolOptions),
    /// Many calls in flight on each of a few connections, replies matched
    /// to calls by sequence id: for servers that answer calls of one
    /// connection concurrently (in order or not), as this crate's server,
    /// Kitex and Volo do. Not for servers that read one call at a time and
    /// close on a second (a plain blocking Apache `TSimpleServer` still
    /// works, only slower).
    Multiplexed(MultiplexOptions),
}

impl Default for Strategy {
    fn default() -> Strategy {
        Strategy::Pooled(PoolOptions::default())
    }
}

/// The pool of [`Strategy::Pooled`].
///
/// Idle connections are reused last-in first-out, so steady load keeps the
/// same few warm and the rest age out. A connection whose call was
/// abandoned mid-flight (its future dropped, or timed out) or failed is
/// closed, never reused: a late reply would answer the next call.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Connections open at once, in use or idle (default 256).
    pub max_connections: usize,
    /// Idle connections kept for reuse (default 256); beyond that a
    /// connection is closed when its call ends.
    pub max_idle: usize,
    /// An idle connection older than this is closed instead of reused
    /// (default 60 s; `None`: kept). Checked when the pool is next used;
    /// there is no timer task.
    pub idle_timeout: Option<Duration>,
    /// The longest a call waits for a connection when all
    /// `max_connections` are busy (default 1 s), then fails with
    /// [`ClientError::NoConnection`].
    pub wait_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> PoolOptions {
        PoolOptions {
            max_connections: 256,
            max_idle: 256,
            idle_timeout: Some(Duration::from_secs(60)),
            wait_timeout: Duration::from_secs(1),
        }
    }
}

/// The connections of [`Strategy::Multiplexed`].
///
/// Each connection has one task that writes the queued calls (everything
/// queued goes out in one write) and reads replies, handing each to the
/// call with its sequence id. A reply that cannot be routed (malformed, an
/// unknown sequence id, the wrong method) closes that connection and fails
/// the calls in flight on it with [`ClientError::ConnectionLost`]; the
/// next call dials again.
#[derive(Clone, Debug)]
pub struct MultiplexOptions {
    /// Connections kept open, calls spread round-robin (default 2).
    pub connections: usize,
    /// Calls in flight on one connection (default 1024). A call finding
    /// every connection full waits for room.
    pub max_in_flight: usize,
    /// The longest a call waits for room (default 1 s), then fails with
    /// [`ClientError::NoConnection`].
    pub wait_timeout: Duration,
}

impl Default for MultiplexOptions {
    fn default() -> MultiplexOptions {
        MultiplexOptions {
            connections: 2,
            max_in_flight: 1024,
            wait_timeout: Duration::from_secs(1),
        }
    }
}

/// What the calls of one [`AsyncClient`] clone carry: made with
/// [`AsyncClient::with_call_options`]. The hash key and idempotency only
/// matter to fleets ([`AsyncClient::discover`]).
///
/// ```
/// use std::time::Duration;
/// use thriftgen_runtime::client::CallOptions;
///
/// let call = CallOptions::new()
///     .header("trace-id", "abc")
///     .timeout(Duration::from_millis(200));
/// assert_eq!(call.headers.get_str("trace-id"), Some("abc"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Headers sent with each call (THeader and TTHeader; other transports
    /// have nowhere to put them).
    pub headers: Headers,
    /// The call timeout in place of [`AsyncClientOptions::call_timeout`]
    /// (`None`: the client's).
    pub timeout: Option<Duration>,
    /// The key [`Balancer::ConsistentHash`](super::Balancer::ConsistentHash)
    /// places calls by (a hash of the bytes given to
    /// [`CallOptions::hash_key`]); `None`: round robin.
    pub hash_key: Option<u64>,
    /// Whether the calls may run twice: `Some(true)` lets a fleet retry
    /// them after failures that may have reached a server and send backup
    /// requests, `Some(false)` forbids it even for methods listed in
    /// [`RetryOptions::idempotent_methods`](super::RetryOptions::idempotent_methods);
    /// `None` (the default): as the method is marked.
    pub idempotent: Option<bool>,
}

impl CallOptions {
    /// No headers, the client's timeout.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// Adds (replaces) header `key`.
    pub fn header(mut self, key: impl IntoHeaderBytes, value: impl IntoHeaderBytes) -> CallOptions {
        self.headers.insert(key, value);
        self
    }

    /// Sets the call timeout.
    pub fn timeout(mut self, timeout: Duration) -> CallOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the consistent-hashing key: calls with equal keys go to the
    /// same instance while the fleet does not change (and that instance
    /// takes calls).
    pub fn hash_key(mut self, key: impl AsRef<[u8]>) -> CallOptions {
        self.hash_key = Some(super::balance::hash_bytes(key.as_ref()));
        self
    }

    /// Says whether the calls are idempotent (see [`CallOptions::idempotent`]).
    pub fn idempotent(mut self, idempotent: bool) -> CallOptions {
        self.idempotent = Some(idempotent);
        self
    }
}

/// A snapshot of an [`AsyncClient`]'s connections and calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AsyncClientStats {
    /// Connections dialed since the client was made.
    pub connects: u64,
    /// Connections open now (idle ones included).
    pub open: usize,
    /// Pooled: connections idle in the pool.
    pub idle: usize,
    /// Calls waiting for their reply: pooled, connections checked out;
    /// multiplexed, sequence ids with a waiter.
    pub in_flight: usize,
    /// Multiplexed: calls abandoned after they were sent (future dropped or
    /// timed out) whose late reply has not come yet; it is dropped when it
    /// does. Such entries are bounded by `max_in_flight` per connection:
    /// beyond it, the connection takes no new calls and closes once its
    /// calls in flight end.
    pub abandoned: usize,
}

/// A client shared by any number of tokio tasks: `Clone + Send + Sync`,
/// cloning is an `Arc` increment, and every clone uses the same
/// connections.
///
/// ```no_run
/// # async fn demo(addr: std::net::SocketAddr) {
/// use thriftgen_runtime::client::{AsyncClient, AsyncClientOptions};
/// use thriftgen_runtime::transport::{Dialect, ProtocolId};
///
/// let client = AsyncClient::new(addr, AsyncClientOptions::multiplexed(
///     Dialect::Framed,
///     ProtocolId::Binary,
/// ));
/// for _ in 0..1000 {
///     let client = client.clone();
///     tokio::spawn(async move {
///         // Generated `<Service>AsyncClient`s wrap `client.call::<R, _>(..)`.
///     });
/// }
/// # }
/// ```
///
/// Calls must be polled inside a tokio runtime (with the `net` and `time`
/// drivers enabled): connections are dialed on demand and their tasks
/// spawned there. A client of one address never retries a failed call
/// (Thrift calls need not be idempotent); a failed connection is closed and
/// the next call dials again. A fleet ([`AsyncClient::discover`]) retries
/// as its [`FleetOptions`] say.
///
/// A server that is shutting down says so on its TTHeader replies (Kitex's
/// `crrst` header, [`CONNECTION_READY_TO_RESET`](crate::server::CONNECTION_READY_TO_RESET)):
/// a pooled connection whose reply carries it is closed after that call
/// instead of going back to the pool, and a multiplexed one takes no new
/// calls and closes once its calls in flight are answered.
#[derive(Clone)]
pub struct AsyncClient {
    inner: Arc<Inner>,
    call: Option<Arc<CallOptions>>,
}

// The contract generated `<Service>AsyncClient`s rely on.
const _: fn() = || {
    fn shared<T: Clone + Send + Sync + 'static>() {}
    shared::<AsyncClient>();
};

/// What every clone shares.
pub(super) struct Inner {
    pub(super) options: AsyncClientOptions,
    seqid: AtomicI32,
    /// The size of the largest recent call, so encoding rarely regrows.
    size_hint: AtomicUsize,
    pub(super) target: Target,
    /// The calls a [`ClientService`] may have in flight: its `poll_ready`.
    pub(super) slots: Arc<Semaphore>,
}

/// Where the calls go.
pub(super) enum Target {
    /// One server.
    Single(Endpoint),
    /// The instances a [`Discover`] finds.
    Fleet(Arc<Fleet>),
}

/// Dials the server, and counts connections.
#[derive(Debug)]
pub(super) struct Connector {
    pub(super) addr: SocketAddr,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) dialect: Dialect,
    pub(super) limits: Limits,
    pub(super) transport_limits: TransportLimits,
    pub(super) connects: AtomicU64,
    pub(super) open: AtomicUsize,
}

impl Connector {
    /// A dialer of `addr` with `options`.
    pub(super) fn new(addr: SocketAddr, options: &AsyncClientOptions) -> Connector {
        Connector {
            addr,
            connect_timeout: options.connect_timeout,
            dialect: options.dialect,
            limits: options.limits,
            transport_limits: options.transport_limits,
            connects: AtomicU64::new(0),
            open: AtomicUsize::new(0),
        }
    }

    /// A new connection, with `TCP_NODELAY`.
    pub(super) async fn dial(self: &Arc<Self>) -> Result<(TcpStream, OpenConnection), ClientError> {
        let connect = TcpStream::connect(self.addr);
        let stream = match self.connect_timeout {
            Some(limit) => match tokio::time::timeout(limit, connect).await {
                Ok(stream) => stream?,
                Err(_) => {
                    return Err(ClientError::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "connecting to {} timed out after {} ms",
                            self.addr,
                            limit.as_millis()
                        ),
                    )))
                }
            },
            None => connect.await?,
        };
        stream.set_nodelay(true)?;
        let index = self.connects.fetch_add(1, Ordering::Relaxed) + 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok((stream, OpenConnection(self.clone(), index)))
    }

    /// A fresh reply decoder for a new connection.
    pub(super) fn transport(&self) -> AnyTransport {
        AnyTransport::new(self.dialect, self.transport_limits)
    }
}

/// Counts one open connection while it lives; knows its place in the
/// order of dials (from 1).
#[derive(Debug)]
pub(super) struct OpenConnection(Arc<Connector>, u64);

impl OpenConnection {
    /// Which dial made this connection (1 for the first).
    pub(super) fn index(&self) -> u64 {
        self.1
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One encoded call, ready for any connection.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub(super) seqid: i32,
    pub(super) method: &'static str,
    pub(super) bytes: Bytes,
}

impl AsyncClient {
    /// A client of the server at `addr`. No I/O: connections are made on
    /// demand, inside the tokio runtime that polls the calls.
    pub fn new(addr: SocketAddr, options: AsyncClientOptions) -> AsyncClient {
        let endpoint = Endpoint::new(addr, &options);
        let slots = Arc::new(Semaphore::new(endpoint.capacity()));
        AsyncClient::from_target(options, Target::Single(endpoint), slots)
    }

    /// A client of a fleet: the instances `discover` finds, each with its
    /// own connections (pooled or multiplexed as `options.strategy` says),
    /// the calls spread, retried and guarded as `fleet` says.
    ///
    /// No I/O here either: the first call (or [`ClientService`] readiness)
    /// spawns, on the tokio runtime that polls it, the task that watches
    /// `discover`, and waits for its first instance set (within the call's
    /// timeout). Instances that leave the set get no new calls; their calls
    /// in flight finish, and their connections close once idle. The task
    /// ends when the last clone of the client is dropped.
    ///
    /// ```no_run
    /// # async fn demo(a: std::net::SocketAddr, b: std::net::SocketAddr) {
    /// use thriftgen_runtime::client::{AsyncClient, AsyncClientOptions, FleetOptions};
    /// use thriftgen_runtime::discover::StaticDiscover;
    ///
    /// let client = AsyncClient::discover(
    ///     StaticDiscover::new([a, b]),
    ///     AsyncClientOptions::default(),
    ///     FleetOptions::default(),
    /// );
    /// # }
    /// ```
    pub fn discover(
        discover: impl Discover,
        options: AsyncClientOptions,
        fleet: FleetOptions,
    ) -> AsyncClient {
        let per_instance = Endpoint::capacity_of(&options);
        let slots = Arc::new(Semaphore::new(per_instance));
        let fleet = Fleet::new(Box::new(discover), options.clone(), fleet, slots.clone());
        AsyncClient::from_target(options, Target::Fleet(fleet), slots)
    }

    fn from_target(
        options: AsyncClientOptions,
        target: Target,
        slots: Arc<Semaphore>,
    ) -> AsyncClient {
        AsyncClient {
            inner: Arc::new(Inner {
                options,
                seqid: AtomicI32::new(1),
                size_hint: AtomicUsize::new(256),
                target,
                slots,
            }),
            call: None,
        }
    }

    /// A clone whose calls carry `call` (headers, timeout); the original
    /// is unchanged. Cheap: two `Arc`s, the same connections.
    pub fn with_call_options(&self, call: CallOptions) -> AsyncClient {
        AsyncClient {
            inner: self.inner.clone(),
            call: Some(Arc::new(call)),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &AsyncClientOptions {
        &self.inner.options
    }

    /// The server's address (a fleet's: `0.0.0.0:0`; see
    /// [`AsyncClient::instances`]).
    pub fn addr(&self) -> SocketAddr {
        match &self.inner.target {
            Target::Single(endpoint) => endpoint.connector.addr,
            Target::Fleet(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        }
    }

    /// Counters of connections and calls in flight, for tests and metrics
    /// (a fleet's: the sums over its current instances).
    pub fn stats(&self) -> AsyncClientStats {
        match &self.inner.target {
            Target::Single(endpoint) => endpoint.stats(),
            Target::Fleet(fleet) => fleet.stats(),
        }
    }

    /// Per-instance counters: calls, failures, calls in flight, breaker
    /// state, connections. A client of one address has one entry; a fleet
    /// one per instance of its current set (none before the first set is
    /// discovered).
    pub fn instances(&self) -> Vec<InstanceStats> {
        match &self.inner.target {
            Target::Single(endpoint) => vec![InstanceStats::single(endpoint)],
            Target::Fleet(fleet) => fleet.instances(),
        }
    }

    /// This client as a `tower::Service` of [`Call`](super::Call)s, with a
    /// `poll_ready` that waits for room (see [`ClientService`]).
    pub fn service(&self) -> ClientService {
        ClientService::new(self.clone())
    }

    /// The room of [`ClientService`]s (shared by all made from this client).
    pub(super) fn slots(&self) -> Arc<Semaphore> {
        self.inner.slots.clone()
    }

    /// Starts a fleet's discovery (a no-op for one address, or once started).
    pub(super) fn start(&self) {
        if let Target::Fleet(fleet) = &self.inner.target {
            fleet.start();
        }
    }

    /// Calls `method` with `args` and decodes its reply as `R`.
    ///
    /// `args` is encoded now, before this returns, so the future borrows
    /// nothing and may be spawned. Dropping the future abandons the call
    /// (cancellation safe: nothing of it stays behind but, multiplexed, a
    /// marker that drops its late reply).
    ///
    /// # Errors
    ///
    /// [`CallError::Service`] with the declared exception or application
    /// error the server answered; [`CallError::Client`] when there was no
    /// valid answer, among them [`ClientError::Timeout`] and
    /// [`ClientError::NoConnection`]. A client of one address does not
    /// retry; a fleet retries as its [`FleetOptions`] say.
    pub fn call<R, A>(
        &self,
        method: &'static str,
        args: &A,
    ) -> impl Future<Output = Result<R::Ok, CallError<R::Err>>> + Send + 'static
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
        A: Args,
    {
        let prepared = self.prepare(method, MessageType::Call, args);
        self.call_prepared::<R>(prepared)
    }

    /// [`AsyncClient::call`], also giving the reply's headers (THeader and
    /// TTHeader; empty for other transports): what the server's handler set
    /// with
    /// [`CallContext::set_reply_header`](crate::service::CallContext::set_reply_header).
    /// (When the server answers with an exception the headers are not kept.)
    ///
    /// # Errors
    ///
    /// As [`AsyncClient::call`].
    pub fn call_with_headers<R, A>(
        &self,
        method: &'static str,
        args: &A,
    ) -> impl Future<Output = Result<(R::Ok, Headers), CallError<R::Err>>> + Send + 'static
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
        A: Args,
    {
        let prepared = self.prepare(method, MessageType::Call, args);
        self.exchange_prepared::<R>(prepared)
    }

    /// Encodes a call now, to be sent by [`AsyncClient::call_prepared`] or
    /// [`AsyncClient::send_prepared`]: what generated clients do, so that the
    /// future they return is generic over the reply alone and borrows none
    /// of the arguments.
    #[doc(hidden)]
    pub fn prepare<A: Args>(&self, method: &'static str, kind: MessageType, args: &A) -> Prepared {
        let call = self.call.as_deref();
        Prepared {
            request: self.encode(method, kind, args),
            timeout: self.timeout(),
            idempotent: call.and_then(|call| call.idempotent),
            marked_idempotent: false,
            hash_key: call.and_then(|call| call.hash_key),
        }
    }

    /// Sends a call [`prepare`](AsyncClient::prepare)d with
    /// [`MessageType::Call`] and reads its reply.
    #[doc(hidden)]
    pub fn call_prepared<R>(
        &self,
        prepared: Prepared,
    ) -> impl Future<Output = Result<R::Ok, CallError<R::Err>>> + Send + 'static
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
    {
        let exchange = self.exchange_prepared::<R>(prepared);
        async move { exchange.await.map(|(value, _headers)| value) }
    }

    /// [`AsyncClient::call_prepared`], with the reply's headers.
    fn exchange_prepared<R>(
        &self,
        prepared: Prepared,
    ) -> impl Future<Output = Result<(R::Ok, Headers), CallError<R::Err>>> + Send + 'static
    where
        R: Reply + 'static,
        R::Ok: Send + 'static,
        R::Err: Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            let plan = prepared.plan();
            let request = prepared.request?;
            let (result, headers) = match &inner.target {
                Target::Single(endpoint) => {
                    let mut phase = Phase::Waiting;
                    let call = endpoint.call::<R>(&request, &mut phase);
                    let answer = match plan.timeout {
                        Some(limit) => tokio::time::timeout(limit, call)
                            .await
                            .map_err(|_| ClientError::Timeout(limit))??,
                        None => call.await?,
                    };
                    (answer.result, answer.headers)
                }
                Target::Fleet(fleet) => fleet.call::<R>(request, plan).await?,
            };
            match result {
                Ok(value) => Ok((value, headers)),
                Err(e) => Err(CallError::Service(e)),
            }
        }
    }

    /// Sends the `oneway` call `method` with `args` (encoded now); no reply
    /// comes. Pooled, the future ends once the bytes are written;
    /// multiplexed, once they are queued for the connection's writer.
    ///
    /// # Errors
    ///
    /// When the call cannot be encoded or sent (within the call timeout).
    pub fn send_oneway<A: Args>(
        &self,
        method: &'static str,
        args: &A,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let prepared = self.prepare(method, MessageType::Oneway, args);
        self.send_prepared(prepared)
    }

    /// Sends a `oneway` call [`prepare`](AsyncClient::prepare)d with
    /// [`MessageType::Oneway`].
    #[doc(hidden)]
    pub fn send_prepared(
        &self,
        prepared: Prepared,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let inner = self.inner.clone();
        async move {
            let plan = prepared.plan();
            let request = prepared.request?;
            match &inner.target {
                Target::Single(endpoint) => {
                    let mut phase = Phase::Waiting;
                    let send = endpoint.send_oneway(&request, &mut phase);
                    match plan.timeout {
                        Some(limit) => tokio::time::timeout(limit, send)
                            .await
                            .map_err(|_| ClientError::Timeout(limit))?,
                        None => send.await,
                    }
                }
                Target::Fleet(fleet) => fleet.send_oneway(request, plan).await,
            }
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.call
            .as_ref()
            .and_then(|call| call.timeout)
            .or(self.inner.options.call_timeout)
    }

    /// Encodes one call's whole frame.
    fn encode<A: Args>(
        &self,
        method: &'static str,
        kind: MessageType,
        args: &A,
    ) -> Result<Request, ClientError> {
        let inner = &*self.inner;
        let options = &inner.options;
        let seqid = inner.seqid.fetch_add(1, Ordering::Relaxed);
        let name = match &options.service_name {
            Some(service) => ByteString::from(format!("{service}:{method}")),
            None => ByteString::from_static(method),
        };
        let header = MessageHeader { name, kind, seqid };
        let mut info = FrameInfo::new(options.dialect, options.protocol);
        info.seq_id = seqid as u32;
        info.framed_payload = options.framed_payload;
        if let Dialect::Header | Dialect::TTHeader = options.dialect {
            if let Some(call) = &self.call {
                info.headers = call.headers.clone();
            }
            crate::trace::inject_traceparent(&mut info.headers);
        }
        let mut out = BytesMut::with_capacity(inner.size_hint.load(Ordering::Relaxed));
        let mut transport = AnyTransport::new(options.dialect, options.transport_limits);
        encode_frame(
            &mut transport,
            &Standard,
            &mut out,
            &info,
            options.limits,
            &header,
            args,
        )?;
        if out.len() > inner.size_hint.load(Ordering::Relaxed) && out.len() <= 64 << 10 {
            inner.size_hint.store(out.len(), Ordering::Relaxed);
        }
        Ok(Request {
            seqid,
            method,
            bytes: out.freeze(),
        })
    }
}

impl fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("addr", &self.addr())
            .field("options", &self.inner.options)
            .field("call", &self.call)
            .field("stats", &self.stats())
            .finish()
    }
}

/// A call encoded by [`AsyncClient::prepare`], not sent yet.
#[doc(hidden)]
#[derive(Debug)]
pub struct Prepared {
    request: Result<Request, ClientError>,
    timeout: Option<Duration>,
    /// What the call options say, which wins.
    idempotent: Option<bool>,
    /// What the IDL says ([`Prepared::idempotent`]).
    marked_idempotent: bool,
    hash_key: Option<u64>,
}

impl Prepared {
    /// Marks the call idempotent (for generated code, from an IDL
    /// annotation): a fleet may then retry it after failures that may have
    /// reached a server, and send backup requests. A
    /// [`CallOptions::idempotent`] setting still wins.
    #[doc(hidden)]
    pub fn idempotent(mut self) -> Prepared {
        self.marked_idempotent = true;
        self
    }

    /// What a fleet needs to know of the call.
    fn plan(&self) -> Plan {
        Plan {
            timeout: self.timeout,
            idempotent: self.idempotent,
            marked_idempotent: self.marked_idempotent,
            hash_key: self.hash_key,
        }
    }
}
