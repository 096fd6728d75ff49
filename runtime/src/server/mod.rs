//! The server: an acceptor thread and N poller threads in the style of
//! CloudWeGo netpoll, each poller with its own `mio::Poll`, `Waker`,
//! connections, buffer pool and timers.
//!
//! ```ignore
//! let server = Server::new(EchoProcessor::new(MyEcho))
//!     .options(ServerOptions { pollers: 2, ..ServerOptions::default() })
//!     .bind("127.0.0.1:9090")?;
//! // ... later
//! server.shutdown(Duration::from_secs(5));
//! ```
//!
//! Every connection speaks the dialect its first bytes show (buffered,
//! framed, THeader or TTHeader; binary, compact or JSON) and gets replies in
//! kind.
//! Handlers run on the poller that read the request ([`Handlers::Inline`],
//! the default: no hand-off, the fastest path, for handlers that never block)
//! or on a bounded pool of worker threads ([`Handlers::Workers`], for
//! handlers that block: I/O, locks held long, sleeps). Async handlers (an
//! [`AsyncProcessor`]) run as tasks on the user's tokio runtime
//! ([`Server::new_async`]) while the sockets stay on the pollers. Either way
//! the replies on one connection leave in request order, and
//! [`ServerOptions::per_connection`] says whether the calls of one
//! connection may run at the same time.
//!
//! ```ignore
//! let runtime = tokio::runtime::Runtime::new()?;
//! let server = Server::new_async(EchoAsyncProcessor::new(MyEcho), runtime.handle().clone())
//!     .bind("127.0.0.1:9090")?;
//! ```
//!
//! What a peer sends can close its own connection, never the server: a
//! malformed frame or request closes that connection (after a
//! `PROTOCOL_ERROR` reply where one can be framed), an unknown method gets
//! `UNKNOWN_METHOD`, a panicking handler gets its caller `INTERNAL_ERROR`,
//! and timeouts close connections that stall mid-frame, idle, or stop
//! reading their replies.
//!
//! A connection closed after replies it wants delivered (and every
//! connection in a graceful shutdown, see [`ServerHandle::shutdown`])
//! half-closes and drains its input before the socket is closed, so no TCP
//! reset destroys replies its peer has not read yet
//! ([`ServerOptions::linger`]).

mod acceptor;
mod call;
mod engine;
pub mod layer;
mod poller;
mod tasks;
mod timers;
mod workers;

use crate::discover::{Instance, Registrar, DEFAULT_WEIGHT};
use crate::protocol::{Limits, Protocols, Standard};
use crate::service::{AsyncProcessor, Processor};
use crate::transport::{Detect, Transport, TransportLimits};
use mio::Waker;
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The TTHeader string header (`INFO_KEYVALUE`) with which a server tells
/// its peer that the connection is about to close: Kitex's
/// `HeaderConnectionReadyToReset`, `crrst` = `1`.
///
/// A Kitex server puts it on every TTHeader reply once a graceful shutdown
/// has begun, and on an error reply after which it closes the connection; a
/// Kitex client that reads it tags the call (`rpcinfo.ConnResetTag`) and
/// discards the connection from its pool instead of putting it back, so no
/// further request is sent on a connection that is closing. This server
/// does the same: TTHeader replies framed after [`ServerHandle::shutdown`]
/// was called, and the `PROTOCOL_ERROR` reply before a close, carry it.
/// Other dialects have no such hint (their peers see the half-close).
pub const CONNECTION_READY_TO_RESET: (&str, &str) = ("crrst", "1");

/// Where the handlers of a sync [`Processor`] run. (An [`AsyncProcessor`]'s
/// run on the tokio runtime given to [`Server::new_async`], whatever this
/// says.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handlers {
    /// On the poller thread that read the request: no hand-off, the lowest
    /// latency. A handler that blocks stalls every connection of its poller,
    /// so pick this for handlers that compute and return. The calls of one
    /// connection run one after another.
    Inline,
    /// On a pool of this many worker threads; the reply goes back through
    /// the poller. For handlers that block.
    Workers(usize),
}

/// How the calls of one connection run relative to each other, when they
/// run off the poller (on workers or as async tasks; inline calls always run
/// one after another). Replies leave in request order either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PerConnection {
    /// A call starts once the connection's previous call has finished,
    /// `oneway` calls included: what Apache Thrift's servers and inline
    /// handlers do, so a `oneway` call's effect is seen by the call after
    /// it. Requests a client pipelines wait in the socket meanwhile. The
    /// default.
    #[default]
    Sequential,
    /// Up to `max_in_flight` calls of the connection run at once (a client
    /// that multiplexes calls by seqid, or pipelines independent calls);
    /// beyond that the connection is not read until one finishes. Nothing
    /// orders their effects.
    Concurrent {
        /// Calls of one connection running or waiting for their turn to be
        /// sent; at least 1.
        max_in_flight: usize,
    },
}

impl PerConnection {
    /// Concurrent with up to 64 calls in flight per connection.
    pub const CONCURRENT: PerConnection = PerConnection::Concurrent { max_in_flight: 64 };

    /// The most calls of one connection in flight at once.
    fn max_in_flight(self) -> usize {
        match self {
            PerConnection::Sequential => 1,
            PerConnection::Concurrent { max_in_flight } => max_in_flight.max(1),
        }
    }
}

/// How a server behaves. Every limit is on by default.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Poller threads (default: one per two CPUs, at least one). A poller
    /// with inline handlers keeps one core busy under load; the other cores
    /// are left to the kernel's network work, workers and the rest of the
    /// process. (netpoll's default is one poller per 20 CPUs, but its
    /// handlers run elsewhere.) Measure before raising it.
    pub pollers: usize,
    /// Where the handlers of a sync processor run (default
    /// [`Handlers::Inline`]). Not used by async servers.
    pub handlers: Handlers,
    /// Whether the calls of one connection run one at a time (default
    /// [`PerConnection::Sequential`], as Apache Thrift's servers) or
    /// concurrently, on workers and in async servers.
    pub per_connection: PerConnection,
    /// Calls running off the pollers (on workers or as async tasks) in the
    /// whole server beyond which no connection is read until some finish
    /// (default 10,000; the pollers may overshoot it by one call each). A
    /// bound on memory under a flood of slow calls, not a tuning knob.
    pub max_calls_in_flight: usize,
    /// The longest an async call may take (default 60 s), counted from when
    /// its request was read; a caller's own timeout (TTHeader's
    /// `RPC_TIMEOUT`, [`CallContext::timeout`](crate::service::CallContext::timeout))
    /// wins when it is earlier (a zero timeout counts as none). On expiry
    /// the future is dropped and the caller gets
    /// `ApplicationException(INTERNAL_ERROR)` with the message
    /// `` `method` timed out after N ms `` (INTERNAL_ERROR because every
    /// Thrift implementation knows that kind; fbthrift's `TIMEOUT` is
    /// unknown to Apache's). `None`: no server deadline. Sync handlers
    /// cannot be stopped mid-call and have none.
    pub call_timeout: Option<Duration>,
    /// Async handlers only: poll each call's future once on the poller
    /// before handing it to tokio (default `true`). A handler that answers
    /// without waiting for anything (its first poll is ready) is then
    /// answered with no hop to a tokio worker and back, which saves two
    /// cross-thread wake-ups per call; one that awaits something pending is
    /// spawned and finishes on tokio. Turn it off when handlers do
    /// CPU-heavy or blocking work before their first `.await`, which would
    /// otherwise stall the poller's other connections.
    pub first_poll_inline: bool,
    /// Connections beyond this many are closed as soon as they are accepted
    /// (default 100,000).
    pub max_connections: usize,
    /// A connection that stalls in the middle of a frame this long is closed
    /// (default 30 s).
    pub read_timeout: Option<Duration>,
    /// A connection with nothing to do this long is closed (default 10 min).
    pub idle_timeout: Option<Duration>,
    /// A connection that does not take its replies for this long is closed
    /// (default 30 s).
    pub write_timeout: Option<Duration>,
    /// Limits on requests (string lengths, container sizes, depth).
    pub limits: Limits,
    /// Limits on frames (frame size, THeader header size, decompression).
    pub transport_limits: TransportLimits,
    /// Bytes read from one connection per poll turn before the others get
    /// their turn (default 64 KiB).
    pub read_budget: usize,
    /// Reply bytes waiting for a connection's socket beyond which its
    /// requests are not read until the peer takes its replies (default
    /// 4 MiB): a client that sends without reading cannot make the server
    /// buffer without end.
    pub max_pending_output: usize,
    /// Bytes the whole server may hold in incomplete frames (default
    /// 128 MiB). Each connection may send frames up to the frame limit
    /// (16 MiB), so without a budget 64 peers each sending just under that
    /// would pin 1 GiB. Past the budget, a connection that holds 64 KiB or
    /// more of unserved input (an incomplete frame) when it reads is closed
    /// (counted as an error); connections with small frames are never
    /// shed.
    pub max_partial_bytes: usize,
    /// How long a closing connection waits for its peer to close (default
    /// 1 s). A connection that closes after replies it wants delivered (a
    /// graceful shutdown, a `PROTOCOL_ERROR`, an idle or read timeout)
    /// flushes them, half-closes (`shutdown(Write)`: the peer reads its
    /// replies, then end of stream), then reads and discards whatever the
    /// peer still sends until the peer closes, or nothing has arrived for
    /// this long, or five times this long in all (during a shutdown: or its
    /// deadline passes); only then is the socket closed. Closing a socket
    /// with unread input sends a reset, which can destroy replies the peer
    /// has not read yet; this is what keeps them. A lingering connection
    /// still counts as open. `Duration::ZERO` closes as soon as the input
    /// waiting now is discarded.
    pub linger: Duration,
    /// Where the server announces itself (default none): registered once
    /// it listens, deregistered first thing in a graceful shutdown (see
    /// [`Registration`] and [`ServerHandle::shutdown`]). Also
    /// [`Server::register`].
    pub registration: Option<Registration>,
    /// How long a graceful shutdown keeps serving normally after it
    /// deregistered, before it stops accepting and drains: the time clients
    /// watching the registry need to see the instance gone (Kitex's
    /// `ExitWaitTime`). Replies framed meanwhile carry the drain hint
    /// ([`CONNECTION_READY_TO_RESET`]) and idle connections are closed
    /// (see [`ServerHandle::shutdown`]).
    /// `None` (the default): 1 s when a [`registration`](Self::registration)
    /// is set, none otherwise.
    pub exit_wait: Option<Duration>,
}

/// The exit wait when a registration is set and
/// [`ServerOptions::exit_wait`] does not say.
pub const DEFAULT_EXIT_WAIT: Duration = Duration::from_secs(1);

/// How a server announces itself to a registry ([`ServerOptions::registration`]):
/// the [`Registrar`] and the [`Instance`] to register.
///
/// The instance's address is the listener's unless
/// [`advertise`](Registration::advertise) says otherwise; a port 0 is the
/// port the listener got (so binding `127.0.0.1:0` registers the real
/// port), and an unspecified IP (`0.0.0.0`, `::`) is the listener's, or,
/// when that is unspecified too, the address of the interface the default
/// route goes through.
///
/// ```ignore
/// let registration = Registration::new(Arc::new(etcd_registrar))
///     .weight(20)
///     .tag("zone", "eu-1");
/// let server = Server::new(processor).register(registration).bind("0.0.0.0:9090")?;
/// ```
#[derive(Clone, Debug)]
pub struct Registration {
    registrar: Arc<dyn Registrar>,
    advertise: Option<SocketAddr>,
    weight: u32,
    tags: BTreeMap<String, String>,
}

impl Registration {
    /// Registers with `registrar`, at the listener's address, with the
    /// default weight ([`DEFAULT_WEIGHT`]) and no tags.
    pub fn new(registrar: Arc<dyn Registrar>) -> Registration {
        Registration {
            registrar,
            advertise: None,
            weight: DEFAULT_WEIGHT,
            tags: BTreeMap::new(),
        }
    }

    /// Registers `addr` instead of the listener's address (behind a NAT, a
    /// proxy); its port 0 or unspecified IP are filled in as above.
    pub fn advertise(mut self, addr: SocketAddr) -> Registration {
        self.advertise = Some(addr);
        self
    }

    /// The instance's weight.
    pub fn weight(mut self, weight: u32) -> Registration {
        self.weight = weight;
        self
    }

    /// Sets the tag `key` to `value`.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Registration {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// The registrar.
    pub fn registrar(&self) -> &Arc<dyn Registrar> {
        &self.registrar
    }

    /// The instance a server listening on `local` registers.
    ///
    /// # Errors
    ///
    /// When the IP is unspecified and no interface address can be found.
    pub fn instance(&self, local: SocketAddr) -> io::Result<Instance> {
        let mut addr = self.advertise.unwrap_or(local);
        if addr.port() == 0 {
            addr.set_port(local.port());
        }
        if addr.ip().is_unspecified() {
            if !local.ip().is_unspecified() {
                addr.set_ip(local.ip());
            } else {
                addr.set_ip(outbound_ip(addr.is_ipv6()).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot tell which address to register for {local} ({e}); \
                             set Registration::advertise"
                        ),
                    )
                })?);
            }
        }
        Ok(Instance {
            addr,
            weight: self.weight,
            tags: self.tags.clone(),
        })
    }
}

/// The address of the interface the default route goes through (a UDP
/// `connect` picks it; nothing is sent).
fn outbound_ip(v6: bool) -> io::Result<std::net::IpAddr> {
    let (bind, peer) = if v6 {
        ("[::]:0", "[2001:4860:4860::8888]:53")
    } else {
        ("0.0.0.0:0", "8.8.8.8:53")
    };
    let socket = std::net::UdpSocket::bind(bind)?;
    socket.connect(peer)?;
    Ok(socket.local_addr()?.ip())
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            pollers: std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            handlers: Handlers::Inline,
            per_connection: PerConnection::Sequential,
            max_calls_in_flight: 10_000,
            call_timeout: Some(Duration::from_secs(60)),
            first_poll_inline: true,
            max_connections: 100_000,
            read_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(600)),
            write_timeout: Some(Duration::from_secs(30)),
            limits: Limits::DEFAULT,
            transport_limits: TransportLimits::DEFAULT,
            read_budget: 64 * 1024,
            max_pending_output: 4 * 1024 * 1024,
            max_partial_bytes: 128 * 1024 * 1024,
            linger: Duration::from_secs(1),
            registration: None,
            exit_wait: None,
        }
    }
}

/// Counters of a running server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and handed to a poller.
    pub connections_accepted: u64,
    /// Connections closed at once because of the connection cap.
    pub connections_rejected: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Requests decoded far enough to be dispatched.
    pub requests: u64,
    /// Replies written (results and exceptions).
    pub replies: u64,
    /// Errors: malformed frames or requests, panics, timeouts, socket errors.
    pub errors: u64,
    /// Bytes read from sockets.
    pub bytes_read: u64,
    /// Bytes written to sockets.
    pub bytes_written: u64,
    /// Calls given up when a graceful shutdown's deadline passed: calls
    /// read and started (running on a worker or as a task, or finished but
    /// waiting for an earlier call's reply) whose replies had not been
    /// written, plus replies framed but not yet written whole to the
    /// socket. Their handlers may have run (an async future is dropped, a
    /// worker's call runs to its end) but their callers got no reply. Zero
    /// when every call read before the shutdown was answered in time.
    /// (Requests still waiting whole in a connection's input at the
    /// deadline never ran and are not counted; their callers see the
    /// connection close.)
    pub dropped_at_deadline: u64,
}

/// One poller's counters (relaxed atomics, summed on demand).
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    closed: AtomicU64,
    requests: AtomicU64,
    replies: AtomicU64,
    errors: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    dropped: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What the threads of one server share.
#[derive(Debug)]
struct Shared {
    stopping: AtomicBool,
    /// Replies carry the drain hint: set when the exit wait begins (or the
    /// drain, when there is none).
    hint: AtomicBool,
    /// A graceful shutdown has begun (the exit wait, or the drain).
    exiting: AtomicBool,
    /// The second half of the exit wait: idle connections are closed.
    shed_idle: AtomicBool,
    /// [`ServerOptions::exit_wait`], resolved.
    exit_wait: Duration,
    /// What was registered, until it is deregistered.
    registered: Mutex<Option<(Arc<dyn Registrar>, Instance)>>,
    /// The thread running a shutdown's deregistration and exit wait.
    shutdown_thread: Mutex<Option<JoinHandle<()>>>,
    deadline: Mutex<Option<Instant>>,
    open: AtomicUsize,
    /// Bytes held in incomplete frames of 64 KiB or more, by every poller
    /// (see [`ServerOptions::max_partial_bytes`]).
    partial_bytes: AtomicUsize,
    rejected: AtomicU64,
    counters: Vec<Counters>,
    /// The pollers' wakers (by poller id), then the acceptor's.
    wakers: Mutex<Vec<Arc<Waker>>>,
    /// Calls running off the pollers now (each holds a [`Permit`]).
    in_flight: AtomicUsize,
    /// [`ServerOptions::max_calls_in_flight`].
    max_in_flight: usize,
    /// By poller id: the poller holds connections back until the server
    /// is below its in-flight cap, and wants a wake-up then.
    starved: Vec<AtomicBool>,
}

/// One call running off the pollers, counted against
/// [`ServerOptions::max_calls_in_flight`] until dropped (by the worker or
/// the task, however it ends).
#[derive(Debug)]
struct Permit(Arc<Shared>);

impl Permit {
    fn new(shared: &Arc<Shared>) -> Permit {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Permit(Arc::clone(shared))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let shared = &self.0;
        let left = shared.in_flight.fetch_sub(1, Ordering::SeqCst) - 1;
        if left >= shared.max_in_flight {
            // Still no room: a later drop wakes the starved pollers.
            return;
        }
        // A poller marks itself starved before checking for room again (see
        // `Poller::serve_frames`), so one of the two sees the other.
        let mut wakers = None;
        for (id, starved) in shared.starved.iter().enumerate() {
            if starved.load(Ordering::SeqCst) && starved.swap(false, Ordering::SeqCst) {
                let wakers = wakers
                    .get_or_insert_with(|| shared.wakers.lock().unwrap_or_else(|e| e.into_inner()));
                if let Some(waker) = wakers.get(id) {
                    let _ = waker.wake();
                }
            }
        }
    }
}

impl Shared {
    /// Whether another call may start off the pollers.
    fn has_room(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) < self.max_in_flight
    }

    fn deadline(&self) -> Option<Instant> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the drain (see [`ServerHandle::shutdown`]).
    fn stop(&self, deadline: Duration) {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now() + deadline);
        self.hint.store(true, Ordering::SeqCst);
        self.exiting.store(true, Ordering::SeqCst);
        self.stopping.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    /// Deregisters what was registered, if anything (once).
    fn deregister(&self) {
        let registered = self
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((registrar, instance)) = registered {
            match registrar.deregister(&instance) {
                Ok(()) => tracing::info!(addr = %instance.addr, "deregistered"),
                Err(e) => {
                    tracing::warn!(addr = %instance.addr, error = %e, "cannot deregister")
                }
            }
        }
    }

    fn wake_all(&self) {
        for waker in self.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            // A poller that already exited cannot be woken; nothing to do.
            let _ = waker.wake();
        }
    }
}

/// Makes the [`Transport`] of each new connection: the server's framing.
///
/// The default, [`AutoDetect`], detects every built-in dialect per
/// connection. A closure `Fn(TransportLimits) -> T` works too, for a framing
/// of one's own:
///
/// ```ignore
/// Server::new(processor).transport(|limits| MyFraming::new(limits))
/// ```
pub trait NewTransport: Send + Sync + 'static {
    /// The transport of one connection.
    type Transport: Transport + Send + 'static;

    /// A transport for a new connection.
    fn new_transport(&self, limits: TransportLimits) -> Self::Transport;
}

/// Every built-in dialect, detected per connection from its first bytes
/// (buffered, framed, THeader, TTHeader; binary, compact or JSON).
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoDetect;

impl NewTransport for AutoDetect {
    type Transport = Detect;

    fn new_transport(&self, limits: TransportLimits) -> Detect {
        Detect::new(limits)
    }
}

impl<F, T> NewTransport for F
where
    F: Fn(TransportLimits) -> T + Send + Sync + 'static,
    T: Transport + Send + 'static,
{
    type Transport = T;

    fn new_transport(&self, limits: TransportLimits) -> T {
        self(limits)
    }
}

/// A server to be started: a processor, a framing, the protocols it speaks
/// and options.
#[derive(Debug)]
pub struct Server<P, N = AutoDetect, X = Standard> {
    processor: P,
    new_transport: N,
    protocols: X,
    options: ServerOptions,
}

/// An [`AsyncProcessor`] and the tokio runtime its calls run on: what
/// [`Server::new_async`] serves.
#[derive(Debug)]
pub struct OnTokio<A> {
    processor: A,
    runtime: tokio::runtime::Handle,
}

impl<P: Processor> Server<P> {
    /// A server of `processor` with the default options, detecting every
    /// built-in dialect.
    pub fn new(processor: P) -> Server<P> {
        Server {
            processor,
            new_transport: AutoDetect,
            protocols: Standard,
            options: ServerOptions::default(),
        }
    }
}

impl<A: AsyncProcessor> Server<OnTokio<A>> {
    /// A server of the async `processor`, whose calls run as tasks spawned
    /// on `runtime` (a multi-thread runtime, usually: `Handle::current()`
    /// inside `#[tokio::main]`, or `runtime.handle().clone()`). The sockets
    /// stay on the server's pollers: a poller decodes each request, spawns
    /// the handler's future, and frames and writes its reply, in request
    /// order, when the task hands it back.
    ///
    /// Per call: [`ServerOptions::call_timeout`] and the caller's timeout
    /// bound it (the future is dropped, the caller gets `INTERNAL_ERROR`);
    /// a panic in it becomes `INTERNAL_ERROR` and the connection is kept;
    /// when the peer closes the connection its unfinished two-way calls are
    /// dropped (`oneway` calls still run to the end);
    /// [`ServerOptions::per_connection`] and
    /// [`ServerOptions::max_calls_in_flight`] bound how many run. A graceful
    /// shutdown waits for running calls until its deadline, then drops them.
    /// [`ServerOptions::handlers`] is not used.
    pub fn new_async(processor: A, runtime: tokio::runtime::Handle) -> Server<OnTokio<A>> {
        Server {
            processor: OnTokio { processor, runtime },
            new_transport: AutoDetect,
            protocols: Standard,
            options: ServerOptions::default(),
        }
    }
}

impl<P, N, X> Server<P, N, X> {
    /// Replaces the options.
    pub fn options(mut self, options: ServerOptions) -> Server<P, N, X> {
        self.options = options;
        self
    }

    /// Registers the server with `registration` once it listens
    /// ([`ServerOptions::registration`]; a later [`Server::options`]
    /// replaces it).
    pub fn register(mut self, registration: Registration) -> Server<P, N, X> {
        self.options.registration = Some(registration);
        self
    }

    /// Serves with a framing of one's own instead of detecting the built-in
    /// ones.
    pub fn transport<M: NewTransport>(self, new_transport: M) -> Server<P, M, X> {
        Server {
            processor: self.processor,
            new_transport,
            protocols: self.protocols,
            options: self.options,
        }
    }

    /// Speaks `protocols` (for example the standard ones plus a protocol of
    /// one's own, named by `ProtocolId::Other`) instead of [`Standard`].
    pub fn protocols<Y: Protocols>(self, protocols: Y) -> Server<P, N, Y> {
        Server {
            processor: self.processor,
            new_transport: self.new_transport,
            protocols,
            options: self.options,
        }
    }
}

impl<P: Processor, N, X> Server<P, N, X> {
    /// Wraps the processor in `layer` (a [`tower_layer::Layer`]; see
    /// [`layer`] for the runtime's, and [`Interceptor`](layer::Interceptor)
    /// to write one). The layer added last is the outermost: it sees each
    /// call first.
    pub fn layer<L>(self, layer: L) -> Server<L::Service, N, X>
    where
        L: tower_layer::Layer<P>,
        L::Service: Processor,
    {
        Server {
            processor: layer.layer(self.processor),
            new_transport: self.new_transport,
            protocols: self.protocols,
            options: self.options,
        }
    }
}

impl<A: AsyncProcessor, N, X> Server<OnTokio<A>, N, X> {
    /// Wraps the async processor in `layer` (a [`tower_layer::Layer`]; see
    /// [`layer`]). The layer added last is the outermost.
    pub fn layer<L>(self, layer: L) -> Server<OnTokio<L::Service>, N, X>
    where
        L: tower_layer::Layer<A>,
        L::Service: AsyncProcessor,
    {
        let OnTokio { processor, runtime } = self.processor;
        Server {
            processor: OnTokio {
                processor: layer.layer(processor),
                runtime,
            },
            new_transport: self.new_transport,
            protocols: self.protocols,
            options: self.options,
        }
    }
}

impl<P: Processor, N: NewTransport, X: Protocols> Server<P, N, X> {
    /// Binds `addr` and starts serving (and registers, with a
    /// [`ServerOptions::registration`]).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, a thread cannot start, or the
    /// registration fails (the server is then stopped).
    pub fn bind<A: ToSocketAddrs>(self, addr: A) -> io::Result<RunningServer> {
        self.serve(TcpListener::bind(addr)?)
    }

    /// Starts serving on `listener` (and registers, with a
    /// [`ServerOptions::registration`]).
    ///
    /// # Errors
    ///
    /// When a thread cannot start, or the registration fails (the server
    /// is then stopped).
    pub fn serve(self, listener: TcpListener) -> io::Result<RunningServer> {
        let processor = Arc::new(self.processor);
        match self.options.handlers {
            Handlers::Inline => start(
                listener,
                engine::Inline(processor),
                Arc::new(self.new_transport),
                Arc::new(self.protocols),
                self.options,
                Vec::new(),
            ),
            Handlers::Workers(n) => {
                let new_transport = Arc::new(self.new_transport);
                let protocols = Arc::new(self.protocols);
                let (pool, handles) = workers::start(
                    n.max(1),
                    processor,
                    Arc::clone(&new_transport),
                    Arc::clone(&protocols),
                    &self.options,
                )?;
                start(
                    listener,
                    pool,
                    new_transport,
                    protocols,
                    self.options,
                    handles,
                )
            }
        }
    }
}

impl<A: AsyncProcessor, N: NewTransport, X: Protocols> Server<OnTokio<A>, N, X> {
    /// Binds `addr` and starts serving (and registers, with a
    /// [`ServerOptions::registration`]).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound, a thread cannot start, or the
    /// registration fails (the server is then stopped).
    pub fn bind<B: ToSocketAddrs>(self, addr: B) -> io::Result<RunningServer> {
        self.serve(TcpListener::bind(addr)?)
    }

    /// Starts serving on `listener` (and registers, with a
    /// [`ServerOptions::registration`]).
    ///
    /// # Errors
    ///
    /// When a thread cannot start, or the registration fails (the server
    /// is then stopped).
    pub fn serve(self, listener: TcpListener) -> io::Result<RunningServer> {
        let OnTokio { processor, runtime } = self.processor;
        let engine = tasks::Tasks::new(processor, runtime, &self.options);
        start(
            listener,
            engine,
            Arc::new(self.new_transport),
            Arc::new(self.protocols),
            self.options,
            Vec::new(),
        )
    }
}

/// Starts the pollers (running calls with `engine`) and the acceptor.
fn start<E: engine::Engine, N: NewTransport, X: Protocols>(
    listener: TcpListener,
    engine: E,
    new_transport: Arc<N>,
    protocols: Arc<X>,
    options: ServerOptions,
    mut threads: Vec<JoinHandle<()>>,
) -> io::Result<RunningServer> {
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let options = Arc::new(options);
    let pollers = options.pollers.max(1);
    let registration = options.registration.clone();
    let instance = registration
        .as_ref()
        .map(|r| r.instance(local_addr))
        .transpose()?;
    let exit_wait = options.exit_wait.unwrap_or(if registration.is_some() {
        DEFAULT_EXIT_WAIT
    } else {
        Duration::ZERO
    });
    let shared = Arc::new(Shared {
        stopping: AtomicBool::new(false),
        hint: AtomicBool::new(false),
        shed_idle: AtomicBool::new(false),
        exiting: AtomicBool::new(false),
        exit_wait,
        registered: Mutex::new(None),
        shutdown_thread: Mutex::new(None),
        deadline: Mutex::new(None),
        open: AtomicUsize::new(0),
        partial_bytes: AtomicUsize::new(0),
        rejected: AtomicU64::new(0),
        counters: (0..pollers).map(|_| Counters::default()).collect(),
        wakers: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        max_in_flight: options.max_calls_in_flight.max(1),
        starved: (0..pollers).map(|_| AtomicBool::new(false)).collect(),
    });
    let engine = Arc::new(engine);
    let mut inboxes = Vec::new();
    for id in 0..pollers {
        let (poller, inbox) = poller::Poller::new(
            id,
            Arc::clone(&engine),
            Arc::clone(&new_transport),
            Arc::clone(&protocols),
            Arc::clone(&options),
            Arc::clone(&shared),
        )?;
        shared
            .wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::clone(&inbox.waker));
        inboxes.push(inbox);
        threads.push(
            std::thread::Builder::new()
                .name(format!("thrift-poller-{id}"))
                .spawn(move || poller.run())?,
        );
    }
    drop(engine);
    let acceptor = acceptor::Acceptor::new(listener, inboxes, Arc::clone(&shared), &options)?;
    shared
        .wakers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(acceptor.waker());
    threads.push(
        std::thread::Builder::new()
            .name("thrift-acceptor".to_string())
            .spawn(move || acceptor.run())?,
    );
    let server = RunningServer {
        handle: ServerHandle { shared },
        local_addr,
        threads,
    };
    if let (Some(registration), Some(instance)) = (registration, instance) {
        // Listening and serving: announce it.
        if let Err(e) = registration.registrar.register(&instance) {
            tracing::error!(addr = %instance.addr, error = %e, "cannot register; stopping");
            server.handle.shared.stop(Duration::ZERO);
            server.join();
            return Err(io::Error::other(e));
        }
        tracing::info!(addr = %instance.addr, "registered");
        *server
            .handle
            .shared
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((registration.registrar, instance));
    }
    Ok(server)
}

/// A clonable handle to a running server: its counters, and the way to stop
/// it from anywhere (a signal handler thread, a test).
#[derive(Clone, Debug)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl ServerHandle {
    /// Starts a graceful shutdown; returns at once (see
    /// [`RunningServer::join`]).
    ///
    /// With a [`ServerOptions::registration`] or an
    /// [`exit_wait`](ServerOptions::exit_wait), a thread of the server's
    /// first withdraws from the registry ([`Registrar::deregister`]; an
    /// error is logged and the shutdown goes on), then keeps serving
    /// normally, still accepting, for the exit wait, so that clients
    /// watching the registry see the instance gone before the server stops
    /// accepting. Meanwhile TTHeader replies carry
    /// [`CONNECTION_READY_TO_RESET`] (clients stop reusing their
    /// connections); in its second half, once watching clients have
    /// dropped the instance, connections that are idle (no call in flight,
    /// nothing buffered, no traffic for 100 ms) are closed gracefully
    /// (half-closed, as below); connections in use are left to their
    /// clients, whom the hint (or, for other dialects, the drain) tells.
    /// Then the drain below begins, and `deadline` counts from then. A later call while the exit wait runs changes nothing.
    ///
    /// The drain:
    ///
    /// 1. The acceptor stops: no new connection is taken (connections the
    ///    kernel completed but the server had not accepted are refused).
    /// 2. Each connection is read one last time; from then on nothing more
    ///    is read from it to be executed. Every whole request in its input
    ///    is served (inline, on workers or as async tasks, in order, under
    ///    the usual caps); an incomplete one is dropped unrun.
    /// 3. Replies are flushed. TTHeader replies framed from now on carry
    ///    [`CONNECTION_READY_TO_RESET`], so Kitex clients stop reusing the
    ///    connection.
    /// 4. Once a connection has no call left and its output is written, it
    ///    is half-closed (the peer reads its replies, then end of stream),
    ///    and what the peer still sends is read and discarded, never
    ///    executed, until the peer closes (or see
    ///    [`ServerOptions::linger`]); then it is closed. No reset destroys
    ///    replies already written.
    /// 5. When every connection is closed, the pollers stop.
    ///
    /// So a request whose bytes the server read before (or in) its last
    /// read is answered; one that arrives later is never executed, and its
    /// caller sees the connection close cleanly (end of stream, no reply).
    ///
    /// Whatever is left when `deadline` from now passes is dropped: the
    /// connections are closed, async futures dropped, and the calls that
    /// lose their replies counted in [`Stats::dropped_at_deadline`].
    pub fn shutdown(&self, deadline: Duration) {
        let shared = &self.shared;
        let registered = shared
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if shared.stopping.load(Ordering::SeqCst) || (!registered && shared.exit_wait.is_zero()) {
            // Nothing to withdraw and no wait: the drain, now (a later call
            // sets a new deadline).
            shared.stop(deadline);
            return;
        }
        if shared.exiting.swap(true, Ordering::SeqCst) {
            // The exit wait of an earlier call is running.
            return;
        }
        let run = {
            let shared = Arc::clone(shared);
            move || {
                shared.deregister();
                shared.hint.store(true, Ordering::SeqCst);
                shared.wake_all();
                // Clients watching the registry drop the instance within
                // the first half; closing idle connections before that
                // would race the calls they still send on them (a call
                // written as the server half-closes is never run, and its
                // caller cannot know that it was not).
                let first = shared.exit_wait / 2;
                std::thread::sleep(first);
                shared.shed_idle.store(true, Ordering::SeqCst);
                shared.wake_all();
                std::thread::sleep(shared.exit_wait - first);
                shared.stop(deadline);
            }
        };
        let thread = std::thread::Builder::new()
            .name("thrift-shutdown".to_string())
            .spawn(run);
        match thread {
            Ok(thread) => {
                *shared
                    .shutdown_thread
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(thread);
            }
            Err(e) => {
                // No thread to wait on: withdraw and drain at once.
                tracing::warn!(error = %e, "cannot start the shutdown thread; no exit wait");
                shared.deregister();
                shared.stop(deadline);
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            connections_rejected: self.shared.rejected.load(Ordering::Relaxed),
            connections_open: self.shared.open.load(Ordering::Relaxed) as u64,
            ..Stats::default()
        };
        for c in &self.shared.counters {
            stats.connections_accepted += c.accepted.load(Ordering::Relaxed);
            stats.requests += c.requests.load(Ordering::Relaxed);
            stats.replies += c.replies.load(Ordering::Relaxed);
            stats.errors += c.errors.load(Ordering::Relaxed);
            stats.bytes_read += c.bytes_read.load(Ordering::Relaxed);
            stats.bytes_written += c.bytes_written.load(Ordering::Relaxed);
            stats.dropped_at_deadline += c.dropped.load(Ordering::Relaxed);
        }
        stats
    }
}

/// A server that is serving.
#[derive(Debug)]
pub struct RunningServer {
    handle: ServerHandle,
    local_addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The instance it registered ([`ServerOptions::registration`]), until
    /// a shutdown deregisters it.
    pub fn registered(&self) -> Option<Instance> {
        self.handle
            .shared
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(_, instance)| instance.clone())
    }

    /// A handle to stop it or read its counters.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// Shuts down gracefully (see [`ServerHandle::shutdown`]) and waits for
    /// every thread. Returns the final counters.
    pub fn shutdown(self, deadline: Duration) -> Stats {
        self.handle.shutdown(deadline);
        self.join()
    }

    /// Waits until the server stops (after a [`ServerHandle::shutdown`],
    /// its exit wait and its drain). Returns the final counters.
    pub fn join(self) -> Stats {
        for thread in self.threads {
            // A thread that panicked has already closed its connections.
            let _ = thread.join();
        }
        let shutdown = self
            .handle
            .shared
            .shutdown_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = shutdown {
            let _ = thread.join();
        }
        self.handle.stats()
    }
}
