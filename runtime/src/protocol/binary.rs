//! The binary protocol (Apache's `thrift-binary-protocol.md`): fixed-width
//! big-endian integers, `i32` lengths. Messages are written strict and read
//! in both the strict and the old non-strict form.

use super::input::{wire_len, Depth, Input};
use super::{
    FieldHeader, InputProtocol, Limits, ListHeader, MapHeader, MessageHeader, OutputProtocol,
    ProtocolError, ProtocolErrorKind, ProtocolId, RawValue, Result,
};
use crate::buffer::Splices;
use crate::wire::{MessageType, TType};
use bytes::{BufMut, Bytes, BytesMut};

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xffff_0000;

/// Reads the binary protocol from one message.
#[derive(Debug)]
pub struct BinaryReader {
    input: Input,
}

impl BinaryReader {
    /// A reader over `buf` with the default [`Limits`].
    pub fn new(buf: Bytes) -> BinaryReader {
        BinaryReader::with_limits(buf, Limits::DEFAULT)
    }

    /// A reader over `buf` enforcing `limits`.
    pub fn with_limits(buf: Bytes, limits: Limits) -> BinaryReader {
        BinaryReader {
            input: Input::new(buf, limits),
        }
    }

    #[inline]
    fn ttype(&mut self) -> Result<TType> {
        let byte = self.input.u8()?;
        TType::from_code(byte).ok_or_else(|| unknown_type(byte))
    }

    /// An element type of a container: a real type, not `Stop` or `Void`.
    #[inline]
    fn element_type(&mut self) -> Result<TType> {
        match self.ttype()? {
            TType::Stop | TType::Void => {
                Err(ProtocolError::invalid("invalid container element type"))
            }
            t => Ok(t),
        }
    }

    #[inline]
    fn list_header(&mut self) -> Result<ListHeader> {
        let element = self.element_type()?;
        let len = self.read_i32()?;
        let len = self.input.count(len.into(), element.binary_min_size())?;
        self.input.enter()?;
        Ok(ListHeader { element, len })
    }
}

impl InputProtocol for BinaryReader {
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
        let first = self.read_i32()?;
        if first < 0 {
            let word = first as u32;
            if word & VERSION_MASK != VERSION_1 {
                return Err(ProtocolError::new(
                    ProtocolErrorKind::BadVersion,
                    format!(
                        "unknown binary protocol version {:#010x}",
                        word & VERSION_MASK
                    ),
                ));
            }
            let kind = message_type(word as u8)?;
            let name = self.read_byte_string()?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader { name, kind, seqid })
        } else {
            // Old non-strict form: the name's length comes first.
            let name = self.input.byte_string(first.into())?;
            let kind = message_type(self.input.u8()?)?;
            let seqid = self.read_i32()?;
            Ok(MessageHeader { name, kind, seqid })
        }
    }

    #[inline]
    fn read_struct_begin(&mut self) -> Result<()> {
        self.input.enter()
    }

    #[inline]
    fn read_struct_end(&mut self) -> Result<()> {
        self.input.leave();
        Ok(())
    }

    #[inline]
    fn read_field_begin(&mut self) -> Result<FieldHeader> {
        // A field header is three bytes: one bounds check for all of them.
        if let Some(&[code, hi, lo]) = self.input.rest().first_chunk::<3>() {
            if code != TType::Stop as u8 {
                if let Some(ttype) = TType::from_code(code) {
                    self.input.advance(3);
                    let id = i16::from_be_bytes([hi, lo]);
                    return Ok(FieldHeader { ttype, id });
                }
            }
        }
        let ttype = self.ttype()?;
        if ttype == TType::Stop {
            return Ok(FieldHeader { ttype, id: 0 });
        }
        let id = self.read_i16()?;
        Ok(FieldHeader { ttype, id })
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
        let key = self.element_type()?;
        let value = self.element_type()?;
        let len = self.read_i32()?;
        let len = self
            .input
            .count(len.into(), key.binary_min_size() + value.binary_min_size())?;
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
        Ok(self.input.u8()? != 0)
    }

    #[inline]
    fn read_i8(&mut self) -> Result<i8> {
        Ok(self.input.u8()? as i8)
    }

    #[inline]
    fn read_i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(self.input.array()?))
    }

    #[inline]
    fn read_i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.input.array()?))
    }

    #[inline]
    fn read_i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.input.array()?))
    }

    #[inline]
    fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_bits(u64::from_be_bytes(self.input.array()?)))
    }

    #[inline]
    fn read_binary(&mut self) -> Result<Bytes> {
        let len = self.read_i32()?;
        self.input.bytes(len.into())
    }

    #[inline]
    fn read_string(&mut self) -> Result<String> {
        let len = self.read_i32()?;
        self.input.string(len.into())
    }

    #[inline]
    fn read_byte_string(&mut self) -> Result<crate::ByteString> {
        let len = self.read_i32()?;
        self.input.byte_string(len.into())
    }

    #[inline]
    fn read_uuid(&mut self) -> Result<[u8; 16]> {
        self.input.array()
    }

    #[inline]
    fn read_raw_value(&mut self, ttype: TType) -> Result<RawValue> {
        let start = self.input.position();
        super::skip(self, ttype)?;
        Ok(RawValue::new(
            ProtocolId::Binary,
            ttype,
            self.input.since(start),
        ))
    }
}

#[cold]
fn unknown_type(byte: u8) -> ProtocolError {
    ProtocolError::invalid(crate::wire::UnknownTType(byte).to_string())
}

fn message_type(byte: u8) -> Result<MessageType> {
    MessageType::try_from(byte).map_err(|e| ProtocolError::invalid(e.to_string()))
}

/// Writes the binary protocol (strict message headers) into a buffer.
#[derive(Debug)]
pub struct BinaryWriter<'a> {
    out: &'a mut BytesMut,
    /// Where large `Bytes` go by reference instead of into `out`.
    splices: Option<&'a mut Splices>,
    depth: Depth,
}

impl<'a> BinaryWriter<'a> {
    /// A writer appending to `out`, with the default depth limit.
    pub fn new(out: &'a mut BytesMut) -> BinaryWriter<'a> {
        BinaryWriter::with_limits(out, Limits::DEFAULT)
    }

    /// A writer appending to `out`, nesting at most `limits.max_depth` deep.
    pub fn with_limits(out: &'a mut BytesMut, limits: Limits) -> BinaryWriter<'a> {
        BinaryWriter {
            out,
            splices: None,
            depth: Depth::new(limits.max_depth),
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
    ) -> BinaryWriter<'a> {
        let mut writer = BinaryWriter::with_limits(out, limits);
        writer.splices = Some(splices);
        writer
    }
}

impl OutputProtocol for BinaryWriter<'_> {
    #[inline]
    fn write_message_begin(&mut self, header: &MessageHeader) -> Result<()> {
        self.out.put_u32(VERSION_1 | header.kind as u32);
        self.write_string(&header.name)?;
        self.out.put_i32(header.seqid);
        Ok(())
    }

    #[inline]
    fn write_struct_begin(&mut self, _name: &'static str) -> Result<()> {
        self.depth.enter()
    }

    #[inline]
    fn write_struct_end(&mut self) -> Result<()> {
        self.depth.leave();
        Ok(())
    }

    #[inline]
    fn write_field_begin(&mut self, ttype: TType, id: i16) -> Result<()> {
        self.out.put_u8(ttype as u8);
        self.out.put_i16(id);
        Ok(())
    }

    #[inline]
    fn write_field_stop(&mut self) -> Result<()> {
        self.out.put_u8(TType::Stop as u8);
        Ok(())
    }

    #[inline]
    fn write_list_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.out.put_u8(element as u8);
        self.out.put_i32(wire_len(len)?);
        Ok(())
    }

    #[inline]
    fn write_set_begin(&mut self, element: TType, len: usize) -> Result<()> {
        self.write_list_begin(element, len)
    }

    #[inline]
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()> {
        self.out.put_u8(key as u8);
        self.out.put_u8(value as u8);
        self.out.put_i32(wire_len(len)?);
        Ok(())
    }

    #[inline]
    fn write_bool(&mut self, value: bool) -> Result<()> {
        self.out.put_u8(u8::from(value));
        Ok(())
    }

    #[inline]
    fn write_i8(&mut self, value: i8) -> Result<()> {
        self.out.put_i8(value);
        Ok(())
    }

    #[inline]
    fn write_i16(&mut self, value: i16) -> Result<()> {
        self.out.put_i16(value);
        Ok(())
    }

    #[inline]
    fn write_i32(&mut self, value: i32) -> Result<()> {
        self.out.put_i32(value);
        Ok(())
    }

    #[inline]
    fn write_i64(&mut self, value: i64) -> Result<()> {
        self.out.put_i64(value);
        Ok(())
    }

    #[inline]
    fn write_double(&mut self, value: f64) -> Result<()> {
        self.out.put_u64(value.to_bits());
        Ok(())
    }

    #[inline]
    fn write_binary(&mut self, value: &[u8]) -> Result<()> {
        self.out.put_i32(wire_len(value.len())?);
        self.out.put_slice(value);
        Ok(())
    }

    #[inline]
    fn write_bytes(&mut self, value: &Bytes) -> Result<()> {
        if !self.splices.as_ref().is_some_and(|s| s.wants(value.len())) {
            return self.write_binary(value);
        }
        self.out.put_i32(wire_len(value.len())?);
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
        if value.protocol() == ProtocolId::Binary {
            self.out.put_slice(value.bytes());
            Ok(())
        } else {
            value.transcode(self)
        }
    }
}
