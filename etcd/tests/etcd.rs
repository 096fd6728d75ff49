//! Against a real etcd (the `#[ignore]`d tests start one: see
//! `common/mod.rs`), and against no etcd at all (the others).
//!
//! `cargo test -p thriftgen-etcd -- --ignored` (needs `etcd` on PATH:
//! Debian's etcd-server).

mod common;

use common::{free_port, next_within, wait_for, EtcdServer};
use std::time::{Duration, Instant};
use thriftgen_etcd::kitex::{encode_value, instance_key};
use thriftgen_etcd::proto::etcdserverpb::kv_client::KvClient;
use thriftgen_etcd::proto::etcdserverpb::lease_client::LeaseClient;
use thriftgen_etcd::proto::etcdserverpb::{LeaseRevokeRequest, PutRequest, RangeRequest};
use thriftgen_etcd::{EtcdDiscover, EtcdOptions, EtcdRegistrar, DEFAULT_PREFIX};
use thriftgen_runtime::discover::{Discover, Instance, Registrar, DEFAULT_WEIGHT};
use tonic::transport::Channel;

/// How soon a watcher must see a change.
const VISIBLE_WITHIN: Duration = Duration::from_millis(200);

fn at(addr: &str) -> Instance {
    Instance::new(addr.parse().unwrap())
}

async fn channel(endpoint: &str) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn raw_get(endpoint: &str, key: &str) -> Option<(Vec<u8>, i64)> {
    let mut kv = KvClient::new(channel(endpoint).await);
    let range = kv
        .range(RangeRequest {
            key: key.as_bytes().to_vec(),
            ..RangeRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    range.kvs.into_iter().next().map(|kv| (kv.value, kv.lease))
}

async fn raw_put(endpoint: &str, key: &str, value: &[u8]) {
    let mut kv = KvClient::new(channel(endpoint).await);
    kv.put(PutRequest {
        key: key.as_bytes().to_vec(),
        value: value.to_vec(),
        lease: 0,
    })
    .await
    .unwrap();
}

fn options() -> EtcdOptions {
    EtcdOptions::default()
        .with_connect_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn register_is_seen_quickly_and_deregister_removes_it() {
    let etcd = EtcdServer::start();
    let discover = EtcdDiscover::new(etcd.endpoint(), "echo", options()).unwrap();
    let mut fleet = discover.watch();
    let first = next_within(&mut fleet, Duration::from_secs(5)).await;
    assert!(
        matches!(first, Some(Ok(ref set)) if set.is_empty()),
        "{first:?}"
    );

    let registrar = EtcdRegistrar::new(etcd.endpoint(), "echo", options()).unwrap();
    let me = at("127.0.0.1:8888").with_weight(20).with_tag("zone", "a");
    // Called from inside a tokio task: the registrar's own runtime does
    // the work, so this blocks this worker but cannot deadlock.
    let called = Instant::now();
    registrar.register(&me).unwrap();
    let took = called.elapsed();
    let (set, seen) = wait_for(&mut fleet, Duration::from_secs(5), "register", |s| {
        s.len() == 1
    })
    .await;
    eprintln!(
        "register took {took:?}; the watcher saw it {seen:?} after it returned, {:?} after the call",
        called.elapsed()
    );
    assert_eq!(set, vec![me.clone()]);
    assert!(seen < VISIBLE_WITHIN, "register seen after {seen:?}");

    // The key and value on the wire are Kitex's, under a lease.
    let key = instance_key(DEFAULT_PREFIX, "echo", me.addr);
    assert_eq!(key, "kitex/registry-etcd/echo/127.0.0.1:8888");
    let (value, lease) = raw_get(&etcd.endpoint(), &key).await.unwrap();
    assert_eq!(
        value,
        br#"{"network":"tcp","address":"127.0.0.1:8888","weight":20,"tags":{"zone":"a"}}"#
    );
    assert_ne!(lease, 0);

    let called = Instant::now();
    registrar.deregister(&me).unwrap();
    let took = called.elapsed();
    let (_, gone) = wait_for(&mut fleet, Duration::from_secs(5), "deregister", |s| {
        s.is_empty()
    })
    .await;
    eprintln!(
        "deregister took {took:?}; the watcher saw it {gone:?} after it returned, {:?} after the call",
        called.elapsed()
    );
    assert!(gone < VISIBLE_WITHIN, "deregister seen after {gone:?}");
    assert!(raw_get(&etcd.endpoint(), &key).await.is_none());
    // The lease was revoked too: revoking it again finds nothing.
    let mut leases = LeaseClient::new(channel(&etcd.endpoint()).await);
    let again = leases.lease_revoke(LeaseRevokeRequest { id: lease }).await;
    assert_eq!(again.unwrap_err().code(), tonic::Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn a_killed_instance_expires_with_its_lease() {
    let etcd = EtcdServer::start();
    let ttl = Duration::from_secs(2);
    let registrar = EtcdRegistrar::new(etcd.endpoint(), "echo", options().with_ttl(ttl)).unwrap();
    let discover = EtcdDiscover::new(etcd.endpoint(), "echo", options()).unwrap();
    let mut fleet = discover.watch();
    registrar.register(&at("127.0.0.1:7001")).unwrap();
    wait_for(&mut fleet, Duration::from_secs(5), "register", |s| {
        s.len() == 1
    })
    .await;

    // Keep-alives go on past the TTL while the process lives.
    tokio::time::sleep(ttl * 2).await;
    let key = instance_key(DEFAULT_PREFIX, "echo", "127.0.0.1:7001".parse().unwrap());
    assert!(
        raw_get(&etcd.endpoint(), &key).await.is_some(),
        "expired while alive"
    );

    let killed = Instant::now();
    registrar.simulate_kill();
    let (_, _) = wait_for(&mut fleet, ttl + Duration::from_secs(2), "expiry", |s| {
        s.is_empty()
    })
    .await;
    let gone = killed.elapsed();
    eprintln!("killed -> gone: {gone:?} (TTL {ttl:?})");
    assert!(gone <= ttl + Duration::from_secs(1), "gone after {gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn a_lost_lease_is_granted_again_and_the_key_put_back() {
    let etcd = EtcdServer::start();
    let ttl = Duration::from_secs(3);
    let registrar = EtcdRegistrar::new(etcd.endpoint(), "echo", options().with_ttl(ttl)).unwrap();
    let discover = EtcdDiscover::new(etcd.endpoint(), "echo", options()).unwrap();
    let mut fleet = discover.watch();
    let me = at("127.0.0.1:7002");
    registrar.register(&me).unwrap();
    wait_for(&mut fleet, Duration::from_secs(5), "register", |s| {
        s.len() == 1
    })
    .await;

    // Someone revokes our lease: the key goes with it, the next keep-alive
    // answers TTL 0, and the registrar registers again.
    let key = instance_key(DEFAULT_PREFIX, "echo", me.addr);
    let (_, lease) = raw_get(&etcd.endpoint(), &key).await.unwrap();
    let mut leases = LeaseClient::new(channel(&etcd.endpoint()).await);
    leases
        .lease_revoke(LeaseRevokeRequest { id: lease })
        .await
        .unwrap();
    wait_for(&mut fleet, Duration::from_secs(2), "revoked", |s| {
        s.is_empty()
    })
    .await;
    let (set, back) = wait_for(&mut fleet, ttl + Duration::from_secs(2), "back", |s| {
        s.len() == 1
    })
    .await;
    eprintln!("revoked -> registered again: {back:?}");
    assert_eq!(set, vec![me.clone()]);
    let (_, new_lease) = raw_get(&etcd.endpoint(), &key).await.unwrap();
    assert_ne!(new_lease, lease);

    // The key alone deleted (etcdctl del): put back on the live lease.
    let mut kv = KvClient::new(channel(&etcd.endpoint()).await);
    kv.delete_range(thriftgen_etcd::proto::etcdserverpb::DeleteRangeRequest {
        key: key.clone().into_bytes(),
        ..Default::default()
    })
    .await
    .unwrap();
    wait_for(&mut fleet, Duration::from_secs(2), "deleted", |s| {
        s.is_empty()
    })
    .await;
    let (_, back) = wait_for(&mut fleet, ttl + Duration::from_secs(2), "put back", |s| {
        s.len() == 1
    })
    .await;
    eprintln!("deleted -> put back: {back:?}");
    assert_eq!(raw_get(&etcd.endpoint(), &key).await.unwrap().1, new_lease);
    registrar.deregister(&me).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn etcd_restarts_the_watch_resumes_and_the_instance_is_registered_again() {
    let mut etcd = EtcdServer::start();
    let ttl = Duration::from_secs(3);
    let registrar = EtcdRegistrar::new(etcd.endpoint(), "echo", options().with_ttl(ttl)).unwrap();
    let discover = EtcdDiscover::new(etcd.endpoint(), "echo", options()).unwrap();
    let mut fleet = discover.watch();
    let me = at("127.0.0.1:7003");
    registrar.register(&me).unwrap();
    wait_for(&mut fleet, Duration::from_secs(5), "register", |s| {
        s.len() == 1
    })
    .await;

    // Down: the stream says so (and the client keeps its last set).
    etcd.kill();
    let down = next_within(&mut fleet, Duration::from_secs(5)).await;
    assert!(matches!(down, Some(Err(_))), "{down:?}");
    eprintln!("etcd down: {}", down.unwrap().unwrap_err());

    // Back with its data: the lease survived; the watch reads again.
    etcd.restart(false);
    let (set, _) = wait_for(&mut fleet, Duration::from_secs(10), "back", |s| {
        s.len() == 1
    })
    .await;
    assert_eq!(set, vec![me.clone()]);

    // Back as a new, empty cluster: no key, no lease. The registrar's
    // keep-alive is answered TTL 0 and it registers again.
    etcd.restart(true);
    let restarted = Instant::now();
    let (set, _) = wait_for(&mut fleet, Duration::from_secs(15), "re-registered", |s| {
        s.len() == 1
    })
    .await;
    eprintln!("wiped etcd -> registered again: {:?}", restarted.elapsed());
    assert_eq!(set, vec![me.clone()]);

    // And changes after the reconnect are still pushed quickly.
    let other = at("127.0.0.1:7004");
    registrar.register(&other).unwrap();
    let (_, seen) = wait_for(&mut fleet, Duration::from_secs(5), "second", |s| {
        s.len() == 2
    })
    .await;
    eprintln!("register after restart -> watcher: {seen:?}");
    assert!(seen < VISIBLE_WITHIN, "seen after {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn discover_reads_what_kitex_wrote() {
    let etcd = EtcdServer::start();
    let ep = etcd.endpoint();
    let prefix = "kitex/registry-etcd/kitex-echo/";
    // Values as Kitex's registry writes them (Tags nil -> null, Weight 0).
    raw_put(
        &ep,
        &format!("{prefix}10.0.0.1:8888"),
        br#"{"network":"tcp","address":"10.0.0.1:8888","weight":0,"tags":null}"#,
    )
    .await;
    raw_put(
        &ep,
        &format!("{prefix}10.0.0.2:8888"),
        br#"{"network":"tcp","address":"10.0.0.2:8888","weight":30,"tags":{"idc":"hl"},"extra":true}"#,
    )
    .await;
    // Not instances: skipped.
    raw_put(&ep, &format!("{prefix}garbage"), b"not json").await;
    raw_put(
        &ep,
        &format!("{prefix}/tmp/s"),
        br#"{"network":"unix","address":"/tmp/s","weight":1,"tags":null}"#,
    )
    .await;
    // Another service, and a service whose name has ours as a prefix.
    raw_put(
        &ep,
        "kitex/registry-etcd/other/10.0.0.9:1",
        br#"{"network":"tcp","address":"10.0.0.9:1","weight":1,"tags":null}"#,
    )
    .await;
    raw_put(
        &ep,
        "kitex/registry-etcd/kitex-echo2/10.0.0.8:1",
        br#"{"network":"tcp","address":"10.0.0.8:1","weight":1,"tags":null}"#,
    )
    .await;

    let discover = EtcdDiscover::new(ep.clone(), "kitex-echo", options()).unwrap();
    let mut fleet = discover.watch();
    let set = next_within(&mut fleet, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        set,
        vec![
            at("10.0.0.1:8888").with_weight(DEFAULT_WEIGHT),
            at("10.0.0.2:8888").with_weight(30).with_tag("idc", "hl"),
        ]
    );

    // A Kitex server changing its value (weight absent now) is pushed.
    let mut kv = KvClient::new(channel(&ep).await);
    let started = Instant::now();
    kv.put(PutRequest {
        key: format!("{prefix}10.0.0.2:8888").into_bytes(),
        value: br#"{"network":"tcp","address":"10.0.0.2:8888"}"#.to_vec(),
        lease: 0,
    })
    .await
    .unwrap();
    let put = started.elapsed();
    let (set, seen) = wait_for(&mut fleet, Duration::from_secs(5), "update", |s| {
        s.len() == 2 && s[1].tags.is_empty()
    })
    .await;
    eprintln!(
        "Kitex-format put took {put:?}; the watcher saw it {seen:?} after, {:?} after the put began",
        started.elapsed()
    );
    assert!(seen < VISIBLE_WITHIN, "seen after {seen:?}");
    assert_eq!(set[1], at("10.0.0.2:8888"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts etcd (etcd-server) on free loopback ports"]
async fn two_instances_with_weights_and_tags() {
    let etcd = EtcdServer::start();
    let ep = etcd.endpoint();
    let a = at("127.0.0.1:9001").with_weight(1).with_tag("zone", "a");
    let b = at("127.0.0.1:9002")
        .with_weight(100)
        .with_tag("zone", "b")
        .with_tag("version", "2");
    let registrar_a = EtcdRegistrar::new(ep.clone(), "calc", options()).unwrap();
    let registrar_b = EtcdRegistrar::new(ep.clone(), "calc", options()).unwrap();
    registrar_a.register(&a).unwrap();
    registrar_b.register(&b).unwrap();

    let discover = EtcdDiscover::new(ep.clone(), "calc", options()).unwrap();
    let mut fleet = discover.watch();
    let set = next_within(&mut fleet, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set, vec![a.clone(), b.clone()]);
    for i in [&a, &b] {
        let key = instance_key(DEFAULT_PREFIX, "calc", i.addr);
        assert_eq!(raw_get(&ep, &key).await.unwrap().0, encode_value(i));
    }

    // Registering again with a new weight replaces the value in place.
    let heavier = a.clone().with_weight(50);
    registrar_a.register(&heavier).unwrap();
    let (set, seen) = wait_for(&mut fleet, Duration::from_secs(5), "reweight", |s| {
        s.first().is_some_and(|i| i.weight == 50)
    })
    .await;
    eprintln!("reweight -> watcher: {seen:?}");
    assert_eq!(set, vec![heavier.clone(), b.clone()]);

    // Two watchers see the same thing.
    let mut second = discover.watch();
    let set = next_within(&mut second, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(set, vec![heavier.clone(), b.clone()]);

    registrar_b.deregister(&b).unwrap();
    let (set, _) = wait_for(&mut fleet, Duration::from_secs(5), "b gone", |s| {
        s.len() == 1
    })
    .await;
    assert_eq!(set, vec![heavier.clone()]);
    let (set, _) = wait_for(&mut second, Duration::from_secs(5), "b gone", |s| {
        s.len() == 1
    })
    .await;
    assert_eq!(set, vec![heavier.clone()]);
    registrar_a.deregister(&heavier).unwrap();
    wait_for(&mut fleet, Duration::from_secs(5), "all gone", |s| {
        s.is_empty()
    })
    .await;
}

// No etcd: errors, promptly, and no deadlock.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_fails_promptly_when_etcd_is_down() {
    let endpoint = format!("127.0.0.1:{}", free_port());
    let registrar = EtcdRegistrar::new(
        endpoint,
        "echo",
        options().with_connect_timeout(Duration::from_millis(500)),
    )
    .unwrap();
    let started = Instant::now();
    // From inside a tokio task, like a server started on a runtime.
    let err = registrar.register(&at("127.0.0.1:8888")).unwrap_err();
    eprintln!("register with etcd down: {err} ({:?})", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.to_string().contains("etcd"), "{err}");
    let err = registrar.deregister(&at("127.0.0.1:8888")).unwrap_err();
    assert!(err.to_string().contains("etcd"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_yields_errors_while_etcd_is_down() {
    let endpoint = format!("127.0.0.1:{}", free_port());
    let discover = EtcdDiscover::new(
        endpoint,
        "echo",
        options().with_connect_timeout(Duration::from_millis(500)),
    )
    .unwrap();
    let mut fleet = discover.watch();
    for _ in 0..2 {
        let item = next_within(&mut fleet, Duration::from_secs(5)).await;
        assert!(matches!(item, Some(Err(_))), "{item:?}");
    }
}

#[test]
fn registrar_and_discover_from_urls() {
    let r = EtcdRegistrar::from_url("etcd://127.0.0.1:2379/echo").unwrap();
    assert_eq!((r.endpoint(), r.service()), ("127.0.0.1:2379", "echo"));
    let d = EtcdDiscover::from_url("etcd://[::1]:2379/echo").unwrap();
    assert_eq!((d.endpoint(), d.service()), ("[::1]:2379", "echo"));
    let e = EtcdRegistrar::from_url("etcd://127.0.0.1/echo").unwrap_err();
    assert!(e.to_string().contains("no port"), "{e}");
    assert!(EtcdDiscover::new("127.0.0.1:2379", "a/b", EtcdOptions::default()).is_err());
}
