//! The checked IDL a dynamic value is read, written and converted with.

use crate::call::Method;
use crate::value::{StructValue, Value};
use crate::{codec, json, JsonError};
use bytes::Bytes;
use std::fmt;
use std::path::Path;
use thriftgen::ir::{ConstValue, Def, DefId, DefKind, Field, Function, Ir, Requiredness, Type};
use thriftgen::Checked;
use thriftgen_runtime::protocol::{InputProtocol, Limits, OutputProtocol, ProtocolError};
use thriftgen_runtime::{ProtocolId, TType};

/// A checked IDL (a file and everything it includes): the types every
/// dynamic operation follows. Load one with [`Schema::load`], or wrap what
/// [`thriftgen::check`] returned with [`Schema::new`].
#[derive(Debug)]
pub struct Schema {
    checked: Checked,
}

impl Schema {
    /// Reads, checks and wraps `files` and what they include (looked up
    /// beside the including file, then in `include_dirs`).
    ///
    /// # Errors
    ///
    /// The diagnostics, when the IDL has errors (its `Display` is the
    /// rustc-style report).
    pub fn load<P: AsRef<Path>, Q: AsRef<Path>>(
        files: &[P],
        include_dirs: &[Q],
    ) -> Result<Schema, thriftgen::Error> {
        Ok(Schema::new(thriftgen::check(files, include_dirs)?))
    }

    /// Wraps a checked program.
    pub fn new(checked: Checked) -> Schema {
        Schema { checked }
    }

    /// The checked program (its sources and warnings too).
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// The checked program's IR.
    pub fn ir(&self) -> &Ir {
        &self.checked.ir
    }

    /// The type a definition names (a typedef, enum, struct, union or
    /// exception), by its name as another IDL file would write it: `Xtruct`,
    /// or `shared.Item` for one in `shared.thrift`. A bare name is looked up
    /// in the files named first, then in the included ones.
    pub fn type_named(&self, name: &str) -> Option<Type> {
        let def = self.find_def(name, |k| {
            matches!(
                k,
                DefKind::Typedef(_) | DefKind::Enum(_) | DefKind::Struct(_)
            )
        })?;
        Some(Type::Def(def.id))
    }

    /// The service `name` (`ThriftTest`, or `shared.SharedService` for one
    /// in `shared.thrift`).
    pub fn service(&self, name: &str) -> Option<Service<'_>> {
        let def = self.find_def(name, |k| matches!(k, DefKind::Service(_)))?;
        Some(Service { schema: self, def })
    }

    /// Every service, those of the files named first, in source order.
    pub fn services(&self) -> Vec<Service<'_>> {
        self.defs_in_order()
            .filter(|d| matches!(d.kind, DefKind::Service(_)))
            .map(|def| Service { schema: self, def })
            .collect()
    }

    /// Method `path`, written `Service.method` (or `module.Service.method`);
    /// inherited methods are found through `extends`.
    ///
    /// # Errors
    ///
    /// When there is no such service or method; the message lists what
    /// there is.
    pub fn method(&self, path: &str) -> Result<Method<'_>, LookupError> {
        let Some((service, method)) = path.rsplit_once('.') else {
            return Err(LookupError(format!(
                "`{path}` is not `Service.method` (services: {})",
                self.service_list()
            )));
        };
        let Some(service) = self.service(service) else {
            return Err(LookupError(format!(
                "no service `{service}` (services: {})",
                self.service_list()
            )));
        };
        service.method(method).ok_or_else(|| {
            let names: Vec<&str> = service.methods().iter().map(|m| m.name()).collect();
            LookupError(format!(
                "service `{}` has no method `{method}` (methods: {})",
                service.name(),
                names.join(", ")
            ))
        })
    }

    /// The name of `ty` as the files named first would write it.
    pub fn type_name(&self, ty: &Type) -> String {
        let from = self.root_file();
        self.ir().type_name(ty, from)
    }

    /// Reads a value of type `ty` from `input`, as generated code would:
    /// fields of unknown ids (or of another wire type than the IDL's) are
    /// skipped, a missing `required` field or a union with no or several
    /// fields is an error, and the reader's [`Limits`] apply.
    ///
    /// # Errors
    ///
    /// When the input is not a valid encoding of `ty` or breaks a limit; the
    /// error's path names the fields that led to it.
    pub fn read<I: InputProtocol>(&self, ty: &Type, input: &mut I) -> Result<Value, ProtocolError> {
        codec::read_value(self, ty, input)
    }

    /// Writes `value` as type `ty` to `output`. Fields follow the IDL's
    /// order; fields that are not set are not written.
    ///
    /// # Errors
    ///
    /// When `value` does not fit `ty` (a variant of another type, a field
    /// the IDL does not have, a `required` field not set, a union without
    /// exactly one field), or the writer fails (its depth limit, say).
    pub fn write<O: OutputProtocol>(
        &self,
        ty: &Type,
        value: &Value,
        output: &mut O,
    ) -> Result<(), ProtocolError> {
        codec::write_value(self, ty, value, output)
    }

    /// `value` of type `ty` encoded alone (not in a message) in `protocol`.
    ///
    /// # Errors
    ///
    /// As [`Schema::write`]; a protocol of one's own is
    /// [`ProtocolErrorKind::Unsupported`](thriftgen_runtime::protocol::ProtocolErrorKind::Unsupported).
    pub fn encode(
        &self,
        protocol: ProtocolId,
        ty: &Type,
        value: &Value,
    ) -> Result<Bytes, ProtocolError> {
        struct Encode<'a>(&'a Schema, &'a Type, &'a Value);
        impl codec::WriteAny for Encode<'_> {
            fn write<O: OutputProtocol>(self, output: &mut O) -> Result<(), ProtocolError> {
                self.0.write(self.1, self.2, output)
            }
        }
        codec::write_in(protocol, Encode(self, ty, value))
    }

    /// A value of type `ty` decoded from `bytes`, one value alone (not in a
    /// message) in `protocol`, within `limits`.
    ///
    /// # Errors
    ///
    /// As [`Schema::read`], and when bytes are left over.
    pub fn decode(
        &self,
        protocol: ProtocolId,
        ty: &Type,
        bytes: Bytes,
        limits: Limits,
    ) -> Result<Value, ProtocolError> {
        struct Whole<'a>(&'a Schema, &'a Type);
        impl codec::ReadAny for Whole<'_> {
            type Output = Value;
            fn read<I: InputProtocol>(self, input: &mut I) -> Result<Value, ProtocolError> {
                let value = self.0.read(self.1, input)?;
                match input.remaining() {
                    0 => Ok(value),
                    n => Err(ProtocolError::invalid(format!(
                        "{n} bytes left after the value"
                    ))),
                }
            }
        }
        codec::read_in(protocol, bytes, limits, Whole(self, ty))
    }

    /// `value` of type `ty` as JSON (the mapping is in the crate
    /// documentation).
    ///
    /// # Errors
    ///
    /// When `value` does not fit `ty`.
    pub fn to_json(&self, ty: &Type, value: &Value) -> Result<serde_json::Value, JsonError> {
        json::to_json(self, ty, value, 0)
    }

    /// A value of type `ty` from JSON (the mapping is in the crate
    /// documentation). Fields not given take their IDL default, if they have
    /// one; a `required` field without one must be given.
    ///
    /// # Errors
    ///
    /// When the JSON does not fit `ty`; the error has the path to the
    /// offending part (`thing.list[2]`).
    pub fn from_json(&self, ty: &Type, json: &serde_json::Value) -> Result<Value, JsonError> {
        json::from_json(self, ty, json, 0)
    }

    /// A constant of the IDL (a default value, say) as a value of type `ty`.
    pub fn const_value(&self, ty: &Type, value: &ConstValue) -> Value {
        let ty = self.ir().resolve(ty);
        match (ty, value) {
            (Type::Bool, ConstValue::Bool(b)) => Value::Bool(*b),
            (Type::Bool, ConstValue::Int(i)) => Value::Bool(*i != 0),
            (Type::I8, ConstValue::Int(i)) => Value::I8(*i as i8),
            (Type::I16, ConstValue::Int(i)) => Value::I16(*i as i16),
            (Type::I32, ConstValue::Int(i)) => Value::I32(*i as i32),
            (Type::I64, ConstValue::Int(i)) => Value::I64(*i),
            (Type::Double, ConstValue::Double(d)) => Value::Double(*d),
            (Type::Double, ConstValue::Int(i)) => Value::Double(*i as f64),
            (Type::Binary, ConstValue::String(s)) => Value::Binary(Bytes::from(s.clone())),
            (_, ConstValue::String(s)) => Value::String(s.clone()),
            (_, ConstValue::Uuid(u)) => Value::Uuid(*u),
            (_, ConstValue::Enum { value, .. }) => Value::Enum(*value),
            (Type::Def(_), ConstValue::Int(i)) => Value::Enum(*i as i32),
            (Type::Set(t), ConstValue::List(items)) => {
                Value::Set(items.iter().map(|i| self.const_value(t, i)).collect())
            }
            (Type::List(t), ConstValue::List(items)) => {
                Value::List(items.iter().map(|i| self.const_value(t, i)).collect())
            }
            (Type::Map(k, v), ConstValue::Map(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(a, b)| (self.const_value(k, a), self.const_value(v, b)))
                    .collect(),
            ),
            (_, ConstValue::Struct { def, fields }) => {
                let shape = self.struct_shape(*def);
                let mut out = StructValue::new();
                for (id, value) in fields {
                    if let Some(field) = shape.and_then(|s| s.field(*id)) {
                        out.insert(*id, self.const_value(field.ty, value));
                    }
                }
                Value::Struct(out)
            }
            // The checker converted every constant to its type; what is
            // left is a list given for a map or the like, which it refused.
            (_, ConstValue::Bool(b)) => Value::Bool(*b),
            (_, ConstValue::Int(i)) => Value::I64(*i),
            (_, ConstValue::Double(d)) => Value::Double(*d),
            (_, ConstValue::List(items)) => {
                Value::List(items.iter().map(|i| self.const_value(ty, i)).collect())
            }
            (_, ConstValue::Map(_)) => Value::Map(Vec::new()),
        }
    }

    /// The wire type of `ty`.
    pub fn ttype(&self, ty: &Type) -> TType {
        match self.ir().resolve(ty) {
            Type::Bool => TType::Bool,
            Type::I8 => TType::I8,
            Type::I16 => TType::I16,
            Type::I32 => TType::I32,
            Type::I64 => TType::I64,
            Type::Double => TType::Double,
            Type::String | Type::Binary => TType::String,
            Type::Uuid => TType::Uuid,
            Type::List(_) => TType::List,
            Type::Set(_) => TType::Set,
            Type::Map(..) => TType::Map,
            Type::Def(id) => match &self.ir().def(*id).kind {
                DefKind::Enum(_) => TType::I32,
                _ => TType::Struct,
            },
        }
    }

    /// The fields of struct, union or exception `id`.
    pub(crate) fn struct_shape(&self, id: DefId) -> Option<Shape<'_>> {
        let def = self.ir().def(id);
        let DefKind::Struct(s) = &def.kind else {
            return None;
        };
        let kind = match s.kind {
            thriftgen::ir::StructKind::Union => ShapeKind::Union,
            _ => ShapeKind::Struct,
        };
        Some(Shape {
            name: &def.name,
            kind,
            fields: &s.fields,
            success: None,
        })
    }

    fn root_file(&self) -> thriftgen::source::FileId {
        self.ir()
            .roots
            .first()
            .copied()
            .unwrap_or(thriftgen::source::FileId(0))
    }

    /// Definitions, those of the root files first, each file in source order.
    fn defs_in_order(&self) -> impl Iterator<Item = &Def> + '_ {
        let ir = self.ir();
        let roots = ir.roots.iter().copied();
        let others = ir
            .modules
            .iter()
            .map(|m| m.file)
            .filter(move |f| !ir.roots.contains(f));
        roots
            .chain(others)
            .flat_map(move |f| ir.module(f).defs.iter().map(move |&d| ir.def(d)))
    }

    fn find_def(&self, name: &str, kind: impl Fn(&DefKind) -> bool) -> Option<&Def> {
        let ir = self.ir();
        if let Some((stem, bare)) = name.rsplit_once('.') {
            return self
                .defs_in_order()
                .find(|d| d.name == bare && ir.module(d.module).stem == stem && kind(&d.kind));
        }
        self.defs_in_order()
            .find(|d| d.name == name && kind(&d.kind))
    }

    fn service_list(&self) -> String {
        let names: Vec<String> = self.services().iter().map(|s| s.name()).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }

    /// The name of definition `def` as the root files would write it.
    pub(crate) fn def_name(&self, def: &Def) -> String {
        self.type_name(&Type::Def(def.id))
    }
}

/// A service of a [`Schema`].
#[derive(Clone, Copy, Debug)]
pub struct Service<'s> {
    schema: &'s Schema,
    def: &'s Def,
}

impl<'s> Service<'s> {
    /// Its name as the files named first would write it (`ThriftTest`, or
    /// `shared.SharedService`).
    pub fn name(&self) -> String {
        self.schema.def_name(self.def)
    }

    /// Its definition.
    pub fn def(&self) -> &'s Def {
        self.def
    }

    /// The service it extends.
    pub fn extends(&self) -> Option<Service<'s>> {
        let DefKind::Service(s) = &self.def.kind else {
            return None;
        };
        let base = s.extends?;
        Some(Service {
            schema: self.schema,
            def: self.schema.ir().def(base),
        })
    }

    /// Its methods, its own first, then those it inherits (nearest base
    /// first).
    pub fn methods(&self) -> Vec<Method<'s>> {
        let mut out = Vec::new();
        let mut owner = Some(*self);
        // Bounded: a checked IR has no `extends` cycles.
        for _ in 0..=self.schema.ir().defs.len() {
            let Some(service) = owner else { break };
            if let DefKind::Service(s) = &service.def.kind {
                for function in &s.functions {
                    if !out.iter().any(|m: &Method<'_>| m.name() == function.name) {
                        out.push(Method::new(self.schema, self.def, service.def, function));
                    }
                }
            }
            owner = service.extends();
        }
        out
    }

    /// Method `name`, its own or inherited.
    pub fn method(&self, name: &str) -> Option<Method<'s>> {
        self.methods().into_iter().find(|m| m.name() == name)
    }
}

/// No such service or method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupError(pub(crate) String);

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LookupError {}

/// What kind of struct a [`Shape`] is, for its rules and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShapeKind {
    /// A struct or an exception.
    Struct,
    /// A union: exactly one field.
    Union,
    /// The arguments of a method.
    Args,
    /// The result of a method: at most one field (the value, or an exception).
    Result,
}

/// The fields of something written as a struct: a struct, union or
/// exception, a method's arguments, or its result (field 0, the returned
/// value, then the declared exceptions).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape<'a> {
    /// The name errors give it: the struct's, or `Service.method`.
    pub name: &'a str,
    pub kind: ShapeKind,
    pub fields: &'a [Field],
    /// Result structs: the type of field 0.
    pub success: Option<&'a Type>,
}

/// One field of a [`Shape`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldSpec<'a> {
    pub id: i16,
    pub name: &'a str,
    pub ty: &'a Type,
    pub requiredness: Requiredness,
    pub default: Option<&'a ConstValue>,
}

impl<'a> Shape<'a> {
    pub(crate) fn args(name: &'a str, function: &'a Function) -> Shape<'a> {
        Shape {
            name,
            kind: ShapeKind::Args,
            fields: &function.params,
            success: None,
        }
    }

    pub(crate) fn result(name: &'a str, function: &'a Function) -> Shape<'a> {
        Shape {
            name,
            kind: ShapeKind::Result,
            fields: &function.throws,
            success: function.returns.as_ref(),
        }
    }

    /// The fields, in the order they are written.
    pub(crate) fn iter(&self) -> impl Iterator<Item = FieldSpec<'a>> + 'a {
        let success = self.success.map(|ty| FieldSpec {
            id: 0,
            name: "success",
            ty,
            requiredness: Requiredness::Optional,
            default: None,
        });
        let result = self.kind == ShapeKind::Result;
        success
            .into_iter()
            .chain(self.fields.iter().map(move |f| FieldSpec {
                id: f.id,
                name: &f.name,
                ty: &f.ty,
                // A result's exceptions are each optional, whatever they say.
                requiredness: if result {
                    Requiredness::Optional
                } else {
                    f.requiredness
                },
                default: if result { None } else { f.default.as_ref() },
            }))
    }

    pub(crate) fn field(&self, id: i16) -> Option<FieldSpec<'a>> {
        self.iter().find(|f| f.id == id)
    }

    pub(crate) fn field_named(&self, name: &str) -> Option<FieldSpec<'a>> {
        self.iter().find(|f| f.name == name)
    }

    /// The field names, for messages: `a, b, c`.
    pub(crate) fn names(&self) -> String {
        let names: Vec<&str> = self.iter().map(|f| f.name).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }

    /// How messages name a member: `field` or `argument`.
    pub(crate) fn member(&self) -> &'static str {
        match self.kind {
            ShapeKind::Args => "argument",
            _ => "field",
        }
    }
}
