//! End to end on loopback: generated handlers served by the runtime's server,
//! called through generated clients, over every transport and protocol, with
//! handlers inline and on workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thriftgen_runtime::client::{CallError, ClientOptions};
use thriftgen_runtime::protocol::{ApplicationErrorKind, ApplicationException};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{CallContext, Multiplexed};
use thriftgen_runtime::transport::{Dialect, ProtocolId};
use thriftgen_tests::gen::services::{
    Health, HealthClient, HealthProcessor, Order, OrderNotFound, OrderService, OrderServiceClient,
    OrderServiceGetError, OrderServiceProcessor, Unauthorized,
};

#[derive(Default)]
struct Shop {
    orders: Mutex<HashMap<i64, Order>>,
    audits: AtomicUsize,
}

impl Health for Shop {
    fn ping(&self, _ctx: &CallContext) -> Result<bool, ApplicationException> {
        Ok(true)
    }

    fn shutdown(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        Ok(())
    }
}

impl OrderService for Shop {
    fn get(&self, ctx: &CallContext, id: i64) -> Result<Order, OrderServiceGetError> {
        if let Some(user) = ctx.headers().get("user") {
            // Reply headers: bytes, set through the context.
            ctx.set_reply_header("seen-user", user);
            ctx.set_reply_header(&b"\xffbin"[..], &b"\x00\xff"[..]);
        }
        if id < 0 {
            let reason = ctx
                .headers()
                .get_str("user")
                .map(|u| format!("{u} may not"));
            return Err(Unauthorized { reason }.into());
        }
        if id == 666 {
            panic!("the handler panics on 666");
        }
        self.orders
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .ok_or(OrderServiceGetError::OrderNotFound(OrderNotFound { id }))
    }

    fn by_customer(
        &self,
        _ctx: &CallContext,
        customer: String,
        limit: Option<i32>,
    ) -> Result<Vec<Order>, ApplicationException> {
        // `limit = 50` in the IDL: `None` when the caller left it out.
        let limit = limit.unwrap_or(50);
        let orders = self.orders.lock().unwrap();
        let mut found: Vec<Order> = orders
            .values()
            .filter(|o| o.customer == customer)
            .cloned()
            .collect();
        found.sort_by_key(|o| -o.id);
        found.truncate(limit.max(0) as usize);
        Ok(found)
    }

    fn place(
        &self,
        _ctx: &CallContext,
        order: Order,
    ) -> Result<i64, thriftgen_tests::gen::services::OrderServicePlaceError> {
        let id = order.id;
        self.orders.lock().unwrap().insert(id, order);
        Ok(id)
    }

    fn cancel(&self, _ctx: &CallContext, id: i64) -> Result<(), ApplicationException> {
        match self.orders.lock().unwrap().remove(&id) {
            Some(_) => Ok(()),
            None => Err(ApplicationException::new(
                ApplicationErrorKind::UNKNOWN,
                format!("no order {id}"),
            )),
        }
    }

    fn audit(
        &self,
        _ctx: &CallContext,
        _event: String,
        _fields: HashMap<String, String>,
    ) -> Result<(), ApplicationException> {
        self.audits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn counts(&self, _ctx: &CallContext) -> Result<HashMap<String, i64>, ApplicationException> {
        let n = self.orders.lock().unwrap().len() as i64;
        Ok(HashMap::from([("orders".to_string(), n)]))
    }
}

fn serve(handlers: Handlers) -> (RunningServer, Arc<Shop>) {
    let shop = Arc::new(Shop::default());
    let server = Server::new(OrderServiceProcessor::new(Arc::clone(&shop)))
        .options(ServerOptions {
            pollers: 2,
            handlers,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")
        .unwrap();
    (server, shop)
}

const DIALECTS: [Dialect; 4] = [
    Dialect::Buffered,
    Dialect::Framed,
    Dialect::Header,
    Dialect::TTHeader,
];
const PROTOCOLS: [ProtocolId; 2] = [ProtocolId::Binary, ProtocolId::Compact];

fn order(id: i64, customer: &str) -> Order {
    Order {
        id,
        customer: customer.to_string(),
        items: Some(vec!["book".to_string(), "pen".to_string()]),
    }
}

fn exercise<
    T: thriftgen_runtime::transport::Transport,
    X: thriftgen_runtime::protocol::Protocols,
>(
    client: &mut OrderServiceClient<T, X>,
    shop: &Shop,
    base: i64,
) {
    assert!(client.ping().unwrap());
    assert_eq!(client.place(&order(base + 1, "ann")).unwrap(), base + 1);
    assert_eq!(client.place(&order(base + 2, "ann")).unwrap(), base + 2);
    assert_eq!(client.get(base + 1).unwrap(), order(base + 1, "ann"));
    let found = client.by_customer("ann", Some(1)).unwrap();
    assert_eq!(found, vec![order(base + 2, "ann")]);
    // Left out, the limit is the IDL default the handler applies.
    let found = client.by_customer("ann", None).unwrap();
    assert!(found.len() >= 2, "{found:?}");
    // A declared exception arrives typed.
    match client.get(base + 99) {
        Err(CallError::Service(OrderServiceGetError::OrderNotFound(e))) => {
            assert_eq!(e.id, base + 99)
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    // An application error from the handler.
    match client.cancel(-5) {
        Err(CallError::Service(e)) => assert_eq!(e.message, "no order -5"),
        other => panic!("expected an application error, got {other:?}"),
    }
    // A panicking handler: INTERNAL_ERROR, and the connection goes on.
    match client.get(666) {
        Err(CallError::Service(OrderServiceGetError::Application(e))) => {
            assert_eq!(e.kind, ApplicationErrorKind::INTERNAL_ERROR)
        }
        other => panic!("expected INTERNAL_ERROR, got {other:?}"),
    }
    // Oneway calls get no reply; the next call still pairs up.
    let before = shop.audits.load(Ordering::SeqCst);
    client
        .audit(
            "placed",
            &HashMap::from([("k".to_string(), "v".to_string())]),
        )
        .unwrap();
    assert!(client.counts().unwrap()["orders"] >= 2);
    assert!(shop.audits.load(Ordering::SeqCst) > before);
}

#[test]
fn every_dialect_and_protocol_inline_and_on_workers() {
    for handlers in [Handlers::Inline, Handlers::Workers(3)] {
        let (server, shop) = serve(handlers);
        let mut base = 0;
        for dialect in DIALECTS {
            for protocol in PROTOCOLS {
                base += 1000;
                let mut client = OrderServiceClient::connect(
                    server.local_addr(),
                    ClientOptions::new(dialect, protocol),
                )
                .unwrap();
                exercise(&mut client, &shop, base);
            }
        }
        let stats = server.shutdown(Duration::from_secs(5));
        assert_eq!(stats.connections_open, 0);
        assert_eq!(stats.requests, 8 * 11, "{stats:?}");
        assert_eq!(
            stats.replies,
            8 * 10,
            "oneway calls get no reply: {stats:?}"
        );
    }
}

#[test]
fn headers_reach_the_handler() {
    let (server, _shop) = serve(Handlers::Inline);
    for dialect in [Dialect::Header, Dialect::TTHeader] {
        let mut client = OrderServiceClient::connect(
            server.local_addr(),
            ClientOptions::new(dialect, ProtocolId::Compact),
        )
        .unwrap();
        client.connection().headers_mut().insert("user", "mallory");
        match client.get(-1) {
            Err(CallError::Service(OrderServiceGetError::Unauthorized(e))) => {
                assert_eq!(e.reason.as_deref(), Some("mallory may not"), "{dialect:?}")
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        // The handler's reply headers, with the declared exception.
        let reply = client.connection().reply_headers();
        assert_eq!(reply.get_str("seen-user"), Some("mallory"), "{dialect:?}");
        assert_eq!(reply.get(b"\xffbin"), Some(&b"\x00\xff"[..]), "{dialect:?}");
        // Headers are per call, both ways.
        match client.get(-1) {
            Err(CallError::Service(OrderServiceGetError::Unauthorized(e))) => {
                assert_eq!(e.reason, None)
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        assert!(
            client.connection().reply_headers().is_empty(),
            "{dialect:?}"
        );
        // And with a value.
        client
            .connection()
            .headers_mut()
            .insert("user", &b"\x00\xfe"[..]);
        assert!(matches!(
            client.get(1),
            Err(CallError::Service(OrderServiceGetError::OrderNotFound(_)))
        ));
        let reply = client.connection().reply_headers();
        assert_eq!(
            reply.get("seen-user"),
            Some(&b"\x00\xfe"[..]),
            "{dialect:?}"
        );
    }
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn unknown_methods_and_multiplexing() {
    let shop = Arc::new(Shop::default());
    let server = Server::new(
        Multiplexed::new("Orders", OrderServiceProcessor::new(Arc::clone(&shop)))
            .with("Health", HealthProcessor::new(Arc::clone(&shop))),
    )
    .bind("127.0.0.1:0")
    .unwrap();
    let options = |service: &str| ClientOptions {
        service_name: Some(service.to_string()),
        ..ClientOptions::default()
    };
    let mut orders = OrderServiceClient::connect(server.local_addr(), options("Orders")).unwrap();
    assert_eq!(orders.place(&order(1, "bob")).unwrap(), 1);
    let mut health = HealthClient::connect(server.local_addr(), options("Health")).unwrap();
    assert!(health.ping().unwrap());
    // `Health` does not know `place`: UNKNOWN_METHOD, connection kept.
    let mut wrong = OrderServiceClient::connect(server.local_addr(), options("Health")).unwrap();
    match wrong.place(&order(2, "bob")) {
        Err(CallError::Service(e)) => {
            let OrderServicePlaceErrorExt(kind) = kind_of(e);
            assert_eq!(kind, ApplicationErrorKind::UNKNOWN_METHOD);
        }
        other => panic!("expected UNKNOWN_METHOD, got {other:?}"),
    }
    assert!(wrong.ping().unwrap());
    // No such service at all.
    let mut lost = HealthClient::connect(server.local_addr(), options("Nope")).unwrap();
    match lost.ping() {
        Err(CallError::Service(e)) => assert_eq!(e.kind, ApplicationErrorKind::UNKNOWN_METHOD),
        other => panic!("expected UNKNOWN_METHOD, got {other:?}"),
    }
    server.shutdown(Duration::from_secs(5));
}

struct OrderServicePlaceErrorExt(ApplicationErrorKind);

fn kind_of(e: thriftgen_tests::gen::services::OrderServicePlaceError) -> OrderServicePlaceErrorExt {
    match e {
        thriftgen_tests::gen::services::OrderServicePlaceError::Application(e) => {
            OrderServicePlaceErrorExt(e.kind)
        }
        other => panic!("expected an application error, got {other:?}"),
    }
}

/// A framing of one's own: `TG`, a 4-byte big-endian length, then a compact
/// protocol message. Plugged into the server and into a generated client.
#[derive(Debug, Clone, Copy)]
struct MagicFramed(ProtocolId);

impl thriftgen_runtime::transport::Transport for MagicFramed {
    fn decode(
        &mut self,
        input: &mut thriftgen_runtime::bytes::BytesMut,
    ) -> Result<
        Option<thriftgen_runtime::transport::Frame>,
        thriftgen_runtime::transport::TransportError,
    > {
        use thriftgen_runtime::transport::{Frame, FrameInfo, TransportError, TransportErrorKind};
        if input.len() < 6 {
            return Ok(None);
        }
        if &input[..2] != b"TG" {
            return Err(TransportError::new(TransportErrorKind::BadMagic, "not TG"));
        }
        let len = u32::from_be_bytes([input[2], input[3], input[4], input[5]]) as usize;
        if len > 1 << 20 {
            return Err(TransportError::new(
                TransportErrorKind::FrameTooLarge,
                "too big",
            ));
        }
        if input.len() < 6 + len {
            return Ok(None);
        }
        let mut frame = input.split_to(6 + len);
        let payload = frame.split_off(6).freeze();
        Ok(Some(Frame {
            payload,
            info: FrameInfo::new(Dialect::Framed, self.0),
        }))
    }

    fn begin(
        &mut self,
        out: &mut thriftgen_runtime::bytes::BytesMut,
        _info: &thriftgen_runtime::transport::FrameInfo,
    ) -> Result<
        thriftgen_runtime::transport::FrameStart,
        thriftgen_runtime::transport::TransportError,
    > {
        let frame = out.len();
        out.extend_from_slice(b"TG\0\0\0\0");
        Ok(thriftgen_runtime::transport::FrameStart::new(
            frame,
            out.len(),
        ))
    }

    fn finish(
        &mut self,
        out: &mut thriftgen_runtime::bytes::BytesMut,
        start: thriftgen_runtime::transport::FrameStart,
        _info: &thriftgen_runtime::transport::FrameInfo,
    ) -> Result<(), thriftgen_runtime::transport::TransportError> {
        let len = (out.len() - start.payload_offset()) as u32;
        out[start.frame_offset() + 2..start.payload_offset()].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }
}

#[test]
fn a_framing_of_ones_own_plugs_into_server_and_client() {
    for handlers in [Handlers::Inline, Handlers::Workers(2)] {
        let shop = Arc::new(Shop::default());
        let server = Server::new(OrderServiceProcessor::new(Arc::clone(&shop)))
            .options(ServerOptions {
                pollers: 1,
                handlers,
                ..ServerOptions::default()
            })
            .transport(|_limits| MagicFramed(ProtocolId::Compact))
            .bind("127.0.0.1:0")
            .unwrap();
        let stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
        let options = ClientOptions::new(Dialect::Framed, ProtocolId::Compact);
        let connection = thriftgen_runtime::client::Client::with_transport(
            stream,
            options,
            MagicFramed(ProtocolId::Compact),
        )
        .unwrap();
        let mut client = OrderServiceClient::new(connection);
        exercise(&mut client, &shop, 0);

        // A standard framed client is not understood by this server.
        let mut plain =
            OrderServiceClient::connect(server.local_addr(), ClientOptions::default()).unwrap();
        assert!(matches!(plain.ping(), Err(CallError::Client(_))));
        server.shutdown(Duration::from_secs(5));
    }
}

/// A protocol of one's own: here the binary protocol under another id,
/// counting the readers it makes so the test can tell it was used.
struct Counted;

static COUNTED_READERS: AtomicUsize = AtomicUsize::new(0);

impl thriftgen_runtime::protocol::Protocol for Counted {
    type Reader = thriftgen_runtime::protocol::BinaryReader;
    type Writer<'a> = thriftgen_runtime::protocol::BinaryWriter<'a>;

    fn reader(
        message: thriftgen_runtime::bytes::Bytes,
        limits: thriftgen_runtime::protocol::Limits,
    ) -> Self::Reader {
        COUNTED_READERS.fetch_add(1, Ordering::SeqCst);
        thriftgen_runtime::protocol::BinaryReader::with_limits(message, limits)
    }

    fn writer(
        out: &mut thriftgen_runtime::bytes::BytesMut,
        limits: thriftgen_runtime::protocol::Limits,
    ) -> Self::Writer<'_> {
        thriftgen_runtime::protocol::BinaryWriter::with_limits(out, limits)
    }
}

/// The standard protocols plus `Counted` as protocol 9.
struct WithCounted;

impl thriftgen_runtime::protocol::Protocols for WithCounted {
    fn visit<V: thriftgen_runtime::protocol::ProtocolVisitor>(
        &self,
        id: ProtocolId,
        visitor: V,
    ) -> Option<V::Output> {
        match id {
            ProtocolId::Other(9) => Some(visitor.visit::<Counted>()),
            id => thriftgen_runtime::protocol::Standard.visit(id, visitor),
        }
    }
}

#[test]
fn a_protocol_of_ones_own_plugs_into_server_and_client() {
    let shop = Arc::new(Shop::default());
    let server = Server::new(OrderServiceProcessor::new(Arc::clone(&shop)))
        .transport(|_limits| MagicFramed(ProtocolId::Other(9)))
        .protocols(WithCounted)
        .bind("127.0.0.1:0")
        .unwrap();
    let stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    let options = ClientOptions::new(Dialect::Framed, ProtocolId::Other(9));
    let connection = thriftgen_runtime::client::Client::with_parts(
        stream,
        options,
        MagicFramed(ProtocolId::Other(9)),
        WithCounted,
    )
    .unwrap();
    let mut client = OrderServiceClient::new(connection);
    let before = COUNTED_READERS.load(Ordering::SeqCst);
    exercise(&mut client, &shop, 0);
    // Each of the 11 calls is read by the server, and 10 replies by the client.
    assert_eq!(COUNTED_READERS.load(Ordering::SeqCst) - before, 21);

    // A client that only speaks the standard protocols cannot use protocol 9.
    let stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    let mut standard = OrderServiceClient::new(
        thriftgen_runtime::client::Client::with_transport(
            stream,
            ClientOptions::new(Dialect::Framed, ProtocolId::Other(9)),
            MagicFramed(ProtocolId::Other(9)),
        )
        .unwrap(),
    );
    assert!(matches!(standard.ping(), Err(CallError::Client(_))));
    server.shutdown(Duration::from_secs(5));
}
