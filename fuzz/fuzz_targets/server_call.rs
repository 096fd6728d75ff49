//! The server's per-request path without sockets (the server's own call
//! function is private to it): a frame cut by `Detect`, or a bare message,
//! read by the generated `FuzzedProcessor::process` with the protocol the
//! frame names, a handler that answers every method, and the reply written
//! to an output buffer, framed like the request. The reply must decode with
//! the generated client-side `Reply` of its method, and its frame with a
//! fresh transport. The same bytes are also decoded as a reply, the way a
//! client reads what a server sent.
//!
//! Byte 0: bit 0 the protocol of a bare message, bit 1 framed (through
//! `Detect`) or bare, bits 2.. the method a reply is decoded for.
#![no_main]

use std::collections::{HashMap, HashSet};
use thriftgen_fuzz::plain::*;
use thriftgen_fuzz::{LIMITS, TRANSPORT_LIMITS};
use thriftgen_runtime::__private::Reply;
use thriftgen_runtime::bytes::{Bytes, BytesMut};
use thriftgen_runtime::protocol::{
    Binary, Compact, InputProtocol, Json, Protocol, ProtocolErrorKind, ProtocolId,
};
use thriftgen_runtime::service::{CallContext, ProcessError, Processed, Processor};
use thriftgen_runtime::transport::{AnyTransport, Detect, Headers, Transport};
use thriftgen_runtime::{ApplicationErrorKind, ApplicationException, MessageType};

/// Answers every method with what it was given (or an exception, or an
/// application error, depending on the values).
struct Handler;

impl Base for Handler {
    fn ping(&self, _ctx: &CallContext) -> Result<bool, ApplicationException> {
        Ok(true)
    }
}

impl Fuzzed for Handler {
    fn echo(&self, _ctx: &CallContext, e: Everything) -> Result<Everything, FuzzedEchoError> {
        match e.must {
            0 => Err(FuzzedEchoError::Oops(Oops {
                why: e.text.clone(),
                code: Some(e.must),
            })),
            1 => Err(ApplicationException::new(ApplicationErrorKind::INTERNAL_ERROR, "one").into()),
            _ => Ok(e),
        }
    }

    fn grow(
        &self,
        _ctx: &CallContext,
        mut t: Tree,
        c: Choice,
    ) -> Result<Tree, ApplicationException> {
        t.choice = Some(c);
        Ok(t)
    }

    fn eval(
        &self,
        _ctx: &CallContext,
        e: Expr,
        env: HashMap<String, Expr>,
    ) -> Result<Expr, FuzzedEvalError> {
        if env.is_empty() {
            Ok(e)
        } else {
            Ok(Expr::Env(env))
        }
    }

    fn fire(&self, _ctx: &CallContext, _e: Expr) -> Result<(), ApplicationException> {
        Ok(())
    }

    fn nothing(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        Err(ApplicationException::new(
            ApplicationErrorKind::INTERNAL_ERROR,
            "nothing",
        ))
    }

    fn lookup(
        &self,
        _ctx: &CallContext,
        keys: HashSet<String>,
        color: Option<Color>,
    ) -> Result<HashMap<String, Vec<Key>>, ApplicationException> {
        Ok(keys
            .into_iter()
            .map(|name| {
                let key = Key {
                    name: name.clone(),
                    color,
                    ..Key::default()
                };
                (name, vec![key])
            })
            .collect())
    }
}

/// Decodes a reply message to `method` as a client does; `Err` when the
/// bytes are not one.
fn read_reply<P: Protocol>(payload: Bytes, method: &str) -> Result<(), String> {
    fn typed<R: Reply, I: InputProtocol>(input: &mut I, kind: MessageType) -> Result<(), String> {
        match kind {
            MessageType::Reply => R::read(input).map(drop).map_err(|e| e.to_string()),
            MessageType::Exception => ApplicationException::read(input)
                .map(drop)
                .map_err(|e| e.to_string()),
            other => Err(format!("a {other:?} in reply")),
        }
    }
    let mut input = P::reader(payload, LIMITS);
    let header = input.read_message_begin().map_err(|e| e.to_string())?;
    let kind = header.kind;
    match method {
        "ping" => typed::<BasePingMethod, _>(&mut input, kind),
        "echo" => typed::<FuzzedEchoMethod, _>(&mut input, kind),
        "grow" => typed::<FuzzedGrowMethod, _>(&mut input, kind),
        "eval" => typed::<FuzzedEvalMethod, _>(&mut input, kind),
        "nothing" => typed::<FuzzedNothingMethod, _>(&mut input, kind),
        _ => typed::<FuzzedLookupMethod, _>(&mut input, kind),
    }?;
    input.read_message_end().map_err(|e| e.to_string())
}

/// Serves one message; returns the reply message, if one was written.
fn serve<P: Protocol>(message: Bytes) -> Option<Bytes> {
    let mut input = P::reader(message, LIMITS);
    let header = input.read_message_begin().ok()?;
    let ctx = CallContext::new(None, Headers::new());
    let mut out = BytesMut::new();
    let processed = FuzzedProcessor::new(Handler).process(
        &ctx,
        &header,
        &mut input,
        &mut P::writer(&mut out, LIMITS),
    );
    match processed {
        Ok(Processed::Replied) => {
            let reply = out.freeze();
            read_reply::<P>(reply.clone(), header.name.as_str()).unwrap_or_else(|e| {
                panic!("the reply to {header:?} does not decode: {e}\n{reply:?}")
            });
            let mut again = P::reader(reply.clone(), LIMITS);
            let back = again.read_message_begin().expect("decoded above");
            assert_eq!((back.name, back.seqid), (header.name, header.seqid));
            Some(reply)
        }
        Ok(Processed::Oneway | Processed::UnknownMethod) => {
            assert!(out.is_empty(), "nothing is written for {processed:?}");
            None
        }
        Err(ProcessError::Decode(_)) => None,
        // Echoing a union's unknown variant, whose value was skipped.
        Err(ProcessError::Encode(e)) if e.kind() == ProtocolErrorKind::Unsupported => None,
        Err(ProcessError::Encode(e)) => {
            panic!("a call that decoded cannot be answered: {e}")
        }
    }
}

fn serve_as(protocol: ProtocolId, message: Bytes) -> Option<Bytes> {
    match protocol {
        ProtocolId::Binary => serve::<Binary>(message),
        ProtocolId::Compact => serve::<Compact>(message),
        ProtocolId::Json => serve::<Json>(message),
        ProtocolId::Other(_) => None,
    }
}

const METHODS: [&str; 6] = ["ping", "echo", "grow", "eval", "nothing", "lookup"];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = Bytes::copy_from_slice(rest);
    let method = METHODS[usize::from(mode >> 2) % METHODS.len()];
    // The client's side: these bytes as a reply.
    let _ = read_reply::<Binary>(bytes.clone(), method);
    let _ = read_reply::<Compact>(bytes.clone(), method);
    let _ = read_reply::<Json>(bytes.clone(), method);
    if mode & 2 == 0 {
        let protocol = if mode & 1 == 0 {
            ProtocolId::Binary
        } else {
            ProtocolId::Compact
        };
        serve_as(protocol, bytes);
        return;
    }
    let mut input = BytesMut::from(rest);
    let mut transport = Detect::new(TRANSPORT_LIMITS);
    while let Ok(Some(frame)) = transport.decode(&mut input) {
        let Some(reply) = serve_as(frame.info.protocol, frame.payload.clone()) else {
            continue;
        };
        // Framed in kind, as the server does; the client's transport reads it.
        let mut out = BytesMut::new();
        let start = transport
            .begin(&mut out, &frame.info)
            .expect("a request's framing answers");
        out.extend_from_slice(&reply);
        if transport.finish(&mut out, start, &frame.info).is_err() {
            continue;
        }
        let mut client = AnyTransport::new(frame.info.dialect, TRANSPORT_LIMITS);
        let back = client
            .decode(&mut out)
            .expect("a framed reply decodes")
            .expect("a framed reply is whole");
        assert_eq!(back.payload, reply, "the framed reply's payload");
    }
});
