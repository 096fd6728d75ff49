//! The client side: a [`Client`] is one blocking connection that sends a
//! call and reads its reply, in any transport and protocol. Generated
//! `<Service>Client`s wrap one and add typed methods.
//!
//! A call that fails in the middle (a timeout, a malformed reply) leaves the
//! connection in an unknown state, so the client refuses further calls;
//! connect again.

use crate::buffer::{read_into, ReadOutcome};
use crate::protocol::{
    ApplicationException, InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol,
    ProtocolError, ProtocolVisitor, Protocols, Standard,
};
use crate::service::{Args, Reply};
use crate::transport::{
    AnyTransport, Dialect, FrameInfo, Headers, ProtocolId, Transport, TransportError,
    TransportErrorKind, TransportLimits,
};
use crate::wire::MessageType;
use crate::ByteString;
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How a [`Client`] talks to its server.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The framing (default: framed, what most servers accept).
    pub dialect: Dialect,
    /// The protocol (default: binary).
    pub protocol: ProtocolId,
    /// The longest wait for the connection (default 5 s).
    pub connect_timeout: Option<Duration>,
    /// The longest wait for a reply's bytes (default 30 s; `None`: forever).
    pub read_timeout: Option<Duration>,
    /// The longest wait to send a call (default 30 s; `None`: forever).
    pub write_timeout: Option<Duration>,
    /// When set, method names are sent as `service:method`, for servers of
    /// several services (Apache's `TMultiplexedProtocol`).
    pub service_name: Option<String>,
    /// Limits on the replies read.
    pub limits: Limits,
    /// Limits on reply frames.
    pub transport_limits: TransportLimits,
    /// TTHeader only: send each call's message framed inside the TTHeader
    /// payload (a 4-byte length, then the message), the shape Kitex calls
    /// `TTHeaderFramed` and Volo's default codec (`TTHeader<Framed<..>>`)
    /// sends. Default `false`: the bare message. Replies are read in either
    /// shape whatever this says; see [`FrameInfo::framed_payload`].
    pub framed_payload: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            dialect: Dialect::Framed,
            protocol: ProtocolId::Binary,
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
            write_timeout: Some(Duration::from_secs(30)),
            service_name: None,
            limits: Limits::DEFAULT,
            transport_limits: TransportLimits::DEFAULT,
            framed_payload: false,
        }
    }
}

impl ClientOptions {
    /// Options for `dialect` and `protocol`, with the default timeouts.
    pub fn new(dialect: Dialect, protocol: ProtocolId) -> ClientOptions {
        ClientOptions {
            dialect,
            protocol,
            ..ClientOptions::default()
        }
    }
}

/// Why a call did not get an answer.
#[derive(Debug)]
pub enum ClientError {
    /// The socket failed or timed out.
    Io(io::Error),
    /// The reply's framing was invalid.
    Transport(TransportError),
    /// The call could not be encoded, or the reply decoded.
    Protocol(ProtocolError),
    /// The reply does not answer the call (wrong sequence id, method name or
    /// message type), or the server closed the connection.
    BadReply(String),
    /// An earlier call failed half-way; the connection is unusable.
    Broken,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "connection failed: {e}"),
            ClientError::Transport(e) => write!(f, "bad reply frame: {e}"),
            ClientError::Protocol(e) => write!(f, "protocol error: {e}"),
            ClientError::BadReply(why) => write!(f, "bad reply: {why}"),
            ClientError::Broken => f.write_str("the connection broke in an earlier call"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io(e) => Some(e),
            ClientError::Transport(e) => Some(e),
            ClientError::Protocol(e) => Some(e),
            ClientError::BadReply(_) | ClientError::Broken => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> ClientError {
        ClientError::Io(e)
    }
}

impl From<TransportError> for ClientError {
    fn from(e: TransportError) -> ClientError {
        ClientError::Transport(e)
    }
}

impl From<ProtocolError> for ClientError {
    fn from(e: ProtocolError) -> ClientError {
        ClientError::Protocol(e)
    }
}

/// The error of a typed call: the service answered with one of the method's
/// exceptions (or an application error), or there was no valid answer.
#[derive(Debug)]
pub enum CallError<E> {
    /// The server's answer: a declared exception or an
    /// [`ApplicationException`].
    Service(E),
    /// No valid answer.
    Client(ClientError),
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Service(e) => write!(f, "the service answered with an error: {e}"),
            CallError::Client(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Service(e) => Some(e),
            CallError::Client(e) => Some(e),
        }
    }
}

impl<E> From<ClientError> for CallError<E> {
    fn from(e: ClientError) -> CallError<E> {
        CallError::Client(e)
    }
}

/// One connection to a server; one call at a time. Generic over the
/// framing: the built-in dialects by default ([`ClientOptions::dialect`]),
/// or a [`Transport`] of one's own ([`Client::with_transport`]).
#[derive(Debug)]
pub struct Client<T = AnyTransport, X = Standard> {
    stream: TcpStream,
    transport: T,
    protocols: X,
    options: ClientOptions,
    seqid: i32,
    out: BytesMut,
    input: BytesMut,
    headers: Headers,
    reply_headers: Headers,
    broken: bool,
}

impl Client {
    /// Connects to `addr` (each address it resolves to in turn).
    ///
    /// # Errors
    ///
    /// When no address accepts the connection in time.
    pub fn connect<A: ToSocketAddrs>(
        addr: A,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            let stream = match options.connect_timeout {
                Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
                None => TcpStream::connect(addr),
            };
            match stream {
                Ok(stream) => return Client::from_stream(stream, options),
                Err(e) => last = Some(e),
            }
        }
        Err(ClientError::Io(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        })))
    }

    /// A client over a connected stream.
    ///
    /// # Errors
    ///
    /// When the stream's options cannot be set.
    pub fn from_stream(stream: TcpStream, options: ClientOptions) -> Result<Client, ClientError> {
        let transport = AnyTransport::new(options.dialect, options.transport_limits);
        Client::with_transport(stream, options, transport)
    }
}

impl<T: Transport> Client<T> {
    /// A client over a connected stream that frames calls with `transport`
    /// (`options.dialect` is then only passed to it in each call's
    /// [`FrameInfo`]).
    ///
    /// # Errors
    ///
    /// When the stream's options cannot be set.
    pub fn with_transport(
        stream: TcpStream,
        options: ClientOptions,
        transport: T,
    ) -> Result<Client<T>, ClientError> {
        Client::with_parts(stream, options, transport, Standard)
    }
}

impl<T: Transport, X: Protocols> Client<T, X> {
    /// A client over a connected stream that frames calls with `transport`
    /// and speaks `protocols` (for a protocol of one's own, named by
    /// `ProtocolId::Other` in [`ClientOptions::protocol`]).
    ///
    /// # Errors
    ///
    /// When the stream's options cannot be set.
    pub fn with_parts(
        stream: TcpStream,
        options: ClientOptions,
        transport: T,
        protocols: X,
    ) -> Result<Client<T, X>, ClientError> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(options.read_timeout)?;
        stream.set_write_timeout(options.write_timeout)?;
        Ok(Client {
            stream,
            transport,
            protocols,
            options,
            seqid: 0,
            out: BytesMut::with_capacity(4096),
            input: BytesMut::with_capacity(4096),
            headers: Headers::default(),
            reply_headers: Headers::default(),
            broken: false,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sets the read timeout for the next calls.
    ///
    /// # Errors
    ///
    /// When the socket refuses it.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.stream.set_read_timeout(timeout)?;
        self.options.read_timeout = timeout;
        Ok(())
    }

    /// Headers sent with the next call only (THeader and TTHeader; other
    /// transports have nowhere to put them): byte-string keys and values,
    /// `insert("k", "v")` for text. They are taken when the call is sent.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// The headers of the last reply (THeader and TTHeader only; empty
    /// before the first reply, and after a reply without any): what the
    /// server's handler set with
    /// [`CallContext::set_reply_header`](crate::service::CallContext::set_reply_header).
    pub fn reply_headers(&self) -> &Headers {
        &self.reply_headers
    }

    /// Takes the headers of the last reply, leaving none.
    pub fn take_reply_headers(&mut self) -> Headers {
        std::mem::take(&mut self.reply_headers)
    }

    /// Calls `method` with `args` and reads its reply.
    ///
    /// # Errors
    ///
    /// [`CallError::Service`] with the declared exception or application
    /// error the server answered, [`CallError::Client`] when there was no
    /// valid answer.
    pub fn call<R: Reply, A: Args>(
        &mut self,
        method: &'static str,
        args: &A,
    ) -> Result<R::Ok, CallError<R::Err>> {
        let seqid = self.send(method, MessageType::Call, args)?;
        match self.receive::<R>(method, seqid) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CallError::Service(e)),
            Err(e) => {
                self.broken = true;
                Err(CallError::Client(e))
            }
        }
    }

    /// Sends the `oneway` call `method` with `args`; no reply comes.
    ///
    /// # Errors
    ///
    /// When the call cannot be sent.
    pub fn send_oneway<A: Args>(
        &mut self,
        method: &'static str,
        args: &A,
    ) -> Result<(), ClientError> {
        self.send(method, MessageType::Oneway, args).map(drop)
    }

    fn name(&self, method: &'static str) -> ByteString {
        match &self.options.service_name {
            Some(service) => ByteString::from(format!("{service}:{method}")),
            None => ByteString::from_static(method),
        }
    }

    fn send<A: Args>(
        &mut self,
        method: &'static str,
        kind: MessageType,
        args: &A,
    ) -> Result<i32, ClientError> {
        if self.broken {
            return Err(ClientError::Broken);
        }
        self.seqid = self.seqid.wrapping_add(1);
        let header = MessageHeader {
            name: self.name(method),
            kind,
            seqid: self.seqid,
        };
        let mut info = FrameInfo::new(self.options.dialect, self.options.protocol);
        info.seq_id = self.seqid as u32;
        info.headers = std::mem::take(&mut self.headers);
        info.framed_payload = self.options.framed_payload;
        self.reply_headers.clear();
        self.out.clear();
        let start = self.transport.begin(&mut self.out, &info)?;
        let encode = Encode {
            out: &mut self.out,
            limits: self.options.limits,
            header: &header,
            args,
        };
        self.protocols
            .visit(self.options.protocol, encode)
            .ok_or_else(|| unsupported(self.options.protocol))??;
        self.transport.finish(&mut self.out, start, &info)?;
        if let Err(e) = self.stream.write_all(&self.out) {
            self.broken = true;
            return Err(e.into());
        }
        Ok(self.seqid)
    }

    fn receive<R: Reply>(
        &mut self,
        method: &'static str,
        seqid: i32,
    ) -> Result<Result<R::Ok, R::Err>, ClientError> {
        let frame = loop {
            if let Some(frame) = self.transport.decode(&mut self.input)? {
                break frame;
            }
            self.input.reserve(8192);
            let spare = self.input.capacity() - self.input.len();
            match read_into(&self.stream, &mut self.input, spare)? {
                ReadOutcome::Data(_) => {}
                ReadOutcome::Closed => {
                    return Err(ClientError::BadReply(
                        "the server closed the connection".to_string(),
                    ))
                }
                // The socket's read timeout ran out (it shows as "would block").
                ReadOutcome::WouldBlock => {
                    return Err(ClientError::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no reply within the read timeout",
                    )))
                }
            }
        };
        self.reply_headers = frame.info.headers;
        let decode = Decode::<R> {
            payload: frame.payload,
            limits: self.options.limits,
            method,
            seqid,
            reply: std::marker::PhantomData,
        };
        self.protocols
            .visit(frame.info.protocol, decode)
            .ok_or_else(|| unsupported(frame.info.protocol))?
    }
}

fn unsupported(protocol: ProtocolId) -> ClientError {
    ClientError::Transport(TransportError::new(
        TransportErrorKind::UnsupportedProtocol,
        format!("this client does not speak {protocol:?}"),
    ))
}

/// Writes a call's message in whichever protocol is chosen.
struct Encode<'a, A> {
    out: &'a mut BytesMut,
    limits: Limits,
    header: &'a MessageHeader,
    args: &'a A,
}

impl<A: Args> ProtocolVisitor for Encode<'_, A> {
    type Output = Result<(), ProtocolError>;

    fn visit<P: Protocol>(self) -> Self::Output {
        write_message(
            &mut P::writer(self.out, self.limits),
            self.header,
            self.args,
        )
    }
}

/// Reads a reply's message in whichever protocol its frame names.
struct Decode<'a, R> {
    payload: Bytes,
    limits: Limits,
    method: &'a str,
    seqid: i32,
    reply: std::marker::PhantomData<R>,
}

impl<R: Reply> ProtocolVisitor for Decode<'_, R> {
    type Output = Result<Result<R::Ok, R::Err>, ClientError>;

    fn visit<P: Protocol>(self) -> Self::Output {
        read_reply::<R, _>(
            &mut P::reader(self.payload, self.limits),
            self.method,
            self.seqid,
        )
    }
}

fn write_message<O: OutputProtocol, A: Args>(
    output: &mut O,
    header: &MessageHeader,
    args: &A,
) -> Result<(), ProtocolError> {
    output.write_message_begin(header)?;
    args.write(output)?;
    output.write_message_end()
}

fn read_reply<R: Reply, I: InputProtocol>(
    input: &mut I,
    method: &str,
    seqid: i32,
) -> Result<Result<R::Ok, R::Err>, ClientError> {
    let header = input.read_message_begin()?;
    // A multiplexing server may answer with or without the service prefix.
    let name = header.name.as_str();
    let name = name.rsplit_once(':').map_or(name, |(_, m)| m);
    if name != method {
        return Err(ClientError::BadReply(format!(
            "the reply is for method `{}`, not `{method}`",
            header.name.as_str()
        )));
    }
    if header.seqid != seqid {
        return Err(ClientError::BadReply(format!(
            "the reply has sequence id {}, not {seqid}",
            header.seqid
        )));
    }
    let result = match header.kind {
        MessageType::Reply => R::read(input)?,
        MessageType::Exception => Err(ApplicationException::read(input)?.into()),
        other => {
            return Err(ClientError::BadReply(format!(
                "a {other:?} message in reply to a call"
            )))
        }
    };
    input.read_message_end()?;
    Ok(result)
}
