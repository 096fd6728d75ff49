//! Values to and from JSON (`serde_json::Value`), following the IDL. The
//! mapping is documented on the crate.

use crate::schema::{Schema, Shape, ShapeKind};
use crate::value::{StructValue, Value};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Number, Value as Json};
use std::fmt;
use thriftgen::ir::{DefKind, Enum, Requiredness, Type};
use thriftgen_runtime::wire::{uuid_from_str, uuid_to_string};

/// Deeper JSON than this is refused (the protocols' default depth limit is
/// 64; containers and structs each count).
const MAX_DEPTH: usize = 128;

/// Base64 input with or without padding.
const BASE64_IN: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// JSON that does not fit its type, or a value that cannot be shown as JSON,
/// with the path to the offending part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Innermost step first (the order they are added in).
    path: Vec<Step>,
    message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
    Key(String),
}

impl JsonError {
    pub(crate) fn new(message: impl Into<String>) -> JsonError {
        JsonError {
            path: Vec::new(),
            message: message.into(),
        }
    }

    fn in_field(mut self, name: &str) -> JsonError {
        self.path.push(Step::Field(name.to_string()));
        self
    }

    fn at(mut self, index: usize) -> JsonError {
        self.path.push(Step::Index(index));
        self
    }

    fn in_key(mut self, key: &str) -> JsonError {
        self.path.push(Step::Key(key.to_string()));
        self
    }

    /// What is wrong, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where: `thing.items[2].name`, empty at the top.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for step in self.path.iter().rev() {
            match step {
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
                Step::Key(k) => out.push_str(&format!("[{k:?}]")),
            }
        }
        out
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path(), self.message)
        }
    }
}

impl std::error::Error for JsonError {}

fn deeper(depth: usize) -> Result<usize, JsonError> {
    if depth >= MAX_DEPTH {
        return Err(JsonError::new(format!(
            "nested more than {MAX_DEPTH} levels deep"
        )));
    }
    Ok(depth + 1)
}

/// Whether maps with keys of `key` are JSON objects (string keys) rather
/// than lists of `[key, value]` pairs.
fn object_keys(schema: &Schema, key: &Type) -> bool {
    matches!(schema.ir().resolve(key), Type::String)
}

pub(crate) fn to_json(
    schema: &Schema,
    ty: &Type,
    value: &Value,
    depth: usize,
) -> Result<Json, JsonError> {
    let resolved = schema.ir().resolve(ty);
    Ok(match (resolved, value) {
        (Type::Bool, Value::Bool(v)) => Json::Bool(*v),
        (Type::I8, Value::I8(v)) => Json::from(*v),
        (Type::I16, Value::I16(v)) => Json::from(*v),
        (Type::I32, Value::I32(v)) => Json::from(*v),
        (Type::I64, Value::I64(v)) => Json::from(*v),
        (Type::Double, Value::Double(v)) => double_to_json(*v),
        (Type::String, Value::String(v)) => Json::String(v.clone()),
        (Type::Binary, Value::Binary(v)) => Json::String(STANDARD.encode(v)),
        (Type::Uuid, Value::Uuid(v)) => Json::String(uuid_to_string(v)),
        (Type::List(t), Value::List(items)) | (Type::Set(t), Value::Set(items)) => {
            let depth = deeper(depth)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(to_json(schema, t, item, depth).map_err(|e| e.at(i))?);
            }
            Json::Array(out)
        }
        (Type::Map(k, v), Value::Map(entries)) => {
            let depth = deeper(depth)?;
            if object_keys(schema, k) {
                let mut out = Map::with_capacity(entries.len());
                for (key, val) in entries {
                    let Value::String(name) = key else {
                        return Err(mismatch(schema, k, key));
                    };
                    let val = to_json(schema, v, val, depth).map_err(|e| e.in_key(name))?;
                    out.insert(name.clone(), val);
                }
                Json::Object(out)
            } else {
                let mut out = Vec::with_capacity(entries.len());
                for (i, (key, val)) in entries.iter().enumerate() {
                    let key = to_json(schema, k, key, depth).map_err(|e| e.at(i))?;
                    let val = to_json(schema, v, val, depth).map_err(|e| e.at(i))?;
                    out.push(Json::Array(vec![key, val]));
                }
                Json::Array(out)
            }
        }
        (Type::Def(id), value) => match (&schema.ir().def(*id).kind, value) {
            (DefKind::Enum(e), Value::Enum(n)) => match e.values.iter().find(|v| v.value == *n) {
                Some(known) => Json::String(known.name.clone()),
                None => Json::from(*n),
            },
            (DefKind::Struct(_), Value::Struct(s)) => {
                let shape = schema
                    .struct_shape(*id)
                    .ok_or_else(|| JsonError::new("not a struct"))?;
                struct_to_json(schema, &shape, s, deeper(depth)?)?
            }
            _ => return Err(mismatch(schema, resolved, value)),
        },
        _ => return Err(mismatch(schema, resolved, value)),
    })
}

/// A struct as a JSON object: its fields that are set, by IDL name, in IDL
/// order.
pub(crate) fn struct_to_json(
    schema: &Schema,
    shape: &Shape<'_>,
    value: &StructValue,
    depth: usize,
) -> Result<Json, JsonError> {
    if let Some((id, _)) = value.iter().find(|(id, _)| shape.field(*id).is_none()) {
        return Err(JsonError::new(format!(
            "`{}` has no {} #{id}",
            shape.name,
            shape.member()
        )));
    }
    let mut out = Map::with_capacity(value.len());
    for field in shape.iter() {
        if let Some(v) = value.get(field.id) {
            let json = to_json(schema, field.ty, v, depth).map_err(|e| e.in_field(field.name))?;
            out.insert(field.name.to_string(), json);
        }
    }
    Ok(Json::Object(out))
}

pub(crate) fn from_json(
    schema: &Schema,
    ty: &Type,
    json: &Json,
    depth: usize,
) -> Result<Value, JsonError> {
    let resolved = schema.ir().resolve(ty);
    let expected = |what: &str| JsonError::new(format!("expected {what}, found {}", shown(json)));
    Ok(match resolved {
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(|| expected("true or false"))?),
        Type::I8 => Value::I8(integer(json, "an i8")?),
        Type::I16 => Value::I16(integer(json, "an i16")?),
        Type::I32 => Value::I32(integer(json, "an i32")?),
        Type::I64 => Value::I64(integer(json, "an i64")?),
        Type::Double => Value::Double(
            double_from_json(json)
                .ok_or_else(|| expected("a number (or \"NaN\", \"Infinity\", \"-Infinity\")"))?,
        ),
        Type::String => Value::String(json.as_str().ok_or_else(|| expected("a string"))?.into()),
        Type::Binary => {
            let text = json.as_str().ok_or_else(|| expected("a base64 string"))?;
            let bytes = BASE64_IN
                .decode(text)
                .map_err(|e| JsonError::new(format!("invalid base64: {e}")))?;
            Value::Binary(Bytes::from(bytes))
        }
        Type::Uuid => {
            let text = json.as_str().ok_or_else(|| expected("a uuid string"))?;
            Value::Uuid(parse_uuid(text).ok_or_else(|| {
                JsonError::new(format!(
                    "`{text}` is not a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
                ))
            })?)
        }
        Type::List(t) | Type::Set(t) => {
            let depth = deeper(depth)?;
            let items = json.as_array().ok_or_else(|| expected("an array"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(from_json(schema, t, item, depth).map_err(|e| e.at(i))?);
            }
            if matches!(resolved, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            }
        }
        Type::Map(k, v) => {
            let depth = deeper(depth)?;
            Value::Map(map_from_json(schema, k, v, json, depth)?)
        }
        Type::Def(id) => match &schema.ir().def(*id).kind {
            DefKind::Enum(e) => Value::Enum(enum_from_json(schema, *id, e, json)?),
            DefKind::Struct(_) => {
                let shape = schema
                    .struct_shape(*id)
                    .ok_or_else(|| JsonError::new("not a struct"))?;
                Value::Struct(struct_from_json(schema, &shape, json, deeper(depth)?)?)
            }
            _ => return Err(JsonError::new("a service or constant is not a type")),
        },
    })
}

fn map_from_json(
    schema: &Schema,
    k: &Type,
    v: &Type,
    json: &Json,
    depth: usize,
) -> Result<Vec<(Value, Value)>, JsonError> {
    match json {
        Json::Object(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (key, val) in entries {
                let key_value = if object_keys(schema, k) {
                    Value::String(key.clone())
                } else {
                    key_from_text(schema, k, key, depth).map_err(|e| e.in_key(key))?
                };
                let val = from_json(schema, v, val, depth).map_err(|e| e.in_key(key))?;
                out.push((key_value, val));
            }
            Ok(out)
        }
        Json::Array(pairs) => {
            let mut out = Vec::with_capacity(pairs.len());
            for (i, pair) in pairs.iter().enumerate() {
                let (key, val) = match pair.as_array().map(Vec::as_slice) {
                    Some([key, val]) => (key, val),
                    _ => {
                        return Err(JsonError::new(format!(
                            "expected a [key, value] pair, found {}",
                            shown(pair)
                        ))
                        .at(i))
                    }
                };
                let key = from_json(schema, k, key, depth).map_err(|e| e.at(i))?;
                let val = from_json(schema, v, val, depth).map_err(|e| e.at(i))?;
                out.push((key, val));
            }
            Ok(out)
        }
        other => Err(JsonError::new(format!(
            "expected an object or a list of [key, value] pairs, found {}",
            shown(other)
        ))),
    }
}

/// A map key given as an object key (text) for a key type that is not a
/// string: read as JSON (`"1"`, `"true"`, `"{...}"`), or as a JSON string
/// when it is not JSON (an enum name, a uuid, base64).
fn key_from_text(schema: &Schema, k: &Type, text: &str, depth: usize) -> Result<Value, JsonError> {
    if let Ok(json) = serde_json::from_str::<Json>(text) {
        if let Ok(value) = from_json(schema, k, &json, depth) {
            return Ok(value);
        }
    }
    from_json(schema, k, &Json::String(text.to_string()), depth)
}

fn enum_from_json(
    schema: &Schema,
    id: thriftgen::ir::DefId,
    e: &Enum,
    json: &Json,
) -> Result<i32, JsonError> {
    let name = &schema.ir().def(id).name;
    match json {
        Json::String(text) => {
            let bare = text
                .strip_prefix(name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .unwrap_or(text);
            if let Some(v) = e.values.iter().find(|v| v.name == bare) {
                return Ok(v.value);
            }
            let names: Vec<&str> = e.values.iter().map(|v| v.name.as_str()).collect();
            Err(JsonError::new(format!(
                "`{text}` is not a value of enum `{name}` (values: {})",
                names.join(", ")
            )))
        }
        Json::Number(_) => integer(json, "an i32 enum number"),
        other => Err(JsonError::new(format!(
            "expected a name or number of enum `{name}`, found {}",
            shown(other)
        ))),
    }
}

/// A struct from a JSON object keyed by field names. Fields not given (or
/// `null`) take their IDL default if they have one.
pub(crate) fn struct_from_json(
    schema: &Schema,
    shape: &Shape<'_>,
    json: &Json,
    depth: usize,
) -> Result<StructValue, JsonError> {
    let Json::Object(entries) = json else {
        let what = match shape.kind {
            ShapeKind::Args => "an object of arguments by name",
            _ => "an object",
        };
        return Err(JsonError::new(format!(
            "expected {what} for `{}`, found {}",
            shape.name,
            shown(json)
        )));
    };
    let mut out = StructValue::new();
    for (key, val) in entries {
        let Some(field) = shape.field_named(key) else {
            return Err(JsonError::new(format!(
                "`{}` has no {} `{key}` (it has: {})",
                shape.name,
                shape.member(),
                shape.names()
            )));
        };
        if val.is_null() {
            continue;
        }
        let value = from_json(schema, field.ty, val, depth).map_err(|e| e.in_field(key))?;
        out.insert(field.id, value);
    }
    if shape.kind == ShapeKind::Union {
        return match out.len() {
            1 => Ok(out),
            0 => Err(JsonError::new(format!(
                "union `{}` needs exactly one field set (it has: {})",
                shape.name,
                shape.names()
            ))),
            _ => Err(JsonError::new(format!(
                "union `{}` has more than one field set",
                shape.name
            ))),
        };
    }
    for field in shape.iter() {
        if out.get(field.id).is_some() {
            continue;
        }
        if let Some(default) = field.default {
            out.insert(field.id, schema.const_value(field.ty, default));
        } else if field.requiredness == Requiredness::Required {
            return Err(JsonError::new(format!(
                "required {} `{}` (#{}, {}) of `{}` is missing",
                shape.member(),
                field.name,
                field.id,
                schema.type_name(field.ty),
                shape.name
            )));
        }
    }
    Ok(out)
}

fn integer<T: TryFrom<i64>>(json: &Json, what: &str) -> Result<T, JsonError> {
    let n = match json {
        Json::Number(n) => n.as_i64(),
        // Large i64s are often quoted (JavaScript numbers are doubles).
        Json::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let n = n.ok_or_else(|| JsonError::new(format!("expected {what}, found {}", shown(json))))?;
    T::try_from(n).map_err(|_| JsonError::new(format!("{n} is out of range for {what}")))
}

fn double_to_json(v: f64) -> Json {
    match Number::from_f64(v) {
        Some(n) => Json::Number(n),
        None if v.is_nan() => Json::String("NaN".into()),
        None if v > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

fn double_from_json(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// A uuid from its 8-4-4-4-12 text, or from its 32 hex digits alone.
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hyphenated = format!(
            "{}-{}-{}-{}-{}",
            &text[..8],
            &text[8..12],
            &text[12..16],
            &text[16..20],
            &text[20..]
        );
        return uuid_from_str(&hyphenated);
    }
    uuid_from_str(text)
}

/// JSON shown in a message: short, whatever its size.
fn shown(json: &Json) -> String {
    let kind = match json {
        Json::Null => return "null".into(),
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    };
    let text = json.to_string();
    if text.chars().count() <= 40 {
        format!("{kind} `{text}`")
    } else {
        let short: String = text.chars().take(37).collect();
        format!("{kind} `{short}...`")
    }
}

fn mismatch(schema: &Schema, ty: &Type, value: &Value) -> JsonError {
    JsonError::new(format!(
        "a value of type `{}` cannot be shown from a {} value",
        schema.type_name(ty),
        value.kind()
    ))
}
