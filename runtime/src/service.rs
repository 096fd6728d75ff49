//! What generated services build on, shared by the server and the client:
//! the [`Processor`] a server dispatches calls to, the [`CallContext`] a
//! handler sees, [`Multiplexed`] services on one server, and the traits a
//! generated client uses to write arguments and read results.
//!
//! Everything here is sans-IO: a processor reads one request message with an
//! [`InputProtocol`] and writes its reply with an [`OutputProtocol`].

use crate::protocol::{
    ApplicationErrorKind, ApplicationException, InputProtocol, MessageHeader, OutputProtocol,
    ProtocolError, Result,
};
use crate::transport::Headers;
use crate::wire::MessageType;
use crate::ByteString;
use std::fmt;
use std::net::SocketAddr;

/// What a handler knows about the call besides its arguments.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    peer: Option<SocketAddr>,
    headers: Headers,
}

impl CallContext {
    /// The context of a call from `peer` that carried `headers` (THeader or
    /// TTHeader key/values; empty for other transports).
    pub fn new(peer: Option<SocketAddr>, headers: Headers) -> CallContext {
        CallContext { peer, headers }
    }

    /// The address of the client, when the call came over a socket.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The call's THeader/TTHeader key/values.
    pub fn headers(&self) -> &Headers {
        &self.headers
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

impl<P: Processor> Multiplexed<P, NoService> {
    /// A server of one service named `name`.
    pub fn new(name: &str, processor: P) -> Multiplexed<P, NoService> {
        Multiplexed {
            prefix: format!("{name}:"),
            processor,
            rest: NoService,
        }
    }
}

impl<P: Processor, Rest: Processor> Multiplexed<P, Rest> {
    /// Adds the service `name`.
    pub fn with<Q: Processor>(self, name: &str, processor: Q) -> Multiplexed<Q, Self> {
        Multiplexed {
            prefix: format!("{name}:"),
            processor,
            rest: self,
        }
    }

    /// Adds the service that answers plain method names (clients that do not
    /// multiplex).
    pub fn with_default<Q: Processor>(self, processor: Q) -> Multiplexed<DefaultService<Q>, Self> {
        Multiplexed {
            // An empty prefix marks the default service (see `process`).
            prefix: String::new(),
            processor: DefaultService(processor),
            rest: self,
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
        if self.prefix.is_empty() {
            // The default service: plain names; the others go on down.
            return match self.processor.process(ctx, header, input, output)? {
                Processed::UnknownMethod => self.rest.process(ctx, header, input, output),
                done => Ok(done),
            };
        }
        match header.name.strip_prefix(self.prefix.as_str()) {
            Some(_) => {
                let inner = MessageHeader {
                    name: header.name.slice_from(self.prefix.len()),
                    kind: header.kind,
                    seqid: header.seqid,
                };
                self.processor.process(ctx, &inner, input, output)
            }
            None => self.rest.process(ctx, header, input, output),
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

/// The error of a result struct that holds neither a value nor an exception
/// (a non-`void` method's reply must hold one).
pub fn missing_result(method: &str) -> ApplicationException {
    ApplicationException::new(
        ApplicationErrorKind::MISSING_RESULT,
        format!("{method} failed: unknown result"),
    )
}
