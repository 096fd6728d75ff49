//! Graceful shutdown that loses nothing: clients pipeline calls 8 deep while
//! the server shuts down, with inline, worker and async handlers, over
//! framed and TTHeader; every call the server executed is answered and
//! every answer reaches its client (no reset destroys written replies), and
//! what a deadline cuts off is counted in `Stats::dropped_at_deadline`.
//! Also: the TTHeader drain hint (Kitex's `crrst`), and the half-close with
//! lingering after an ordinary `PROTOCOL_ERROR` close.

use bytes::{BufMut, BytesMut};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thriftgen_runtime::protocol::{
    BinaryReader, BinaryWriter, InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol,
    Result as ProtocolResult,
};
use thriftgen_runtime::server::{
    Handlers, PerConnection, RunningServer, Server, ServerOptions, Stats, CONNECTION_READY_TO_RESET,
};
use thriftgen_runtime::service::{
    AsyncProcessor, CallContext, Dispatch, ProcessError, Processed, Processor,
};
use thriftgen_runtime::transport::{
    Dialect, FrameInfo, Framed, ProtocolId, TTHeader, Transport, TransportLimits,
};
use thriftgen_runtime::{ByteString, MessageType, TType};

// ---------------------------------------------------------------------------
// A small service, by hand, sync and async:
//
//   i32 echo(1: i32 x, 2: i32 delay_us)   // waits delay_us, returns x
//   string big(1: i32 len)                 // a string of len bytes
// ---------------------------------------------------------------------------

/// What the handlers share with the test: how many calls ran.
#[derive(Debug, Default)]
struct State {
    executed: AtomicU64,
}

#[derive(Debug, Default)]
struct Args {
    x: i32,
    delay_us: i32,
}

fn read_args<I: InputProtocol>(input: &mut I) -> ProtocolResult<Args> {
    let mut args = Args::default();
    input.read_struct_begin()?;
    loop {
        let field = input.read_field_begin()?;
        match (field.ttype, field.id) {
            (TType::Stop, _) => break,
            (TType::I32, 1) => args.x = input.read_i32()?,
            (TType::I32, 2) => args.delay_us = input.read_i32()?,
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end().map(|()| args)
}

/// Writes the reply of `method` for `args`.
fn write_reply<O: OutputProtocol>(
    output: &mut O,
    header: &MessageHeader,
    args: &Args,
) -> ProtocolResult<()> {
    output.write_message_begin(&MessageHeader {
        name: header.name.clone(),
        kind: MessageType::Reply,
        seqid: header.seqid,
    })?;
    output.write_struct_begin("result")?;
    if header.name.as_str() == "big" {
        output.write_field_begin(TType::String, 0)?;
        output.write_string(&"x".repeat(args.x.max(0) as usize))?;
    } else {
        output.write_field_begin(TType::I32, 0)?;
        output.write_i32(args.x)?;
    }
    output.write_field_end()?;
    output.write_field_stop()?;
    output.write_struct_end()?;
    output.write_message_end()
}

fn known(method: &str) -> bool {
    matches!(method, "echo" | "big")
}

struct SyncService(Arc<State>);

impl Processor for SyncService {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        _ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        if !known(header.name.as_str()) {
            return Ok(Processed::UnknownMethod);
        }
        let args = read_args(input).map_err(ProcessError::Decode)?;
        self.0.executed.fetch_add(1, Ordering::SeqCst);
        if args.delay_us > 0 {
            std::thread::sleep(Duration::from_micros(args.delay_us as u64));
        }
        write_reply(output, header, &args).map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

struct AsyncService(Arc<State>);

impl AsyncProcessor for AsyncService {
    fn dispatch<R: Protocol>(
        &self,
        _ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        if !known(header.name.as_str()) {
            return Ok(Dispatch::UnknownMethod);
        }
        let args = read_args(input).map_err(ProcessError::Decode)?;
        let state = Arc::clone(&self.0);
        let header = header.clone();
        Ok(Dispatch::Reply(Box::pin(async move {
            state.executed.fetch_add(1, Ordering::SeqCst);
            if args.delay_us > 0 {
                tokio::time::sleep(Duration::from_micros(args.delay_us as u64)).await;
            }
            let mut buf = BytesMut::new();
            write_reply(&mut R::writer(&mut buf, limits), &header, &args)
                .map_err(ProcessError::Encode)?;
            Ok(buf)
        })))
    }
}

// ---------------------------------------------------------------------------
// Servers.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Engine {
    Inline,
    Workers(PerConnection),
    Async(PerConnection),
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn serve(engine: Engine, state: &Arc<State>, rt: &tokio::runtime::Runtime) -> RunningServer {
    let options = ServerOptions {
        pollers: 2,
        ..ServerOptions::default()
    };
    match engine {
        Engine::Inline => Server::new(SyncService(Arc::clone(state)))
            .options(options)
            .bind("127.0.0.1:0"),
        Engine::Workers(per_connection) => Server::new(SyncService(Arc::clone(state)))
            .options(ServerOptions {
                handlers: Handlers::Workers(3),
                per_connection,
                ..options
            })
            .bind("127.0.0.1:0"),
        Engine::Async(per_connection) => {
            Server::new_async(AsyncService(Arc::clone(state)), rt.handle().clone())
                .options(ServerOptions {
                    per_connection,
                    ..options
                })
                .bind("127.0.0.1:0")
        }
    }
    .expect("bind on loopback")
}

// ---------------------------------------------------------------------------
// The client side: raw pipelined frames.
// ---------------------------------------------------------------------------

/// Frames calls and cuts replies in one dialect.
enum Codec {
    Framed(Framed),
    TTHeader(TTHeader),
}

impl Codec {
    fn new(dialect: Dialect) -> Codec {
        match dialect {
            Dialect::Framed => Codec::Framed(Framed::new(TransportLimits::DEFAULT)),
            Dialect::TTHeader => Codec::TTHeader(TTHeader::new(TransportLimits::DEFAULT)),
            other => panic!("no codec for {other:?} here"),
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Codec::Framed(_) => Dialect::Framed,
            Codec::TTHeader(_) => Dialect::TTHeader,
        }
    }

    fn transport(&mut self) -> &mut dyn TransportObj {
        match self {
            Codec::Framed(t) => t,
            Codec::TTHeader(t) => t,
        }
    }

    /// Appends one framed call to `out`.
    fn call(&mut self, out: &mut BytesMut, seqid: i32, method: &str, x: i32, delay_us: i32) {
        let info = FrameInfo {
            seq_id: seqid as u32,
            ..FrameInfo::new(self.dialect(), ProtocolId::Binary)
        };
        self.transport().encode(out, &info, &|out| {
            let mut output = BinaryWriter::new(out);
            output
                .write_message_begin(&MessageHeader {
                    name: ByteString::from(method.to_string()),
                    kind: MessageType::Call,
                    seqid,
                })
                .unwrap();
            output.write_struct_begin("args").unwrap();
            output.write_field_begin(TType::I32, 1).unwrap();
            output.write_i32(x).unwrap();
            output.write_field_end().unwrap();
            output.write_field_begin(TType::I32, 2).unwrap();
            output.write_i32(delay_us).unwrap();
            output.write_field_end().unwrap();
            output.write_field_stop().unwrap();
            output.write_struct_end().unwrap();
            output.write_message_end().unwrap();
        });
    }
}

/// `Transport` as an object, for the two codecs above.
trait TransportObj {
    fn encode(&mut self, out: &mut BytesMut, info: &FrameInfo, write: &dyn Fn(&mut BytesMut));
    fn next(&mut self, input: &mut BytesMut) -> Option<Reply>;
}

impl<T: Transport> TransportObj for T {
    fn encode(&mut self, out: &mut BytesMut, info: &FrameInfo, write: &dyn Fn(&mut BytesMut)) {
        let start = self.begin(out, info).unwrap();
        write(out);
        self.finish(out, start, info).unwrap();
    }

    fn next(&mut self, input: &mut BytesMut) -> Option<Reply> {
        let frame = self.decode(input).expect("a well-formed reply frame")?;
        let hint = frame.info.headers.get_str(CONNECTION_READY_TO_RESET.0)
            == Some(CONNECTION_READY_TO_RESET.1);
        let mut input = BinaryReader::new(frame.payload);
        let header = input.read_message_begin().unwrap();
        let mut value = None;
        if header.kind == MessageType::Reply {
            input.read_struct_begin().unwrap();
            loop {
                let field = input.read_field_begin().unwrap();
                match (field.ttype, field.id) {
                    (TType::Stop, _) => break,
                    (TType::I32, 0) => value = Some(input.read_i32().unwrap()),
                    (other, _) => input.skip(other).unwrap(),
                }
                input.read_field_end().unwrap();
            }
        }
        Some(Reply {
            seqid: header.seqid,
            kind: header.kind,
            value,
            hint,
        })
    }
}

#[derive(Debug)]
struct Reply {
    seqid: i32,
    kind: MessageType,
    value: Option<i32>,
    /// It carried the TTHeader drain hint.
    hint: bool,
}

/// How a connection's reading ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// All the replies asked for came.
    Complete,
    /// End of stream first: the clean close.
    Eof,
    /// A reset or another error.
    Error(ErrorKind),
}

/// Reads replies until `want` of them, the end of stream or an error.
fn read_replies(
    stream: &mut TcpStream,
    codec: &mut Codec,
    buf: &mut BytesMut,
    want: usize,
    replies: &mut Vec<Reply>,
) -> End {
    let mut chunk = [0u8; 64 * 1024];
    let mut got = 0;
    loop {
        while got < want {
            match codec.transport().next(buf) {
                Some(reply) => {
                    replies.push(reply);
                    got += 1;
                }
                None => break,
            }
        }
        if got == want {
            return End::Complete;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return End::Eof,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return End::Error(e.kind()),
        }
    }
}

/// What one pipelining client saw.
#[derive(Debug, Default)]
struct Tally {
    /// Replies received whole, in order, with the right values.
    received: u64,
    /// A drain-hinted reply was followed by one without the hint.
    hint_regressed: bool,
    /// Replies with the hint.
    hinted: u64,
}

const DEPTH: i32 = 8;

/// Pipelines `DEPTH` calls at a time until the server ends the connection;
/// counts the replies. `progress` is bumped per reply, so the test can
/// wait until every client is under way.
fn pipeline(addr: SocketAddr, dialect: Dialect, delay_us: i32, progress: &AtomicU64) -> Tally {
    let mut stream = TcpStream::connect(addr).expect("connect before the shutdown");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut codec = Codec::new(dialect);
    let mut buf = BytesMut::new();
    let mut tally = Tally::default();
    let mut seqid = 0;
    let mut seen_hint = false;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let mut out = BytesMut::new();
        let first = seqid + 1;
        for _ in 0..DEPTH {
            seqid += 1;
            codec.call(&mut out, seqid, "echo", seqid * 3, delay_us);
        }
        // Writes after the server half-closed still succeed (it discards
        // them); a failing write means the server is gone.
        let wrote = stream.write_all(&out).is_ok();
        let mut replies = Vec::new();
        let end = read_replies(
            &mut stream,
            &mut codec,
            &mut buf,
            DEPTH as usize,
            &mut replies,
        );
        for (i, reply) in replies.iter().enumerate() {
            let expected = first + i as i32;
            assert_eq!(
                (reply.seqid, reply.kind, reply.value),
                (expected, MessageType::Reply, Some(expected * 3)),
                "replies in order"
            );
            if reply.hint {
                seen_hint = true;
                tally.hinted += 1;
            } else if seen_hint {
                tally.hint_regressed = true;
            }
            tally.received += 1;
            progress.fetch_add(1, Ordering::SeqCst);
        }
        match end {
            End::Complete if wrote => continue,
            End::Complete => break,
            End::Eof => break,
            End::Error(kind) => panic!(
                "the connection failed with {kind:?} after {} replies: a reset",
                tally.received
            ),
        }
    }
    assert!(buf.is_empty(), "no partial reply before the close");
    tally
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Three clients pipeline while the server shuts down: executed == replied
/// == received, nothing dropped.
fn pipelined_shutdown(engine: Engine, dialect: Dialect, delay_us: i32) {
    const CLIENTS: usize = 3;
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(engine, &state, &rt);
    let addr = server.local_addr();
    let progress: Vec<Arc<AtomicU64>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let clients: Vec<_> = progress
        .iter()
        .map(|progress| {
            let progress = Arc::clone(progress);
            std::thread::spawn(move || pipeline(addr, dialect, delay_us, &progress))
        })
        .collect();
    wait_until("every client is under way", || {
        progress
            .iter()
            .all(|p| p.load(Ordering::SeqCst) >= 2 * DEPTH as u64)
            && state.executed.load(Ordering::SeqCst) >= 200
    });
    let started = Instant::now();
    let stats: Stats = server.shutdown(Duration::from_secs(10));
    let took = started.elapsed();
    let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let received: u64 = tallies.iter().map(|t| t.received).sum();
    let executed = state.executed.load(Ordering::SeqCst);
    let what = format!("{engine:?} over {dialect:?}: {stats:?} {tallies:?}");
    assert_eq!(stats.dropped_at_deadline, 0, "{what}");
    assert_eq!(executed, stats.requests, "{what}");
    assert_eq!(
        executed, stats.replies,
        "every call executed is answered: {what}"
    );
    assert_eq!(received, executed, "every answer is received: {what}");
    assert_eq!(stats.connections_open, 0, "{what}");
    assert!(
        took < Duration::from_secs(9),
        "well before the deadline: {took:?} {what}"
    );
    // Workers frame a reply when its call finishes, so with concurrent
    // calls a later reply may be framed (unhinted) before shutdown and an
    // earlier one after it (hinted). Harmless: a Kitex client drops the
    // connection once any reply carries the hint, and only pipelining or
    // multiplexing clients, never a pooled one, can see the difference.
    let framed_in_order = !matches!(engine, Engine::Workers(PerConnection::Concurrent { .. }));
    if framed_in_order {
        assert!(
            tallies.iter().all(|t| !t.hint_regressed),
            "once hinted, every later reply is: {what}"
        );
    }
    if dialect != Dialect::TTHeader {
        assert!(tallies.iter().all(|t| t.hinted == 0), "{what}");
    }
}

#[test]
fn pipelining_clients_lose_nothing_inline() {
    pipelined_shutdown(Engine::Inline, Dialect::Framed, 0);
}

#[test]
fn pipelining_clients_lose_nothing_inline_over_ttheader() {
    pipelined_shutdown(Engine::Inline, Dialect::TTHeader, 0);
}

#[test]
fn pipelining_clients_lose_nothing_on_workers() {
    pipelined_shutdown(
        Engine::Workers(PerConnection::Sequential),
        Dialect::Framed,
        200,
    );
    pipelined_shutdown(
        Engine::Workers(PerConnection::CONCURRENT),
        Dialect::Framed,
        500,
    );
}

#[test]
fn pipelining_clients_lose_nothing_on_workers_over_ttheader() {
    pipelined_shutdown(
        Engine::Workers(PerConnection::CONCURRENT),
        Dialect::TTHeader,
        500,
    );
}

#[test]
fn pipelining_clients_lose_nothing_with_async_handlers() {
    pipelined_shutdown(Engine::Async(PerConnection::Sequential), Dialect::Framed, 0);
    pipelined_shutdown(
        Engine::Async(PerConnection::CONCURRENT),
        Dialect::Framed,
        1000,
    );
}

#[test]
fn pipelining_clients_lose_nothing_with_async_handlers_over_ttheader() {
    pipelined_shutdown(
        Engine::Async(PerConnection::CONCURRENT),
        Dialect::TTHeader,
        1000,
    );
}

// ---------------------------------------------------------------------------
// Deadlines.
// ---------------------------------------------------------------------------

/// Sends `DEPTH` pipelined calls of `method` at once.
fn send_pipelined(
    addr: SocketAddr,
    dialect: Dialect,
    method: &str,
    x: i32,
    delay_us: i32,
) -> (TcpStream, Codec) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut codec = Codec::new(dialect);
    let mut out = BytesMut::new();
    for seqid in 1..=DEPTH {
        codec.call(&mut out, seqid, method, x, delay_us);
    }
    stream.write_all(&out).unwrap();
    (stream, codec)
}

#[test]
fn a_slow_call_on_a_worker_is_dropped_at_the_deadline_and_counted() {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(Engine::Workers(PerConnection::Sequential), &state, &rt);
    let (mut stream, mut codec) =
        send_pipelined(server.local_addr(), Dialect::Framed, "echo", 1, 1_500_000);
    wait_until("the slow call runs", || {
        state.executed.load(Ordering::SeqCst) == 1
    });
    let started = Instant::now();
    let handle = server.handle();
    handle.shutdown(Duration::from_millis(200));
    let mut replies = Vec::new();
    let end = read_replies(
        &mut stream,
        &mut codec,
        &mut BytesMut::new(),
        1,
        &mut replies,
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "closed at the deadline, not when the call ends"
    );
    assert!(replies.is_empty(), "{replies:?}");
    assert_ne!(end, End::Complete);
    let stats = server.join();
    assert_eq!(stats.dropped_at_deadline, 1, "{stats:?}");
    assert_eq!(stats.replies, 0, "{stats:?}");
    assert_eq!(
        state.executed.load(Ordering::SeqCst),
        1,
        "the calls behind it never ran"
    );
}

#[test]
fn hung_async_calls_are_dropped_at_the_deadline_and_counted() {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(Engine::Async(PerConnection::CONCURRENT), &state, &rt);
    // Every call waits 60 s: all 8 run at once.
    let (mut stream, mut codec) =
        send_pipelined(server.local_addr(), Dialect::Framed, "echo", 1, 60_000_000);
    wait_until("the calls run", || {
        state.executed.load(Ordering::SeqCst) == DEPTH as u64
    });
    let stats = server.shutdown(Duration::from_millis(200));
    assert_eq!(stats.dropped_at_deadline, DEPTH as u64, "{stats:?}");
    assert_eq!(
        (stats.requests, stats.replies),
        (DEPTH as u64, 0),
        "{stats:?}"
    );
    let mut replies = Vec::new();
    let end = read_replies(
        &mut stream,
        &mut codec,
        &mut BytesMut::new(),
        1,
        &mut replies,
    );
    assert!(replies.is_empty(), "{replies:?}");
    assert_ne!(end, End::Complete);
}

#[test]
fn replies_a_client_does_not_read_by_the_deadline_are_counted() {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(Engine::Inline, &state, &rt);
    // 8 replies of 4 MiB each: more than the socket buffers hold.
    let (mut stream, mut codec) =
        send_pipelined(server.local_addr(), Dialect::Framed, "big", 4 << 20, 0);
    wait_until("the calls ran", || {
        state.executed.load(Ordering::SeqCst) == DEPTH as u64
    });
    std::thread::sleep(Duration::from_millis(100));
    let stats = server.shutdown(Duration::from_millis(300));
    assert!(stats.dropped_at_deadline >= 1, "{stats:?}");
    assert_eq!(stats.replies, DEPTH as u64, "{stats:?}");
    // What was written whole before the deadline still arrives.
    let mut replies = Vec::new();
    let mut buf = BytesMut::new();
    let _ = read_replies(
        &mut stream,
        &mut codec,
        &mut buf,
        DEPTH as usize,
        &mut replies,
    );
    assert_eq!(
        replies.len() as u64 + stats.dropped_at_deadline,
        DEPTH as u64,
        "every reply is received or counted: {stats:?}"
    );
}

#[test]
fn a_shutdown_with_nothing_left_drops_nothing() {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(Engine::Workers(PerConnection::Sequential), &state, &rt);
    let (mut stream, mut codec) =
        send_pipelined(server.local_addr(), Dialect::Framed, "echo", 7, 50_000);
    wait_until("a call runs", || state.executed.load(Ordering::SeqCst) >= 1);
    let stats = server.shutdown(Duration::from_secs(10));
    let mut replies = Vec::new();
    let end = read_replies(
        &mut stream,
        &mut codec,
        &mut BytesMut::new(),
        DEPTH as usize,
        &mut replies,
    );
    // The 8 calls were read in one go before the shutdown: all are served.
    assert_eq!(end, End::Complete, "{stats:?}");
    assert_eq!(replies.len(), DEPTH as usize);
    assert_eq!(stats.dropped_at_deadline, 0, "{stats:?}");
    assert_eq!(stats.replies, DEPTH as u64, "{stats:?}");
    let mut rest = [0u8; 16];
    assert_eq!(stream.read(&mut rest).unwrap(), 0, "then a clean close");
}

// ---------------------------------------------------------------------------
// The TTHeader drain hint.
// ---------------------------------------------------------------------------

/// A call running when the shutdown begins is answered with `crrst: 1`; one
/// answered before is not.
fn drain_hint_on(engine: Engine) {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(engine, &state, &rt);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut codec = Codec::new(Dialect::TTHeader);
    let mut buf = BytesMut::new();
    let mut out = BytesMut::new();
    codec.call(&mut out, 1, "echo", 10, 0);
    stream.write_all(&out).unwrap();
    let mut replies = Vec::new();
    assert_eq!(
        read_replies(&mut stream, &mut codec, &mut buf, 1, &mut replies),
        End::Complete
    );
    assert!(!replies[0].hint, "no hint before the shutdown");
    let mut out = BytesMut::new();
    codec.call(&mut out, 2, "echo", 20, 300_000);
    stream.write_all(&out).unwrap();
    wait_until("the slow call runs", || {
        state.executed.load(Ordering::SeqCst) == 2
    });
    let handle = server.handle();
    handle.shutdown(Duration::from_secs(10));
    let mut replies = Vec::new();
    assert_eq!(
        read_replies(&mut stream, &mut codec, &mut buf, 1, &mut replies),
        End::Complete
    );
    assert_eq!((replies[0].seqid, replies[0].value), (2, Some(20)));
    assert!(
        replies[0].hint,
        "{engine:?}: the hint after the shutdown began"
    );
    let mut rest = [0u8; 16];
    assert_eq!(stream.read(&mut rest).unwrap(), 0, "then a clean close");
    drop(stream);
    let stats = server.join();
    assert_eq!(
        (stats.replies, stats.dropped_at_deadline),
        (2, 0),
        "{stats:?}"
    );
}

#[test]
fn ttheader_replies_after_the_shutdown_began_carry_the_drain_hint() {
    drain_hint_on(Engine::Workers(PerConnection::Sequential));
    drain_hint_on(Engine::Async(PerConnection::Sequential));
}

// ---------------------------------------------------------------------------
// Ordinary closes half-close and linger too.
// ---------------------------------------------------------------------------

/// A good call, then one whose arguments are cut short: `PROTOCOL_ERROR`,
/// then the server closes. The client keeps sending after the close: those
/// bytes are discarded (not answered with a reset), so it reads both
/// replies and then a clean end of stream.
fn protocol_error_close(engine: Engine, dialect: Dialect) {
    let rt = runtime();
    let state = Arc::new(State::default());
    let server = serve(engine, &state, &rt);
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut codec = Codec::new(dialect);
    let mut out = BytesMut::new();
    codec.call(&mut out, 1, "echo", 5, 0);
    let good = out.len();
    codec.call(&mut out, 2, "echo", 6, 0);
    // Cut the second call's arguments short, and fix up its frame length
    // (a 4-byte length first in both dialects; TTHeader's header size is
    // unchanged).
    let cut = out.len() - 6;
    out.truncate(cut);
    let frame_len = (cut - good - 4) as u32;
    (&mut out[good..good + 4]).put_u32(frame_len);
    stream.write_all(&out).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // The server has answered and half-closed by now; more calls arrive.
    let mut more = BytesMut::new();
    for seqid in 3..=10 {
        codec.call(&mut more, seqid, "echo", seqid, 0);
    }
    stream.write_all(&more).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&more).unwrap();
    let mut replies = Vec::new();
    let end = read_replies(
        &mut stream,
        &mut codec,
        &mut BytesMut::new(),
        3,
        &mut replies,
    );
    let what = format!("{engine:?} over {dialect:?}: {replies:?}");
    assert_eq!(end, End::Eof, "a clean close, no reset: {what}");
    assert_eq!(replies.len(), 2, "{what}");
    assert_eq!((replies[0].seqid, replies[0].value), (1, Some(5)), "{what}");
    assert_eq!(replies[1].kind, MessageType::Exception, "{what}");
    if dialect == Dialect::TTHeader {
        assert!(!replies[0].hint, "{what}");
        assert!(
            replies[1].hint,
            "the reply before a close carries the hint: {what}"
        );
    }
    drop(stream);
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!((stats.requests, stats.replies), (2, 2), "{stats:?}");
    assert_eq!(
        state.executed.load(Ordering::SeqCst),
        1,
        "the later calls never ran"
    );
}

#[test]
fn a_protocol_error_close_delivers_its_reply_whatever_the_peer_sends_after() {
    protocol_error_close(Engine::Inline, Dialect::Framed);
    protocol_error_close(Engine::Inline, Dialect::TTHeader);
    protocol_error_close(
        Engine::Workers(PerConnection::Sequential),
        Dialect::TTHeader,
    );
    protocol_error_close(Engine::Async(PerConnection::CONCURRENT), Dialect::TTHeader);
}

/// A client that never closes its idle connection holds a shutdown for the
/// linger time only, not the whole deadline.
#[test]
fn an_idle_client_holds_a_shutdown_for_the_linger_time_only() {
    let state = Arc::new(State::default());
    let server = Server::new(SyncService(Arc::clone(&state)))
        .options(ServerOptions {
            pollers: 1,
            linger: Duration::from_millis(200),
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let (mut stream, mut codec) =
        send_pipelined(server.local_addr(), Dialect::Framed, "echo", 1, 0);
    let mut replies = Vec::new();
    assert_eq!(
        read_replies(
            &mut stream,
            &mut codec,
            &mut BytesMut::new(),
            DEPTH as usize,
            &mut replies
        ),
        End::Complete
    );
    let started = Instant::now();
    let stats = server.shutdown(Duration::from_secs(10));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(150), "it lingered: {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "not until the deadline: {took:?}"
    );
    assert_eq!(stats.dropped_at_deadline, 0, "{stats:?}");
    let mut rest = [0u8; 16];
    assert_eq!(
        stream.read(&mut rest).unwrap(),
        0,
        "the client sees end of stream"
    );
}
