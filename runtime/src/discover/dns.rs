//! Discovery through DNS: the A/AAAA records of a `host:port`, or (with the
//! `dns-srv` feature) the SRV records of a service, resolved again on an
//! interval.

use super::{Discover, DiscoverError, Instance, InstanceStream, DEFAULT_WEIGHT};
use crate::service::BoxFuture;
use futures_core::Stream;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The instances of a service as DNS has them, resolved again every
/// [`interval`](DnsDiscover::interval) (default
/// [`DnsDiscover::DEFAULT_INTERVAL`]).
///
/// - [`DnsDiscover::new`]`("host:port")`: every address of the host's A and
///   AAAA records (through the system's resolver, `getaddrinfo`, on tokio's
///   blocking pool), at `port`, each with the same weight (default
///   [`DEFAULT_WEIGHT`]).
/// - `DnsDiscover::srv("_service._tcp.example.com")` (feature `dns-srv`,
///   through `hickory-resolver`): each target of the SRV records of the
///   lowest priority (the others are backups, RFC 2782), at the record's
///   port, weighted by the record's weight (0 counts as 1: rarely chosen,
///   not never), each target's addresses from its A/AAAA records. The
///   nameservers are the system's (`/etc/resolv.conf`) unless
///   [`nameservers`](DnsDiscover::nameservers) says otherwise.
///
/// The stream yields the set (sorted) at once, and again only when it
/// changed. A lookup that fails, or finds no address, yields an error and
/// the client keeps the set it had: a DNS outage does not empty the fleet.
/// The stream must be polled on a tokio runtime (with its timer enabled).
///
/// ```no_run
/// use thriftgen_runtime::discover::DnsDiscover;
/// use std::time::Duration;
///
/// let discover = DnsDiscover::new("echo.internal:9090").interval(Duration::from_secs(5));
/// # drop(discover);
/// ```
#[derive(Clone)]
pub struct DnsDiscover {
    query: Query,
    interval: Duration,
    weight: u32,
    #[cfg(feature = "dns-srv")]
    nameservers: Vec<std::net::SocketAddr>,
}

#[derive(Clone, Debug)]
enum Query {
    /// `host:port`, A/AAAA.
    Host(String),
    /// A service name, SRV.
    #[cfg(feature = "dns-srv")]
    Srv(String),
}

impl fmt::Debug for DnsDiscover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DnsDiscover");
        d.field("query", &self.query)
            .field("interval", &self.interval)
            .field("weight", &self.weight);
        #[cfg(feature = "dns-srv")]
        d.field("nameservers", &self.nameservers);
        d.finish()
    }
}

impl DnsDiscover {
    /// How often the records are resolved again unless
    /// [`interval`](DnsDiscover::interval) says otherwise: 10 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

    /// The addresses of `host_port` (`"name:port"`, `"[::1]:port"`), from
    /// its A and AAAA records.
    pub fn new(host_port: impl Into<String>) -> DnsDiscover {
        DnsDiscover::with_query(Query::Host(host_port.into()))
    }

    /// The targets of the SRV records of `name` (`_service._proto.domain`).
    #[cfg(feature = "dns-srv")]
    pub fn srv(name: impl Into<String>) -> DnsDiscover {
        DnsDiscover::with_query(Query::Srv(name.into()))
    }

    fn with_query(query: Query) -> DnsDiscover {
        DnsDiscover {
            query,
            interval: DnsDiscover::DEFAULT_INTERVAL,
            weight: DEFAULT_WEIGHT,
            #[cfg(feature = "dns-srv")]
            nameservers: Vec::new(),
        }
    }

    /// Resolves again every `interval` (at least 10 ms).
    pub fn interval(mut self, interval: Duration) -> DnsDiscover {
        self.interval = interval.max(Duration::from_millis(10));
        self
    }

    /// The weight of each address of A/AAAA records (default
    /// [`DEFAULT_WEIGHT`]; SRV records carry their own).
    pub fn weight(mut self, weight: u32) -> DnsDiscover {
        self.weight = weight;
        self
    }

    /// SRV lookups ask these nameservers (over UDP, then TCP for truncated
    /// answers) instead of the system's.
    #[cfg(feature = "dns-srv")]
    pub fn nameservers(
        mut self,
        nameservers: impl IntoIterator<Item = std::net::SocketAddr>,
    ) -> DnsDiscover {
        self.nameservers = nameservers.into_iter().collect();
        self
    }

    /// One lookup, as a future.
    fn resolver(&self) -> Resolve {
        match &self.query {
            Query::Host(host_port) => {
                let host_port = host_port.clone();
                let weight = self.weight;
                Arc::new(move || {
                    let host_port = host_port.clone();
                    Box::pin(async move {
                        let addrs =
                            tokio::net::lookup_host(host_port.as_str())
                                .await
                                .map_err(|e| {
                                    DiscoverError::with_source(
                                        format!("cannot resolve {host_port}"),
                                        e,
                                    )
                                })?;
                        Ok(addrs
                            .map(|addr| Instance::new(addr).with_weight(weight))
                            .collect())
                    })
                })
            }
            #[cfg(feature = "dns-srv")]
            Query::Srv(name) => srv::resolver(name.clone(), self.nameservers.clone()),
        }
    }
}

impl Discover for DnsDiscover {
    fn watch(&self) -> InstanceStream {
        Box::pin(Watch {
            resolve: self.resolver(),
            interval: self.interval,
            last: None,
            state: State::Idle,
        })
    }
}

/// Makes the future of one lookup.
type Resolve = Arc<dyn Fn() -> BoxFuture<Result<Vec<Instance>, DiscoverError>> + Send + Sync>;

/// Resolves, yields the set when it changed, sleeps, again.
struct Watch {
    resolve: Resolve,
    interval: Duration,
    last: Option<Vec<Instance>>,
    state: State,
}

enum State {
    /// Resolve now.
    Idle,
    Resolving(BoxFuture<Result<Vec<Instance>, DiscoverError>>),
    Sleeping(Pin<Box<tokio::time::Sleep>>),
}

impl Stream for Watch {
    type Item = Result<Vec<Instance>, DiscoverError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Idle => this.state = State::Resolving((this.resolve)()),
                State::Resolving(lookup) => {
                    let result = match lookup.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(result) => result,
                    };
                    this.state = State::Sleeping(Box::pin(tokio::time::sleep(this.interval)));
                    match result {
                        Ok(mut set) if !set.is_empty() => {
                            set.sort();
                            set.dedup();
                            if this.last.as_ref() != Some(&set) {
                                this.last = Some(set.clone());
                                return Poll::Ready(Some(Ok(set)));
                            }
                        }
                        Ok(_) => {
                            return Poll::Ready(Some(Err(DiscoverError::new(
                                "DNS lookup found no address",
                            ))))
                        }
                        Err(e) => return Poll::Ready(Some(Err(e))),
                    }
                }
                State::Sleeping(sleep) => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state = State::Idle;
                }
            }
        }
    }
}

#[cfg(feature = "dns-srv")]
mod srv {
    use super::{DiscoverError, Instance, Resolve};
    use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
    use hickory_resolver::name_server::TokioConnectionProvider;
    use hickory_resolver::proto::xfer::Protocol;
    use hickory_resolver::TokioResolver;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    /// The resolver, made on first use (inside the runtime) and kept.
    fn make_resolver(
        cell: &Mutex<Option<Arc<TokioResolver>>>,
        nameservers: &[SocketAddr],
    ) -> Result<Arc<TokioResolver>, DiscoverError> {
        let mut cell = cell.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(resolver) = &*cell {
            return Ok(Arc::clone(resolver));
        }
        let builder = if nameservers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| {
                DiscoverError::with_source("cannot read the system's DNS configuration", e)
            })?
        } else {
            let mut config = ResolverConfig::new();
            for &addr in nameservers {
                config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
            }
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(ResolverOpts::default())
        };
        let resolver = Arc::new(builder.build());
        *cell = Some(Arc::clone(&resolver));
        Ok(resolver)
    }

    /// SRV lookups of `name`.
    pub(super) fn resolver(name: String, nameservers: Vec<SocketAddr>) -> Resolve {
        let cell = Arc::new(Mutex::new(None));
        Arc::new(move || {
            let (name, nameservers, cell) = (name.clone(), nameservers.clone(), Arc::clone(&cell));
            Box::pin(async move {
                let resolver = make_resolver(&cell, &nameservers)?;
                lookup(&resolver, &name).await
            })
        })
    }

    async fn lookup(resolver: &TokioResolver, name: &str) -> Result<Vec<Instance>, DiscoverError> {
        let srv = resolver
            .srv_lookup(name)
            .await
            .map_err(|e| DiscoverError::with_source(format!("cannot resolve SRV {name}"), e))?;
        let records: Vec<_> = srv.iter().cloned().collect();
        let Some(best) = records.iter().map(|r| r.priority()).min() else {
            return Ok(Vec::new());
        };
        let mut instances = Vec::new();
        for record in records.iter().filter(|r| r.priority() == best) {
            let target = record.target();
            let ips = resolver.lookup_ip(target.clone()).await.map_err(|e| {
                DiscoverError::with_source(format!("cannot resolve {target} (SRV {name})"), e)
            })?;
            let weight = u32::from(record.weight()).max(1);
            for ip in ips.iter() {
                instances
                    .push(Instance::new(SocketAddr::new(ip, record.port())).with_weight(weight));
            }
        }
        Ok(instances)
    }
}
