//! What generated services build on, shared by the server and the client:
//! the [`Processor`] a server dispatches calls to (and [`AsyncProcessor`],
//! its counterpart for async handlers), the [`CallContext`] a
//! handler sees, [`Multiplexed`] services on one server, and the traits a
//! generated client uses to write arguments and read results.
//!
//! Everything here is sans-IO: a processor reads one request message with an
//! [`InputProtocol`] and writes its reply with an [`OutputProtocol`].

use crate::protocol::{
    ApplicationException, InputProtocol, MessageHeader, OutputProtocol, ProtocolError, Result,
};
use crate::trace::TraceContext;
use crate::transport::{int_keys, Headers, IntoHeaderBytes};
use crate::wire::MessageType;
use crate::ByteString;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// What a handler knows about the call besides its arguments, and where it
/// leaves the headers of its reply.
///
/// `Send + Sync`: a handler may keep `&CallContext` across `.await`s. The
/// reply headers sit behind a mutex that costs nothing until it is used.
///
/// ```
/// use thriftgen_runtime::service::CallContext;
/// use thriftgen_runtime::transport::Headers;
///
/// let mut request = Headers::new();
/// request.insert("trace-id", "abc");
/// let ctx = CallContext::new(None, request);
/// assert_eq!(ctx.headers().get_str("trace-id"), Some("abc"));
/// ctx.set_reply_header("served-by", "node-7");
/// ctx.set_reply_header(&b"bin\xff"[..], &b"\x00\x01"[..]);
/// assert_eq!(ctx.reply_headers().get_str("served-by"), Some("node-7"));
/// ```
#[derive(Debug)]
pub struct CallContext {
    peer: Option<SocketAddr>,
    headers: Headers,
    timeout: Option<Duration>,
    /// The caller's span (its `traceparent`), when it sent a valid one.
    trace_parent: Option<TraceContext>,
    /// This call's span.
    trace: TraceContext,
    reply_headers: Mutex<Headers>,
}

impl Default for CallContext {
    /// The context of a call with no peer and no headers.
    fn default() -> CallContext {
        CallContext::new(None, Headers::new())
    }
}

impl Clone for CallContext {
    fn clone(&self) -> CallContext {
        CallContext {
            peer: self.peer,
            headers: self.headers.clone(),
            timeout: self.timeout,
            trace_parent: self.trace_parent,
            trace: self.trace,
            reply_headers: Mutex::new(self.reply_headers().clone()),
        }
    }
}

impl CallContext {
    /// The context of a call from `peer` that carried `headers` (THeader or
    /// TTHeader key/values; empty for other transports). The timeout is read
    /// from TTHeader's integer header
    /// [`RPC_TIMEOUT`](crate::transport::int_keys::RPC_TIMEOUT), when it is
    /// there and a number of milliseconds. The trace is read from the
    /// [`traceparent`](crate::trace::TRACEPARENT) header (see
    /// [`CallContext::trace`]).
    pub fn new(peer: Option<SocketAddr>, headers: Headers) -> CallContext {
        let timeout = headers
            .get_int_str(int_keys::RPC_TIMEOUT)
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        let trace_parent = TraceContext::from_headers(&headers);
        let trace = trace_parent.map_or_else(TraceContext::new_root, |parent| parent.child());
        CallContext {
            peer,
            headers,
            timeout,
            trace_parent,
            trace,
            reply_headers: Mutex::new(Headers::new()),
        }
    }

    /// This call's span of its distributed trace: the caller's trace id
    /// (from its `traceparent` header) with a new span id of its own, or
    /// the root of a new trace when the caller sent no valid
    /// `traceparent`. While the handler runs it is
    /// [`TraceContext::current`], so calls made from the handler continue
    /// it (see [`crate::trace`]).
    pub fn trace(&self) -> TraceContext {
        self.trace
    }

    /// The caller's span, when it sent a valid `traceparent` (its span id
    /// is the parent of [`CallContext::trace`]).
    pub fn trace_parent(&self) -> Option<TraceContext> {
        self.trace_parent
    }

    /// The same context with the timeout `timeout` in place of the one the
    /// headers gave.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> CallContext {
        self.timeout = timeout;
        self
    }

    /// The address of the client, when the call came over a socket.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The call's THeader/TTHeader headers: byte-string keys and values
    /// (see [`Headers::get`] and [`Headers::get_str`]), and for TTHeader the
    /// integer headers and ACL token.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// How long the caller will wait for the answer, when it said so
    /// (TTHeader's `RPC_TIMEOUT` integer header, which Kitex and Volo
    /// clients send, in milliseconds). Counted from when the request
    /// arrived.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sets reply header `key` to `value` (replacing what an earlier call set):
    /// sent with the reply over THeader and TTHeader, dropped by the other
    /// transports, which have nowhere to put it.
    pub fn set_reply_header(&self, key: impl IntoHeaderBytes, value: impl IntoHeaderBytes) {
        self.reply_headers().insert(key, value);
    }

    /// Sets TTHeader integer reply header `key` to `value` (THeader has no
    /// integer headers and drops it).
    pub fn set_reply_int_header(&self, key: u16, value: impl IntoHeaderBytes) {
        self.reply_headers().insert_int(key, value);
    }

    /// The headers the reply will carry, to read or change in any way. Do
    /// not keep the guard across an `.await` (it is a mutex guard).
    pub fn reply_headers(&self) -> MutexGuard<'_, Headers> {
        // Headers stay valid whatever a panicking holder did to them.
        self.reply_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the reply headers out, leaving none.
    pub fn take_reply_headers(&self) -> Headers {
        std::mem::take(&mut *self.reply_headers())
    }

    /// Takes the reply headers out without locking (the context is the
    /// caller's alone): what the server does when it frames the reply.
    pub(crate) fn take_reply_headers_mut(&mut self) -> Headers {
        let headers = self
            .reply_headers
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(headers)
    }
}

/// What a [`Processor`] did with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processed {
    /// A reply (a result or an exception) was written.
    Replied,
    /// The call was `oneway`: nothing was written.
    Oneway,
    /// No method of that name: nothing was written. The server answers
    /// `UNKNOWN_METHOD`.
    UnknownMethod,
}

/// Why a [`Processor`] could not handle a call.
#[derive(Debug)]
pub enum ProcessError {
    /// The arguments could not be decoded (the server answers
    /// `PROTOCOL_ERROR` and closes the connection).
    Decode(ProtocolError),
    /// The reply could not be encoded, for example nested too deep (the
    /// server answers `INTERNAL_ERROR` in its place).
    Encode(ProtocolError),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Decode(e) => write!(f, "cannot decode the arguments: {e}"),
            ProcessError::Encode(e) => write!(f, "cannot encode the reply: {e}"),
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcessError::Decode(e) | ProcessError::Encode(e) => Some(e),
        }
    }
}

/// Serves the calls of one service (generated per service as
/// `<Service>Processor`, wrapping a handler).
///
/// The methods are generic over the protocols so a call is decoded and encoded
/// with static dispatch; the server picks the protocol per frame.
pub trait Processor: Send + Sync + 'static {
    /// Handles one call whose header has been read: reads the arguments from
    /// `input` (and the message end), runs the handler, and writes the whole
    /// reply message to `output` unless the call is oneway.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed,
    /// [`ProcessError::Encode`] when the reply cannot be written.
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError>;
}

impl<P: Processor> Processor for std::sync::Arc<P> {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        (**self).process(ctx, header, input, output)
    }
}

/// A boxed, sendable future (one per async call).
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// What an [`AsyncProcessor`] made of a call.
///
/// The futures are spawned on the server's tokio runtime; dropping one (the
/// peer went away, the deadline passed) cancels the handler at its next
/// `.await`.
pub enum Dispatch {
    /// A call: the future runs the handler and resolves to the whole reply message
    /// (the result, or an exception), encoded with the call's protocol, unframed.
    Reply(BoxFuture<Result<bytes::BytesMut, ProcessError>>),
    /// A oneway call: the future runs the handler; nothing is sent.
    Oneway(BoxFuture<()>),
    /// No method of that name (the server answers UNKNOWN_METHOD).
    UnknownMethod,
}

impl fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dispatch::Reply(_) => "Dispatch::Reply(..)",
            Dispatch::Oneway(_) => "Dispatch::Oneway(..)",
            Dispatch::UnknownMethod => "Dispatch::UnknownMethod",
        })
    }
}

/// Serves the calls of one service whose handler is async (generated per
/// service next to the [`Processor`], for handlers with `async fn`s); served
/// by [`Server::new_async`](crate::server::Server::new_async).
///
/// The split follows where the work belongs: the arguments are decoded on
/// the poller that read the frame (sans-IO, quick, and the frame's bytes are
/// there), the handler runs as a task on the user's tokio runtime, and its
/// encoded reply goes back to the poller to be framed and written in request
/// order. The reply headers a handler sets on `ctx` go with its reply: the
/// server keeps its own clone of the `Arc` and takes them once the future is
/// done.
///
/// A minimal hand-written one (generated code does the same per method):
///
/// ```
/// use std::sync::Arc;
/// use thriftgen_runtime::bytes::BytesMut;
/// use thriftgen_runtime::protocol::{InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol};
/// use thriftgen_runtime::service::{AsyncProcessor, CallContext, Dispatch, ProcessError};
/// use thriftgen_runtime::{MessageType, TType};
///
/// /// `void ping()`.
/// struct Ping;
///
/// impl AsyncProcessor for Ping {
///     fn dispatch<R: Protocol>(
///         &self,
///         _ctx: Arc<CallContext>,
///         header: &MessageHeader,
///         input: &mut R::Reader,
///         limits: Limits,
///     ) -> Result<Dispatch, ProcessError> {
///         if header.name.as_str() != "ping" {
///             return Ok(Dispatch::UnknownMethod);
///         }
///         // The (empty) arguments struct and the message end, on the poller.
///         let mut read = || {
///             input.read_struct_begin()?;
///             while input.read_field_begin()?.ttype != TType::Stop {}
///             input.read_struct_end()?;
///             input.read_message_end()
///         };
///         read().map_err(ProcessError::Decode)?;
///         let reply = MessageHeader { kind: MessageType::Reply, ..header.clone() };
///         Ok(Dispatch::Reply(Box::pin(async move {
///             // ... the handler awaits here ...
///             let mut buf = BytesMut::new();
///             let mut output = R::writer(&mut buf, limits);
///             let mut write = || {
///                 output.write_message_begin(&reply)?;
///                 output.write_struct_begin("ping_result")?;
///                 output.write_field_stop()?;
///                 output.write_struct_end()?;
///                 output.write_message_end()
///             };
///             write().map_err(ProcessError::Encode)?;
///             drop(output);
///             Ok(buf)
///         })))
///     }
/// }
/// ```
pub trait AsyncProcessor: Send + Sync + 'static {
    /// Reads the call's arguments (and the message end) from `input`, on the poller,
    /// and returns the future that runs the handler and encodes the reply with `R`
    /// (`R::writer(&mut buf, limits)`).
    ///
    /// It must not block or run the handler itself: it runs on a poller
    /// thread, between the reads of many connections.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed.
    fn dispatch<R: crate::protocol::Protocol>(
        &self,
        ctx: std::sync::Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: crate::protocol::Limits,
    ) -> Result<Dispatch, ProcessError>;
}

impl<P: AsyncProcessor> AsyncProcessor for std::sync::Arc<P> {
    fn dispatch<R: crate::protocol::Protocol>(
        &self,
        ctx: std::sync::Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: crate::protocol::Limits,
    ) -> Result<Dispatch, ProcessError> {
        (**self).dispatch::<R>(ctx, header, input, limits)
    }
}

/// Writes a whole reply message carrying `exception`.
///
/// # Errors
///
/// When `output` fails.
pub fn write_exception<O: OutputProtocol>(
    output: &mut O,
    name: &ByteString,
    seqid: i32,
    exception: &ApplicationException,
) -> Result<()> {
    output.write_message_begin(&MessageHeader {
        name: name.clone(),
        kind: MessageType::Exception,
        seqid,
    })?;
    exception.write(output)?;
    output.write_message_end()
}

/// Several services on one server, told apart by the `service:method` names
/// of Apache's `TMultiplexedProtocol`:
///
/// ```ignore
/// let processor = Multiplexed::new("Calculator", CalculatorProcessor::new(calc))
///     .with("Echo", EchoProcessor::new(echo))
///     .with_default(EchoProcessor::new(echo2)); // plain `method` names
/// ```
///
/// A call's name is matched against each service in turn; the service sees
/// the name without its prefix, and replies with it.
#[derive(Debug)]
pub struct Multiplexed<P, Rest = NoService> {
    prefix: String,
    processor: P,
    rest: Rest,
}

/// The end of a [`Multiplexed`] chain: knows no method.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoService;

impl Processor for NoService {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        _ctx: &CallContext,
        _header: &MessageHeader,
        _input: &mut I,
        _output: &mut O,
    ) -> Result<Processed, ProcessError> {
        Ok(Processed::UnknownMethod)
    }
}

impl AsyncProcessor for NoService {
    fn dispatch<R: crate::protocol::Protocol>(
        &self,
        _ctx: std::sync::Arc<CallContext>,
        _header: &MessageHeader,
        _input: &mut R::Reader,
        _limits: crate::protocol::Limits,
    ) -> Result<Dispatch, ProcessError> {
        Ok(Dispatch::UnknownMethod)
    }
}

/// The service that takes names without a `service:` prefix in a
/// [`Multiplexed`] chain.
#[derive(Debug)]
pub struct DefaultService<P>(P);

impl<P: Processor> Processor for DefaultService<P> {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        if header.name.contains(':') {
            return Ok(Processed::UnknownMethod);
        }
        self.0.process(ctx, header, input, output)
    }
}

impl<P: AsyncProcessor> AsyncProcessor for DefaultService<P> {
    fn dispatch<R: crate::protocol::Protocol>(
        &self,
        ctx: std::sync::Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: crate::protocol::Limits,
    ) -> Result<Dispatch, ProcessError> {
        if header.name.contains(':') {
            return Ok(Dispatch::UnknownMethod);
        }
        self.0.dispatch::<R>(ctx, header, input, limits)
    }
}

// The builders take sync and async processors alike; the chain is a
// `Processor` when every link is one, an `AsyncProcessor` likewise.
impl<P> Multiplexed<P, NoService> {
    /// A server of one service named `name`.
    pub fn new(name: &str, processor: P) -> Multiplexed<P, NoService> {
        Multiplexed {
            prefix: format!("{name}:"),
            processor,
            rest: NoService,
        }
    }
}

impl<P, Rest> Multiplexed<P, Rest> {
    /// Adds the service `name`.
    pub fn with<Q>(self, name: &str, processor: Q) -> Multiplexed<Q, Self> {
        Multiplexed {
            prefix: format!("{name}:"),
            processor,
            rest: self,
        }
    }

    /// Adds the service that answers plain method names (clients that do not
    /// multiplex).
    pub fn with_default<Q>(self, processor: Q) -> Multiplexed<DefaultService<Q>, Self> {
        Multiplexed {
            // An empty prefix marks the default service (see `process`).
            prefix: String::new(),
            processor: DefaultService(processor),
            rest: self,
        }
    }
}

/// Where a [`Multiplexed`] link sends a call.
enum Route {
    /// To this link's default service (plain names), then on down the chain
    /// if it does not know the method.
    Default,
    /// To this link's service, under the name without its prefix.
    Here(MessageHeader),
    /// On down the chain.
    Rest,
}

impl<P, Rest> Multiplexed<P, Rest> {
    fn route(&self, header: &MessageHeader) -> Route {
        if self.prefix.is_empty() {
            return Route::Default;
        }
        match header.name.strip_prefix(self.prefix.as_str()) {
            Some(_) => Route::Here(MessageHeader {
                name: header.name.slice_from(self.prefix.len()),
                kind: header.kind,
                seqid: header.seqid,
            }),
            None => Route::Rest,
        }
    }
}

impl<P: Processor, Rest: Processor> Processor for Multiplexed<P, Rest> {
    fn process<I: InputProtocol, O: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut I,
        output: &mut O,
    ) -> Result<Processed, ProcessError> {
        match self.route(header) {
            Route::Default => match self.processor.process(ctx, header, input, output)? {
                Processed::UnknownMethod => self.rest.process(ctx, header, input, output),
                done => Ok(done),
            },
            Route::Here(inner) => self.processor.process(ctx, &inner, input, output),
            Route::Rest => self.rest.process(ctx, header, input, output),
        }
    }
}

impl<P: AsyncProcessor, Rest: AsyncProcessor> AsyncProcessor for Multiplexed<P, Rest> {
    fn dispatch<R: crate::protocol::Protocol>(
        &self,
        ctx: std::sync::Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: crate::protocol::Limits,
    ) -> Result<Dispatch, ProcessError> {
        match self.route(header) {
            Route::Default => {
                let here = std::sync::Arc::clone(&ctx);
                match self.processor.dispatch::<R>(here, header, input, limits)? {
                    Dispatch::UnknownMethod => self.rest.dispatch::<R>(ctx, header, input, limits),
                    done => Ok(done),
                }
            }
            Route::Here(inner) => self.processor.dispatch::<R>(ctx, &inner, input, limits),
            Route::Rest => self.rest.dispatch::<R>(ctx, header, input, limits),
        }
    }
}

/// The arguments of a call, written by a generated client (a struct of
/// references to the caller's values).
pub trait Args {
    /// Writes the arguments struct.
    ///
    /// # Errors
    ///
    /// When `output` fails.
    fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<()>;
}

/// How a generated client reads the result struct of one method.
pub trait Reply {
    /// The method's return value (`()` for `void`).
    type Ok;
    /// The method's error: its declared exceptions and an
    /// [`ApplicationException`].
    type Err: From<ApplicationException>;

    /// Reads the result struct: the return value or one declared exception.
    ///
    /// # Errors
    ///
    /// When the struct is malformed.
    fn read<I: InputProtocol>(input: &mut I) -> Result<std::result::Result<Self::Ok, Self::Err>>;
}
