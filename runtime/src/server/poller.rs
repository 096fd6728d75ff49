//! A poller: one thread, one `mio::Poll`, its connections, buffers and
//! timers.
//!
//! mio is edge-triggered: a readable connection is read until the kernel has
//! nothing more (a short read), or until its per-turn budget is spent, in
//! which case it waits on the ready list for the next turn, so one busy
//! connection cannot starve the others. Replies are appended to each
//! connection's output during the turn and flushed once at its end.

use super::call::{self, Outcome};
use super::workers::{Done, Job, WorkerPool};
use super::{Counters, NewTransport, ServerOptions, Shared};
use crate::buffer::{read_into, BlockPool, ReadOutcome, BLOCK_SIZE};
use crate::protocol::Protocols;
use crate::service::Processor;
use crate::transport::Transport;
use bytes::{Buf, BytesMut};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAKER: Token = Token(usize::MAX);
/// How often timeouts are checked.
const TICK: Duration = Duration::from_millis(100);

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

    /// Hands back a reply produced by a worker.
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
    /// Requests handed to workers and not yet back.
    in_flight: usize,
    /// Sequence numbers of worker requests: the next to hand out, the next
    /// reply to send, and replies that came back early.
    next_seq: u64,
    next_send: u64,
    early: BTreeMap<u64, Done>,
    /// The peer closed its side, or we decided to close after the flush.
    closing: bool,
    /// The last time anything happened.
    last_active: Instant,
    /// Since when a frame has been incomplete.
    partial_since: Option<Instant>,
    /// Since when the output has been waiting for the socket.
    blocked_since: Option<Instant>,
    /// Already on the dirty list this turn.
    dirty: bool,
    /// Reading stopped for back-pressure; resume when output drains.
    paused: bool,
}

pub(super) struct Poller<P, N: NewTransport, X> {
    id: usize,
    poll: Poll,
    inbox: Arc<Inbox>,
    processor: Arc<P>,
    new_transport: Arc<N>,
    protocols: Arc<X>,
    options: Arc<ServerOptions>,
    shared: Arc<Shared>,
    workers: Option<WorkerPool>,
    conns: Vec<Option<Conn<N::Transport>>>,
    free: Vec<usize>,
    generation: u64,
    pool: BlockPool,
    /// Connections with output to flush at the end of the turn.
    dirty: Vec<usize>,
    /// Connections whose read budget ran out with bytes possibly left.
    ready: Vec<usize>,
    next_sweep: Instant,
    /// The time at the start of this poll turn: one clock read per turn, not
    /// one per read or write.
    now: Instant,
}

impl<P, N: NewTransport, X> std::fmt::Debug for Poller<P, N, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<P: Processor, N: NewTransport, X: Protocols> Poller<P, N, X> {
    pub fn new(
        id: usize,
        processor: Arc<P>,
        new_transport: Arc<N>,
        protocols: Arc<X>,
        options: Arc<ServerOptions>,
        shared: Arc<Shared>,
        workers: Option<WorkerPool>,
    ) -> io::Result<(Poller<P, N, X>, Arc<Inbox>)> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let inbox = Arc::new(Inbox {
            waker,
            connections: Mutex::new(Vec::new()),
            done: Mutex::new(Vec::new()),
        });
        let poller = Poller {
            id,
            poll,
            inbox: Arc::clone(&inbox),
            processor,
            new_transport,
            protocols,
            options,
            shared,
            workers,
            conns: Vec::new(),
            free: Vec::new(),
            generation: 0,
            pool: BlockPool::new(BLOCK_SIZE, 256),
            dirty: Vec::new(),
            ready: Vec::new(),
            next_sweep: Instant::now() + TICK,
            now: Instant::now(),
        };
        Ok((poller, inbox))
    }

    fn counters(&self) -> &Counters {
        &self.shared.counters[self.id]
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut draining = false;
        loop {
            let timeout = if self.ready.is_empty() {
                TICK
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
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
                    self.on_readable(slot);
                }
                if event.is_writable() {
                    self.mark_dirty(slot);
                }
            }
            for slot in std::mem::take(&mut self.ready) {
                self.on_readable(slot);
            }
            self.flush_dirty();
            if self.now >= self.next_sweep {
                self.sweep(self.now);
                self.next_sweep = self.now + TICK;
            }
            if self.shared.stopping.load(Ordering::SeqCst) {
                if !draining {
                    draining = true;
                    self.begin_drain();
                }
                if self.drain_step() {
                    break;
                }
            }
        }
        // Dropping the connections closes them.
        let open = self.conns.iter().filter(|c| c.is_some()).count();
        self.shared.open.fetch_sub(open, Ordering::Relaxed);
        Counters::add(&self.counters().closed, open as u64);
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
        tracing::debug!(%peer, poller = self.id, "connection open");
        self.conns[slot] = Some(Conn {
            stream,
            peer,
            generation: self.generation,
            transport: self
                .new_transport
                .new_transport(self.options.transport_limits),
            input: BytesMut::new(),
            output: BytesMut::new(),
            in_flight: 0,
            next_seq: 0,
            next_send: 0,
            early: BTreeMap::new(),
            closing: false,
            last_active: self.now,
            partial_since: None,
            blocked_since: None,
            dirty: false,
            paused: false,
        });
    }

    fn close(&mut self, slot: usize, why: &str) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) {
            tracing::debug!(peer = %conn.peer, why, "connection closed");
            let mut conn = conn;
            let _ = self.poll.registry().deregister(&mut conn.stream);
            self.pool.give(&mut conn.input);
            self.pool.give(&mut conn.output);
            self.free.push(slot);
            self.shared.open.fetch_sub(1, Ordering::Relaxed);
            Counters::add(&self.counters().closed, 1);
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
    /// whole frame.
    fn on_readable(&mut self, slot: usize) {
        let budget = self.options.read_budget;
        let max_frame = self.options.transport_limits.max_frame_len;
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.closing {
            return;
        }
        let mut taken = 0;
        let mut peer_closed = false;
        let mut failed = false;
        let mut more = false;
        // In worker mode a connection with too much in flight is not read:
        // its requests wait in the kernel (back-pressure).
        let throttled = (self.workers.is_some() && conn.in_flight >= self.options.max_in_flight)
            || conn.output.len() >= self.options.max_pending_output;
        if throttled {
            // Read again once replies have gone out (see `flush`).
            conn.paused = true;
            return;
        }
        loop {
            if taken >= budget {
                more = true;
                break;
            }
            self.pool.ensure(&mut conn.input, 1024);
            let want = (conn.input.capacity() - conn.input.len()).min(budget - taken);
            match read_into(&conn.stream, &mut conn.input, want) {
                Ok(ReadOutcome::Data(n)) => {
                    taken += n;
                    if n < want {
                        // A short read: the kernel had no more (a later
                        // arrival raises a new edge).
                        break;
                    }
                    if conn.input.len() > max_frame.saturating_add(64 * 1024) {
                        // Frames are checked as they are decoded below.
                        break;
                    }
                }
                Ok(ReadOutcome::Closed) => {
                    peer_closed = true;
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
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if peer_closed {
            conn.closing = true;
            if conn.in_flight == 0 && conn.output.is_empty() {
                self.close(slot, "peer closed");
            } else {
                self.mark_dirty(slot);
            }
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
        loop {
            if conn.closing {
                break;
            }
            if self.workers.is_some() && conn.in_flight >= self.options.max_in_flight {
                // Resumed by `on_done` when a reply comes back.
                conn.paused = true;
                break;
            }
            let frame = match conn.transport.decode(&mut conn.input) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(peer = %conn.peer, error = %e, "bad frame");
                    errors += 1;
                    close = Some("bad frame");
                    break;
                }
            };
            requests += 1;
            match &self.workers {
                None => {
                    if conn.output.capacity() == 0 {
                        conn.output = self.pool.take();
                    }
                    let outcome: Outcome = call::serve(
                        &*self.processor,
                        &*self.protocols,
                        &mut conn.transport,
                        frame,
                        Some(conn.peer),
                        self.options.limits,
                        &mut conn.output,
                    );
                    replied += u64::from(outcome.replied);
                    errors += u64::from(outcome.error);
                    if outcome.close {
                        conn.closing = true;
                    }
                }
                Some(workers) => {
                    let seq = conn.next_seq;
                    conn.next_seq += 1;
                    conn.in_flight += 1;
                    workers.submit(Job {
                        inbox: Arc::clone(&self.inbox),
                        slot,
                        generation: conn.generation,
                        seq,
                        peer: conn.peer,
                        frame,
                    });
                }
            }
        }
        if conn.input.is_empty() {
            conn.partial_since = None;
            self.pool.give(&mut conn.input);
        } else if conn.partial_since.is_none() {
            conn.partial_since = Some(self.now);
        }
        let has_output = !conn.output.is_empty() || conn.closing;
        let counters = &self.shared.counters[self.id];
        Counters::add(&counters.requests, requests);
        Counters::add(&counters.replies, replied);
        if errors > 0 {
            Counters::add(&counters.errors, errors);
        }
        if let Some(why) = close {
            if conn.output.is_empty() && conn.in_flight == 0 {
                self.close(slot, why);
                return;
            }
            conn.closing = true;
        }
        if has_output {
            self.mark_dirty(slot);
        }
    }

    /// A worker finished a request: queue its reply in request order.
    fn on_done(&mut self, done: Done) {
        let slot = done.slot;
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if conn.generation != done.generation {
            return;
        }
        conn.early.insert(done.seq, done);
        let mut replied = 0;
        let mut errors = 0;
        while let Some(done) = conn.early.remove(&conn.next_send) {
            conn.next_send += 1;
            conn.in_flight -= 1;
            if !done.reply.is_empty() {
                if conn.output.capacity() == 0 {
                    conn.output = self.pool.take();
                }
                conn.output.extend_from_slice(&done.reply);
            }
            replied += u64::from(done.outcome.replied);
            errors += u64::from(done.outcome.error);
            if done.outcome.close {
                conn.closing = true;
            }
        }
        let counters = &self.shared.counters[self.id];
        Counters::add(&counters.replies, replied);
        if errors > 0 {
            Counters::add(&counters.errors, errors);
        }
        // Input held back by the in-flight cap can go on now.
        if conn.paused && conn.in_flight < self.options.max_in_flight {
            conn.paused = false;
            self.ready.push(slot);
        }
        self.mark_dirty(slot);
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
        let mut written = 0;
        let mut failed = false;
        while !conn.output.is_empty() {
            match (&conn.stream).write(&conn.output) {
                Ok(0) => {
                    failed = true;
                    break;
                }
                Ok(n) => {
                    written += n;
                    conn.output.advance(n);
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
            Counters::add(&self.shared.counters[self.id].bytes_written, written as u64);
        }
        if failed {
            self.error();
            self.close(slot, "write error");
            return;
        }
        if conn.output.is_empty() {
            conn.blocked_since = None;
            self.pool.give(&mut conn.output);
            if conn.closing && conn.in_flight == 0 {
                self.close(slot, "closing");
                return;
            }
        } else if conn.blocked_since.is_none() {
            conn.blocked_since = Some(self.now);
        }
        if conn.paused && conn.output.len() < self.options.max_pending_output {
            conn.paused = false;
            self.ready.push(slot);
        }
    }

    /// Closes connections past a timeout.
    fn sweep(&mut self, now: Instant) {
        let options = Arc::clone(&self.options);
        let expired = |since: Option<Instant>, limit: Option<Duration>| match (since, limit) {
            (Some(since), Some(limit)) => now.duration_since(since) >= limit,
            _ => false,
        };
        let mut to_close = Vec::new();
        for (slot, conn) in self.conns.iter().enumerate() {
            let Some(conn) = conn else { continue };
            let why = if expired(conn.partial_since, options.read_timeout) {
                "read timeout"
            } else if expired(conn.blocked_since, options.write_timeout) {
                "write timeout"
            } else if conn.in_flight == 0
                && conn.output.is_empty()
                && expired(Some(conn.last_active), options.idle_timeout)
            {
                "idle timeout"
            } else {
                continue;
            };
            to_close.push((slot, why));
        }
        for (slot, why) in to_close {
            if why != "idle timeout" {
                self.error();
            }
            self.close(slot, why);
        }
    }

    /// Shutdown begins: serve what has arrived, then stop reading.
    fn begin_drain(&mut self) {
        for slot in 0..self.conns.len() {
            self.on_readable(slot);
            if let Some(Some(conn)) = self.conns.get_mut(slot) {
                conn.closing = true;
            }
            self.mark_dirty(slot);
        }
        self.flush_dirty();
    }

    /// Closes connections that are done; true when none is left or the
    /// deadline has passed.
    fn drain_step(&mut self) -> bool {
        for slot in 0..self.conns.len() {
            if let Some(Some(conn)) = self.conns.get(slot) {
                if conn.in_flight == 0 && conn.output.is_empty() {
                    self.close(slot, "shutdown");
                }
            }
        }
        let left = self.conns.iter().any(Option::is_some);
        let late = self
            .shared
            .deadline()
            .is_some_and(|deadline| Instant::now() >= deadline);
        !left || late
    }
}
