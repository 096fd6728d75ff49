//! The blocking client: one connection, one call at a time.
//!
//! A call that fails in the middle (a timeout, a malformed reply, a closed
//! socket) leaves the connection in an unknown state, so it is closed. The
//! next call dials the same address again (for clients made with
//! [`Client::connect`]); the failed call itself is never retried, since the
//! server may have run it and a Thrift call need not be idempotent.

use super::{decode_reply, encode_frame, CallError, ClientError};
use crate::buffer::{read_into, ReadOutcome};
use crate::protocol::{Limits, MessageHeader, Protocols, Standard};
use crate::service::{Args, Reply};
use crate::transport::{
    AnyTransport, Dialect, FrameInfo, Headers, ProtocolId, Transport, TransportLimits,
};
use crate::wire::MessageType;
use crate::ByteString;
use bytes::BytesMut;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How a [`Client`] talks to its server.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The framing (default: framed, what most servers accept).
    pub dialect: Dialect,
    /// The protocol (default: binary; [`ProtocolId::Json`] for Apache's JSON
    /// protocol).
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

/// One connection to a server; one call at a time. Generic over the
/// framing: the built-in dialects by default ([`ClientOptions::dialect`]),
/// or a [`Transport`] of one's own ([`Client::with_transport`]).
///
/// A client made with [`Client::connect`] keeps the addresses it resolved:
/// after a call fails half-way (or when the server is seen to have closed
/// the idle connection, before a call is sent), the next call dials again.
/// The failed call is returned as an error and not retried. A client made
/// from a stream cannot dial, and answers [`ClientError::Broken`] instead.
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
    /// A call went over this connection (so the peer may have closed it).
    used: bool,
    redial: Option<Redial<T>>,
}

/// How a [`Client`] dials again.
#[derive(Debug)]
struct Redial<T> {
    addrs: Vec<SocketAddr>,
    /// A fresh transport for a new connection (one may hold per-stream state).
    transport: fn(&ClientOptions) -> T,
}

impl Client {
    /// Connects to `addr` (each address it resolves to in turn). The
    /// addresses are kept: after a broken connection the next call dials
    /// again.
    ///
    /// # Errors
    ///
    /// When no address accepts the connection in time.
    pub fn connect<A: ToSocketAddrs>(
        addr: A,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let stream = dial(&addrs, &options)?;
        let mut client = Client::from_stream(stream, options)?;
        client.redial = Some(Redial {
            addrs,
            transport: |options| AnyTransport::new(options.dialect, options.transport_limits),
        });
        Ok(client)
    }

    /// A client over a connected stream. It cannot dial again: after a
    /// broken connection its calls fail with [`ClientError::Broken`].
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
    /// [`FrameInfo`]). It cannot dial again.
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
    /// `ProtocolId::Other` in [`ClientOptions::protocol`]). It cannot dial
    /// again.
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
        configure(&stream, &options)?;
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
            used: false,
            redial: None,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sets the read timeout for the next calls (and later connections).
    ///
    /// # Errors
    ///
    /// When the socket refuses it.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.stream.set_read_timeout(timeout)?;
        self.options.read_timeout = timeout;
        Ok(())
    }

    /// Whether the connection broke in an earlier call (the next call then
    /// dials again, or fails with [`ClientError::Broken`] for a client made
    /// from a stream).
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Closes the connection and dials the same address again now, rather
    /// than at the next call.
    ///
    /// # Errors
    ///
    /// [`ClientError::Broken`] for a client made from a stream; the dial's
    /// error when no address accepts (the client stays broken, and the next
    /// call tries again).
    pub fn reconnect(&mut self) -> Result<(), ClientError> {
        let Some(redial) = &self.redial else {
            return Err(ClientError::Broken);
        };
        self.broken = true;
        let stream = dial(&redial.addrs, &self.options)?;
        self.transport = (redial.transport)(&self.options);
        self.stream = stream;
        self.input.clear();
        self.broken = false;
        self.used = false;
        Ok(())
    }

    /// Headers sent with the next call only (THeader and TTHeader; other
    /// transports have nowhere to put them): byte-string keys and values,
    /// `insert("k", "v")` for text. They are taken when the call is sent.
    /// Unless they set `traceparent`, a call made inside a trace (a
    /// handler's, or [`TraceContext::scope`](crate::trace::TraceContext::scope))
    /// gets [`outgoing_traceparent`](crate::trace::outgoing_traceparent).
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
    /// When an earlier call broke the connection, this one dials again
    /// first. A call that fails is not retried (the server may have run it).
    ///
    /// # Errors
    ///
    /// [`CallError::Service`] with the declared exception or application
    /// error the server answered, [`CallError::Client`] when there was no
    /// valid answer (the connection is then closed, and the next call dials
    /// again).
    pub fn call<R: Reply, A: Args>(
        &mut self,
        method: &'static str,
        args: &A,
    ) -> Result<R::Ok, CallError<R::Err>> {
        let name = self.name(method, ByteString::from_static);
        self.call_named::<R, A>(name, method, args)
    }

    /// [`Client::call`] for a method name known only at run time (a
    /// dynamic caller such as `thriftgen call`); the name is copied into
    /// the message.
    ///
    /// # Errors
    ///
    /// As [`Client::call`].
    pub fn call_method<R: Reply, A: Args>(
        &mut self,
        method: &str,
        args: &A,
    ) -> Result<R::Ok, CallError<R::Err>> {
        let name = self.name(method, |m| ByteString::from(m.to_owned()));
        self.call_named::<R, A>(name, method, args)
    }

    fn call_named<R: Reply, A: Args>(
        &mut self,
        name: ByteString,
        method: &str,
        args: &A,
    ) -> Result<R::Ok, CallError<R::Err>> {
        let seqid = self.send(name, MessageType::Call, args)?;
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
        let name = self.name(method, ByteString::from_static);
        self.send(name, MessageType::Oneway, args).map(drop)
    }

    /// [`Client::send_oneway`] for a method name known only at run time.
    ///
    /// # Errors
    ///
    /// When the call cannot be sent.
    pub fn send_oneway_method<A: Args>(
        &mut self,
        method: &str,
        args: &A,
    ) -> Result<(), ClientError> {
        let name = self.name(method, |m| ByteString::from(m.to_owned()));
        self.send(name, MessageType::Oneway, args).map(drop)
    }

    /// The name a call of `method` carries: `service:method` when the
    /// options name a service, otherwise `bare(method)`.
    fn name<'m>(&self, method: &'m str, bare: impl FnOnce(&'m str) -> ByteString) -> ByteString {
        match &self.options.service_name {
            Some(service) => ByteString::from(format!("{service}:{method}")),
            None => bare(method),
        }
    }

    /// Makes sure there is a usable connection: dials again after a broken
    /// one, or when the server closed the idle one (nothing was sent on it
    /// since, so dialing again loses nothing).
    fn ready(&mut self) -> Result<(), ClientError> {
        if !self.broken && self.used && self.redial.is_some() && peer_gone(&self.stream) {
            self.broken = true;
        }
        if self.broken {
            self.reconnect()?;
        }
        Ok(())
    }

    fn send<A: Args>(
        &mut self,
        name: ByteString,
        kind: MessageType,
        args: &A,
    ) -> Result<i32, ClientError> {
        self.ready()?;
        self.seqid = self.seqid.wrapping_add(1);
        let header = MessageHeader {
            name,
            kind,
            seqid: self.seqid,
        };
        let mut info = FrameInfo::new(self.options.dialect, self.options.protocol);
        info.seq_id = self.seqid as u32;
        info.headers = std::mem::take(&mut self.headers);
        if matches!(info.dialect, Dialect::Header | Dialect::TTHeader) {
            // Continues the trace of the code calling (a handler's, say).
            crate::trace::inject_traceparent(&mut info.headers);
        }
        info.framed_payload = self.options.framed_payload;
        self.reply_headers.clear();
        self.out.clear();
        encode_frame(
            &mut self.transport,
            &self.protocols,
            &mut self.out,
            &info,
            self.options.limits,
            &header,
            args,
        )?;
        self.used = true;
        if let Err(e) = self.stream.write_all(&self.out) {
            self.broken = true;
            return Err(e.into());
        }
        Ok(self.seqid)
    }

    fn receive<R: Reply>(
        &mut self,
        method: &str,
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
        let mut frame = frame;
        self.reply_headers = std::mem::take(&mut frame.info.headers);
        decode_reply::<R, X>(&self.protocols, frame, self.options.limits, method, seqid)
    }
}

/// Connects to the first of `addrs` that accepts within the connect timeout.
fn dial(addrs: &[SocketAddr], options: &ClientOptions) -> Result<TcpStream, ClientError> {
    let mut last = None;
    for addr in addrs {
        let stream = match options.connect_timeout {
            Some(timeout) => TcpStream::connect_timeout(addr, timeout),
            None => TcpStream::connect(addr),
        };
        match stream {
            Ok(stream) => {
                configure(&stream, options)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(ClientError::Io(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
    })))
}

fn configure(stream: &TcpStream, options: &ClientOptions) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(options.read_timeout)?;
    stream.set_write_timeout(options.write_timeout)
}

/// Whether the idle connection can no longer carry a call: the server
/// closed it (or reset it), or sent bytes nobody asked for. One
/// non-blocking peek, no state changed.
fn peer_gone(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    // SAFETY: the buffer is a live local of the length given; the file
    // descriptor is open while `stream` lives; MSG_PEEK leaves the socket's
    // data in place and MSG_DONTWAIT keeps the call from blocking.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            byte.as_mut_ptr().cast(),
            byte.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n >= 0 {
        // 0: closed; more: stray bytes, which would be read as the reply.
        return true;
    }
    let err = io::Error::last_os_error();
    !matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
