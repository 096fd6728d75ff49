//! A poller: one thread, one `mio::Poll`, its connections, buffers and
//! timers.
//!
//! mio is edge-triggered: a readable connection is read until the kernel has
//! nothing more (a short read), or until its per-turn budget is spent, in
//! which case it waits on the ready list for the next turn, so one busy
//! connection cannot starve the others. Replies are appended to each
//! connection's output during the turn and flushed once at its end.
//!
//! A connection that closes after replies it wants delivered does not just
//! drop its socket (closing a socket with unread input sends a reset, which
//! can destroy replies the peer has not read yet): once its output is
//! written it half-closes, then reads and discards what the peer still
//! sends until the peer closes or [`ServerOptions::linger`] runs out (see
//! [`Poller::finish`]). A graceful shutdown ends every connection that way.

use super::engine::{Done, Engine, Pending, ReplyTo, Start, Started};
use super::timers::Checks;
use super::{Counters, NewTransport, ServerOptions, Shared};
use crate::buffer::{read_into, BlockPool, ReadOutcome, BLOCK_SIZE};
use crate::protocol::Protocols;
use crate::transport::Transport;
use crate::Splices;
use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAKER: Token = Token(usize::MAX);
/// The most pieces one vectored write takes (the kernel's limit is 1024).
const MAX_IO_SLICES: usize = 64;
/// How often a draining poller checks the shutdown's deadline.
const TICK: Duration = Duration::from_millis(100);

/// The grid connections' timeout checks are rounded to (see
/// [`Checks`]): a quarter of the shortest timeout (so a timeout fires at
/// most 25% late), between 100 ms and 1 s; 250 ms with the defaults
/// (linger 1 s).
fn check_granule(options: &ServerOptions) -> Duration {
    [
        options.read_timeout,
        options.write_timeout,
        options.idle_timeout,
        Some(options.linger),
    ]
    .into_iter()
    .flatten()
    .min()
    .map_or(Duration::from_secs(1), |shortest| shortest / 4)
    .clamp(TICK, Duration::from_secs(1))
}

/// How far ahead a connection that is not lingering may be scheduled: the
/// shortest of the read, write and idle timeouts, so that a deadline that
/// starts after the connection was scheduled (a frame left incomplete, a
/// reply the peer does not take) cannot come before its check. `None`:
/// such connections never time out.
fn check_horizon(options: &ServerOptions) -> Option<Duration> {
    [
        options.read_timeout,
        options.write_timeout,
        options.idle_timeout,
    ]
    .into_iter()
    .flatten()
    .min()
}

/// What other threads hand a poller: new connections and finished work.
#[derive(Debug)]
pub(super) struct Inbox {
    pub waker: Arc<Waker>,
    pub connections: Mutex<Vec<(TcpStream, SocketAddr)>>,
    pub done: Mutex<Vec<Done>>,
}

impl Inbox {
    /// Hands over a connection.
    pub fn push_connection(&self, stream: TcpStream, peer: SocketAddr) {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((stream, peer));
        let _ = self.waker.wake();
    }

    /// Hands back a finished call (from a worker or an async task).
    pub fn push_done(&self, done: Done) {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(done);
        let _ = self.waker.wake();
    }
}

#[derive(Debug)]
struct Conn<T> {
    stream: TcpStream,
    peer: SocketAddr,
    /// Distinguishes this connection from earlier ones in the same slot.
    generation: u64,
    transport: T,
    input: BytesMut,
    output: BytesMut,
    /// Large values of the replies in `output` that go out by reference,
    /// between its bytes (vectored writes).
    spliced: Splices,
    /// The length of the incomplete frame at the front of `input` that
    /// `input` was grown to hold at once (0: none): counted in the
    /// partial-frame budget, as the memory it is.
    reserved: usize,
    /// Calls handed off (to workers or as async tasks), in request order,
    /// until their replies are framed: replies that come back early wait
    /// for the ones before them. Its length is the connection's in-flight
    /// count.
    calls: VecDeque<Pending>,
    /// The sequence number of `calls.front()`; the calls after it are
    /// numbered on.
    first_seq: u64,
    /// The peer closed its side, or we decided to close after the flush:
    /// nothing more is read from the socket.
    closing: bool,
    /// While closing: frames already in the input are still served (a
    /// graceful shutdown, a peer that half-closed after pipelining).
    finish_input: bool,
    /// The last time anything happened.
    last_active: Instant,
    /// Since when a frame has been incomplete.
    partial_since: Option<Instant>,
    /// Since when the output has been waiting for the socket.
    blocked_since: Option<Instant>,
    /// Already on the dirty list this turn.
    dirty: bool,
    /// Reading stopped for back-pressure; resume when output drains or a
    /// call finishes.
    paused: bool,
    /// Reading stopped because the server is at its in-flight cap.
    starved: bool,
    /// The peer's end of stream has been read.
    eof: bool,
    /// The shutdown's last read was done (or the connection was closing
    /// already): nothing more is read from it to be served.
    drained: bool,
    /// Half-closed: what arrives is discarded until the peer closes.
    linger: Option<Linger>,
    /// Bytes written to the socket so far, and where each framed reply not
    /// yet written whole ends (in bytes appended to the output since the
    /// start): the replies a deadline would lose.
    sent: u64,
    reply_ends: VecDeque<u64>,
    /// When this connection's timeouts are next looked at (see
    /// [`Checks`]); `None`: never (no timeout applies).
    check_at: Option<Instant>,
    /// The bytes of this connection's input counted in the server's
    /// partial-frame budget (0 unless it holds an incomplete frame of
    /// [`PARTIAL_FLOOR`] bytes or more).
    held: usize,
}

/// A frame's whole room is reserved once the bytes still to come are at
/// most this many times those that have arrived (see
/// [`Conn::reserve_frame`]): at once for a 64 KiB frame (its first block
/// holds 8 KiB), after 64 KiB for a 1 MiB one (the buffer grows by doubling
/// until then, copying about 12% of the frame), after 1 MiB for 16 MiB.
const RESERVE_AHEAD: usize = 16;

/// Incomplete frames smaller than this are not counted in the server's
/// partial-frame budget: ordinary requests never touch the shared counter.
const PARTIAL_FLOOR: usize = 64 * 1024;

/// A half-closed connection waiting for its peer to close.
#[derive(Debug)]
struct Linger {
    /// When it was half-closed.
    since: Instant,
    /// When the last bytes arrived.
    last: Instant,
    /// Why it is closing, for the log.
    why: &'static str,
}

/// A lingering connection closes after at most this many times
/// [`ServerOptions::linger`], whatever its peer sends (outside a shutdown,
/// which has its own deadline).
const LINGER_TOTAL: u32 = 5;

impl<T: Transport> Conn<T> {
    /// Notes that a framed reply now ends the output.
    fn note_reply(&mut self) {
        self.reply_ends
            .push_back(self.sent + self.pending_output() as u64);
    }

    /// Reply bytes waiting for the socket: the output buffer's and the
    /// spliced ones.
    fn pending_output(&self) -> usize {
        self.output.len() + self.spliced.bytes()
    }

    /// No reply byte waits for the socket.
    fn output_empty(&self) -> bool {
        self.output.is_empty() && self.spliced.is_empty()
    }

    /// Frames the replies at the front of the queue that are ready, in
    /// request order (`closing`: the server is shutting down). Returns
    /// (replies, errors).
    fn emit_ready(&mut self, pool: &mut BlockPool, closing: bool) -> (u64, u64) {
        let mut replied = 0;
        let mut errors = 0;
        while self.calls.front().is_some_and(Pending::is_done) {
            let Some(call) = self.calls.pop_front() else {
                break;
            };
            self.first_seq += 1;
            if self.output.capacity() == 0 {
                self.output = pool.take();
            }
            let outcome = call.emit(
                &mut self.transport,
                &mut self.output,
                &mut self.spliced,
                closing,
            );
            if outcome.replied {
                self.note_reply();
            }
            replied += u64::from(outcome.replied);
            errors += u64::from(outcome.error);
            if outcome.close {
                self.closing = true;
                self.finish_input = false;
            }
        }
        (replied, errors)
    }

    /// Makes room at once for the whole incomplete frame at the front of the
    /// input, when the transport tells its length and it is larger than the
    /// input's block, so that a large frame is read into one buffer and
    /// handed on as one `Bytes` with no copy (rather than the buffer
    /// growing, and copying, as it arrives). Only when the server's
    /// partial-frame budget (`max_partial`) has room for all of it: the room
    /// is counted there (see [`Poller::over_partial_budget`]), so a peer
    /// that announces large frames cannot make the server reserve beyond
    /// the budget; and only once the peer has sent a share of the frame
    /// ([`RESERVE_AHEAD`]), so that filling the budget costs it more than a
    /// few length prefixes. Until then the buffer grows as bytes arrive.
    fn reserve_frame(&mut self, shared: &Shared, max_partial: usize) {
        let Some(total) = self.transport.frame_len_hint(&self.input) else {
            return;
        };
        if total <= self.input.capacity() || total <= BLOCK_SIZE {
            return;
        }
        if total - self.input.len() > RESERVE_AHEAD.saturating_mul(self.input.len()) {
            return;
        }
        let others = shared
            .partial_bytes
            .load(Ordering::Relaxed)
            .saturating_sub(self.held);
        if others.saturating_add(total) > max_partial {
            return;
        }
        self.input.reserve(total - self.input.len());
        self.reserved = total;
    }

    /// Open, with no call in flight, nothing buffered either way, and no
    /// traffic since `since`.
    fn idle(&self, since: Instant) -> bool {
        self.last_active <= since
            && !self.closing
            && self.linger.is_none()
            && self.calls.is_empty()
            && self.output_empty()
            && self.input.is_empty()
            && !self.paused
            && !self.starved
    }

    /// Nothing is left to do but close.
    fn finished(&self) -> bool {
        self.closing && !self.finish_input && self.calls.is_empty() && self.output_empty()
    }

    /// Calls whose replies a close now would lose: started and unanswered,
    /// or answered but not written whole.
    fn unanswered(&self) -> u64 {
        (self.calls.len() + self.reply_ends.len()) as u64
    }
}

/// When a call is given up: (deadline, slot, generation, seq).
type Deadline = Reverse<(Instant, usize, u64, u64)>;

pub(super) struct Poller<E, N: NewTransport, X> {
    id: usize,
    poll: Poll,
    inbox: Arc<Inbox>,
    engine: Arc<E>,
    new_transport: Arc<N>,
    protocols: Arc<X>,
    options: Arc<ServerOptions>,
    shared: Arc<Shared>,
    /// Calls of one connection in flight at once (hand-off engines).
    max_in_flight: usize,
    conns: Vec<Option<Conn<N::Transport>>>,
    free: Vec<usize>,
    generation: u64,
    pool: BlockPool,
    /// Connections with output to flush at the end of the turn.
    dirty: Vec<usize>,
    /// Connections whose read budget ran out with bytes possibly left.
    ready: Vec<usize>,
    /// Connections held back by the server's in-flight cap.
    starved: Vec<usize>,
    /// Deadlines of async calls, the earliest first. Entries of calls that
    /// finished stay until they come up or the heap is compacted.
    deadlines: BinaryHeap<Deadline>,
    /// Calls in every connection's queue (bounds the stale deadlines).
    queued: usize,
    /// When each connection's timeouts are next looked at.
    checks: Checks,
    /// See [`check_horizon`].
    horizon: Option<Duration>,
    /// The grid of `checks`, also how often connections held back by the
    /// in-flight cap are looked at again.
    granule: Duration,
    next_unstarve: Instant,
    /// The time at the start of this poll turn: one clock read per turn, not
    /// one per read or write.
    now: Instant,
    /// A graceful shutdown has begun.
    draining: bool,
    /// In a shutdown's exit wait: when idle connections are looked for
    /// next.
    next_idle_check: Option<Instant>,
}

/// In a shutdown's exit wait, connections with nothing to do for this long
/// are closed (one in use now is left to its client, which the drain hint
/// tells to move on: closing it could cross a request on its way).
const EXIT_IDLE: Duration = Duration::from_millis(100);

impl<E, N: NewTransport, X> std::fmt::Debug for Poller<E, N, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<E: Engine, N: NewTransport, X: Protocols> Poller<E, N, X> {
    pub fn new(
        id: usize,
        engine: Arc<E>,
        new_transport: Arc<N>,
        protocols: Arc<X>,
        options: Arc<ServerOptions>,
        shared: Arc<Shared>,
    ) -> io::Result<(Poller<E, N, X>, Arc<Inbox>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let inbox = Arc::new(Inbox {
            waker,
            connections: Mutex::new(Vec::new()),
            done: Mutex::new(Vec::new()),
        });
        let granule = check_granule(&options);
        let horizon = check_horizon(&options);
        let poller = Poller {
            id,
            poll,
            inbox: Arc::clone(&inbox),
            engine,
            new_transport,
            protocols,
            max_in_flight: if E::HANDS_OFF {
                options.per_connection.max_in_flight()
            } else {
                usize::MAX
            },
            options,
            shared,
            conns: Vec::new(),
            free: Vec::new(),
            generation: 0,
            pool: BlockPool::new(BLOCK_SIZE, 256),
            dirty: Vec::new(),
            ready: Vec::new(),
            starved: Vec::new(),
            deadlines: BinaryHeap::new(),
            queued: 0,
            checks: Checks::new(granule),
            horizon,
            granule,
            next_unstarve: Instant::now(),
            now: Instant::now(),
            draining: false,
            next_idle_check: None,
        };
        Ok((poller, inbox))
    }

    fn counters(&self) -> &Counters {
        &self.shared.counters[self.id]
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!(error = %e, "poll failed; poller stops");
                    break;
                }
            }
            self.now = Instant::now();
            for event in events.iter() {
                if event.token() == WAKER {
                    self.take_inbox();
                    continue;
                }
                let slot = event.token().0;
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.on_readable(slot, event.is_read_closed());
                }
                if event.is_writable() {
                    self.mark_dirty(slot);
                }
            }
            for slot in std::mem::take(&mut self.ready) {
                self.on_readable(slot, false);
            }
            self.expire_calls();
            if !self.draining
                && self.shared.shed_idle.load(Ordering::SeqCst)
                && !self.shared.stopping.load(Ordering::SeqCst)
                && self.next_idle_check.is_none_or(|at| self.now >= at)
            {
                self.next_idle_check = Some(self.now + TICK);
                self.close_idle();
            }
            self.flush_dirty();
            self.check_timeouts(self.now);
            if !self.starved.is_empty() && self.now >= self.next_unstarve {
                self.unstarve();
                self.next_unstarve = self.now + self.granule;
            }
            if self.shared.stopping.load(Ordering::SeqCst) {
                self.draining = true;
                if self.drain_step() {
                    break;
                }
            }
        }
        // Dropping the connections closes them (and drops their async
        // calls' futures).
        let open = self.conns.iter().filter(|c| c.is_some()).count();
        self.shared.open.fetch_sub(open, Ordering::Relaxed);
        Counters::add(&self.counters().closed, open as u64);
    }

    /// How long the next poll may sleep: not at all with connections ready
    /// to read, else until the earliest async deadline or connection check.
    /// A poller with no connection, no deadline and no shutdown to watch
    /// sleeps until it is woken (a connection, a reply, a shutdown): an
    /// idle server costs no wake-ups, and idle connections one per check
    /// (each about once per [`check_horizon`], sharing wake-ups on the
    /// grid).
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        let now = Instant::now();
        let sweep = if self.draining || self.next_idle_check.is_some() {
            Some(now + TICK)
        } else {
            let unstarve = (!self.starved.is_empty()).then_some(self.next_unstarve);
            match (self.checks.next(), unstarve) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let deadline = self
            .deadlines
            .peek()
            .map(|Reverse((deadline, ..))| *deadline);
        let wake = match (sweep, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        wake.map(|at| at.saturating_duration_since(now))
    }

    fn take_inbox(&mut self) {
        let connections = std::mem::take(
            &mut *self
                .inbox
                .connections
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for (stream, peer) in connections {
            self.add(stream, peer);
        }
        let done = std::mem::take(&mut *self.inbox.done.lock().unwrap_or_else(|e| e.into_inner()));
        for done in done {
            self.on_done(done);
        }
        self.unstarve();
    }

    /// Lets the connections held back by the server's in-flight cap go on,
    /// once there is room.
    fn unstarve(&mut self) {
        if self.starved.is_empty() {
            return;
        }
        if !self.shared.has_room() {
            // The wake-up that brought us here may have taken the mark:
            // set it again before looking once more (see `Permit::drop`).
            self.shared.starved[self.id].store(true, Ordering::SeqCst);
            if !self.shared.has_room() {
                return;
            }
        }
        for slot in std::mem::take(&mut self.starved) {
            if let Some(Some(conn)) = self.conns.get_mut(slot) {
                if conn.starved {
                    conn.starved = false;
                    self.ready.push(slot);
                }
            }
        }
    }

    fn add(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            Token(slot),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            tracing::warn!(error = %e, "cannot register a connection");
            self.free.push(slot);
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.generation += 1;
        Counters::add(&self.counters().accepted, 1);
        self.compact_checks();
        let check_at = self.horizon.map(|horizon| {
            self.checks
                .schedule(self.now + horizon, slot, self.generation)
        });
        tracing::debug!(%peer, poller = self.id, "connection open");
        self.conns[slot] = Some(Conn {
            stream,
            peer,
            generation: self.generation,
            transport: self
                .new_transport
                .new_transport(self.options.transport_limits),
            input: BytesMut::new(),
            held: 0,
            reserved: 0,
            output: BytesMut::new(),
            spliced: Splices::new(),
            calls: VecDeque::new(),
            first_seq: 0,
            closing: false,
            finish_input: false,
            last_active: self.now,
            partial_since: None,
            blocked_since: None,
            dirty: false,
            paused: false,
            starved: false,
            eof: false,
            drained: false,
            linger: None,
            sent: 0,
            reply_ends: VecDeque::new(),
            check_at,
        });
    }

    fn close(&mut self, slot: usize, why: &str) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) {
            tracing::debug!(peer = %conn.peer, why, "connection closed");
            let mut conn = conn;
            // Dropping the queue drops the futures of its async calls.
            self.queued -= conn.calls.len();
            conn.calls.clear();
            let _ = self.poll.registry().deregister(&mut conn.stream);
            if conn.held > 0 {
                self.shared
                    .partial_bytes
                    .fetch_sub(conn.held, Ordering::Relaxed);
            }
            self.pool.give(&mut conn.input);
            self.pool.give(&mut conn.output);
            self.free.push(slot);
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&self.counters().closed, 1);
        }
    }

    /// Ends a connection whose replies should reach the peer, once its
    /// calls are done and its output written: a peer that closed already is
    /// closed at once; otherwise the socket is half-closed (the peer reads
    /// its replies, then end of stream) and what the peer still sends is
    /// read and discarded, never executed, until it closes, nothing has come
    /// for [`ServerOptions::linger`] (or [`LINGER_TOTAL`] times that in
    /// all), or a shutdown's deadline passes. Closing with unread input
    /// would send a reset, which can destroy replies the peer has not read.
    fn finish(&mut self, slot: usize, why: &'static str) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.eof || !conn.calls.is_empty() || !conn.output_empty() {
            // Nothing more can arrive, or (a timeout) there is no waiting
            // for what is still pending.
            self.close(slot, why);
            return;
        }
        if conn.linger.is_none() {
            if let Err(e) = conn.stream.shutdown(Shutdown::Write) {
                tracing::debug!(peer = %conn.peer, error = %e, "cannot half-close");
                self.close(slot, why);
                return;
            }
            tracing::trace!(peer = %conn.peer, why, "half-closed; draining the input");
            conn.linger = Some(Linger {
                since: self.now,
                last: self.now,
                why,
            });
            // Its linger is likely shorter than the check it had.
            let at = self.now + self.options.linger;
            if conn.check_at.is_none_or(|check| at < check) {
                conn.check_at = Some(self.checks.schedule(at, slot, conn.generation));
            }
            conn.closing = true;
            conn.finish_input = false;
            conn.partial_since = None;
            conn.blocked_since = None;
            conn.paused = false;
            // What was read and not served is given up with the rest.
            conn.input.clear();
            self.pool.give(&mut conn.input);
        }
        self.discard(slot);
    }

    /// Reads and drops what a half-closed connection's peer sends (within
    /// the read budget); closes it at the peer's end of stream, or at once
    /// when the linger time is zero and nothing more is waiting.
    fn discard(&mut self, slot: usize) {
        let budget = self.options.read_budget;
        let zero = self.options.linger.is_zero();
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let mut scratch = [0u8; 8192];
        let mut taken = 0;
        let mut end = false;
        let mut more = false;
        loop {
            if taken >= budget {
                more = true;
                break;
            }
            match (&conn.stream).read(&mut scratch) {
                Ok(0) => {
                    end = true;
                    break;
                }
                Ok(n) => taken += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    end = true;
                    break;
                }
            }
        }
        let why = conn.linger.as_ref().map_or("closing", |l| l.why);
        if taken > 0 {
            if let Some(linger) = &mut conn.linger {
                linger.last = self.now;
            }
            Counters::add(&self.shared.counters[self.id].bytes_read, taken as u64);
        }
        if end || (zero && !more) {
            self.close(slot, why);
        } else if more {
            self.ready.push(slot);
        }
    }

    fn error(&self) {
        Counters::add(&self.counters().errors, 1);
    }

    fn mark_dirty(&mut self, slot: usize) {
        if let Some(Some(conn)) = self.conns.get_mut(slot) {
            if !conn.dirty {
                conn.dirty = true;
                self.dirty.push(slot);
            }
        }
    }

    /// Reads what the connection has (within its budget) and serves every
    /// whole frame. `read_closed`: the event said the peer closed its side,
    /// which drops async calls even of a connection not read now.
    fn on_readable(&mut self, slot: usize, read_closed: bool) {
        let budget = self.options.read_budget;
        let max_frame = self.options.transport_limits.max_frame_len;
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.linger.is_some() {
            self.discard(slot);
            return;
        }
        if conn.closing {
            if read_closed && E::CANCELS_ON_CLOSE {
                self.peer_closed(slot);
            } else if conn.finish_input {
                self.serve_frames(slot);
            }
            return;
        }
        // A connection at its in-flight cap, or whose replies pile up, or
        // held back by the server's cap, is not read: its requests wait in
        // the kernel (back-pressure).
        let throttled = conn.calls.len() >= self.max_in_flight
            || conn.pending_output() >= self.options.max_pending_output
            || conn.starved;
        if throttled {
            // Read again once replies have gone out or calls finished (see
            // `flush`, `resume`, `unstarve`).
            conn.paused = true;
            if read_closed && E::CANCELS_ON_CLOSE {
                // Calls that can be dropped are, at once; sync ones finish,
                // and the close is read once the connection is read again.
                self.peer_closed(slot);
            }
            return;
        }
        let mut taken = 0;
        let mut peer_closed = false;
        let mut failed = false;
        let mut more = false;
        loop {
            // The rest of a frame made room for, when it is short: it is
            // read in this turn even past the budget (by at most a block),
            // rather than costing the frame another turn and read.
            let tail = conn.reserved.saturating_sub(conn.input.len());
            let finishing = tail > 0 && tail <= BLOCK_SIZE;
            if taken >= budget && !finishing {
                more = true;
                break;
            }
            if conn.reserved == 0 && conn.input.len() >= 4 {
                conn.reserve_frame(&self.shared, self.options.max_partial_bytes);
            }
            // A frame made room for is read into its room to the end: even
            // its last few bytes must not grow (copy) its buffer.
            let min = if conn.reserved > conn.input.len() {
                1
            } else {
                1024
            };
            self.pool.ensure(&mut conn.input, min);
            let mut allowed = budget.saturating_sub(taken);
            if finishing {
                allowed = allowed.max(tail);
            }
            let want = (conn.input.capacity() - conn.input.len()).min(allowed);
            match read_into(&conn.stream, &mut conn.input, want) {
                Ok(ReadOutcome::Data(n)) => {
                    taken += n;
                    if n < want {
                        // A short read: the kernel had no more (a later
                        // arrival raises a new edge).
                        break;
                    }
                    if conn.reserved != 0 && conn.input.len() >= conn.reserved {
                        // The frame made room for is whole: serve it
                        // before growing its buffer for what follows.
                        more = true;
                        break;
                    }
                    if conn.input.len() > max_frame.saturating_add(64 * 1024) {
                        // Frames are checked as they are decoded below.
                        break;
                    }
                }
                Ok(ReadOutcome::Closed) => {
                    peer_closed = true;
                    conn.eof = true;
                    break;
                }
                Ok(ReadOutcome::WouldBlock) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "read failed");
                    failed = true;
                    break;
                }
            }
        }
        if taken > 0 {
            conn.last_active = self.now;
            Counters::add(&self.shared.counters[self.id].bytes_read, taken as u64);
        }
        if failed {
            self.error();
            self.close(slot, "read error");
            return;
        }
        if more {
            self.ready.push(slot);
        }
        self.serve_frames(slot);
        if self.over_partial_budget(slot) {
            tracing::debug!("partial-frame budget exceeded; connection shed");
            self.error();
            self.close(slot, "partial-frame budget exceeded");
            return;
        }
        if peer_closed {
            self.peer_closed(slot);
        }
    }

    /// Counts what connection `slot` holds of an incomplete frame in the
    /// server's partial-frame budget; true when the server is over budget
    /// and this connection is one of those holding it (it is then shed).
    fn over_partial_budget(&mut self, slot: usize) -> bool {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return false;
        };
        // A frame made room for holds all its room (`reserve_frame`).
        let size = if conn.input.is_empty() {
            0
        } else {
            conn.input.len().max(conn.reserved)
        };
        let held = if size >= PARTIAL_FLOOR { size } else { 0 };
        if held == conn.held {
            return held > 0
                && self.shared.partial_bytes.load(Ordering::Relaxed)
                    > self.options.max_partial_bytes;
        }
        let total = if held > conn.held {
            let grown = held - conn.held;
            self.shared
                .partial_bytes
                .fetch_add(grown, Ordering::Relaxed)
                + grown
        } else {
            let shrunk = conn.held - held;
            self.shared
                .partial_bytes
                .fetch_sub(shrunk, Ordering::Relaxed)
                - shrunk
        };
        conn.held = held;
        held > 0 && total > self.options.max_partial_bytes
    }

    /// The peer closed its side. Sync calls already read still run and are
    /// answered, and whole requests left in the input are served (a client
    /// may half-close after its last request). Async two-way calls are
    /// dropped instead: a peer that closed is nearly always gone, and its
    /// calls should not run on for nothing (oneway calls do run on).
    fn peer_closed(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let was_closing = conn.closing;
        conn.closing = true;
        if E::CANCELS_ON_CLOSE {
            conn.finish_input = false;
            for call in &mut conn.calls {
                call.cancel();
            }
        } else if !was_closing {
            conn.finish_input = true;
        }
        self.serve_frames(slot);
        self.emit_ready(slot);
        match self.conns.get(slot) {
            Some(Some(conn)) if conn.finished() => self.finish(slot, "peer closed"),
            Some(Some(_)) => self.mark_dirty(slot),
            _ => {}
        }
    }

    /// Serves the whole frames in a connection's input.
    fn serve_frames(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let mut replied = 0u64;
        let mut requests = 0u64;
        let mut errors = 0u64;
        let mut close = None;
        // The input ends in an incomplete frame (not: whole frames held
        // back by a cap, which is no stall of the peer's).
        let mut incomplete = false;
        loop {
            if conn.closing && !conn.finish_input {
                break;
            }
            if conn.calls.len() >= self.max_in_flight {
                // Resumed by `resume` when a call finishes. With nothing
                // left in the input there is nothing to resume: the socket
                // was read dry, and new bytes raise a new event.
                if !conn.input.is_empty() {
                    conn.paused = true;
                }
                break;
            }
            if E::HANDS_OFF && !self.shared.has_room() {
                // Mark this poller starved, then look again: a call that
                // finished in between either sees the mark or left room.
                self.shared.starved[self.id].store(true, Ordering::SeqCst);
                if !self.shared.has_room() {
                    if !conn.starved {
                        conn.starved = true;
                        self.starved.push(slot);
                    }
                    break;
                }
            }
            let frame = match conn.transport.decode(&mut conn.input) {
                Ok(Some(frame)) => {
                    // What follows in the input is another frame.
                    conn.reserved = 0;
                    frame
                }
                Ok(None) => {
                    conn.finish_input = false;
                    incomplete = true;
                    break;
                }
                Err(e) => {
                    tracing::debug!(peer = %conn.peer, error = %e, "bad frame");
                    errors += 1;
                    close = Some("bad frame");
                    conn.finish_input = false;
                    break;
                }
            };
            requests += 1;
            if !E::HANDS_OFF && conn.output.capacity() == 0 {
                conn.output = self.pool.take();
            }
            let started = self.engine.start(Start {
                protocols: &*self.protocols,
                transport: &mut conn.transport,
                out: &mut conn.output,
                splices: &mut conn.spliced,
                frame,
                peer: conn.peer,
                limits: self.options.limits,
                now: self.now,
                reply_to: ReplyTo {
                    inbox: &self.inbox,
                    slot,
                    generation: conn.generation,
                    seq: conn.first_seq + conn.calls.len() as u64,
                },
                shared: &self.shared,
            });
            match started {
                Started::Served(outcome) => {
                    if outcome.replied {
                        conn.note_reply();
                    }
                    replied += u64::from(outcome.replied);
                    errors += u64::from(outcome.error);
                    if outcome.close {
                        conn.closing = true;
                        conn.finish_input = false;
                    }
                }
                Started::Pending(call) => {
                    if let Some(deadline) = call.deadline() {
                        let seq = conn.first_seq + conn.calls.len() as u64;
                        self.deadlines
                            .push(Reverse((deadline, slot, conn.generation, seq)));
                    }
                    let done = call.is_done();
                    if call.closes() {
                        // Its answer goes after the earlier ones, then the
                        // connection closes: read no further.
                        conn.closing = true;
                        conn.finish_input = false;
                    }
                    conn.calls.push_back(call);
                    self.queued += 1;
                    if done {
                        // Answered at once (an unknown method, ...): out
                        // now unless earlier calls are still running.
                        let before = conn.calls.len();
                        let (r, e) = conn
                            .emit_ready(&mut self.pool, self.shared.hint.load(Ordering::Relaxed));
                        self.queued -= before - conn.calls.len();
                        replied += r;
                        errors += e;
                    }
                }
            }
        }
        if conn.input.is_empty() {
            conn.partial_since = None;
            self.pool.give(&mut conn.input);
        } else if !incomplete {
            conn.partial_since = None;
        } else if conn.partial_since.is_none() {
            conn.partial_since = Some(self.now);
        }
        let has_output = !conn.output_empty() || conn.closing;
        let counters = &self.shared.counters[self.id];
        Counters::add(&counters.requests, requests);
        Counters::add(&counters.replies, replied);
        if errors > 0 {
            Counters::add(&counters.errors, errors);
        }
        if let Some(why) = close {
            conn.closing = true;
            if conn.output_empty() && conn.calls.is_empty() {
                self.finish(slot, why);
                return;
            }
        }
        if has_output {
            self.mark_dirty(slot);
        }
        self.compact_deadlines();
    }

    /// Frames the connection's ready replies, in order, and counts them.
    fn emit_ready(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let before = conn.calls.len();
        let (replied, errors) =
            conn.emit_ready(&mut self.pool, self.shared.hint.load(Ordering::Relaxed));
        self.queued -= before - conn.calls.len();
        let counters = &self.shared.counters[self.id];
        Counters::add(&counters.replies, replied);
        if errors > 0 {
            Counters::add(&counters.errors, errors);
        }
    }

    /// After calls finished: frames the replies that are ready, and lets
    /// the connection go on if it was held back by its in-flight cap.
    fn resume(&mut self, slot: usize) {
        self.emit_ready(slot);
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.calls.len() < self.max_in_flight {
            if conn.paused && conn.pending_output() < self.options.max_pending_output {
                conn.paused = false;
                self.ready.push(slot);
            } else if conn.closing && conn.finish_input {
                self.ready.push(slot);
            }
        }
        self.mark_dirty(slot);
    }

    /// A worker or a task finished a call: queue its reply in request order.
    fn on_done(&mut self, done: Done) {
        let slot = done.slot;
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.generation != done.generation {
            return;
        }
        let Some(call) = done
            .seq
            .checked_sub(conn.first_seq)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| conn.calls.get_mut(i))
        else {
            // Settled already (timed out, dropped) and sent.
            return;
        };
        call.finish(done.finished);
        self.resume(slot);
    }

    /// Answers the async calls whose deadline has passed.
    fn expire_calls(&mut self) {
        if self.deadlines.is_empty() {
            // Servers without async calls read no clock here.
            return;
        }
        let now = Instant::now();
        while let Some(&Reverse((deadline, slot, generation, seq))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let Some(Some(conn)) = self.conns.get_mut(slot) else {
                continue;
            };
            if conn.generation != generation {
                continue;
            }
            let expired = seq
                .checked_sub(conn.first_seq)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| conn.calls.get_mut(i))
                .is_some_and(Pending::expire);
            if expired {
                // Counted as an error when its answer is framed.
                self.resume(slot);
            }
        }
    }

    /// Drops the deadlines of calls that are gone once they outnumber the
    /// calls still queued, so the heap stays the size of the work.
    fn compact_deadlines(&mut self) {
        if self.deadlines.len() <= 2 * self.queued + 64 {
            return;
        }
        let conns = &self.conns;
        self.deadlines
            .retain(|&Reverse((_, slot, generation, seq))| {
                let Some(Some(conn)) = conns.get(slot) else {
                    return false;
                };
                conn.generation == generation
                    && seq
                        .checked_sub(conn.first_seq)
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| conn.calls.get(i))
                        .is_some_and(|call| !call.is_done())
            });
    }

    /// Writes every dirty connection's output: one write per connection per
    /// turn, unless the socket takes less.
    fn flush_dirty(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for &slot in &dirty {
            self.flush(slot);
        }
        let mut dirty = dirty;
        dirty.clear();
        if self.dirty.is_empty() {
            self.dirty = dirty;
        }
    }

    fn flush(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        conn.dirty = false;
        if conn.linger.is_some() {
            // Half-closed: nothing more to write.
            return;
        }
        let mut written = 0;
        let mut failed = false;
        while !conn.output_empty() {
            let result = if conn.spliced.is_empty() {
                (&conn.stream).write(&conn.output)
            } else {
                // The buffer's bytes and the spliced values between them,
                // in one `writev`.
                let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
                let n = conn.spliced.io_slices(&conn.output, &mut slices);
                (&conn.stream).write_vectored(&slices[..n])
            };
            match result {
                Ok(0) => {
                    failed = true;
                    break;
                }
                Ok(n) => {
                    written += n;
                    conn.spliced.advance(&mut conn.output, n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!(error = %e, "write failed");
                    failed = true;
                    break;
                }
            }
        }
        if written > 0 {
            conn.last_active = self.now;
            conn.sent += written as u64;
            while conn.reply_ends.front().is_some_and(|&end| end <= conn.sent) {
                conn.reply_ends.pop_front();
            }
            Counters::add(&self.shared.counters[self.id].bytes_written, written as u64);
        }
        if failed {
            self.error();
            self.close(slot, "write error");
            return;
        }
        if conn.output_empty() {
            conn.blocked_since = None;
            self.pool.give(&mut conn.output);
            if conn.finished() {
                self.finish(slot, if self.draining { "shutdown" } else { "closing" });
                return;
            }
            if conn.closing && conn.finish_input && conn.calls.len() < self.max_in_flight {
                self.ready.push(slot);
            }
        } else if conn.blocked_since.is_none() {
            conn.blocked_since = Some(self.now);
        }
        if conn.paused && conn.pending_output() < self.options.max_pending_output {
            conn.paused = false;
            self.ready.push(slot);
        }
    }

    /// Drops the checks of connections since closed once they outnumber
    /// the open connections (plus slack), so that a churn of short
    /// connections cannot grow the queue beyond a few times the open ones.
    fn compact_checks(&mut self) {
        let open = self.conns.len() - self.free.len();
        if self.checks.len() <= 2 * open + 1024 {
            return;
        }
        let conns = &self.conns;
        self.checks.retain(|at, slot, generation| {
            matches!(conns.get(slot), Some(Some(c)) if c.generation == generation && c.check_at == Some(at))
        });
    }

    /// Looks at the connections whose check has come (see [`Checks`]):
    /// closes those past a timeout, and lingering ones whose peer has had
    /// its time; schedules the others again.
    fn check_timeouts(&mut self, now: Instant) {
        let options = Arc::clone(&self.options);
        let expired = |since: Option<Instant>, limit: Option<Duration>| match (since, limit) {
            (Some(since), Some(limit)) => now.duration_since(since) >= limit,
            _ => false,
        };
        let linger = options.linger;
        let total = linger.saturating_mul(LINGER_TOTAL);
        let mut to_close = Vec::new();
        while let Some((at, slot, generation)) = self.checks.pop_due(now) {
            let Some(Some(conn)) = self.conns.get_mut(slot) else {
                continue;
            };
            if conn.generation != generation || conn.check_at != Some(at) {
                // A connection since closed, or a check superseded.
                continue;
            }
            let next = if let Some(l) = &conn.linger {
                if now.duration_since(l.last) >= linger || now.duration_since(l.since) >= total {
                    to_close.push((slot, l.why));
                    continue;
                }
                (l.last + linger).min(l.since + total)
            } else {
                let why = if expired(conn.partial_since, options.read_timeout) {
                    Some("read timeout")
                } else if expired(conn.blocked_since, options.write_timeout) {
                    Some("write timeout")
                } else if conn.calls.is_empty()
                    && conn.output_empty()
                    && expired(Some(conn.last_active), options.idle_timeout)
                {
                    Some("idle timeout")
                } else {
                    None
                };
                if let Some(why) = why {
                    to_close.push((slot, why));
                    continue;
                }
                let after = |since: Option<Instant>, limit: Option<Duration>| {
                    since.zip(limit).map(|(since, limit)| since + limit)
                };
                [
                    after(conn.partial_since, options.read_timeout),
                    after(conn.blocked_since, options.write_timeout),
                    after(Some(conn.last_active), options.idle_timeout),
                    self.horizon.map(|horizon| now + horizon),
                ]
                .into_iter()
                .flatten()
                .filter(|at| *at > now)
                .min()
                .unwrap_or(now + self.granule)
            };
            // Never again in this pass.
            let next = next.max(now + self.granule);
            conn.check_at = Some(self.checks.schedule(next, slot, generation));
        }
        for (slot, why) in to_close {
            let lingering = matches!(self.conns.get(slot), Some(Some(c)) if c.linger.is_some());
            if lingering {
                self.close(slot, why);
                continue;
            }
            match why {
                // Nothing is pending: end it as any other close, so a
                // request that crosses the close gets end of stream, not a
                // reset.
                "idle timeout" => self.finish(slot, why),
                "read timeout" => {
                    self.error();
                    self.finish(slot, why);
                }
                // The peer does not take its replies: give up on them.
                _ => {
                    self.error();
                    self.close(slot, why);
                }
            }
        }
    }

    /// In the exit wait of a graceful shutdown (every [`TICK`]): closes
    /// the connections that have been idle for [`EXIT_IDLE`] (after serving
    /// what they have received by now) the way `finish` does, so their
    /// clients move on before the drain. Busy ones are told by the drain
    /// hint on their replies.
    fn close_idle(&mut self) {
        let Some(since) = self.now.checked_sub(EXIT_IDLE) else {
            return;
        };
        for slot in 0..self.conns.len() {
            if !matches!(self.conns.get(slot), Some(Some(conn)) if conn.idle(since)) {
                continue;
            }
            // What has arrived by now is served, not discarded.
            self.on_readable(slot, false);
            match self.conns.get_mut(slot) {
                Some(Some(conn)) if conn.idle(since) => {
                    conn.closing = true;
                    conn.finish_input = false;
                }
                _ => continue,
            }
            self.finish(slot, "exit wait");
        }
    }

    /// One turn of a graceful shutdown (see `ServerHandle::shutdown`).
    /// Connections not yet draining (all of them, the first time, and any
    /// the acceptor handed over since) are read one last time, stop being
    /// read, and serve the whole requests they hold; connections that are
    /// done are half-closed to linger until their peers close (`finish`).
    /// True when no connection is left, or the deadline has passed: the
    /// calls that then lose their replies are counted.
    fn drain_step(&mut self) -> bool {
        let mut begun = false;
        for slot in 0..self.conns.len() {
            match self.conns.get(slot) {
                Some(Some(conn)) if !conn.drained => {}
                _ => continue,
            }
            // The last read: what has arrived by now is served.
            self.on_readable(slot, false);
            let Some(Some(conn)) = self.conns.get_mut(slot) else {
                continue;
            };
            conn.drained = true;
            if !conn.closing {
                conn.closing = true;
                conn.finish_input = true;
            }
            self.serve_frames(slot);
            self.mark_dirty(slot);
            begun = true;
        }
        if begun {
            self.flush_dirty();
        }
        for slot in 0..self.conns.len() {
            if let Some(Some(conn)) = self.conns.get(slot) {
                if conn.linger.is_none() && conn.finished() {
                    self.finish(slot, "shutdown");
                }
            }
        }
        let late = self
            .shared
            .deadline()
            .is_some_and(|deadline| Instant::now() >= deadline);
        if late {
            let dropped: u64 = self.conns.iter().flatten().map(Conn::unanswered).sum();
            if dropped > 0 {
                tracing::warn!(
                    dropped,
                    poller = self.id,
                    "shutdown deadline passed; calls dropped without their replies"
                );
                Counters::add(&self.counters().dropped, dropped);
            }
            return true;
        }
        !self.conns.iter().any(Option::is_some)
    }
}
