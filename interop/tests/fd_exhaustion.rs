//! Out of file descriptors: `accept` fails with EMFILE. The server neither
//! spins nor panics, and the connections waiting in the backlog are served
//! once descriptors free up. Runs `echo-server` under `prlimit --nofile`
//! (util-linux), so the limit binds the server process alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One framed echo call (strict binary), `msg` = `seqid` as text.
fn echo_call(seqid: i32) -> Vec<u8> {
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
fn read_reply(stream: &mut TcpStream, seqid: i32) -> std::io::Result<()> {
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

/// Voluntary context switches (wake-ups) of all of `pid`'s threads.
fn wakeups(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        for line in status.lines() {
            if let Some(n) = line.strip_prefix("voluntary_ctxt_switches:") {
                total += n.trim().parse::<u64>().unwrap();
            }
        }
    }
    total
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn out_of_descriptors_the_server_backs_off_then_serves_the_backlog() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: no prlimit (util-linux)");
        return;
    }
    let addr = free_port();
    // 32 descriptors: the standard three, the poll instances, wakers and the
    // listener leave room for about twenty connections.
    let mut child = Command::new("prlimit")
        .args(["--nofile=32:32", "--"])
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
    // Keep reading the server's log so it never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("server: {line}");
        }
    });

    // More connections than descriptors: the kernel completes them all
    // into the backlog; the server accepts until it runs out.
    let mut conns = Vec::new();
    for seqid in 0..40 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&echo_call(seqid)).unwrap();
        conns.push((seqid, stream));
    }
    // The first ones are answered; find where the answers stop.
    let mut served = 0;
    for (seqid, stream) in conns.iter_mut() {
        // The first answer may take a while on a busy machine; once answers
        // flow, one that takes half a second is not coming.
        let wait = if served == 0 { 10_000 } else { 500 };
        stream
            .set_read_timeout(Some(Duration::from_millis(wait)))
            .unwrap();
        if let Err(e) = read_reply(stream, *seqid) {
            eprintln!("call {seqid} not answered yet: {e}");
            break;
        }
        served += 1;
    }
    assert!(
        (5..40).contains(&served),
        "some connections served, some waiting: {served}"
    );

    // Out of descriptors, the acceptor waits (10 ms doubling to 1 s), it
    // does not spin: over two seconds a handful of wake-ups, not hundreds.
    let pid = server.0.id();
    let before = wakeups(pid);
    std::thread::sleep(Duration::from_secs(2));
    let woken = wakeups(pid).saturating_sub(before);
    assert!(
        woken < 40,
        "{woken} wake-ups in 2 s while out of descriptors"
    );

    // Descriptors free up: the backlog is served.
    let waiting = conns.split_off(served);
    drop(conns);
    let started = Instant::now();
    for (seqid, mut stream) in waiting {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        read_reply(&mut stream, seqid)
            .unwrap_or_else(|e| panic!("call {seqid} waiting in the backlog: {e}"));
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}
