//! One request frame in, its reply (if any) framed into the output buffer:
//! shared by pollers (inline handlers) and workers. Also what the sync and
//! async paths share: naming a panic.

use super::CONNECTION_READY_TO_RESET;
use crate::protocol::{
    ApplicationErrorKind, ApplicationException, InputProtocol, Limits, MessageHeader, Protocol,
    ProtocolVisitor, Protocols,
};
use crate::service::{write_exception, CallContext, ProcessError, Processed, Processor};
use crate::transport::{Dialect, Frame, FrameInfo, FrameStart, Headers, Transport};
use crate::wire::MessageType;
use crate::{ByteString, Splices};
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

/// What came of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    /// A reply was framed into the output.
    pub replied: bool,
    /// The connection must close once the output is flushed.
    pub close: bool,
    /// Something went wrong (counted as an error).
    pub error: bool,
}

impl Outcome {
    /// A reply was written.
    pub(super) const REPLIED: Outcome = Outcome {
        replied: true,
        close: false,
        error: false,
    };
    /// A oneway call: nothing to write.
    pub(super) const ONEWAY: Outcome = Outcome {
        replied: false,
        close: false,
        error: false,
    };
    /// No reply can be framed: close the connection.
    pub(super) const UNFRAMEABLE: Outcome = Outcome {
        replied: false,
        close: true,
        error: true,
    };
}

/// Serves `frame` with `processor`, appending the framed reply to `out`.
/// `splices`: the splices of `out` (large `Bytes` of the reply are put there
/// rather than copied, where the transport allows), or `None` to copy all.
/// `stopping`: the server's drain-hint flag (set by a shutdown's exit wait
/// or drain); a TTHeader reply framed once it is set carries
/// [`CONNECTION_READY_TO_RESET`] (as does one after which the connection
/// closes).
#[allow(clippy::too_many_arguments)]
pub(super) fn serve<P: Processor, T: Transport, X: Protocols>(
    processor: &P,
    protocols: &X,
    transport: &mut T,
    frame: Frame,
    peer: Option<SocketAddr>,
    limits: Limits,
    out: &mut BytesMut,
    mut splices: Option<&mut Splices>,
    stopping: &AtomicBool,
) -> Outcome {
    let Frame { payload, mut info } = frame;
    let mut ctx = CallContext::new(peer, std::mem::take(&mut info.headers));
    let ttheader = info.dialect == Dialect::TTHeader;
    let hint = ttheader && stopping.load(Ordering::Relaxed);
    if hint {
        let (key, value) = CONNECTION_READY_TO_RESET;
        info.headers.insert(key, value);
    }
    let mark = out.len();
    let start = match transport.begin(out, &info) {
        Ok(start) => start,
        Err(e) => {
            tracing::debug!(error = %e, "cannot frame a reply");
            out.truncate(mark);
            return Outcome::UNFRAMEABLE;
        }
    };
    let body = out.len();
    if !transport.can_splice(&info) {
        splices = None;
    }
    let splice_mark = splices.as_ref().map_or(0, |s| s.count());
    // Takes the reply (and its splices) back out of the output.
    let undo = |out: &mut BytesMut, splices: &mut Option<&mut Splices>| {
        out.truncate(mark);
        if let Some(splices) = splices {
            splices.truncate(splice_mark);
        }
    };
    let visit = Run {
        processor,
        ctx: &ctx,
        payload,
        limits,
        out: &mut *out,
        splices: splices.as_deref_mut(),
        body,
    };
    let Some(outcome) = protocols.visit(info.protocol, visit) else {
        tracing::debug!(protocol = ?info.protocol, "a protocol this server does not speak");
        undo(out, &mut splices);
        return Outcome::UNFRAMEABLE;
    };
    if !outcome.replied {
        undo(out, &mut splices);
        return outcome;
    }
    let mut start = start;
    let mut reply_headers = ctx.take_reply_headers_mut();
    // A reply after which the connection closes tells a TTHeader peer so
    // (what Kitex does), as does one whose handler was still running when
    // the shutdown began: a re-frame, on those paths only.
    let late_hint = ttheader && !hint && (outcome.close || stopping.load(Ordering::Relaxed));
    // (A reply framed with the hint and no headers of its own is done.)
    if late_hint || (hint && !reply_headers.is_empty()) {
        let (key, value) = CONNECTION_READY_TO_RESET;
        reply_headers.insert(key, value);
    }
    if !reply_headers.is_empty() && matches!(info.dialect, Dialect::Header | Dialect::TTHeader) {
        // The header comes before the reply, which is written by now: frame
        // it again with the handler's headers. Only replies with headers pay.
        match reframe(transport, &mut info, reply_headers, out, mark, start) {
            Some(moved) => {
                if let Some(splices) = &mut splices {
                    splices.shift(splice_mark, start.payload_offset(), moved.payload_offset());
                }
                start = moved;
            }
            None => {
                undo(out, &mut splices);
                return Outcome::UNFRAMEABLE;
            }
        }
    }
    if let Some(splices) = &splices {
        start = start.with_spliced(splices.bytes_since(splice_mark));
    }
    if let Err(e) = transport.finish(out, start, &info) {
        tracing::debug!(error = %e, "cannot frame a reply");
        undo(out, &mut splices);
        return Outcome::UNFRAMEABLE;
    }
    outcome
}

/// Frames the reply at `mark` of `out` (begun at `start`, written to the end
/// of `out`) again, now with `headers` in its header; returns where the reply
/// starts now. Headers that cannot be framed (over a limit) are dropped with a
/// warning and the reply goes without them; `None` when not even that works.
fn reframe<T: Transport>(
    transport: &mut T,
    info: &mut FrameInfo,
    headers: Headers,
    out: &mut BytesMut,
    mark: usize,
    start: FrameStart,
) -> Option<FrameStart> {
    // A copy (not `split_off`, which would share the pooled output block).
    let reply = out.get(start.payload_offset()..)?.to_vec();
    out.truncate(mark);
    info.headers = headers;
    let start = match transport.begin(out, info) {
        Ok(start) => start,
        Err(e) => {
            tracing::warn!(error = %e, "cannot send the reply headers; replying without them");
            out.truncate(mark);
            info.headers = Headers::new();
            match transport.begin(out, info) {
                Ok(start) => start,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot frame a reply");
                    out.truncate(mark);
                    return None;
                }
            }
        }
    };
    out.extend_from_slice(&reply);
    Some(start)
}

/// [`run`] as a [`ProtocolVisitor`], for the protocol the frame names.
struct Run<'a, P> {
    processor: &'a P,
    ctx: &'a CallContext,
    payload: Bytes,
    limits: Limits,
    out: &'a mut BytesMut,
    splices: Option<&'a mut Splices>,
    body: usize,
}

impl<P: Processor> ProtocolVisitor for Run<'_, P> {
    type Output = Outcome;

    fn visit<R: Protocol>(self) -> Outcome {
        run::<P, R>(
            self.processor,
            self.ctx,
            self.payload,
            self.limits,
            self.out,
            self.splices,
            self.body,
        )
    }
}

/// Decodes the message header, dispatches, and turns every failure into the
/// exception the caller should see.
fn run<P: Processor, R: Protocol>(
    processor: &P,
    ctx: &CallContext,
    payload: Bytes,
    limits: Limits,
    out: &mut BytesMut,
    mut splices: Option<&mut Splices>,
    body: usize,
) -> Outcome {
    let splice_mark = splices.as_ref().map_or(0, |s| s.count());
    let input = &mut R::reader(payload, limits);
    let header = match input.read_message_begin() {
        Ok(header) => header,
        Err(e) => {
            tracing::debug!(error = %e, "undecodable request");
            let exception = ApplicationException::new(
                ApplicationErrorKind::PROTOCOL_ERROR,
                format!("cannot decode the request: {e}"),
            );
            let written = write_exception(
                &mut R::writer(out, limits),
                &ByteString::default(),
                0,
                &exception,
            )
            .is_ok();
            return Outcome {
                replied: written,
                close: true,
                error: true,
            };
        }
    };
    let oneway = header.kind == MessageType::Oneway;
    if !matches!(header.kind, MessageType::Call | MessageType::Oneway) {
        let exception = ApplicationException::new(
            ApplicationErrorKind::INVALID_MESSAGE_TYPE,
            format!("a server takes calls, not {:?} messages", header.kind),
        );
        let written = write_exception(
            &mut R::writer(out, limits),
            &header.name,
            header.seqid,
            &exception,
        );
        return Outcome {
            replied: written.is_ok(),
            close: false,
            error: true,
        };
    }
    let _span = request_span(&header, ctx).entered();
    let result = {
        let mut output = match splices.as_deref_mut() {
            Some(splices) => R::splicing_writer(&mut *out, splices, limits),
            None => R::writer(&mut *out, limits),
        };
        ctx.trace().scope(|| {
            catch_unwind(AssertUnwindSafe(|| {
                processor.process(ctx, &header, input, &mut output)
            }))
        })
    };
    let (exception, close) = match result {
        Ok(Ok(Processed::Replied)) => return Outcome::REPLIED,
        Ok(Ok(Processed::Oneway)) => return Outcome::ONEWAY,
        Ok(Ok(Processed::UnknownMethod)) => (
            ApplicationException::new(
                ApplicationErrorKind::UNKNOWN_METHOD,
                format!("unknown method `{}`", header.name.as_str()),
            ),
            false,
        ),
        Ok(Err(ProcessError::Decode(e))) => {
            tracing::debug!(error = %e, "undecodable arguments");
            (
                ApplicationException::new(
                    ApplicationErrorKind::PROTOCOL_ERROR,
                    format!("cannot decode the arguments: {e}"),
                ),
                true,
            )
        }
        Ok(Err(ProcessError::Encode(e))) => {
            tracing::warn!(error = %e, "cannot encode a reply");
            (
                ApplicationException::new(
                    ApplicationErrorKind::INTERNAL_ERROR,
                    format!("cannot encode the reply: {e}"),
                ),
                false,
            )
        }
        Err(panic) => {
            let what = panic_message(&*panic);
            tracing::error!(method = header.name.as_str(), panic = %what, "handler panicked");
            (
                ApplicationException::new(
                    ApplicationErrorKind::INTERNAL_ERROR,
                    format!("internal error in `{}`", header.name.as_str()),
                ),
                false,
            )
        }
    };
    out.truncate(body);
    if let Some(splices) = &mut splices {
        splices.truncate(splice_mark);
    }
    let replied = !oneway
        && write_exception(
            &mut R::writer(out, limits),
            &header.name,
            header.seqid,
            &exception,
        )
        .is_ok();
    Outcome {
        replied,
        close,
        error: true,
    }
}

/// The span of one request (TRACE level): the method, the seqid, and the
/// call's place in its distributed trace (`trace_id`, `span_id`, and
/// `parent_span_id` when the caller sent a `traceparent`).
pub(super) fn request_span(header: &MessageHeader, ctx: &CallContext) -> tracing::Span {
    let trace = ctx.trace();
    let span = tracing::trace_span!(
        "request",
        method = header.name.as_str(),
        seqid = header.seqid,
        trace_id = %trace.trace_id(),
        span_id = %trace.span_id(),
        parent_span_id = tracing::field::Empty,
    );
    if let Some(parent) = ctx.trace_parent() {
        if !span.is_disabled() {
            span.record("parent_span_id", tracing::field::display(parent.span_id()));
        }
    }
    span
}

/// What a panic said, for the log.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}
