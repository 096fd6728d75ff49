//! The syntax tree of one IDL file, as written: names are unresolved, values
//! unchecked. Every node keeps its [`Span`].

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The text; may contain dots (`shared.Type`).
    pub name: String,
    /// Where it stands.
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    /// The value after escapes are applied.
    pub value: String,
    /// The literal including its quotes.
    pub span: Span,
}

/// `(key = "value", flag)`
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The key.
    pub key: Ident,
    /// The value; Apache reads a key without value as `"1"`.
    pub value: Option<StrLit>,
    /// The whole annotation.
    pub span: Span,
}

/// A whole file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The first doc comment of the file when it stands before the first header.
    pub doc: Option<String>,
    /// `include`, `cpp_include` and `namespace` lines, in order.
    pub headers: Vec<Header>,
    /// Everything else, in order.
    pub definitions: Vec<Definition>,
}

/// A header line.
#[derive(Clone, Debug, PartialEq)]
pub enum Header {
    /// `include "path"`
    Include(StrLit),
    /// `cpp_include "path"`
    CppInclude(StrLit),
    /// `namespace scope name`
    Namespace(Namespace),
}

/// `namespace rs my.module (annotations)`
#[derive(Clone, Debug, PartialEq)]
pub struct Namespace {
    /// The language, or `*`.
    pub scope: Ident,
    /// The namespace.
    pub name: Ident,
    /// Annotations after the name.
    pub annotations: Vec<Annotation>,
    /// The whole line.
    pub span: Span,
}

/// A top-level definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// Its name.
    pub name: Ident,
    /// The doc comment before it, cleaned of `/**`, `*/` and leading `*`.
    pub doc: Option<String>,
    /// Annotations after it.
    pub annotations: Vec<Annotation>,
    /// The whole definition.
    pub span: Span,
    /// What it defines.
    pub kind: DefinitionKind,
}

/// What a definition defines.
#[derive(Clone, Debug, PartialEq)]
pub enum DefinitionKind {
    /// `const T NAME = value`
    Const {
        /// The declared type.
        ty: TypeExpr,
        /// The value.
        value: ConstExpr,
    },
    /// `typedef T Name`
    Typedef {
        /// The aliased type.
        ty: TypeExpr,
    },
    /// `enum Name { ... }`
    Enum {
        /// The values, in order.
        values: Vec<EnumValue>,
    },
    /// `struct`, `union` or `exception`.
    Struct {
        /// Which of the three.
        kind: StructKind,
        /// The fields, in order.
        fields: Vec<Field>,
    },
    /// `service Name extends Base { ... }`
    Service {
        /// The `extends` target.
        extends: Option<Ident>,
        /// The functions, in order.
        functions: Vec<Function>,
    },
}

/// `struct`, `union` or `exception`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StructKind {
    /// `struct`
    Struct,
    /// `union`
    Union,
    /// `exception`
    Exception,
}

impl StructKind {
    /// The IDL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            StructKind::Struct => "struct",
            StructKind::Union => "union",
            StructKind::Exception => "exception",
        }
    }
}

/// `NAME = 3 (annotations)`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumValue {
    /// The name.
    pub name: Ident,
    /// The explicit value and its span, if written.
    pub value: Option<(i64, Span)>,
    /// The doc comment before it.
    pub doc: Option<String>,
    /// Annotations after it.
    pub annotations: Vec<Annotation>,
    /// The whole value.
    pub span: Span,
}

/// `required` or `optional` as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requiredness {
    /// `required`
    Required,
    /// `optional`
    Optional,
}

/// A field of a struct, a parameter, or an entry of `throws`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The explicit id and its span, if written.
    pub id: Option<(i64, Span)>,
    /// `required`/`optional` and its span, if written.
    pub requiredness: Option<(Requiredness, Span)>,
    /// The type.
    pub ty: TypeExpr,
    /// The name.
    pub name: Ident,
    /// `= value`
    pub default: Option<ConstExpr>,
    /// The doc comment before it.
    pub doc: Option<String>,
    /// Annotations after it.
    pub annotations: Vec<Annotation>,
    /// The whole field.
    pub span: Span,
}

/// A function of a service.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// `oneway` (or the deprecated `async`) and its span.
    pub oneway: Option<Span>,
    /// Whether it was spelled `async`.
    pub is_async: bool,
    /// The return type; `None` for `void`.
    pub returns: Option<TypeExpr>,
    /// The span of the return type (or of `void`).
    pub returns_span: Span,
    /// The name.
    pub name: Ident,
    /// The parameters.
    pub params: Vec<Field>,
    /// `throws (...)`, if written, with the span of the clause.
    pub throws: Option<(Vec<Field>, Span)>,
    /// The doc comment before it.
    pub doc: Option<String>,
    /// Annotations after it.
    pub annotations: Vec<Annotation>,
    /// The whole function.
    pub span: Span,
}

/// The base types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// `bool`
    Bool,
    /// `i8` (or `byte`)
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
}

impl BaseType {
    /// The IDL name.
    pub fn name(self) -> &'static str {
        match self {
            BaseType::Bool => "bool",
            BaseType::I8 => "i8",
            BaseType::I16 => "i16",
            BaseType::I32 => "i32",
            BaseType::I64 => "i64",
            BaseType::Double => "double",
            BaseType::String => "string",
            BaseType::Binary => "binary",
            BaseType::Uuid => "uuid",
        }
    }
}

/// A type as written.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What type.
    pub kind: TypeExprKind,
    /// Annotations on the type itself (`list<i32> (python.immutable)`).
    pub annotations: Vec<Annotation>,
    /// Where it stands.
    pub span: Span,
}

/// The shape of a [`TypeExpr`].
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// A base type.
    Base(BaseType),
    /// `list<T>`
    List(Box<TypeExpr>),
    /// `set<T>`
    Set(Box<TypeExpr>),
    /// `map<K, V>`
    Map(Box<TypeExpr>, Box<TypeExpr>),
    /// A name: a typedef, enum, struct, union or exception.
    Named(Ident),
}

/// A constant value as written.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstExpr {
    /// The value.
    pub kind: ConstExprKind,
    /// Where it stands.
    pub span: Span,
}

/// The shape of a [`ConstExpr`].
#[derive(Clone, Debug, PartialEq)]
pub enum ConstExprKind {
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Double(f64),
    /// A string literal, unescaped.
    String(String),
    /// `true` or `false`.
    Bool(bool),
    /// A reference to a constant or an enum value.
    Ref(Ident),
    /// `[a, b]`: a list or set.
    List(Vec<ConstExpr>),
    /// `{k: v}`: a map or a struct literal.
    Map(Vec<(ConstExpr, ConstExpr)>),
}
