//! One server's connections: a [`Connector`] and the pool or multiplexed
//! connections of the client's [`Strategy`], with the counters a fleet
//! reports per instance.

use super::asynchronous::{AsyncClientOptions, AsyncClientStats, Connector, Request, Strategy};
use super::multiplex::Mux;
use super::pool::Pool;
use super::{decode_answer, ClientError};
use crate::server::CONNECTION_READY_TO_RESET;
use crate::service::Reply;
use crate::transport::Headers;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How far a call got, for deciding whether it may be sent again: a call
/// that failed before [`Phase::Sent`] never reached a server whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Waiting for a connection (or room on one).
    Waiting,
    /// Dialing a new connection.
    Connecting,
    /// Writing (pooled) or queueing (multiplexed) the call.
    Writing,
    /// The whole call went out: the server may run it.
    Sent,
}

/// The answer to one call on one connection.
pub(super) struct Answer<R: Reply> {
    /// The decoded result.
    pub(super) result: Result<R::Ok, R::Err>,
    /// The error is an application exception (a server-side failure), not
    /// a declared exception.
    pub(super) exception: bool,
    /// The reply's headers.
    pub(super) headers: Headers,
    /// The reply carried the drain hint ([`CONNECTION_READY_TO_RESET`]).
    pub(super) drain: bool,
    /// Which dial made the connection that answered.
    pub(super) connection: u64,
}

/// The connections to one server.
pub(super) struct Endpoint {
    pub(super) connector: Arc<Connector>,
    backend: Backend,
    /// Calls made (each attempt of a fleet's call counts).
    calls: AtomicU64,
    /// Calls that got no valid answer, or an application exception.
    failures: AtomicU64,
}

enum Backend {
    Pool(Pool),
    Mux(Mux),
}

/// Whether reply `headers` carry the drain hint.
pub(super) fn is_drain(headers: &Headers) -> bool {
    let (key, value) = CONNECTION_READY_TO_RESET;
    headers.get(key) == Some(value.as_bytes())
}

impl Endpoint {
    /// The connections to `addr` (none open yet).
    pub(super) fn new(addr: SocketAddr, options: &AsyncClientOptions) -> Endpoint {
        let connector = Arc::new(Connector::new(addr, options));
        let backend = match &options.strategy {
            Strategy::Pooled(pool) => Backend::Pool(Pool::new(pool.clone(), connector.clone())),
            Strategy::Multiplexed(mux) => Backend::Mux(Mux::new(mux.clone(), connector.clone())),
        };
        Endpoint {
            connector,
            backend,
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// The calls one server's connections carry at once under `options`.
    pub(super) fn capacity_of(options: &AsyncClientOptions) -> usize {
        let n = match &options.strategy {
            Strategy::Pooled(pool) => pool.max_connections,
            Strategy::Multiplexed(mux) => mux.connections.max(1).saturating_mul(mux.max_in_flight),
        };
        n.clamp(1, Semaphore::MAX_PERMITS / 64)
    }

    /// The calls this server's connections carry at once.
    pub(super) fn capacity(&self) -> usize {
        let n = match &self.backend {
            Backend::Pool(pool) => pool.capacity(),
            Backend::Mux(mux) => mux.capacity(),
        };
        n.clamp(1, Semaphore::MAX_PERMITS / 64)
    }

    /// Calls made and calls failed so far.
    pub(super) fn counts(&self) -> (u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }

    /// Counts a failure that [`Endpoint::call`] did not see (a declared
    /// exception is a result; an application exception is not).
    pub(super) fn count_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters of connections and calls in flight.
    pub(super) fn stats(&self) -> AsyncClientStats {
        let connector = &self.connector;
        let mut stats = AsyncClientStats {
            connects: connector.connects.load(Ordering::Relaxed),
            open: connector.open.load(Ordering::Relaxed),
            ..AsyncClientStats::default()
        };
        match &self.backend {
            Backend::Pool(pool) => pool.stats(&mut stats),
            Backend::Mux(mux) => mux.stats(&mut stats),
        }
        stats
    }

    /// Stops using this server: idle connections close now, the others
    /// once their calls end.
    pub(super) fn retire(&self) {
        match &self.backend {
            Backend::Pool(pool) => pool.retire(),
            Backend::Mux(mux) => mux.retire(),
        }
    }

    /// The server is closing its connections (it sent the drain hint):
    /// idle pooled connections close now, multiplexed ones take no new
    /// calls (each closes once its calls in flight end), so that no call
    /// goes out on a connection the server no longer reads.
    fn drain(&self) {
        match &self.backend {
            Backend::Pool(pool) => pool.close_idle(),
            Backend::Mux(mux) => mux.retire(),
        }
    }

    /// Sends `request` and decodes its reply as `R`, tracking in `phase`
    /// how far it got. A reply carrying the drain hint retires this
    /// server's connections ([`Endpoint::drain`]).
    pub(super) async fn call<R: Reply>(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<Answer<R>, ClientError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self.exchange::<R>(request, phase).await;
        if matches!(&answer, Ok(answer) if answer.drain) {
            self.drain();
        }
        match &answer {
            Ok(answer) if answer.exception => self.count_failure(),
            Ok(_) => {}
            Err(_) => self.count_failure(),
        }
        answer
    }

    async fn exchange<R: Reply>(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<Answer<R>, ClientError> {
        let limits = self.connector.limits;
        match &self.backend {
            Backend::Pool(pool) => {
                let mut lease = pool.checkout(phase).await?;
                *phase = Phase::Writing;
                lease.write(&request.bytes).await?;
                *phase = Phase::Sent;
                let mut frame = lease.read().await?;
                let headers = std::mem::take(&mut frame.info.headers);
                let drain = is_drain(&headers);
                let (result, exception) =
                    decode_answer::<R>(frame, limits, request.method, request.seqid)?;
                let connection = lease.index();
                // Only a connection that answered exactly this call goes
                // back, and not one its server is about to close.
                if !drain {
                    lease.release();
                }
                Ok(Answer {
                    result,
                    exception,
                    headers,
                    drain,
                    connection,
                })
            }
            Backend::Mux(mux) => {
                let (mut frame, connection) = mux.exchange(request, phase).await?;
                let headers = std::mem::take(&mut frame.info.headers);
                // The driver saw the hint too, and retired the connection.
                let drain = is_drain(&headers);
                match decode_answer::<R>(frame, limits, request.method, request.seqid) {
                    Ok((result, exception)) => Ok(Answer {
                        result,
                        exception,
                        headers,
                        drain,
                        connection: connection.index(),
                    }),
                    Err(e) => {
                        connection.fail(format!("a malformed reply: {e}"));
                        Err(e)
                    }
                }
            }
        }
    }

    /// Sends a oneway call.
    pub(super) async fn send_oneway(
        &self,
        request: &Request,
        phase: &mut Phase,
    ) -> Result<(), ClientError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let sent = match &self.backend {
            Backend::Pool(pool) => pool.send_oneway(request, phase).await,
            Backend::Mux(mux) => mux.send_oneway(request, phase).await,
        };
        if sent.is_err() {
            self.count_failure();
        }
        sent
    }
}
