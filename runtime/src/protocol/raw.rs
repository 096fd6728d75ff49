//! Values kept as the bytes they arrived in: the fields a struct does not
//! know and the variant a union does not know, with `keep_unknown_fields`, so
//! that an older peer or a proxy passes on what a newer peer sent.
//!
//! A [`RawValue`] is the encoding of one value in one protocol, exactly as
//! that protocol encodes a container element: for every type but the compact
//! protocol's `bool` that is also the field's value bytes; a compact `bool`
//! field has no value bytes (its value is in the field header), so it is kept
//! as the one-byte element form (1 true, 2 false).
//!
//! Written with the protocol it came from, a raw value is copied as it is.
//! Written with another protocol, it is decoded with its own protocol and
//! re-encoded ([`RawValue::transcode`]): the bytes are always right for the
//! protocol being written, never the other protocol's. A value kept from a
//! protocol of one's own ([`ProtocolId::Other`]) cannot be re-encoded; that
//! is an error of kind [`ProtocolErrorKind::Unsupported`].

use super::{
    BinaryReader, CompactReader, CompactWriter, InputProtocol, OutputProtocol, ProtocolError,
    ProtocolErrorKind, ProtocolId, Result,
};
use crate::wire::TType;
use bytes::{Bytes, BytesMut};

/// One value as a protocol encoded it, kept without decoding.
///
/// Equality and hashing compare the encoding: the same value kept from two
/// protocols is two different raw values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawValue {
    protocol: ProtocolId,
    ttype: TType,
    bytes: Bytes,
}

impl RawValue {
    /// `bytes`, one value of type `ttype` as `protocol` encodes a container
    /// element of that type. [`InputProtocol::read_raw_value`] makes these;
    /// a protocol of one's own may too.
    pub fn new(protocol: ProtocolId, ttype: TType, bytes: Bytes) -> RawValue {
        RawValue {
            protocol,
            ttype,
            bytes,
        }
    }

    /// The protocol the bytes are in.
    pub fn protocol(&self) -> ProtocolId {
        self.protocol
    }

    /// The value's wire type.
    pub fn ttype(&self) -> TType {
        self.ttype
    }

    /// The encoded value.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Decodes the value with its own protocol and writes it to `output`,
    /// whatever protocol that speaks.
    ///
    /// # Errors
    ///
    /// When the value was kept from a protocol of one's own
    /// ([`ProtocolErrorKind::Unsupported`]), or the bytes are not a valid
    /// value of its type.
    pub fn transcode<O: OutputProtocol>(&self, output: &mut O) -> Result<()> {
        match self.protocol {
            ProtocolId::Binary => copy(
                &mut BinaryReader::new(self.bytes.clone()),
                output,
                self.ttype,
            ),
            ProtocolId::Compact => copy(
                &mut CompactReader::new(self.bytes.clone()),
                output,
                self.ttype,
            ),
            ProtocolId::Json => super::json::transcode(self, output),
            ProtocolId::Other(id) => Err(ProtocolError::new(
                ProtocolErrorKind::Unsupported,
                format!("a value kept from protocol {id} cannot be written in another protocol"),
            )),
        }
    }
}

/// A field a struct does not know: its id and its value, kept raw.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnknownField {
    /// The field id.
    pub id: i16,
    /// The value.
    pub value: RawValue,
}

impl UnknownField {
    /// Reads the value of field `id`, whose header said type `ttype`.
    ///
    /// # Errors
    ///
    /// When the value is not valid or breaks a limit.
    #[inline]
    pub fn read<I: InputProtocol>(input: &mut I, id: i16, ttype: TType) -> Result<UnknownField> {
        Ok(UnknownField {
            id,
            value: input.read_raw_value(ttype)?,
        })
    }

    /// Writes the field: its header and its value.
    ///
    /// # Errors
    ///
    /// As [`OutputProtocol::write_raw_value`].
    pub fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<()> {
        output.write_field_begin(self.value.ttype, self.id)?;
        output.write_raw_value(&self.value)?;
        output.write_field_end()
    }
}

/// The fields of a struct that its type does not know, in the order they
/// arrived; written back after the known fields. Empty costs nothing (no
/// allocation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UnknownFields(Vec<UnknownField>);

impl UnknownFields {
    /// No fields.
    pub const fn new() -> UnknownFields {
        UnknownFields(Vec::new())
    }

    /// Reads the value of field `id` (type `ttype`) and keeps it.
    ///
    /// # Errors
    ///
    /// When the value is not valid or breaks a limit.
    #[inline]
    pub fn read_field<I: InputProtocol>(
        &mut self,
        input: &mut I,
        id: i16,
        ttype: TType,
    ) -> Result<()> {
        let field = UnknownField::read(input, id, ttype)?;
        self.0.push(field);
        Ok(())
    }

    /// Adds a field.
    pub fn push(&mut self, field: UnknownField) {
        self.0.push(field);
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The fields, in arrival order.
    pub fn iter(&self) -> std::slice::Iter<'_, UnknownField> {
        self.0.iter()
    }

    /// Forgets every field.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Writes every field.
    ///
    /// # Errors
    ///
    /// As [`OutputProtocol::write_raw_value`].
    #[inline]
    pub fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<()> {
        for field in &self.0 {
            field.write(output)?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a UnknownFields {
    type Item = &'a UnknownField;
    type IntoIter = std::slice::Iter<'a, UnknownField>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<UnknownField> for UnknownFields {
    fn from_iter<T: IntoIterator<Item = UnknownField>>(iter: T) -> UnknownFields {
        UnknownFields(iter.into_iter().collect())
    }
}

/// Reads one value of type `ttype` from `input` and writes it to `output`:
/// a protocol converter for values whose type only the wire knows. Nesting
/// is bounded by both sides' depth limits.
///
/// # Errors
///
/// When the input is not a valid value or a limit is broken on either side.
pub fn copy<I: InputProtocol, O: OutputProtocol>(
    input: &mut I,
    output: &mut O,
    ttype: TType,
) -> Result<()> {
    match ttype {
        TType::Bool => output.write_bool(input.read_bool()?),
        TType::I8 => output.write_i8(input.read_i8()?),
        TType::I16 => output.write_i16(input.read_i16()?),
        TType::I32 => output.write_i32(input.read_i32()?),
        TType::I64 => output.write_i64(input.read_i64()?),
        TType::Double => output.write_double(input.read_double()?),
        TType::String => output.write_binary(&input.read_binary()?),
        TType::Uuid => output.write_uuid(&input.read_uuid()?),
        TType::Struct => {
            input.read_struct_begin()?;
            output.write_struct_begin("")?;
            loop {
                let field = input.read_field_begin()?;
                if field.ttype == TType::Stop {
                    break;
                }
                output.write_field_begin(field.ttype, field.id)?;
                copy(input, output, field.ttype)?;
                input.read_field_end()?;
                output.write_field_end()?;
            }
            output.write_field_stop()?;
            input.read_struct_end()?;
            output.write_struct_end()
        }
        TType::List | TType::Set => {
            let list = ttype == TType::List;
            let header = if list {
                input.read_list_begin()?
            } else {
                input.read_set_begin()?
            };
            if list {
                output.write_list_begin(header.element, header.len)?;
            } else {
                output.write_set_begin(header.element, header.len)?;
            }
            for _ in 0..header.len {
                copy(input, output, header.element)?;
            }
            if list {
                input.read_list_end()?;
                output.write_list_end()
            } else {
                input.read_set_end()?;
                output.write_set_end()
            }
        }
        TType::Map => {
            let header = input.read_map_begin()?;
            // The compact protocol's empty map names no types; the binary
            // protocol must name some, and readers ignore them when empty.
            let (key, value) = match (header.key, header.value) {
                (TType::Stop, _) | (_, TType::Stop) => (TType::I8, TType::I8),
                types => types,
            };
            output.write_map_begin(key, value, header.len)?;
            for _ in 0..header.len {
                copy(input, output, header.key)?;
                copy(input, output, header.value)?;
            }
            input.read_map_end()?;
            output.write_map_end()
        }
        TType::Stop | TType::Void => Err(ProtocolError::invalid(format!(
            "cannot copy a value of type {ttype:?}"
        ))),
    }
}

/// What [`InputProtocol::read_raw_value`] does for a protocol that cannot
/// slice its input: the value re-encoded in the compact protocol.
pub(super) fn read_as_compact<I: InputProtocol>(input: &mut I, ttype: TType) -> Result<RawValue> {
    let mut out = BytesMut::new();
    copy(input, &mut CompactWriter::new(&mut out), ttype)?;
    Ok(RawValue::new(ProtocolId::Compact, ttype, out.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::BinaryWriter;

    fn write_binary(field: &UnknownField) -> Result<Vec<u8>> {
        let mut out = BytesMut::new();
        field.write(&mut BinaryWriter::new(&mut out))?;
        Ok(out.to_vec())
    }

    #[test]
    fn a_compact_bool_field_is_kept_in_its_element_form_and_transcoded() {
        // Field 3, bool true, in the header; then stop.
        let mut reader = CompactReader::new(Bytes::from_static(&[0x31, 0x00]));
        reader.read_struct_begin().unwrap();
        let header = reader.read_field_begin().unwrap();
        let field = UnknownField::read(&mut reader, header.id, header.ttype).unwrap();
        assert_eq!(field.value.bytes().as_ref(), [1]);
        assert_eq!(write_binary(&field).unwrap(), [0x02, 0x00, 0x03, 0x01]);
        let mut out = BytesMut::new();
        let mut writer = CompactWriter::new(&mut out);
        writer.write_struct_begin("").unwrap();
        field.write(&mut writer).unwrap();
        assert_eq!(out.as_ref(), [0x31]);
    }

    #[test]
    fn a_value_of_a_protocol_of_ones_own_is_not_written_in_another() {
        let field = UnknownField {
            id: 1,
            value: RawValue::new(ProtocolId::Other(9), TType::I32, Bytes::from_static(&[1])),
        };
        let err = write_binary(&field).unwrap_err();
        assert_eq!(err.kind(), ProtocolErrorKind::Unsupported);
        assert_eq!(
            err.message(),
            "a value kept from protocol 9 cannot be written in another protocol"
        );
    }

    #[test]
    fn an_empty_compact_map_transcodes_to_binary() {
        let value = RawValue::new(ProtocolId::Compact, TType::Map, Bytes::from_static(&[0]));
        let mut out = BytesMut::new();
        value.transcode(&mut BinaryWriter::new(&mut out)).unwrap();
        assert_eq!(out.as_ref(), [3, 3, 0, 0, 0, 0]);
    }
}
