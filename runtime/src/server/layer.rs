//! Layers around a server's processor: middleware that sees every call
//! (its [`CallContext`]: headers, peer, trace; its method) before the
//! handler runs, may reject it, and sees how it ended and how long it took.
//!
//! A layer is a [`tower_layer::Layer`] over the processor:
//! [`Server::layer`](super::Server::layer) wraps a sync [`Processor`] or an
//! [`AsyncProcessor`] with it, the outermost layer added last (as in
//! tower). Any `Layer` whose output is again a processor works; the easy
//! way to write one is an [`Interceptor`], which works for both kinds of
//! processor at once, wrapped in an [`InterceptLayer`]:
//!
//! ```
//! use std::time::Duration;
//! use thriftgen_runtime::server::layer::{CallInfo, CallOutcome, InterceptLayer, Interceptor};
//! use thriftgen_runtime::ApplicationException;
//!
//! /// Logs slow calls.
//! struct Slow(Duration);
//!
//! impl Interceptor for Slow {
//!     type Guard = ();
//!
//!     fn before(&self, _call: &CallInfo<'_>) -> Result<(), ApplicationException> {
//!         Ok(())
//!     }
//!
//!     fn after(&self, call: &CallInfo<'_>, _: (), outcome: CallOutcome<'_>, took: Duration) {
//!         if took > self.0 {
//!             eprintln!("{} took {took:?}: {outcome:?}", call.method());
//!         }
//!     }
//! }
//!
//! let layer = InterceptLayer::new(Slow(Duration::from_millis(100)));
//! // Server::new(processor).layer(layer).bind("127.0.0.1:9090")
//! # drop(layer);
//! ```
//!
//! Two interceptors come with the runtime: [`TokenAuth`] (rejects calls
//! without the right token) and [`Metrics`] (counts and times calls per
//! method).

use crate::protocol::{
    ApplicationErrorKind, ApplicationException, InputProtocol, Limits, MessageHeader,
    OutputProtocol, Protocol,
};
use crate::service::{
    write_exception, AsyncProcessor, BoxFuture, CallContext, Dispatch, ProcessError, Processed,
    Processor,
};
use crate::trace::TraceContext;
use crate::transport::Headers;
use crate::wire::{MessageType, TType};
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub use tower_layer::{Identity, Layer, Stack};

/// What an [`Interceptor`] sees of a call.
#[derive(Clone, Copy, Debug)]
pub struct CallInfo<'a> {
    ctx: &'a CallContext,
    header: &'a MessageHeader,
}

impl<'a> CallInfo<'a> {
    /// The call's context (headers, peer, timeout, trace).
    pub fn ctx(&self) -> &'a CallContext {
        self.ctx
    }

    /// The call's THeader/TTHeader headers.
    pub fn headers(&self) -> &'a Headers {
        self.ctx.headers()
    }

    /// The client's address.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.ctx.peer()
    }

    /// The call's span of its distributed trace.
    pub fn trace(&self) -> TraceContext {
        self.ctx.trace()
    }

    /// The method's name as called (with its `service:` prefix when the
    /// layer is outside a [`Multiplexed`](crate::service::Multiplexed)).
    pub fn method(&self) -> &'a str {
        self.header.name.as_str()
    }

    /// The message header: name, type, seqid.
    pub fn header(&self) -> &'a MessageHeader {
        self.header
    }

    /// Whether the call is `oneway` (no reply goes back).
    pub fn is_oneway(&self) -> bool {
        self.header.kind == MessageType::Oneway
    }
}

/// How a call ended, as an [`Interceptor`] sees it.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallOutcome<'a> {
    /// A reply was written: a result or a declared exception (or the
    /// rejection of a layer inside this one).
    Replied,
    /// A `oneway` call ran.
    Oneway,
    /// No method of that name (the caller gets `UNKNOWN_METHOD`).
    UnknownMethod,
    /// The arguments could not be decoded or the reply encoded.
    Failed(&'a ProcessError),
    /// The handler panicked (the caller gets `INTERNAL_ERROR`).
    Panicked,
    /// An async call's future was dropped before it finished: its deadline
    /// passed, its peer went away, or the server stopped.
    Cancelled,
}

impl CallOutcome<'_> {
    /// Whether the call was answered normally (a reply or a oneway run).
    pub fn is_ok(&self) -> bool {
        matches!(self, CallOutcome::Replied | CallOutcome::Oneway)
    }
}

/// Middleware for sync and async processors alike, made a [`Layer`] by
/// [`InterceptLayer`].
///
/// [`before`](Interceptor::before) runs on the thread that dispatches the
/// call (the poller, or a worker), in the call's trace, before its
/// arguments are decoded; [`after`](Interceptor::after) runs once the
/// handler is done: for async calls, when the future finishes or is dropped,
/// on whichever thread that happens. Both must be quick and must not block.
pub trait Interceptor: Send + Sync + 'static {
    /// What `before` hands to `after` (a start time, a span, `()`).
    type Guard: Send + 'static;

    /// Looks at the call before the handler runs. `Err` rejects it: the
    /// handler does not run, the arguments are skipped, and the caller gets
    /// the exception (the connection is kept; a `oneway` call is dropped
    /// silently). `after` is not called for a rejected call.
    ///
    /// # Errors
    ///
    /// The exception the caller gets instead of a reply.
    fn before(&self, call: &CallInfo<'_>) -> Result<Self::Guard, ApplicationException>;

    /// Sees how the call ended and how long the handler took (from just
    /// after `before`). The default does nothing.
    fn after(
        &self,
        call: &CallInfo<'_>,
        guard: Self::Guard,
        outcome: CallOutcome<'_>,
        elapsed: Duration,
    ) {
        let _ = (call, guard, outcome, elapsed);
    }
}

impl<I: Interceptor> Interceptor for Arc<I> {
    type Guard = I::Guard;

    fn before(&self, call: &CallInfo<'_>) -> Result<I::Guard, ApplicationException> {
        (**self).before(call)
    }

    fn after(
        &self,
        call: &CallInfo<'_>,
        guard: I::Guard,
        outcome: CallOutcome<'_>,
        elapsed: Duration,
    ) {
        (**self).after(call, guard, outcome, elapsed);
    }
}

/// An [`Interceptor`] as a [`Layer`]: wraps a processor in
/// [`Intercepted`].
#[derive(Debug)]
pub struct InterceptLayer<I> {
    interceptor: Arc<I>,
}

impl<I> Clone for InterceptLayer<I> {
    fn clone(&self) -> InterceptLayer<I> {
        InterceptLayer {
            interceptor: Arc::clone(&self.interceptor),
        }
    }
}

impl<I: Interceptor> InterceptLayer<I> {
    /// The layer of `interceptor` (pass an `Arc` to keep a handle on it,
    /// to read [`Metrics`], say).
    pub fn new(interceptor: I) -> InterceptLayer<I> {
        InterceptLayer {
            interceptor: Arc::new(interceptor),
        }
    }
}

impl<I: Interceptor, P> Layer<P> for InterceptLayer<I> {
    type Service = Intercepted<I, P>;

    fn layer(&self, inner: P) -> Intercepted<I, P> {
        Intercepted {
            interceptor: Arc::clone(&self.interceptor),
            inner,
        }
    }
}

/// A processor wrapped by an [`Interceptor`]: a [`Processor`] when the
/// inner one is, an [`AsyncProcessor`] likewise.
#[derive(Debug)]
pub struct Intercepted<I, P> {
    interceptor: Arc<I>,
    inner: P,
}

impl<I, P> Intercepted<I, P> {
    /// The wrapped processor.
    pub fn inner(&self) -> &P {
        &self.inner
    }
}

/// Skips a rejected call's arguments and the message end.
fn skip_args<I: InputProtocol>(input: &mut I) -> Result<(), ProcessError> {
    input
        .skip(TType::Struct)
        .and_then(|()| input.read_message_end())
        .map_err(ProcessError::Decode)
}

fn outcome_of(result: &Result<Processed, ProcessError>) -> CallOutcome<'_> {
    match result {
        Ok(Processed::Replied) => CallOutcome::Replied,
        Ok(Processed::Oneway) => CallOutcome::Oneway,
        Ok(Processed::UnknownMethod) => CallOutcome::UnknownMethod,
        Err(e) => CallOutcome::Failed(e),
    }
}

impl<I: Interceptor, P: Processor> Processor for Intercepted<I, P> {
    fn process<In: InputProtocol, Out: OutputProtocol>(
        &self,
        ctx: &CallContext,
        header: &MessageHeader,
        input: &mut In,
        output: &mut Out,
    ) -> Result<Processed, ProcessError> {
        let call = CallInfo { ctx, header };
        let guard = match self.interceptor.before(&call) {
            Ok(guard) => guard,
            Err(exception) => {
                skip_args(input)?;
                if call.is_oneway() {
                    return Ok(Processed::Oneway);
                }
                write_exception(output, &header.name, header.seqid, &exception)
                    .map_err(ProcessError::Encode)?;
                return Ok(Processed::Replied);
            }
        };
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.inner.process(ctx, header, input, output)
        }));
        match result {
            Ok(result) => {
                self.interceptor
                    .after(&call, guard, outcome_of(&result), start.elapsed());
                result
            }
            Err(panic) => {
                self.interceptor
                    .after(&call, guard, CallOutcome::Panicked, start.elapsed());
                resume_unwind(panic)
            }
        }
    }
}

impl<I: Interceptor, P: AsyncProcessor> AsyncProcessor for Intercepted<I, P> {
    fn dispatch<R: Protocol>(
        &self,
        ctx: Arc<CallContext>,
        header: &MessageHeader,
        input: &mut R::Reader,
        limits: Limits,
    ) -> Result<Dispatch, ProcessError> {
        let call = CallInfo { ctx: &ctx, header };
        let guard = match self.interceptor.before(&call) {
            Ok(guard) => guard,
            Err(exception) => {
                skip_args(input)?;
                if call.is_oneway() {
                    return Ok(Dispatch::Oneway(Box::pin(async {})));
                }
                let mut buf = BytesMut::new();
                write_exception(
                    &mut R::writer(&mut buf, limits),
                    &header.name,
                    header.seqid,
                    &exception,
                )
                .map_err(ProcessError::Encode)?;
                return Ok(Dispatch::Reply(Box::pin(async move { Ok(buf) })));
            }
        };
        let start = Instant::now();
        let dispatched = catch_unwind(AssertUnwindSafe(|| {
            self.inner
                .dispatch::<R>(Arc::clone(&ctx), header, input, limits)
        }));
        let after = |outcome: CallOutcome<'_>, guard| {
            self.interceptor
                .after(&call, guard, outcome, start.elapsed());
        };
        match dispatched {
            Err(panic) => {
                after(CallOutcome::Panicked, guard);
                resume_unwind(panic)
            }
            Ok(Err(e)) => {
                after(CallOutcome::Failed(&e), guard);
                Err(e)
            }
            Ok(Ok(Dispatch::UnknownMethod)) => {
                after(CallOutcome::UnknownMethod, guard);
                Ok(Dispatch::UnknownMethod)
            }
            Ok(Ok(Dispatch::Reply(future))) => {
                let pending = After {
                    interceptor: Arc::clone(&self.interceptor),
                    ctx: Arc::clone(&ctx),
                    header: header.clone(),
                    guard,
                    start,
                };
                Ok(Dispatch::Reply(Box::pin(Watch {
                    future,
                    after: Some(pending),
                    classify: |result: &Result<BytesMut, ProcessError>| match result {
                        Ok(_) => CallOutcome::Replied,
                        Err(e) => CallOutcome::Failed(e),
                    },
                })))
            }
            Ok(Ok(Dispatch::Oneway(future))) => {
                let pending = After {
                    interceptor: Arc::clone(&self.interceptor),
                    ctx: Arc::clone(&ctx),
                    header: header.clone(),
                    guard,
                    start,
                };
                Ok(Dispatch::Oneway(Box::pin(Watch {
                    future,
                    after: Some(pending),
                    classify: |()| CallOutcome::Oneway,
                })))
            }
        }
    }
}

/// What an async call's [`Interceptor::after`] needs once its future ends.
struct After<I: Interceptor> {
    interceptor: Arc<I>,
    ctx: Arc<CallContext>,
    header: MessageHeader,
    guard: I::Guard,
    start: Instant,
}

impl<I: Interceptor> After<I> {
    fn call(self, outcome: CallOutcome<'_>) {
        let call = CallInfo {
            ctx: &self.ctx,
            header: &self.header,
        };
        self.interceptor
            .after(&call, self.guard, outcome, self.start.elapsed());
    }
}

/// An async call's future, telling its interceptor how it ended: done,
/// panicked, or dropped unfinished.
struct Watch<I: Interceptor, T: 'static> {
    future: BoxFuture<T>,
    after: Option<After<I>>,
    classify: for<'a> fn(&'a T) -> CallOutcome<'a>,
}

// Nothing of it is pinned in place (the future is boxed).
impl<I: Interceptor, T: 'static> Unpin for Watch<I, T> {}

impl<I: Interceptor, T: 'static> Future for Watch<I, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                if let Some(after) = this.after.take() {
                    after.call((this.classify)(&output));
                }
                Poll::Ready(output)
            }
            Err(panic) => {
                if let Some(after) = this.after.take() {
                    after.call(CallOutcome::Panicked);
                }
                resume_unwind(panic)
            }
        }
    }
}

impl<I: Interceptor, T: 'static> Drop for Watch<I, T> {
    fn drop(&mut self) {
        if let Some(after) = self.after.take() {
            after.call(CallOutcome::Cancelled);
        }
    }
}

// ---------------------------------------------------------------------------
// Auth on a header.
// ---------------------------------------------------------------------------

/// Rejects calls that do not carry the right token: the string header
/// `header` (THeader or TTHeader) equal to the token, or, for TTHeader, the
/// ACL token (`INFO_ACL_TOKEN`, what Kitex clients send) equal to it. A
/// rejected call gets `ApplicationException(UNKNOWN)` saying
/// `` unauthenticated call of `method` `` and its handler does not run;
/// the connection is kept. Calls over transports without headers
/// (buffered, framed) are always rejected.
///
/// ```
/// use thriftgen_runtime::server::layer::{InterceptLayer, TokenAuth};
///
/// let auth = InterceptLayer::new(TokenAuth::new("authorization", "Bearer s3cret"));
/// // Server::new(processor).layer(auth).bind(...)
/// # drop(auth);
/// ```
#[derive(Clone)]
pub struct TokenAuth {
    header: Bytes,
    token: Bytes,
    kind: ApplicationErrorKind,
}

impl fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the token.
        f.debug_struct("TokenAuth")
            .field("header", &String::from_utf8_lossy(&self.header))
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl TokenAuth {
    /// Accepts calls whose header `header` is `token`.
    pub fn new(header: impl AsRef<[u8]>, token: impl AsRef<[u8]>) -> TokenAuth {
        TokenAuth {
            header: Bytes::copy_from_slice(header.as_ref()),
            token: Bytes::copy_from_slice(token.as_ref()),
            kind: ApplicationErrorKind::UNKNOWN,
        }
    }

    /// The same, rejecting with exceptions of `kind` (default
    /// [`ApplicationErrorKind::UNKNOWN`]).
    pub fn with_kind(mut self, kind: ApplicationErrorKind) -> TokenAuth {
        self.kind = kind;
        self
    }

    fn accepts(&self, headers: &Headers) -> bool {
        let matches = |given: Option<&[u8]>| given.is_some_and(|g| same(g, &self.token));
        matches(headers.get(&self.header)) || matches(headers.acl_token())
    }
}

/// Compares in time that depends on the lengths only, not on where the
/// bytes first differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Interceptor for TokenAuth {
    type Guard = ();

    fn before(&self, call: &CallInfo<'_>) -> Result<(), ApplicationException> {
        if self.accepts(call.headers()) {
            return Ok(());
        }
        tracing::debug!(method = call.method(), peer = ?call.peer(), "call rejected: no valid token");
        Err(ApplicationException::new(
            self.kind,
            format!("unauthenticated call of `{}`", call.method()),
        ))
    }
}

// ---------------------------------------------------------------------------
// Metrics.
// ---------------------------------------------------------------------------

/// What [`Metrics`] counted for one method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MethodStats {
    /// Calls that reached the handler.
    pub calls: u64,
    /// Of those, the ones that did not end well (unknown method, decoding
    /// or encoding failed, panic, cancelled).
    pub failed: u64,
    /// The handlers' time in all.
    pub total_time: Duration,
    /// The longest call.
    pub max_time: Duration,
}

/// Counts and times calls per method. Keep an `Arc` of it to read the
/// counters while the server runs:
///
/// ```
/// use std::sync::Arc;
/// use thriftgen_runtime::server::layer::{InterceptLayer, Metrics};
///
/// let metrics = Arc::new(Metrics::default());
/// let layer = InterceptLayer::new(Arc::clone(&metrics));
/// // Server::new(processor).layer(layer).bind(...)
/// assert!(metrics.snapshot().is_empty());
/// # drop(layer);
/// ```
#[derive(Debug, Default)]
pub struct Metrics {
    methods: Mutex<BTreeMap<String, MethodStats>>,
}

impl Metrics {
    /// The counters so far, by method name.
    pub fn snapshot(&self) -> BTreeMap<String, MethodStats> {
        self.methods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The counters of `method` so far.
    pub fn method(&self, method: &str) -> MethodStats {
        self.methods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(method)
            .copied()
            .unwrap_or_default()
    }
}

impl Interceptor for Metrics {
    type Guard = ();

    fn before(&self, _call: &CallInfo<'_>) -> Result<(), ApplicationException> {
        Ok(())
    }

    fn after(&self, call: &CallInfo<'_>, (): (), outcome: CallOutcome<'_>, elapsed: Duration) {
        let mut methods = self.methods.lock().unwrap_or_else(|e| e.into_inner());
        let stats = match methods.get_mut(call.method()) {
            Some(stats) => stats,
            None => methods.entry(call.method().to_string()).or_default(),
        };
        stats.calls += 1;
        stats.failed += u64::from(!outcome.is_ok());
        stats.total_time += elapsed;
        stats.max_time = stats.max_time.max(elapsed);
    }
}
