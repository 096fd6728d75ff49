//! Async handlers end to end on loopback: hand-written `AsyncProcessor`s on
//! a multi-thread tokio runtime behind the mio server, called with the
//! blocking client and with raw pipelined bytes. Every dialect and protocol,
//! replies in request order whatever order the futures finish in, futures
//! dropped when the peer closes, deadlines (the caller's TTHeader timeout
//! and the server's), panics, the in-flight caps, sequential versus
//! concurrent calls on one connection (async and on workers), multiplexed
//! async services and graceful shutdown.

use bytes::{BufMut, BytesMut};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thriftgen_runtime::client::{CallError, Client, ClientOptions};
use thriftgen_runtime::protocol::{
    ApplicationErrorKind, ApplicationException, BinaryReader, BinaryWriter, InputProtocol, Limits,
    MessageHeader, OutputProtocol, Protocol, Result as ProtocolResult,
};
use thriftgen_runtime::server::{Handlers, PerConnection, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{
    Args, AsyncProcessor, CallContext, Dispatch, Multiplexed, ProcessError, Processed, Processor,
    Reply,
};
use thriftgen_runtime::transport::{int_keys, Dialect, ProtocolId};
use thriftgen_runtime::{ByteString, MessageType, TType};
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------
// A small service, by hand:
//
//   string echo(1: string s, 2: i32 delay_ms)   // sleeps, then echoes
//   void hang()                                 // never finishes
//   void boom()                                 // panics in the future
//   void boom_early()                           // panics in `dispatch`
//   void gated()                                // waits for the test's permit
//   oneway void record(2: i32 value)            // sleeps 30 ms, then stores
//   i32 read()                                  // the value stored last
// ---------------------------------------------------------------------------

/// What the handlers share with the test.
#[derive(Debug)]
struct State {
    /// A tag the service puts before what it echoes (multiplexing tests).
    tag: &'static str,
    /// The value `record` stored last.
    recorded: AtomicI32,
    /// Handler futures running now, and the most at once.
    running: AtomicUsize,
    most: AtomicUsize,
    /// `hang` futures started, and dropped.
    hung: AtomicUsize,
    dropped: AtomicUsize,
    /// `gated` calls wait for a permit of this.
    gate: Semaphore,
}

impl State {
    fn new(tag: &'static str) -> Arc<State> {
        Arc::new(State {
            tag,
            recorded: AtomicI32::new(0),
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            hung: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        })
    }
}

/// Counts a running handler while it lives.
struct Running(Arc<State>);

impl Running {
    fn new(state: &Arc<State>) -> Running {
        let now = state.running.fetch_add(1, Ordering::SeqCst) + 1;
        state.most.fetch_max(now, Ordering::SeqCst);
        Running(Arc::clone(state))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Records that a `hang` future was dropped.
struct DropRecorder(Arc<State>);

impl Drop for DropRecorder {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// The arguments every method may carry.
#[derive(Debug, Default)]
struct Decoded {
    s: Option<String>,
    n: Option<i32>,
}

fn read_args<I: InputProtocol>(input: &mut I) -> ProtocolResult<Decoded> {
    let mut args = Decoded::default();
    input.read_struct_begin()?;
    loop {
        let field = input.read_field_begin()?;
        match (field.ttype, field.id) {
            (TType::Stop, _) => break,
            (TType::String, 1) => args.s = Some(input.read_string()?),
            (TType::I32, 2) => args.n = Some(input.read_i32()?),
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end()?;
    Ok(args)
}

/// What a reply's result struct holds.
enum Value {
    Void,
    Str(String),
    I32(i32),
}

/// Encodes a whole reply message with `R`, as generated code does.
fn encode<R: Protocol>(
    header: &MessageHeader,
    limits: Limits,
    value: &Value,
) -> Result<BytesMut, ProcessError> {
    let mut buf = BytesMut::new();
    {
        let mut output = R::writer(&mut buf, limits);
        let mut write = || -> ProtocolResult<()> {
            output.write_message_begin(&MessageHeader {
                name: header.name.clone(),
                kind: MessageType::Reply,
                seqid: header.seqid,
            })?;
            output.write_struct_begin("result")?;
            match value {
                Value::Void => {}
                Value::Str(s) => {
                    output.write_field_begin(TType::String, 0)?;
                    output.write_string(s)?;
                    output.write_field_end()?;
                }
                Value::I32(n) => {
                    output.write_field_begin(TType::I32, 0)?;
                    output.write_i32(*n)?;
                    output.write_field_end()?;
                }
            }
            output.write_field_stop()?;
            output.write_struct_end()?;
            output.write_message_end()
        };
        write().map_err(ProcessError::Encode)?;
    }
    Ok(buf)
}

/// The async service.
struct TestService(Arc<State>);

impl AsyncProcessor for TestService {
    fn dispatch<R: Protocol>(
        &self,
        ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        let method = header.name.as_str().to_string();
        if !matches!(
            method.as_str(),
            "echo" | "hang" | "boom" | "boom_early" | "gated" | "record" | "read"
        ) {
            return Ok(Dispatch::UnknownMethod);
        }
        let args = read_args(input).map_err(ProcessError::Decode)?;
        let state = Arc::clone(&self.0);
        let header = header.clone();
        if method == "boom_early" {
            panic!("boom on the poller");
        }
        if method == "record" {
            return Ok(Dispatch::Oneway(Box::pin(async move {
                let _running = Running::new(&state);
                tokio::time::sleep(Duration::from_millis(30)).await;
                state.recorded.store(args.n.unwrap_or(0), Ordering::SeqCst);
            })));
        }
        Ok(Dispatch::Reply(Box::pin(async move {
            let _running = Running::new(&state);
            let value = match method.as_str() {
                "echo" => {
                    let delay = args.n.unwrap_or(0).max(0) as u64;
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    ctx.set_reply_header("served-by", state.tag);
                    Value::Str(format!("{}{}", state.tag, args.s.unwrap_or_default()))
                }
                "hang" => {
                    let _recorder = DropRecorder(Arc::clone(&state));
                    state.hung.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                    Value::Void
                }
                "boom" => {
                    tokio::task::yield_now().await;
                    panic!("boom in the future");
                }
                "gated" => {
                    state.gate.acquire().await.expect("gate open").forget();
                    Value::Void
                }
                _ => Value::I32(state.recorded.load(Ordering::SeqCst)),
            };
            encode::<R>(&header, limits, &value)
        })))
    }
}

// ---------------------------------------------------------------------------
// The client side.
// ---------------------------------------------------------------------------

struct CallArgs<'a> {
    s: Option<&'a str>,
    n: Option<i32>,
}

const NO_ARGS: CallArgs<'static> = CallArgs { s: None, n: None };

impl Args for CallArgs<'_> {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> ProtocolResult<()> {
        output.write_struct_begin("args")?;
        if let Some(s) = self.s {
            output.write_field_begin(TType::String, 1)?;
            output.write_string(s)?;
            output.write_field_end()?;
        }
        if let Some(n) = self.n {
            output.write_field_begin(TType::I32, 2)?;
            output.write_i32(n)?;
            output.write_field_end()?;
        }
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

/// Reads a result struct whose field 0 is `T` (or nothing, for void).
struct Result0<T>(std::marker::PhantomData<T>);

trait Field0: Sized {
    fn read<I: InputProtocol>(input: &mut I, ttype: TType) -> ProtocolResult<Option<Self>>;
    fn void() -> Option<Self>;
}

impl Field0 for String {
    fn read<I: InputProtocol>(input: &mut I, ttype: TType) -> ProtocolResult<Option<String>> {
        if ttype == TType::String {
            return input.read_string().map(Some);
        }
        input.skip(ttype).map(|()| None)
    }
    fn void() -> Option<String> {
        None
    }
}

impl Field0 for i32 {
    fn read<I: InputProtocol>(input: &mut I, ttype: TType) -> ProtocolResult<Option<i32>> {
        if ttype == TType::I32 {
            return input.read_i32().map(Some);
        }
        input.skip(ttype).map(|()| None)
    }
    fn void() -> Option<i32> {
        None
    }
}

impl Field0 for () {
    fn read<I: InputProtocol>(input: &mut I, ttype: TType) -> ProtocolResult<Option<()>> {
        input.skip(ttype).map(|()| Some(()))
    }
    fn void() -> Option<()> {
        Some(())
    }
}

impl<T: Field0> Reply for Result0<T> {
    type Ok = T;
    type Err = ApplicationException;

    fn read<I: InputProtocol>(input: &mut I) -> ProtocolResult<Result<T, ApplicationException>> {
        let mut value = T::void();
        input.read_struct_begin()?;
        loop {
            let field = input.read_field_begin()?;
            match (field.ttype, field.id) {
                (TType::Stop, _) => break,
                (ttype, 0) => value = T::read(input, ttype)?.or(value),
                (other, _) => input.skip(other)?,
            }
            input.read_field_end()?;
        }
        input.read_struct_end()?;
        Ok(
            value
                .ok_or_else(|| ApplicationException::new(ApplicationErrorKind::MISSING_RESULT, "")),
        )
    }
}

fn echo(
    client: &mut Client,
    s: &str,
    delay_ms: i32,
) -> Result<String, CallError<ApplicationException>> {
    client.call::<Result0<String>, _>(
        "echo",
        &CallArgs {
            s: Some(s),
            n: Some(delay_ms),
        },
    )
}

fn void(client: &mut Client, method: &'static str) -> Result<(), CallError<ApplicationException>> {
    client.call::<Result0<()>, _>(method, &NO_ARGS)
}

fn read(client: &mut Client) -> i32 {
    client
        .call::<Result0<i32>, _>("read", &NO_ARGS)
        .expect("read answers")
}

/// The application error a call got.
fn service_error<T: std::fmt::Debug>(
    result: Result<T, CallError<ApplicationException>>,
) -> ApplicationException {
    match result {
        Err(CallError::Service(e)) => e,
        other => panic!("expected an application error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Servers.
// ---------------------------------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn options(per_connection: PerConnection) -> ServerOptions {
    ServerOptions {
        pollers: 1,
        per_connection,
        ..ServerOptions::default()
    }
}

fn serve_async(
    runtime: &tokio::runtime::Runtime,
    state: &Arc<State>,
    options: ServerOptions,
) -> RunningServer {
    Server::new_async(TestService(Arc::clone(state)), runtime.handle().clone())
        .options(options)
        .bind("127.0.0.1:0")
        .expect("bind on loopback")
}

fn framed_client(addr: SocketAddr) -> Client {
    Client::connect(
        addr,
        ClientOptions::new(Dialect::Framed, ProtocolId::Binary),
    )
    .unwrap()
}

/// Waits (at most 5 s) until `done` holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------
// Raw pipelined bytes: framed binary calls written at once.
// ---------------------------------------------------------------------------

fn framed_call(seqid: i32, method: &str, kind: MessageType, args: &CallArgs<'_>) -> Vec<u8> {
    let mut message = BytesMut::new();
    let mut output = BinaryWriter::new(&mut message);
    output
        .write_message_begin(&MessageHeader {
            name: ByteString::from(method.to_string()),
            kind,
            seqid,
        })
        .unwrap();
    args.write(&mut output).unwrap();
    output.write_message_end().unwrap();
    let mut frame = Vec::with_capacity(message.len() + 4);
    frame.put_u32(message.len() as u32);
    frame.extend_from_slice(&message);
    frame
}

/// Reads one framed reply: its seqid and the string in field 0 (or the
/// exception's message).
fn read_framed_reply(stream: &mut TcpStream) -> (i32, MessageType, String) {
    let mut len = [0; 4];
    stream.read_exact(&mut len).expect("a reply");
    let mut message = vec![0; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut message).expect("the whole reply");
    let mut input = BinaryReader::new(bytes::Bytes::from(message));
    let header = input.read_message_begin().unwrap();
    if header.kind == MessageType::Exception {
        let e = ApplicationException::read(&mut input).unwrap();
        return (header.seqid, header.kind, e.to_string());
    }
    let value = match <Result0<String> as Reply>::read(&mut input).unwrap() {
        Ok(s) => s,
        Err(e) => e.to_string(),
    };
    (header.seqid, header.kind, value)
}

/// A tiny seeded generator (xorshift), so a failure can be replayed.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

// ---------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------

#[test]
fn every_dialect_and_protocol_through_an_async_processor() {
    // Futures polled first on the poller (the default), and every future
    // handed to tokio straight away.
    for first_poll_inline in [true, false] {
        every_dialect_and_protocol(first_poll_inline);
    }
}

fn every_dialect_and_protocol(first_poll_inline: bool) {
    let rt = runtime();
    let state = State::new("");
    let options = ServerOptions {
        first_poll_inline,
        ..options(PerConnection::Sequential)
    };
    let server = serve_async(&rt, &state, options);
    let mut calls = 0;
    for dialect in [
        Dialect::Buffered,
        Dialect::Framed,
        Dialect::Header,
        Dialect::TTHeader,
    ] {
        for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
            let what = format!("{dialect:?} {protocol:?}");
            let mut client =
                Client::connect(server.local_addr(), ClientOptions::new(dialect, protocol))
                    .unwrap();
            assert_eq!(echo(&mut client, "hi", 0).unwrap(), "hi", "{what}");
            assert_eq!(echo(&mut client, "later", 5).unwrap(), "later", "{what}");
            let headers = client.reply_headers().get_str("served-by");
            if matches!(dialect, Dialect::Header | Dialect::TTHeader) {
                assert_eq!(headers, Some(""), "reply headers over {what}");
            } else {
                assert_eq!(headers, None, "{what}");
            }
            let unknown = service_error(void(&mut client, "nope"));
            assert_eq!(unknown.kind, ApplicationErrorKind::UNKNOWN_METHOD, "{what}");
            // The connection is kept after an unknown method.
            assert_eq!(echo(&mut client, "still", 0).unwrap(), "still", "{what}");
            calls += 4;
        }
    }
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.requests, calls, "{stats:?}");
    assert_eq!(stats.replies, calls, "{stats:?}");
    assert_eq!(
        stats.errors, 8,
        "one unknown method per connection: {stats:?}"
    );
    assert_eq!(stats.connections_open, 0);
}

#[test]
fn pipelined_replies_leave_in_request_order_whatever_order_futures_finish_in() {
    let rt = runtime();
    for (seed, per_connection) in [
        (0x9e37_79b9_7f4a_7c15, PerConnection::CONCURRENT),
        (0xdead_beef_cafe_f00d, PerConnection::CONCURRENT),
        (0x0123_4567_89ab_cdef, PerConnection::Sequential),
    ] {
        let state = State::new("");
        let server = serve_async(&rt, &state, options(per_connection));
        let mut random = Seeded(seed);
        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let n = 24;
        let mut bytes = Vec::new();
        for seqid in 0..n {
            let delay = (random.next() % 25) as i32;
            let s = format!("call {seqid} after {delay} ms");
            let args = CallArgs {
                s: Some(&s),
                n: Some(delay),
            };
            bytes.extend(framed_call(seqid, "echo", MessageType::Call, &args));
        }
        // All at once: the server reads them in one go.
        stream.write_all(&bytes).unwrap();
        let mut random = Seeded(seed);
        for seqid in 0..n {
            let delay = random.next() % 25;
            let (got, kind, value) = read_framed_reply(&mut stream);
            assert_eq!(kind, MessageType::Reply, "seed {seed:#x}");
            assert_eq!(got, seqid, "seed {seed:#x}: replies out of order");
            assert_eq!(value, format!("call {seqid} after {delay} ms"));
        }
        let most = state.most.load(Ordering::SeqCst);
        match per_connection {
            PerConnection::Sequential => assert_eq!(most, 1, "one call at a time"),
            PerConnection::Concurrent { .. } => {
                assert!(most > 1, "pipelined calls ran concurrently (most {most})")
            }
        }
        server.shutdown(Duration::from_secs(5));
    }
}

#[test]
fn a_peer_that_closes_drops_its_futures() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::CONCURRENT));
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    let mut bytes = framed_call(1, "hang", MessageType::Call, &NO_ARGS);
    bytes.extend(framed_call(2, "hang", MessageType::Call, &NO_ARGS));
    stream.write_all(&bytes).unwrap();
    wait_until("both calls run", || state.hung.load(Ordering::SeqCst) == 2);
    assert_eq!(state.dropped.load(Ordering::SeqCst), 0);
    drop(stream);
    wait_until("the futures are dropped", || {
        state.dropped.load(Ordering::SeqCst) == 2
    });
    wait_until("the connection is closed", || {
        server.stats().connections_open == 0
    });
    // A sequential server, whose connection is not read while it waits for
    // its call, still hears the close.
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::Sequential));
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(&framed_call(1, "hang", MessageType::Call, &NO_ARGS))
        .unwrap();
    wait_until("the call runs", || state.hung.load(Ordering::SeqCst) == 1);
    drop(stream);
    wait_until("the future is dropped", || {
        state.dropped.load(Ordering::SeqCst) == 1
    });
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.replies, 0, "{stats:?}");
}

#[test]
fn the_callers_ttheader_timeout_and_the_servers_deadline_end_a_call() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(
        &rt,
        &state,
        ServerOptions {
            call_timeout: Some(Duration::from_millis(300)),
            ..options(PerConnection::Sequential)
        },
    );

    // The caller's timeout (TTHeader integer header RPC_TIMEOUT, in ms) is
    // earlier than the server's: it wins.
    let mut client = Client::connect(
        server.local_addr(),
        ClientOptions::new(Dialect::TTHeader, ProtocolId::Compact),
    )
    .unwrap();
    client
        .headers_mut()
        .insert_int(int_keys::RPC_TIMEOUT, "100");
    let e = service_error(void(&mut client, "hang"));
    assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR);
    assert_eq!(e.message, "`hang` timed out after 100 ms");
    wait_until("the future is dropped", || {
        state.dropped.load(Ordering::SeqCst) == 1
    });
    // The connection is kept.
    assert_eq!(echo(&mut client, "after", 0).unwrap(), "after");

    // A later caller timeout: the server's deadline wins.
    client
        .headers_mut()
        .insert_int(int_keys::RPC_TIMEOUT, "60000");
    let e = service_error(void(&mut client, "hang"));
    assert_eq!(e.message, "`hang` timed out after 300 ms");

    // No caller timeout (framed): the server's deadline.
    let mut framed = framed_client(server.local_addr());
    let e = service_error(void(&mut framed, "hang"));
    assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR);
    assert_eq!(e.message, "`hang` timed out after 300 ms");
    assert_eq!(echo(&mut framed, "kept", 0).unwrap(), "kept");
    wait_until("every future is dropped", || {
        state.dropped.load(Ordering::SeqCst) == 3
    });
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.errors, 3, "timeouts are errors: {stats:?}");
}

#[test]
fn a_panicking_handler_gets_internal_error_and_the_connection_still_serves() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::Sequential));
    for dialect in [Dialect::Framed, Dialect::Header] {
        let mut client = Client::connect(
            server.local_addr(),
            ClientOptions::new(dialect, ProtocolId::Binary),
        )
        .unwrap();
        for method in ["boom", "boom_early"] {
            let e = service_error(void(&mut client, method));
            assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR, "{method}");
            assert_eq!(e.message, format!("internal error in `{method}`"));
            assert_eq!(echo(&mut client, method, 0).unwrap(), method);
        }
    }
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.errors, 4, "{stats:?}");
}

#[test]
fn the_per_connection_cap_holds_calls_back_until_one_finishes() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(
        &rt,
        &state,
        options(PerConnection::Concurrent { max_in_flight: 2 }),
    );
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    for seqid in 0..5 {
        bytes.extend(framed_call(seqid, "gated", MessageType::Call, &NO_ARGS));
    }
    stream.write_all(&bytes).unwrap();
    wait_until("two calls run", || {
        state.running.load(Ordering::SeqCst) == 2
    });
    // No third one starts while the two wait.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(state.running.load(Ordering::SeqCst), 2);
    assert_eq!(server.stats().requests, 2);
    state.gate.add_permits(5);
    for seqid in 0..5 {
        assert_eq!(read_framed_reply(&mut stream).0, seqid);
    }
    assert_eq!(state.most.load(Ordering::SeqCst), 2);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn the_server_cap_holds_every_connection_back() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(
        &rt,
        &state,
        ServerOptions {
            max_calls_in_flight: 3,
            ..options(PerConnection::CONCURRENT)
        },
    );
    let mut streams: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.local_addr()).unwrap())
        .collect();
    for stream in &mut streams {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut bytes = Vec::new();
        for seqid in 0..3 {
            bytes.extend(framed_call(seqid, "gated", MessageType::Call, &NO_ARGS));
        }
        stream.write_all(&bytes).unwrap();
    }
    wait_until("three calls run", || {
        state.running.load(Ordering::SeqCst) == 3
    });
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(state.running.load(Ordering::SeqCst), 3, "the server's cap");
    // Each permit lets one call finish and one more start.
    state.gate.add_permits(6);
    for stream in &mut streams {
        for seqid in 0..3 {
            assert_eq!(read_framed_reply(stream).0, seqid);
        }
    }
    assert_eq!(state.most.load(Ordering::SeqCst), 3);
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.replies, 6, "{stats:?}");
}

/// A oneway call and then a call on one connection: how often the call
/// saw the oneway's effect, out of `rounds`.
fn oneway_then_call(addr: SocketAddr, rounds: i32) -> i32 {
    let mut client = framed_client(addr);
    let mut seen = 0;
    for value in 1..=rounds {
        client
            .send_oneway(
                "record",
                &CallArgs {
                    s: None,
                    n: Some(value),
                },
            )
            .unwrap();
        if read(&mut client) == value {
            seen += 1;
        }
    }
    seen
}

#[test]
fn sequential_calls_see_the_oneway_before_them_and_concurrent_ones_need_not() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::Sequential));
    assert_eq!(oneway_then_call(server.local_addr(), 10), 10);
    server.shutdown(Duration::from_secs(5));

    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::CONCURRENT));
    // The call does not wait for the 30 ms the oneway sleeps.
    assert!(oneway_then_call(server.local_addr(), 10) < 10);
    server.shutdown(Duration::from_secs(5));
}

/// The same service, sync, for worker threads.
struct SyncService(Arc<State>);

impl Processor for SyncService {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        _ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        let args = read_args(input).map_err(ProcessError::Decode)?;
        match header.name.as_str() {
            "record" => {
                std::thread::sleep(Duration::from_millis(30));
                self.0.recorded.store(args.n.unwrap_or(0), Ordering::SeqCst);
                Ok(Processed::Oneway)
            }
            "read" => {
                let mut write = || -> ProtocolResult<()> {
                    output.write_message_begin(&MessageHeader {
                        name: header.name.clone(),
                        kind: MessageType::Reply,
                        seqid: header.seqid,
                    })?;
                    output.write_struct_begin("read_result")?;
                    output.write_field_begin(TType::I32, 0)?;
                    output.write_i32(self.0.recorded.load(Ordering::SeqCst))?;
                    output.write_field_end()?;
                    output.write_field_stop()?;
                    output.write_struct_end()?;
                    output.write_message_end()
                };
                write().map_err(ProcessError::Encode)?;
                Ok(Processed::Replied)
            }
            _ => Ok(Processed::UnknownMethod),
        }
    }
}

#[test]
fn on_workers_too_sequential_is_the_default_and_concurrent_is_a_choice() {
    let workers = |per_connection| {
        let state = State::new("");
        Server::new(SyncService(state))
            .options(ServerOptions {
                handlers: Handlers::Workers(4),
                ..options(per_connection)
            })
            .bind("127.0.0.1:0")
            .unwrap()
    };
    assert_eq!(
        ServerOptions::default().per_connection,
        PerConnection::Sequential
    );
    let server = workers(PerConnection::default());
    assert_eq!(oneway_then_call(server.local_addr(), 10), 10);
    server.shutdown(Duration::from_secs(5));
    let server = workers(PerConnection::CONCURRENT);
    assert!(oneway_then_call(server.local_addr(), 10) < 10);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn multiplexed_async_services_share_a_port() {
    let rt = runtime();
    let (a, b, plain) = (State::new("a:"), State::new("b:"), State::new("plain:"));
    let processor = Multiplexed::new("A", TestService(Arc::clone(&a)))
        .with("B", TestService(Arc::clone(&b)))
        .with_default(TestService(Arc::clone(&plain)));
    let server = Server::new_async(processor, rt.handle().clone())
        .options(options(PerConnection::Sequential))
        .bind("127.0.0.1:0")
        .unwrap();
    for (service, tag) in [(Some("A"), "a:"), (Some("B"), "b:"), (None, "plain:")] {
        let options = ClientOptions {
            service_name: service.map(str::to_string),
            ..ClientOptions::new(Dialect::Header, ProtocolId::Compact)
        };
        let mut client = Client::connect(server.local_addr(), options).unwrap();
        assert_eq!(echo(&mut client, "x", 1).unwrap(), format!("{tag}x"));
        assert_eq!(client.reply_headers().get_str("served-by"), Some(tag));
    }
    let options = ClientOptions {
        service_name: Some("C".to_string()),
        ..ClientOptions::new(Dialect::Framed, ProtocolId::Binary)
    };
    let mut client = Client::connect(server.local_addr(), options).unwrap();
    let e = service_error(echo(&mut client, "x", 0));
    assert_eq!(e.kind, ApplicationErrorKind::UNKNOWN_METHOD);
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn graceful_shutdown_waits_for_async_calls_then_gives_up_at_its_deadline() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::CONCURRENT));
    let addr = server.local_addr();
    let slow = std::thread::spawn(move || {
        let mut client = framed_client(addr);
        echo(&mut client, "slow", 300)
    });
    wait_until("the slow call runs", || {
        state.running.load(Ordering::SeqCst) == 1
    });
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(
        slow.join().unwrap().unwrap(),
        "slow",
        "answered before closing"
    );
    assert_eq!((stats.requests, stats.replies), (1, 1), "{stats:?}");

    // A call that never ends is dropped at the deadline.
    let server = serve_async(&rt, &state, options(PerConnection::CONCURRENT));
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(&framed_call(1, "hang", MessageType::Call, &NO_ARGS))
        .unwrap();
    wait_until("the call runs", || state.hung.load(Ordering::SeqCst) == 1);
    let started = Instant::now();
    let stats = server.shutdown(Duration::from_millis(200));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stats.connections_open, 0, "{stats:?}");
    wait_until("the future is dropped", || {
        state.dropped.load(Ordering::SeqCst) == 1
    });
    let mut rest = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "no reply for a dropped call");
}

#[test]
fn a_runtime_that_shuts_down_fails_its_calls_instead_of_hanging_them() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::Sequential));
    let mut client = framed_client(server.local_addr());
    assert_eq!(echo(&mut client, "up", 0).unwrap(), "up");
    rt.shutdown_timeout(Duration::from_secs(1));
    // A call ready at its first poll is answered on the poller; one that
    // waits needs the runtime, which is gone.
    assert_eq!(echo(&mut client, "ready", 0).unwrap(), "ready");
    // (tokio's timer panics in the first poll on the poller, which is the
    // handler's panic, or the task is dropped unrun: INTERNAL_ERROR either
    // way, never a hang.)
    let e = service_error(echo(&mut client, "down", 20));
    assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR);
    assert!(
        [
            "`echo` was dropped before it finished",
            "internal error in `echo`"
        ]
        .contains(&e.message.as_str()),
        "{e:?}"
    );
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!(stats.connections_open, 0);
}

#[test]
fn undecodable_arguments_get_protocol_error_and_a_close_after_earlier_replies() {
    let rt = runtime();
    let state = State::new("");
    let server = serve_async(&rt, &state, options(PerConnection::CONCURRENT));
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let args = CallArgs {
        s: Some("first"),
        n: Some(50),
    };
    let mut bytes = framed_call(1, "echo", MessageType::Call, &args);
    // A call whose arguments struct is cut short.
    let mut bad = framed_call(2, "echo", MessageType::Call, &args);
    let cut = bad.len() - 6;
    bad.truncate(cut);
    (&mut bad[..4]).put_u32(cut as u32 - 4);
    bytes.extend(bad);
    // A good call after it is not served: the connection is done.
    bytes.extend(framed_call(3, "echo", MessageType::Call, &args));
    stream.write_all(&bytes).unwrap();
    let (seqid, kind, value) = read_framed_reply(&mut stream);
    assert_eq!(
        (seqid, kind, value.as_str()),
        (1, MessageType::Reply, "first")
    );
    let (seqid, kind, value) = read_framed_reply(&mut stream);
    assert_eq!((seqid, kind), (2, MessageType::Exception));
    assert!(value.starts_with("PROTOCOL_ERROR"), "{value}");
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0, "then closed");
    let stats = server.shutdown(Duration::from_secs(5));
    assert_eq!((stats.requests, stats.replies), (2, 2), "{stats:?}");
}
