//! Pooled ping-pong connections: one call in flight per connection.
//!
//! A semaphore caps the connections open (in use or idle); idle ones sit on
//! a stack and are reused last-in first-out, so under steady load the same
//! warm connections serve every call. A call holds its connection in a
//! [`Checkout`]; only [`Checkout::release`] gives it back, so a call that
//! fails, times out or is dropped mid-flight closes its connection (a late
//! reply must never answer the next call). Nor does a connection whose
//! reply carried the server's drain hint (the endpoint drops it).

use super::asynchronous::{AsyncClientStats, Connector, OpenConnection, PoolOptions, Request};
use super::endpoint::Phase;
use super::ClientError;
use crate::transport::{AnyTransport, Frame, Transport};
use bytes::BytesMut;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// The pool of one client.
pub(super) struct Pool {
    state: Arc<PoolState>,
}

struct PoolState {
    options: PoolOptions,
    /// One permit per connection that may be open.
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
    connector: Arc<Connector>,
    /// Set when the server left the fleet: connections are not kept idle.
    retired: AtomicBool,
}

/// One pooled connection.
struct Connection {
    stream: TcpStream,
    transport: AnyTransport,
    input: BytesMut,
    since: Instant,
    open: OpenConnection,
}

/// A connection lent to one call, with the permit that counts it.
pub(super) struct Checkout {
    connection: Option<Connection>,
    state: Arc<PoolState>,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    pub(super) fn new(options: PoolOptions, connector: Arc<Connector>) -> Pool {
        let permits = Arc::new(Semaphore::new(cap(&options)));
        Pool {
            state: Arc::new(PoolState {
                options,
                permits,
                idle: Mutex::new(Vec::new()),
                connector,
                retired: AtomicBool::new(false),
            }),
        }
    }

    pub(super) fn stats(&self, stats: &mut AsyncClientStats) {
        let state = &self.state;
        stats.idle = state.idle().len();
        let free = state.permits.available_permits();
        stats.in_flight = state.cap().saturating_sub(free);
    }

    /// The connections open at once.
    pub(super) fn capacity(&self) -> usize {
        self.state.cap()
    }

    /// Closes the idle connections, and every other one when its call ends.
    pub(super) fn retire(&self) {
        self.state.retired.store(true, Ordering::Release);
        self.close_idle();
    }

    /// Closes the idle connections.
    pub(super) fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.state.idle());
        drop(idle);
    }

    /// A connection for one call: an idle one, or a new one while under the
    /// cap; otherwise waits up to the wait timeout.
    pub(super) async fn checkout(&self, phase: &mut Phase) -> Result<Checkout, ClientError> {
        *phase = Phase::Waiting;
        let state = &self.state;
        let permit = match state.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::NoPermits) => {
                let wait = state.options.wait_timeout;
                match tokio::time::timeout(wait, state.permits.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(closed_pool()),
                    Err(_) => return Err(ClientError::NoConnection(wait)),
                }
            }
            Err(TryAcquireError::Closed) => return Err(closed_pool()),
        };
        // Idle connections hold no permit: a permit is a call's right to a
        // connection, taken idle (most recent first) or dialed. Since
        // dialing happens only when none is idle, in use plus idle never
        // exceeds the cap.
        let connection = match state.take_idle() {
            Some(connection) => connection,
            None => {
                *phase = Phase::Connecting;
                let (stream, open) = state.connector.dial().await?;
                Connection {
                    stream,
                    transport: state.connector.transport(),
                    input: BytesMut::with_capacity(8 * 1024),
                    since: Instant::now(),
                    open,
                }
            }
        };
        Ok(Checkout {
            connection: Some(connection),
            state: state.clone(),
            _permit: permit,
        })
    }

    /// Writes a oneway call on a pooled connection.
    pub(super) async fn send_oneway(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<(), ClientError> {
        let mut lease = self.checkout(phase).await?;
        *phase = Phase::Writing;
        lease.write(&request.bytes).await?;
        *phase = Phase::Sent;
        lease.release();
        Ok(())
    }
}

fn cap(options: &PoolOptions) -> usize {
    options.max_connections.clamp(1, Semaphore::MAX_PERMITS)
}

impl PoolState {
    fn cap(&self) -> usize {
        cap(&self.options)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A stack of connections is valid whatever a panicking holder did.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle connection that is still good; the
    /// expired and closed ones met on the way are closed.
    fn take_idle(&self) -> Option<Connection> {
        let mut stale = Vec::new();
        let found = {
            let mut idle = self.idle();
            self.expire(&mut idle, &mut stale);
            let mut found = None;
            while let Some(connection) = idle.pop() {
                if connection.usable() {
                    found = Some(connection);
                    break;
                }
                stale.push(connection);
            }
            found
        };
        // Closed outside the lock: each close is a system call.
        drop(stale);
        found
    }

    /// Moves the idle connections past the idle timeout (the oldest are at
    /// the bottom of the stack) to `stale`.
    fn expire(&self, idle: &mut Vec<Connection>, stale: &mut Vec<Connection>) {
        let Some(limit) = self.options.idle_timeout else {
            return;
        };
        let expired = idle
            .iter()
            .take_while(|connection| connection.since.elapsed() >= limit)
            .count();
        stale.extend(idle.drain(..expired));
    }
}

impl Connection {
    /// Whether an idle connection can carry a call: not closed by the
    /// server, no stray bytes waiting (one non-blocking read at most).
    fn usable(&self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.stream.try_read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl Checkout {
    /// Which dial made the connection.
    pub(super) fn index(&self) -> u64 {
        self.connection
            .as_ref()
            .map_or(0, |connection| connection.open.index())
    }

    /// Writes `bytes` (one whole call).
    pub(super) async fn write(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        let connection = self.connection.as_mut().ok_or_else(closed_pool)?;
        connection.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Reads one reply frame.
    pub(super) async fn read(&mut self) -> Result<Frame, ClientError> {
        let connection = self.connection.as_mut().ok_or_else(closed_pool)?;
        loop {
            if let Some(frame) = connection.transport.decode(&mut connection.input)? {
                return Ok(frame);
            }
            if connection.input.capacity() - connection.input.len() < 4096 {
                connection.input.reserve(8 * 1024);
            }
            if connection.stream.read_buf(&mut connection.input).await? == 0 {
                return Err(ClientError::BadReply(
                    "the server closed the connection".to_string(),
                ));
            }
        }
    }

    /// Gives the connection back for reuse: the call it carried is over.
    /// (Dropping a `Checkout` instead closes the connection.)
    pub(super) fn release(mut self) {
        // The permit drops with `self`, after the connection is idle, so a
        // call woken by it finds the connection.
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        // Bytes beyond the reply answer nothing: the connection is out of step.
        if !connection.input.is_empty() {
            return;
        }
        let state = &self.state;
        if state.retired.load(Ordering::Acquire) {
            return;
        }
        let mut stale = Vec::new();
        {
            let mut idle = state.idle();
            state.expire(&mut idle, &mut stale);
            if idle.len() < state.options.max_idle {
                connection.since = Instant::now();
                idle.push(connection);
            } else {
                stale.push(connection);
            }
        }
        drop(stale);
    }
}

fn closed_pool() -> ClientError {
    ClientError::ConnectionLost("the pool is closed".to_string())
}
