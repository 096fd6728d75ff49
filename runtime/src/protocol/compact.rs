//! The compact protocol (Apache's `thrift-compact-protocol.md`): zigzag
//! varints, field ids as deltas (with a stack across nested structs), bools
//! folded into field headers, little-endian doubles.

use super::input::{wire_len, Depth, IdStack, Input};
use super::{
    FieldHeader, InputProtocol, Limits, ListHeader, MapHeader, MessageHeader, OutputProtocol,
    ProtocolError, ProtocolErrorKind, ProtocolId, RawValue, Result,
};
use crate::buffer::Splices;
use crate::wire::{MessageType, TType};
use bytes::{BufMut, Bytes, BytesMut};

const PROTOCOL_ID: u8 = 0x82;
const VERSION: u8 = 1;
const VERSION_MASK: u8 = 0x1f;
/// A varint of a 64-bit value takes at most 10 bytes.
const MAX_VARINT_LEN: usize = 10;

/// Compact type codes.
mod ct {
    pub const STOP: u8 = 0;
    pub const BOOL_TRUE: u8 = 1;
    pub const BOOL_FALSE: u8 = 2;
    pub const I8: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const UUID: u8 = 13;
}

/// The wire type of each compact type code (`None`: not a type).
const TYPES: [Option<TType>; 16] = [
    None,
    Some(TType::Bool),
    Some(TType::Bool),
    Some(TType::I8),
    Some(TType::I16),
    Some(TType::I32),
    Some(TType::I64),
    Some(TType::Double),
    Some(TType::String),
    Some(TType::List),
    Some(TType::Set),
    Some(TType::Map),
    Some(TType::Struct),
    Some(TType::Uuid),
    None,
    None,
];

#[inline]
fn from_compact(code: u8) -> Result<TType> {
    match TYPES.get(usize::from(code)) {
        Some(&Some(ttype)) => Ok(ttype),
        _ => Err(unknown_compact_type(code)),
    }
}

#[cold]
#[inline(never)]
fn unknown_compact_type(code: u8) -> ProtocolError {
    ProtocolError::invalid(format!("unknown compact type {code}"))
}

/// The compact code of a type. Bool elements use `BOOL_TRUE`, as Apache's
/// C++, Java and Python libraries write them (readers accept either code).
fn to_compact(ttype: TType) -> u8 {
    match ttype {
        TType::Stop | TType::Void => ct::STOP,
        TType::Bool => ct::BOOL_TRUE,
        TType::I8 => ct::I8,
        TType::I16 => ct::I16,
        TType::I32 => ct::I32,
        TType::I64 => ct::I64,
        TType::Double => ct::DOUBLE,
        TType::String => ct::BINARY,
        TType::Struct => ct::STRUCT,
        TType::Map => ct::MAP,
        TType::Set => ct::SET,
        TType::List => ct::LIST,
        TType::Uuid => ct::UUID,
    }
}

/// The fewest bytes a value takes in the compact protocol.
fn min_size(ttype: TType) -> usize {
    match ttype {
        TType::Double => 8,
        TType::Uuid => 16,
        _ => 1,
    }
}

fn zigzag_32(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

fn zigzag_64(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag_64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Reads the compact protocol from one message.
#[derive(Debug)]
pub struct CompactReader {
    input: Input,
    last_field_id: i16,
    /// The last field id of each enclosing struct.
    field_ids: IdStack,
    /// The value of a bool field, carried in its header.
    pending_bool: Option<bool>,
}

impl CompactReader {
    /// A reader over `buf` with the default [`Limits`].
    pub fn new(buf: Bytes) -> CompactReader {
        CompactReader::with_limits(buf, Limits::DEFAULT)
    }

    /// A reader over `buf` enforcing `limits`.
    pub fn with_limits(buf: Bytes, limits: Limits) -> CompactReader {
        CompactReader {
            input: Input::new(buf, limits),
            last_field_id: 0,
            field_ids: IdStack::default(),
            pending_bool: None,
        }
    }

    #[inline]
    fn varint(&mut self) -> Result<u64> {
        // Most varints (lengths, counts, small numbers) are one byte.
        if let Some(&byte) = self.input.rest().first() {
            if byte < 0x80 {
                self.input.advance(1);
                return Ok(u64::from(byte));
            }
        }
        self.long_varint()
    }

    fn long_varint(&mut self) -> Result<u64> {
        let rest = self.input.rest();
        let mut value = 0u64;
        for (i, &byte) in rest.iter().take(MAX_VARINT_LEN).enumerate() {
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a 64-bit value.
            if i == MAX_VARINT_LEN - 1 && bits > 1 {
                return Err(ProtocolError::invalid("varint overflows 64 bits"));
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                self.input.advance(i + 1);
                return Ok(value);
            }
        }
        if rest.len() < MAX_VARINT_LEN {
            return Err(ProtocolError::eof());
        }
        Err(ProtocolError::invalid("varint longer than 10 bytes"))
    }

    #[inline]
    fn varint_32(&mut self) -> Result<u32> {
        u32::try_from(self.varint()?)
            .map_err(|_| ProtocolError::invalid("varint overflows 32 bits"))
    }

    /// A length or count: a varint read as a signed 32-bit number.
    #[inline]
    fn size(&mut self) -> Result<i64> {
        Ok(i64::from(self.varint_32()? as i32))
    }

    #[inline]
    fn element_type(&mut self, code: u8) -> Result<TType> {
        from_compact(code)
    }

    /// A field header in any form (the stop field, a long id, errors).
    fn field_header(&mut self) -> Result<FieldHeader> {
        let byte = self.input.u8()?;
        let code = byte & 0x0f;
        if code == ct::STOP {
            return Ok(FieldHeader {
                ttype: TType::Stop,
                id: 0,
            });
        }
        let ttype = from_compact(code)?;
        let delta = byte >> 4;
        let id = if delta == 0 {
            let raw = unzigzag_64(u64::from(self.varint_32()?));
            i16::try_from(raw)
                .map_err(|_| ProtocolError::invalid(format!("field id {raw} is not 16-bit")))?
        } else {
            self.last_field_id
                .checked_add(i16::from(delta))
                .ok_or_else(|| ProtocolError::invalid("field id overflows 16 bits"))?
        };
        self.last_field_id = id;
        self.pending_bool = match code {
            ct::BOOL_TRUE => Some(true),
            ct::BOOL_FALSE => Some(false),
            _ => None,
        };
        Ok(FieldHeader { ttype, id })
    }

    #[inline]
    fn list_header(&mut self) -> Result<ListHeader> {
        let byte = self.input.u8()?;
        let element = self.element_type(byte & 0x0f)?;
        let short = byte >> 4;
        let len = if short == 15 {
            self.size()?
        } else {
            i64::from(short)
        };
        let len = self.input.count(len, min_size(element))?;
        self.input.enter()?;
        Ok(ListHeader { element, len })
    }
}

impl InputProtocol for CompactReader {
    #[inline]
    fn limits(&self) -> &Limits {
        self.input.limits()
    }

    #[inline]
    fn remaining(&self) -> usize {
        self.input.remaining()
    }

    #[inline]
    fn read_message_begin(&mut self) -> Result<MessageHeader> {
        let id = self.input.u8()?;
        if id != PROTOCOL_ID {
            return Err(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("not a compact protocol message (first byte {id:#04x})"),
            ));
        }
        let byte = self.input.u8()?;
        if byte & VERSION_MASK != VERSION {
            return Err(ProtocolError::new(
                ProtocolErrorKind::BadVersion,
                format!("unknown compact protocol version {}", byte & VERSION_MASK),
            ));
        }
        let kind =
            MessageType::try_from(byte >> 5).map_err(|e| ProtocolError::invalid(e.to_string()))?;
        let seqid = self.varint_32()? as i32;
        let name = self.read_byte_string()?;
        Ok(MessageHeader { name, kind, seqid })
    }

    #[inline]
    fn read_struct_begin(&mut self) -> Result<()> {
        self.input.enter()?;
        self.field_ids.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    #[inline]
    fn read_struct_end(&mut self) -> Result<()> {
        self.input.leave();
        self.last_field_id = self.field_ids.pop();
        Ok(())
    }

    #[inline(always)]
    fn read_field_begin(&mut self) -> Result<FieldHeader> {
        // The common header: one byte, the id as a delta from the last one.
        if let Some(&byte) = self.input.rest().first() {
            let (delta, code) = (byte >> 4, byte & 0x0f);
            if delta != 0 {
                if let (Some(&Some(ttype)), Some(id)) = (
                    TYPES.get(usize::from(code)),
                    self.last_field_id.checked_add(i16::from(delta)),
                ) {
                    self.input.advance(1);
                    self.last_field_id = id;
                    self.pending_bool = match code {
                        ct::BOOL_TRUE => Some(true),
                        ct::BOOL_FALSE => Some(false),
                        _ => None,
                    };
                    return Ok(FieldHeader { ttype, id });
                }
            }
        }
        self.field_header()
    }

    #[inline]
    fn read_list_begin(&mut self) -> Result<ListHeader> {
        self.list_header()
    }

    #[inline]
    fn read_list_end(&mut self) -> Result<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_set_begin(&mut self) -> Result<ListHeader> {
        self.list_header()
    }

    #[inline]
    fn read_set_end(&mut self) -> Result<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_map_begin(&mut self) -> Result<MapHeader> {
        let len = self.size()?;
        if len == 0 {
            // The empty map is one byte and names no types.
            self.input.enter()?;
            return Ok(MapHeader {
                key: TType::Stop,
                value: TType::Stop,
                len: 0,
            });
        }
        let types = self.input.u8()?;
        let key = self.element_type(types >> 4)?;
        let value = self.element_type(types & 0x0f)?;
        let len = self.input.count(len, min_size(key) + min_size(value))?;
        self.input.enter()?;
        Ok(MapHeader { key, value, len })
    }

    #[inline]
    fn read_map_end(&mut self) -> Result<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_bool(&mut self) -> Result<bool> {
        match self.pending_bool.take() {
            Some(value) => Ok(value),
            // Elements: 1 is true; 0 (the spec) and 2 (Apache's libraries) are false.
            None => Ok(self.input.u8()? == ct::BOOL_TRUE),
        }
    }

    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.input.u8()? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        let raw = unzigzag_64(u64::from(self.varint_32()?));
        i16::try_from(raw)
            .map_err(|_| ProtocolError::invalid(format!("{raw} does not fit in an i16")))
    }

    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        let raw = unzigzag_64(u64::from(self.varint_32()?));
        i32::try_from(raw)
            .map_err(|_| ProtocolError::invalid(format!("{raw} does not fit in an i32")))
    }

    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(unzigzag_64(self.varint()?))
    }

    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_le_bytes(self.input.array()?)))
    }

    #[inline]
    fn read_binary(&mut self) -> Result<Bytes> {
        let len = self.size()?;
        self.input.bytes(len)
    }

    #[inline]
    fn read_string(&mut self) -> Result<String> {
        let len = self.size()?;
        self.input.string(len)
    }

    #[inline]
    fn read_byte_string(&mut self) -> Result<crate::ByteString> {
        let len = self.size()?;
        self.input.byte_string(len)
    }

    #[inline]
    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.input.array()
    }

    #[inline]
    fn read_raw_value(&mut self, ttype: TType) -> Result<RawValue> {
        if ttype == TType::Bool {
            // A bool field's value is in its header: keep the element form.
            let bytes: &'static [u8] = if self.read_bool()? {
                &[ct::BOOL_TRUE]
            } else {
                &[ct::BOOL_FALSE]
            };
            return Ok(RawValue::new(
                ProtocolId::Compact,
                ttype,
                Bytes::from_static(bytes),
            ));
        }
        let start = self.input.position();
        super::skip(self, ttype)?;
        Ok(RawValue::new(
            ProtocolId::Compact,
            ttype,
            self.input.since(start),
        ))
    }
}

/// Writes the compact protocol into a buffer.
#[derive(Debug)]
pub struct CompactWriter<'a> {
    out: &'a mut BytesMut,
    /// Where large `Bytes` go by reference instead of into `out`.
    splices: Option<&'a mut Splices>,
    depth: Depth,
    last_field_id: i16,
    field_ids: Vec<i16>,
    /// A bool field whose header waits for its value.
    pending_bool_field: Option<i16>,
}

impl<'a> CompactWriter<'a> {
    /// A writer appending to `out`, with the default depth limit.
    pub fn new(out: &'a mut BytesMut) -> CompactWriter<'a> {
        CompactWriter::with_limits(out, Limits::DEFAULT)
    }

    /// A writer appending to `out`, nesting at most `limits.max_depth` deep.
    pub fn with_limits(out: &'a mut BytesMut, limits: Limits) -> CompactWriter<'a> {
        CompactWriter {
            out,
            splices: None,
            depth: Depth::new(limits.max_depth),
            last_field_id: 0,
            field_ids: Vec::new(),
            pending_bool_field: None,
        }
    }

    /// A writer appending to `out` that splices `binary` and `string`
    /// values held in [`Bytes`] of [`Splices::wants`] length into `splices`
    /// instead of copying them ([`OutputProtocol::write_bytes`]): `out` then
    /// holds their length prefixes only, and the message is `out` with the
    /// splices put in at their offsets (which are offsets of `out`).
    pub fn splicing(
        out: &'a mut BytesMut,
        splices: &'a mut Splices,
        limits: Limits,
    ) -> CompactWriter<'a> {
        let mut writer = CompactWriter::with_limits(out, limits);
        writer.splices = Some(splices);
        writer
    }

    #[inline]
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.put_u8((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.put_u8(n as u8);
    }

    #[inline]
    fn field_header(&mut self, code: u8, id: i16) {
        let delta = i32::from(id) - i32::from(self.last_field_id);
        if (1..=15).contains(&delta) {
            self.out.put_u8(((delta as u8) << 4) | code);
        } else {
            self.out.put_u8(code);
            self.varint(u64::from(zigzag_32(i32::from(id))));
        }
        self.last_field_id = id;
    }

    #[inline]
    fn list_header(&mut self, element: TType, len: usize) -> Result<()> {
        let code = to_compact(element);
        if len <= 14 {
            self.out.put_u8(((len as u8) << 4) | code);
        } else {
            self.out.put_u8(0xf0 | code);
            self.varint(u64::from(wire_len(len)? as u32));
        }
        Ok(())
    }
}

impl OutputProtocol for CompactWriter<'_> {
    #[inline]
    fn write_message_begin(&mut self, header: &MessageHeader) -> Result<()> {
        self.out.put_u8(PROTOCOL_ID);
        self.out.put_u8(((header.kind as u8) << 5) | VERSION);
        self.varint(u64::from(header.seqid as u32));
        self.write_string(&header.name)
    }

    #[inline]
    fn write_struct_begin(&mut self, _name: &'static str) -> Result<()> {
        self.depth.enter()?;
        self.field_ids.push(self.last_field_id);
        self.last_field_id = 0;
        Ok(())
    }

    #[inline]
    fn write_struct_end(&mut self) -> Result<()> {
        self.depth.leave();
        self.last_field_id = self.field_ids.pop().unwrap_or(0);
        Ok(())
    }

    #[inline]
    fn write_field_begin(&mut self, ttype: TType, id: i16) -> Result<()> {
        if ttype == TType::Bool {
            self.pending_bool_field = Some(id);
        } else {
            self.field_header(to_compact(ttype), id);
        }
        Ok(())
    }

    #[inline]
    fn write_field_stop(&mut self) -> Result<()> {
        self.out.put_u8(ct::STOP);
        Ok(())
    }

    #[inline]
    fn write_list_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.list_header(element, len)
    }

    #[inline]
    fn write_set_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.list_header(element, len)
    }

    #[inline]
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()> {
        if len == 0 {
            self.out.put_u8(0);
        } else {
            self.varint(u64::from(wire_len(len)? as u32));
            self.out.put_u8((to_compact(key) << 4) | to_compact(value));
        }
        Ok(())
    }

    #[inline]
    fn write_bool(&mut self, value: bool) -> Result<()> {
        let code = if value { ct::BOOL_TRUE } else { ct::BOOL_FALSE };
        match self.pending_bool_field.take() {
            Some(id) => self.field_header(code, id),
            None => self.out.put_u8(code),
        }
        Ok(())
    }

    #[inline]
    fn write_i8(&mut self, value: i8) -> Result<()> {
        self.out.put_i8(value);
        Ok(())
    }

    #[inline]
    fn write_i16(&mut self, value: i16) -> Result<()> {
        self.varint(u64::from(zigzag_32(i32::from(value))));
        Ok(())
    }

    #[inline]
    fn write_i32(&mut self, value: i32) -> Result<()> {
        self.varint(u64::from(zigzag_32(value)));
        Ok(())
    }

    #[inline]
    fn write_i64(&mut self, value: i64) -> Result<()> {
        self.varint(zigzag_64(value));
        Ok(())
    }

    #[inline]
    fn write_double(&mut self, value: f64) -> Result<()> {
        self.out.put_u64_le(value.to_bits());
        Ok(())
    }

    #[inline]
    fn write_binary(&mut self, value: &[u8]) -> Result<()> {
        self.varint(u64::from(wire_len(value.len())? as u32));
        self.out.put_slice(value);
        Ok(())
    }

    #[inline]
    fn write_bytes(&mut self, value: &Bytes) -> Result<()> {
        if !self.splices.as_ref().is_some_and(|s| s.wants(value.len())) {
            return self.write_binary(value);
        }
        self.varint(u64::from(wire_len(value.len())? as u32));
        let at = self.out.len();
        if let Some(splices) = &mut self.splices {
            splices.push(at, value.clone());
        }
        Ok(())
    }

    #[inline]
    fn write_byte_string(&mut self, value: &crate::ByteString) -> Result<()> {
        // Text kept inline is short: copied, as splicing never pays for it.
        match value.shared() {
            Some(bytes) => self.write_bytes(bytes),
            None => self.write_string(value),
        }
    }

    #[inline]
    fn write_uuid(&mut self, value: &[u8; 16]) -> Result<()> {
        self.out.put_slice(value);
        Ok(())
    }

    fn write_raw_value(&mut self, value: &RawValue) -> Result<()> {
        match value.protocol() {
            // Through `write_bool`, which folds a field's value into its header.
            ProtocolId::Compact if value.ttype() == TType::Bool => {
                self.write_bool(value.bytes().first() == Some(&ct::BOOL_TRUE))
            }
            ProtocolId::Compact => {
                self.out.put_slice(value.bytes());
                Ok(())
            }
            _ => value.transcode(self),
        }
    }
}
