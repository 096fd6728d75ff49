//! The value tree: any Thrift value, without its type. The type lives in
//! the [`Schema`](crate::Schema), which every operation is given.

use bytes::Bytes;

/// One Thrift value of any type. Which variant goes with which IDL type:
///
/// | IDL type | variant |
/// |---|---|
/// | `bool` | [`Value::Bool`] |
/// | `i8` (`byte`), `i16`, `i32`, `i64` | [`Value::I8`], [`Value::I16`], [`Value::I32`], [`Value::I64`] |
/// | `double` | [`Value::Double`] |
/// | `string` | [`Value::String`] |
/// | `binary` | [`Value::Binary`] |
/// | `uuid` | [`Value::Uuid`] |
/// | an enum | [`Value::Enum`] (its number; unknown numbers are kept, as generated enums keep them) |
/// | `list<T>`, `set<T>` | [`Value::List`], [`Value::Set`] (in wire order; a set is not deduplicated) |
/// | `map<K, V>` | [`Value::Map`] (entries in wire order) |
/// | a struct, union or exception | [`Value::Struct`] |
///
/// A typedef takes the variant of the type it stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A `bool`.
    Bool(bool),
    /// An `i8` (`byte`).
    I8(i8),
    /// An `i16`.
    I16(i16),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// A `double`.
    Double(f64),
    /// A `string`.
    String(String),
    /// A `binary`.
    Binary(Bytes),
    /// A `uuid`, as its 16 bytes.
    Uuid([u8; 16]),
    /// A value of an enum, as its number.
    Enum(i32),
    /// A `list`.
    List(Vec<Value>),
    /// A `set`.
    Set(Vec<Value>),
    /// A `map`.
    Map(Vec<(Value, Value)>),
    /// A struct, union or exception.
    Struct(StructValue),
}

impl Value {
    /// What kind of value this is, for messages: `"bool"`, `"i32"`, `"struct"`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::I8(_) => "i8",
            Value::I16(_) => "i16",
            Value::I32(_) => "i32",
            Value::I64(_) => "i64",
            Value::Double(_) => "double",
            Value::String(_) => "string",
            Value::Binary(_) => "binary",
            Value::Uuid(_) => "uuid",
            Value::Enum(_) => "enum",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Struct(_) => "struct",
        }
    }

    /// The struct inside, if this is one.
    pub fn as_struct(&self) -> Option<&StructValue> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
}

/// The fields of a struct, union or exception that are set, by id, in the
/// order they were set (read from the wire, or given). Writing follows the
/// IDL's field order, whatever this order is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StructValue {
    fields: Vec<(i16, Value)>,
}

impl StructValue {
    /// A struct with no field set.
    pub fn new() -> StructValue {
        StructValue::default()
    }

    /// The value of field `id`, if set.
    pub fn get(&self, id: i16) -> Option<&Value> {
        self.fields.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// Sets field `id` to `value`, returning the value it replaces.
    pub fn insert(&mut self, id: i16, value: Value) -> Option<Value> {
        match self.fields.iter_mut().find(|(i, _)| *i == id) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                self.fields.push((id, value));
                None
            }
        }
    }

    /// Unsets field `id`, returning its value.
    pub fn remove(&mut self, id: i16) -> Option<Value> {
        let at = self.fields.iter().position(|(i, _)| *i == id)?;
        Some(self.fields.remove(at).1)
    }

    /// The fields that are set: (id, value).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (i16, &Value)> + '_ {
        self.fields.iter().map(|(i, v)| (*i, v))
    }

    /// How many fields are set.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl FromIterator<(i16, Value)> for StructValue {
    fn from_iter<T: IntoIterator<Item = (i16, Value)>>(iter: T) -> StructValue {
        let mut out = StructValue::new();
        for (id, value) in iter {
            out.insert(id, value);
        }
        out
    }
}
