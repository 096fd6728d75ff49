//! What the tests that run `echo-server` as a process under `prlimit`
//! share: the process, and echo calls written and read by hand.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// One framed echo call (strict binary), `msg` = `seqid` as text.
pub fn echo_call(seqid: i32) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as i32).to_be_bytes());
        out.extend_from_slice(s);
    }
    let msg = seqid.to_string();
    let mut body = Vec::new();
    body.extend_from_slice(&0x8001_0001u32.to_be_bytes());
    string(&mut body, b"Echo");
    body.extend_from_slice(&seqid.to_be_bytes());
    body.extend_from_slice(&[0x0c, 0x00, 0x01]); // field 1: struct Request
    body.extend_from_slice(&[0x0b, 0x00, 0x01]); // action
    string(&mut body, b"echo");
    body.extend_from_slice(&[0x0b, 0x00, 0x02]); // msg
    string(&mut body, msg.as_bytes());
    body.extend_from_slice(&[0x00, 0x00]); // end of Request, end of args
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    frame
}

/// Reads one reply frame and checks it echoes `seqid`.
pub fn read_reply(stream: &mut TcpStream, seqid: i32) -> std::io::Result<()> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body)?;
    let needle = seqid.to_string();
    assert!(
        body.windows(needle.len()).any(|w| w == needle.as_bytes()),
        "the reply echoes {seqid}"
    );
    Ok(())
}

/// A server process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `echo-server` on a free loopback port under `prlimit LIMIT` (for example
/// `--nofile=32:32`), once it listens; its log goes to the test's stderr.
/// `None` when util-linux's `prlimit` is missing.
pub fn echo_server_under(limit: &str) -> Option<(Running, SocketAddr)> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: no prlimit (util-linux)");
        return None;
    }
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let mut child = Command::new("prlimit")
        .args([limit, "--"])
        .arg(env!("CARGO_BIN_EXE_echo-server"))
        .args(["--addr", &addr.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Running(child);
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("listening on"), "{first}");
    // Keep reading the log so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("server: {line}");
        }
    });
    Some((server, addr))
}
