//! The services of `idl/good/service_shapes.thrift` on loopback: arguments a
//! caller may leave out, error variants named after exception types, client
//! methods renamed around the client's own, and oneway errors that are
//! logged rather than dropped.

use std::sync::{Arc, Mutex};
use thriftgen_runtime::bytes::BytesMut;
use thriftgen_runtime::client::{CallError, ClientOptions};
use thriftgen_runtime::protocol::{
    ApplicationException, BinaryReader, BinaryWriter, MessageHeader, OutputProtocol,
};
use thriftgen_runtime::server::Server;
use thriftgen_runtime::service::{Args, CallContext, Processed, Processor};
use thriftgen_runtime::MessageType;
use thriftgen_tests::gen::service_shapes::{
    Denied, Events, EventsEmitArgs, EventsProcessor, NotFound, Store, StoreAliasError, StoreClient,
    StoreGetError, StorePickError, StoreProcessor,
};

/// Records what the handler saw.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
}

impl Recorder {
    fn saw(&self, what: String) {
        self.seen.lock().unwrap().push(what);
    }
}

impl Store for Recorder {
    fn put(
        &self,
        _ctx: &CallContext,
        key: String,
        expected_version: Option<i64>,
    ) -> Result<(), ApplicationException> {
        self.saw(format!("put {key} {expected_version:?}"));
        Ok(())
    }

    fn scan(
        &self,
        _ctx: &CallContext,
        prefix: String,
        limit: Option<i32>,
        after: Option<String>,
    ) -> Result<Vec<String>, ApplicationException> {
        self.saw(format!("scan {prefix} {limit:?} {after:?}"));
        // The IDL default, applied by the handler.
        let limit = limit.unwrap_or(100);
        Ok(vec![format!("{prefix}{limit}")])
    }

    #[allow(clippy::too_many_arguments)]
    fn names(
        &self,
        _ctx: &CallContext,
        handler: String,
        header: String,
        input: String,
        output: String,
        result: String,
        ctx_: String,
        ctx_7: String,
        self_: String,
        value: String,
        e: String,
    ) -> Result<String, ApplicationException> {
        Ok([
            handler, header, input, output, result, ctx_, ctx_7, self_, value, e,
        ]
        .join(","))
    }

    fn get(&self, _ctx: &CallContext, key: String) -> Result<String, StoreGetError> {
        match key.as_str() {
            "missing" => Err(NotFound { what: Some(key) }.into()),
            "secret" => Err(StoreGetError::Denied(Denied { why: Some(key) })),
            _ => Ok(key),
        }
    }

    fn pick(&self, _ctx: &CallContext, key: String) -> Result<String, StorePickError> {
        match key.as_str() {
            "a" => Err(StorePickError::Primary(NotFound { what: Some(key) })),
            "b" => Err(StorePickError::Secondary(NotFound { what: Some(key) })),
            _ => Err(Denied { why: Some(key) }.into()),
        }
    }

    fn alias(&self, _ctx: &CallContext, key: String) -> Result<String, StoreAliasError> {
        Err(StoreAliasError::Missing(NotFound { what: Some(key) }))
    }

    fn connect(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.saw("connect".to_string());
        Ok(())
    }

    fn connection(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.saw("connection".to_string());
        Ok(())
    }

    fn new(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.saw("new".to_string());
        Ok(())
    }

    fn get_item(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.saw("getItem".to_string());
        Ok(())
    }

    fn get_item_10(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.saw("get_item".to_string());
        Ok(())
    }
}

#[test]
fn omitted_arguments_reach_the_handler_as_none() {
    let recorder = Arc::new(Recorder::default());
    let server = Server::new(StoreProcessor::new(Arc::clone(&recorder)))
        .bind("127.0.0.1:0")
        .unwrap();
    let mut client = StoreClient::connect(server.local_addr(), ClientOptions::default()).unwrap();
    client.put("k", None).unwrap();
    client.put("k", Some(3)).unwrap();
    assert_eq!(client.scan("p", None, None).unwrap(), ["p100"]);
    assert_eq!(client.scan("p", Some(5), Some("")).unwrap(), ["p5"]);
    // Names the generated code uses itself arrive in order.
    let args: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let [a, b, c, d, e, f, g, h, i, j] = args.try_into().unwrap();
    assert_eq!(
        client
            .names(&a, &b, &c, &d, &e, &f, &g, &h, &i, &j)
            .unwrap(),
        "0,1,2,3,4,5,6,7,8,9"
    );
    // Methods named like the client's own get a `_`.
    client.connect_().unwrap();
    client.connection_().unwrap();
    client.new_().unwrap();
    client.get_item().unwrap();
    client.get_item_10().unwrap();
    server.shutdown(std::time::Duration::from_secs(5));
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        [
            "put k None",
            "put k Some(3)",
            "scan p None None",
            "scan p Some(5) Some(\"\")",
            "connect",
            "connection",
            "new",
            "getItem",
            "get_item",
        ]
    );
}

#[test]
fn error_variants_are_named_after_exception_types() {
    let server = Server::new(StoreProcessor::new(Recorder::default()))
        .bind("127.0.0.1:0")
        .unwrap();
    let mut client = StoreClient::connect(server.local_addr(), ClientOptions::default()).unwrap();
    assert!(matches!(
        client.get("missing"),
        Err(CallError::Service(StoreGetError::NotFound(_)))
    ));
    assert!(matches!(
        client.get("secret"),
        Err(CallError::Service(StoreGetError::Denied(_)))
    ));
    // Two throws of one type: named after their fields.
    assert!(matches!(
        client.pick("a"),
        Err(CallError::Service(StorePickError::Primary(_)))
    ));
    assert!(matches!(
        client.pick("b"),
        Err(CallError::Service(StorePickError::Secondary(_)))
    ));
    assert!(matches!(
        client.pick("c"),
        Err(CallError::Service(StorePickError::Denied(_)))
    ));
    // A typedef of an exception shares its type.
    assert!(matches!(
        client.alias("x"),
        Err(CallError::Service(StoreAliasError::Missing(_)))
    ));
    server.shutdown(std::time::Duration::from_secs(5));
}

struct Failing;

impl Events for Failing {
    fn emit(&self, _ctx: &CallContext, name: String) -> Result<(), ApplicationException> {
        Err(ApplicationException::not_implemented(&format!(
            "emit of {name}"
        )))
    }

    fn flush(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        Ok(())
    }
}

/// Keeps the fields of every event, as `name=value` lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!("{}={value} ", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(format!("{} ", event.metadata().level()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0.trim_end().to_string());
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn a_failing_oneway_handler_is_logged() {
    let mut args = BytesMut::new();
    let mut writer = BinaryWriter::new(&mut args);
    EventsEmitArgs { name: "boot" }.write(&mut writer).unwrap();
    writer.write_message_end().unwrap();
    let header = MessageHeader {
        name: "emit".into(),
        kind: MessageType::Oneway,
        seqid: 1,
    };
    let capture = Capture::default();
    let mut out = BytesMut::new();
    let processed = tracing::subscriber::with_default(capture.clone(), || {
        EventsProcessor::new(Failing).process(
            &CallContext::default(),
            &header,
            &mut BinaryReader::new(args.freeze()),
            &mut BinaryWriter::new(&mut out),
        )
    })
    .unwrap();
    assert_eq!(processed, Processed::Oneway);
    assert!(out.is_empty(), "a oneway call writes nothing");
    let logged = capture.0.lock().unwrap();
    assert_eq!(
        *logged,
        ["WARN message=oneway handler failed method=Events.emit \
          error=UNKNOWN: emit of boot is not implemented yet"],
    );
}

#[test]
fn types_named_like_service_items_move_aside() {
    use thriftgen_tests::gen::service_shapes::{StoreClient1, StoreGetError1, StorePutArgs1};
    let client = StoreClient1 {
        note: Some("a struct".into()),
    };
    let args = StorePutArgs1 { n: Some(1) };
    let error = StoreGetError1::Text("a union".into());
    assert_eq!(client.note.as_deref(), Some("a struct"));
    assert_eq!(args.n, Some(1));
    assert!(matches!(error, StoreGetError1::Text(_)));
}
