//! The fleet example (`src/bin/fleet.rs`) runs to the end with no failed
//! call: a short run with a static list, and (ignored: it needs
//! `/usr/bin/etcd`) one through a throwaway etcd.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits for `child` at most `limit`, killing it (by its PID) past that;
/// returns whether it succeeded and its output.
fn finish(mut child: Child, limit: Duration) -> (bool, String, String) {
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

fn fleet(extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["--seconds", "1.5"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the fleet binary starts")
}

fn check(ok: bool, stdout: &str, stderr: &str) {
    assert!(ok, "the fleet failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\nfailed calls: 0\n"), "{stdout}");
    assert!(stdout.contains("traceparent 00-"), "{stdout}");
    assert!(stdout.contains("[instance 1] started again on"), "{stdout}");
    for instance in 0..3 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("  instance {instance} ")))
            .unwrap_or_else(|| panic!("no count for instance {instance}:\n{stdout}"));
        assert!(!line.contains(": 0 calls"), "{line}");
    }
}

#[test]
fn the_static_fleet_loses_no_call_across_a_restart() {
    let (ok, stdout, stderr) = finish(fleet(&[]), Duration::from_secs(60));
    check(ok, &stdout, &stderr);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
#[ignore = "needs etcd on PATH (apt-get install etcd-server)"]
fn the_etcd_fleet_loses_no_call_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("thriftgen-demo-etcd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (client, peer) = (free_port(), free_port());
    let mut etcd = Command::new("etcd")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
        .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
        .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
        .arg(format!(
            "--initial-advertise-peer-urls=http://127.0.0.1:{peer}"
        ))
        .arg(format!("--initial-cluster=default=http://127.0.0.1:{peer}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("etcd.log")).expect("a log file"))
        .spawn()
        .expect("etcd starts");
    // Up once it accepts connections: on a loaded machine that can take
    // a while, so up to a minute, and a failure says what etcd said.
    let up = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", client)).is_err() {
        let exited = etcd.try_wait().expect("wait").is_some();
        if exited || Instant::now() > up {
            let _ = etcd.kill();
            let _ = etcd.wait();
            let log = std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
            panic!("etcd did not come up on port {client} (exited: {exited}):\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let endpoint = format!("127.0.0.1:{client}");
    let result = finish(fleet(&["--etcd", &endpoint]), Duration::from_secs(90));
    let _ = etcd.kill();
    let _ = etcd.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let (ok, stdout, stderr) = result;
    check(ok, &stdout, &stderr);
    assert!(stdout.contains("registered in etcd"), "{stdout}");
}
