//! Out of file descriptors: `accept` fails with EMFILE. The server neither
//! spins nor panics, and the connections waiting in the backlog are served
//! once descriptors free up. Runs `echo-server` under `prlimit --nofile`
//! (util-linux), so the limit binds the server process alone.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{echo_call, echo_server_under, read_reply};

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

#[test]
fn out_of_descriptors_the_server_backs_off_then_serves_the_backlog() {
    // 32 descriptors: the standard three, the poll instances, wakers and the
    // listener leave room for about twenty connections.
    let Some((server, addr)) = echo_server_under("--nofile=32:32") else {
        return;
    };

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
