//! An IDL document as an `arbitrary` structure, rendered to text for
//! `idl_structured`: names come from a small pool (so references resolve,
//! collide and hit Rust keywords), types nest, constants have any shape.

use arbitrary::Arbitrary;
use std::fmt::Write;

/// Names, chosen to resolve to each other and to collide after case
/// conversion or with Rust keywords and the prelude.
const NAMES: &[&str] = &[
    "A", "B", "Foo", "foo", "FOO", "foo_bar", "FooBar", "fooBar", "type", "self", "Self", "crate",
    "super", "Result", "Option", "String", "Box", "Vec", "Unknown", "unknown", "_", "_1", "a1",
    "read", "write", "new", "default", "Default", "Send", "Error", "ping", "r#type", "async",
    "await", "dyn", "try", "Ok", "Err", "Some", "None", "é", "Ω", "x",
];

/// A name from [`NAMES`].
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Name(u8);

impl Name {
    fn as_str(self) -> &'static str {
        NAMES[usize::from(self.0) % NAMES.len()]
    }
}

/// A whole document (no includes).
#[derive(Arbitrary, Debug)]
pub struct Document {
    /// `namespace rs ...` when set.
    pub namespace: Option<Name>,
    /// The definitions, in order.
    pub defs: Vec<Definition>,
}

/// One definition.
#[derive(Arbitrary, Debug)]
pub enum Definition {
    /// `struct`, `union` or `exception`.
    Struct {
        kind: StructKind,
        name: Name,
        fields: Vec<Field>,
    },
    /// `enum`.
    Enum {
        name: Name,
        values: Vec<(Name, Option<i64>)>,
    },
    /// `typedef`.
    Typedef { ty: Ty, name: Name },
    /// `const`.
    Const { ty: Ty, name: Name, value: Value },
    /// `service`.
    Service {
        name: Name,
        extends: Option<Name>,
        methods: Vec<Method>,
    },
}

/// What a struct-like definition is.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum StructKind {
    Struct,
    Union,
    Exception,
}

/// A field or argument.
#[derive(Arbitrary, Debug)]
pub struct Field {
    pub id: Option<i16>,
    pub requiredness: Requiredness,
    pub ty: Ty,
    pub name: Name,
    pub default: Option<Value>,
}

/// `required`, `optional` or neither.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Requiredness {
    Default,
    Required,
    Optional,
}

/// A type.
#[derive(Arbitrary, Debug)]
pub enum Ty {
    Bool,
    Byte,
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    Named(Name),
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
}

/// A constant value.
#[derive(Arbitrary, Debug)]
pub enum Value {
    Int(i64),
    Double(f64),
    Str(Name),
    Ident(Name),
    Dotted(Name, Name),
    List(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

/// A service method.
#[derive(Arbitrary, Debug)]
pub struct Method {
    pub oneway: bool,
    pub returns: Option<Ty>,
    pub name: Name,
    pub args: Vec<Field>,
    pub throws: Vec<Field>,
}

/// Types and values nest at most this deep when rendered.
const MAX_NESTING: usize = 6;

impl Document {
    /// The document as IDL text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(ns) = self.namespace {
            let _ = writeln!(out, "namespace rs {}", ns.as_str());
        }
        for def in &self.defs {
            def.render(&mut out);
        }
        out
    }
}

impl Definition {
    fn render(&self, out: &mut String) {
        match self {
            Definition::Struct { kind, name, fields } => {
                let kind = match kind {
                    StructKind::Struct => "struct",
                    StructKind::Union => "union",
                    StructKind::Exception => "exception",
                };
                let _ = writeln!(out, "{kind} {} {{", name.as_str());
                for field in fields {
                    out.push_str("  ");
                    field.render(out);
                    out.push('\n');
                }
                out.push_str("}\n");
            }
            Definition::Enum { name, values } => {
                let _ = writeln!(out, "enum {} {{", name.as_str());
                for (name, value) in values {
                    match value {
                        Some(v) => {
                            let _ = writeln!(out, "  {} = {v},", name.as_str());
                        }
                        None => {
                            let _ = writeln!(out, "  {},", name.as_str());
                        }
                    }
                }
                out.push_str("}\n");
            }
            Definition::Typedef { ty, name } => {
                out.push_str("typedef ");
                ty.render(out, 0);
                let _ = writeln!(out, " {}", name.as_str());
            }
            Definition::Const { ty, name, value } => {
                out.push_str("const ");
                ty.render(out, 0);
                let _ = write!(out, " {} = ", name.as_str());
                value.render(out, 0);
                out.push('\n');
            }
            Definition::Service {
                name,
                extends,
                methods,
            } => {
                let _ = write!(out, "service {}", name.as_str());
                if let Some(base) = extends {
                    let _ = write!(out, " extends {}", base.as_str());
                }
                out.push_str(" {\n");
                for m in methods {
                    out.push_str("  ");
                    if m.oneway {
                        out.push_str("oneway ");
                    }
                    match &m.returns {
                        Some(ty) => ty.render(out, 0),
                        None => out.push_str("void"),
                    }
                    let _ = write!(out, " {}(", m.name.as_str());
                    fields(out, &m.args);
                    out.push(')');
                    if !m.throws.is_empty() {
                        out.push_str(" throws (");
                        fields(out, &m.throws);
                        out.push(')');
                    }
                    out.push('\n');
                }
                out.push_str("}\n");
            }
        }
    }
}

fn fields(out: &mut String, list: &[Field]) {
    for (i, f) in list.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        f.render(out);
    }
}

impl Field {
    fn render(&self, out: &mut String) {
        if let Some(id) = self.id {
            let _ = write!(out, "{id}: ");
        }
        match self.requiredness {
            Requiredness::Default => {}
            Requiredness::Required => out.push_str("required "),
            Requiredness::Optional => out.push_str("optional "),
        }
        self.ty.render(out, 0);
        let _ = write!(out, " {}", self.name.as_str());
        if let Some(v) = &self.default {
            out.push_str(" = ");
            v.render(out, 0);
        }
    }
}

impl Ty {
    fn render(&self, out: &mut String, depth: usize) {
        if depth > MAX_NESTING {
            out.push_str("i32");
            return;
        }
        match self {
            Ty::Bool => out.push_str("bool"),
            Ty::Byte => out.push_str("byte"),
            Ty::I8 => out.push_str("i8"),
            Ty::I16 => out.push_str("i16"),
            Ty::I32 => out.push_str("i32"),
            Ty::I64 => out.push_str("i64"),
            Ty::Double => out.push_str("double"),
            Ty::String => out.push_str("string"),
            Ty::Binary => out.push_str("binary"),
            Ty::Uuid => out.push_str("uuid"),
            Ty::Named(n) => out.push_str(n.as_str()),
            Ty::List(t) => {
                out.push_str("list<");
                t.render(out, depth + 1);
                out.push('>');
            }
            Ty::Set(t) => {
                out.push_str("set<");
                t.render(out, depth + 1);
                out.push('>');
            }
            Ty::Map(k, v) => {
                out.push_str("map<");
                k.render(out, depth + 1);
                out.push_str(", ");
                v.render(out, depth + 1);
                out.push('>');
            }
        }
    }
}

impl Value {
    fn render(&self, out: &mut String, depth: usize) {
        if depth > MAX_NESTING {
            out.push('0');
            return;
        }
        match self {
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Double(d) if d.is_finite() => {
                let _ = write!(out, "{d:?}");
            }
            Value::Double(_) => out.push_str("1e999"),
            Value::Str(n) => {
                let _ = write!(out, "\"{}\"", n.as_str());
            }
            Value::Ident(n) => out.push_str(n.as_str()),
            Value::Dotted(a, b) => {
                let _ = write!(out, "{}.{}", a.as_str(), b.as_str());
            }
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.render(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.render(out, depth + 1);
                    out.push_str(": ");
                    v.render(out, depth + 1);
                }
                out.push('}');
            }
        }
    }
}
