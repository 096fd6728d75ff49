//! The client side, in two shapes:
//!
//! - [`Client`]: one blocking connection that sends a call and reads its
//!   reply, in any transport and protocol. After a broken connection the
//!   next call dials again; a failed call is never retried.
//! - [`AsyncClient`]: one client shared by thousands of tokio tasks
//!   (`Clone + Send + Sync`, an `Arc` inside), over pooled ping-pong
//!   connections or seqid-multiplexed ones, with per-call timeouts and
//!   cancellation safety.
//!
//! Generated `<Service>Client`s wrap a [`Client`], and `<Service>AsyncClient`s
//! an [`AsyncClient`], adding typed methods. Both encode with the same
//! sans-IO transports and protocols the server uses.
//!
//! An [`AsyncClient`] made with [`AsyncClient::discover`] calls a fleet:
//! the instances a [`Discover`](crate::discover::Discover) finds, each with
//! its own connections, chosen per call by a [`Balancer`], with retries,
//! backup requests, a retry budget and per-instance circuit breakers
//! ([`FleetOptions`]), all above the connections and never inside the codec.
//! [`AsyncClient::service`] makes it a `tower::Service`.

mod asynchronous;
mod balance;
mod blocking;
mod breaker;
mod endpoint;
mod fleet;
mod multiplex;
mod pool;
mod tower;

pub use asynchronous::{
    AsyncClient, AsyncClientOptions, AsyncClientStats, CallOptions, MultiplexOptions, PoolOptions,
    Strategy,
};
pub use blocking::{Client, ClientOptions};
pub use breaker::BreakerState;
pub use fleet::{
    BackoffOptions, Balancer, BreakerOptions, FleetOptions, InstanceStats, RetryBudgetOptions,
    RetryOptions,
};
pub use tower::{Call, ClientService};

use crate::protocol::{
    ApplicationException, InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol,
    ProtocolError, ProtocolVisitor, Protocols, Standard,
};
use crate::service::{Args, Reply};
use crate::transport::{
    Frame, FrameInfo, ProtocolId, Transport, TransportError, TransportErrorKind,
};
use crate::wire::MessageType;
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::io;
use std::time::Duration;

/// Why a call did not get an answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket failed or timed out (a connect that timed out included).
    Io(io::Error),
    /// The reply's framing was invalid.
    Transport(TransportError),
    /// The call could not be encoded, or the reply decoded.
    Protocol(ProtocolError),
    /// The reply does not answer the call (wrong sequence id, method name or
    /// message type), or the server closed the connection.
    BadReply(String),
    /// An earlier call failed half-way and this [`Client`] cannot dial
    /// again (it was made from a stream, not an address).
    Broken,
    /// No reply within the call's timeout ([`AsyncClient`]); the
    /// connection is not used again for another call.
    Timeout(Duration),
    /// No connection (pooled) or no room for one more call in flight
    /// (multiplexed) came free within the wait timeout ([`AsyncClient`]).
    /// The call was not sent.
    NoConnection(Duration),
    /// The connection closed while the call was in flight, for the reason
    /// given (another call's malformed reply, an unknown sequence id, the
    /// server closing it, ...). Whether the server ran the call is unknown.
    ConnectionLost(String),
    /// A fleet ([`AsyncClient::discover`]) had no instance to send the call
    /// to, for the reason given: discovery found none (or none yet, within
    /// the call timeout), or every instance's circuit breaker is open. The
    /// call was not sent.
    NoInstance(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "connection failed: {e}"),
            ClientError::Transport(e) => write!(f, "bad reply frame: {e}"),
            ClientError::Protocol(e) => write!(f, "protocol error: {e}"),
            ClientError::BadReply(why) => write!(f, "bad reply: {why}"),
            ClientError::Broken => f.write_str("the connection broke in an earlier call"),
            ClientError::Timeout(after) => {
                write!(
                    f,
                    "no reply within the call timeout ({} ms)",
                    after.as_millis()
                )
            }
            ClientError::NoConnection(after) => write!(
                f,
                "no free connection within the wait timeout ({} ms)",
                after.as_millis()
            ),
            ClientError::ConnectionLost(why) => {
                write!(f, "the connection closed with the call in flight: {why}")
            }
            ClientError::NoInstance(why) => write!(f, "no instance to call: {why}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Io(e) => Some(e),
            ClientError::Transport(e) => Some(e),
            ClientError::Protocol(e) => Some(e),
            _ => None,
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

/// The error for a protocol this client does not speak.
fn unsupported(protocol: ProtocolId) -> ClientError {
    ClientError::Transport(TransportError::new(
        TransportErrorKind::UnsupportedProtocol,
        format!("this client does not speak {protocol:?}"),
    ))
}

/// Appends one whole call frame to `out`: the transport's header, the
/// message in `info.protocol`, the patched lengths.
fn encode_frame<T: Transport, X: Protocols, A: Args>(
    transport: &mut T,
    protocols: &X,
    out: &mut BytesMut,
    info: &FrameInfo,
    limits: Limits,
    header: &MessageHeader,
    args: &A,
) -> Result<(), ClientError> {
    let start = transport.begin(out, info)?;
    let encode = Encode {
        out,
        limits,
        header,
        args,
    };
    let written = protocols
        .visit(info.protocol, encode)
        .ok_or_else(|| unsupported(info.protocol));
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            out.truncate(start.frame_offset());
            return Err(e.into());
        }
        Err(e) => {
            out.truncate(start.frame_offset());
            return Err(e);
        }
    }
    transport.finish(out, start, info)?;
    Ok(())
}

/// Decodes the reply to call `seqid` of `method` from `frame`.
fn decode_reply<R: Reply, X: Protocols>(
    protocols: &X,
    frame: Frame,
    limits: Limits,
    method: &str,
    seqid: i32,
) -> Result<Result<R::Ok, R::Err>, ClientError> {
    let decode = Decode::<R> {
        payload: frame.payload,
        limits,
        method,
        seqid,
        reply: std::marker::PhantomData,
    };
    protocols
        .visit(frame.info.protocol, decode)
        .ok_or_else(|| unsupported(frame.info.protocol))?
}

/// A decoded reply, and whether its error is an application exception.
type DecodedAnswer<R> = Result<(Result<<R as Reply>::Ok, <R as Reply>::Err>, bool), ClientError>;

/// Decodes the reply to call `seqid` of `method` from `frame`, also saying
/// whether the error (if any) is an [`ApplicationException`] (a server-side
/// failure) rather than one of the method's declared exceptions (a result).
fn decode_answer<R: Reply>(
    frame: Frame,
    limits: Limits,
    method: &str,
    seqid: i32,
) -> DecodedAnswer<R> {
    let decode = Decode::<R> {
        payload: frame.payload,
        limits,
        method,
        seqid,
        reply: std::marker::PhantomData,
    };
    Standard
        .visit(frame.info.protocol, Classified(decode))
        .ok_or_else(|| unsupported(frame.info.protocol))?
}

/// Reads only the message header of `frame` (to route it by sequence id).
fn peek_header(frame: &Frame, limits: Limits) -> Result<MessageHeader, ClientError> {
    let peek = Peek {
        payload: frame.payload.clone(),
        limits,
    };
    Standard
        .visit(frame.info.protocol, peek)
        .ok_or_else(|| unsupported(frame.info.protocol))?
}

/// Whether the name a reply carries answers `method` (a multiplexing server
/// may answer with or without the `service:` prefix).
fn answers(reply_name: &str, method: &str) -> bool {
    let name = reply_name.rsplit_once(':').map_or(reply_name, |(_, m)| m);
    name == method
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
    reply: std::marker::PhantomData<fn() -> R>,
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

/// [`Decode`], telling application exceptions apart.
struct Classified<'a, R>(Decode<'a, R>);

impl<R: Reply> ProtocolVisitor for Classified<'_, R> {
    type Output = DecodedAnswer<R>;

    fn visit<P: Protocol>(self) -> Self::Output {
        let decode = self.0;
        read_reply_classified::<R, _>(
            &mut P::reader(decode.payload, decode.limits),
            decode.method,
            decode.seqid,
        )
    }
}

/// Reads a message header in whichever protocol its frame names.
struct Peek {
    payload: Bytes,
    limits: Limits,
}

impl ProtocolVisitor for Peek {
    type Output = Result<MessageHeader, ClientError>;

    fn visit<P: Protocol>(self) -> Self::Output {
        Ok(P::reader(self.payload, self.limits).read_message_begin()?)
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
    read_reply_classified::<R, I>(input, method, seqid).map(|(result, _)| result)
}

/// [`read_reply`], also saying whether the reply was an exception message.
fn read_reply_classified<R: Reply, I: InputProtocol>(
    input: &mut I,
    method: &str,
    seqid: i32,
) -> DecodedAnswer<R> {
    let header = input.read_message_begin()?;
    if !answers(header.name.as_str(), method) {
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
        MessageType::Reply => (R::read(input)?, false),
        MessageType::Exception => (Err(ApplicationException::read(input)?.into()), true),
        other => {
            return Err(ClientError::BadReply(format!(
                "a {other:?} message in reply to a call"
            )))
        }
    };
    input.read_message_end()?;
    Ok(result)
}
