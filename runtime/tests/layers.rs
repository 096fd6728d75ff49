//! Layers around the processor, sync (inline and on workers) and async:
//! `TokenAuth` rejects calls without the right token with an
//! `ApplicationException` (the handler does not run, the connection is
//! kept), `Metrics` counts and times calls, layers nest outermost-last, and
//! an interceptor sees the call's context, method and outcome.

mod support;

use bytes::BytesMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::{read_echo_args, write_echo_reply, EchoArgs, EchoReply, EchoService};
use thriftgen_runtime::client::{CallError, Client, ClientOptions};
use thriftgen_runtime::protocol::{
    ApplicationErrorKind, ApplicationException, Limits, MessageHeader, Protocol,
};
use thriftgen_runtime::server::layer::{
    CallInfo, CallOutcome, Identity, InterceptLayer, Interceptor, Layer, Metrics, Stack, TokenAuth,
};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{AsyncProcessor, CallContext, Dispatch, ProcessError};
use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// `echo(x)` answers `x` after an await; `note` (oneway) counts; `slow`
/// never answers (for cancellation).
#[derive(Clone, Default)]
struct AsyncEcho(Arc<AsyncCounts>);

#[derive(Default)]
struct AsyncCounts {
    echoes: AtomicUsize,
    notes: AtomicUsize,
}

impl AsyncProcessor for AsyncEcho {
    fn dispatch<R: Protocol>(
        &self,
        _ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        let method = header.name.as_str();
        if !matches!(method, "echo" | "note" | "slow") {
            return Ok(Dispatch::UnknownMethod);
        }
        let x = read_echo_args(input).map_err(ProcessError::Decode)?;
        let this = Arc::clone(&self.0);
        if method == "note" {
            return Ok(Dispatch::Oneway(Box::pin(async move {
                this.notes.fetch_add(1, Ordering::SeqCst);
            })));
        }
        let header = header.clone();
        let slow = method == "slow";
        Ok(Dispatch::Reply(Box::pin(async move {
            if slow {
                std::future::pending::<()>().await;
            }
            tokio::task::yield_now().await;
            this.echoes.fetch_add(1, Ordering::SeqCst);
            let mut buf = BytesMut::new();
            write_echo_reply(&mut R::writer(&mut buf, limits), &header, x)
                .map_err(ProcessError::Encode)?;
            Ok(buf)
        })))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    Inline,
    Workers,
    Async,
}

const ENGINES: [Engine; 3] = [Engine::Inline, Engine::Workers, Engine::Async];

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

/// The services behind a server, to count what ran.
#[derive(Default)]
struct Counts {
    sync: Arc<EchoService>,
    async_: AsyncEcho,
}

impl Counts {
    fn notes(&self) -> usize {
        self.sync.notes.load(Ordering::SeqCst) + self.async_.0.notes.load(Ordering::SeqCst)
    }
}

/// A server of `engine` with `layer` around its processor.
fn serve<L>(engine: Engine, counts: &Counts, layer: L) -> RunningServer
where
    L: Layer<Arc<EchoService>> + Layer<AsyncEcho>,
    <L as Layer<Arc<EchoService>>>::Service: thriftgen_runtime::Processor,
    <L as Layer<AsyncEcho>>::Service: AsyncProcessor,
{
    let options = ServerOptions {
        pollers: 1,
        call_timeout: Some(Duration::from_millis(200)),
        ..ServerOptions::default()
    };
    match engine {
        Engine::Inline => Server::new(Arc::clone(&counts.sync))
            .layer(layer)
            .options(options)
            .bind("127.0.0.1:0"),
        Engine::Workers => Server::new(Arc::clone(&counts.sync))
            .layer(layer)
            .options(ServerOptions {
                handlers: Handlers::Workers(2),
                ..options
            })
            .bind("127.0.0.1:0"),
        Engine::Async => Server::new_async(counts.async_.clone(), runtime().handle().clone())
            .layer(layer)
            .options(options)
            .bind("127.0.0.1:0"),
    }
    .expect("bind on loopback")
}

fn client(server: &RunningServer, dialect: Dialect) -> Client {
    Client::connect(
        server.local_addr(),
        ClientOptions::new(dialect, ProtocolId::Binary),
    )
    .expect("connect")
}

fn rejected(result: Result<i32, CallError<ApplicationException>>) -> ApplicationException {
    match result {
        Err(CallError::Service(e)) => e,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn token_auth_rejects_calls_without_the_token() {
    for engine in ENGINES {
        let counts = Counts::default();
        let auth = InterceptLayer::new(TokenAuth::new("authorization", "Bearer s3cret"));
        let server = serve(engine, &counts, auth);
        for dialect in [Dialect::Header, Dialect::TTHeader] {
            let mut client = client(&server, dialect);
            // No token, then a wrong one: rejected, the handler never runs.
            let e = rejected(client.call::<EchoReply, _>("echo", &EchoArgs(1)));
            assert_eq!(e.kind, ApplicationErrorKind::UNKNOWN, "{engine:?}");
            assert_eq!(e.message, "unauthenticated call of `echo`");
            client.headers_mut().insert("authorization", "Bearer guess");
            rejected(client.call::<EchoReply, _>("echo", &EchoArgs(2)));
            client.headers_mut().insert("authorization", "Bearer guess");
            client.send_oneway("note", &EchoArgs(0)).unwrap();
            assert!(!client.is_broken(), "the connection is kept");
            // The right token: served, on the same connection.
            client
                .headers_mut()
                .insert("authorization", "Bearer s3cret");
            let got = client.call::<EchoReply, _>("echo", &EchoArgs(3));
            assert_eq!(got.unwrap(), 3, "{engine:?} {dialect:?}");
            client
                .headers_mut()
                .insert("authorization", "Bearer s3cret");
            client.send_oneway("note", &EchoArgs(0)).unwrap();
            client
                .headers_mut()
                .insert("authorization", "Bearer s3cret");
            assert_eq!(
                client.call::<EchoReply, _>("echo", &EchoArgs(4)).unwrap(),
                4
            );
        }
        // TTHeader's ACL token does as well.
        let mut client = client(&server, Dialect::TTHeader);
        client.headers_mut().set_acl_token("Bearer s3cret");
        assert_eq!(
            client.call::<EchoReply, _>("echo", &EchoArgs(5)).unwrap(),
            5
        );
        // Framed calls carry no headers: always rejected.
        let mut framed = self::client(&server, Dialect::Framed);
        rejected(framed.call::<EchoReply, _>("echo", &EchoArgs(6)));
        assert_eq!(
            counts.notes(),
            2,
            "only the authorised notes ran ({engine:?})"
        );
        if engine == Engine::Async {
            assert_eq!(counts.async_.0.echoes.load(Ordering::SeqCst), 5);
        }
        drop((client, framed));
        let stats = server.shutdown(Duration::from_secs(5));
        assert_eq!(stats.errors, 0, "{stats:?}");
    }
}

#[test]
fn metrics_count_and_time_calls() {
    for engine in ENGINES {
        let counts = Counts::default();
        let metrics = Arc::new(Metrics::default());
        let server = serve(engine, &counts, InterceptLayer::new(Arc::clone(&metrics)));
        let mut client = client(&server, Dialect::Framed);
        for x in 0..5 {
            assert_eq!(
                client.call::<EchoReply, _>("echo", &EchoArgs(x)).unwrap(),
                x
            );
        }
        let e = rejected(client.call::<EchoReply, _>("nope", &EchoArgs(0)));
        assert_eq!(e.kind, ApplicationErrorKind::UNKNOWN_METHOD);
        if engine == Engine::Async {
            // Past the server's call timeout: the future is dropped.
            let e = rejected(client.call::<EchoReply, _>("slow", &EchoArgs(0)));
            assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR);
        }
        drop(client);
        let stats = server.shutdown(Duration::from_secs(5));
        let echo = metrics.method("echo");
        assert_eq!((echo.calls, echo.failed), (5, 0), "{engine:?}");
        assert!(echo.max_time <= echo.total_time);
        let nope = metrics.method("nope");
        assert_eq!((nope.calls, nope.failed), (1, 1));
        if engine == Engine::Async {
            let slow = metrics.method("slow");
            assert_eq!((slow.calls, slow.failed), (1, 1), "cancelled");
            assert!(slow.total_time >= Duration::from_millis(150));
        }
        assert!(stats.replies >= 6);
    }
}

/// Notes what it saw, to check order and outcomes.
struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}

impl Interceptor for Recorder {
    type Guard = String;

    fn before(&self, call: &CallInfo<'_>) -> Result<String, ApplicationException> {
        assert!(call.peer().is_some());
        assert_eq!(call.trace(), call.ctx().trace());
        let k = call.headers().get_str("k").unwrap_or("-").to_string();
        self.log
            .lock()
            .unwrap()
            .push(format!("{} before {} k={k}", self.name, call.method()));
        Ok(format!("{}:{}", self.name, call.header().seqid))
    }

    fn after(&self, call: &CallInfo<'_>, guard: String, outcome: CallOutcome<'_>, _: Duration) {
        assert!(guard.starts_with(self.name));
        let outcome = match outcome {
            CallOutcome::Replied => "replied",
            CallOutcome::Oneway => "oneway",
            CallOutcome::UnknownMethod => "unknown",
            _ => "other",
        };
        self.log
            .lock()
            .unwrap()
            .push(format!("{} after {} {outcome}", self.name, call.method()));
    }
}

#[test]
fn layers_nest_and_see_the_call() {
    for engine in ENGINES {
        let counts = Counts::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let inner = InterceptLayer::new(Recorder {
            name: "inner",
            log: Arc::clone(&log),
        });
        let outer = InterceptLayer::new(Recorder {
            name: "outer",
            log: Arc::clone(&log),
        });
        // tower's `Stack`: `outer` wraps `inner` wraps the processor, as
        // `.layer(inner).layer(outer)` would.
        let stack = Stack::new(Stack::new(inner, Identity::new()), outer);
        let server = serve(engine, &counts, stack);
        let mut client = client(&server, Dialect::TTHeader);
        client.headers_mut().insert("k", "v");
        assert_eq!(
            client.call::<EchoReply, _>("echo", &EchoArgs(1)).unwrap(),
            1
        );
        client.send_oneway("note", &EchoArgs(0)).unwrap();
        rejected(client.call::<EchoReply, _>("nope", &EchoArgs(0)));
        drop(client);
        server.shutdown(Duration::from_secs(5));
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log,
            [
                "outer before echo k=v",
                "inner before echo k=v",
                "inner after echo replied",
                "outer after echo replied",
                "outer before note k=-",
                "inner before note k=-",
                "inner after note oneway",
                "outer after note oneway",
                "outer before nope k=-",
                "inner before nope k=-",
                "inner after nope unknown",
                "outer after nope unknown",
            ],
            "{engine:?}"
        );
    }
}

#[test]
fn layers_chain_on_the_builder() {
    let counts = Counts::default();
    let metrics = Arc::new(Metrics::default());
    // Metrics outside auth: rejected calls are replies to it.
    let server = Server::new(Arc::clone(&counts.sync))
        .layer(InterceptLayer::new(TokenAuth::new("token", "t")))
        .layer(InterceptLayer::new(Arc::clone(&metrics)))
        .options(ServerOptions {
            pollers: 1,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut client = client(&server, Dialect::Header);
    rejected(client.call::<EchoReply, _>("echo", &EchoArgs(1)));
    client.headers_mut().insert("token", "t");
    assert_eq!(
        client.call::<EchoReply, _>("echo", &EchoArgs(2)).unwrap(),
        2
    );
    drop(client);
    server.shutdown(Duration::from_secs(5));
    assert_eq!(metrics.method("echo").calls, 2);
}
