//! [`EtcdRegistrar`]: a server announces itself in etcd, under a lease.

use crate::conn::{Backoff, Conn, Requests};
use crate::proto::etcdserverpb::{
    DeleteRangeRequest, LeaseGrantRequest, LeaseKeepAliveRequest, LeaseRevokeRequest, PutRequest,
    RangeRequest,
};
use crate::{check_service, kitex, parse_etcd_url, EtcdOptions};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::Duration;
use thriftgen_runtime::discover::{DiscoverError, Instance, Registrar};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Registers the instances of one service in etcd, the way Kitex's etcd
/// registry does.
///
/// [`register`](Registrar::register) grants a lease of
/// [`EtcdOptions::ttl`] (60 s by default), puts
/// `{prefix}/{service}/{host:port}` with Kitex's JSON value under it (see
/// [`kitex`]), and keeps the lease alive every third of its TTL until
/// [`deregister`](Registrar::deregister), which deletes the key and
/// revokes the lease. A process that dies without deregistering disappears
/// when its lease expires.
///
/// If the lease is lost (etcd answers a keep-alive with TTL 0: it expired
/// while etcd was unreachable, was revoked, or etcd restarted without its
/// data), the registrar grants a new lease and puts the key again; if the
/// key alone was deleted, it puts it back. While etcd is unreachable it
/// retries, 100 ms doubling to 3 s.
///
/// An instance whose address is unspecified (`0.0.0.0:PORT` or `[::]:PORT`,
/// a server listening on every interface) is registered at this host's
/// outbound IPv4 address instead, as Kitex does; deregister it with the
/// same unspecified address.
///
/// Both calls block the calling thread. They run on a current-thread tokio
/// runtime the registrar owns, on a thread of its own (named
/// `thriftgen-etcd-registrar`), never on the caller's runtime, so calling
/// them from inside a tokio task cannot deadlock. Dropping the registrar
/// stops its keep-alives without deleting anything: registrations it did
/// not deregister expire with their leases.
#[derive(Debug)]
pub struct EtcdRegistrar {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    endpoint: String,
    service: String,
    options: EtcdOptions,
}

type Reply = std_mpsc::SyncSender<Result<(), DiscoverError>>;

#[derive(Debug)]
enum Command {
    Register(Instance, Reply),
    Deregister(Instance, Reply),
    Abandon(Reply),
    Shutdown,
}

impl EtcdRegistrar {
    /// A registrar for `service` on the etcd at `endpoint` (`HOST:PORT`).
    /// It connects on the first [`register`](Registrar::register).
    ///
    /// # Errors
    ///
    /// When the service name is empty or contains `/`, the endpoint is not
    /// a valid `HOST:PORT`, or the registrar's thread cannot be started.
    pub fn new(
        endpoint: impl Into<String>,
        service: impl Into<String>,
        options: EtcdOptions,
    ) -> Result<EtcdRegistrar, DiscoverError> {
        let endpoint = endpoint.into();
        let service = service.into();
        check_service(&service)?;
        tonic::transport::Endpoint::from_shared(format!("http://{endpoint}")).map_err(|e| {
            DiscoverError::with_source(format!("etcd: bad endpoint `{endpoint}`"), e)
        })?;
        let shared = Arc::new(Shared {
            endpoint,
            service,
            options,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                DiscoverError::with_source("etcd: cannot start the registrar's runtime", e)
            })?;
        let (commands, rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("thriftgen-etcd-registrar".to_owned())
            .spawn({
                let shared = shared.clone();
                move || runtime.block_on(actor(shared, rx))
            })
            .map_err(|e| {
                DiscoverError::with_source("etcd: cannot start the registrar's thread", e)
            })?;
        Ok(EtcdRegistrar {
            shared,
            commands,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A registrar for the service of `etcd://HOST:PORT/SERVICE_NAME`, with
    /// the default options.
    ///
    /// # Errors
    ///
    /// When the URL is not of that form, or as [`EtcdRegistrar::new`].
    pub fn from_url(url: &str) -> Result<EtcdRegistrar, DiscoverError> {
        let url = parse_etcd_url(url)?;
        EtcdRegistrar::new(url.endpoint, url.service, EtcdOptions::default())
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

    /// For tests: behaves as if the process had been killed. Stops every
    /// keep-alive without deleting a key or revoking a lease, so the
    /// registrations expire with their leases; the registrar forgets them.
    #[doc(hidden)]
    pub fn simulate_kill(&self) {
        let _ = self.ask(Command::Abandon);
    }

    /// Sends a command to the registrar's thread and waits for its answer.
    fn ask(&self, command: impl FnOnce(Reply) -> Command) -> Result<(), DiscoverError> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        let gone = || DiscoverError::new("etcd: the registrar's thread has stopped");
        self.commands.send(command(reply)).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

impl Registrar for EtcdRegistrar {
    fn register(&self, instance: &Instance) -> Result<(), DiscoverError> {
        self.ask(|reply| Command::Register(instance.clone(), reply))
    }

    fn deregister(&self, instance: &Instance) -> Result<(), DiscoverError> {
        self.ask(|reply| Command::Deregister(instance.clone(), reply))
    }
}

impl Drop for EtcdRegistrar {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        let thread = match self.thread.get_mut() {
            Ok(thread) => thread.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// One live registration: its keep-alive task, which returns the lease it
/// held when told to stop.
struct Registration {
    stop: oneshot::Sender<()>,
    task: JoinHandle<i64>,
}

impl Registration {
    /// Stops the keep-alives; the lease they kept.
    async fn stop(self) -> i64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or(0)
    }
}

/// The registrar's thread: runs commands one at a time.
async fn actor(shared: Arc<Shared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let conn = Conn::new(&shared.endpoint, &shared.options);
    let mut registrations: HashMap<SocketAddr, Registration> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Register(instance, reply) => {
                let result = match &conn {
                    Ok(conn) => register(conn, &shared, &mut registrations, instance).await,
                    Err(e) => Err(DiscoverError::new(e.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::Deregister(instance, reply) => {
                let result = match &conn {
                    Ok(conn) => deregister(conn, &shared, &mut registrations, instance).await,
                    Err(e) => Err(DiscoverError::new(e.to_string())),
                };
                let _ = reply.send(result);
            }
            Command::Abandon(reply) => {
                for (_, registration) in registrations.drain() {
                    registration.task.abort();
                }
                let _ = reply.send(Ok(()));
            }
            Command::Shutdown => break,
        }
    }
    // The keep-alive tasks end with the runtime.
}

async fn register(
    conn: &Conn,
    shared: &Shared,
    registrations: &mut HashMap<SocketAddr, Registration>,
    mut instance: Instance,
) -> Result<(), DiscoverError> {
    instance.addr = advertised(instance.addr)?;
    let key = kitex::instance_key(&shared.options.prefix, &shared.service, instance.addr);
    let value = kitex::encode_value(&instance);
    let ttl = shared.options.ttl_secs();
    let (lease, granted) = grant_and_put(conn, key.as_bytes(), &value, ttl).await?;
    tracing::info!(%key, lease = format_args!("{lease:x}"), ttl = granted, "etcd: registered");
    if let Some(old) = registrations.remove(&instance.addr) {
        // Registered again (new weight or tags): the key is on the new
        // lease now; the old one goes.
        let old_lease = old.stop().await;
        if old_lease != 0 && old_lease != lease {
            if let Err(e) = revoke(conn, old_lease).await {
                tracing::warn!(%key, error = %e, "etcd: could not revoke the previous lease");
            }
        }
    }
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(keep_alive(
        conn.clone(),
        key.into_bytes(),
        value,
        lease,
        granted,
        ttl,
        stopped,
    ));
    registrations.insert(instance.addr, Registration { stop, task });
    Ok(())
}

async fn deregister(
    conn: &Conn,
    shared: &Shared,
    registrations: &mut HashMap<SocketAddr, Registration>,
    instance: Instance,
) -> Result<(), DiscoverError> {
    let addr = advertised(instance.addr)?;
    let key = kitex::instance_key(&shared.options.prefix, &shared.service, addr);
    let lease = match registrations.remove(&addr) {
        Some(registration) => registration.stop().await,
        None => 0,
    };
    let deleted = conn
        .call(
            "delete",
            conn.kv().delete_range(DeleteRangeRequest {
                key: key.clone().into_bytes(),
                ..DeleteRangeRequest::default()
            }),
        )
        .await;
    let revoked = if lease == 0 {
        Ok(())
    } else {
        revoke(conn, lease).await
    };
    deleted?;
    revoked?;
    tracing::info!(%key, "etcd: deregistered");
    Ok(())
}

/// Grants a lease of `ttl` seconds and puts `key` under it; the lease and
/// its granted TTL.
async fn grant_and_put(
    conn: &Conn,
    key: &[u8],
    value: &[u8],
    ttl: i64,
) -> Result<(i64, i64), DiscoverError> {
    let grant = conn
        .call(
            "lease grant",
            conn.lease().lease_grant(LeaseGrantRequest { ttl, id: 0 }),
        )
        .await?;
    if !grant.error.is_empty() {
        return Err(DiscoverError::new(format!(
            "etcd lease grant at {}: {}",
            conn.endpoint, grant.error
        )));
    }
    let put = conn
        .call(
            "put",
            conn.kv().put(PutRequest {
                key: key.to_vec(),
                value: value.to_vec(),
                lease: grant.id,
            }),
        )
        .await;
    if let Err(e) = put {
        let _ = revoke(conn, grant.id).await;
        return Err(e);
    }
    Ok((grant.id, grant.ttl))
}

/// Revokes `lease`; a lease already gone is not an error.
async fn revoke(conn: &Conn, lease: i64) -> Result<(), DiscoverError> {
    let mut client = conn.lease();
    let request = client.lease_revoke(LeaseRevokeRequest { id: lease });
    match tokio::time::timeout(conn.call_timeout, request).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) if status.code() == tonic::Code::NotFound => Ok(()),
        Ok(Err(status)) => Err(conn.error("lease revoke", status)),
        Err(_) => Err(DiscoverError::new(format!(
            "etcd lease revoke at {}: no answer within {:?}",
            conn.endpoint, conn.call_timeout
        ))),
    }
}

/// How a keep-alive stream ended.
enum KeepAlive {
    /// etcd says the lease is gone.
    LeaseLost,
    /// The stream broke, or etcd is unreachable.
    Broken(DiscoverError),
}

/// Keeps one registration alive until told to stop; the lease it then
/// holds.
async fn keep_alive(
    conn: Conn,
    key: Vec<u8>,
    value: Vec<u8>,
    mut lease: i64,
    mut granted: i64,
    ttl: i64,
    mut stop: oneshot::Receiver<()>,
) -> i64 {
    let name = String::from_utf8_lossy(&key).into_owned();
    let mut backoff = Backoff::new();
    loop {
        let outcome = tokio::select! {
            _ = &mut stop => return lease,
            outcome = keep_alive_stream(&conn, &key, &value, lease, granted, &mut backoff) => outcome,
        };
        match outcome {
            KeepAlive::LeaseLost => {
                tracing::warn!(key = %name, "etcd: the lease is gone; registering again");
                loop {
                    let again = tokio::select! {
                        _ = &mut stop => return lease,
                        again = grant_and_put(&conn, &key, &value, ttl) => again,
                    };
                    match again {
                        Ok((new_lease, new_granted)) => {
                            lease = new_lease;
                            granted = new_granted;
                            backoff.reset();
                            tracing::info!(
                                key = %name,
                                lease = format_args!("{lease:x}"),
                                "etcd: registered again",
                            );
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(key = %name, error = %e, "etcd: registering again failed");
                            tokio::select! {
                                _ = &mut stop => return lease,
                                () = tokio::time::sleep(backoff.next_delay()) => {}
                            }
                        }
                    }
                }
            }
            KeepAlive::Broken(e) => {
                tracing::warn!(key = %name, error = %e, "etcd: keep-alive failed; retrying");
                tokio::select! {
                    _ = &mut stop => return lease,
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                }
            }
        }
    }
}

/// One keep-alive stream: a keep-alive every third of the TTL, each
/// answered; after each answer, checks the key is still there.
async fn keep_alive_stream(
    conn: &Conn,
    key: &[u8],
    value: &[u8],
    lease: i64,
    granted: i64,
    backoff: &mut Backoff,
) -> KeepAlive {
    let interval = Duration::from_millis(u64::try_from(granted.max(1)).unwrap_or(1) * 1000 / 3);
    let (requests, rx) = mpsc::channel(1);
    // Room for one: cannot fail.
    let _ = requests.try_send(LeaseKeepAliveRequest { id: lease });
    let mut answers = match conn
        .call(
            "lease keep-alive",
            conn.lease().lease_keep_alive(Requests(rx)),
        )
        .await
    {
        Ok(answers) => answers,
        Err(e) => return KeepAlive::Broken(e),
    };
    loop {
        let answer = match tokio::time::timeout(conn.request_timeout, answers.message()).await {
            Ok(Ok(Some(answer))) => answer,
            Ok(Ok(None)) => {
                return KeepAlive::Broken(DiscoverError::new(
                    "etcd closed the lease keep-alive stream",
                ))
            }
            Ok(Err(status)) => return KeepAlive::Broken(conn.error("lease keep-alive", status)),
            Err(_) => {
                return KeepAlive::Broken(DiscoverError::new(format!(
                    "etcd lease keep-alive at {}: no answer within {:?}",
                    conn.endpoint, conn.request_timeout
                )))
            }
        };
        if answer.ttl <= 0 {
            return KeepAlive::LeaseLost;
        }
        backoff.reset();
        // The lease lives, but the key may have been deleted on its own
        // (etcdctl del): put it back.
        let count = conn
            .call(
                "range",
                conn.kv().range(RangeRequest {
                    key: key.to_vec(),
                    count_only: true,
                    ..RangeRequest::default()
                }),
            )
            .await;
        match count {
            Ok(range) if range.count == 0 => {
                tracing::warn!(key = %String::from_utf8_lossy(key), "etcd: the key is gone; putting it back");
                let put = PutRequest {
                    key: key.to_vec(),
                    value: value.to_vec(),
                    lease,
                };
                if let Err(e) = conn.call("put", conn.kv().put(put)).await {
                    return KeepAlive::Broken(e);
                }
            }
            Ok(_) => {}
            Err(e) => return KeepAlive::Broken(e),
        }
        tokio::time::sleep(interval).await;
        if requests
            .send(LeaseKeepAliveRequest { id: lease })
            .await
            .is_err()
        {
            return KeepAlive::Broken(DiscoverError::new(
                "etcd closed the lease keep-alive stream",
            ));
        }
    }
}

/// `addr`, or, when its IP is unspecified, this host's outbound IPv4
/// address with its port (Kitex registers a local IPv4 address then too).
fn advertised(addr: SocketAddr) -> Result<SocketAddr, DiscoverError> {
    if !addr.ip().is_unspecified() {
        return Ok(addr);
    }
    let ip = outbound_ipv4().ok_or_else(|| {
        DiscoverError::new(format!(
            "etcd: cannot register {addr}: the address is unspecified and this host has no \
             outbound IPv4 address; register the address clients should dial"
        ))
    })?;
    Ok(SocketAddr::new(ip, addr.port()))
}

/// The address this host sends from toward the outside (a UDP "connect"
/// sends nothing: it only picks a route).
fn outbound_ipv4() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    // TEST-NET-1 (RFC 5737): any routed address does.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_addresses_are_kept() {
        let addr: SocketAddr = "127.0.0.1:8888".parse().unwrap();
        assert_eq!(advertised(addr).unwrap(), addr);
        let addr: SocketAddr = "[::1]:8888".parse().unwrap();
        assert_eq!(advertised(addr).unwrap(), addr);
    }

    #[test]
    fn unspecified_addresses_keep_their_port() {
        // On a host with no route this is an error, not a wrong address.
        if let Ok(addr) = advertised("0.0.0.0:8888".parse().unwrap()) {
            assert_eq!(addr.port(), 8888);
            assert!(!addr.ip().is_unspecified());
        }
    }
}
