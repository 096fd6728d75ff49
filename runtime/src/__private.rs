//! What generated code builds on, and nothing else: not a public API, and
//! not covered by semver. (As prost's `encoding` and tonic's `codegen`.)
//!
//! Generated service code imports this module as `__rt` and names
//! everything it needs through it, including the few standard items it
//! uses, since an IDL may define a type called `Result`, `Option` or `Send`.
//!
//! Per method, generated code declares one unit struct (`<Service><Method>Method`)
//! that implements [`DecodeArgs`] and [`EncodeResult`] for the server and
//! [`Reply`] for the client; the functions here do the rest of a call:
//!
//! - [`Call::reply`] and [`Call::oneway`] serve one call with a blocking
//!   handler, for a [`Processor`];
//! - [`AsyncCall::reply`] and [`AsyncCall::oneway`] with an async one, for
//!   an [`AsyncProcessor`];
//! - blocking clients call [`Client::call`]; async ones
//!   [`AsyncClient::prepare`] then [`AsyncClient::call_prepared`], so the
//!   future a generated method returns borrows none of its arguments.

use bytes::BytesMut;

#[cfg(feature = "serde")]
pub mod serde;

pub use crate::client::{
    AsyncClient, AsyncClientOptions, CallError, CallOptions, Client, ClientError, ClientOptions,
};
pub use crate::codec::{
    end_struct, read_field, read_struct, required, set_variant, success, write_field, write_items,
    write_optional, write_pairs, write_slice, write_str, Binary, Bool, Boxed, ByteStr, Codec,
    Collection, Double, Entries, Enum, Field, List, Map, MapOf, Set, SetOf, Str, Uuid, I16, I32,
    I64, I8,
};
pub use crate::protocol::{
    ApplicationException, InputProtocol, Limits, MessageHeader, OutputProtocol, Protocol,
    ProtocolError, Protocols, Standard,
};
pub use crate::service::{
    Args, AsyncProcessor, CallContext, Dispatch, ProcessError, Processed, Processor, Reply,
};
pub use crate::transport::{AnyTransport, Transport};
pub use crate::wire::{MessageType, TType};
pub use std::future::Future;
pub use std::marker::{Send, Sized, Sync};
pub use std::net::{SocketAddr, ToSocketAddrs};
pub use std::option::Option::{self, None, Some};
pub use std::result::Result::{self, Err, Ok};
pub use std::sync::Arc;

/// What decoding or encoding a value gives: `Result<T, ProtocolError>`.
pub type CodecResult<T> = Result<T, ProtocolError>;

/// What a method's handler returns: `Result<Ok, Err>` of [`EncodeResult`].
pub type MethodResult<M> = Result<<M as EncodeResult>::Ok, <M as EncodeResult>::Err>;

/// What reading a reply gives: the method's result, or a decoding error.
pub type ReplyResult<M> = CodecResult<Result<<M as Reply>::Ok, <M as Reply>::Err>>;

/// How the server reads the arguments of one method.
pub trait DecodeArgs {
    /// `Service.method`, as the IDL spells it (for logs).
    const NAME: &'static str;
    /// The arguments, as a tuple in IDL order, in the types the handler
    /// takes them.
    type Args;

    /// Reads the arguments struct (not the message end).
    ///
    /// # Errors
    ///
    /// When the struct is malformed or a required argument is missing.
    fn read_args(input: &mut impl InputProtocol) -> CodecResult<Self::Args>;
}

/// How the server writes the result of one (not `oneway`) method.
pub trait EncodeResult {
    /// The return value (`()` for `void`).
    type Ok;
    /// The method's error: its exceptions and an application error.
    type Err: MethodError;

    /// Writes the result struct of `result`, which is a value or a declared
    /// exception (an application error is sent as an exception message
    /// instead, see [`MethodError::application`]).
    ///
    /// # Errors
    ///
    /// When `output` fails.
    fn write_result<O: OutputProtocol>(
        result: &Result<Self::Ok, Self::Err>,
        output: &mut O,
    ) -> CodecResult<()>;
}

/// The error type of a method: an application error or a declared
/// exception.
pub trait MethodError {
    /// The application error, when that is what this is (it is answered
    /// with an exception message, not a result struct).
    fn application(&self) -> Option<&ApplicationException>;
}

impl MethodError for ApplicationException {
    fn application(&self) -> Option<&ApplicationException> {
        Some(self)
    }
}

/// Reads the arguments of `M` and the message end.
fn read_args<M: DecodeArgs>(input: &mut impl InputProtocol) -> Result<M::Args, ProcessError> {
    let args = M::read_args(input).map_err(ProcessError::Decode)?;
    input.read_message_end().map_err(ProcessError::Decode)?;
    Ok(args)
}

/// Writes the whole reply message for `result`: a result struct, or an
/// exception message for an application error.
///
/// # Errors
///
/// When `output` fails.
pub fn write_reply<M: EncodeResult>(
    output: &mut impl OutputProtocol,
    header: &MessageHeader,
    result: &Result<M::Ok, M::Err>,
) -> CodecResult<()> {
    if let Err(e) = result {
        if let Some(e) = e.application() {
            return crate::service::write_exception(output, &header.name, header.seqid, e);
        }
    }
    output.write_message_begin(&MessageHeader {
        name: header.name.clone(),
        kind: MessageType::Reply,
        seqid: header.seqid,
    })?;
    M::write_result(result, output)?;
    output.write_message_end()
}

/// One call a blocking processor serves: its header, the input its
/// arguments are read from and the output its reply is written to. The
/// generated dispatch function matches [`Call::method`] and hands the call
/// to the method's arm, or to the dispatch of the service it extends.
#[derive(Debug)]
pub struct Call<'a, I, O> {
    header: &'a MessageHeader,
    input: &'a mut I,
    output: &'a mut O,
}

impl<'a, I: InputProtocol, O: OutputProtocol> Call<'a, I, O> {
    /// The call whose `header` was read from `input`.
    pub fn new(header: &'a MessageHeader, input: &'a mut I, output: &'a mut O) -> Self {
        Call {
            header,
            input,
            output,
        }
    }

    /// The method name.
    pub fn method(&self) -> &'a str {
        self.header.name.as_str()
    }

    /// Serves the call with `handle`: reads the arguments of `method`,
    /// runs `handle` on them and writes the reply.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed,
    /// [`ProcessError::Encode`] when the reply cannot be written.
    pub fn reply<M: DecodeArgs + EncodeResult>(
        self,
        _method: M,
        handle: impl FnOnce(M::Args) -> Result<M::Ok, M::Err>,
    ) -> Result<Processed, ProcessError> {
        let result = handle(read_args::<M>(self.input)?);
        write_reply::<M>(self.output, self.header, &result).map_err(ProcessError::Encode)?;
        Ok(Processed::Replied)
    }

    /// Serves the `oneway` call with `handle`: reads the arguments of
    /// `method` and runs `handle` on them; an error is logged
    /// ([`oneway_failed`]), as there is no caller to tell.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed.
    pub fn oneway<M: DecodeArgs>(
        self,
        _method: M,
        handle: impl FnOnce(M::Args) -> Result<(), ApplicationException>,
    ) -> Result<Processed, ProcessError> {
        if let Err(e) = handle(read_args::<M>(self.input)?) {
            oneway_failed(M::NAME, &e);
        }
        Ok(Processed::Oneway)
    }

    /// No method of that name: nothing is read or written.
    ///
    /// # Errors
    ///
    /// Never.
    pub fn unknown(self) -> Result<Processed, ProcessError> {
        Ok(Processed::UnknownMethod)
    }
}

/// One call an [`AsyncProcessor`] starts: its header, the input its
/// arguments are read from, and the limits its reply is encoded with in
/// protocol `R`. As [`Call`], for async handlers.
pub struct AsyncCall<'a, R: Protocol> {
    header: &'a MessageHeader,
    input: &'a mut R::Reader,
    limits: Limits,
}

impl<R: Protocol> std::fmt::Debug for AsyncCall<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncCall")
            .field("header", &self.header)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<'a, R: Protocol> AsyncCall<'a, R> {
    /// The call whose `header` was read from `input`; its reply is
    /// encoded with `limits`.
    pub fn new(header: &'a MessageHeader, input: &'a mut R::Reader, limits: Limits) -> Self {
        AsyncCall {
            header,
            input,
            limits,
        }
    }

    /// The method name.
    pub fn method(&self) -> &'a str {
        self.header.name.as_str()
    }

    /// Starts the call: reads the arguments of `method` now, and returns
    /// the future that awaits `handle(args)` and encodes the reply message.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed (the
    /// future's error is [`ProcessError::Encode`]).
    pub fn reply<M, F>(
        self,
        _method: M,
        handle: impl FnOnce(M::Args) -> F,
    ) -> Result<Dispatch, ProcessError>
    where
        M: DecodeArgs + EncodeResult + 'static,
        F: Future<Output = Result<M::Ok, M::Err>> + Send + 'static,
    {
        let future = handle(read_args::<M>(self.input)?);
        let header = self.header.clone();
        let limits = self.limits;
        Ok(Dispatch::Reply(Box::pin(async move {
            let result = future.await;
            let mut buf = BytesMut::new();
            encode_reply::<M, R>(&mut buf, limits, &header, &result)
                .map_err(ProcessError::Encode)?;
            Ok(buf)
        })))
    }

    /// Starts the `oneway` call: reads the arguments of `method` now, and
    /// returns the future that awaits `handle(args)` and logs its error
    /// ([`oneway_failed`]).
    ///
    /// # Errors
    ///
    /// [`ProcessError::Decode`] when the arguments are malformed.
    pub fn oneway<M, F>(
        self,
        _method: M,
        handle: impl FnOnce(M::Args) -> F,
    ) -> Result<Dispatch, ProcessError>
    where
        M: DecodeArgs,
        F: Future<Output = Result<(), ApplicationException>> + Send + 'static,
    {
        let future = handle(read_args::<M>(self.input)?);
        let name = M::NAME;
        Ok(Dispatch::Oneway(Box::pin(async move {
            if let Err(e) = future.await {
                oneway_failed(name, &e);
            }
        })))
    }

    /// No method of that name: nothing is read.
    ///
    /// # Errors
    ///
    /// Never.
    pub fn unknown(self) -> Result<Dispatch, ProcessError> {
        Ok(Dispatch::UnknownMethod)
    }
}

fn encode_reply<M: EncodeResult, R: Protocol>(
    buf: &mut BytesMut,
    limits: Limits,
    header: &MessageHeader,
    result: &Result<M::Ok, M::Err>,
) -> CodecResult<()> {
    write_reply::<M>(&mut R::writer(buf, limits), header, result)
}

/// Logs the error a `oneway` handler returned, which has no caller to go to:
/// a `tracing` warning naming the method (`Service.method`) and the error.
pub fn oneway_failed(method: &str, error: &ApplicationException) {
    tracing::warn!(method, error = %error, "oneway handler failed");
}

/// The error of a result struct that holds neither a value nor an exception
/// (a non-`void` method's reply must hold one).
pub fn missing_result(method: &str) -> ApplicationException {
    ApplicationException::new(
        crate::protocol::ApplicationErrorKind::MISSING_RESULT,
        format!("{method} failed: unknown result"),
    )
}
