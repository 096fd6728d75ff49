//! A throwaway etcd for the `#[ignore]`d fleet tests (the minimal part of
//! `etcd/tests/common/mod.rs`): `etcd` found on PATH, on free loopback
//! ports, with its data in a temporary directory; killed by PID when
//! dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running etcd.
pub struct EtcdServer {
    child: Child,
    client_port: u16,
    dir: PathBuf,
}

impl EtcdServer {
    /// Starts etcd and waits until it is healthy (panics after 20 s).
    pub fn start() -> EtcdServer {
        let dir = std::env::temp_dir().join(format!("thriftgen-fleet-etcd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let etcd = find_on_path("etcd")
            .expect("etcd is not on PATH: apt-get install etcd-server (see etcd/README.md)");
        let (client_port, peer_port) = (free_port(), free_port());
        let client = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let log = std::fs::File::create(dir.join("etcd.log")).unwrap();
        let child = Command::new(etcd)
            .arg("--name")
            .arg("default")
            .arg("--data-dir")
            .arg(dir.join("data"))
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
        let mut server = EtcdServer {
            child,
            client_port,
            dir,
        };
        server.wait_healthy();
        server
    }

    /// `127.0.0.1:PORT`, etcd's client endpoint.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    fn wait_healthy(&mut self) {
        let started = Instant::now();
        let addr: SocketAddr = self.endpoint().parse().unwrap();
        while started.elapsed() < Duration::from_secs(20) {
            if let Some(status) = self.child.try_wait().unwrap() {
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
        std::fs::read_to_string(self.dir.join("etcd.log")).unwrap_or_default()
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
