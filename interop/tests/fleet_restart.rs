//! A fleet of three `echo-server` processes registered in a real etcd,
//! called by an in-process fleet client (etcd discovery, power of two
//! choices) from 200 tasks, while servers restart:
//!
//! - graceful restarts (SIGTERM: deregister, exit wait, drain; then a new
//!   process on the same port registers again): no call fails, and every
//!   restarted process serves calls;
//! - a SIGKILL: the calls that fail are at most those in flight on the
//!   killed instance at the kill, and none fails later than 1 s after it;
//!   with `Echo` marked idempotent, none fails.
//!
//! `#[ignore]`d: it needs `etcd` on PATH (`etcd/setup.sh`). Run with
//! `cargo test -p thriftgen-interop --test fleet_restart -- --ignored`.

#[path = "support/etcd.rs"]
mod etcd;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thriftgen_etcd::EtcdDiscover;
use thriftgen_interop::echo::{EchoServerAsyncClient, Request};
use thriftgen_runtime::client::{AsyncClient, AsyncClientOptions, Balancer, FleetOptions};

/// Tasks calling at once.
const TASKS: usize = 200;

/// One test at a time: each runs an etcd, three servers and 200 tasks on a
/// small machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// An `echo-server` process registered in etcd; killed (by PID) when
/// dropped.
struct EchoServer {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl EchoServer {
    /// Starts `echo-server` on `port`, registered at `url`; returns once it
    /// says it registered (panics after 15 s).
    fn start(port: u16, url: &str, dir: &std::path::Path, generation: usize) -> EchoServer {
        let log = dir.join(format!("echo-server-{port}-{generation}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_echo-server"))
            .args(["--addr", &format!("127.0.0.1:{port}"), "--register", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("echo-server starts");
        let mut server = EchoServer {
            child: Some(child),
            port,
            log,
        };
        let started = Instant::now();
        while !server.log().contains("registered as") {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("echo-server exited ({status}):\n{}", server.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "echo-server not registered after 15 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = self.child.as_ref().expect("running").id();
        // SAFETY: kill(2) on our own child's PID.
        let rc = unsafe { libc::kill(libc::pid_t::try_from(pid).unwrap(), signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// SIGTERM, waits for the exit (panics after 20 s); the requests the
    /// process served, from its stop line.
    fn stop(mut self) -> u64 {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take().unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "echo-server exited with {status}");
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("echo-server did not stop within 20 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        served(&self.log())
    }

    /// SIGKILL, and waits for the exit.
    fn kill(mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.take().unwrap().wait();
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `requests: N` of the line `echo-server stopped: Stats { .. }`.
fn served(log: &str) -> u64 {
    let line = log
        .lines()
        .find(|l| l.starts_with("echo-server stopped: "))
        .unwrap_or_else(|| panic!("no stop line in:\n{log}"));
    let rest = &line[line.find("requests: ").expect("requests in the stop line") + 10..];
    rest[..rest.find(',').unwrap()].parse().unwrap()
}

/// etcd, three registered servers, and a directory for their logs.
struct Fleet {
    servers: Vec<Option<EchoServer>>,
    url: String,
    dir: PathBuf,
    // Last: dropped after the servers.
    _etcd: etcd::EtcdServer,
}

impl Fleet {
    fn start(name: &str) -> Fleet {
        let etcd = etcd::EtcdServer::start();
        let url = format!("etcd://{}/{name}", etcd.endpoint());
        let dir = std::env::temp_dir().join(format!(
            "thriftgen-fleet-restart-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let servers = (0..3)
            .map(|_| Some(EchoServer::start(etcd::free_port(), &url, &dir, 0)))
            .collect();
        Fleet {
            servers,
            url,
            dir,
            _etcd: etcd,
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.servers.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fleet client of `url` with `fleet`'s options (the balancer: p2c).
fn client(url: &str, fleet: FleetOptions) -> EchoServerAsyncClient {
    let discover = EtcdDiscover::from_url(url).expect("a valid URL");
    let options = AsyncClientOptions::default();
    let fleet = FleetOptions {
        balancer: Balancer::PowerOfTwoChoices,
        ..fleet
    };
    EchoServerAsyncClient::from_client(AsyncClient::discover(discover, options, fleet))
}

/// 200 tasks calling `Echo` in a loop, counting answers and failures.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failures: Arc<Mutex<Vec<(Instant, String)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(runtime: &tokio::runtime::Runtime, client: &EchoServerAsyncClient) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..TASKS)
            .map(|task| {
                let (client, stop, ok, failures) =
                    (client.clone(), stop.clone(), ok.clone(), failures.clone());
                runtime.spawn(async move {
                    let request = Request {
                        action: "echo".into(),
                        msg: format!("task {task}").into(),
                    };
                    while !stop.load(Ordering::Relaxed) {
                        match client.echo(&request).await {
                            Ok(reply) if reply.msg == request.msg => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => panic!("a wrong reply"),
                            Err(e) => failures
                                .lock()
                                .unwrap()
                                .push((Instant::now(), e.to_string())),
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            ok,
            failures,
            tasks,
        }
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Waits until `n` more calls were answered (panics after 20 s).
    fn wait_calls(&self, n: u64) {
        let (start, started) = (self.ok(), Instant::now());
        while self.ok() < start + n {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "fewer than {n} calls answered in 20 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the tasks; the calls answered and the failures.
    fn finish(mut self, runtime: &tokio::runtime::Runtime) -> (u64, Vec<(Instant, String)>) {
        self.stop.store(true, Ordering::Relaxed);
        let tasks = std::mem::take(&mut self.tasks);
        runtime.block_on(async {
            for task in tasks {
                tokio::time::timeout(Duration::from_secs(15), task)
                    .await
                    .expect("a task finished in time")
                    .expect("a task did not panic");
            }
        });
        let failures = std::mem::take(&mut *self.failures.lock().unwrap());
        (self.ok(), failures)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn summary(failures: &[(Instant, String)]) -> String {
    let mut lines: Vec<String> = failures.iter().take(5).map(|(_, e)| e.clone()).collect();
    if failures.len() > 5 {
        lines.push(format!("... and {} more", failures.len() - 5));
    }
    lines.join("\n")
}

/// The calls in flight on `addr` now.
fn in_flight(client: &EchoServerAsyncClient, addr: SocketAddr) -> usize {
    client
        .client()
        .instances()
        .iter()
        .find(|i| i.instance.addr == addr)
        .map_or(0, |i| i.in_flight)
}

#[test]
#[ignore = "needs etcd on PATH (etcd/setup.sh)"]
fn graceful_restarts_fail_no_call() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut fleet = Fleet::start("echo-graceful");
    let runtime = runtime();
    let client = client(&fleet.url, FleetOptions::default());
    let load = Load::start(&runtime, &client);
    load.wait_calls(1000);

    // Three restarts over ~10 s: each SIGTERM waits for the exit (the
    // exit wait, 1 s, and the drain), then a new process on the same port
    // registers again.
    let run = Instant::now();
    for (i, at) in [1.0, 4.0, 7.0].into_iter().enumerate() {
        let wait = Duration::from_secs_f64(at).saturating_sub(run.elapsed());
        std::thread::sleep(wait);
        let old = fleet.servers[i].take().unwrap();
        let port = old.port;
        let t = Instant::now();
        let served = old.stop();
        eprintln!(
            "restart {i}: 127.0.0.1:{port} served {served} and stopped in {:?}",
            t.elapsed()
        );
        fleet.servers[i] = Some(EchoServer::start(port, &fleet.url, &fleet.dir, 1));
    }
    std::thread::sleep(Duration::from_secs(10).saturating_sub(run.elapsed()));
    let (ok, failures) = load.finish(&runtime);
    eprintln!("{ok} calls answered, {} failed", failures.len());

    // The restarted processes, stopped: what each served.
    let mut after = Vec::new();
    for server in fleet.servers.iter_mut() {
        let server = server.take().unwrap();
        let addr = server.addr();
        after.push((addr, server.stop()));
    }
    eprintln!("served after the restarts: {after:?}");
    eprintln!("(took {:?})", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} calls failed:\n{}",
        failures.len(),
        summary(&failures)
    );
    for (addr, served) in after {
        assert!(served > 0, "{addr} got no call after its restart");
    }
}

#[test]
#[ignore = "needs etcd on PATH (etcd/setup.sh)"]
fn a_killed_instance_fails_at_most_its_calls_in_flight() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let mut fleet = Fleet::start("echo-killed");
    let runtime = runtime();

    for (victim, idempotent) in [(0, false), (1, true)] {
        let mut options = FleetOptions::default();
        if idempotent {
            options.retry.idempotent_methods = vec!["Echo".to_owned()];
        }
        let client = client(&fleet.url, options);
        let load = Load::start(&runtime, &client);
        load.wait_calls(2000);
        let server = fleet.servers[victim].take().unwrap();
        let addr = server.addr();
        let before = in_flight(&client, addr);
        let killed = Instant::now();
        server.kill();
        // The calls that can fail are those in flight at the kill, and
        // those the client sends on a pooled connection in the moment
        // before the reset reaches it (it cannot tell them from calls the
        // dead process ran): count the most in flight on it over the 100 ms
        // after the kill, sampled every millisecond.
        let mut after = 0;
        while killed.elapsed() < Duration::from_millis(100) {
            after = after.max(in_flight(&client, addr));
            std::thread::sleep(Duration::from_millis(1));
        }
        let in_flight = before.max(after);
        // Calls go on for 2 s after the kill; all must be answered later.
        std::thread::sleep(Duration::from_secs(2));
        let ok_before_end = load.ok();
        load.wait_calls(500);
        let (ok, failures) = load.finish(&runtime);
        let late: Vec<_> = failures
            .iter()
            .filter(|(at, _)| at.duration_since(killed) > Duration::from_secs(1))
            .cloned()
            .collect();
        eprintln!(
            "SIGKILL {addr} (idempotent: {idempotent}): {} calls in flight on it, \
             {} failed ({} later than 1 s), {ok} answered ({ok_before_end} 2 s after the kill)",
            in_flight,
            failures.len(),
            late.len()
        );
        if idempotent {
            assert!(
                failures.is_empty(),
                "idempotent: {} calls failed:\n{}",
                failures.len(),
                summary(&failures)
            );
        } else {
            assert!(
                failures.len() <= in_flight,
                "{} calls failed, {in_flight} were in flight on the killed instance:\n{}",
                failures.len(),
                summary(&failures)
            );
            assert!(
                late.is_empty(),
                "{} calls failed later than 1 s after the kill:\n{}",
                late.len(),
                summary(&late)
            );
        }
    }
    eprintln!("(took {:?})", started.elapsed());
}
