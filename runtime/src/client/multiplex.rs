//! Multiplexed connections: many calls in flight on each, replies matched
//! to calls by sequence id.
//!
//! Each connection is driven by one task that owns the socket: it drains
//! the queue of encoded calls into one buffer and one write (coalescing),
//! and reads reply frames, handing each to the waiting call through a
//! oneshot channel. A call's entry in the table of pending sequence ids is
//! removed by the driver when the reply comes, or by the call's drop guard
//! when the call is abandoned: it then leaves a marker that swallows the
//! late reply (so a late reply is not taken for a server bug). Markers are
//! bounded; a connection with too many stops taking calls and closes when
//! its last call ends.
//!
//! Anything that cannot be routed (a malformed reply, an unknown sequence
//! id, a reply for another method, a call message) closes the connection
//! and fails every call in flight on it; the next call dials again.
//!
//! A reply carrying the server's drain hint (TTHeader `crrst`) retires its
//! connection: it takes no new calls, and closes once the calls in flight
//! on it (abandoned ones included) are answered.

use super::asynchronous::{AsyncClientStats, Connector, MultiplexOptions, OpenConnection, Request};
use super::endpoint::{is_drain, Phase};
use super::{answers, peek_header, ClientError};
use crate::protocol::Limits;
use crate::transport::{AnyTransport, Frame, Transport};
use crate::wire::MessageType;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Bytes of queued calls gathered into one write.
const COALESCE: usize = 64 * 1024;

/// Rounds of work a driver does in one poll before it yields to the
/// other tasks of its worker thread.
const ROUNDS_PER_POLL: usize = 16;

/// The connections of one client.
pub(super) struct Mux {
    options: MultiplexOptions,
    slots: Box<[Slot]>,
    next: AtomicUsize,
    connector: Arc<Connector>,
}

/// One of the K connections, dialed on demand and again after a failure.
struct Slot {
    current: Mutex<Option<Arc<Connection>>>,
    /// Held while dialing, so one call dials and the others wait for it.
    dialing: tokio::sync::Mutex<()>,
}

/// A call's handle on a connection: the queue to its driver.
pub(super) struct Connection {
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Bytes>,
    /// Which dial made it.
    index: u64,
}

/// What a connection's driver and its calls share.
struct Shared {
    state: Mutex<State>,
    /// Room for calls in flight (closed when the connection fails).
    permits: Arc<Semaphore>,
    /// False once the connection failed or retired: no new calls.
    usable: AtomicBool,
    /// Wakes the driver to close the connection.
    close: Notify,
    max_abandoned: usize,
}

#[derive(Default)]
struct State {
    pending: HashMap<i32, Entry>,
    waiting: usize,
    abandoned: usize,
    /// Why the connection closed, once it has.
    closed: Option<String>,
}

enum Entry {
    /// A call waiting for its reply.
    Waiting {
        method: &'static str,
        reply: oneshot::Sender<Result<Frame, ClientError>>,
    },
    /// A call abandoned after it was sent: its reply is dropped.
    Abandoned { method: &'static str },
}

impl Mux {
    pub(super) fn new(options: MultiplexOptions, connector: Arc<Connector>) -> Mux {
        let slots = (0..options.connections.max(1))
            .map(|_| Slot {
                current: Mutex::new(None),
                dialing: tokio::sync::Mutex::new(()),
            })
            .collect();
        Mux {
            options,
            slots,
            next: AtomicUsize::new(0),
            connector,
        }
    }

    pub(super) fn stats(&self, stats: &mut AsyncClientStats) {
        for slot in self.slots.iter() {
            if let Some(connection) = slot.current() {
                let state = connection.shared.state();
                stats.in_flight += state.waiting;
                stats.abandoned += state.abandoned;
            }
        }
    }

    /// The calls in flight at once on all the connections.
    pub(super) fn capacity(&self) -> usize {
        self.slots
            .len()
            .saturating_mul(self.options.max_in_flight.max(1))
    }

    /// Retires every connection: no new calls; each closes once its calls
    /// in flight end.
    pub(super) fn retire(&self) {
        for slot in self.slots.iter() {
            let current = slot
                .current
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(connection) = current {
                connection.shared.retire();
            }
        }
    }

    /// Sends `request` and waits for its reply frame (the caller decodes
    /// it, and calls [`Connection::fail`] when it does not decode).
    pub(super) async fn exchange(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<(Frame, Arc<Connection>), ClientError> {
        let (reply, answer) = oneshot::channel();
        let mut reply = Some(reply);
        let mut tries = 0;
        let (connection, permit) = loop {
            let (connection, permit) = self.acquire(phase).await?;
            *phase = Phase::Writing;
            let Some(sender) = reply.take() else {
                return Err(ClientError::ConnectionLost(
                    "the call could not be registered".to_string(),
                ));
            };
            match connection
                .shared
                .register(request.seqid, request.method, sender)
            {
                Ok(()) => break (connection, permit),
                // Closed (drained, failed) since it was chosen: nothing
                // was sent, so another connection may take the call.
                Err((ClientError::ConnectionLost(why), sender)) => {
                    tries += 1;
                    if tries > self.slots.len() {
                        return Err(ClientError::ConnectionLost(why));
                    }
                    reply = Some(sender);
                }
                Err((e, _)) => return Err(e),
            }
        };
        let shared = &*connection.shared;
        // From here until the reply, dropping this future abandons the call.
        let mut guard = PendingGuard {
            shared,
            seqid: request.seqid,
            armed: true,
        };
        if connection.queue.send(request.bytes.clone()).is_err() {
            guard.armed = false;
            shared.forget(request.seqid);
            return Err(ClientError::ConnectionLost(shared.reason()));
        }
        *phase = Phase::Sent;
        let answer = answer.await;
        // The driver took the entry out before it answered (or failed).
        guard.armed = false;
        drop(guard);
        drop(permit);
        match answer {
            Ok(Ok(frame)) => Ok((frame, connection)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ClientError::ConnectionLost(shared.reason())),
        }
    }

    /// Queues a oneway call on a connection.
    pub(super) async fn send_oneway(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<(), ClientError> {
        let (connection, _permit) = self.acquire(phase).await?;
        *phase = Phase::Writing;
        connection
            .queue
            .send(request.bytes.clone())
            .map_err(|_| ClientError::ConnectionLost(connection.shared.reason()))?;
        *phase = Phase::Sent;
        Ok(())
    }

    /// A connection with room for one more call: the next slot's (dialing
    /// it when it has none), else any other with room, else the next
    /// slot's once it has room.
    async fn acquire(
        &self,
        phase: &mut Phase,
    ) -> Result<(Arc<Connection>, OwnedSemaphorePermit), ClientError> {
        *phase = Phase::Waiting;
        let n = self.slots.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let slot = &self.slots[first];
        let connection = match slot.current() {
            Some(connection) => connection,
            None => {
                *phase = Phase::Connecting;
                let connection = slot.dial(&self.connector, &self.options).await?;
                *phase = Phase::Waiting;
                connection
            }
        };
        match connection.shared.permits.clone().try_acquire_owned() {
            Ok(permit) => return Ok((connection, permit)),
            Err(TryAcquireError::Closed) => {
                return Err(ClientError::ConnectionLost(connection.shared.reason()))
            }
            Err(TryAcquireError::NoPermits) => {}
        }
        for other in (1..n).map(|i| &self.slots[(first + i) % n]) {
            if let Some(other) = other.current() {
                if let Ok(permit) = other.shared.permits.clone().try_acquire_owned() {
                    return Ok((other, permit));
                }
            }
        }
        let wait = self.options.wait_timeout;
        let permit = connection.shared.permits.clone().acquire_owned();
        match tokio::time::timeout(wait, permit).await {
            Ok(Ok(permit)) => Ok((connection, permit)),
            Ok(Err(_)) => Err(ClientError::ConnectionLost(connection.shared.reason())),
            Err(_) => Err(ClientError::NoConnection(wait)),
        }
    }
}

impl Slot {
    /// The slot's connection, when it takes calls.
    fn current(&self) -> Option<Arc<Connection>> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|connection| connection.shared.usable.load(Ordering::Acquire))
            .cloned()
    }

    /// Dials a new connection for the slot (or takes the one another call
    /// dialed meanwhile) and starts its driver.
    async fn dial(
        &self,
        connector: &Arc<Connector>,
        options: &MultiplexOptions,
    ) -> Result<Arc<Connection>, ClientError> {
        let _dialing = self.dialing.lock().await;
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let (stream, open) = connector.dial().await?;
        let index = open.index();
        let max_in_flight = options.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            permits: Arc::new(Semaphore::new(max_in_flight)),
            usable: AtomicBool::new(true),
            close: Notify::new(),
            max_abandoned: max_in_flight,
        });
        let (queue, calls) = mpsc::unbounded_channel();
        let driver = Driver {
            shared: shared.clone(),
            stream,
            calls,
            transport: connector.transport(),
            limits: connector.limits,
            input: BytesMut::with_capacity(8 * 1024),
            out: BytesMut::new(),
            _open: open,
        };
        tokio::spawn(driver.run());
        let connection = Arc::new(Connection {
            shared,
            queue,
            index,
        });
        let old = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(connection.clone());
        // A failed or retired connection's handle: its driver ends once its
        // last call does.
        drop(old);
        Ok(connection)
    }
}

impl Connection {
    /// Closes the connection, failing its calls in flight with `reason`.
    pub(super) fn fail(&self, reason: String) {
        self.shared.fail(reason);
    }

    /// Which dial made it.
    pub(super) fn index(&self) -> u64 {
        self.index
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The table stays consistent whatever a panicking holder did: each
        // change is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reason(&self) -> String {
        self.state()
            .closed
            .clone()
            .unwrap_or_else(|| "the connection closed".to_string())
    }

    /// Enters a call in the table; on failure gives `reply` back.
    #[allow(clippy::type_complexity)]
    fn register(
        &self,
        seqid: i32,
        method: &'static str,
        reply: oneshot::Sender<Result<Frame, ClientError>>,
    ) -> Result<(), (ClientError, oneshot::Sender<Result<Frame, ClientError>>)> {
        let mut state = self.state();
        if let Some(why) = &state.closed {
            return Err((ClientError::ConnectionLost(why.clone()), reply));
        }
        if state.pending.contains_key(&seqid) {
            // After 2^32 calls with one still in flight, or a fleet's
            // retry of a call abandoned here.
            return Err((
                ClientError::BadReply(format!(
                    "sequence id {seqid} is still in flight on this connection"
                )),
                reply,
            ));
        }
        state
            .pending
            .insert(seqid, Entry::Waiting { method, reply });
        state.waiting += 1;
        Ok(())
    }

    /// Removes a call that was never sent.
    fn forget(&self, seqid: i32) {
        let mut state = self.state();
        if let Some(Entry::Waiting { .. }) = state.pending.get(&seqid) {
            state.pending.remove(&seqid);
            state.waiting -= 1;
        }
    }

    /// Marks a sent call abandoned: its reply will be dropped.
    fn abandon(&self, seqid: i32) {
        let mut state = self.state();
        let Some(entry) = state.pending.get_mut(&seqid) else {
            // Answered or failed meanwhile.
            return;
        };
        let Entry::Waiting { method, .. } = entry else {
            return;
        };
        *entry = Entry::Abandoned { method };
        state.waiting -= 1;
        state.abandoned += 1;
        if state.abandoned > self.max_abandoned {
            // A server this far behind (or silent): take no new calls here;
            // the connection closes when its last call ends.
            self.usable.store(false, Ordering::Release);
        }
    }

    /// Takes no new calls; closes once no call is in flight.
    fn retire(&self) {
        self.usable.store(false, Ordering::Release);
        if self.close_if_drained() {
            self.close.notify_one();
        }
    }

    /// Closes a retired connection with no call in flight (under the lock
    /// that registering takes, so no call slips in): true if it did.
    fn close_if_drained(&self) -> bool {
        if self.usable.load(Ordering::Acquire) {
            return false;
        }
        let mut state = self.state();
        if state.closed.is_some() || !state.pending.is_empty() {
            return false;
        }
        state.closed = Some("the connection was retired and drained".to_string());
        drop(state);
        self.permits.close();
        true
    }

    /// Closes the connection: no new calls, every call in flight fails.
    fn fail(&self, reason: String) {
        let (pending, reason) = {
            let mut state = self.state();
            let reason = state.closed.get_or_insert(reason).clone();
            state.waiting = 0;
            state.abandoned = 0;
            (std::mem::take(&mut state.pending), reason)
        };
        self.usable.store(false, Ordering::Release);
        self.permits.close();
        self.close.notify_one();
        for entry in pending.into_values() {
            if let Entry::Waiting { reply, .. } = entry {
                let _ = reply.send(Err(ClientError::ConnectionLost(reason.clone())));
            }
        }
    }

    /// Hands `frame` to the call it answers.
    ///
    /// # Errors
    ///
    /// Why the frame cannot be routed; the connection must close.
    fn dispatch(&self, frame: Frame, limits: Limits) -> Result<(), String> {
        let header = peek_header(&frame, limits).map_err(|e| format!("a malformed reply: {e}"))?;
        if !matches!(header.kind, MessageType::Reply | MessageType::Exception) {
            return Err(format!(
                "a {:?} message where a reply was expected (sequence id {})",
                header.kind, header.seqid
            ));
        }
        let entry = {
            let mut state = self.state();
            let entry = state.pending.remove(&header.seqid);
            match &entry {
                Some(Entry::Waiting { .. }) => state.waiting -= 1,
                Some(Entry::Abandoned { .. }) => state.abandoned -= 1,
                None => {}
            }
            entry
        };
        let name = header.name.as_str();
        let wrong_method = |method: &str| {
            format!(
                "the reply with sequence id {} is for method `{name}`, not `{method}`",
                header.seqid
            )
        };
        match entry {
            None => Err(format!(
                "a reply with unknown sequence id {} (method `{name}`)",
                header.seqid
            )),
            Some(Entry::Waiting { method, reply }) => {
                if !answers(name, method) {
                    let why = wrong_method(method);
                    let _ = reply.send(Err(ClientError::BadReply(why.clone())));
                    return Err(why);
                }
                // The call may have been dropped just now; then nobody
                // wants the frame.
                let _ = reply.send(Ok(frame));
                Ok(())
            }
            Some(Entry::Abandoned { method }) if !answers(name, method) => {
                Err(wrong_method(method))
            }
            Some(Entry::Abandoned { .. }) => Ok(()),
        }
    }
}

/// Abandons a sent call whose future is dropped before its reply.
struct PendingGuard<'a> {
    shared: &'a Shared,
    seqid: i32,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.abandon(self.seqid);
        }
    }
}

/// The task that owns one multiplexed socket.
struct Driver {
    shared: Arc<Shared>,
    stream: TcpStream,
    calls: mpsc::UnboundedReceiver<Bytes>,
    transport: AnyTransport,
    limits: Limits,
    input: BytesMut,
    out: BytesMut,
    _open: OpenConnection,
}

impl Driver {
    async fn run(mut self) {
        let shared = self.shared.clone();
        let mut closing = pin!(shared.close.notified());
        let why = poll_fn(|cx| self.poll(cx, closing.as_mut())).await;
        let why = why.unwrap_or_else(|| "the client closed the connection".to_string());
        self.shared.fail(why);
    }

    /// Moves bytes both ways until the connection must close: `Some(why)`
    /// on an error, `None` when every handle to it is gone.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        mut closing: Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) -> Poll<Option<String>> {
        if closing.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(self.shared.reason()));
        }
        for _ in 0..ROUNDS_PER_POLL {
            let mut progress = false;
            // Gather the queued calls into one write.
            let mut queue_closed = false;
            while self.out.len() < COALESCE {
                match self.calls.poll_recv(cx) {
                    Poll::Ready(Some(call)) => self.out.extend_from_slice(&call),
                    Poll::Ready(None) => {
                        queue_closed = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            while !self.out.is_empty() {
                match Pin::new(&mut self.stream).poll_write(cx, &self.out) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Some("the connection takes no more bytes".to_string()))
                    }
                    Poll::Ready(Ok(n)) => {
                        self.out.advance(n);
                        progress = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Some(format!("write failed: {e}"))),
                    Poll::Pending => break,
                }
            }
            if queue_closed && self.out.is_empty() {
                // No handle left, so no call waits on this connection.
                return Poll::Ready(None);
            }
            // Read what arrived and route the replies.
            match self.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => {
                    if self.input.capacity() - self.input.len() < 4096 {
                        self.input.reserve(8 * 1024);
                    }
                    match self.stream.try_read_buf(&mut self.input) {
                        Ok(0) => {
                            return Poll::Ready(Some(
                                "the server closed the connection".to_string(),
                            ))
                        }
                        Ok(_) => {
                            if let Err(why) = self.route() {
                                return Poll::Ready(Some(why));
                            }
                        }
                        // Readiness is cleared; the next round registers
                        // the waker again.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Poll::Ready(Some(format!("read failed: {e}"))),
                    }
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Some(format!("read failed: {e}"))),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Still busy: let the other tasks of this thread run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Routes every whole frame in the input.
    fn route(&mut self) -> Result<(), String> {
        while let Some(frame) = self
            .transport
            .decode(&mut self.input)
            .map_err(|e| format!("a malformed reply frame: {e}"))?
        {
            let drain = is_drain(&frame.info.headers);
            self.shared.dispatch(frame, self.limits)?;
            if drain {
                // The server is closing: no new calls here.
                self.shared.usable.store(false, Ordering::Release);
            }
        }
        if self.shared.close_if_drained() {
            return Err(self.shared.reason());
        }
        Ok(())
    }
}
