//! Transports: how messages are cut out of a byte stream and how replies are
//! framed. Pure functions over buffers, never a socket ("sans-IO"): the
//! server and the client read bytes into a [`BytesMut`] and ask a
//! [`Transport`] for whole frames; they encode replies straight into an
//! output [`BytesMut`] between [`Transport::begin`] and [`Transport::finish`].
//!
//! Four framings ("dialects") are spoken:
//!
//! - [`Buffered`]: no framing at all; the end of a message is found by walking
//!   its encoding ([`message_len`]).
//! - [`Framed`]: a 4-byte big-endian length, then the message.
//! - [`Header`]: Apache Thrift's and fbthrift's THeader (magic `0x0FFF`,
//!   varint fields, zlib transform, byte-string key/value headers), as
//!   `doc/specs/HeaderFormat.md` defines it.
//! - [`TTHeader`]: CloudWeGo Kitex's TTHeader (magic `0x1000`, fixed-width
//!   fields, byte-string and integer key/value headers, an ACL token), with
//!   the message inside either bare or framed (Kitex's `TTHeaderFramed`,
//!   Volo's default codec).
//!
//! A server does not know in advance which one a connection speaks: [`Detect`]
//! looks at the first bytes once and then delegates to the right one.
//!
//! Every decoder is safe against hostile bytes: lengths are checked against
//! [`TransportLimits`] and against the bytes really there before they are
//! used, nothing is allocated on the word of the wire, and nothing panics.

mod buffered;
mod detect;
mod envelope;
mod error;
mod framed;
mod header;
mod headers;
mod ttheader;
mod zlib;

pub use buffered::{message_len, Buffered, MessageScanner, MAX_MESSAGE_DEPTH};
pub use bytes::{Bytes, BytesMut};
pub use detect::{detect_dialect, AnyTransport, Detect};
pub use error::{TransportError, TransportErrorKind};
pub use framed::Framed;
pub use header::Header;
pub use headers::{int_keys, Headers, IntoHeaderBytes};
pub use ttheader::TTHeader;

/// The protocol inside a frame (defined with the protocols; the framings
/// only carry it).
pub use crate::protocol::ProtocolId;

// Told from the bytes of a message, which is the framings' business.
impl ProtocolId {
    /// The protocol of an unframed message, from its first byte: `0x82` is
    /// compact, `0x80` strict binary, `[` JSON, and any other first byte
    /// below `0x80` the start of an old non-strict binary message's name
    /// length. (A name length starting with `[`, `0x5b`, would be over a
    /// gigabyte, beyond any frame limit.)
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::UnsupportedProtocol`] for any other first byte.
    pub fn of_message(first_byte: u8) -> Result<ProtocolId, TransportError> {
        match first_byte {
            0x82 => Ok(ProtocolId::Compact),
            b'[' => Ok(ProtocolId::Json),
            // 0x80 strict, below it a non-strict name length.
            0x00..=0x80 => Ok(ProtocolId::Binary),
            other => Err(TransportError::new(
                TransportErrorKind::UnsupportedProtocol,
                format!("not a binary, compact or JSON message (first byte {other:#04x})"),
            )),
        }
    }
}

/// The framing a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Unframed messages, one after another.
    Buffered,
    /// A 4-byte big-endian length before each message.
    Framed,
    /// Apache Thrift / fbthrift THeader (magic `0x0FFF`).
    Header,
    /// CloudWeGo Kitex TTHeader (magic `0x1000`).
    TTHeader,
}

/// A transform applied to a THeader (or TTHeader) payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    /// zlib compression (transform id 1).
    Zlib,
}

impl Transform {
    /// The transform's id on the wire.
    pub const fn id(self) -> u8 {
        match self {
            Transform::Zlib => 1,
        }
    }

    /// The transform with wire id `id`.
    ///
    /// # Errors
    ///
    /// [`TransportErrorKind::UnsupportedTransform`] for ids other than zlib's
    /// (HMAC and snappy are defined by the spec but not supported).
    pub fn from_id(id: u64) -> Result<Transform, TransportError> {
        match id {
            1 => Ok(Transform::Zlib),
            other => Err(TransportError::new(
                TransportErrorKind::UnsupportedTransform,
                format!("unsupported transform {other}"),
            )),
        }
    }
}

/// What a reply must repeat of the request's frame, and what a client chooses
/// for a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// The framing.
    pub dialect: Dialect,
    /// The protocol of the payload.
    pub protocol: ProtocolId,
    /// THeader/TTHeader `FLAGS` (0 otherwise).
    pub flags: u16,
    /// THeader/TTHeader `SEQUENCE NUMBER` (0 otherwise).
    pub seq_id: u32,
    /// THeader transforms, e.g. zlib (a reply uses the request's transforms).
    pub transforms: Vec<Transform>,
    /// THeader/TTHeader key/value headers (empty otherwise).
    pub headers: Headers,
    /// TTHeader only: the payload is itself a framed message, a 4-byte
    /// big-endian length and then the message (Kitex's `TTHeaderFramed`, what
    /// Volo's default codec `TTHeader<Framed<Binary>>` sends). A decoder sets
    /// it when it found that shape, and a reply repeats it; `false`, the
    /// default, is the bare message. Other dialects ignore it.
    pub framed_payload: bool,
}

impl FrameInfo {
    /// Plain frame information: no flags, sequence number 0, no transforms,
    /// no headers. Allocates nothing.
    pub fn new(dialect: Dialect, protocol: ProtocolId) -> FrameInfo {
        FrameInfo {
            dialect,
            protocol,
            flags: 0,
            seq_id: 0,
            transforms: Vec::new(),
            headers: Headers::new(),
            framed_payload: false,
        }
    }
}

/// One whole message taken off the wire.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The message, ready for a protocol reader: a slice of the input buffer
    /// unless a transform (zlib) had to produce new bytes.
    pub payload: Bytes,
    /// How the message was framed.
    pub info: FrameInfo,
}

/// Hard limits on what a transport accepts and produces. On by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportLimits {
    /// The longest frame (for [`Buffered`], the longest message), not counting
    /// a 4-byte length prefix.
    pub max_frame_len: usize,
    /// The longest THeader/TTHeader header (the part `HEADER SIZE` counts).
    pub max_header_len: usize,
    /// The most bytes a compressed payload may inflate to.
    pub max_decompressed_len: usize,
}

impl TransportLimits {
    /// Frames up to 16 MiB, headers up to 64 KiB, payloads inflating to at
    /// most 16 MiB.
    pub const DEFAULT: TransportLimits = TransportLimits {
        max_frame_len: 16 << 20,
        max_header_len: 64 << 10,
        max_decompressed_len: 16 << 20,
    };
}

impl Default for TransportLimits {
    fn default() -> TransportLimits {
        TransportLimits::DEFAULT
    }
}

/// Where a frame begun with [`Transport::begin`] starts in the output buffer,
/// to be handed back to [`Transport::finish`].
#[derive(Clone, Copy, Debug)]
pub struct FrameStart {
    /// Offset of the frame's first byte (its length prefix, if it has one).
    frame: usize,
    /// Offset of the payload's first byte.
    payload: usize,
    /// How many times `finish` deflates the payload (THeader/TTHeader zlib).
    zlib_passes: u8,
    /// A 4-byte length of the message sits just before `payload`, for
    /// `finish` to patch (TTHeader's framed payload).
    inner_len: bool,
    /// Payload bytes not in the output buffer but spliced in (see
    /// [`Splices`](crate::Splices)): the lengths `finish` patches count them.
    spliced: usize,
}

impl FrameStart {
    /// A frame starting at offset `frame` of the output buffer whose payload
    /// starts at `payload`: what a transport of one's own returns from
    /// [`Transport::begin`].
    pub fn new(frame: usize, payload: usize) -> FrameStart {
        FrameStart {
            frame,
            payload,
            zlib_passes: 0,
            inner_len: false,
            spliced: 0,
        }
    }

    /// The offset in the output buffer where the frame starts.
    pub fn frame_offset(&self) -> usize {
        self.frame
    }

    /// The offset in the output buffer where the payload starts.
    pub fn payload_offset(&self) -> usize {
        self.payload
    }

    /// The same frame, with `len` bytes of its payload spliced in rather
    /// than written to the output buffer (only for a transport whose
    /// [`Transport::can_splice`] said yes): `finish` counts them in the
    /// frame's length.
    pub fn with_spliced(self, len: usize) -> FrameStart {
        FrameStart {
            spliced: len,
            ..self
        }
    }

    /// The payload bytes spliced in rather than in the output buffer.
    pub fn spliced_len(&self) -> usize {
        self.spliced
    }
}

/// A framing: finds whole messages in an input buffer and frames replies.
///
/// A transport value belongs to one connection (or one stream of bytes): some
/// remember how far they have looked into an incomplete message.
pub trait Transport {
    /// Takes one whole frame off the front of `input`.
    ///
    /// `Ok(None)`: more bytes are needed, and `input` is left as it was; call
    /// again once more bytes have been appended to it. On success the frame's
    /// bytes are removed from `input` without a copy (the payload is a slice of
    /// the same allocation), except where a transform (zlib) forces a new
    /// buffer.
    ///
    /// # Errors
    ///
    /// When the bytes cannot be a frame of this transport, or break a limit.
    /// The connection cannot be resynchronised after an error: close it.
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError>;

    /// Starts a frame in `out` (appending; `out` may already hold earlier
    /// frames): writes the frame header with placeholder lengths and returns
    /// where the payload starts. The caller then writes the message with a
    /// protocol writer and calls [`Transport::finish`].
    ///
    /// # Errors
    ///
    /// When the headers in `info` do not fit the header format or the limit;
    /// `out` is then left as it was.
    fn begin(&mut self, out: &mut BytesMut, info: &FrameInfo)
        -> Result<FrameStart, TransportError>;

    /// Ends the frame begun at `start`: applies the transforms `begin` wrote
    /// (compressing the payload written since `start`), patches the length(s)
    /// in place and checks the frame size limit.
    ///
    /// # Errors
    ///
    /// When the frame is over [`TransportLimits::max_frame_len`], or `start`
    /// does not describe a frame in `out`. The unfinished frame is then removed
    /// from `out` (it is truncated back to where the frame started), so the
    /// caller may write something else in its place.
    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        info: &FrameInfo,
    ) -> Result<(), TransportError>;

    /// Whether a reply framed with `info` may have payload bytes spliced in
    /// rather than written to the output buffer ([`FrameStart::with_spliced`]):
    /// true when `finish` only patches lengths, false when it must see the
    /// whole payload (a zlib transform). The default, for transports of
    /// one's own, is false: everything is copied.
    fn can_splice(&self, info: &FrameInfo) -> bool {
        let _ = info;
        false
    }

    /// How long the frame at the front of `input` is in all (prefix
    /// included), once its first bytes tell, so that a reader can make room
    /// for it at once instead of growing its buffer as it arrives. `None`
    /// when that is not known (yet), and by default.
    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        let _ = input;
        None
    }
}

/// The whole length of a frame with a 4-byte big-endian length prefix at
/// the front of `input`, when it is within `limits`.
fn length_prefixed_hint(input: &[u8], limits: &TransportLimits) -> Option<usize> {
    let prefix = input.get(..4)?;
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    (len <= limits.max_frame_len).then_some(len + 4)
}

/// Patches the 4-byte big-endian length of the frame at `start.frame` to
/// cover everything after it, after checking it against the limit. On error
/// the frame is removed from `out`.
fn finish_length_prefixed(
    out: &mut BytesMut,
    start: FrameStart,
    limits: &TransportLimits,
) -> Result<(), TransportError> {
    let len = checked_frame_len(out, start, limits).inspect_err(|_| {
        if start.frame <= out.len() {
            out.truncate(start.frame);
        }
    })?;
    // `checked_frame_len` made sure the four length bytes are in `out`.
    if let Some(field) = out.get_mut(start.frame..start.frame + 4) {
        field.copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// The length a length-prefixed frame at `start` has in `out`, checked.
fn checked_frame_len(
    out: &BytesMut,
    start: FrameStart,
    limits: &TransportLimits,
) -> Result<u32, TransportError> {
    let body_start = start
        .frame
        .checked_add(4)
        .filter(|&body| body <= start.payload && start.payload <= out.len());
    let Some(body_start) = body_start else {
        return Err(bad_frame_start(start, out.len()));
    };
    let len = out.len() - body_start + start.spliced;
    if len > limits.max_frame_len || len > i32::MAX as usize {
        return Err(TransportError::frame_too_large(len, limits.max_frame_len));
    }
    // Fits: at most i32::MAX.
    Ok(len as u32)
}

#[cold]
fn bad_frame_start(start: FrameStart, out_len: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::Malformed,
        format!(
            "frame start (frame at {}, payload at {}) is not inside the {out_len} bytes of output",
            start.frame, start.payload
        ),
    )
}
