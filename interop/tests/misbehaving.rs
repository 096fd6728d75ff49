//! Peers that misbehave close their own connection, never the server: while
//! each misbehaviour runs, a well-behaved client keeps getting answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use thriftgen_interop::echo::{
    EchoServer, EchoServerClient, EchoServerProcessor, Request, Response,
};
use thriftgen_runtime::client::ClientOptions;
use thriftgen_runtime::protocol::MessageHeader;
use thriftgen_runtime::protocol::{ApplicationException, BinaryWriter, OutputProtocol};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::CallContext;
use thriftgen_runtime::transport::{Dialect, ProtocolId};
use thriftgen_runtime::{bytes::BytesMut, ByteString, MessageType, Struct};

struct Echo;

impl EchoServer for Echo {
    fn echo(&self, _ctx: &CallContext, req: Request) -> Result<Response, ApplicationException> {
        if req.action == "panic" {
            panic!("asked to panic");
        }
        if req.action == "sleep" {
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Response {
            action: req.action,
            msg: req.msg,
        })
    }
}

fn server(handlers: Handlers) -> RunningServer {
    Server::new(EchoServerProcessor::new(Echo))
        .options(ServerOptions {
            pollers: 2,
            handlers,
            read_timeout: Some(Duration::from_millis(300)),
            write_timeout: Some(Duration::from_millis(500)),
            idle_timeout: Some(Duration::from_secs(30)),
            max_pending_output: 256 * 1024,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

fn request(action: &str, msg: &str) -> Request {
    Request {
        action: ByteString::from(action.to_string()),
        msg: ByteString::from(msg.to_string()),
    }
}

/// A client calling in a loop until stopped; counts its good answers and
/// fails the test on any bad one.
struct Witness {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

impl Witness {
    fn start(addr: SocketAddr) -> Witness {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut client = EchoServerClient::connect(addr, ClientOptions::default()).unwrap();
            let mut n = 0;
            while !flag.load(Ordering::SeqCst) {
                let msg = format!("witness {n}");
                let reply = client
                    .echo(&request("echo", &msg))
                    .expect("the witness is served");
                assert_eq!(reply.msg, msg.as_str());
                n += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            n
        });
        Witness { stop, thread }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        let n = self.thread.join().expect("the witness never failed");
        assert!(n > 0, "the witness got answers");
        n
    }
}

/// Waits until the server closes `stream` (read gives 0 or an error).
fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    let start = Instant::now();
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
        if start.elapsed() > within {
            return false;
        }
    }
}

/// A framed binary echo call.
fn framed_call(seqid: i32, msg: &str) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.extend_from_slice(&[0; 4]);
    let mut w = BinaryWriter::new(&mut out);
    w.write_message_begin(&MessageHeader {
        name: ByteString::from_static("Echo"),
        kind: MessageType::Call,
        seqid,
    })
    .unwrap();
    w.write_struct_begin("Echo_args").unwrap();
    w.write_field_begin(thriftgen_runtime::TType::Struct, 1)
        .unwrap();
    request("echo", msg).write(&mut w).unwrap();
    w.write_field_end().unwrap();
    w.write_field_stop().unwrap();
    w.write_struct_end().unwrap();
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.to_vec()
}

/// A THeader frame (sequence number 1) with `header` (padded already) and
/// the message `message`.
fn theader_frame(header: &[u8], message: &[u8]) -> Vec<u8> {
    assert_eq!(header.len() % 4, 0);
    let mut out = Vec::new();
    out.extend_from_slice(&((10 + header.len() + message.len()) as u32).to_be_bytes());
    out.extend_from_slice(&[0x0f, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]);
    out.extend_from_slice(&((header.len() / 4) as u16).to_be_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(message);
    out
}

#[test]
fn garbage_truncated_and_oversized_frames_close_only_their_connection() {
    for handlers in [Handlers::Inline, Handlers::Workers(2)] {
        let server = server(handlers);
        let addr = server.local_addr();
        let witness = Witness::start(addr);

        // Garbage: not a dialect at all.
        let mut garbage = TcpStream::connect(addr).unwrap();
        garbage
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert!(
            closed_by_server(&mut garbage, Duration::from_secs(2)),
            "garbage"
        );

        // An oversized frame: 1 GiB announced.
        let mut big = TcpStream::connect(addr).unwrap();
        big.write_all(&[0x40, 0, 0, 0, 0x80, 0x01, 0, 1]).unwrap();
        assert!(
            closed_by_server(&mut big, Duration::from_secs(2)),
            "oversized"
        );

        // A framed message that is garbage inside: PROTOCOL_ERROR, close.
        let mut bad = TcpStream::connect(addr).unwrap();
        bad.write_all(&[0, 0, 0, 6, 0x80, 0x01, 0, 1, 0xff, 0xff])
            .unwrap();
        assert!(
            closed_by_server(&mut bad, Duration::from_secs(2)),
            "bad message"
        );

        // A THeader frame whose header key runs past the header: close.
        let message = &framed_call(3, "bad header")[4..];
        let mut bad_header = TcpStream::connect(addr).unwrap();
        bad_header
            .write_all(&theader_frame(
                &[0x00, 0x00, 0x01, 0x01, 0x7f, 0, 0, 0],
                message,
            ))
            .unwrap();
        assert!(
            closed_by_server(&mut bad_header, Duration::from_secs(2)),
            "malformed THeader header"
        );

        // Byte-string headers (a key that is not UTF-8, NUL and 0xff in a
        // value, an empty value) are headers like any: served.
        let message = &framed_call(4, "binary headers")[4..];
        #[rustfmt::skip]
        let header = [
            0x00, 0x00, 0x01, 0x02,             // binary, no transforms, 2 key/values
            0x02, 0xff, 0xfe,                   // key \xff\xfe
            0x03, 0x00, 0x01, 0xff,             // value \x00\x01\xff
            0x01, b'e', 0x00,                   // key "e", empty value
            0x00, 0x00,                         // padding
        ];
        let mut binary = TcpStream::connect(addr).unwrap();
        binary.write_all(&theader_frame(&header, message)).unwrap();
        binary
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut len = [0u8; 4];
        binary.read_exact(&mut len).unwrap();
        let mut reply = vec![0; u32::from_be_bytes(len) as usize];
        binary.read_exact(&mut reply).unwrap();
        assert_eq!(&reply[..2], &[0x0f, 0xff], "a THeader reply");
        assert!(reply.windows(14).any(|w| w == b"binary headers"));

        // A truncated frame that never completes: the read timeout.
        let mut stalled = TcpStream::connect(addr).unwrap();
        let call = framed_call(1, "never finished");
        stalled.write_all(&call[..call.len() / 2]).unwrap();
        let started = Instant::now();
        assert!(
            closed_by_server(&mut stalled, Duration::from_secs(3)),
            "stalled"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "closed by the timeout"
        );

        // Abrupt disconnects, mid-request and mid-reply.
        for _ in 0..20 {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(&call[..call.len() / 3]).unwrap();
            drop(s);
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(&framed_call(2, &"x".repeat(100_000))).unwrap();
            drop(s);
        }

        witness.finish();
        let stats = server.shutdown(Duration::from_secs(5));
        assert!(stats.errors >= 5, "{stats:?}");
    }
}

#[test]
fn a_slow_writer_is_served_and_a_slow_reader_is_cut_off() {
    let server = server(Handlers::Inline);
    let addr = server.local_addr();
    let witness = Witness::start(addr);

    // A slow writer: one byte every 10 ms (each gap within the read
    // timeout): still served.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_nodelay(true).unwrap();
    let call = framed_call(7, "slow");
    for chunk in call.chunks(16) {
        slow.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(10));
    }
    slow.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut len = [0u8; 4];
    slow.read_exact(&mut len).unwrap();
    let mut reply = vec![0; u32::from_be_bytes(len) as usize];
    slow.read_exact(&mut reply).unwrap();
    assert!(reply.windows(4).any(|w| w == b"slow"));

    // A reader that never reads: sends calls with big replies until the
    // server stops reading it (back-pressure) and the write timeout closes
    // it. The sender must not block forever: its writes time out too.
    let mut hog = TcpStream::connect(addr).unwrap();
    hog.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let big = framed_call(9, &"y".repeat(64 * 1024));
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(5) {
        match hog.write_all(&big) {
            Ok(()) => sent += 1,
            Err(_) => break,
        }
    }
    assert!(sent > 0);
    // The server closes it within its write timeout (plus a sweep tick).
    std::thread::sleep(Duration::from_millis(1200));
    let open = server.stats().connections_open;
    assert!(open <= 3, "the hog is closed: {open} open");

    witness.finish();
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn panics_unknown_methods_and_the_connection_cap() {
    let server = Server::new(EchoServerProcessor::new(Echo))
        .options(ServerOptions {
            pollers: 1,
            max_connections: 2,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let mut client = EchoServerClient::connect(addr, ClientOptions::default()).unwrap();
    let err = client.echo(&request("panic", "")).unwrap_err();
    assert!(err.to_string().contains("internal error"), "{err}");
    assert_eq!(client.echo(&request("echo", "after")).unwrap().msg, "after");

    let _second = EchoServerClient::connect(addr, ClientOptions::default()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut third = TcpStream::connect(addr).unwrap();
    assert!(
        closed_by_server(&mut third, Duration::from_secs(2)),
        "over the cap"
    );
    assert_eq!(server.stats().connections_rejected, 1);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn shutdown_under_load_loses_no_accepted_request() {
    for handlers in [Handlers::Inline, Handlers::Workers(2)] {
        let server = server(handlers);
        let addr = server.local_addr();
        let answered = Arc::new(AtomicU64::new(0));
        let clients: Vec<_> = (0..8)
            .map(|i| {
                let answered = Arc::clone(&answered);
                std::thread::spawn(move || {
                    let options = ClientOptions::new(
                        if i % 2 == 0 {
                            Dialect::Framed
                        } else {
                            Dialect::Header
                        },
                        ProtocolId::Compact,
                    );
                    let mut client = EchoServerClient::connect(addr, options).unwrap();
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while Instant::now() < deadline {
                        match client.echo(&request(if i == 0 { "sleep" } else { "echo" }, "load")) {
                            Ok(reply) => {
                                assert_eq!(reply.msg, "load");
                                answered.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let stats = server.shutdown(Duration::from_secs(5));
        for c in clients {
            c.join().unwrap();
        }
        assert!(stats.requests > 0);
        assert_eq!(
            stats.replies,
            answered.load(Ordering::SeqCst),
            "every reply written was read: {stats:?}"
        );
        assert_eq!(
            stats.requests, stats.replies,
            "every request answered: {stats:?}"
        );
        assert_eq!(stats.connections_open, 0);
    }
}

#[test]
fn peers_holding_big_incomplete_frames_are_shed_past_the_server_budget() {
    // A budget of 4 MiB for incomplete frames; frames may still be 16 MiB.
    let server = Server::new(EchoServerProcessor::new(Echo))
        .options(ServerOptions {
            pollers: 2,
            max_partial_bytes: 4 << 20,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let witness = Witness::start(addr);
    // Eight peers each announce a frame just under 16 MiB and send 1 MiB of
    // it, then stall: 8 MiB would be pinned.
    // The frame starts like a strict binary call, so the server takes it
    // for one and waits for the rest.
    let mut chunk = vec![0x41u8; 1 << 20];
    chunk[..4].copy_from_slice(&[0x80, 0x01, 0x00, 0x01]);
    let mut hostile = Vec::new();
    for _ in 0..8 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(&((16 << 20) - 16u32).to_be_bytes())
            .unwrap();
        stream.write_all(&chunk).unwrap();
        hostile.push(stream);
        std::thread::sleep(Duration::from_millis(50));
    }
    let shed = hostile
        .iter_mut()
        .map(|stream| closed_by_server(stream, Duration::from_secs(2)))
        .filter(|&closed| closed)
        .count();
    // At most four fit in 4 MiB (each holds 1 MiB); the rest are shed.
    assert!(
        (4..=8).contains(&shed),
        "{shed} of 8 peers holding 1 MiB each shed"
    );
    witness.finish();
    drop(hostile);
    let stats = server.shutdown(Duration::from_secs(5));
    assert!(stats.errors >= 4, "{stats:?}");
}

/// Reads one framed reply (its length prefix and body) from `stream`.
fn read_framed_reply(stream: &mut TcpStream) {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body).unwrap();
}

#[test]
fn idle_timeouts_close_idle_connections_on_time_and_never_busy_ones() {
    // One check per connection per horizon (the shortest timeout), rounded
    // to a quarter of it: an idle connection closes between its timeout and
    // about 1.25 times it (plus scheduling slack); one that keeps calling
    // is looked at as often and never closed.
    let idle = Duration::from_millis(400);
    let server = Server::new(EchoServerProcessor::new(Echo))
        .options(ServerOptions {
            pollers: 1,
            read_timeout: Some(Duration::from_secs(5)),
            write_timeout: Some(Duration::from_secs(5)),
            idle_timeout: Some(idle),
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    let mut quiet = TcpStream::connect(addr).unwrap();
    let mut busy = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    quiet.write_all(&framed_call(1, "once")).unwrap();
    read_framed_reply(&mut quiet);
    // `busy` calls every 100 ms for four idle timeouts.
    let mut seqid = 0;
    while start.elapsed() < idle * 4 {
        seqid += 1;
        busy.write_all(&framed_call(seqid, "again")).unwrap();
        read_framed_reply(&mut busy);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        closed_by_server(&mut quiet, Duration::from_millis(10)),
        "the idle connection closed within four idle timeouts"
    );
    busy.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(
        matches!(busy.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            || e.kind() == std::io::ErrorKind::TimedOut),
        "the busy connection is still open"
    );
    // And closing times: a fresh idle connection closes no earlier than
    // the timeout.
    let mut fresh = TcpStream::connect(addr).unwrap();
    let opened = Instant::now();
    fresh.write_all(&framed_call(1, "once")).unwrap();
    read_framed_reply(&mut fresh);
    assert!(closed_by_server(&mut fresh, Duration::from_secs(3)));
    let lived = opened.elapsed();
    assert!(
        lived >= idle,
        "closed after {lived:?}, before the idle timeout"
    );
    assert!(lived < idle * 3, "closed after {lived:?}");
    server.shutdown(Duration::from_secs(1));
}
