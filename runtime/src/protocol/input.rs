//! The cursor both readers share: bounds-checked reads over one message held
//! in [`Bytes`], with the length, count and depth checks of [`Limits`].

use super::{Limits, ProtocolError, ProtocolErrorKind, Result};
use crate::string::{validate_utf8, ByteString};
use bytes::Bytes;

#[derive(Debug)]
pub(super) struct Input {
    buf: Bytes,
    pos: usize,
    limits: Limits,
    depth: usize,
}

impl Input {
    pub(super) fn new(buf: Bytes, limits: Limits) -> Input {
        Input {
            buf,
            pos: 0,
            limits,
            depth: 0,
        }
    }

    #[inline]
    pub(super) fn limits(&self) -> &Limits {
        &self.limits
    }

    #[inline]
    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The offset of the next byte to read.
    #[inline]
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read since offset `start`, as a slice of the input (no copy).
    #[inline]
    pub(super) fn since(&self, start: usize) -> Bytes {
        self.buf.slice(start.min(self.pos)..self.pos)
    }

    /// The bytes not yet read.
    #[inline]
    pub(super) fn rest(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The input from offset `start` on (empty past the end).
    #[inline]
    pub(super) fn rest_from(&self, start: usize) -> &[u8] {
        self.buf.get(start..).unwrap_or_default()
    }

    /// `len` bytes from offset `start`, as a slice of the input (no copy),
    /// cut short at the end of the input.
    #[inline]
    pub(super) fn slice(&self, start: usize, len: usize) -> Bytes {
        let end = start.saturating_add(len).min(self.buf.len());
        self.buf.slice(start.min(end)..end)
    }

    /// Moves past `n` bytes of [`Input::rest`] (at most all of them).
    #[inline]
    pub(super) fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    #[inline]
    pub(super) fn u8(&mut self) -> Result<u8> {
        let byte = *self.buf.get(self.pos).ok_or_else(ProtocolError::eof)?;
        self.pos += 1;
        Ok(byte)
    }

    #[inline]
    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self
            .buf
            .get(self.pos..self.pos + N)
            .ok_or_else(ProtocolError::eof)?;
        self.pos += N;
        // The slice has exactly N bytes.
        Ok(bytes.try_into().unwrap_or([0; N]))
    }

    /// Checks a string or binary length against the limit and the input.
    #[inline]
    fn length(&self, len: i64) -> Result<usize> {
        // One comparison for the common case: not negative, within the
        // limit and within the input (`as u64` makes a negative length huge).
        let max = self.limits.max_string_len.min(self.remaining()) as u64;
        if (len as u64) <= max {
            return Ok(len as usize);
        }
        Err(self.length_error(len))
    }

    #[cold]
    #[inline(never)]
    fn length_error(&self, len: i64) -> ProtocolError {
        if len < 0 {
            return ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("negative length {len}"),
            );
        }
        if len as u64 > self.limits.max_string_len as u64 {
            return ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "length {len} is over the limit of {}",
                    self.limits.max_string_len
                ),
            );
        }
        ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!(
                "length {len} is more than the {} bytes left",
                self.remaining()
            ),
        )
    }

    /// `len` bytes as a slice of the input (no copy).
    #[inline]
    pub(super) fn bytes(&mut self, len: i64) -> Result<Bytes> {
        let len = self.length(len)?;
        let out = self.buf.slice(self.pos..self.pos + len);
        self.pos += len;
        Ok(out)
    }

    /// `len` bytes as a `String`, which must be valid UTF-8.
    #[inline]
    pub(super) fn string(&mut self, len: i64) -> Result<String> {
        let len = self.length(len)?;
        let bytes = &self.buf[self.pos..self.pos + len];
        validate_utf8(bytes).map_err(utf8_error)?;
        // SAFETY: just checked.
        let text = unsafe { std::str::from_utf8_unchecked(bytes) };
        self.pos += len;
        Ok(text.to_owned())
    }

    /// `len` bytes as a [`ByteString`], which must be valid UTF-8: copied
    /// inline when short, a slice of the input otherwise.
    #[inline]
    pub(super) fn byte_string(&mut self, len: i64) -> Result<ByteString> {
        let len = self.length(len)?;
        let (start, end) = (self.pos, self.pos + len);
        let bytes = &self.buf[start..end];
        validate_utf8(bytes).map_err(utf8_error)?;
        let text = ByteString::from_checked(&self.buf, start, end);
        self.pos = end;
        Ok(text)
    }

    /// Checks a container's count: not negative, within the limit, and not
    /// more elements than the bytes left could hold at `min_size` each.
    #[inline]
    pub(super) fn count(&self, len: i64, min_size: usize) -> Result<usize> {
        let n = len as u64;
        if n <= self.limits.max_container_len as u64
            && n.saturating_mul(min_size as u64) <= self.remaining() as u64
        {
            return Ok(n as usize);
        }
        Err(self.count_error(len))
    }

    #[cold]
    #[inline(never)]
    fn count_error(&self, len: i64) -> ProtocolError {
        if len < 0 {
            return ProtocolError::new(
                ProtocolErrorKind::NegativeSize,
                format!("negative container size {len}"),
            );
        }
        if len as u64 > self.limits.max_container_len as u64 {
            return ProtocolError::new(
                ProtocolErrorKind::SizeLimit,
                format!(
                    "container of {len} elements is over the limit of {}",
                    self.limits.max_container_len
                ),
            );
        }
        ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!(
                "container of {len} elements cannot fit in the {} bytes left",
                self.remaining()
            ),
        )
    }

    /// Enters a struct or container.
    #[inline]
    pub(super) fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(depth_error(self.limits.max_depth));
        }
        self.depth += 1;
        Ok(())
    }

    #[inline]
    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// The last field id of each enclosing struct (the compact protocol's
/// field-id deltas restart in each struct): the first levels inline, so
/// reading a message allocates nothing for it.
#[derive(Debug, Default)]
pub(super) struct IdStack {
    inline: [i16; 16],
    len: usize,
    deeper: Vec<i16>,
}

impl IdStack {
    #[inline]
    pub(super) fn push(&mut self, id: i16) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = id,
            None => self.deeper.push(id),
        }
        self.len += 1;
    }

    /// The id pushed last (0 when empty).
    #[inline]
    pub(super) fn pop(&mut self) -> i16 {
        if self.len == 0 {
            return 0;
        }
        self.len -= 1;
        match self.inline.get(self.len) {
            Some(&id) => id,
            None => self.deeper.pop().unwrap_or(0),
        }
    }
}

/// The depth check writers share.
#[derive(Debug)]
pub(super) struct Depth {
    depth: usize,
    max: usize,
}

impl Depth {
    pub(super) fn new(max: usize) -> Depth {
        Depth { depth: 0, max }
    }

    #[inline]
    pub(super) fn enter(&mut self) -> Result<()> {
        if self.depth >= self.max {
            return Err(depth_error(self.max));
        }
        self.depth += 1;
        Ok(())
    }

    #[inline]
    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// A container length as the wire's i32.
pub(super) fn wire_len(len: usize) -> Result<i32> {
    i32::try_from(len).map_err(|_| {
        ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!("length {len} does not fit in an i32"),
        )
    })
}

#[cold]
#[inline(never)]
fn depth_error(max: usize) -> ProtocolError {
    ProtocolError::new(
        ProtocolErrorKind::DepthLimit,
        format!("nested deeper than {max} levels"),
    )
}

#[cold]
pub(super) fn utf8_error(e: std::str::Utf8Error) -> ProtocolError {
    ProtocolError::invalid(format!("invalid UTF-8 at byte {}", e.valid_up_to()))
}
