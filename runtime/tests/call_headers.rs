//! Headers end to end on loopback: a client sends byte-string THeader and
//! TTHeader headers, the handler sees them exactly (and the caller's
//! timeout), sets headers on its reply through the `CallContext`, and the
//! client sees those exactly. Also the TTHeader framed payload (Volo's
//! shape) and the sequence number a reply repeats.

use bytes::{Bytes, BytesMut};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use thriftgen_runtime::client::{CallError, Client, ClientOptions};
use thriftgen_runtime::protocol::{
    ApplicationException, BinaryWriter, InputProtocol, MessageHeader, OutputProtocol,
    Result as ProtocolResult,
};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{Args, CallContext, ProcessError, Processed, Processor, Reply};
use thriftgen_runtime::transport::{
    int_keys, Dialect, FrameInfo, Headers, ProtocolId, TTHeader, Transport, TransportLimits,
};
use thriftgen_runtime::{MessageType, TType};

/// A service of one method, `headers() -> i32`, whose handler answers with
/// the request's headers as reply headers (plus a few of its own) and
/// returns how many key/values it saw.
struct HeaderService;

/// What the handler adds to every reply.
fn own_reply_headers(ctx: &CallContext) {
    ctx.set_reply_header(&b"reply-\xff\xfe"[..], &b"\x00\x01\xff"[..]);
    ctx.set_reply_header("reply-empty", "");
    ctx.set_reply_int_header(int_keys::MSG_TYPE, &[0x02]);
    if let Some(timeout) = ctx.timeout() {
        ctx.set_reply_header("timeout-ms", timeout.as_millis().to_string());
    }
}

impl Processor for HeaderService {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        if header.name.as_str() != "headers" {
            return Ok(Processed::UnknownMethod);
        }
        let mut read = || -> ProtocolResult<()> {
            input.read_struct_begin()?;
            loop {
                let field = input.read_field_begin()?;
                if field.ttype == TType::Stop {
                    break;
                }
                input.skip(field.ttype)?;
            }
            input.read_struct_end()?;
            input.read_message_end()
        };
        read().map_err(ProcessError::Decode)?;
        // The handler: echo every header back, then its own.
        let seen = ctx.headers();
        {
            let mut reply = ctx.reply_headers();
            for (key, value) in seen.iter() {
                reply.append(key.clone(), value.clone());
            }
            for (key, value) in seen.iter_ints() {
                reply.append_int(key, value.clone());
            }
            if let Some(token) = seen.acl_token() {
                reply.set_acl_token(token);
            }
        }
        own_reply_headers(ctx);
        let count = seen.len() as i32;
        let mut write = || -> ProtocolResult<()> {
            output.write_message_begin(&MessageHeader {
                name: header.name.clone(),
                kind: MessageType::Reply,
                seqid: header.seqid,
            })?;
            output.write_struct_begin("headers_result")?;
            output.write_field_begin(TType::I32, 0)?;
            output.write_i32(count)?;
            output.write_field_end()?;
            output.write_field_stop()?;
            output.write_struct_end()?;
            output.write_message_end()
        };
        write().map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

struct NoArgs;

impl Args for NoArgs {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> ProtocolResult<()> {
        output.write_struct_begin("headers_args")?;
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

struct CountReply;

impl Reply for CountReply {
    type Ok = i32;
    type Err = ApplicationException;

    fn read<I: InputProtocol>(input: &mut I) -> ProtocolResult<Result<i32, ApplicationException>> {
        input.read_struct_begin()?;
        let mut count = None;
        loop {
            let field = input.read_field_begin()?;
            match (field.ttype, field.id) {
                (TType::Stop, _) => break,
                (TType::I32, 0) => count = Some(input.read_i32()?),
                (other, _) => input.skip(other)?,
            }
            input.read_field_end()?;
        }
        input.read_struct_end()?;
        Ok(count.ok_or_else(|| thriftgen_runtime::__private::missing_result("headers")))
    }
}

fn start(handlers: Handlers) -> RunningServer {
    let options = ServerOptions {
        pollers: 1,
        handlers,
        ..ServerOptions::default()
    };
    Server::new(HeaderService)
        .options(options)
        .bind("127.0.0.1:0")
        .expect("bind on loopback")
}

/// The headers a client sends: a key that is not UTF-8, a value with NUL
/// and 0xff, an empty value, plain text.
fn request_headers() -> Headers {
    let mut headers = Headers::new();
    headers.insert(&b"\xff\xfe\x80key"[..], "non-UTF-8 key");
    headers.insert("binary", &b"\x00\x01\xff"[..]);
    headers.insert("empty", "");
    headers.insert("user", "alice");
    headers
}

fn call(client: &mut Client) -> i32 {
    match client.call::<CountReply, _>("headers", &NoArgs) {
        Ok(count) => count,
        Err(CallError::Service(e)) => panic!("the service failed: {e}"),
        Err(CallError::Client(e)) => panic!("the call failed: {e}"),
    }
}

#[test]
fn byte_headers_go_both_ways_over_theader_and_ttheader() {
    for handlers in [Handlers::Inline, Handlers::Workers(2)] {
        let server = start(handlers);
        for dialect in [Dialect::Header, Dialect::TTHeader] {
            for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
                for framed_payload in [false, true] {
                    let what =
                        format!("{handlers:?} {dialect:?} {protocol:?} framed {framed_payload}");
                    let options = ClientOptions {
                        framed_payload,
                        ..ClientOptions::new(dialect, protocol)
                    };
                    let mut client = Client::connect(server.local_addr(), options).unwrap();
                    *client.headers_mut() = request_headers();
                    if dialect == Dialect::TTHeader {
                        client
                            .headers_mut()
                            .insert_int(int_keys::RPC_TIMEOUT, "1500");
                        client
                            .headers_mut()
                            .insert_int(int_keys::TO_METHOD, &[0xff, 0x00]);
                        client.headers_mut().set_acl_token(&b"\x00tok"[..]);
                    }
                    assert_eq!(call(&mut client), 4, "{what}");

                    let reply = client.reply_headers().clone();
                    // The request's headers, exactly, in order.
                    let sent = request_headers();
                    let echoed: Vec<_> = reply.iter().take(4).collect();
                    assert_eq!(echoed, sent.iter().collect::<Vec<_>>(), "{what}");
                    assert_eq!(reply.get(b"\xff\xfe\x80key"), Some(&b"non-UTF-8 key"[..]));
                    assert_eq!(reply.get("binary"), Some(&b"\x00\x01\xff"[..]), "{what}");
                    assert_eq!(reply.get("empty"), Some(&b""[..]), "{what}");
                    // The handler's own.
                    assert_eq!(
                        reply.get(b"reply-\xff\xfe"),
                        Some(&b"\x00\x01\xff"[..]),
                        "{what}"
                    );
                    assert_eq!(reply.get("reply-empty"), Some(&b""[..]), "{what}");
                    if dialect == Dialect::TTHeader {
                        assert_eq!(reply.get_str("timeout-ms"), Some("1500"), "{what}");
                        assert_eq!(reply.get_int(int_keys::MSG_TYPE), Some(&[2][..]), "{what}");
                        assert_eq!(reply.get_int(int_keys::TO_METHOD), Some(&[0xff, 0][..]));
                        assert_eq!(reply.acl_token(), Some(&b"\x00tok"[..]), "{what}");
                    } else {
                        // THeader has no integer headers, and no timeout.
                        assert_eq!(reply.get("timeout-ms"), None, "{what}");
                        assert_eq!(reply.iter_ints().len(), 0, "{what}");
                    }

                    // Headers are per call, both ways: none sent, only the
                    // handler's own come back.
                    assert_eq!(call(&mut client), 0, "{what}");
                    assert_eq!(client.reply_headers().len(), 2, "{what}");
                }
            }
        }
        server.shutdown(Duration::from_secs(5));
    }
}

#[test]
fn transports_without_headers_drop_the_reply_headers() {
    let server = start(Handlers::Inline);
    for dialect in [Dialect::Buffered, Dialect::Framed] {
        let mut client = Client::connect(
            server.local_addr(),
            ClientOptions::new(dialect, ProtocolId::Binary),
        )
        .unwrap();
        client.headers_mut().insert("lost", "on the way");
        assert_eq!(call(&mut client), 0, "{dialect:?}");
        assert!(client.reply_headers().is_empty(), "{dialect:?}");
    }
    server.shutdown(Duration::from_secs(5));
}

/// A raw TTHeader exchange as Volo makes it: framed payload, a sequence
/// number of its own (not the message's seqid), the timeout in the integer
/// headers. The reply repeats the sequence number and the shape.
#[test]
fn a_ttheader_reply_repeats_the_sequence_number_and_the_payload_shape() {
    let server = start(Handlers::Inline);
    for framed_payload in [true, false] {
        let mut info = FrameInfo::new(Dialect::TTHeader, ProtocolId::Binary);
        info.seq_id = 0xdead_beef;
        info.framed_payload = framed_payload;
        info.headers.insert("isn", "HeaderService");
        info.headers.insert_int(int_keys::RPC_TIMEOUT, "250");
        info.headers.insert_int(int_keys::WITH_MESH_HEADER, "");
        let mut transport = TTHeader::new(TransportLimits::DEFAULT);
        let mut out = BytesMut::new();
        let start = transport.begin(&mut out, &info).unwrap();
        {
            let mut w = BinaryWriter::new(&mut out);
            w.write_message_begin(&MessageHeader {
                name: "headers".into(),
                kind: MessageType::Call,
                seqid: 77,
            })
            .unwrap();
            NoArgs.write(&mut w).unwrap();
            w.write_message_end().unwrap();
        }
        transport.finish(&mut out, start, &info).unwrap();

        let mut stream = TcpStream::connect(server.local_addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(&out).unwrap();
        let mut input = BytesMut::new();
        let frame = loop {
            if let Some(frame) = transport.decode(&mut input).unwrap() {
                break frame;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the server closed the connection");
            input.extend_from_slice(&chunk[..n]);
        };
        assert_eq!(frame.info.seq_id, 0xdead_beef);
        assert_eq!(frame.info.framed_payload, framed_payload);
        assert_eq!(frame.info.protocol, ProtocolId::Binary);
        let headers = &frame.info.headers;
        assert_eq!(headers.get_str("timeout-ms"), Some("250"));
        assert_eq!(headers.get_str("isn"), Some("HeaderService"));
        assert_eq!(headers.get_int(int_keys::WITH_MESH_HEADER), Some(&b""[..]));
        // The message: a reply to seqid 77.
        let payload: Bytes = frame.payload;
        assert_eq!(&payload[..4], &[0x80, 0x01, 0x00, 0x02]);
        assert_eq!(&payload[4..15], b"\x00\x00\x00\x07headers");
        assert_eq!(&payload[15..19], &77i32.to_be_bytes());
    }
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn call_context_is_send_and_sync_and_cheap_to_clone() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CallContext>();
    let ctx = CallContext::new(None, Headers::new());
    assert_eq!(ctx.timeout(), None);
    ctx.set_reply_header("k", "v");
    let copy = ctx.clone();
    assert_eq!(copy.reply_headers().get_str("k"), Some("v"));
    assert_eq!(ctx.take_reply_headers().len(), 1);
    assert!(ctx.reply_headers().is_empty());
    // A timeout header that is not a number of milliseconds is no timeout.
    let mut headers = Headers::new();
    headers.insert_int(int_keys::RPC_TIMEOUT, "soon");
    assert_eq!(CallContext::new(None, headers).timeout(), None);
    let ctx = CallContext::default().with_timeout(Some(Duration::from_millis(5)));
    assert_eq!(ctx.timeout(), Some(Duration::from_millis(5)));
}
