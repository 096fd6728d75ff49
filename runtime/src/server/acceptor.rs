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
        loop {
            if self.shared.stopping.load(Ordering::SeqCst) {
                // Dropping the listener stops accepting.
                return;
            }
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!(error = %e, "acceptor poll failed");
                    return;
                }
            }
            if events.iter().any(|e| e.token() == LISTENER) {
                self.accept_all();
            }
        }
    }

    fn accept_all(&mut self) {
        loop {
            if self.shared.stopping.load(Ordering::SeqCst) {
                return;
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of file descriptors, for instance: back off and let
                    // connections close.
                    tracing::warn!(error = %e, "accept failed");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}
