//! Unframed ("buffered") messages: nothing on the wire says where a message
//! ends, so [`MessageScanner`] walks its encoding (the message header, then
//! one struct of any nesting) without decoding any value. A JSON message
//! (first byte `[`) ends where its outermost array closes: the scanner counts
//! brackets and braces outside strings.
//!
//! The scanner is resumable: when the bytes end inside a message it remembers
//! the last value boundary it reached and the containers it is inside, so a
//! large message arriving in many reads is walked once, not once per read.

use super::{
    Dialect, Frame, FrameInfo, FrameStart, ProtocolId, Transport, TransportError,
    TransportErrorKind, TransportLimits,
};
use crate::wire::TType;
use bytes::BytesMut;

/// How deeply structs and containers may nest in an unframed message (the
/// message's own struct counts as one level), as deep as the protocol readers
/// accept by default.
pub const MAX_MESSAGE_DEPTH: usize = 64;

/// The first byte of a strict binary message.
const BINARY_STRICT: u8 = 0x80;
/// The binary protocol version in the second byte of a strict message.
const BINARY_VERSION: u8 = 0x01;
/// The first byte of a compact message.
const COMPACT_ID: u8 = 0x82;
/// The compact protocol version (low 5 bits of the second byte).
const COMPACT_VERSION: u8 = 1;
/// A varint of a 64-bit value takes at most 10 bytes.
const MAX_VARINT_LEN: usize = 10;
/// The first byte of a JSON message.
const JSON_START: u8 = b'[';
/// How deeply arrays and objects may nest in a JSON message: each Thrift
/// level is at most two JSON levels (a field's object and its value's), and
/// the message's own array is one more.
const MAX_JSON_DEPTH: usize = 2 * MAX_MESSAGE_DEPTH + 1;

/// Unframed messages, one after another, in the binary (strict or old
/// non-strict), the compact or the JSON protocol.
///
/// Decoding walks each message to find its end; messages are limited to
/// [`TransportLimits::max_frame_len`] bytes and [`MAX_MESSAGE_DEPTH`] levels.
#[derive(Clone, Debug)]
pub struct Buffered {
    limits: TransportLimits,
    /// Boxed, as its stack of levels would make every transport enum as
    /// large; made on the first decode, so a transport that only writes
    /// allocates nothing.
    scanner: Option<Box<MessageScanner>>,
}

impl Buffered {
    /// A buffered transport enforcing `limits`.
    pub fn new(limits: TransportLimits) -> Buffered {
        Buffered {
            limits,
            scanner: None,
        }
    }
}

impl Default for Buffered {
    fn default() -> Buffered {
        Buffered::new(TransportLimits::DEFAULT)
    }
}

impl Transport for Buffered {
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        let max_len = self.limits.max_frame_len;
        let scanner = self
            .scanner
            .get_or_insert_with(|| Box::new(MessageScanner::new(max_len)));
        let Some(len) = scanner.scan(input)? else {
            return Ok(None);
        };
        let payload = input.split_to(len).freeze();
        // A message is never empty: the scanner read at least its header.
        let protocol = match payload.first() {
            Some(&COMPACT_ID) => ProtocolId::Compact,
            Some(&JSON_START) => ProtocolId::Json,
            _ => ProtocolId::Binary,
        };
        Ok(Some(Frame {
            payload,
            info: FrameInfo::new(Dialect::Buffered, protocol),
        }))
    }

    fn begin(
        &mut self,
        out: &mut BytesMut,
        _info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        Ok(FrameStart {
            frame: out.len(),
            payload: out.len(),
            zlib_passes: 0,
            inner_len: false,
            spliced: 0,
        })
    }

    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        _info: &FrameInfo,
    ) -> Result<(), TransportError> {
        if start.frame != start.payload || start.payload > out.len() {
            return Err(super::bad_frame_start(start, out.len()));
        }
        let len = out.len() - start.payload + start.spliced;
        if len > self.limits.max_frame_len {
            out.truncate(start.frame);
            return Err(TransportError::frame_too_large(
                len,
                self.limits.max_frame_len,
            ));
        }
        Ok(())
    }

    fn can_splice(&self, _info: &FrameInfo) -> bool {
        true
    }
}

/// How long the unframed message at the start of `buf` is.
///
/// `Ok(Some(len))`: the message is `buf[..len]`. `Ok(None)`: `buf` ends
/// before the message does. Allocation-free; a message longer than `max_len`
/// bytes is an error as soon as that is certain, even before its bytes arrive.
///
/// # Errors
///
/// When `buf` cannot start a binary, compact or JSON message, or the message
/// breaks `max_len` or [`MAX_MESSAGE_DEPTH`].
pub fn message_len(buf: &[u8], max_len: usize) -> Result<Option<usize>, TransportError> {
    MessageScanner::new(max_len).scan(buf)
}

/// The encoding of the message being scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Binary,
    Compact,
    Json,
}

/// A struct or container the scanner is inside.
#[derive(Clone, Copy, Debug)]
enum Level {
    /// Fields until a stop.
    Struct,
    /// A list or set with `left` elements still to skip.
    List { element: TType, left: u32 },
    /// A map with `left` keys and values still to skip (a key when even).
    Map { key: TType, value: TType, left: u32 },
}

/// Finds where an unframed message ends, resumably: [`Buffered`]'s engine,
/// usable on its own.
///
/// Feed it the same growing buffer until it answers `Some(len)` (or an error);
/// it then starts afresh for the next message, which begins at `buf[len..]`.
#[derive(Clone, Debug)]
pub struct MessageScanner {
    max_len: usize,
    /// Bytes of the message known to be complete values: where to resume.
    pos: usize,
    /// `None` until the message header has been read.
    encoding: Option<Encoding>,
    depth: usize,
    stack: [Level; MAX_MESSAGE_DEPTH],
    /// JSON: inside a string, and just after a backslash in one.
    in_string: bool,
    escaped: bool,
}

/// Why a scanning step stopped.
enum Halt {
    /// The bytes end inside the value; nothing was consumed.
    Incomplete,
    /// The bytes cannot be a message.
    Invalid(TransportError),
}

impl From<TransportError> for Halt {
    fn from(err: TransportError) -> Halt {
        Halt::Invalid(err)
    }
}

/// What one step found at the scanner's position.
enum Value {
    /// A whole value (or a stop) was skipped.
    Skipped,
    /// A struct or container starts; its contents follow.
    Opens(Level),
}

impl MessageScanner {
    /// A scanner for messages of at most `max_len` bytes.
    pub fn new(max_len: usize) -> MessageScanner {
        MessageScanner {
            max_len,
            pos: 0,
            encoding: None,
            depth: 0,
            stack: [Level::Struct; MAX_MESSAGE_DEPTH],
            in_string: false,
            escaped: false,
        }
    }

    /// Forgets any partly scanned message.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.encoding = None;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
    }

    /// How long the message at the start of `buf` is: `Ok(None)` while `buf`
    /// ends inside it. Between calls that return `Ok(None)`, `buf` must keep
    /// its bytes and may only grow (a shorter `buf` starts the scan afresh).
    ///
    /// # Errors
    ///
    /// As [`message_len`]. The scanner is reset after an error or a whole
    /// message.
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, TransportError> {
        if buf.len() < self.pos {
            self.reset();
        }
        let result = self.run(buf);
        if !matches!(result, Ok(None)) {
            self.reset();
        }
        result
    }

    fn run(&mut self, buf: &[u8]) -> Result<Option<usize>, TransportError> {
        if self.encoding == Some(Encoding::Json)
            || (self.encoding.is_none() && buf.first() == Some(&JSON_START))
        {
            self.encoding = Some(Encoding::Json);
            return self.json(buf);
        }
        let encoding = match self.encoding {
            Some(encoding) => encoding,
            None => {
                let mut cursor = Cursor::new(buf, 0, self.max_len);
                let encoding = match message_header(&mut cursor) {
                    Ok(encoding) => encoding,
                    Err(Halt::Incomplete) => return Ok(None),
                    Err(Halt::Invalid(err)) => return Err(err),
                };
                self.pos = cursor.pos;
                self.encoding = Some(encoding);
                // The message's own struct: the first level.
                self.stack[0] = Level::Struct;
                self.depth = 1;
                encoding
            }
        };
        while self.depth > 0 {
            match self.step(buf, encoding) {
                Ok(()) => {}
                Err(Halt::Incomplete) => return Ok(None),
                Err(Halt::Invalid(err)) => return Err(err),
            }
        }
        Ok(Some(self.pos))
    }

    /// Walks a JSON message from where the last call stopped: the message
    /// ends where the bracket at its start is closed. Only brackets and
    /// braces outside strings count; whether the JSON is valid otherwise is
    /// the protocol reader's business.
    fn json(&mut self, buf: &[u8]) -> Result<Option<usize>, TransportError> {
        let end = buf.len().min(self.max_len);
        let bytes = buf.get(self.pos..end).unwrap_or_default();
        for (i, &byte) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    if self.depth >= MAX_JSON_DEPTH {
                        return Err(TransportError::new(
                            TransportErrorKind::DepthLimit,
                            format!("JSON message nested deeper than {MAX_JSON_DEPTH} levels"),
                        ));
                    }
                    self.depth += 1;
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Ok(Some(self.pos + i + 1));
                    }
                }
                _ => {}
            }
        }
        self.pos = end;
        if buf.len() > self.max_len {
            return Err(TransportError::new(
                TransportErrorKind::FrameTooLarge,
                format!("message is longer than the limit of {} bytes", self.max_len),
            ));
        }
        Ok(None)
    }

    /// Skips one field, element or stop at the current position. When the
    /// bytes end inside it, nothing is changed: the next call retries it.
    fn step(&mut self, buf: &[u8], encoding: Encoding) -> Result<(), Halt> {
        let mut cursor = Cursor::new(buf, self.pos, self.max_len);
        let top = self.depth - 1;
        // `None`: the innermost struct or container has ended.
        let found = match &mut self.stack[top] {
            Level::Struct => match encoding {
                Encoding::Binary => binary_field(&mut cursor)?,
                Encoding::Compact => compact_field(&mut cursor)?,
                // Walked by `json`, never step by step.
                Encoding::Json => return Err(malformed("JSON is not walked by type")),
            },
            Level::List { left: 0, .. } | Level::Map { left: 0, .. } => None,
            Level::List { element, left } => {
                let found = skip_value(&mut cursor, encoding, *element)?;
                *left -= 1;
                Some(found)
            }
            Level::Map { key, value, left } => {
                let ttype = if *left % 2 == 0 { *key } else { *value };
                let found = skip_value(&mut cursor, encoding, ttype)?;
                *left -= 1;
                Some(found)
            }
        };
        match found {
            None => self.depth = top,
            Some(Value::Skipped) => {}
            Some(Value::Opens(inner)) => {
                if self.depth >= MAX_MESSAGE_DEPTH {
                    return Err(Halt::Invalid(TransportError::new(
                        TransportErrorKind::DepthLimit,
                        format!("message nested deeper than {MAX_MESSAGE_DEPTH} levels"),
                    )));
                }
                self.stack[self.depth] = inner;
                self.depth += 1;
            }
        }
        self.pos = cursor.pos;
        Ok(())
    }
}

/// Bounds-checked reads over the bytes received so far, never past `limit`
/// (the longest message allowed).
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    limit: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], pos: usize, limit: usize) -> Cursor<'a> {
        Cursor { buf, pos, limit }
    }

    /// The next `n` bytes.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Halt> {
        let end = match self.pos.checked_add(n) {
            Some(end) if end <= self.limit => end,
            _ => return Err(too_long(self.limit)),
        };
        let bytes = self.buf.get(self.pos..end).ok_or(Halt::Incomplete)?;
        self.pos = end;
        Ok(bytes)
    }

    /// The next byte, without taking it.
    #[inline]
    fn peek(&self) -> Result<u8, Halt> {
        self.buf.get(self.pos).copied().ok_or(Halt::Incomplete)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Halt> {
        Ok(self.take(1)?[0])
    }

    #[inline]
    fn i32(&mut self) -> Result<i32, Halt> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// A varint of at most 10 bytes holding at most 64 bits.
    #[inline]
    fn varint(&mut self) -> Result<u64, Halt> {
        let mut value = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a 64-bit value.
            if i == MAX_VARINT_LEN - 1 && bits > 1 {
                return Err(malformed("varint overflows 64 bits"));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("varint longer than 10 bytes"))
    }

    /// A compact length or count: a 32-bit varint read as a signed number.
    #[inline]
    fn compact_size(&mut self, what: &str) -> Result<usize, Halt> {
        let raw = u32::try_from(self.varint()?)
            .map_err(|_| malformed(format!("{what} overflows 32 bits")))?;
        size(what, raw as i32)
    }

    /// Checks that `count` values of at least `min_size` bytes each can still
    /// fit in the message, so a hostile count is an error at once rather than
    /// a long wait or a long walk.
    #[inline]
    fn check_count(&self, count: usize, min_size: usize) -> Result<(), Halt> {
        let room = self.limit.saturating_sub(self.pos);
        if count.saturating_mul(min_size) > room {
            return Err(Halt::Invalid(TransportError::new(
                TransportErrorKind::FrameTooLarge,
                format!(
                    "container of {count} elements cannot fit in a message of at most {} bytes",
                    self.limit
                ),
            )));
        }
        Ok(())
    }
}

/// A length or count that must not be negative.
#[inline]
fn size(what: &str, value: i32) -> Result<usize, Halt> {
    usize::try_from(value)
        .map_err(|_| Halt::Invalid(TransportError::negative_size(what, value.into())))
}

#[cold]
fn malformed(message: impl Into<String>) -> Halt {
    Halt::Invalid(TransportError::malformed(message))
}

#[cold]
fn too_long(limit: usize) -> Halt {
    Halt::Invalid(TransportError::new(
        TransportErrorKind::FrameTooLarge,
        format!("message is longer than the limit of {limit} bytes"),
    ))
}

/// Checks a message type code (call, reply, exception, oneway).
#[inline]
fn message_type(code: u8) -> Result<(), Halt> {
    match code {
        1..=4 => Ok(()),
        other => Err(malformed(format!("unknown message type {other}"))),
    }
}

/// Reads a message header, in whichever encoding its first byte announces.
fn message_header(cursor: &mut Cursor<'_>) -> Result<Encoding, Halt> {
    match cursor.peek()? {
        BINARY_STRICT => {
            // 0x80, version, unused, message type.
            let word = cursor.take(4)?;
            if word[1] != BINARY_VERSION {
                return Err(Halt::Invalid(TransportError::new(
                    TransportErrorKind::UnsupportedProtocol,
                    format!(
                        "unknown binary protocol version {:#06x}",
                        u16::from_be_bytes([word[0], word[1]])
                    ),
                )));
            }
            message_type(word[3])?;
            let name_len = size("name length", cursor.i32()?)?;
            cursor.take(name_len)?;
            cursor.take(4)?; // seqid
            Ok(Encoding::Binary)
        }
        COMPACT_ID => {
            // 0x82, then the message type over the version.
            let byte = cursor.take(2)?[1];
            if byte & 0x1f != COMPACT_VERSION {
                return Err(Halt::Invalid(TransportError::new(
                    TransportErrorKind::UnsupportedProtocol,
                    format!("unknown compact protocol version {}", byte & 0x1f),
                )));
            }
            message_type(byte >> 5)?;
            if cursor.varint()? > u64::from(u32::MAX) {
                return Err(malformed("sequence id overflows 32 bits"));
            }
            let name_len = cursor.compact_size("name length")?;
            cursor.take(name_len)?;
            Ok(Encoding::Compact)
        }
        0x00..=0x7f => {
            // Old non-strict binary: the name's length comes first.
            let name_len = size("name length", cursor.i32()?)?;
            cursor.take(name_len)?;
            message_type(cursor.u8()?)?;
            cursor.take(4)?; // seqid
            Ok(Encoding::Binary)
        }
        other => Err(Halt::Invalid(TransportError::new(
            TransportErrorKind::UnsupportedProtocol,
            format!("not a binary, compact or JSON message (first byte {other:#04x})"),
        ))),
    }
}

/// Skips one binary field header (and the field's value unless it opens a
/// struct or container). `None`: the struct's stop.
fn binary_field(cursor: &mut Cursor<'_>) -> Result<Option<Value>, Halt> {
    let code = cursor.u8()?;
    let ttype = binary_type(code)?;
    if ttype == TType::Stop {
        return Ok(None);
    }
    cursor.take(2)?; // field id
    skip_binary(cursor, ttype).map(Some)
}

/// Skips one compact field header (and the field's value unless it opens a
/// struct or container). `None`: the struct's stop.
fn compact_field(cursor: &mut Cursor<'_>) -> Result<Option<Value>, Halt> {
    let byte = cursor.u8()?;
    let code = byte & 0x0f;
    if code == 0 {
        return Ok(None);
    }
    let ttype = compact_type(code)?;
    if byte >> 4 == 0 {
        // An absolute field id: a zigzag varint.
        cursor.varint()?;
    }
    if ttype == TType::Bool {
        // A bool field's value is its type code.
        return Ok(Some(Value::Skipped));
    }
    skip_compact(cursor, ttype).map(Some)
}

fn skip_value(cursor: &mut Cursor<'_>, encoding: Encoding, ttype: TType) -> Result<Value, Halt> {
    match encoding {
        Encoding::Binary => skip_binary(cursor, ttype),
        Encoding::Compact => skip_compact(cursor, ttype),
        Encoding::Json => Err(malformed("JSON is not walked by type")),
    }
}

fn binary_type(code: u8) -> Result<TType, Halt> {
    TType::from_code(code).ok_or_else(|| malformed(format!("unknown type code {code}")))
}

/// A container's element type: any type when it is empty, a real type
/// otherwise.
fn element_type(ttype: TType, count: usize) -> Result<TType, Halt> {
    if count > 0 && matches!(ttype, TType::Stop | TType::Void) {
        return Err(malformed(format!(
            "invalid container element type {ttype:?}"
        )));
    }
    Ok(ttype)
}

/// A container's element count (checked), as the scanner stores it.
fn count_u32(count: usize) -> Result<u32, Halt> {
    u32::try_from(count).map_err(|_| malformed(format!("container of {count} elements")))
}

fn skip_binary(cursor: &mut Cursor<'_>, ttype: TType) -> Result<Value, Halt> {
    let fixed = match ttype {
        TType::Bool | TType::I8 => 1,
        TType::I16 => 2,
        TType::I32 => 4,
        TType::I64 | TType::Double => 8,
        TType::Uuid => 16,
        TType::String => size("string length", cursor.i32()?)?,
        TType::Struct => return Ok(Value::Opens(Level::Struct)),
        TType::List | TType::Set => {
            let element = binary_type(cursor.u8()?)?;
            let count = size("container size", cursor.i32()?)?;
            let element = element_type(element, count)?;
            cursor.check_count(count, element.binary_min_size())?;
            let left = count_u32(count)?;
            return Ok(Value::Opens(Level::List { element, left }));
        }
        TType::Map => {
            let key = binary_type(cursor.u8()?)?;
            let value = binary_type(cursor.u8()?)?;
            let count = size("map size", cursor.i32()?)?;
            let key = element_type(key, count)?;
            let value = element_type(value, count)?;
            cursor.check_count(count, key.binary_min_size() + value.binary_min_size())?;
            // At most max_len / 2 entries here, so twice the count fits.
            let left = count_u32(count.saturating_mul(2))?;
            return Ok(Value::Opens(Level::Map { key, value, left }));
        }
        TType::Stop | TType::Void => {
            return Err(malformed(format!("cannot skip a value of type {ttype:?}")))
        }
    };
    cursor.take(fixed)?;
    Ok(Value::Skipped)
}

/// The type with compact code `code` (either bool code is a bool).
fn compact_type(code: u8) -> Result<TType, Halt> {
    Ok(match code {
        1 | 2 => TType::Bool,
        3 => TType::I8,
        4 => TType::I16,
        5 => TType::I32,
        6 => TType::I64,
        7 => TType::Double,
        8 => TType::String,
        9 => TType::List,
        10 => TType::Set,
        11 => TType::Map,
        12 => TType::Struct,
        13 => TType::Uuid,
        other => return Err(malformed(format!("unknown compact type {other}"))),
    })
}

/// A compact container's element type: any code when it is empty.
fn compact_element_type(code: u8, count: usize) -> Result<TType, Halt> {
    if count == 0 {
        // Never skipped; writers differ in what they put here.
        return Ok(TType::Stop);
    }
    compact_type(code)
}

/// The fewest bytes a value takes in the compact protocol.
fn compact_min_size(ttype: TType) -> usize {
    match ttype {
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

fn skip_compact(cursor: &mut Cursor<'_>, ttype: TType) -> Result<Value, Halt> {
    let fixed = match ttype {
        TType::Bool | TType::I8 => 1,
        TType::I16 | TType::I32 | TType::I64 => {
            cursor.varint()?;
            return Ok(Value::Skipped);
        }
        TType::Double => 8,
        TType::Uuid => 16,
        TType::String => cursor.compact_size("string length")?,
        TType::Struct => return Ok(Value::Opens(Level::Struct)),
        TType::List | TType::Set => {
            let byte = cursor.u8()?;
            let count = match byte >> 4 {
                15 => cursor.compact_size("container size")?,
                short => usize::from(short),
            };
            let element = compact_element_type(byte & 0x0f, count)?;
            cursor.check_count(count, compact_min_size(element))?;
            let left = count_u32(count)?;
            return Ok(Value::Opens(Level::List { element, left }));
        }
        TType::Map => {
            let count = cursor.compact_size("map size")?;
            let (key, value) = if count == 0 {
                (TType::Stop, TType::Stop)
            } else {
                let types = cursor.u8()?;
                (
                    compact_element_type(types >> 4, count)?,
                    compact_element_type(types & 0x0f, count)?,
                )
            };
            cursor.check_count(count, compact_min_size(key) + compact_min_size(value))?;
            let left = count_u32(count.saturating_mul(2))?;
            return Ok(Value::Opens(Level::Map { key, value, left }));
        }
        TType::Stop | TType::Void => {
            return Err(malformed(format!("cannot skip a value of type {ttype:?}")))
        }
    };
    cursor.take(fixed)?;
    Ok(Value::Skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 16 << 20;

    #[rustfmt::skip]
    const BINARY_PING: &[u8] = &[
        0x80, 0x01, 0x00, 0x01,         // strict binary, call
        0x00, 0x00, 0x00, 0x04,         // name length 4
        b'p', b'i', b'n', b'g',         // "ping"
        0x00, 0x00, 0x00, 0x07,         // seqid 7
        0x0b, 0x00, 0x01,               // field 1: string
        0x00, 0x00, 0x00, 0x02, b'h', b'i',
        0x0f, 0x00, 0x02,               // field 2: list
        0x0c, 0x00, 0x00, 0x00, 0x02,   // of 2 structs
        0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, // { 1: i32 1 }
        0x00,                           // {}
        0x0d, 0x00, 0x03,               // field 3: map
        0x0b, 0x02, 0x00, 0x00, 0x00, 0x01, // string -> bool, 1 entry
        0x00, 0x00, 0x00, 0x01, b'k', 0x01,
        0x00,                           // stop
    ];

    #[rustfmt::skip]
    const COMPACT_PING: &[u8] = &[
        0x82, 0x21,                     // compact, call, version 1
        0x07,                           // seqid 7
        0x04, b'p', b'i', b'n', b'g',   // "ping"
        0x18, 0x02, b'h', b'i',         // field 1: binary "hi"
        0x19, 0x2c,                     // field 2: list of 2 structs
        0x15, 0x02, 0x00,               // { 1: i32 1 }
        0x00,                           // {}
        0x1b, 0x01, 0x81, 0x01, b'k', 0x01, // field 3: map binary -> bool, 1 entry
        0x11,                           // field 4: bool true (in the header)
        0x00,                           // stop
    ];

    #[test]
    fn finds_the_end_of_a_binary_message_and_needs_more_before_it() {
        assert_eq!(message_len(BINARY_PING, MAX), Ok(Some(BINARY_PING.len())));
        for cut in 0..BINARY_PING.len() {
            assert_eq!(
                message_len(&BINARY_PING[..cut], MAX),
                Ok(None),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn finds_the_end_of_a_compact_message_and_needs_more_before_it() {
        assert_eq!(message_len(COMPACT_PING, MAX), Ok(Some(COMPACT_PING.len())));
        for cut in 0..COMPACT_PING.len() {
            assert_eq!(
                message_len(&COMPACT_PING[..cut], MAX),
                Ok(None),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn resumes_where_it_stopped() {
        for message in [BINARY_PING, COMPACT_PING] {
            let mut scanner = MessageScanner::new(MAX);
            for cut in 0..message.len() {
                assert_eq!(scanner.scan(&message[..cut]), Ok(None));
            }
            assert_eq!(scanner.scan(message), Ok(Some(message.len())));
            // Afresh for the next message.
            assert_eq!(scanner.scan(message), Ok(Some(message.len())));
        }
    }

    #[test]
    fn a_message_over_the_limit_is_an_error_before_its_bytes_arrive() {
        let err = message_len(&BINARY_PING[..20], 20).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge);
        assert_eq!(
            err.message(),
            "message is longer than the limit of 20 bytes"
        );
    }

    #[test]
    fn unknown_first_bytes_are_errors() {
        let err = message_len(&[0x81, 0x01], MAX).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::UnsupportedProtocol);
        let err = message_len(&[0x80, 0x02, 0x00, 0x01], MAX).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::UnsupportedProtocol);
        let err = message_len(&[0x82, 0x02], MAX).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::UnsupportedProtocol);
        let err = message_len(&[0x82, 0xa1], MAX).unwrap_err();
        assert_eq!(err.message(), "unknown message type 5");
    }
}
