//! What THeader and TTHeader share: the fixed 14-byte start of a frame and
//! the bounds-checked reading of the variable header after it.
//!
//! ```text
//! LENGTH (4) | MAGIC (2) | FLAGS (2) | SEQUENCE NUMBER (4) | HEADER SIZE (2, in words of 4 bytes)
//! header (HEADER SIZE * 4 bytes, zero-padded) | payload
//! ```
//!
//! `LENGTH` counts everything after itself.

use super::{zlib, FrameStart, TransportError, TransportErrorKind, TransportLimits};
use bytes::{BufMut, Bytes, BytesMut};

/// `LENGTH` through `HEADER SIZE`.
pub(super) const PREFIX_LEN: usize = 14;
/// The bytes `LENGTH` counts before the variable header.
const FIXED_AFTER_LENGTH: usize = PREFIX_LEN - 4;

/// A whole THeader or TTHeader frame, split off the input.
pub(super) struct RawFrame {
    /// The frame, `LENGTH` included.
    frame: Bytes,
    pub(super) flags: u16,
    pub(super) seq_id: u32,
    /// Where the payload starts in `frame`.
    payload_start: usize,
}

impl RawFrame {
    /// The variable header, padding included, as a slice of the frame (so
    /// header keys and values can be sliced out of it without a copy).
    pub(super) fn header(&self) -> Bytes {
        self.frame.slice(PREFIX_LEN..self.payload_start)
    }

    /// The payload, as a slice of the frame (no copy).
    pub(super) fn payload(&self) -> Bytes {
        self.frame.slice(self.payload_start..)
    }
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Takes one frame with `magic` off the front of `input` once it is all
/// there. Whatever part of the fixed start has arrived is checked at once, so
/// a bad length, magic or header size is an error before the rest arrives.
pub(super) fn take_frame(
    input: &mut BytesMut,
    magic: u16,
    name: &str,
    limits: &TransportLimits,
) -> Result<Option<RawFrame>, TransportError> {
    let Some(len) = be_u32(input, 0) else {
        return Ok(None);
    };
    if len > i32::MAX as u32 {
        return Err(TransportError::negative_size(
            "frame length",
            (len as i32).into(),
        ));
    }
    let len = len as usize;
    if len > limits.max_frame_len {
        return Err(TransportError::frame_too_large(len, limits.max_frame_len));
    }
    // Wait for the magic before judging the length, so that the error a
    // stream gets does not depend on where the bytes happened to be cut.
    let Some(found) = be_u16(input, 4) else {
        return Ok(None);
    };
    if found != magic {
        return Err(TransportError::new(
            TransportErrorKind::BadMagic,
            format!("not a {name} frame (magic {found:#06x}, expected {magic:#06x})"),
        ));
    }
    if len < FIXED_AFTER_LENGTH {
        return Err(TransportError::malformed(format!(
            "{name} frame of {len} bytes is shorter than its fixed header"
        )));
    }
    let Some(words) = be_u16(input, 12) else {
        return Ok(None);
    };
    let header_len = usize::from(words) * 4;
    if header_len > limits.max_header_len {
        return Err(TransportError::new(
            TransportErrorKind::HeaderTooLarge,
            format!(
                "{name} header of {header_len} bytes is over the limit of {}",
                limits.max_header_len
            ),
        ));
    }
    if FIXED_AFTER_LENGTH + header_len > len {
        return Err(TransportError::malformed(format!(
            "{name} header of {header_len} bytes does not fit in a frame of {len} bytes"
        )));
    }
    let total = 4 + len;
    if input.len() < total {
        return Ok(None);
    }
    let frame = input.split_to(total).freeze();
    Ok(Some(RawFrame {
        flags: be_u16(&frame, 6).unwrap_or_default(),
        seq_id: be_u32(&frame, 8).unwrap_or_default(),
        payload_start: PREFIX_LEN + header_len,
        frame,
    }))
}

/// Writes the fixed start of a frame with placeholder `LENGTH` and
/// `HEADER SIZE`; returns where the frame starts.
pub(super) fn begin(out: &mut BytesMut, magic: u16, flags: u16, seq_id: u32) -> usize {
    let frame = out.len();
    out.reserve(PREFIX_LEN);
    out.put_u32(0);
    out.put_u16(magic);
    out.put_u16(flags);
    out.put_u32(seq_id);
    out.put_u16(0);
    frame
}

/// Pads the variable header written since the fixed start at `frame` to a
/// multiple of 4 bytes and patches `HEADER SIZE`.
///
/// # Errors
///
/// [`TransportErrorKind::HeaderTooLarge`] over the limit (or over what
/// `HEADER SIZE` can express); the frame is then removed from `out`.
pub(super) fn end_header(
    out: &mut BytesMut,
    frame: usize,
    name: &str,
    limits: &TransportLimits,
) -> Result<FrameStart, TransportError> {
    let header_start = frame + PREFIX_LEN;
    let header_len = (out.len() - header_start).next_multiple_of(4);
    let words = u16::try_from(header_len / 4).ok();
    let Some(words) = words.filter(|_| header_len <= limits.max_header_len) else {
        out.truncate(frame);
        return Err(TransportError::new(
            TransportErrorKind::HeaderTooLarge,
            format!(
                "{name} header of {header_len} bytes is over the limit of {}",
                limits.max_header_len
            ),
        ));
    };
    out.resize(header_start + header_len, 0);
    out[frame + 12..header_start].copy_from_slice(&words.to_be_bytes());
    Ok(FrameStart {
        frame,
        payload: out.len(),
        zlib_passes: 0,
        inner_len: false,
        spliced: 0,
    })
}

/// Ends a frame: patches the message's own length when the payload is framed
/// (TTHeader), deflates the payload as often as `begin` announced, then
/// patches `LENGTH`. On error the frame is removed from `out`.
pub(super) fn finish(
    out: &mut BytesMut,
    start: FrameStart,
    limits: &TransportLimits,
) -> Result<(), TransportError> {
    // Where the transformed payload starts: at the inner length, if any.
    let inner = if start.inner_len { 4 } else { 0 };
    let payload = start.payload.checked_sub(inner);
    let valid = start.frame.checked_add(PREFIX_LEN).is_some_and(|header| {
        payload.is_some_and(|payload| header <= payload) && start.payload <= out.len()
    });
    let Some(payload) = payload.filter(|_| valid) else {
        return Err(super::bad_frame_start(start, out.len()));
    };
    if start.spliced > 0 && start.zlib_passes > 0 {
        // `can_splice` says no to transformed payloads.
        out.truncate(start.frame);
        return Err(TransportError::malformed(
            "a transformed payload cannot have spliced bytes",
        ));
    }
    if start.inner_len {
        let len = out.len() - start.payload + start.spliced;
        if len > limits.max_frame_len || len > i32::MAX as usize {
            out.truncate(start.frame);
            return Err(TransportError::frame_too_large(len, limits.max_frame_len));
        }
        // Fits: at most i32::MAX.
        out[payload..start.payload].copy_from_slice(&(len as u32).to_be_bytes());
    }
    for _ in 0..start.zlib_passes {
        if let Err(err) = zlib::deflate_tail(out, payload) {
            out.truncate(start.frame);
            return Err(err);
        }
    }
    super::finish_length_prefixed(out, start, limits)
}

/// Bounds-checked reads over a frame's variable header. Running out of bytes
/// is an error: the whole header is there.
pub(super) struct HeaderReader<'a> {
    buf: &'a Bytes,
    pos: usize,
    /// The dialect, for messages.
    name: &'static str,
}

/// A varint of a 64-bit value takes at most 10 bytes.
const MAX_VARINT_LEN: usize = 10;

impl<'a> HeaderReader<'a> {
    pub(super) fn new(buf: &'a Bytes, name: &'static str) -> HeaderReader<'a> {
        HeaderReader { buf, pos: 0, name }
    }

    /// Bytes not yet read.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[cold]
    fn truncated(&self, what: &str) -> TransportError {
        TransportError::malformed(format!("{} header ends inside {what}", self.name))
    }

    /// The next `n` bytes.
    pub(super) fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], TransportError> {
        let bytes = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or_else(|| self.truncated(what))?;
        self.pos += n;
        Ok(bytes)
    }

    pub(super) fn u8(&mut self, what: &str) -> Result<u8, TransportError> {
        Ok(self.bytes(1, what)?[0])
    }

    pub(super) fn u16(&mut self, what: &str) -> Result<u16, TransportError> {
        let bytes = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    pub(super) fn varint(&mut self, what: &str) -> Result<u64, TransportError> {
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8(what)?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a 64-bit value.
            if i == MAX_VARINT_LEN - 1 && bits > 1 {
                return Err(TransportError::malformed(format!(
                    "{} {what} overflows 64 bits",
                    self.name
                )));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(TransportError::malformed(format!(
            "{} {what} is a varint longer than 10 bytes",
            self.name
        )))
    }

    /// A varint that must fit in 32 bits, as a `usize`.
    pub(super) fn varint_u32(&mut self, what: &str) -> Result<usize, TransportError> {
        let value = self.varint(what)?;
        u32::try_from(value).map(|v| v as usize).map_err(|_| {
            TransportError::malformed(format!("{} {what} {value} overflows 32 bits", self.name))
        })
    }

    /// The next `len` bytes as a slice of the header (no copy): a key or
    /// value, whatever its bytes.
    pub(super) fn take(&mut self, len: usize, what: &str) -> Result<Bytes, TransportError> {
        let start = self.pos;
        self.bytes(len, what)?;
        Ok(self.buf.slice(start..self.pos))
    }

    /// Checks that `count` entries of at least `min_size` bytes each can fit
    /// in the header bytes left, before reading any.
    pub(super) fn check_count(
        &self,
        count: usize,
        min_size: usize,
        what: &str,
    ) -> Result<(), TransportError> {
        if count.saturating_mul(min_size) > self.remaining() {
            return Err(TransportError::malformed(format!(
                "{} header announces {count} {what} but has {} bytes left",
                self.name,
                self.remaining()
            )));
        }
        Ok(())
    }
}
