//! Protocols: how values become bytes. Pure functions over buffers, never a
//! socket ("sans-IO"): readers take a [`Bytes`] holding one whole message,
//! writers append to a [`BytesMut`].
//!
//! Generated code is generic over [`InputProtocol`] and [`OutputProtocol`]
//! (static dispatch). Every reader enforces [`Limits`]: a crafted message is an
//! error, never a panic, an abort or a huge allocation.

mod application_exception;
mod binary;
mod compact;
mod error;
mod input;
mod json;
mod raw;

pub use application_exception::{ApplicationErrorKind, ApplicationException};
pub use binary::{BinaryReader, BinaryWriter};
pub use compact::{CompactReader, CompactWriter};
pub use error::{FieldStep, ProtocolError, ProtocolErrorKind};
/// The text form of a `uuid`, which `wire::uuid_to_string` and serde's
/// human-readable formats share.
pub(crate) use json::{format_uuid, parse_uuid};
pub use json::{JsonReader, JsonWriter};
pub use raw::{copy, RawValue, UnknownField, UnknownFields};

use crate::wire::{MessageType, TType};
use bytes::{Bytes, BytesMut};

/// `Result` with a [`ProtocolError`].
pub type Result<T, E = ProtocolError> = std::result::Result<T, E>;

/// The header of an RPC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// The method name (`service:method` when multiplexed): a slice of the
    /// message when read, so dispatching on it allocates nothing.
    pub name: crate::ByteString,
    /// Call, reply, exception or oneway.
    pub kind: MessageType,
    /// Matches a reply to its call.
    pub seqid: i32,
}

/// A field header: its type and id. A `Stop` type ends the struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldHeader {
    /// The field's wire type.
    pub ttype: TType,
    /// The field's id (meaningless for `Stop`).
    pub id: i16,
}

/// A list or set header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListHeader {
    /// The elements' wire type.
    pub element: TType,
    /// How many elements follow; already checked against the bytes left.
    pub len: usize,
}

/// A map header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapHeader {
    /// The keys' wire type.
    pub key: TType,
    /// The values' wire type.
    pub value: TType,
    /// How many entries follow; already checked against the bytes left.
    pub len: usize,
}

/// Hard limits on what a reader accepts. On by default; every field can be
/// raised or lowered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Structs and containers nested deeper than this are an error (read,
    /// write and skip).
    pub max_depth: usize,
    /// The longest string or binary value, in bytes. (It can never be longer
    /// than the bytes left in the message either.)
    pub max_string_len: usize,
    /// The most elements of one list, set or map. (A count can never exceed
    /// the bytes left divided by the element's smallest encoding either.)
    pub max_container_len: usize,
    /// The most bytes reserved up front for one container's elements; beyond
    /// that, collections grow as elements really arrive.
    pub max_prealloc_bytes: usize,
}

impl Limits {
    /// The defaults: depth 64, strings up to 16 MiB, containers up to 16 Mi
    /// elements, at most 1 MiB reserved up front per container.
    pub const DEFAULT: Limits = Limits {
        max_depth: 64,
        max_string_len: 16 << 20,
        max_container_len: 16 << 20,
        max_prealloc_bytes: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// Reads values from one message. Lengths and counts are validated before
/// anything is allocated; nesting is bounded by [`Limits::max_depth`].
pub trait InputProtocol {
    /// The limits this reader enforces.
    fn limits(&self) -> &Limits;
    /// Bytes not yet read.
    fn remaining(&self) -> usize;

    /// Reads a message header.
    fn read_message_begin(&mut self) -> Result<MessageHeader>;
    /// Ends a message.
    fn read_message_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// Enters a struct (counts towards the depth limit).
    fn read_struct_begin(&mut self) -> Result<()>;
    /// Leaves a struct.
    fn read_struct_end(&mut self) -> Result<()>;
    /// The next field's header; `TType::Stop` when the struct ends.
    fn read_field_begin(&mut self) -> Result<FieldHeader>;
    /// Ends a field.
    fn read_field_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// A list header (counts towards the depth limit until `read_list_end`).
    fn read_list_begin(&mut self) -> Result<ListHeader>;
    /// Ends a list.
    fn read_list_end(&mut self) -> Result<()>;
    /// A set header.
    fn read_set_begin(&mut self) -> Result<ListHeader>;
    /// Ends a set.
    fn read_set_end(&mut self) -> Result<()>;
    /// A map header.
    fn read_map_begin(&mut self) -> Result<MapHeader>;
    /// Ends a map.
    fn read_map_end(&mut self) -> Result<()>;
    /// A `bool`.
    fn read_bool(&mut self) -> Result<bool>;
    /// An `i8`.
    fn read_i8(&mut self) -> Result<i8>;
    /// An `i16`.
    fn read_i16(&mut self) -> Result<i16>;
    /// An `i32`.
    fn read_i32(&mut self) -> Result<i32>;
    /// An `i64`.
    fn read_i64(&mut self) -> Result<i64>;
    /// A `double`.
    fn read_double(&mut self) -> Result<f64>;
    /// A `binary`: a slice of the input, not a copy.
    fn read_binary(&mut self) -> Result<Bytes>;
    /// A `string`; invalid UTF-8 is an error.
    fn read_string(&mut self) -> Result<String>;
    /// A `uuid`, as its 16 bytes.
    fn read_uuid(&mut self) -> Result<[u8; 16]>;

    /// A `string` as a slice of the input (no copy); invalid UTF-8 is an error.
    fn read_byte_string(&mut self) -> Result<crate::ByteString> {
        let bytes = self.read_binary()?;
        crate::ByteString::from_utf8(bytes).map_err(input::utf8_error)
    }

    /// How many elements of type `T` to reserve room for when a container
    /// announces `len`: at most [`Limits::max_prealloc_bytes`] worth.
    fn capacity<T>(&self, len: usize) -> usize {
        let per_element = std::mem::size_of::<T>().max(1);
        len.min(self.limits().max_prealloc_bytes / per_element)
    }

    /// Reads and discards a value of type `ttype`, however deeply nested,
    /// within the depth limit.
    fn skip(&mut self, ttype: TType) -> Result<()>
    where
        Self: Sized,
    {
        skip(self, ttype)
    }

    /// Reads a value of type `ttype` and keeps its encoding (for
    /// `keep_unknown_fields`). The binary, compact and JSON readers return a
    /// slice of the input; this default, for other protocols, re-encodes the
    /// value in the compact protocol.
    ///
    /// # Errors
    ///
    /// As [`InputProtocol::skip`].
    fn read_raw_value(&mut self, ttype: TType) -> Result<RawValue>
    where
        Self: Sized,
    {
        raw::read_as_compact(self, ttype)
    }
}

/// A struct, union or exception that generated code can read and write.
pub trait Struct: Sized {
    /// Reads a value; unknown fields are skipped (kept in `_unknown_fields`
    /// when generated with `keep_unknown_fields`).
    ///
    /// # Errors
    ///
    /// When the input is not a valid encoding of this type, or breaks a limit.
    fn read<I: InputProtocol>(input: &mut I) -> Result<Self>;

    /// Writes the value.
    ///
    /// # Errors
    ///
    /// When a value nests deeper than the writer's limit or a length does not
    /// fit the protocol.
    fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<()>;
}

/// Checks that a non-empty container holds elements of the expected type.
///
/// # Errors
///
/// When `len > 0` and `found != expected`.
#[inline]
pub fn expect_element(expected: TType, found: TType, len: usize) -> Result<()> {
    if len > 0 && found != expected {
        return Err(ProtocolError::element_type(expected, found));
    }
    Ok(())
}

/// A protocol as a pair of types: how to read a message from [`Bytes`] and
/// how to write one into a [`BytesMut`]. The server and client pick one per
/// frame; [`Binary`] and [`Compact`] are the standard ones.
pub trait Protocol {
    /// Reads one message.
    type Reader: InputProtocol;
    /// Writes one message.
    type Writer<'a>: OutputProtocol;

    /// A reader over `message`.
    fn reader(message: Bytes, limits: Limits) -> Self::Reader;
    /// A writer appending to `out`.
    fn writer(out: &mut BytesMut, limits: Limits) -> Self::Writer<'_>;

    /// A writer appending to `out` that may splice large [`Bytes`] values
    /// into `splices` instead of copying them (see
    /// [`BinaryWriter::splicing`]); by default, [`Protocol::writer`], which
    /// copies everything.
    fn splicing_writer<'a>(
        out: &'a mut BytesMut,
        splices: &'a mut crate::Splices,
        limits: Limits,
    ) -> Self::Writer<'a> {
        let _ = splices;
        Self::writer(out, limits)
    }
}

/// The binary protocol, as a [`Protocol`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Binary;

impl Protocol for Binary {
    type Reader = BinaryReader;
    type Writer<'a> = BinaryWriter<'a>;

    fn reader(message: Bytes, limits: Limits) -> BinaryReader {
        BinaryReader::with_limits(message, limits)
    }

    fn writer(out: &mut BytesMut, limits: Limits) -> BinaryWriter<'_> {
        BinaryWriter::with_limits(out, limits)
    }

    fn splicing_writer<'a>(
        out: &'a mut BytesMut,
        splices: &'a mut crate::Splices,
        limits: Limits,
    ) -> BinaryWriter<'a> {
        BinaryWriter::splicing(out, splices, limits)
    }
}

/// The compact protocol, as a [`Protocol`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Compact;

impl Protocol for Compact {
    type Reader = CompactReader;
    type Writer<'a> = CompactWriter<'a>;

    fn reader(message: Bytes, limits: Limits) -> CompactReader {
        CompactReader::with_limits(message, limits)
    }

    fn writer(out: &mut BytesMut, limits: Limits) -> CompactWriter<'_> {
        CompactWriter::with_limits(out, limits)
    }

    fn splicing_writer<'a>(
        out: &'a mut BytesMut,
        splices: &'a mut crate::Splices,
        limits: Limits,
    ) -> CompactWriter<'a> {
        CompactWriter::splicing(out, splices, limits)
    }
}

/// Apache's JSON protocol (`TJSONProtocol`), as a [`Protocol`]: slower and
/// larger than [`Binary`] and [`Compact`], for peers that speak it (browsers,
/// scripts).
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl Protocol for Json {
    type Reader = JsonReader;
    type Writer<'a> = JsonWriter<'a>;

    fn reader(message: Bytes, limits: Limits) -> JsonReader {
        JsonReader::with_limits(message, limits)
    }

    fn writer(out: &mut BytesMut, limits: Limits) -> JsonWriter<'_> {
        JsonWriter::with_limits(out, limits)
    }
}

/// Which protocol a message is in, as frames name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolId {
    /// The binary protocol (strict, or the old non-strict form).
    Binary,
    /// The compact protocol.
    Compact,
    /// Apache's JSON protocol (THeader protocol id 1); an unframed or framed
    /// message in it starts with `[`.
    Json,
    /// A protocol of one's own, by the number a framing of one's own (or a
    /// THeader/TTHeader protocol id) gives it; served with [`Protocols`].
    Other(u8),
}

/// Something done with one protocol, whichever it is: the server and the
/// client hand one to [`Protocols::visit`] to decode or encode a message
/// with the protocol a frame names, with static dispatch.
pub trait ProtocolVisitor {
    /// What the visit returns.
    type Output;

    /// Does the work with protocol `R`.
    fn visit<R: Protocol>(self) -> Self::Output;
}

/// The protocols a server or client speaks, by [`ProtocolId`]: the standard
/// ones ([`Standard`]: binary, compact and JSON), or those plus protocols of one's
/// own:
///
/// ```ignore
/// struct WithMine;
/// impl Protocols for WithMine {
///     fn visit<V: ProtocolVisitor>(&self, id: ProtocolId, v: V) -> Option<V::Output> {
///         match id {
///             ProtocolId::Other(7) => Some(v.visit::<Mine>()),
///             id => Standard.visit(id, v),
///         }
///     }
/// }
/// ```
pub trait Protocols: Send + Sync + 'static {
    /// Runs `visitor` with the protocol `id` names, or `None` when this set
    /// does not speak it.
    fn visit<V: ProtocolVisitor>(&self, id: ProtocolId, visitor: V) -> Option<V::Output>;
}

/// Binary, compact and JSON: a server speaking these answers each
/// connection in the protocol it was spoken to in.
#[derive(Clone, Copy, Debug, Default)]
pub struct Standard;

impl Protocols for Standard {
    #[inline]
    fn visit<V: ProtocolVisitor>(&self, id: ProtocolId, visitor: V) -> Option<V::Output> {
        match id {
            ProtocolId::Binary => Some(visitor.visit::<Binary>()),
            ProtocolId::Compact => Some(visitor.visit::<Compact>()),
            ProtocolId::Json => Some(visitor.visit::<Json>()),
            ProtocolId::Other(_) => None,
        }
    }
}

/// Writes values of one message.
pub trait OutputProtocol {
    /// Writes a message header.
    fn write_message_begin(&mut self, header: &MessageHeader) -> Result<()>;
    /// Ends a message.
    fn write_message_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// Enters a struct (counts towards the depth limit).
    fn write_struct_begin(&mut self, name: &'static str) -> Result<()>;
    /// Leaves a struct.
    fn write_struct_end(&mut self) -> Result<()>;
    /// Starts field `id` of type `ttype`. A `bool` field's value follows
    /// with [`OutputProtocol::write_bool`].
    fn write_field_begin(&mut self, ttype: TType, id: i16) -> Result<()>;
    /// Ends a field.
    fn write_field_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// Ends the fields of a struct.
    fn write_field_stop(&mut self) -> Result<()>;
    /// A list header.
    fn write_list_begin(&mut self, element: TType, len: usize) -> Result<()>;
    /// Ends a list.
    fn write_list_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// A set header.
    fn write_set_begin(&mut self, element: TType, len: usize) -> Result<()>;
    /// Ends a set.
    fn write_set_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// A map header.
    fn write_map_begin(&mut self, key: TType, value: TType, len: usize) -> Result<()>;
    /// Ends a map.
    fn write_map_end(&mut self) -> Result<()> {
        Ok(())
    }
    /// A `bool`.
    fn write_bool(&mut self, value: bool) -> Result<()>;
    /// An `i8`.
    fn write_i8(&mut self, value: i8) -> Result<()>;
    /// An `i16`.
    fn write_i16(&mut self, value: i16) -> Result<()>;
    /// An `i32`.
    fn write_i32(&mut self, value: i32) -> Result<()>;
    /// An `i64`.
    fn write_i64(&mut self, value: i64) -> Result<()>;
    /// A `double`.
    fn write_double(&mut self, value: f64) -> Result<()>;
    /// A `binary`.
    fn write_binary(&mut self, value: &[u8]) -> Result<()>;
    /// A `string`.
    fn write_string(&mut self, value: &str) -> Result<()> {
        self.write_binary(value.as_bytes())
    }
    /// A `uuid`.
    fn write_uuid(&mut self, value: &[u8; 16]) -> Result<()>;
    /// A `binary` held in [`Bytes`]. Generated code calls this for `binary`
    /// fields, so a writer may hand a large value on without copying it;
    /// by default it is [`OutputProtocol::write_binary`].
    fn write_bytes(&mut self, value: &Bytes) -> Result<()> {
        self.write_binary(value)
    }
    /// A `string` held in a [`ByteString`](crate::ByteString) (zero-copy
    /// strings), as [`OutputProtocol::write_bytes`] for `binary`; by default
    /// it is [`OutputProtocol::write_string`].
    fn write_byte_string(&mut self, value: &crate::ByteString) -> Result<()> {
        self.write_string(value)
    }

    /// A value kept by [`InputProtocol::read_raw_value`], after its field
    /// header (or as a container element). The binary, compact and JSON
    /// writers copy a value of their own protocol as it is; this default, and every
    /// writer for a value of another protocol, re-encodes it
    /// ([`RawValue::transcode`]).
    ///
    /// # Errors
    ///
    /// As [`RawValue::transcode`].
    fn write_raw_value(&mut self, value: &RawValue) -> Result<()>
    where
        Self: Sized,
    {
        value.transcode(self)
    }
}

/// Skips one value of type `ttype`, counting every struct and container
/// towards the depth limit so that hostile nesting ends in an error.
pub fn skip<I: InputProtocol>(input: &mut I, ttype: TType) -> Result<()> {
    match ttype {
        TType::Bool => input.read_bool().map(drop),
        TType::I8 => input.read_i8().map(drop),
        TType::I16 => input.read_i16().map(drop),
        TType::I32 => input.read_i32().map(drop),
        TType::I64 => input.read_i64().map(drop),
        TType::Double => input.read_double().map(drop),
        TType::String => input.read_binary().map(drop),
        TType::Uuid => input.read_uuid().map(drop),
        TType::Struct => {
            input.read_struct_begin()?;
            loop {
                let field = input.read_field_begin()?;
                if field.ttype == TType::Stop {
                    break;
                }
                skip(input, field.ttype)?;
                input.read_field_end()?;
            }
            input.read_struct_end()
        }
        TType::List => {
            let header = input.read_list_begin()?;
            for _ in 0..header.len {
                skip(input, header.element)?;
            }
            input.read_list_end()
        }
        TType::Set => {
            let header = input.read_set_begin()?;
            for _ in 0..header.len {
                skip(input, header.element)?;
            }
            input.read_set_end()
        }
        TType::Map => {
            let header = input.read_map_begin()?;
            for _ in 0..header.len {
                skip(input, header.key)?;
                skip(input, header.value)?;
            }
            input.read_map_end()
        }
        TType::Stop | TType::Void => Err(ProtocolError::invalid(format!(
            "cannot skip a value of type {ttype:?}"
        ))),
    }
}
