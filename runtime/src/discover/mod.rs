//! Fleets: where a client finds the instances of a service
//! ([`Discover`]), and how a server announces itself ([`Registrar`]).
//!
//! The runtime ships the static list ([`StaticDiscover`], the default:
//! nothing to start) and DNS ([`DnsDiscover`]: A/AAAA records, and SRV
//! records with the `dns-srv` feature); the `thriftgen-etcd` crate implements both
//! traits on etcd with the key layout and values Kitex's etcd registry uses,
//! so Kitex clients find our servers and our clients find Kitex servers.
//! Balancing, retries and breakers over the discovered instances live in
//! the async client ([`crate::client`]), never in a registry.

mod dns;

pub use dns::DnsDiscover;

use futures_core::Stream;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The weight of an instance that does not say (Kitex's default).
pub const DEFAULT_WEIGHT: u32 = 10;

/// One instance of a service: where it listens, its weight for weighted
/// balancing, and free-form tags (a zone, a cluster, a version).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instance {
    /// The address it serves on.
    pub addr: SocketAddr,
    /// Its share of the calls under weighted balancing, against the other
    /// instances' weights (default [`DEFAULT_WEIGHT`]); 0 takes none.
    pub weight: u32,
    /// Tags, as the registry carries them.
    pub tags: BTreeMap<String, String>,
}

impl Instance {
    /// An instance at `addr` with the default weight and no tags.
    pub fn new(addr: SocketAddr) -> Instance {
        Instance {
            addr,
            weight: DEFAULT_WEIGHT,
            tags: BTreeMap::new(),
        }
    }

    /// The same with `weight`.
    pub fn with_weight(mut self, weight: u32) -> Instance {
        self.weight = weight;
        self
    }

    /// The same with the tag `key` set to `value`.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Instance {
        self.tags.insert(key.into(), value.into());
        self
    }
}

/// Why discovery or registration failed.
#[derive(Debug)]
pub struct DiscoverError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DiscoverError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> DiscoverError {
        DiscoverError {
            message: message.into(),
            source: None,
        }
    }

    /// An error saying `message`, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> DiscoverError {
        DiscoverError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DiscoverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The instance sets a [`Discover`] yields.
pub type InstanceStream = Pin<Box<dyn Stream<Item = Result<Vec<Instance>, DiscoverError>> + Send>>;

/// Where a client finds the instances of one service.
///
/// [`watch`](Discover::watch) starts watching: the stream's first item is
/// the whole set as it is now, and every later item the whole set after a
/// change. An `Err` item is reported and the client keeps the last set it
/// had (a registry that is briefly unreachable does not empty the fleet);
/// the stream ending means the set will not change again. Implementations
/// poll or watch on the tokio runtime that polls the stream.
pub trait Discover: Send + Sync + 'static {
    /// Watches the service's instances.
    fn watch(&self) -> InstanceStream;
}

impl<D: Discover + ?Sized> Discover for std::sync::Arc<D> {
    fn watch(&self) -> InstanceStream {
        (**self).watch()
    }
}

impl<D: Discover + ?Sized> Discover for Box<D> {
    fn watch(&self) -> InstanceStream {
        (**self).watch()
    }
}

/// A fixed list of instances: yields it once, then never changes.
#[derive(Clone, Debug)]
pub struct StaticDiscover {
    instances: Vec<Instance>,
}

impl StaticDiscover {
    /// The instances at `addrs`, with the default weight.
    pub fn new(addrs: impl IntoIterator<Item = SocketAddr>) -> StaticDiscover {
        StaticDiscover {
            instances: addrs.into_iter().map(Instance::new).collect(),
        }
    }

    /// These instances (with their weights and tags).
    pub fn instances(instances: impl IntoIterator<Item = Instance>) -> StaticDiscover {
        StaticDiscover {
            instances: instances.into_iter().collect(),
        }
    }
}

impl Discover for StaticDiscover {
    fn watch(&self) -> InstanceStream {
        Box::pin(Once(Some(Ok(self.instances.clone()))))
    }
}

/// A stream of one item.
struct Once<T>(Option<T>);

impl<T: Unpin> Stream for Once<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<T>> {
        Poll::Ready(self.0.take())
    }
}

/// How a server announces itself to a registry, and withdraws.
///
/// The server calls [`register`](Registrar::register) once it listens, and
/// [`deregister`](Registrar::deregister) first thing in a graceful
/// shutdown, before it stops accepting and drains, so that clients stop
/// choosing it while it still answers. Both block the calling thread (the
/// server's pollers are not on tokio); an implementation on an async client
/// runs it on a runtime of its own, never on the caller's, so calling from
/// inside a tokio task cannot deadlock. A registration stays alive (a lease
/// kept alive) until `deregister`, or until the process dies and the
/// registry lets it expire.
pub trait Registrar: Send + Sync + 'static {
    /// Announces `instance`.
    ///
    /// # Errors
    ///
    /// When the registry refuses or cannot be reached.
    fn register(&self, instance: &Instance) -> Result<(), DiscoverError>;

    /// Withdraws `instance`.
    ///
    /// # Errors
    ///
    /// When the registry cannot be reached (the registration then expires
    /// with its lease).
    fn deregister(&self, instance: &Instance) -> Result<(), DiscoverError>;
}

impl fmt::Debug for dyn Registrar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Registrar")
    }
}
