//! Reading and writing values on any protocol, following the IDL, with the
//! rules and errors of generated code.

use crate::schema::{Schema, Shape, ShapeKind};
use crate::value::{StructValue, Value};
use bytes::{Bytes, BytesMut};
use thriftgen::ir::{DefKind, Requiredness, Type};
use thriftgen_runtime::protocol::{
    expect_element, InputProtocol, Limits, OutputProtocol, Protocol, ProtocolError,
    ProtocolErrorKind, ProtocolVisitor, Protocols, Standard,
};
use thriftgen_runtime::{ProtocolId, TType};

/// Something read with whichever reader a protocol id names.
pub(crate) trait ReadAny {
    type Output;
    fn read<I: InputProtocol>(self, input: &mut I) -> Result<Self::Output, ProtocolError>;
}

/// Something written with whichever writer a protocol id names.
pub(crate) trait WriteAny {
    fn write<O: OutputProtocol>(self, output: &mut O) -> Result<(), ProtocolError>;
}

/// Runs `read` over `bytes` in `protocol`, one of the runtime's standard
/// protocols (binary, compact, JSON), within `limits`.
pub(crate) fn read_in<R: ReadAny>(
    protocol: ProtocolId,
    bytes: Bytes,
    limits: Limits,
    read: R,
) -> Result<R::Output, ProtocolError> {
    struct Visit<R>(R, Bytes, Limits);
    impl<R: ReadAny> ProtocolVisitor for Visit<R> {
        type Output = Result<R::Output, ProtocolError>;
        fn visit<P: Protocol>(self) -> Self::Output {
            self.0.read(&mut P::reader(self.1, self.2))
        }
    }
    Standard
        .visit(protocol, Visit(read, bytes, limits))
        .unwrap_or_else(|| Err(unsupported(protocol)))
}

/// Runs `write` into a new buffer in `protocol`, one of the runtime's
/// standard protocols, within the default limits.
pub(crate) fn write_in<W: WriteAny>(
    protocol: ProtocolId,
    write: W,
) -> Result<Bytes, ProtocolError> {
    struct Visit<W>(W);
    impl<W: WriteAny> ProtocolVisitor for Visit<W> {
        type Output = Result<Bytes, ProtocolError>;
        fn visit<P: Protocol>(self) -> Self::Output {
            let mut out = BytesMut::new();
            self.0.write(&mut P::writer(&mut out, Limits::DEFAULT))?;
            Ok(out.freeze())
        }
    }
    Standard
        .visit(protocol, Visit(write))
        .unwrap_or_else(|| Err(unsupported(protocol)))
}

fn unsupported(protocol: ProtocolId) -> ProtocolError {
    ProtocolError::new(
        ProtocolErrorKind::Unsupported,
        format!(
            "{protocol:?} is not a protocol dynamic values speak (binary, compact and JSON are)"
        ),
    )
}

pub(crate) fn read_value<I: InputProtocol>(
    schema: &Schema,
    ty: &Type,
    input: &mut I,
) -> Result<Value, ProtocolError> {
    Ok(match schema.ir().resolve(ty) {
        Type::Bool => Value::Bool(input.read_bool()?),
        Type::I8 => Value::I8(input.read_i8()?),
        Type::I16 => Value::I16(input.read_i16()?),
        Type::I32 => Value::I32(input.read_i32()?),
        Type::I64 => Value::I64(input.read_i64()?),
        Type::Double => Value::Double(input.read_double()?),
        Type::String => Value::String(input.read_string()?),
        Type::Binary => Value::Binary(input.read_binary()?),
        Type::Uuid => Value::Uuid(input.read_uuid()?),
        Type::List(element) => {
            let header = input.read_list_begin()?;
            let items = read_elements(schema, element, header.element, header.len, input)?;
            input.read_list_end()?;
            Value::List(items)
        }
        Type::Set(element) => {
            let header = input.read_set_begin()?;
            let items = read_elements(schema, element, header.element, header.len, input)?;
            input.read_set_end()?;
            Value::Set(items)
        }
        Type::Map(key, value) => {
            let header = input.read_map_begin()?;
            expect_element(schema.ttype(key), header.key, header.len)?;
            expect_element(schema.ttype(value), header.value, header.len)?;
            let mut entries = Vec::with_capacity(input.capacity::<(Value, Value)>(header.len));
            for _ in 0..header.len {
                let k = read_value(schema, key, input)?;
                let v = read_value(schema, value, input)?;
                entries.push((k, v));
            }
            input.read_map_end()?;
            Value::Map(entries)
        }
        Type::Def(id) => match &schema.ir().def(*id).kind {
            DefKind::Enum(_) => Value::Enum(input.read_i32()?),
            DefKind::Struct(_) => {
                let shape = schema.struct_shape(*id).ok_or_else(not_a_type)?;
                Value::Struct(read_struct(schema, &shape, input)?)
            }
            _ => return Err(not_a_type()),
        },
    })
}

fn read_elements<I: InputProtocol>(
    schema: &Schema,
    element: &Type,
    found: TType,
    len: usize,
    input: &mut I,
) -> Result<Vec<Value>, ProtocolError> {
    expect_element(schema.ttype(element), found, len)?;
    let mut items = Vec::with_capacity(input.capacity::<Value>(len));
    for _ in 0..len {
        items.push(read_value(schema, element, input)?);
    }
    Ok(items)
}

/// Reads a struct of `shape`. Like generated code: a field of an unknown id
/// or of another wire type is skipped, the last of repeated fields wins,
/// every field read counts as a union's variant (so a union with an unknown
/// field and a known one is an error), and `required` fields must be there.
pub(crate) fn read_struct<I: InputProtocol>(
    schema: &Schema,
    shape: &Shape<'_>,
    input: &mut I,
) -> Result<StructValue, ProtocolError> {
    input.read_struct_begin()?;
    let mut out = StructValue::new();
    let mut variants = 0usize;
    loop {
        let header = input.read_field_begin()?;
        if header.ttype == TType::Stop {
            break;
        }
        match shape.field(header.id) {
            Some(field) if schema.ttype(field.ty) == header.ttype => {
                let value = read_value(schema, field.ty, input).map_err(|e| {
                    e.in_field(shape.name.to_string(), field.name.to_string(), field.id)
                })?;
                out.insert(header.id, value);
            }
            _ => input.skip(header.ttype)?,
        }
        // After the value, as generated code counts a union's variants.
        variants += 1;
        if shape.kind == ShapeKind::Union && variants > 1 {
            return Err(ProtocolError::invalid(format!(
                "union `{}` has more than one field set",
                shape.name
            )));
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    if shape.kind == ShapeKind::Union && variants == 0 {
        return Err(ProtocolError::invalid(format!(
            "union `{}` has no field set",
            shape.name
        )));
    }
    for field in shape.iter() {
        if field.requiredness == Requiredness::Required && out.get(field.id).is_none() {
            return Err(ProtocolError::missing(shape.name, field.name, field.id));
        }
    }
    Ok(out)
}

pub(crate) fn write_value<O: OutputProtocol>(
    schema: &Schema,
    ty: &Type,
    value: &Value,
    output: &mut O,
) -> Result<(), ProtocolError> {
    let resolved = schema.ir().resolve(ty);
    match (resolved, value) {
        (Type::Bool, Value::Bool(v)) => output.write_bool(*v),
        (Type::I8, Value::I8(v)) => output.write_i8(*v),
        (Type::I16, Value::I16(v)) => output.write_i16(*v),
        (Type::I32, Value::I32(v)) => output.write_i32(*v),
        (Type::I64, Value::I64(v)) => output.write_i64(*v),
        (Type::Double, Value::Double(v)) => output.write_double(*v),
        (Type::String, Value::String(v)) => output.write_string(v),
        (Type::Binary, Value::Binary(v)) => output.write_bytes(v),
        (Type::Uuid, Value::Uuid(v)) => output.write_uuid(v),
        (Type::List(element), Value::List(items)) => {
            output.write_list_begin(schema.ttype(element), items.len())?;
            for item in items {
                write_value(schema, element, item, output)?;
            }
            output.write_list_end()
        }
        (Type::Set(element), Value::Set(items)) => {
            output.write_set_begin(schema.ttype(element), items.len())?;
            for item in items {
                write_value(schema, element, item, output)?;
            }
            output.write_set_end()
        }
        (Type::Map(key, val), Value::Map(entries)) => {
            output.write_map_begin(schema.ttype(key), schema.ttype(val), entries.len())?;
            for (k, v) in entries {
                write_value(schema, key, k, output)?;
                write_value(schema, val, v, output)?;
            }
            output.write_map_end()
        }
        (Type::Def(id), value) => match (&schema.ir().def(*id).kind, value) {
            (DefKind::Enum(_), Value::Enum(v)) => output.write_i32(*v),
            (DefKind::Struct(_), Value::Struct(s)) => {
                let shape = schema.struct_shape(*id).ok_or_else(not_a_type)?;
                write_struct(schema, &shape, s, output)
            }
            _ => Err(mismatch(schema, resolved, value)),
        },
        _ => Err(mismatch(schema, resolved, value)),
    }
}

/// Writes a struct of `shape`: its fields that are set, in IDL order.
pub(crate) fn write_struct<O: OutputProtocol>(
    schema: &Schema,
    shape: &Shape<'_>,
    value: &StructValue,
    output: &mut O,
) -> Result<(), ProtocolError> {
    if let Some((id, _)) = value.iter().find(|(id, _)| shape.field(*id).is_none()) {
        return Err(ProtocolError::invalid(format!(
            "`{}` has no {} #{id} (it has: {})",
            shape.name,
            shape.member(),
            shape.names()
        )));
    }
    if shape.kind == ShapeKind::Union && value.len() != 1 {
        let what = if value.is_empty() {
            "no field"
        } else {
            "more than one field"
        };
        return Err(ProtocolError::invalid(format!(
            "union `{}` has {what} set",
            shape.name
        )));
    }
    output.write_struct_begin("")?;
    for field in shape.iter() {
        let Some(v) = value.get(field.id) else {
            if field.requiredness == Requiredness::Required {
                return Err(ProtocolError::missing(shape.name, field.name, field.id));
            }
            continue;
        };
        output.write_field_begin(schema.ttype(field.ty), field.id)?;
        write_value(schema, field.ty, v, output)
            .map_err(|e| e.in_field(shape.name.to_string(), field.name.to_string(), field.id))?;
        output.write_field_end()?;
    }
    output.write_field_stop()?;
    output.write_struct_end()
}

fn mismatch(schema: &Schema, ty: &Type, value: &Value) -> ProtocolError {
    ProtocolError::invalid(format!(
        "a value of type `{}` cannot be written from a {} value",
        schema.type_name(ty),
        value.kind()
    ))
}

fn not_a_type() -> ProtocolError {
    ProtocolError::invalid("a service or constant is not a type")
}
