//! The checked program: plain data the code generator walks without going
//! back to the syntax tree. Names are resolved to [`DefId`]s, types to
//! [`Type`], constants to values of their declared type, and every node keeps
//! its span for diagnostics.

use crate::source::{FileId, Span};
use std::fmt::{self, Write as _};

/// Index of a definition in [`Ir::defs`]. Stable for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId(pub u32);

/// Every file of the run and every definition in them.
#[derive(Clone, Debug, Default)]
pub struct Ir {
    /// One module per IDL file, indexed by [`FileId`].
    pub modules: Vec<Module>,
    /// Every definition of every module, indexed by [`DefId`].
    pub defs: Vec<Def>,
    /// The modules the user asked for (the others were reached through includes).
    pub roots: Vec<FileId>,
}

/// One IDL file.
#[derive(Clone, Debug)]
pub struct Module {
    /// Its file.
    pub file: FileId,
    /// The file name without directory and `.thrift`: the prefix other files
    /// use for its definitions.
    pub stem: String,
    /// `namespace` lines: (scope, name), `*` included, in order.
    pub namespaces: Vec<(String, String)>,
    /// The modules it includes, in order.
    pub includes: Vec<FileId>,
    /// Its definitions, in source order.
    pub defs: Vec<DefId>,
    /// The file's leading doc comment.
    pub doc: Option<String>,
}

impl Module {
    /// The namespace for `scope` (`"rs"`, `"py"`, ...), falling back to `*`.
    pub fn namespace(&self, scope: &str) -> Option<&str> {
        let find = |s: &str| {
            self.namespaces
                .iter()
                .find(|(k, _)| k == s)
                .map(|(_, v)| v.as_str())
        };
        find(scope).or_else(|| find("*"))
    }
}

/// A key/value annotation, `(key = "value")`; a bare key has value `"1"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A top-level definition.
#[derive(Clone, Debug)]
pub struct Def {
    /// Its id.
    pub id: DefId,
    /// The module that defines it.
    pub module: FileId,
    /// Its name as written.
    pub name: String,
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The whole definition.
    pub span: Span,
    /// The name only.
    pub name_span: Span,
    /// What it is.
    pub kind: DefKind,
}

/// What a definition is.
#[derive(Clone, Debug)]
pub enum DefKind {
    /// `const`
    Const(Const),
    /// `typedef`
    Typedef(Typedef),
    /// `enum`
    Enum(Enum),
    /// `struct`, `union` or `exception`
    Struct(Struct),
    /// `service`
    Service(Service),
}

/// `const T NAME = value`
#[derive(Clone, Debug)]
pub struct Const {
    /// The declared type.
    pub ty: Type,
    /// The value, converted to the declared type.
    pub value: ConstValue,
}

/// `typedef T Name`
#[derive(Clone, Debug)]
pub struct Typedef {
    /// The aliased type (may itself name a typedef).
    pub target: Type,
}

/// `enum`
#[derive(Clone, Debug)]
pub struct Enum {
    /// The values, in source order.
    pub values: Vec<EnumValue>,
}

/// One enum value.
#[derive(Clone, Debug)]
pub struct EnumValue {
    /// The name.
    pub name: String,
    /// The number.
    pub value: i32,
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Where it is defined.
    pub span: Span,
}

/// `struct`, `union` or `exception`.
pub use crate::syntax::ast::StructKind;

/// A struct, union or exception.
#[derive(Clone, Debug)]
pub struct Struct {
    /// Which of the three.
    pub kind: StructKind,
    /// The fields, in source order.
    pub fields: Vec<Field>,
}

/// How a field's presence is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requiredness {
    /// `required`: always written, must be present when read.
    Required,
    /// `optional`: written only when set.
    Optional,
    /// Neither keyword: written always, may be absent when read
    /// (Apache's "opt-in, req-out").
    Default,
}

/// A field of a struct, a parameter, or an entry of `throws`.
#[derive(Clone, Debug)]
pub struct Field {
    /// The id on the wire.
    pub id: i16,
    /// Whether the id was assigned by the compiler (no id, or a
    /// non-positive one, in the IDL).
    pub id_assigned: bool,
    /// The name as written.
    pub name: String,
    /// The type.
    pub ty: Type,
    /// Required, optional or default.
    pub requiredness: Requiredness,
    /// The default value, converted to the field's type.
    pub default: Option<ConstValue>,
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations on the field.
    pub annotations: Vec<Annotation>,
    /// Annotations on the field's type (`string (x = "y") name`).
    pub type_annotations: Vec<Annotation>,
    /// Where it is defined.
    pub span: Span,
}

/// `service`
#[derive(Clone, Debug)]
pub struct Service {
    /// The service it extends.
    pub extends: Option<DefId>,
    /// Its own functions (not the inherited ones), in source order.
    pub functions: Vec<Function>,
}

/// A function of a service.
#[derive(Clone, Debug)]
pub struct Function {
    /// The name, which is also the method name on the wire.
    pub name: String,
    /// `oneway`: no reply is sent.
    pub oneway: bool,
    /// The return type; `None` for `void`.
    pub returns: Option<Type>,
    /// The parameters.
    pub params: Vec<Field>,
    /// The declared exceptions.
    pub throws: Vec<Field>,
    /// The doc comment.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Where it is defined.
    pub span: Span,
}

impl Function {
    /// Whether the function is annotated `(idempotent = "true")` (or
    /// `"1"`, or a bare `idempotent`, which reads as `"1"`): it may run
    /// twice, so the generated async client lets a fleet retry its calls
    /// after failures that may have reached a server and send backup
    /// requests. Other values are not idempotent (the checker warns about
    /// values other than `"false"` and `"0"`).
    pub fn is_idempotent(&self) -> bool {
        self.annotations
            .iter()
            .rev()
            .find(|a| a.key == IDEMPOTENT)
            .is_some_and(|a| IDEMPOTENT_YES.contains(&a.value.as_str()))
    }
}

/// The function annotation that marks a method idempotent
/// ([`Function::is_idempotent`]).
pub const IDEMPOTENT: &str = "idempotent";
/// The values of [`IDEMPOTENT`] that say yes; `"true"` is the documented one.
pub(crate) const IDEMPOTENT_YES: &[&str] = &["true", "1"];
/// The values of [`IDEMPOTENT`] that say no.
pub(crate) const IDEMPOTENT_NO: &[&str] = &["false", "0"];

/// A resolved type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `i8` / `byte`
    I8,
    /// `i16`
    I16,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `double`
    Double,
    /// `string`
    String,
    /// `binary`
    Binary,
    /// `uuid`
    Uuid,
    /// `list<T>`
    List(Box<Type>),
    /// `set<T>`
    Set(Box<Type>),
    /// `map<K, V>`
    Map(Box<Type>, Box<Type>),
    /// A typedef, enum, struct, union or exception.
    Def(DefId),
}

/// A constant, converted to the type it is used as.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    /// A `bool`.
    Bool(bool),
    /// Any integer type.
    Int(i64),
    /// A `double`.
    Double(f64),
    /// A `string` or `binary`.
    String(String),
    /// A `uuid`, as its 16 bytes.
    Uuid([u8; 16]),
    /// A value of an enum.
    Enum {
        /// The enum.
        def: DefId,
        /// The value's name.
        name: String,
        /// The value's number.
        value: i32,
    },
    /// A list or set.
    List(Vec<ConstValue>),
    /// A map, entries in source order.
    Map(Vec<(ConstValue, ConstValue)>),
    /// A struct, union or exception literal: (field id, value) in source order.
    Struct {
        /// The struct.
        def: DefId,
        /// The fields that are set.
        fields: Vec<(i16, ConstValue)>,
    },
}

impl Ir {
    /// The definition with id `id`.
    pub fn def(&self, id: DefId) -> &Def {
        &self.defs[id.0 as usize]
    }

    /// The module of file `file`.
    pub fn module(&self, file: FileId) -> &Module {
        &self.modules[file.0 as usize]
    }

    /// `ty` with typedefs followed to the type they stand for.
    pub fn resolve<'a>(&'a self, mut ty: &'a Type) -> &'a Type {
        // Bounded: a checked IR has no typedef cycles, but this is also
        // called while checking.
        for _ in 0..=self.defs.len() {
            let Type::Def(id) = ty else { break };
            match &self.def(*id).kind {
                DefKind::Typedef(t) => ty = &t.target,
                _ => break,
            }
        }
        ty
    }

    /// The type as the IDL would spell it, qualified with the module stem when
    /// it lives in another module than `from`.
    pub fn type_name(&self, ty: &Type, from: FileId) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::I8 => "i8".into(),
            Type::I16 => "i16".into(),
            Type::I32 => "i32".into(),
            Type::I64 => "i64".into(),
            Type::Double => "double".into(),
            Type::String => "string".into(),
            Type::Binary => "binary".into(),
            Type::Uuid => "uuid".into(),
            Type::List(t) => format!("list<{}>", self.type_name(t, from)),
            Type::Set(t) => format!("set<{}>", self.type_name(t, from)),
            Type::Map(k, v) => format!(
                "map<{}, {}>",
                self.type_name(k, from),
                self.type_name(v, from)
            ),
            Type::Def(id) => {
                let def = self.def(*id);
                if def.module == from {
                    def.name.clone()
                } else {
                    format!("{}.{}", self.module(def.module).stem, def.name)
                }
            }
        }
    }

    /// A readable, stable text dump of the modules the user named and the
    /// modules they include: for snapshots, `thriftgen check --emit ir` and
    /// debugging. Spans are shown as `line:col`; `line_col` maps a span to them.
    pub fn dump(&self, line_col: &dyn Fn(Span) -> (usize, usize)) -> String {
        let mut out = String::new();
        for module in &self.modules {
            let _ = self.dump_module(&mut out, module, line_col);
        }
        out
    }

    fn dump_module(
        &self,
        out: &mut String,
        module: &Module,
        line_col: &dyn Fn(Span) -> (usize, usize),
    ) -> fmt::Result {
        writeln!(out, "module {}", module.stem)?;
        if let Some(doc) = &module.doc {
            writeln!(out, "  doc {doc:?}")?;
        }
        for (scope, name) in &module.namespaces {
            writeln!(out, "  namespace {scope} {name}")?;
        }
        for inc in &module.includes {
            writeln!(out, "  include {}", self.module(*inc).stem)?;
        }
        for &id in &module.defs {
            let def = self.def(id);
            let (line, col) = line_col(def.span);
            let from = module.file;
            let head = match &def.kind {
                DefKind::Const(c) => format!(
                    "const {} {} = {}",
                    self.type_name(&c.ty, from),
                    def.name,
                    self.value_text(&c.value)
                ),
                DefKind::Typedef(t) => {
                    format!("typedef {} = {}", def.name, self.type_name(&t.target, from))
                }
                DefKind::Enum(_) => format!("enum {}", def.name),
                DefKind::Struct(s) => format!("{} {}", s.kind.keyword(), def.name),
                DefKind::Service(s) => match s.extends {
                    Some(base) => format!(
                        "service {} extends {}",
                        def.name,
                        self.type_name(&Type::Def(base), from)
                    ),
                    None => format!("service {}", def.name),
                },
            };
            writeln!(out, "  #{} {head}  @{line}:{col}", id.0)?;
            dump_meta(out, "    ", &def.doc, &def.annotations)?;
            match &def.kind {
                DefKind::Enum(e) => {
                    for v in &e.values {
                        writeln!(out, "    {} = {}", v.name, v.value)?;
                        dump_meta(out, "      ", &v.doc, &v.annotations)?;
                    }
                }
                DefKind::Struct(s) => {
                    for f in &s.fields {
                        self.dump_field(out, "    ", f, from)?;
                    }
                }
                DefKind::Service(s) => {
                    for f in &s.functions {
                        let ret = f
                            .returns
                            .as_ref()
                            .map_or("void".to_string(), |t| self.type_name(t, from));
                        let oneway = if f.oneway { "oneway " } else { "" };
                        writeln!(out, "    fn {}{ret} {}", oneway, f.name)?;
                        dump_meta(out, "      ", &f.doc, &f.annotations)?;
                        for p in &f.params {
                            self.dump_field(out, "      param ", p, from)?;
                        }
                        for t in &f.throws {
                            self.dump_field(out, "      throws ", t, from)?;
                        }
                    }
                }
                DefKind::Const(_) | DefKind::Typedef(_) => {}
            }
        }
        Ok(())
    }

    fn dump_field(&self, out: &mut String, indent: &str, f: &Field, from: FileId) -> fmt::Result {
        let req = match f.requiredness {
            Requiredness::Required => "required ",
            Requiredness::Optional => "optional ",
            Requiredness::Default => "",
        };
        let assigned = if f.id_assigned { " (assigned)" } else { "" };
        write!(
            out,
            "{indent}{}{assigned}: {req}{} {}",
            f.id,
            self.type_name(&f.ty, from),
            f.name
        )?;
        if let Some(d) = &f.default {
            write!(out, " = {}", self.value_text(d))?;
        }
        writeln!(out)?;
        let deeper = format!("{}  ", " ".repeat(indent.len()));
        let mut annotations = f.annotations.clone();
        annotations.extend(f.type_annotations.iter().cloned());
        dump_meta(out, &deeper, &f.doc, &annotations)
    }

    /// A constant value in IDL-like notation.
    pub fn value_text(&self, v: &ConstValue) -> String {
        match v {
            ConstValue::Bool(b) => b.to_string(),
            ConstValue::Int(i) => i.to_string(),
            ConstValue::Double(d) => format!("{d:?}"),
            ConstValue::String(s) => format!("{s:?}"),
            ConstValue::Uuid(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!(
                    "uuid({}-{}-{}-{}-{})",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                )
            }
            ConstValue::Enum { def, name, value } => {
                format!("{}.{name}({value})", self.def(*def).name)
            }
            ConstValue::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| self.value_text(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ConstValue::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.value_text(k), self.value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ConstValue::Struct { def, fields } => format!(
                "{} {{{}}}",
                self.def(*def).name,
                fields
                    .iter()
                    .map(|(id, v)| format!("{id}: {}", self.value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn dump_meta(
    out: &mut String,
    indent: &str,
    doc: &Option<String>,
    annotations: &[Annotation],
) -> fmt::Result {
    if let Some(doc) = doc {
        writeln!(out, "{indent}doc {doc:?}")?;
    }
    for a in annotations {
        writeln!(out, "{indent}@{} = {:?}", a.key, a.value)?;
    }
    Ok(())
}
