//! Tracing across processes: the W3C Trace Context `traceparent` header
//! (<https://www.w3.org/TR/trace-context/>), carried in THeader and
//! TTHeader string headers.
//!
//! - The server reads `traceparent` from each call's headers; the call gets
//!   a context of its own ([`CallContext::trace`](crate::service::CallContext::trace)):
//!   the caller's trace id and a new span id (or a new trace when the caller
//!   sent none, or an invalid one). The server's `request` span (a `tracing`
//!   span at TRACE level) records `trace_id`, `span_id` and, when the caller
//!   sent one, `parent_span_id`.
//! - While a handler runs, its context is [`TraceContext::current`]: a
//!   thread-local set around the call for sync handlers (inline or on
//!   workers), and around every poll of the call's future for async ones
//!   (what a tokio task-local does), so it is there after any `.await`.
//! - A call made from the handler continues the trace:
//!   [`outgoing_traceparent`] is the header value for it (the same trace id,
//!   a new span id). The blocking [`Client`](crate::client::Client) adds it
//!   to THeader and TTHeader calls that do not set `traceparent`
//!   themselves.
//!
//! ```
//! use thriftgen_runtime::trace::{outgoing_traceparent, TraceContext};
//!
//! let parent: TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
//!     .parse()
//!     .unwrap();
//! assert_eq!(outgoing_traceparent(), None); // no trace here
//! let header = parent.scope(|| outgoing_traceparent()).unwrap();
//! let sent: TraceContext = header.parse().unwrap();
//! assert_eq!(sent.trace_id(), parent.trace_id());
//! assert_ne!(sent.span_id(), parent.span_id());
//! ```

use crate::transport::Headers;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

/// The header that carries the caller's trace: `traceparent`.
pub const TRACEPARENT: &str = "traceparent";

/// A trace's id: 16 bytes, never all zero. Displayed as 32 lowercase hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

/// A span's id: 8 bytes, never all zero. Displayed as 16 lowercase hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub [u8; 8]);

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        buf[2 * i] = HEX[usize::from(b >> 4)];
        buf[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    // Only ASCII hex digits were written.
    f.write_str(std::str::from_utf8(&buf[..2 * bytes.len()]).unwrap_or_default())
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// Why a `traceparent` value was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceParseError(&'static str);

impl fmt::Display for TraceParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid traceparent: {}", self.0)
    }
}

impl std::error::Error for TraceParseError {}

/// One span of a distributed trace, as `traceparent` carries it: the trace
/// id, the span id, and the trace flags (bit 0: sampled).
///
/// [`parse`](TraceContext::parse) follows the W3C rules: version `ff` and
/// all-zero ids are invalid, hex digits are lowercase, version `00` is
/// exactly 55 characters, and a later version may carry more fields after
/// a `-` (they are ignored; what is sent on is version `00`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: SpanId,
    flags: u8,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceContext({self})")
    }
}

/// The `traceparent` value: `00-<trace id>-<span id>-<flags>`.
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }
}

impl FromStr for TraceContext {
    type Err = TraceParseError;

    fn from_str(s: &str) -> Result<TraceContext, TraceParseError> {
        TraceContext::parse(s)
    }
}

/// The sampled bit of the trace flags.
pub const SAMPLED: u8 = 0x01;

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

impl TraceContext {
    /// A context of these parts, or `None` when an id is all zero.
    pub fn new(trace_id: TraceId, span_id: SpanId, flags: u8) -> Option<TraceContext> {
        (trace_id.0 != [0; 16] && span_id.0 != [0; 8]).then_some(TraceContext {
            trace_id,
            span_id,
            flags,
        })
    }

    /// The first span of a new trace: random ids, flagged sampled.
    pub fn new_root() -> TraceContext {
        let high = random_nonzero();
        let low = random_nonzero();
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&high.to_be_bytes());
        trace_id[8..].copy_from_slice(&low.to_be_bytes());
        TraceContext {
            trace_id: TraceId(trace_id),
            span_id: SpanId(random_nonzero().to_be_bytes()),
            flags: SAMPLED,
        }
    }

    /// A span of the same trace under this one: the same trace id and
    /// flags, a new random span id. (The new span's parent is this span.)
    pub fn child(&self) -> TraceContext {
        TraceContext {
            span_id: SpanId(random_nonzero().to_be_bytes()),
            ..*self
        }
    }

    /// Parses a `traceparent` value (surrounding spaces and tabs allowed).
    ///
    /// # Errors
    ///
    /// When it is not a valid `traceparent`.
    pub fn parse(value: &str) -> Result<TraceContext, TraceParseError> {
        let s = value.trim_matches([' ', '\t']).as_bytes();
        if s.len() < 55 {
            return Err(TraceParseError("too short"));
        }
        let version = parse_hex::<1>(&s[..2]).ok_or(TraceParseError("bad version"))?[0];
        if version == 0xff {
            return Err(TraceParseError("version ff"));
        }
        if version == 0 && s.len() != 55 {
            return Err(TraceParseError("version 00 is 55 characters"));
        }
        if s.len() > 55 && s[55] != b'-' {
            return Err(TraceParseError("bad field separator"));
        }
        if s[2] != b'-' || s[35] != b'-' || s[52] != b'-' {
            return Err(TraceParseError("bad field separator"));
        }
        let trace_id = parse_hex::<16>(&s[3..35]).ok_or(TraceParseError("bad trace id"))?;
        let span_id = parse_hex::<8>(&s[36..52]).ok_or(TraceParseError("bad parent id"))?;
        let flags = parse_hex::<1>(&s[53..55]).ok_or(TraceParseError("bad trace flags"))?[0];
        if trace_id == [0; 16] {
            return Err(TraceParseError("all-zero trace id"));
        }
        if span_id == [0; 8] {
            return Err(TraceParseError("all-zero parent id"));
        }
        Ok(TraceContext {
            trace_id: TraceId(trace_id),
            span_id: SpanId(span_id),
            flags,
        })
    }

    /// The `traceparent` in `headers`, if there is a valid one.
    pub fn from_headers(headers: &Headers) -> Option<TraceContext> {
        let value = headers.get(TRACEPARENT)?;
        TraceContext::parse(std::str::from_utf8(value).ok()?).ok()
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id (in a `traceparent` header: the parent id of the
    /// receiver's span).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The trace flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the sampled flag is set.
    pub fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The `traceparent` value (the same as `to_string()`).
    pub fn to_traceparent(&self) -> String {
        self.to_string()
    }

    /// The context of the code running now: the call's, inside a handler
    /// (sync or async), or what [`scope`](TraceContext::scope) or
    /// [`in_scope`](TraceContext::in_scope) set.
    pub fn current() -> Option<TraceContext> {
        CURRENT.with(Cell::get)
    }

    /// Runs `f` with this as the [`current`](TraceContext::current)
    /// context (restoring the previous one after, even on a panic).
    pub fn scope<R>(self, f: impl FnOnce() -> R) -> R {
        let _restore = Restore(CURRENT.with(|c| c.replace(Some(self))));
        f()
    }

    /// `future` with this as the [`current`](TraceContext::current)
    /// context whenever it is polled: how a task spawned from a handler
    /// keeps the trace (`tokio::spawn(ctx.in_scope(fut))`).
    pub fn in_scope<F: Future>(self, future: F) -> InScope<F> {
        InScope {
            trace: self,
            future,
        }
    }
}

thread_local! {
    static CURRENT: Cell<Option<TraceContext>> = const { Cell::new(None) };
}

/// Puts the previous current context back.
struct Restore(Option<TraceContext>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0;
        CURRENT.with(|c| c.set(previous));
    }
}

/// A future polled with a [`TraceContext`] current (see
/// [`TraceContext::in_scope`]).
#[derive(Debug)]
pub struct InScope<F> {
    trace: TraceContext,
    future: F,
}

impl<F: Future> Future for InScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `self`, and `InScope` has no `Drop` and is `Unpin` only when `F`
        // is (the auto trait follows the field).
        let this = unsafe { self.get_unchecked_mut() };
        let trace = this.trace;
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        trace.scope(|| future.poll(cx))
    }
}

/// The `traceparent` value for a call made now, continuing the current
/// trace ([`TraceContext::current`]): the same trace id and flags, a new
/// span id. `None` outside any trace (nothing to send).
///
/// Clients call it for each THeader or TTHeader call that does not set
/// `traceparent` itself (see [`inject_traceparent`]).
pub fn outgoing_traceparent() -> Option<String> {
    TraceContext::current().map(|current| current.child().to_string())
}

/// Adds [`outgoing_traceparent`] to `headers` unless they have a
/// `traceparent` already, or there is no current trace.
pub fn inject_traceparent(headers: &mut Headers) {
    if headers.get(TRACEPARENT).is_none() {
        if let Some(value) = outgoing_traceparent() {
            headers.insert(TRACEPARENT, value);
        }
    }
}

/// A random non-zero `u64` (ids need to be unique, not secret): fastrand's
/// per-thread generator, which the client's balancers use too.
fn random_nonzero() -> u64 {
    fastrand::u64(1..)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_and_formats() {
        let ctx = TraceContext::parse(VALID).unwrap();
        assert_eq!(
            ctx.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(ctx.span_id().to_string(), "00f067aa0ba902b7");
        assert!(ctx.is_sampled());
        assert_eq!(ctx.to_string(), VALID);
        assert_eq!(
            TraceContext::parse(&format!(" {VALID}\t")).unwrap(),
            ctx,
            "optional whitespace"
        );
    }

    #[test]
    fn rejects_invalid_values() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            // version ff
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // all-zero ids
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // uppercase hex
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            // not hex
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
            // separators
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
            // version 00 with more
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            // a later version whose extra is not a field
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert!(TraceContext::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn later_versions_keep_the_known_fields() {
        let ctx = TraceContext::parse(
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever",
        )
        .unwrap();
        assert!(!ctx.is_sampled());
        assert_eq!(
            ctx.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        );
    }

    #[test]
    fn roots_and_children() {
        let root = TraceContext::new_root();
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
        assert_ne!(TraceContext::new_root().trace_id(), root.trace_id());
        assert_eq!(TraceContext::parse(&root.to_string()).unwrap(), root);
    }

    #[test]
    fn scope_sets_and_restores() {
        let a = TraceContext::new_root();
        let b = TraceContext::new_root();
        assert_eq!(TraceContext::current(), None);
        a.scope(|| {
            assert_eq!(TraceContext::current(), Some(a));
            b.scope(|| assert_eq!(TraceContext::current(), Some(b)));
            assert_eq!(TraceContext::current(), Some(a));
            let sent = TraceContext::parse(&outgoing_traceparent().unwrap()).unwrap();
            assert_eq!(sent.trace_id(), a.trace_id());
            let mut headers = Headers::new();
            headers.insert(TRACEPARENT, "kept");
            inject_traceparent(&mut headers);
            assert_eq!(headers.get_str(TRACEPARENT), Some("kept"));
        });
        assert_eq!(TraceContext::current(), None);
        let mut headers = Headers::new();
        inject_traceparent(&mut headers);
        assert!(headers.get(TRACEPARENT).is_none());
    }
}
