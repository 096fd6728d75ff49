//! What the client tests share: a one-method service (`echo(1: i32 x) ->
//! i32`, plus `oneway note(1: i32 x)`) with hand-written arguments and
//! result codecs, served by the runtime's server; and a hand-written tokio
//! server that misbehaves on request (holds, delays, reorders, answers with
//! the wrong sequence id or method, sends malformed replies, closes).

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thriftgen_runtime::protocol::{
    ApplicationErrorKind, ApplicationException, BinaryReader, BinaryWriter, InputProtocol,
    MessageHeader, OutputProtocol, Result as ProtocolResult,
};
use thriftgen_runtime::server::{Handlers, RunningServer, Server, ServerOptions};
use thriftgen_runtime::service::{Args, CallContext, ProcessError, Processed, Processor, Reply};
use thriftgen_runtime::transport::{
    Dialect, FrameInfo, Framed, ProtocolId, Transport, TransportLimits,
};
use thriftgen_runtime::{ByteString, MessageType, TType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The arguments of `echo` and `note`.
pub struct EchoArgs(pub i32);

impl Args for EchoArgs {
    fn write<O: OutputProtocol>(&self, output: &mut O) -> ProtocolResult<()> {
        output.write_struct_begin("echo_args")?;
        output.write_field_begin(TType::I32, 1)?;
        output.write_i32(self.0)?;
        output.write_field_end()?;
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

/// The result of `echo`.
pub struct EchoReply;

impl Reply for EchoReply {
    type Ok = i32;
    type Err = ApplicationException;

    fn read<I: InputProtocol>(input: &mut I) -> ProtocolResult<Result<i32, ApplicationException>> {
        input.read_struct_begin()?;
        let mut value = None;
        loop {
            let field = input.read_field_begin()?;
            match (field.ttype, field.id) {
                (TType::Stop, _) => break,
                (TType::I32, 0) => value = Some(input.read_i32()?),
                (other, _) => input.skip(other)?,
            }
            input.read_field_end()?;
        }
        input.read_struct_end()?;
        Ok(value.ok_or_else(|| {
            ApplicationException::new(ApplicationErrorKind::MISSING_RESULT, "echo: no result")
        }))
    }
}

/// Reads `echo_args` (field 1).
fn read_x<I: InputProtocol>(input: &mut I) -> ProtocolResult<i32> {
    input.read_struct_begin()?;
    let mut x = 0;
    loop {
        let field = input.read_field_begin()?;
        match (field.ttype, field.id) {
            (TType::Stop, _) => break,
            (TType::I32, 1) => x = input.read_i32()?,
            (other, _) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    Ok(x)
}

fn write_result<O: OutputProtocol>(
    output: &mut O,
    name: &ByteString,
    seqid: i32,
    x: i32,
) -> ProtocolResult<()> {
    output.write_message_begin(&MessageHeader {
        name: name.clone(),
        kind: MessageType::Reply,
        seqid,
    })?;
    output.write_struct_begin("echo_result")?;
    output.write_field_begin(TType::I32, 0)?;
    output.write_i32(x)?;
    output.write_field_end()?;
    output.write_field_stop()?;
    output.write_struct_end()?;
    output.write_message_end()
}

/// Reads `echo_args` and the message's end, as a processor does.
pub fn read_echo_args<I: InputProtocol>(input: &mut I) -> ProtocolResult<i32> {
    let x = read_x(input)?;
    input.read_message_end()?;
    Ok(x)
}

/// Writes the reply `x` to the call `header`.
pub fn write_echo_reply<O: OutputProtocol>(
    output: &mut O,
    header: &MessageHeader,
    x: i32,
) -> ProtocolResult<()> {
    write_result(output, &header.name, header.seqid, x)
}

/// `echo` answers `x`, and reply header `k` = the request's `k` + `!`;
/// `note` counts.
#[derive(Default)]
pub struct EchoService {
    pub notes: AtomicUsize,
}

impl Processor for EchoService {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        match header.name.as_str() {
            "echo" | "note" => {}
            _ => return Ok(Processed::UnknownMethod),
        }
        let x = read_x(input)
            .and_then(|x| input.read_message_end().map(|()| x))
            .map_err(ProcessError::Decode)?;
        if header.name.as_str() == "note" {
            self.notes.fetch_add(1, Ordering::Relaxed);
            return Ok(Processed::Oneway);
        }
        if let Some(k) = ctx.headers().get_str("k") {
            ctx.set_reply_header("k", format!("{k}!"));
        }
        write_result(output, &header.name, header.seqid, x).map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }
}

/// The runtime's server of [`EchoService`] on loopback, every dialect.
pub fn echo_server() -> (RunningServer, Arc<EchoService>) {
    echo_server_at("127.0.0.1:0")
}

/// [`echo_server`] on `addr` (a loopback address).
pub fn echo_server_at(addr: &str) -> (RunningServer, Arc<EchoService>) {
    let service = Arc::new(EchoService::default());
    let options = ServerOptions {
        pollers: 1,
        handlers: Handlers::Inline,
        ..ServerOptions::default()
    };
    let server = Server::new(service.clone())
        .options(options)
        .bind(addr)
        .expect("bind on loopback");
    (server, service)
}

/// What the rogue server does with one `echo` call.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Answers at once.
    Answer,
    /// Answers after this long (other calls of the connection meanwhile).
    Delay(Duration),
    /// Never answers.
    Hold,
    /// Answers with another sequence id.
    BadSeqid,
    /// Answers with a message header that does not decode.
    MalformedHeader,
    /// Answers with a good header and a result struct that does not decode.
    MalformedBody,
    /// Answers for method `other`.
    WrongMethod,
    /// Closes the connection without answering.
    Close,
}

/// A hand-written framed/binary server on loopback.
pub struct Rogue {
    pub addr: SocketAddr,
    /// Connections accepted.
    pub accepted: Arc<AtomicUsize>,
    /// Calls read.
    pub requests: Arc<AtomicUsize>,
}

/// Starts a rogue server on the current tokio runtime: `behave(x)` decides
/// per call; answers are held back and sent in reverse order in batches of
/// `reverse` calls when it is above 1 (a batch that does not fill within
/// 2 ms goes out as it is).
pub async fn rogue(reverse: usize, behave: fn(i32) -> Action) -> Rogue {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let counters = (accepted.clone(), requests.clone());
    tokio::spawn(async move {
        // Ends with the test's runtime.
        while let Ok((stream, _)) = listener.accept().await {
            counters.0.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream, reverse, behave, counters.1.clone()));
        }
    });
    Rogue {
        addr,
        accepted,
        requests,
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    reverse: usize,
    behave: fn(i32) -> Action,
    requests: Arc<AtomicUsize>,
) {
    let (mut read, mut write) = stream.into_split();
    let (replies, mut outgoing) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        while let Some(reply) = outgoing.recv().await {
            if write.write_all(&reply).await.is_err() {
                return;
            }
        }
    });
    let mut framed = Framed::new(TransportLimits::DEFAULT);
    let mut input = BytesMut::with_capacity(8192);
    let mut batch = Vec::new();
    loop {
        let frame = match framed.decode(&mut input) {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                input.reserve(8192);
                // A batch not filled soon goes out as it is (still reversed).
                let read = read.read_buf(&mut input);
                let read = if batch.is_empty() {
                    Ok(read.await)
                } else {
                    tokio::time::timeout(Duration::from_millis(2), read).await
                };
                match read {
                    Ok(Ok(0) | Err(_)) => return,
                    Ok(Ok(_)) => continue,
                    Err(_) => {
                        for reply in batch.drain(..).rev() {
                            let _ = replies.send(reply);
                        }
                        continue;
                    }
                }
            }
            Err(_) => return,
        };
        let mut reader = BinaryReader::new(frame.payload);
        let Ok(header) = reader.read_message_begin() else {
            return;
        };
        let Ok(x) = read_x(&mut reader) else {
            return;
        };
        requests.fetch_add(1, Ordering::SeqCst);
        if header.kind == MessageType::Oneway {
            continue;
        }
        let name = header.name.as_str();
        let reply = match behave(x) {
            Action::Answer | Action::Delay(_) => reply_frame(name, header.seqid, x),
            Action::Hold => continue,
            Action::BadSeqid => reply_frame(name, header.seqid.wrapping_add(1000), x),
            Action::WrongMethod => reply_frame("other", header.seqid, x),
            Action::MalformedHeader => framed_bytes(&[0x80, 0x01, 0x00]),
            Action::MalformedBody => {
                let mut message = BytesMut::new();
                let mut writer = BinaryWriter::new(&mut message);
                writer
                    .write_message_begin(&MessageHeader {
                        name: header.name.clone(),
                        kind: MessageType::Reply,
                        seqid: header.seqid,
                    })
                    .expect("encode");
                // A field of wire type 0x55: no such type.
                message.extend_from_slice(&[0x55, 0x00, 0x00]);
                framed_bytes(&message)
            }
            Action::Close => return,
        };
        if let Action::Delay(after) = behave(x) {
            let replies = replies.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = replies.send(reply);
            });
            continue;
        }
        if reverse > 1 {
            batch.push(reply);
            if batch.len() == reverse {
                for reply in batch.drain(..).rev() {
                    let _ = replies.send(reply);
                }
            }
            continue;
        }
        let _ = replies.send(reply);
    }
}

/// A framed `echo` reply.
pub fn reply_frame(name: &str, seqid: i32, x: i32) -> Bytes {
    let mut out = BytesMut::new();
    let mut framed = Framed::new(TransportLimits::DEFAULT);
    let info = FrameInfo::new(Dialect::Framed, ProtocolId::Binary);
    let start = framed.begin(&mut out, &info).expect("frame");
    write_result(
        &mut BinaryWriter::new(&mut out),
        &ByteString::from(name.to_string()),
        seqid,
        x,
    )
    .expect("encode");
    framed.finish(&mut out, start, &info).expect("frame");
    out.freeze()
}

/// `message` with a 4-byte length before it.
fn framed_bytes(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(message.len() + 4);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out.freeze()
}
