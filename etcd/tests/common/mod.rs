//! A throwaway etcd for the `#[ignore]`d tests: `/usr/bin/etcd` (Debian's
//! etcd-server) found on PATH, on free loopback ports, with its data in a
//! temporary directory; killed by PID when dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use thriftgen_runtime::discover::{DiscoverError, Instance, InstanceStream};

/// One etcd at a time: the tests time what they see, and the machine may
/// be small.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running etcd.
pub struct EtcdServer {
    child: Option<Child>,
    client_port: u16,
    peer_port: u16,
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl EtcdServer {
    /// Starts etcd and waits until it is healthy.
    pub fn start() -> EtcdServer {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "thriftgen-etcd-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = EtcdServer {
            child: None,
            client_port: free_port(),
            peer_port: free_port(),
            dir,
            _turn: turn,
        };
        server.spawn();
        server
    }

    /// `127.0.0.1:PORT`, etcd's client endpoint.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd (by PID) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills etcd and starts it again on the same ports, with its data or
    /// (`wipe`) as a new cluster that knows no key and no lease.
    pub fn restart(&mut self, wipe: bool) {
        self.kill();
        if wipe {
            std::fs::remove_dir_all(self.dir.join("data")).unwrap();
        }
        self.spawn();
    }

    fn spawn(&mut self) {
        let etcd = find_on_path("etcd")
            .expect("etcd is not on PATH: apt-get install etcd-server (see etcd/README.md)");
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(etcd)
            .arg("--name")
            .arg("default")
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .arg("--listen-client-urls")
            .arg(&client)
            .arg("--advertise-client-urls")
            .arg(&client)
            .arg("--listen-peer-urls")
            .arg(&peer)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer)
            .arg("--initial-cluster")
            .arg(format!("default={peer}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_healthy();
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }

    fn wait_healthy(&mut self) {
        let started = Instant::now();
        let addr: SocketAddr = self.endpoint().parse().unwrap();
        while started.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("etcd exited ({status}):\n{}", self.log());
            }
            if healthy(addr) {
                eprintln!("etcd up on {addr} in {:?}", started.elapsed());
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("etcd not healthy after 20 s:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// etcd answers `GET /health` with `{"health":"true"}`.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: etcd\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains(r#""health":"true""#)
}

/// A loopback port nobody listens on (now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The next item of `stream`, or `None` after `within`.
pub async fn next_within(
    stream: &mut InstanceStream,
    within: Duration,
) -> Option<Result<Vec<Instance>, DiscoverError>> {
    let next = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx));
    tokio::time::timeout(within, next).await.ok().flatten()
}

/// Reads `stream` until a set satisfies `pred` (skipping errors); that set
/// and how long it took. Panics after `within`.
pub async fn wait_for(
    stream: &mut InstanceStream,
    within: Duration,
    what: &str,
    pred: impl Fn(&[Instance]) -> bool,
) -> (Vec<Instance>, Duration) {
    let started = Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        match next_within(stream, left).await {
            Some(Ok(set)) if pred(&set) => return (set, started.elapsed()),
            Some(Ok(_)) => {}
            Some(Err(e)) => eprintln!("(discover error while waiting for {what}: {e})"),
            None => panic!("{what}: not seen within {within:?}"),
        }
    }
}
