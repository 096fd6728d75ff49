//! Tracing across processes: a blocking client inside a trace sends
//! `traceparent` (THeader and TTHeader), the server's request span records
//! the caller's trace id and span id as its parent with a new span id of
//! its own, the handler (inline, on workers, async across an `.await`) sees
//! the call's context as `TraceContext::current()`, and a call made from
//! the handler continues the trace on the next server.

mod support;

use bytes::BytesMut;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{read_echo_args, write_echo_reply, EchoArgs, EchoReply};
use thriftgen_runtime::client::{Client, ClientOptions};
use thriftgen_runtime::protocol::{InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{
    AsyncProcessor, CallContext, Dispatch, ProcessError, Processed, Processor,
};
use thriftgen_runtime::trace::{outgoing_traceparent, TraceContext, TRACEPARENT};
use thriftgen_runtime::transport::{Dialect, ProtocolId};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

// ---------------------------------------------------------------------------
// A capturing subscriber: every closed span's name and fields.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

struct Capture;

fn closed() -> &'static Mutex<Vec<(String, Fields)>> {
    static CLOSED: Mutex<Vec<(String, Fields)>> = Mutex::new(Vec::new());
    &CLOSED
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            let fields = span
                .extensions()
                .get::<Fields>()
                .cloned()
                .unwrap_or_default();
            closed()
                .lock()
                .unwrap()
                .push((span.name().to_string(), fields));
        }
    }
}

fn capture() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Capture);
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    });
}

/// The fields of the closed `request` span of `trace_id` whose span id is
/// `span_id` (waits for it to close, at most 5 s).
fn request_span(span_id: &str) -> BTreeMap<String, String> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let found = closed()
            .lock()
            .unwrap()
            .iter()
            .find(|(name, f)| {
                name == "request" && f.0.get("span_id").map(String::as_str) == Some(span_id)
            })
            .map(|(_, f)| f.0.clone());
        if let Some(fields) = found {
            return fields;
        }
        assert!(Instant::now() < until, "no request span {span_id}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------
// A probe: `echo(x)` that notes what it saw of the trace, and may call the
// next server first.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Seen {
    /// `CallContext::trace`.
    trace: TraceContext,
    /// `CallContext::trace_parent`.
    parent: Option<TraceContext>,
    /// `TraceContext::current()` in the handler (after an await, async).
    current: Option<TraceContext>,
    /// What `outgoing_traceparent()` gave in the handler.
    outgoing: Option<TraceContext>,
}

#[derive(Default)]
struct Probe {
    seen: Mutex<Vec<Seen>>,
    /// Called (blocking, TTHeader) from the handler.
    next: Option<SocketAddr>,
}

impl Probe {
    /// The handler's body, in the handler's context.
    fn handle(&self, ctx: &CallContext, x: i32) -> i32 {
        let current = TraceContext::current();
        let outgoing = outgoing_traceparent().map(|v| v.parse().expect("a valid traceparent"));
        let mut x = x;
        if let Some(next) = self.next {
            let mut client = Client::connect(
                next,
                ClientOptions::new(Dialect::TTHeader, ProtocolId::Binary),
            )
            .expect("connect to the next server");
            x = client
                .call::<EchoReply, _>("echo", &EchoArgs(x + 1))
                .expect("the next call");
        }
        self.seen.lock().unwrap().push(Seen {
            trace: ctx.trace(),
            parent: ctx.trace_parent(),
            current,
            outgoing,
        });
        x
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Processor for Probe {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        if header.name.as_str() != "echo" {
            return Ok(Processed::UnknownMethod);
        }
        let x = read_echo_args(input).map_err(ProcessError::Decode)?;
        let x = self.handle(ctx, x);
        write_echo_reply(output, header, x).map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

/// The async probe: the same after an `.await` that really waits.
struct AsyncProbe(Arc<Probe>);

impl AsyncProcessor for AsyncProbe {
    fn dispatch<R: Protocol>(
        &self,
        ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        if header.name.as_str() != "echo" {
            return Ok(Dispatch::UnknownMethod);
        }
        let x = read_echo_args(input).map_err(ProcessError::Decode)?;
        let probe = Arc::clone(&self.0);
        let header = header.clone();
        Ok(Dispatch::Reply(Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            tokio::task::yield_now().await;
            let x = probe.handle(&ctx, x);
            let mut buf = BytesMut::new();
            write_echo_reply(&mut R::writer(&mut buf, limits), &header, x)
                .map_err(ProcessError::Encode)?;
            Ok(buf)
        })))
    }
}

#[derive(Clone, Copy, Debug)]
enum Engine {
    Inline,
    Workers,
    Async,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn serve(engine: Engine, probe: &Arc<Probe>) -> RunningServer {
    let options = ServerOptions {
        pollers: 1,
        ..ServerOptions::default()
    };
    match engine {
        Engine::Inline => Server::new(Arc::clone(probe))
            .options(options)
            .bind("127.0.0.1:0"),
        Engine::Workers => Server::new(Arc::clone(probe))
            .options(ServerOptions {
                handlers: Handlers::Workers(2),
                ..options
            })
            .bind("127.0.0.1:0"),
        Engine::Async => {
            Server::new_async(AsyncProbe(Arc::clone(probe)), runtime().handle().clone())
                .options(options)
                .bind("127.0.0.1:0")
        }
    }
    .expect("bind on loopback")
}

fn client(addr: SocketAddr, dialect: Dialect) -> Client {
    Client::connect(addr, ClientOptions::new(dialect, ProtocolId::Binary)).expect("connect")
}

/// What a server saw of a call continuing `caller`'s trace.
fn check_continues(seen: &Seen, caller: &TraceContext) {
    let parent = seen.parent.expect("the caller's traceparent");
    assert_eq!(parent.trace_id(), caller.trace_id(), "the caller's trace");
    assert_ne!(
        parent.span_id(),
        caller.span_id(),
        "a span of its own for the call"
    );
    assert_eq!(seen.trace.trace_id(), caller.trace_id());
    assert_ne!(
        seen.trace.span_id(),
        parent.span_id(),
        "the server's own span"
    );
    assert_eq!(
        seen.current,
        Some(seen.trace),
        "the handler runs in the call's trace"
    );
    let outgoing = seen
        .outgoing
        .expect("a traceparent for calls from the handler");
    assert_eq!(outgoing.trace_id(), caller.trace_id());
    assert_ne!(outgoing.span_id(), seen.trace.span_id());
    let span = request_span(&seen.trace.span_id().to_string());
    assert_eq!(span["trace_id"], caller.trace_id().to_string());
    assert_eq!(span["parent_span_id"], parent.span_id().to_string());
    assert_eq!(span["method"], "echo");
}

#[test]
fn the_server_continues_the_client_trace() {
    capture();
    for engine in [Engine::Inline, Engine::Workers, Engine::Async] {
        for dialect in [Dialect::Header, Dialect::TTHeader] {
            let probe = Arc::new(Probe::default());
            let server = serve(engine, &probe);
            let mut client = client(server.local_addr(), dialect);
            let root = TraceContext::new_root();
            for x in 0..3 {
                let got = root.scope(|| client.call::<EchoReply, _>("echo", &EchoArgs(x)));
                assert_eq!(got.expect("echo"), x, "{engine:?} {dialect:?}");
            }
            let seen = probe.seen();
            assert_eq!(seen.len(), 3);
            for s in &seen {
                check_continues(s, &root);
            }
            let spans: std::collections::HashSet<_> =
                seen.iter().map(|s| s.trace.span_id()).collect();
            assert_eq!(spans.len(), 3, "a new span per call");
            drop(client);
            server.shutdown(Duration::from_secs(5));
        }
    }
}

#[test]
fn a_call_from_a_handler_continues_the_trace() {
    capture();
    for engine in [Engine::Inline, Engine::Workers, Engine::Async] {
        let last = Arc::new(Probe::default());
        let last_server = serve(Engine::Inline, &last);
        let first = Arc::new(Probe {
            next: Some(last_server.local_addr()),
            ..Probe::default()
        });
        let first_server = serve(engine, &first);
        let mut client = client(first_server.local_addr(), Dialect::TTHeader);
        let root = TraceContext::new_root();
        let got = root.scope(|| client.call::<EchoReply, _>("echo", &EchoArgs(1)));
        assert_eq!(got.expect("echo"), 2);
        let [hop1] = first.seen()[..] else {
            panic!("one call on the first server")
        };
        let [hop2] = last.seen()[..] else {
            panic!("one call on the last server")
        };
        drop(client);
        check_continues(&hop1, &root);
        check_continues(&hop2, &root);
        // The second hop's parent is the first server's outgoing call,
        // under the first server's span.
        let parent = hop2.parent.unwrap();
        assert_ne!(parent.span_id(), hop1.trace.span_id());
        first_server.shutdown(Duration::from_secs(5));
        last_server.shutdown(Duration::from_secs(5));
    }
}

#[test]
fn without_a_traceparent_the_server_starts_a_trace() {
    capture();
    for engine in [Engine::Inline, Engine::Async] {
        let probe = Arc::new(Probe::default());
        let server = serve(engine, &probe);
        // Framed: no headers at all; TTHeader outside any trace: none sent.
        for dialect in [Dialect::Framed, Dialect::TTHeader] {
            let mut client = client(server.local_addr(), dialect);
            assert_eq!(
                client.call::<EchoReply, _>("echo", &EchoArgs(7)).unwrap(),
                7
            );
        }
        // An invalid one is ignored.
        let mut client = client(server.local_addr(), Dialect::Header);
        client.headers_mut().insert(
            TRACEPARENT,
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        );
        assert_eq!(
            client.call::<EchoReply, _>("echo", &EchoArgs(8)).unwrap(),
            8
        );
        let seen = probe.seen();
        assert_eq!(seen.len(), 3);
        for s in &seen {
            assert_eq!(s.parent, None);
            assert_eq!(s.current, Some(s.trace));
            let span = request_span(&s.trace.span_id().to_string());
            assert_eq!(span["trace_id"], s.trace.trace_id().to_string());
            assert!(!span.contains_key("parent_span_id"), "{span:?}");
        }
        server.shutdown(Duration::from_secs(5));
    }
}

#[test]
fn a_traceparent_the_caller_sets_is_kept() {
    capture();
    let probe = Arc::new(Probe::default());
    let server = serve(Engine::Inline, &probe);
    let mut client = client(server.local_addr(), Dialect::TTHeader);
    let mine: TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .parse()
        .unwrap();
    client.headers_mut().insert(TRACEPARENT, mine.to_string());
    let other = TraceContext::new_root();
    let got = other.scope(|| client.call::<EchoReply, _>("echo", &EchoArgs(3)));
    assert_eq!(got.unwrap(), 3);
    let [seen] = probe.seen()[..] else {
        panic!("one call")
    };
    assert_eq!(seen.parent, Some(mine));
    drop(client);
    server.shutdown(Duration::from_secs(5));
}
