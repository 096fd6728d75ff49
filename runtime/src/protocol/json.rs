//! Apache Thrift's JSON protocol (`TJSONProtocol`, Apache's
//! `doc/specs/thrift-json-protocol.md`): a message is
//! `[1,"name",type,seqid,{struct}]`, a struct `{"1":{"i32":5},...}` (field
//! id, then an object naming the type and holding the value), a list or set
//! `["i32",3,1,2,3]`, a map `["str","i32",2,{"a":1,"b":2}]`.
//!
//! Numbers are JSON numbers except where they are an object's key (field ids
//! and map keys), where they are quoted; bools are `1` and `0`; `binary` is
//! base64 (written with padding, read with or without); doubles that JSON
//! has no number for are the strings `"NaN"`, `"Infinity"` and
//! `"-Infinity"`; a `uuid` is the string `"00112233-4455-6677-8899-aabbccddeeff"`
//! (type name `uid`).
//!
//! Like Apache's libraries, the reader and writer keep a stack of contexts
//! (inside an array, separators are `,`; inside an object they alternate
//! `:` and `,`, and a value in key position is quoted), so whatever one
//! writes the other reads, maps with struct keys included. The reader also
//! accepts JSON whitespace between tokens, raw control characters in strings
//! (Apache's Python library writes them unescaped) and the bare tokens
//! `nan`, `inf` and `-inf` for doubles (what that library writes for them).

use super::input::{Depth, Input};
use super::{
    FieldHeader, InputProtocol, Limits, ListHeader, MapHeader, MessageHeader, OutputProtocol,
    ProtocolError, ProtocolErrorKind, ProtocolId, RawValue, Result,
};
use crate::wire::{MessageType, TType};
use bytes::{BufMut, Bytes, BytesMut};

/// The protocol version, the first element of every message.
const VERSION: i64 = 1;

/// Deeper than this many JSON arrays and objects is an error even before the
/// Thrift depth limit counts (each Thrift level is at most two JSON levels).
fn max_contexts(limits: &Limits) -> usize {
    limits.max_depth.saturating_mul(2).saturating_add(2)
}

/// The JSON name of a wire type.
fn type_name(ttype: TType) -> Result<&'static str> {
    Ok(match ttype {
        TType::Bool => "tf",
        TType::I8 => "i8",
        TType::I16 => "i16",
        TType::I32 => "i32",
        TType::I64 => "i64",
        TType::Double => "dbl",
        TType::String => "str",
        TType::Struct => "rec",
        TType::Map => "map",
        TType::Set => "set",
        TType::List => "lst",
        TType::Uuid => "uid",
        TType::Stop | TType::Void => {
            return Err(ProtocolError::invalid(format!(
                "type {ttype:?} has no JSON name"
            )))
        }
    })
}

/// The wire type a JSON type name names.
fn type_of_name(name: &[u8]) -> Result<TType> {
    Ok(match name {
        b"tf" => TType::Bool,
        b"i8" => TType::I8,
        b"i16" => TType::I16,
        b"i32" => TType::I32,
        b"i64" => TType::I64,
        b"dbl" => TType::Double,
        b"str" => TType::String,
        b"rec" => TType::Struct,
        b"map" => TType::Map,
        b"set" => TType::Set,
        b"lst" => TType::List,
        b"uid" => TType::Uuid,
        other => {
            let shown = String::from_utf8_lossy(&other[..other.len().min(16)]).into_owned();
            return Err(ProtocolError::invalid(format!(
                "unknown JSON type name `{shown}`"
            )));
        }
    })
}

/// The fewest bytes one container element of `ttype` takes, with the comma
/// before the next one (or the bracket after the last): what a count is
/// checked against.
fn min_size(ttype: TType) -> usize {
    match ttype {
        // `1,`
        TType::Bool | TType::I8 | TType::I16 | TType::I32 | TType::I64 | TType::Double => 2,
        // `"",` and `{},`
        TType::String | TType::Struct => 3,
        // `["i8",0],`
        TType::List | TType::Set => 9,
        // `["i8","i8",0,{}],`
        TType::Map => 17,
        // `"` + 36 + `",`
        TType::Uuid => 39,
        TType::Stop | TType::Void => 1,
    }
}

/// Where in the JSON structure the next value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    /// Outside any array or object: no separators.
    Top,
    /// Inside an array: `,` before every element but the first.
    List { first: bool },
    /// Inside an object: keys and values alternate, `:` after a key, `,`
    /// after a value. `key` says the next value is a key.
    Pair { first: bool, key: bool },
}

impl Context {
    /// Advances past the separator before the next value and returns it
    /// (`None` for the first value).
    #[inline]
    fn next(&mut self) -> Option<u8> {
        match self {
            Context::Top => None,
            Context::List { first } => {
                if std::mem::take(first) {
                    None
                } else {
                    Some(b',')
                }
            }
            Context::Pair { first, key } => {
                if std::mem::take(first) {
                    *key = true;
                    None
                } else {
                    let separator = if *key { b':' } else { b',' };
                    *key = !*key;
                    Some(separator)
                }
            }
        }
    }

    /// Whether the value just placed is an object key (numbers are quoted).
    #[inline]
    fn is_key(&self) -> bool {
        matches!(self, Context::Pair { key: true, .. })
    }
}

/// The stack of contexts, with the current one kept apart.
#[derive(Debug)]
struct Contexts {
    current: Context,
    outer: Vec<Context>,
    max: usize,
}

impl Contexts {
    fn new(max: usize) -> Contexts {
        Contexts {
            current: Context::Top,
            outer: Vec::new(),
            max,
        }
    }

    fn reset(&mut self) {
        self.current = Context::Top;
        self.outer.clear();
    }

    fn push(&mut self, context: Context) -> Result<()> {
        if self.outer.len() >= self.max {
            return Err(ProtocolError::new(
                ProtocolErrorKind::DepthLimit,
                format!("JSON nested deeper than {} arrays and objects", self.max),
            ));
        }
        self.outer
            .push(std::mem::replace(&mut self.current, context));
        Ok(())
    }

    fn pop(&mut self) {
        self.current = self.outer.pop().unwrap_or(Context::Top);
    }
}

/// Reads Apache's JSON protocol from one message.
///
/// Strings without escapes are slices of the input (no copy) when read as
/// [`ByteString`](crate::ByteString)s; `binary` values are decoded from
/// base64 into new buffers.
#[derive(Debug)]
pub struct JsonReader {
    input: Input,
    contexts: Contexts,
    /// The separator of the next value was already read (by
    /// [`InputProtocol::read_raw_value`], which slices from after it).
    separator_read: bool,
    /// `binary` values are the string's own bytes, not base64: for
    /// re-encoding kept values, whose type the wire does not tell.
    strings_as_text: bool,
}

/// The contents of a JSON string.
enum Text {
    /// No escapes: `len` bytes at `start` of the input, not yet checked as
    /// UTF-8.
    Slice { start: usize, len: usize },
    /// Unescaped into a buffer, not yet checked as UTF-8.
    Owned(Vec<u8>),
}

impl JsonReader {
    /// A reader over `buf` with the default [`Limits`].
    pub fn new(buf: Bytes) -> JsonReader {
        JsonReader::with_limits(buf, Limits::DEFAULT)
    }

    /// A reader over `buf` enforcing `limits`.
    pub fn with_limits(buf: Bytes, limits: Limits) -> JsonReader {
        JsonReader {
            contexts: Contexts::new(max_contexts(&limits)),
            input: Input::new(buf, limits),
            separator_read: false,
            strings_as_text: false,
        }
    }

    /// The same reader, reading every `binary` as the string's own bytes
    /// rather than as base64: for converting JSON into another protocol
    /// ([`copy`](super::copy)) where the wire types alone must do, since a
    /// JSON `"str"` is either text or base64 `binary` and only the IDL says
    /// which. Text then comes through exactly; a real `binary` arrives as
    /// its base64 text.
    #[must_use]
    pub fn text_strings(mut self) -> JsonReader {
        self.strings_as_text = true;
        self
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        let n = self
            .input
            .rest()
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        self.input.advance(n);
    }

    /// The next byte that is not whitespace, not taken.
    #[inline]
    fn peek(&mut self) -> Result<u8> {
        self.skip_whitespace();
        self.input
            .rest()
            .first()
            .copied()
            .ok_or_else(ProtocolError::eof)
    }

    /// Takes `expected` (after any whitespace).
    #[inline]
    fn expect(&mut self, expected: u8) -> Result<()> {
        let found = self.peek()?;
        if found != expected {
            return Err(unexpected(expected, found));
        }
        self.input.advance(1);
        Ok(())
    }

    /// Reads the separator before the next value. Returns whether the value
    /// is an object key.
    #[inline]
    fn separator(&mut self) -> Result<bool> {
        if std::mem::take(&mut self.separator_read) {
            return Ok(self.contexts.current.is_key());
        }
        if let Some(separator) = self.contexts.current.next() {
            self.expect(separator)?;
        }
        Ok(self.contexts.current.is_key())
    }

    fn array_begin(&mut self) -> Result<()> {
        self.separator()?;
        self.expect(b'[')?;
        self.contexts.push(Context::List { first: true })
    }

    fn array_end(&mut self) -> Result<()> {
        self.expect(b']')?;
        self.contexts.pop();
        Ok(())
    }

    fn object_begin(&mut self) -> Result<()> {
        self.separator()?;
        self.expect(b'{')?;
        self.contexts.push(Context::Pair {
            first: true,
            key: true,
        })
    }

    fn object_end(&mut self) -> Result<()> {
        self.expect(b'}')?;
        self.contexts.pop();
        Ok(())
    }

    /// The characters of a number (or of `NaN`/`Infinity`, for doubles).
    fn number_chars(&mut self, letters: bool) -> &[u8] {
        let n = self
            .input
            .rest()
            .iter()
            .take_while(|&&b| {
                matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E')
                    || (letters && b.is_ascii_alphabetic())
            })
            .count();
        let start = self.input.position();
        self.input.advance(n);
        &self.input.rest_from(start)[..n]
    }

    /// An integer, quoted when it is an object key.
    fn integer(&mut self) -> Result<i64> {
        let key = self.separator()?;
        if key {
            self.expect(b'"')?;
        } else {
            self.skip_whitespace();
        }
        let chars = self.number_chars(false);
        let value = std::str::from_utf8(chars)
            .ok()
            .and_then(|text| text.parse::<i64>().ok());
        let Some(value) = value else {
            return Err(bad_number(chars, "an integer"));
        };
        if key {
            self.expect(b'"')?;
        }
        Ok(value)
    }

    /// An integer that must fit type `T`.
    fn narrow<T: TryFrom<i64>>(&mut self, what: &str) -> Result<T> {
        let value = self.integer()?;
        T::try_from(value)
            .map_err(|_| ProtocolError::invalid(format!("{value} does not fit in an {what}")))
    }

    /// A JSON string, after its separator was read: its contents, unescaped.
    fn text(&mut self) -> Result<Text> {
        self.expect(b'"')?;
        let rest = self.input.rest();
        let Some(end) = rest.iter().position(|&b| b == b'"' || b == b'\\') else {
            return Err(ProtocolError::eof());
        };
        let start = self.input.position();
        if rest[end] == b'"' {
            self.input.advance(end + 1);
            return Ok(Text::Slice { start, len: end });
        }
        self.escaped_text()
    }

    /// The rest of a string with escapes in it.
    fn escaped_text(&mut self) -> Result<Text> {
        let max = self.input.limits().max_string_len;
        let mut out = Vec::new();
        loop {
            // Copies the run up to the next quote or backslash at once.
            let rest = self.input.rest();
            let run = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .unwrap_or(rest.len());
            out.extend_from_slice(&rest[..run]);
            self.input.advance(run);
            check_len(out.len(), self.input.limits())?;
            let byte = self.input.u8()?;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escape = self.input.u8()?;
                    let plain = match escape {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut utf8 = [0; 4];
                            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                            check_len(out.len(), self.input.limits())?;
                            continue;
                        }
                        other => {
                            return Err(ProtocolError::invalid(format!(
                                "invalid escape `\\{}` in a JSON string",
                                char::from(other).escape_default()
                            )))
                        }
                    };
                    out.push(plain);
                }
                other => out.push(other),
            }
            if out.len() > max {
                check_len(out.len(), self.input.limits())?;
            }
        }
        Ok(Text::Owned(out))
    }

    /// The character of a `\u` escape (its `\u` read), with the low half of
    /// a surrogate pair when it is the high half.
    fn unicode_escape(&mut self) -> Result<char> {
        let unit = self.hex4()?;
        match unit {
            0xd800..=0xdbff => {
                if self.input.rest().get(..2) != Some(b"\\u") {
                    return Err(ProtocolError::invalid(format!(
                        "high surrogate \\u{unit:04x} not followed by a low surrogate"
                    )));
                }
                self.input.advance(2);
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(ProtocolError::invalid(format!(
                        "high surrogate \\u{unit:04x} followed by \\u{low:04x}, not a low surrogate"
                    )));
                }
                let code = 0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                char::from_u32(code).ok_or_else(|| ProtocolError::invalid("invalid surrogate pair"))
            }
            0xdc00..=0xdfff => Err(ProtocolError::invalid(format!(
                "low surrogate \\u{unit:04x} without a high surrogate"
            ))),
            unit => char::from_u32(u32::from(unit))
                .ok_or_else(|| ProtocolError::invalid("invalid \\u escape")),
        }
    }

    fn hex4(&mut self) -> Result<u16> {
        let digits: [u8; 4] = self.input.array()?;
        let mut value = 0u16;
        for digit in digits {
            let nibble = char::from(digit).to_digit(16).ok_or_else(|| {
                ProtocolError::invalid(format!(
                    "invalid \\u escape `\\u{}`",
                    String::from_utf8_lossy(&digits).escape_default()
                ))
            })?;
            value = (value << 4) | nibble as u16;
        }
        Ok(value)
    }

    /// A string value's bytes (a slice of the input when unescaped), not
    /// checked as UTF-8.
    fn text_bytes(&mut self, text: Text) -> Bytes {
        match text {
            Text::Slice { start, len } => self.input.slice(start, len),
            Text::Owned(bytes) => Bytes::from(bytes),
        }
    }

    fn type_name(&mut self) -> Result<TType> {
        self.separator()?;
        match self.text()? {
            Text::Slice { start, len } => type_of_name(&self.input.rest_from(start)[..len]),
            Text::Owned(bytes) => type_of_name(&bytes),
        }
    }

    fn count(&mut self, per_element: usize) -> Result<usize> {
        let len = self.integer()?;
        self.input.count(len, per_element)
    }

    fn list_header(&mut self) -> Result<ListHeader> {
        self.array_begin()?;
        let element = self.type_name()?;
        let len = self.count(min_size(element))?;
        self.input.enter()?;
        Ok(ListHeader { element, len })
    }

    fn list_end(&mut self) -> Result<()> {
        self.array_end()?;
        self.input.leave();
        Ok(())
    }

    /// Skips a value of type `ttype` without decoding strings or base64.
    fn skip_value(&mut self, ttype: TType) -> Result<()> {
        match ttype {
            TType::String => {
                self.separator()?;
                self.text().map(drop)
            }
            TType::Struct => {
                self.read_struct_begin()?;
                loop {
                    let field = self.read_field_begin()?;
                    if field.ttype == TType::Stop {
                        break;
                    }
                    self.skip_value(field.ttype)?;
                    self.read_field_end()?;
                }
                self.read_struct_end()
            }
            TType::List | TType::Set => {
                let header = self.list_header()?;
                for _ in 0..header.len {
                    self.skip_value(header.element)?;
                }
                self.list_end()
            }
            TType::Map => {
                let header = self.read_map_begin()?;
                for _ in 0..header.len {
                    self.skip_value(header.key)?;
                    self.skip_value(header.value)?;
                }
                self.read_map_end()
            }
            other => super::skip(self, other),
        }
    }
}

impl InputProtocol for JsonReader {
    fn limits(&self) -> &Limits {
        self.input.limits()
    }

    fn remaining(&self) -> usize {
        self.input.remaining()
    }

    fn read_message_begin(&mut self) -> Result<MessageHeader> {
        self.contexts.reset();
        self.separator_read = false;
        self.array_begin()?;
        let version = self.integer()?;
        if version != VERSION {
            return Err(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("unknown JSON protocol version {version}"),
            ));
        }
        let name = self.read_byte_string()?;
        let kind = self.integer()?;
        let kind = u8::try_from(kind)
            .ok()
            .and_then(|kind| MessageType::try_from(kind).ok())
            .ok_or_else(|| ProtocolError::invalid(format!("unknown message type {kind}")))?;
        let seqid = self.narrow::<i32>("i32")?;
        Ok(MessageHeader { name, kind, seqid })
    }

    fn read_message_end(&mut self) -> Result<()> {
        self.array_end()
    }

    fn read_struct_begin(&mut self) -> Result<()> {
        self.input.enter()?;
        self.object_begin()
    }

    fn read_struct_end(&mut self) -> Result<()> {
        self.object_end()?;
        self.input.leave();
        Ok(())
    }

    fn read_field_begin(&mut self) -> Result<FieldHeader> {
        if self.peek()? == b'}' {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let id = self.narrow::<i16>("i16 field id")?;
        self.object_begin()?;
        let ttype = self.type_name()?;
        Ok(FieldHeader { ttype, id })
    }

    fn read_field_end(&mut self) -> Result<()> {
        self.object_end()
    }

    fn read_list_begin(&mut self) -> Result<ListHeader> {
        self.list_header()
    }

    fn read_list_end(&mut self) -> Result<()> {
        self.list_end()
    }

    fn read_set_begin(&mut self) -> Result<ListHeader> {
        self.list_header()
    }

    fn read_set_end(&mut self) -> Result<()> {
        self.list_end()
    }

    fn read_map_begin(&mut self) -> Result<MapHeader> {
        self.array_begin()?;
        let key = self.type_name()?;
        let value = self.type_name()?;
        // A key is at least `""` and its `:`.
        let len = self.count(3 + min_size(value))?;
        self.object_begin()?;
        self.input.enter()?;
        Ok(MapHeader { key, value, len })
    }

    fn read_map_end(&mut self) -> Result<()> {
        self.object_end()?;
        self.array_end()?;
        self.input.leave();
        Ok(())
    }

    fn read_bool(&mut self) -> Result<bool> {
        // As Apache's libraries: 0 is false, anything else true.
        Ok(self.integer()? != 0)
    }

    fn read_i8(&mut self) -> Result<i8> {
        self.narrow("i8")
    }

    fn read_i16(&mut self) -> Result<i16> {
        self.narrow("i16")
    }

    fn read_i32(&mut self) -> Result<i32> {
        self.narrow("i32")
    }

    fn read_i64(&mut self) -> Result<i64> {
        self.integer()
    }

    fn read_double(&mut self) -> Result<f64> {
        let key = self.separator()?;
        let quoted = self.peek()? == b'"';
        if quoted {
            self.input.advance(1);
        } else if key {
            return Err(unexpected(b'"', self.peek()?));
        }
        let chars = self.number_chars(true);
        // `parse` also takes `NaN`, `inf`, `Infinity` in any case.
        let value = std::str::from_utf8(chars)
            .ok()
            .and_then(|text| text.parse::<f64>().ok());
        let Some(value) = value else {
            return Err(bad_number(chars, "a double"));
        };
        if quoted {
            self.expect(b'"')?;
        }
        Ok(value)
    }

    fn read_binary(&mut self) -> Result<Bytes> {
        self.separator()?;
        let text = self.text()?;
        if self.strings_as_text {
            return Ok(self.text_bytes(text));
        }
        let decoded = match &text {
            Text::Slice { start, len } => {
                decode_base64(&self.input.rest_from(*start)[..*len], self.input.limits())
            }
            Text::Owned(bytes) => decode_base64(bytes, self.input.limits()),
        }?;
        Ok(Bytes::from(decoded))
    }

    fn read_string(&mut self) -> Result<String> {
        self.separator()?;
        match self.text()? {
            Text::Slice { start, len } => {
                check_len(len, self.input.limits())?;
                let bytes = &self.input.rest_from(start)[..len];
                crate::string::validate_utf8(bytes).map_err(super::input::utf8_error)?;
                // Just checked.
                Ok(String::from_utf8_lossy(bytes).into_owned())
            }
            Text::Owned(bytes) => {
                String::from_utf8(bytes).map_err(|e| super::input::utf8_error(e.utf8_error()))
            }
        }
    }

    fn read_byte_string(&mut self) -> Result<crate::ByteString> {
        self.separator()?;
        let text = self.text()?;
        if let Text::Slice { len, .. } = text {
            check_len(len, self.input.limits())?;
        }
        let bytes = self.text_bytes(text);
        crate::ByteString::from_utf8(bytes).map_err(super::input::utf8_error)
    }

    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.separator()?;
        let bytes = match self.text()? {
            Text::Slice { start, len } => parse_uuid(&self.input.rest_from(start)[..len]),
            Text::Owned(bytes) => parse_uuid(&bytes),
        };
        bytes.ok_or_else(|| ProtocolError::invalid("invalid uuid string"))
    }

    fn skip(&mut self, ttype: TType) -> Result<()> {
        self.skip_value(ttype)
    }

    /// The value as the JSON it arrived in: a slice of the input.
    fn read_raw_value(&mut self, ttype: TType) -> Result<RawValue> {
        self.separator()?;
        self.separator_read = true;
        self.skip_whitespace();
        let start = self.input.position();
        let skipped = self.skip_value(ttype);
        self.separator_read = false;
        skipped?;
        Ok(RawValue::new(
            ProtocolId::Json,
            ttype,
            self.input.since(start),
        ))
    }
}

/// Re-encodes a value kept from the JSON protocol, as
/// [`RawValue::transcode`] does. The wire does not say whether a string is
/// text or base64 `binary`: it is taken as text.
pub(super) fn transcode<O: OutputProtocol>(value: &RawValue, output: &mut O) -> Result<()> {
    super::copy(
        &mut JsonReader::new(value.bytes().clone()).text_strings(),
        output,
        value.ttype(),
    )
}

fn check_len(len: usize, limits: &Limits) -> Result<()> {
    if len > limits.max_string_len {
        return Err(ProtocolError::new(
            ProtocolErrorKind::SizeLimit,
            format!(
                "string of {len} bytes is over the limit of {}",
                limits.max_string_len
            ),
        ));
    }
    Ok(())
}

#[cold]
fn unexpected(expected: u8, found: u8) -> ProtocolError {
    ProtocolError::invalid(format!(
        "expected `{}`, found `{}` in JSON",
        char::from(expected),
        char::from(found).escape_default()
    ))
}

#[cold]
fn bad_number(chars: &[u8], what: &str) -> ProtocolError {
    if chars.is_empty() {
        return ProtocolError::invalid(format!("expected {what} in JSON"));
    }
    let shown = String::from_utf8_lossy(&chars[..chars.len().min(32)]).into_owned();
    ProtocolError::invalid(format!("`{shown}` is not {what}"))
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_value(byte: u8) -> Option<u32> {
    Some(u32::from(match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes base64 with or without its `=` padding.
fn decode_base64(text: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let unpadded = match text {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] => rest,
        _ => text,
    };
    if unpadded.len() % 4 == 1 || (unpadded.len() != text.len() && text.len() % 4 != 0) {
        return Err(ProtocolError::invalid(format!(
            "invalid base64: {} characters",
            text.len()
        )));
    }
    let decoded_len = unpadded.len() / 4 * 3 + (unpadded.len() % 4).saturating_sub(1);
    check_len(decoded_len, limits)?;
    let mut out = Vec::with_capacity(decoded_len);
    for chunk in unpadded.chunks(4) {
        let mut word = 0u32;
        for (i, &byte) in chunk.iter().enumerate() {
            let Some(value) = base64_value(byte) else {
                return Err(ProtocolError::invalid(format!(
                    "invalid base64 character `{}`",
                    char::from(byte).escape_default()
                )));
            };
            word |= value << (18 - 6 * i);
        }
        let bytes = word.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

fn encode_base64(bytes: &[u8], out: &mut BytesMut) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut word = [0u8; 4];
        word[1..=chunk.len()].copy_from_slice(chunk);
        let word = u32::from_be_bytes(word);
        for i in 0..4 {
            if i <= chunk.len() {
                out.put_u8(BASE64[((word >> (18 - 6 * i)) & 0x3f) as usize]);
            } else {
                out.put_u8(b'=');
            }
        }
    }
}

/// A uuid in its 8-4-4-4-12 hex form, in lower case.
pub(crate) fn format_uuid(value: &[u8; 16]) -> [u8; 36] {
    let mut text = [0u8; 36];
    let mut at = 0;
    for (i, byte) in value.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text[at] = b'-';
            at += 1;
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 0x0f)];
        at += 2;
    }
    text
}

/// A uuid in its 8-4-4-4-12 hex form (either case).
pub(crate) fn parse_uuid(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = text
        .iter()
        .enumerate()
        .filter(|&(i, _)| !matches!(i, 8 | 13 | 18 | 23));
    for byte in &mut out {
        let (_, &high) = digits.next()?;
        let (_, &low) = digits.next()?;
        let high = char::from(high).to_digit(16)?;
        let low = char::from(low).to_digit(16)?;
        *byte = (high << 4 | low) as u8;
    }
    [8, 13, 18, 23]
        .iter()
        .all(|&i| text[i] == b'-')
        .then_some(out)
}

/// Writes Apache's JSON protocol into a buffer.
#[derive(Debug)]
pub struct JsonWriter<'a> {
    out: &'a mut BytesMut,
    depth: Depth,
    contexts: Contexts,
}

impl<'a> JsonWriter<'a> {
    /// A writer appending to `out`, with the default depth limit.
    pub fn new(out: &'a mut BytesMut) -> JsonWriter<'a> {
        JsonWriter::with_limits(out, Limits::DEFAULT)
    }

    /// A writer appending to `out`, nesting at most `limits.max_depth` deep.
    pub fn with_limits(out: &'a mut BytesMut, limits: Limits) -> JsonWriter<'a> {
        JsonWriter {
            out,
            depth: Depth::new(limits.max_depth),
            contexts: Contexts::new(max_contexts(&limits)),
        }
    }

    /// Writes the separator before the next value; returns whether the value
    /// is an object key.
    #[inline]
    fn separator(&mut self) -> bool {
        if let Some(separator) = self.contexts.current.next() {
            self.out.put_u8(separator);
        }
        self.contexts.current.is_key()
    }

    fn array_begin(&mut self) -> Result<()> {
        self.separator();
        self.out.put_u8(b'[');
        self.contexts.push(Context::List { first: true })
    }

    fn array_end(&mut self) {
        self.contexts.pop();
        self.out.put_u8(b']');
    }

    fn object_begin(&mut self) -> Result<()> {
        self.separator();
        self.out.put_u8(b'{');
        self.contexts.push(Context::Pair {
            first: true,
            key: true,
        })
    }

    fn object_end(&mut self) {
        self.contexts.pop();
        self.out.put_u8(b'}');
    }

    /// A number, quoted in key position.
    fn number(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write;
        let key = self.separator();
        if key {
            self.out.put_u8(b'"');
        }
        // Writing into a `BytesMut` cannot fail.
        let _ = write!(self.out, "{value}");
        if key {
            self.out.put_u8(b'"');
        }
    }

    /// A JSON string of `text`: `"` and `\` escaped, control characters as
    /// their short escapes or `\u00XX`, everything else as it is (UTF-8).
    fn string(&mut self, text: &[u8]) {
        self.separator();
        self.out.reserve(text.len() + 2);
        self.out.put_u8(b'"');
        let mut plain = 0;
        for (i, &byte) in text.iter().enumerate() {
            let escape: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => b"",
                _ => continue,
            };
            self.out.put_slice(&text[plain..i]);
            plain = i + 1;
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.out.put_slice(b"\\u00");
                self.out.put_u8(HEX[usize::from(byte >> 4)]);
                self.out.put_u8(HEX[usize::from(byte & 0x0f)]);
            } else {
                self.out.put_slice(escape);
            }
        }
        self.out.put_slice(&text[plain..]);
        self.out.put_u8(b'"');
    }

    fn type_name(&mut self, ttype: TType) -> Result<()> {
        let name = type_name(ttype)?;
        self.string(name.as_bytes());
        Ok(())
    }

    fn list_header(&mut self, element: TType, len: usize) -> Result<()> {
        self.depth.enter()?;
        self.array_begin()?;
        self.type_name(element)?;
        self.number(super::input::wire_len(len)?);
        Ok(())
    }

    fn list_end(&mut self) -> Result<()> {
        self.array_end();
        self.depth.leave();
        Ok(())
    }
}

impl OutputProtocol for JsonWriter<'_> {
    fn write_message_begin(&mut self, header: &MessageHeader) -> Result<()> {
        self.contexts.reset();
        self.array_begin()?;
        self.number(VERSION);
        self.string(header.name.as_bytes());
        self.number(header.kind as u8);
        self.number(header.seqid);
        Ok(())
    }

    fn write_message_end(&mut self) -> Result<()> {
        self.array_end();
        Ok(())
    }

    fn write_struct_begin(&mut self, _name: &'static str) -> Result<()> {
        self.depth.enter()?;
        self.object_begin()
    }

    fn write_struct_end(&mut self) -> Result<()> {
        self.object_end();
        self.depth.leave();
        Ok(())
    }

    fn write_field_begin(&mut self, ttype: TType, id: i16) -> Result<()> {
        let name = type_name(ttype)?;
        self.number(id);
        self.object_begin()?;
        self.string(name.as_bytes());
        Ok(())
    }

    fn write_field_end(&mut self) -> Result<()> {
        self.object_end();
        Ok(())
    }

    fn write_field_stop(&mut self) -> Result<()> {
        Ok(())
    }

    fn write_list_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.list_header(element, len)
    }

    fn write_list_end(&mut self) -> Result<()> {
        self.list_end()
    }

    fn write_set_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.list_header(element, len)
    }

    fn write_set_end(&mut self) -> Result<()> {
        self.list_end()
    }

    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()> {
        self.depth.enter()?;
        self.array_begin()?;
        self.type_name(key)?;
        self.type_name(value)?;
        self.number(super::input::wire_len(len)?);
        self.object_begin()
    }

    fn write_map_end(&mut self) -> Result<()> {
        self.object_end();
        self.array_end();
        self.depth.leave();
        Ok(())
    }

    fn write_bool(&mut self, value: bool) -> Result<()> {
        self.number(u8::from(value));
        Ok(())
    }

    fn write_i8(&mut self, value: i8) -> Result<()> {
        self.number(value);
        Ok(())
    }

    fn write_i16(&mut self, value: i16) -> Result<()> {
        self.number(value);
        Ok(())
    }

    fn write_i32(&mut self, value: i32) -> Result<()> {
        self.number(value);
        Ok(())
    }

    fn write_i64(&mut self, value: i64) -> Result<()> {
        self.number(value);
        Ok(())
    }

    fn write_double(&mut self, value: f64) -> Result<()> {
        let special = if value.is_nan() {
            "NaN"
        } else if value == f64::INFINITY {
            "Infinity"
        } else if value == f64::NEG_INFINITY {
            "-Infinity"
        } else {
            // Debug is the shortest text that reads back as the same bits
            // (`1.0`, `0.1`, `1e100`, `-0.0`), all valid JSON numbers;
            // integral values lose their `.0`, as Apache's Python library
            // writes them (`1`, `-0`).
            let mut text = format!("{value:?}");
            if text.ends_with(".0") {
                text.truncate(text.len() - 2);
            }
            self.number(text);
            return Ok(());
        };
        self.string(special.as_bytes());
        Ok(())
    }

    fn write_binary(&mut self, value: &[u8]) -> Result<()> {
        self.separator();
        self.out.put_u8(b'"');
        encode_base64(value, self.out);
        self.out.put_u8(b'"');
        Ok(())
    }

    fn write_string(&mut self, value: &str) -> Result<()> {
        self.string(value.as_bytes());
        Ok(())
    }

    fn write_uuid(&mut self, value: &[u8; 16]) -> Result<()> {
        self.string(&format_uuid(value));
        Ok(())
    }

    /// A value kept from the JSON protocol is copied as it is; others are
    /// re-encoded.
    fn write_raw_value(&mut self, value: &RawValue) -> Result<()> {
        if value.protocol() == ProtocolId::Json {
            self.separator();
            self.out.put_slice(value.bytes());
            return Ok(());
        }
        value.transcode(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_with_and_without_padding() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            let mut out = BytesMut::new();
            encode_base64(&bytes, &mut out);
            assert_eq!(out.len() % 4, 0);
            assert_eq!(decode_base64(&out, &Limits::DEFAULT).unwrap(), bytes);
            let unpadded: Vec<u8> = out.iter().copied().filter(|&b| b != b'=').collect();
            assert_eq!(decode_base64(&unpadded, &Limits::DEFAULT).unwrap(), bytes);
        }
        let mut out = BytesMut::new();
        encode_base64(b"\x00\x01\xff", &mut out);
        assert_eq!(&out[..], b"AAH/");
    }

    #[test]
    fn uuids_read_back() {
        let text = b"00112233-4455-6677-8899-aabbccddeeff";
        let bytes = parse_uuid(text).unwrap();
        assert_eq!(bytes[15], 0xff);
        assert_eq!(parse_uuid(b"00112233-4455-6677-8899_aabbccddeeff"), None);
        assert_eq!(parse_uuid(b"0011223344556677-8899-aabbccddeeff"), None);
    }
}
