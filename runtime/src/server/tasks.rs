//! Async handlers: an [`AsyncProcessor`]'s calls as tasks on the user's
//! tokio runtime, while the sockets stay on the pollers.
//!
//! A poller decodes the request and its arguments ([`AsyncProcessor::dispatch`]),
//! spawns the handler's future wrapped so that a panic becomes
//! `INTERNAL_ERROR` and however the task ends the poller hears of it, and
//! keeps an [`AsyncCall`] in the connection's queue: the task's
//! [`AbortHandle`] (the peer went away, the deadline passed, the server
//! stopped: the future is dropped), the request's frame information and
//! the [`CallContext`] whose reply headers go into the reply's frame. The
//! task sends its unframed reply back through the poller's inbox; the poller
//! frames it in the connection's dialect, in request order.
//!
//! Deadlines are the poller's timers, not tokio's: the caller gets its
//! answer on time even from a handler stuck in a blocking call, and the
//! user's runtime needs no timer driver.

use super::call::{panic_message, request_span, Outcome};
use super::engine::{Done, Engine, Finished, Pending, ReplyTo, Start, Started};
use super::poller::Inbox;
use super::{Permit, ServerOptions, CONNECTION_READY_TO_RESET};
use crate::protocol::{
    ApplicationErrorKind, ApplicationException, InputProtocol, Limits, Protocol, ProtocolVisitor,
    Protocols,
};
use crate::service::{
    write_exception, AsyncProcessor, BoxFuture, CallContext, Dispatch, ProcessError,
};
use crate::trace::TraceContext;
use crate::transport::{Bytes, Dialect, Frame, FrameInfo, Headers, Transport};
use crate::wire::MessageType;
use crate::ByteString;
use bytes::BytesMut;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tracing::Instrument;

/// The async engine: an [`AsyncProcessor`] and the runtime its calls run on.
#[derive(Debug)]
pub(super) struct Tasks<A> {
    processor: A,
    runtime: Handle,
    call_timeout: Option<Duration>,
    first_poll_inline: bool,
}

impl<A> Tasks<A> {
    pub fn new(processor: A, runtime: Handle, options: &ServerOptions) -> Tasks<A> {
        Tasks {
            processor,
            runtime,
            call_timeout: options.call_timeout,
            first_poll_inline: options.first_poll_inline,
        }
    }
}

impl<A: AsyncProcessor> Engine for Tasks<A> {
    const HANDS_OFF: bool = true;
    const CANCELS_ON_CLOSE: bool = true;

    fn start<T: Transport, X: Protocols>(&self, call: Start<'_, T, X>) -> Started {
        let Frame { payload, mut info } = call.frame;
        let ctx = Arc::new(CallContext::new(
            Some(call.peer),
            std::mem::take(&mut info.headers),
        ));
        let visit = Dispatcher {
            processor: &self.processor,
            ctx: &ctx,
            payload,
            limits: call.limits,
        };
        let Some(dispatched) = call.protocols.visit(info.protocol, visit) else {
            tracing::debug!(protocol = ?info.protocol, "a protocol this server does not speak");
            return Started::Served(Outcome::UNFRAMEABLE);
        };
        // The earlier of the caller's deadline and the server's; a zero
        // timeout is no timeout (what Kitex sends when none is set).
        let timeout = match (ctx.timeout().filter(|t| !t.is_zero()), self.call_timeout) {
            (Some(caller), Some(server)) => Some(caller.min(server)),
            (caller, server) => caller.or(server),
        };
        let mut async_call = AsyncCall {
            info,
            ctx,
            name: dispatched.name,
            seqid: dispatched.seqid,
            oneway: dispatched.oneway,
            write_exception: dispatched.write_exception,
            limits: call.limits,
            deadline: None,
            timeout,
            task: None,
        };
        let run = if self.first_poll_inline {
            first_poll(
                &self.runtime,
                dispatched.run,
                &async_call.name,
                &dispatched.span,
                async_call.ctx.trace(),
            )
        } else {
            dispatched.run
        };
        match run {
            Run::Now(completion) => Started::Pending(Pending::task(async_call, Some(completion))),
            run => {
                async_call.deadline = timeout.map(|t| call.now + t);
                async_call.task = Some(spawn(
                    &self.runtime,
                    run,
                    Report::new(call.reply_to, async_call.name.clone()),
                    Permit::new(call.shared),
                    dispatched.span,
                    async_call.ctx.trace(),
                ));
                Started::Pending(Pending::task(async_call, None))
            }
        }
    }
}

/// What an async call came to, as its poller frames it.
#[derive(Debug)]
pub(super) enum Completion {
    /// The reply message, encoded, unframed.
    Reply(BytesMut),
    /// A oneway call ran.
    Ran,
    /// The call failed: the caller gets `exception` (unless the call is
    /// oneway); `close` closes the connection after it.
    Failed {
        exception: ApplicationException,
        close: bool,
    },
    /// Dropped without an answer: the peer went away.
    Dropped,
}

impl Completion {
    fn failed(kind: ApplicationErrorKind, message: String) -> Completion {
        Completion::Failed {
            exception: ApplicationException::new(kind, message),
            close: false,
        }
    }
}

/// Writes an exception message with a call's protocol: what the poller
/// needs of the protocol after the call's generic code is gone.
type ExceptionWriter = fn(&mut BytesMut, &ByteString, i32, &ApplicationException, Limits) -> bool;

fn write_exception_as<R: Protocol>(
    out: &mut BytesMut,
    name: &ByteString,
    seqid: i32,
    exception: &ApplicationException,
    limits: Limits,
) -> bool {
    write_exception(&mut R::writer(out, limits), name, seqid, exception).is_ok()
}

/// An async call in its connection's queue.
pub(super) struct AsyncCall {
    /// How the request was framed, and so its reply.
    info: FrameInfo,
    /// The server's clone: the reply headers are taken from it.
    ctx: Arc<CallContext>,
    name: ByteString,
    seqid: i32,
    oneway: bool,
    write_exception: ExceptionWriter,
    limits: Limits,
    deadline: Option<Instant>,
    timeout: Option<Duration>,
    /// The task, while it runs.
    task: Option<AbortHandle>,
}

impl fmt::Debug for AsyncCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncCall")
            .field("name", &self.name)
            .field("seqid", &self.seqid)
            .field("oneway", &self.oneway)
            .field("deadline", &self.deadline)
            .field("running", &self.task.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for AsyncCall {
    /// A call dropped unfinished (its connection closed, the server
    /// stopped) drops its future.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl AsyncCall {
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The task ended by itself: nothing to abort any more.
    pub fn forget_task(&mut self) {
        self.task = None;
    }

    /// The deadline passed: drops the future, and answers in its place.
    pub fn time_out(&mut self) -> Completion {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let ms = self.timeout.unwrap_or_default().as_millis();
        let method = self.name.as_str();
        tracing::warn!(method, timeout_ms = ms as u64, "call timed out");
        Completion::failed(
            ApplicationErrorKind::INTERNAL_ERROR,
            format!("`{method}` timed out after {ms} ms"),
        )
    }

    /// The peer went away: drops a two-way call's future (its reply has
    /// nowhere to go); `None` for a oneway call, which runs on.
    pub fn cancel(&mut self) -> Option<Completion> {
        if self.oneway {
            return None;
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        Some(Completion::Dropped)
    }

    /// Frames what the call came to into `out`, in the request's dialect,
    /// with the reply headers the handler set; `closing`: the server is
    /// shutting down, so a TTHeader reply carries the drain hint.
    pub fn emit<T: Transport>(
        mut self,
        completion: Completion,
        transport: &mut T,
        out: &mut BytesMut,
        closing: bool,
    ) -> Outcome {
        match completion {
            Completion::Reply(body) => {
                if self.frame(transport, out, closing, |out| {
                    out.extend_from_slice(&body);
                    true
                }) {
                    Outcome::REPLIED
                } else {
                    Outcome::UNFRAMEABLE
                }
            }
            Completion::Ran | Completion::Dropped => Outcome::ONEWAY,
            Completion::Failed { exception, close } => {
                if self.oneway {
                    return Outcome {
                        replied: false,
                        close,
                        error: true,
                    };
                }
                let (write, name, seqid, limits) = (
                    self.write_exception,
                    self.name.clone(),
                    self.seqid,
                    self.limits,
                );
                if self.frame(transport, out, closing || close, |out| {
                    write(out, &name, seqid, &exception, limits)
                }) {
                    Outcome {
                        replied: true,
                        close,
                        error: true,
                    }
                } else {
                    Outcome::UNFRAMEABLE
                }
            }
        }
    }

    /// Frames what `write` writes. The handler is done, so its reply
    /// headers are known before the frame begins (no re-framing); headers
    /// that cannot be framed are dropped with a warning. `closing`: the
    /// connection is closing, so a TTHeader reply carries
    /// [`CONNECTION_READY_TO_RESET`]. False when no frame can be made; `out`
    /// is then as it was.
    fn frame<T: Transport>(
        &mut self,
        transport: &mut T,
        out: &mut BytesMut,
        closing: bool,
        write: impl FnOnce(&mut BytesMut) -> bool,
    ) -> bool {
        let mark = out.len();
        let headers = self.ctx.take_reply_headers();
        if !headers.is_empty() && matches!(self.info.dialect, Dialect::Header | Dialect::TTHeader) {
            self.info.headers = headers;
        }
        if closing && self.info.dialect == Dialect::TTHeader {
            let (key, value) = CONNECTION_READY_TO_RESET;
            self.info.headers.insert(key, value);
        }
        let start = match transport.begin(out, &self.info) {
            Ok(start) => start,
            Err(e) if !self.info.headers.is_empty() => {
                tracing::warn!(error = %e, "cannot send the reply headers; replying without them");
                out.truncate(mark);
                self.info.headers = Headers::new();
                match transport.begin(out, &self.info) {
                    Ok(start) => start,
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot frame a reply");
                        out.truncate(mark);
                        return false;
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot frame a reply");
                out.truncate(mark);
                return false;
            }
        };
        if !write(out) {
            out.truncate(mark);
            return false;
        }
        if let Err(e) = transport.finish(out, start, &self.info) {
            tracing::debug!(error = %e, "cannot frame a reply");
            out.truncate(mark);
            return false;
        }
        true
    }
}

/// What became of a request on the poller.
struct Dispatched {
    name: ByteString,
    seqid: i32,
    oneway: bool,
    write_exception: ExceptionWriter,
    span: tracing::Span,
    run: Run,
}

/// What is left to run.
enum Run {
    /// Answered already (an unknown method, bad arguments...).
    Now(Completion),
    Reply(BoxFuture<Result<BytesMut, ProcessError>>),
    Oneway(BoxFuture<()>),
}

/// Decodes a request with the protocol its frame names and dispatches it.
struct Dispatcher<'a, A> {
    processor: &'a A,
    ctx: &'a Arc<CallContext>,
    payload: Bytes,
    limits: Limits,
}

impl<A: AsyncProcessor> ProtocolVisitor for Dispatcher<'_, A> {
    type Output = Dispatched;

    fn visit<R: Protocol>(self) -> Dispatched {
        let write_exception: ExceptionWriter = write_exception_as::<R>;
        let now = |name, seqid, kind, message, close| Dispatched {
            name,
            seqid,
            oneway: false,
            write_exception,
            span: tracing::Span::none(),
            run: Run::Now(Completion::Failed {
                exception: ApplicationException::new(kind, message),
                close,
            }),
        };
        let input = &mut R::reader(self.payload, self.limits);
        let header = match input.read_message_begin() {
            Ok(header) => header,
            Err(e) => {
                tracing::debug!(error = %e, "undecodable request");
                return now(
                    ByteString::default(),
                    0,
                    ApplicationErrorKind::PROTOCOL_ERROR,
                    format!("cannot decode the request: {e}"),
                    true,
                );
            }
        };
        if !matches!(header.kind, MessageType::Call | MessageType::Oneway) {
            let message = format!("a server takes calls, not {:?} messages", header.kind);
            return now(
                header.name,
                header.seqid,
                ApplicationErrorKind::INVALID_MESSAGE_TYPE,
                message,
                false,
            );
        }
        let span = request_span(&header, self.ctx);
        let result = {
            let _entered = span.enter();
            self.ctx.trace().scope(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    self.processor
                        .dispatch::<R>(Arc::clone(self.ctx), &header, input, self.limits)
                }))
            })
        };
        let mut oneway = header.kind == MessageType::Oneway;
        let failed = |kind, message| Run::Now(Completion::failed(kind, message));
        let run = match result {
            Ok(Ok(Dispatch::Reply(future))) => Run::Reply(future),
            Ok(Ok(Dispatch::Oneway(future))) => {
                oneway = true;
                Run::Oneway(future)
            }
            Ok(Ok(Dispatch::UnknownMethod)) => failed(
                ApplicationErrorKind::UNKNOWN_METHOD,
                format!("unknown method `{}`", header.name.as_str()),
            ),
            Ok(Err(ProcessError::Decode(e))) => {
                tracing::debug!(error = %e, "undecodable arguments");
                Run::Now(Completion::Failed {
                    exception: ApplicationException::new(
                        ApplicationErrorKind::PROTOCOL_ERROR,
                        format!("cannot decode the arguments: {e}"),
                    ),
                    close: true,
                })
            }
            Ok(Err(ProcessError::Encode(e))) => {
                tracing::warn!(error = %e, "cannot encode a reply");
                failed(
                    ApplicationErrorKind::INTERNAL_ERROR,
                    format!("cannot encode the reply: {e}"),
                )
            }
            Err(panic) => {
                let what = panic_message(&*panic);
                tracing::error!(method = header.name.as_str(), panic = %what, "handler panicked");
                failed(
                    ApplicationErrorKind::INTERNAL_ERROR,
                    format!("internal error in `{}`", header.name.as_str()),
                )
            }
        };
        Dispatched {
            name: header.name,
            seqid: header.seqid,
            oneway,
            write_exception,
            span,
            run,
        }
    }
}

/// Tells the poller how a task ended, exactly once: by [`Report::send`], or
/// when the task is dropped unfinished (aborted, or its runtime shut down),
/// as a failure the poller answers unless it settled the call already.
struct Report {
    inbox: Option<Arc<Inbox>>,
    slot: usize,
    generation: u64,
    seq: u64,
    method: ByteString,
}

impl Report {
    fn new(to: ReplyTo<'_>, method: ByteString) -> Report {
        Report {
            inbox: Some(Arc::clone(to.inbox)),
            slot: to.slot,
            generation: to.generation,
            seq: to.seq,
            method,
        }
    }

    fn send(mut self, completion: Completion) {
        self.push(completion);
    }

    fn push(&mut self, completion: Completion) {
        if let Some(inbox) = self.inbox.take() {
            inbox.push_done(Done {
                slot: self.slot,
                generation: self.generation,
                seq: self.seq,
                finished: Finished::Completed(completion),
            });
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if self.inbox.is_some() {
            let message = format!("`{}` was dropped before it finished", self.method.as_str());
            self.push(Completion::failed(
                ApplicationErrorKind::INTERNAL_ERROR,
                message,
            ));
        }
    }
}

/// Polls the call's future once on the poller, in `runtime`'s context (so
/// tokio's timers and I/O may be used), and returns what it came to: a
/// handler that answers without waiting for anything is answered here, with
/// no hop to a tokio worker and back; one that waits is spawned as it is,
/// and tokio polls it again with the task's own waker.
fn first_poll(
    runtime: &Handle,
    run: Run,
    method: &ByteString,
    span: &tracing::Span,
    trace: TraceContext,
) -> Run {
    let _runtime = runtime.enter();
    let _span = span.enter();
    trace.scope(|| first_poll_now(run, method))
}

fn first_poll_now(run: Run, method: &ByteString) -> Run {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match run {
        Run::Reply(mut future) => {
            match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
                Ok(Poll::Ready(Ok(body))) => Run::Now(Completion::Reply(body)),
                Ok(Poll::Ready(Err(e))) => {
                    tracing::warn!(error = %e, "cannot encode a reply");
                    Run::Now(Completion::failed(
                        ApplicationErrorKind::INTERNAL_ERROR,
                        e.to_string(),
                    ))
                }
                Ok(Poll::Pending) => Run::Reply(future),
                Err(panic) => Run::Now(panicked(method, &*panic)),
            }
        }
        Run::Oneway(mut future) => {
            match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
                Ok(Poll::Ready(())) => Run::Now(Completion::Ran),
                Ok(Poll::Pending) => Run::Oneway(future),
                Err(panic) => Run::Now(panicked(method, &*panic)),
            }
        }
        now @ Run::Now(_) => now,
    }
}

/// Spawns the call's future on `runtime`; returns the handle that drops it.
/// (Not generic over the protocol, so the task's type is `'static`.)
fn spawn(
    runtime: &Handle,
    run: Run,
    report: Report,
    permit: Permit,
    span: tracing::Span,
    trace: TraceContext,
) -> AbortHandle {
    let task = async move {
        let completion = match run {
            Run::Reply(future) => match CatchUnwind(future).await {
                Ok(Ok(body)) => Completion::Reply(body),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot encode a reply");
                    Completion::failed(ApplicationErrorKind::INTERNAL_ERROR, e.to_string())
                }
                Err(panic) => panicked(&report.method, &*panic),
            },
            Run::Oneway(future) => match CatchUnwind(future).await {
                Ok(()) => Completion::Ran,
                Err(panic) => panicked(&report.method, &*panic),
            },
            Run::Now(completion) => completion,
        };
        // Room for another call before the poller hears of this one.
        drop(permit);
        report.send(completion);
    };
    runtime
        .spawn(trace.in_scope(task).instrument(span))
        .abort_handle()
}

fn panicked(method: &ByteString, panic: &(dyn std::any::Any + Send)) -> Completion {
    let what = panic_message(panic);
    let method = method.as_str();
    tracing::error!(method, panic = %what, "handler panicked");
    Completion::failed(
        ApplicationErrorKind::INTERNAL_ERROR,
        format!("internal error in `{method}`"),
    )
}

/// A future whose panic is caught and returned: the handler's panic becomes
/// its caller's `INTERNAL_ERROR`, and the task still reports.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
