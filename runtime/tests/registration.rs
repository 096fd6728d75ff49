//! A server with a registrar: it registers once it listens (the real port
//! of `127.0.0.1:0`), and a graceful shutdown deregisters first, keeps
//! serving for the exit wait (replies carry the TTHeader drain hint
//! `crrst`, idle connections are closed, new connections still served),
//! and only then stops accepting and drains. A client that watches the
//! registry and honours the hint loses no call. With inline, worker and
//! async handlers.

mod support;

use bytes::BytesMut;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::{read_echo_args, write_echo_reply, EchoArgs, EchoReply};
use thriftgen_runtime::client::{Client, ClientOptions};
use thriftgen_runtime::discover::{DiscoverError, Instance, Registrar};
use thriftgen_runtime::protocol::{InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol};
use thriftgen_runtime::server::{
    Handlers, Registration, RunningServer, Server, ServerOptions, CONNECTION_READY_TO_RESET,
};
use thriftgen_runtime::service::{
    AsyncProcessor, CallContext, Dispatch, ProcessError, Processed, Processor,
};
use thriftgen_runtime::transport::{Dialect, ProtocolId};

// ---------------------------------------------------------------------------
// A registry in memory.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    /// Registered; whether the address accepted a connection then.
    Register(Instance, bool),
    Deregister(Instance),
}

#[derive(Default)]
struct FakeRegistry {
    events: Mutex<Vec<(Event, Instant)>>,
    live: Mutex<Vec<Instance>>,
    fail: bool,
}

impl FakeRegistry {
    fn events(&self) -> Vec<(Event, Instant)> {
        self.events.lock().unwrap().clone()
    }

    fn is_live(&self, addr: SocketAddr) -> bool {
        self.live.lock().unwrap().iter().any(|i| i.addr == addr)
    }

    fn deregistered_at(&self) -> Option<Instant> {
        self.events()
            .into_iter()
            .find_map(|(e, at)| matches!(e, Event::Deregister(_)).then_some(at))
    }
}

impl Registrar for FakeRegistry {
    fn register(&self, instance: &Instance) -> Result<(), DiscoverError> {
        if self.fail {
            return Err(DiscoverError::new("registry says no"));
        }
        let listening = TcpStream::connect_timeout(&instance.addr, Duration::from_secs(1)).is_ok();
        self.events
            .lock()
            .unwrap()
            .push((Event::Register(instance.clone(), listening), Instant::now()));
        self.live.lock().unwrap().push(instance.clone());
        Ok(())
    }

    fn deregister(&self, instance: &Instance) -> Result<(), DiscoverError> {
        self.live.lock().unwrap().retain(|i| i != instance);
        self.events
            .lock()
            .unwrap()
            .push((Event::Deregister(instance.clone()), Instant::now()));
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// `i32 echo(1: i32 x)`: answers x; x >= 1000 first sleeps x - 1000 ms.
// ---------------------------------------------------------------------------

fn delay(x: i32) -> Option<Duration> {
    (x >= 1000).then(|| Duration::from_millis((x - 1000) as u64))
}

struct SyncEcho;

impl Processor for SyncEcho {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        _ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        let x = read_echo_args(input).map_err(ProcessError::Decode)?;
        if let Some(d) = delay(x) {
            std::thread::sleep(d);
        }
        write_echo_reply(output, header, x).map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

struct AsyncEcho;

impl AsyncProcessor for AsyncEcho {
    fn dispatch<R: Protocol>(
        &self,
        _ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        let x = read_echo_args(input).map_err(ProcessError::Decode)?;
        let header = header.clone();
        Ok(Dispatch::Reply(Box::pin(async move {
            if let Some(d) = delay(x) {
                tokio::time::sleep(d).await;
            }
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

const EXIT_WAIT: Duration = Duration::from_millis(400);

fn serve(engine: Engine, registry: &Arc<FakeRegistry>) -> std::io::Result<RunningServer> {
    let options = ServerOptions {
        pollers: 2,
        exit_wait: Some(EXIT_WAIT),
        ..ServerOptions::default()
    };
    let registration = Registration::new(Arc::clone(registry) as Arc<dyn Registrar>)
        .weight(7)
        .tag("zone", "test");
    match engine {
        Engine::Inline => Server::new(SyncEcho)
            .options(options)
            .register(registration)
            .bind("127.0.0.1:0"),
        Engine::Workers => Server::new(SyncEcho)
            .options(ServerOptions {
                handlers: Handlers::Workers(4),
                ..options
            })
            .register(registration)
            .bind("127.0.0.1:0"),
        Engine::Async => Server::new_async(AsyncEcho, runtime().handle().clone())
            .options(options)
            .register(registration)
            .bind("127.0.0.1:0"),
    }
}

fn tt_client(addr: SocketAddr) -> Client {
    Client::connect(
        addr,
        ClientOptions::new(Dialect::TTHeader, ProtocolId::Binary),
    )
    .expect("connect")
}

fn has_hint(client: &Client) -> bool {
    let (key, value) = CONNECTION_READY_TO_RESET;
    client.reply_headers().get_str(key) == Some(value)
}

/// Connects every few milliseconds until refused; the time of the first
/// refusal (the listener closed).
fn probe(addr: SocketAddr) -> std::thread::JoinHandle<Option<Instant>> {
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => drop(stream),
                Err(_) => return Some(Instant::now()),
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        None
    })
}

#[test]
fn restarts_without_a_failed_call() {
    for engine in [Engine::Inline, Engine::Workers, Engine::Async] {
        let registry = Arc::new(FakeRegistry::default());
        let server = serve(engine, &registry).expect("bind");
        let addr = server.local_addr();

        // Registered once listening, with the real port.
        let events = registry.events();
        let [(Event::Register(instance, listening), _)] = &events[..] else {
            panic!("one registration: {events:?}")
        };
        assert!(*listening, "registered before listening");
        assert_ne!(addr.port(), 0);
        assert_eq!(instance.addr, addr);
        assert_eq!(instance.weight, 7);
        assert_eq!(instance.tags["zone"], "test");
        assert_eq!(server.registered().as_ref(), Some(instance));

        // A client of the fleet: calls while the instance is in the
        // registry, and drops its connection when a reply says so.
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicUsize::new(0));
        let hinted = Arc::new(AtomicUsize::new(0));
        let fleet = {
            let (registry, stop) = (Arc::clone(&registry), Arc::clone(&stop));
            let (calls, hinted) = (Arc::clone(&calls), Arc::clone(&hinted));
            std::thread::spawn(move || {
                let mut client = tt_client(addr);
                let mut failures = Vec::new();
                let mut x = 0;
                while registry.is_live(addr) && !stop.load(Ordering::SeqCst) {
                    x += 1;
                    match client.call::<EchoReply, _>("echo", &EchoArgs(x % 1000)) {
                        Ok(got) => assert_eq!(got, x % 1000),
                        Err(e) => failures.push(e.to_string()),
                    }
                    calls.fetch_add(1, Ordering::SeqCst);
                    if has_hint(&client) {
                        hinted.fetch_add(1, Ordering::SeqCst);
                        client.reconnect().expect("reconnect during the exit wait");
                    }
                }
                failures
            })
        };
        // An idle connection, and (off the poller) a call in flight.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let busy = (engine != Engine::Inline).then(|| {
            std::thread::spawn(move || {
                let mut client = tt_client(addr);
                let got = client.call::<EchoReply, _>("echo", &EchoArgs(1000 + 200));
                (
                    got.map_err(|e| e.to_string()),
                    has_hint(&client),
                    Instant::now(),
                )
            })
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(calls.load(Ordering::SeqCst) > 0);
        let refused = probe(addr);

        let asked = Instant::now();
        server.handle().shutdown(Duration::from_secs(5));
        assert!(
            asked.elapsed() < Duration::from_millis(100),
            "shutdown blocks its caller"
        );

        // Deregistered at once; the listener still accepts meanwhile.
        let until = Instant::now() + Duration::from_secs(2);
        let deregistered = loop {
            if let Some(at) = registry.deregistered_at() {
                break at;
            }
            assert!(Instant::now() < until, "no deregistration");
            std::thread::sleep(Duration::from_millis(2));
        };
        // The idle connection is closed gracefully, early in the exit wait.
        let mut byte = [0u8; 1];
        assert_eq!(idle.read(&mut byte).expect("end of stream, not a reset"), 0);
        let idle_closed = Instant::now();
        // A new connection during the exit wait is served, with the hint.
        let mut late = tt_client(addr);
        assert_eq!(late.call::<EchoReply, _>("echo", &EchoArgs(5)).unwrap(), 5);
        assert!(has_hint(&late), "replies in the exit wait carry crrst");
        let late_served = Instant::now();
        drop(late);

        let failures = fleet.join().unwrap();
        assert!(failures.is_empty(), "{engine:?}: failed calls {failures:?}");
        if let Some(busy) = busy {
            let (got, hint, at) = busy.join().unwrap();
            assert_eq!(got, Ok(1200), "{engine:?}");
            assert!(hint, "a reply in the exit wait carries crrst");
            assert!(at < deregistered + EXIT_WAIT);
        }
        stop.store(true, Ordering::SeqCst);
        let refused = refused.join().unwrap().expect("the listener closes");
        let stats = server.join();

        assert!(deregistered < idle_closed && idle_closed < refused);
        assert!(late_served < refused);
        let waited = refused.duration_since(deregistered);
        assert!(
            waited >= EXIT_WAIT - Duration::from_millis(20),
            "{engine:?}: stopped accepting {waited:?} after deregistering"
        );
        assert_eq!(stats.dropped_at_deadline, 0, "{stats:?}");
        let events = registry.events();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].0, Event::Deregister(instance.clone()));
        let _ = hinted.load(Ordering::SeqCst);
    }
}

#[test]
fn a_registration_error_fails_bind() {
    let registry = Arc::new(FakeRegistry {
        fail: true,
        ..FakeRegistry::default()
    });
    let err = serve(Engine::Inline, &registry).expect_err("bind must fail");
    assert!(err.to_string().contains("registry says no"), "{err}");
}

#[test]
fn the_registered_address() {
    let registry: Arc<dyn Registrar> = Arc::new(FakeRegistry::default());
    let local: SocketAddr = "127.0.0.1:4567".parse().unwrap();
    let plain = Registration::new(Arc::clone(&registry));
    let instance = plain.instance(local).unwrap();
    assert_eq!(instance, Instance::new(local));
    let advertised = Registration::new(Arc::clone(&registry))
        .advertise("10.1.2.3:0".parse().unwrap())
        .instance(local)
        .unwrap();
    assert_eq!(advertised.addr, "10.1.2.3:4567".parse().unwrap());
    let any = Registration::new(Arc::clone(&registry))
        .advertise("0.0.0.0:9999".parse().unwrap())
        .instance(local)
        .unwrap();
    assert_eq!(any.addr, "127.0.0.1:9999".parse().unwrap());
}

#[test]
fn without_a_registrar_nothing_waits() {
    let server = Server::new(SyncEcho)
        .options(ServerOptions {
            pollers: 1,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    assert_eq!(server.registered(), None);
    let addr = server.local_addr();
    let started = Instant::now();
    server.shutdown(Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(TcpStream::connect(addr).is_err());
}
