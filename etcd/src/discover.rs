//! [`EtcdDiscover`]: a service's instances, read from etcd and watched.

use crate::conn::{prefix_end, Backoff, Conn, Requests};
use crate::proto::etcdserverpb::{watch_request, RangeRequest, WatchCreateRequest, WatchRequest};
use crate::proto::mvccpb::event::EventType;
use crate::proto::mvccpb::KeyValue;
use crate::{check_service, kitex, parse_etcd_url, EtcdOptions};
use futures_core::Stream;
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use thriftgen_runtime::discover::{Discover, DiscoverError, Instance, InstanceStream};
use tokio::sync::mpsc;

/// The instances of one service, from etcd, in Kitex's layout.
///
/// [`watch`](Discover::watch) reads every key under
/// `{prefix}/{service}/` (a Range), yields the whole set, then watches the
/// prefix from the next revision and yields the whole set again after every
/// batch of changes etcd pushes (no polling: a change is seen as soon as
/// etcd sends it). When etcd cannot be reached or the watch breaks, the
/// stream yields an `Err` item, waits (100 ms doubling to 3 s), reads the
/// whole set again and goes on watching; it ends only when dropped.
///
/// Values that are not Kitex's instance JSON, or not TCP, are skipped with
/// a warning (see [`kitex::decode_value`]).
///
/// The stream runs on the tokio runtime that polls it (it spawns one task
/// there on its first poll, and the task ends when the stream is dropped).
#[derive(Clone, Debug)]
pub struct EtcdDiscover {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    endpoint: String,
    service: String,
    options: EtcdOptions,
}

impl EtcdDiscover {
    /// Discovers `service` on the etcd at `endpoint` (`HOST:PORT`).
    ///
    /// # Errors
    ///
    /// When the service name is empty or contains `/`.
    pub fn new(
        endpoint: impl Into<String>,
        service: impl Into<String>,
        options: EtcdOptions,
    ) -> Result<EtcdDiscover, DiscoverError> {
        let service = service.into();
        check_service(&service)?;
        Ok(EtcdDiscover {
            shared: Arc::new(Shared {
                endpoint: endpoint.into(),
                service,
                options,
            }),
        })
    }

    /// Discovers the service of `etcd://HOST:PORT/SERVICE_NAME`, with the
    /// default options.
    ///
    /// # Errors
    ///
    /// When the URL is not of that form.
    pub fn from_url(url: &str) -> Result<EtcdDiscover, DiscoverError> {
        let url = parse_etcd_url(url)?;
        EtcdDiscover::new(url.endpoint, url.service, EtcdOptions::default())
    }

    /// The etcd endpoint, `HOST:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.shared.endpoint
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.shared.service
    }

    /// The options.
    pub fn options(&self) -> &EtcdOptions {
        &self.shared.options
    }
}

impl Discover for EtcdDiscover {
    fn watch(&self) -> InstanceStream {
        Box::pin(WatchStream {
            shared: Some(self.shared.clone()),
            rx: None,
        })
    }
}

type Item = Result<Vec<Instance>, DiscoverError>;

/// The stream [`EtcdDiscover::watch`] returns: starts its task on the
/// first poll, then forwards what the task sends.
struct WatchStream {
    shared: Option<Arc<Shared>>,
    rx: Option<mpsc::Receiver<Item>>,
}

impl Stream for WatchStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        if let Some(shared) = self.shared.take() {
            if tokio::runtime::Handle::try_current().is_err() {
                return Poll::Ready(Some(Err(DiscoverError::new(
                    "etcd: EtcdDiscover's stream must be polled on a tokio runtime",
                ))));
            }
            // One item in flight: the task waits for the client to take a
            // set before it reads the next batch of events.
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(watch_task(shared, tx));
            self.rx = Some(rx);
        }
        match self.rx.as_mut() {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

/// Reads and watches until the stream is dropped.
async fn watch_task(shared: Arc<Shared>, tx: mpsc::Sender<Item>) {
    let conn = match Conn::new(&shared.endpoint, &shared.options) {
        Ok(conn) => conn,
        Err(e) => {
            // A bad endpoint will not get better: say so, and end.
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    let prefix = kitex::service_prefix(&shared.options.prefix, &shared.service).into_bytes();
    let mut backoff = Backoff::new();
    loop {
        let error = tokio::select! {
            () = tx.closed() => return,
            outcome = range_and_watch(&conn, &prefix, &tx, &mut backoff) => match outcome {
                Ok(()) => return,
                Err(e) => e,
            },
        };
        tracing::warn!(service = %shared.service, error = %error, "etcd discover: retrying");
        if tx.send(Err(error)).await.is_err() {
            return;
        }
        tokio::select! {
            () = tx.closed() => return,
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// One Range then Watch of the prefix: `Ok` when the receiver is gone,
/// `Err` when etcd failed (the caller retries).
async fn range_and_watch(
    conn: &Conn,
    prefix: &[u8],
    tx: &mpsc::Sender<Item>,
    backoff: &mut Backoff,
) -> Result<(), DiscoverError> {
    let range_end = prefix_end(prefix);
    let range = conn
        .call(
            "range",
            conn.kv().range(RangeRequest {
                key: prefix.to_vec(),
                range_end: range_end.clone(),
                ..RangeRequest::default()
            }),
        )
        .await?;
    let revision = range.header.map_or(0, |h| h.revision);
    let mut set = BTreeMap::new();
    for kv in range.kvs {
        apply_put(&mut set, kv);
    }
    if tx.send(Ok(snapshot(&set))).await.is_err() {
        return Ok(());
    }

    let (requests, rx) = mpsc::channel(1);
    let create = WatchRequest {
        request_union: Some(watch_request::RequestUnion::CreateRequest(
            WatchCreateRequest {
                key: prefix.to_vec(),
                range_end,
                start_revision: revision + 1,
                ..WatchCreateRequest::default()
            },
        )),
    };
    // Room for one: cannot fail. `requests` stays open until we return:
    // the request stream is the watch's lifetime.
    let _ = requests.try_send(create);
    let mut events = conn.call("watch", conn.watch().watch(Requests(rx))).await?;
    // A watch stream that is open and created: etcd is back.
    backoff.reset();
    loop {
        let response = match events.message().await {
            Ok(Some(response)) => response,
            Ok(None) => return Err(DiscoverError::new("etcd closed the watch stream")),
            Err(status) => return Err(conn.error("watch", status)),
        };
        if response.canceled || response.compact_revision != 0 {
            return Err(DiscoverError::new(format!(
                "etcd canceled the watch (compacted to revision {}): {}; reading again",
                response.compact_revision, response.cancel_reason
            )));
        }
        if response.events.is_empty() {
            continue;
        }
        let mut changed = false;
        for event in response.events {
            let Some(kv) = event.kv else { continue };
            changed |= match EventType::try_from(event.r#type) {
                Ok(EventType::Put) => apply_put(&mut set, kv),
                Ok(EventType::Delete) => set.remove(&kv.key).is_some(),
                Err(_) => false,
            };
        }
        if changed && tx.send(Ok(snapshot(&set))).await.is_err() {
            return Ok(());
        }
    }
}

/// Records a put key: its instance, or nothing if its value is not one.
/// Whether the set changed.
fn apply_put(set: &mut BTreeMap<Vec<u8>, Instance>, kv: KeyValue) -> bool {
    match kitex::decode_value(&kv.value) {
        Ok(instance) => set.insert(kv.key, instance.clone()).as_ref() != Some(&instance),
        Err(e) => {
            tracing::warn!(
                key = %String::from_utf8_lossy(&kv.key),
                error = %e,
                "etcd discover: skipping a value",
            );
            set.remove(&kv.key).is_some()
        }
    }
}

fn snapshot(set: &BTreeMap<Vec<u8>, Instance>) -> Vec<Instance> {
    set.values().cloned().collect()
}
