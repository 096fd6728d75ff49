//! The gRPC channel to etcd and what the discover and registrar share.

use crate::proto::etcdserverpb::kv_client::KvClient;
use crate::proto::etcdserverpb::lease_client::LeaseClient;
use crate::proto::etcdserverpb::watch_client::WatchClient;
use crate::EtcdOptions;
use futures_core::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use thriftgen_runtime::discover::DiscoverError;
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint};

/// A lazily connected channel to one etcd endpoint, and the clients on it.
///
/// The channel reconnects by itself: a request after the connection broke
/// dials again (and fails fast while etcd is down).
#[derive(Clone, Debug)]
pub(crate) struct Conn {
    pub(crate) endpoint: String,
    /// How long etcd may take to answer once connected.
    pub(crate) request_timeout: Duration,
    /// The bound on one call: connecting (the channel may have to dial
    /// first), then the answer.
    pub(crate) call_timeout: Duration,
    channel: Channel,
}

impl Conn {
    /// A channel to `endpoint` (`HOST:PORT`); must be called on a tokio
    /// runtime, the one the channel then lives on.
    pub(crate) fn new(endpoint: &str, options: &EtcdOptions) -> Result<Conn, DiscoverError> {
        let uri = format!("http://{endpoint}");
        let channel = Endpoint::from_shared(uri)
            .map_err(|e| DiscoverError::with_source(format!("etcd: bad endpoint `{endpoint}`"), e))?
            .connect_timeout(options.connect_timeout)
            .tcp_nodelay(true)
            // Notice a silently dead etcd under a long watch or keep-alive.
            // etcd refuses pings more often than every 5 s, and any ping
            // without an open stream (--grpc-keepalive-min-time).
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(false)
            .connect_lazy();
        Ok(Conn {
            endpoint: endpoint.to_owned(),
            request_timeout: options.request_timeout,
            call_timeout: options.connect_timeout + options.request_timeout,
            channel,
        })
    }

    pub(crate) fn kv(&self) -> KvClient<Channel> {
        KvClient::new(self.channel.clone())
    }

    pub(crate) fn lease(&self) -> LeaseClient<Channel> {
        LeaseClient::new(self.channel.clone())
    }

    pub(crate) fn watch(&self) -> WatchClient<Channel> {
        WatchClient::new(self.channel.clone())
    }

    /// Runs one request within the call timeout, naming it in errors.
    pub(crate) async fn call<T>(
        &self,
        what: &str,
        request: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, DiscoverError> {
        match tokio::time::timeout(self.call_timeout, request).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(self.error(what, status)),
            Err(_) => Err(DiscoverError::new(format!(
                "etcd {what} at {}: no answer within {:?}",
                self.endpoint, self.call_timeout
            ))),
        }
    }

    /// An error from etcd (or from reaching it) while doing `what`.
    pub(crate) fn error(&self, what: &str, status: tonic::Status) -> DiscoverError {
        DiscoverError::with_source(format!("etcd {what} at {}", self.endpoint), status)
    }
}

/// The end of the range of keys that start with `prefix`, as etcd wants
/// it: the prefix with its last byte below 0xff incremented and what
/// follows dropped (`\0`, every key, when there is none).
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The messages sent on a client-streaming call, fed from a channel.
pub(crate) struct Requests<T>(pub(crate) mpsc::Receiver<T>);

impl<T> Stream for Requests<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// Exponential backoff between reconnects: 100 ms doubling to 3 s.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(3);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    /// The wait before the next attempt (and doubles the one after).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }

    /// Back to the first wait, after a success.
    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends() {
        assert_eq!(
            prefix_end(b"kitex/registry-etcd/echo/"),
            b"kitex/registry-etcd/echo0"
        );
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), b"\0");
        assert_eq!(prefix_end(b""), b"\0");
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let mut b = Backoff::new();
        let delays: Vec<_> = (0..8).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3000, 3000, 3000]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }
}
