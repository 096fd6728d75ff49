//! The acceptor: takes new connections and deals them to the pollers
//! round-robin, closing at once those beyond the connection cap.

use super::poller::Inbox;
use super::{ServerOptions, Shared};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// The first wait after `accept` fails, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct Acceptor {
    poll: Poll,
    listener: TcpListener,
    waker: Arc<Waker>,
    pollers: Vec<Arc<Inbox>>,
    shared: Arc<Shared>,
    max_connections: usize,
    next: usize,
}

impl Acceptor {
    pub fn new(
        listener: std::net::TcpListener,
        pollers: Vec<Arc<Inbox>>,
        shared: Arc<Shared>,
        options: &ServerOptions,
    ) -> io::Result<Acceptor> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Acceptor {
            poll,
            listener,
            waker,
            pollers,
            shared,
            max_connections: options.max_connections,
            next: 0,
        })
    }

    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(16);
        // Set while accepting fails (out of file descriptors, say): the
        // backlog is tried again after this long, doubling up to a second,
        // instead of in a busy loop. The listener is edge-triggered, so a
        // backlog left waiting gives no new event by itself.
        let mut backoff: Option<Duration> = None;
        loop {
            if self.shared.stopping.load(Ordering::SeqCst) {
                // Dropping the listener stops accepting.
                return;
            }
            if let Err(e) = self.poll.poll(&mut events, backoff) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!(error = %e, "acceptor poll failed");
                    return;
                }
            }
            if backoff.is_some() || events.iter().any(|e| e.token() == LISTENER) {
                backoff = match self.accept_all() {
                    Ok(()) => None,
                    Err(e) => {
                        let next = backoff.map_or(BACKOFF_FIRST, |b| (b * 2).min(BACKOFF_MAX));
                        tracing::warn!(error = %e, retry_in = ?next, "accept failed");
                        Some(next)
                    }
                };
            }
        }
    }

    /// Accepts until the backlog is empty; the error that stopped it early,
    /// if one did (the caller backs off).
    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            if self.shared.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.shared.open.load(Ordering::Relaxed) >= self.max_connections {
                        self.shared.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(%peer, "connection cap reached; closed");
                        drop(stream);
                        continue;
                    }
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                    }
                    self.shared.open.fetch_add(1, Ordering::Relaxed);
                    let poller = &self.pollers[self.next % self.pollers.len()];
                    self.next = self.next.wrapping_add(1);
                    poller.push_connection(stream, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of file descriptors, for instance: back off and let
                // connections close.
                Err(e) => return Err(e),
            }
        }
    }
}
