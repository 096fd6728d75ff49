//! IR types to Rust: the type of a field, its wire type, and the code that
//! reads and writes it. Also what the generator computes once for the whole
//! program: Rust names and module paths, which fields need a `Box`, and which
//! traits each type can derive.

use super::naming;
use super::Options;
use crate::ir::{ConstValue, DefId, DefKind, Ir, Requiredness, StructKind, Type};
use crate::source::FileId;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashSet;

/// Everything the item generators share.
pub(super) struct Ctx<'a> {
    pub ir: &'a Ir,
    pub rt: TokenStream,
    /// The module path of each file, in snake case, from the generated root.
    pub module_paths: Vec<Vec<String>>,
    /// The Rust name of each definition.
    pub names: Vec<String>,
    /// Struct fields (definition, field index) that are boxed to close a cycle.
    pub boxed: HashSet<(DefId, usize)>,
    /// Per definition: whether the Rust type can implement `Eq` and `Hash`.
    pub hashable: Vec<bool>,
    /// Per definition: whether the Rust type implements `Default`.
    pub has_default: Vec<bool>,
    pub options: &'a Options,
    /// When set, paths to definitions are absolute from this root (for code
    /// outside the generated modules, such as scaffolded handlers).
    pub abs_root: Option<TokenStream>,
}

/// The Rust name of each definition: `SHOUTY_CASE` for constants,
/// `UpperCamelCase` for the rest, unique within its module (a name that
/// converts like an earlier one gets `_` and its position).
pub(super) fn def_names(ir: &Ir) -> Vec<String> {
    let mut names = vec![String::new(); ir.defs.len()];
    for module in &ir.modules {
        let converted = module.defs.iter().enumerate().map(|(i, &id)| {
            let d = ir.def(id);
            let name = match d.kind {
                DefKind::Const(_) => naming::shouty(&d.name),
                _ => naming::upper_camel(&d.name),
            };
            (name, i as i64)
        });
        for (&id, name) in module.defs.iter().zip(naming::unique(converted)) {
            if let Some(slot) = names.get_mut(id.0 as usize) {
                *slot = name;
            }
        }
        // A service brings types of its own (`FooClient`, `FooGetArgs`,
        // `FooGetMethod`, ...):
        // another definition of the module that has one of their names
        // moves aside (`FooClient1`), as names that convert alike do.
        let mut derived = HashSet::new();
        for &id in &module.defs {
            if let (DefKind::Service(s), Some(name)) = (&ir.def(id).kind, names.get(id.0 as usize))
            {
                derived.insert(format!("{name}Client"));
                derived.insert(format!("{name}AsyncClient"));
                derived.insert(format!("{name}Processor"));
                for method in super::services::method_names(s) {
                    let stem = format!("{name}{}", naming::upper_camel(&method));
                    for suffix in ["Args", "Method", "Error"] {
                        derived.insert(format!("{stem}{suffix}"));
                    }
                }
            }
        }
        let mut taken: HashSet<String> = module
            .defs
            .iter()
            .filter_map(|id| names.get(id.0 as usize).cloned())
            .chain(derived.iter().cloned())
            .collect();
        for &id in &module.defs {
            if matches!(ir.def(id).kind, DefKind::Service(_)) {
                continue;
            }
            let Some(slot) = names.get_mut(id.0 as usize) else {
                continue;
            };
            if derived.contains(slot.as_str()) {
                let mut n = 1;
                while !taken.insert(format!("{slot}{n}")) {
                    n += 1;
                }
                *slot = format!("{slot}{n}");
            }
        }
    }
    names
}

impl<'a> Ctx<'a> {
    pub(super) fn new(ir: &'a Ir, options: &'a Options, module_paths: Vec<Vec<String>>) -> Ctx<'a> {
        let rt: TokenStream = options
            .runtime_path
            .parse()
            .unwrap_or_else(|_| quote!(::thriftgen_runtime));
        let names = def_names(ir);
        let mut ctx = Ctx {
            ir,
            rt,
            module_paths,
            names,
            boxed: HashSet::new(),
            hashable: vec![true; ir.defs.len()],
            has_default: vec![true; ir.defs.len()],
            options,
            abs_root: None,
        };
        ctx.find_boxes();
        ctx.find_traits();
        ctx
    }

    /// Boxes the struct field where each cycle of direct (non-container)
    /// struct references closes, found by a depth-first walk in definition
    /// order, so recursive types have a finite size.
    fn find_boxes(&mut self) {
        let n = self.ir.defs.len();
        let mut state = vec![0u8; n];
        for start in 0..n {
            if state[start] == 0 {
                self.visit(DefId(start as u32), &mut state);
            }
        }
    }

    fn visit(&mut self, id: DefId, state: &mut [u8]) {
        state[id.0 as usize] = 1;
        if let DefKind::Struct(s) = &self.ir.def(id).kind {
            for (i, f) in s.fields.iter().enumerate() {
                let Type::Def(target) = self.ir.resolve(&f.ty) else {
                    continue;
                };
                if !matches!(self.ir.def(*target).kind, DefKind::Struct(_)) {
                    continue;
                }
                match state[target.0 as usize] {
                    1 => {
                        self.boxed.insert((id, i));
                    }
                    0 => self.visit(*target, state),
                    _ => {}
                }
            }
        }
        state[id.0 as usize] = 2;
    }

    /// Works out `Eq + Hash` and `Default` for every definition, iterating
    /// until nothing changes (recursive types depend on themselves).
    fn find_traits(&mut self) {
        loop {
            let mut changed = false;
            for i in 0..self.ir.defs.len() {
                let id = DefId(i as u32);
                let hashable = match &self.ir.def(id).kind {
                    DefKind::Struct(s) => s.fields.iter().all(|f| self.type_hashable(&f.ty)),
                    DefKind::Typedef(t) => self.type_hashable(&t.target),
                    _ => true,
                };
                let default = match &self.ir.def(id).kind {
                    DefKind::Struct(s) if s.kind == StructKind::Union => false,
                    DefKind::Struct(s) => s.fields.iter().all(|f| {
                        f.requiredness != Requiredness::Required
                            || f.default.is_some()
                            || self.type_default(&f.ty)
                    }),
                    DefKind::Typedef(t) => self.type_default(&t.target),
                    _ => true,
                };
                if hashable != self.hashable[i] || default != self.has_default[i] {
                    changed |= (self.hashable[i] && !hashable) || (self.has_default[i] && !default);
                    self.hashable[i] &= hashable;
                    self.has_default[i] &= default;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Whether the Rust type for `ty` is `Eq + Hash` (no floats, no hash
    /// collections).
    pub fn type_hashable(&self, ty: &Type) -> bool {
        match ty {
            Type::Double => false,
            Type::List(t) => self.type_hashable(t),
            Type::Set(_) | Type::Map(..) => false,
            Type::Def(id) => self.hashable[id.0 as usize],
            _ => true,
        }
    }

    pub fn type_default(&self, ty: &Type) -> bool {
        match ty {
            Type::Def(id) => self.has_default[id.0 as usize],
            _ => true,
        }
    }

    /// The path to definition `id` from module `from`.
    pub fn def_path(&self, id: DefId, from: FileId) -> TokenStream {
        self.item_path(id, &self.names[id.0 as usize], from)
    }

    /// The path to the item `name` generated beside definition `id`, from
    /// module `from`.
    pub fn item_path(&self, id: DefId, name: &str, from: FileId) -> TokenStream {
        let def = self.ir.def(id);
        let name = naming::ident(name);
        if let Some(root) = &self.abs_root {
            let segments = self.module_paths[def.module.0 as usize]
                .iter()
                .map(|s| naming::ident(s));
            return quote!(#root #(::#segments)* :: #name);
        }
        if def.module == from {
            return quote!(#name);
        }
        let ups = self.module_paths[from.0 as usize].len();
        let supers = (0..ups).map(|_| quote!(super::));
        let segments = self.module_paths[def.module.0 as usize]
            .iter()
            .map(|s| naming::ident(s));
        quote!(#(#supers)* #(#segments::)* #name)
    }

    /// The Rust type of a field of type `ty` in module `from`.
    pub fn rust_type(&self, ty: &Type, from: FileId) -> TokenStream {
        let rt = &self.rt;
        match ty {
            Type::Bool => quote!(bool),
            Type::I8 => quote!(i8),
            Type::I16 => quote!(i16),
            Type::I32 => quote!(i32),
            Type::I64 => quote!(i64),
            Type::Double => quote!(f64),
            Type::String if self.options.zero_copy_strings => quote!(#rt::ByteString),
            Type::String => quote!(::std::string::String),
            Type::Binary => quote!(#rt::bytes::Bytes),
            Type::Uuid => quote!([u8; 16]),
            Type::List(t) => {
                let t = self.rust_type(t, from);
                quote!(::std::vec::Vec<#t>)
            }
            Type::Set(t) => {
                let elem = self.rust_type(t, from);
                if self.type_hashable(t) {
                    let set = self.set_type();
                    let hasher = self.hasher().map(|h| quote!(, #h));
                    quote!(#set<#elem #hasher>)
                } else {
                    quote!(::std::vec::Vec<#elem>)
                }
            }
            Type::Map(k, v) => {
                let (key, value) = (self.rust_type(k, from), self.rust_type(v, from));
                if self.type_hashable(k) {
                    let map = self.map_type();
                    let hasher = self.hasher().map(|h| quote!(, #h));
                    quote!(#map<#key, #value #hasher>)
                } else {
                    quote!(::std::vec::Vec<(#key, #value)>)
                }
            }
            Type::Def(id) => self.def_path(*id, from),
        }
    }

    /// The configured `BuildHasher` of hash maps and sets (not with
    /// B-trees), `None` for the standard one.
    fn hasher(&self) -> Option<TokenStream> {
        if self.options.btree {
            return None;
        }
        self.options.hasher.as_ref().and_then(|h| h.parse().ok())
    }

    fn set_type(&self) -> TokenStream {
        if self.options.btree {
            quote!(::std::collections::BTreeSet)
        } else {
            quote!(::std::collections::HashSet)
        }
    }

    fn map_type(&self) -> TokenStream {
        if self.options.btree {
            quote!(::std::collections::BTreeMap)
        } else {
            quote!(::std::collections::HashMap)
        }
    }

    /// The wire type of `ty`.
    pub fn ttype(&self, ty: &Type) -> TokenStream {
        let name = match self.ir.resolve(ty) {
            Type::Bool => "Bool",
            Type::I8 => "I8",
            Type::I16 => "I16",
            Type::I32 => "I32",
            Type::I64 => "I64",
            Type::Double => "Double",
            Type::String | Type::Binary => "String",
            Type::Uuid => "Uuid",
            Type::List(_) => "List",
            Type::Set(_) => "Set",
            Type::Map(..) => "Map",
            Type::Def(id) => match self.ir.def(*id).kind {
                DefKind::Enum(_) => "I32",
                _ => "Struct",
            },
        };
        let name = format_ident!("{}", name);
        quote!(__rt::TType::#name)
    }

    /// The codec generated code reads and writes a value of `ty` with: a
    /// type of the runtime's `codec` module through `__rt` (`__rt::List<__rt::Str>`),
    /// or a struct's own type.
    pub fn codec(&self, ty: &Type, from: FileId) -> TokenStream {
        match ty {
            Type::Bool => quote!(__rt::Bool),
            Type::I8 => quote!(__rt::I8),
            Type::I16 => quote!(__rt::I16),
            Type::I32 => quote!(__rt::I32),
            Type::I64 => quote!(__rt::I64),
            Type::Double => quote!(__rt::Double),
            Type::String if self.options.zero_copy_strings => quote!(__rt::ByteStr),
            Type::String => quote!(__rt::Str),
            Type::Binary => quote!(__rt::Binary),
            Type::Uuid => quote!(__rt::Uuid),
            Type::List(t) => {
                let t = self.codec(t, from);
                quote!(__rt::List<#t>)
            }
            Type::Set(t) => {
                let elem = self.codec(t, from);
                if self.type_hashable(t) && !self.options.btree {
                    let hasher = self.hasher().map(|h| quote!(, #h));
                    quote!(__rt::Set<#elem #hasher>)
                } else {
                    let collection = self.rust_type(ty, from);
                    quote!(__rt::SetOf<#elem, #collection>)
                }
            }
            Type::Map(k, v) => {
                let (key, value) = (self.codec(k, from), self.codec(v, from));
                if self.type_hashable(k) && !self.options.btree {
                    let hasher = self.hasher().map(|h| quote!(, #h));
                    quote!(__rt::Map<#key, #value #hasher>)
                } else {
                    let collection = self.rust_type(ty, from);
                    quote!(__rt::MapOf<#key, #value, #collection>)
                }
            }
            Type::Def(id) => match &self.ir.def(*id).kind {
                DefKind::Typedef(t) => self.codec(&t.target, from),
                DefKind::Enum(_) => {
                    let path = self.def_path(*id, from);
                    quote!(__rt::Enum<#path>)
                }
                _ => self.def_path(*id, from),
            },
        }
    }

    /// The codec of field `index` of struct `id` (boxed where the field is).
    pub fn field_codec(&self, id: DefId, index: usize, ty: &Type, from: FileId) -> TokenStream {
        let codec = self.codec(ty, from);
        if self.boxed.contains(&(id, index)) {
            quote!(__rt::Boxed<#codec>)
        } else {
            codec
        }
    }

    /// An expression building the owned value `v` of type `ty`.
    pub fn value(&self, v: &ConstValue, ty: &Type, from: FileId) -> TokenStream {
        let rt = &self.rt;
        let resolved = self.ir.resolve(ty).clone();
        match (v, &resolved) {
            (ConstValue::Bool(b), _) => quote!(#b),
            (ConstValue::Int(n), Type::I8) => int_literal(*n, "i8"),
            (ConstValue::Int(n), Type::I16) => int_literal(*n, "i16"),
            (ConstValue::Int(n), Type::I32) => int_literal(*n, "i32"),
            (ConstValue::Int(n), _) => int_literal(*n, "i64"),
            (ConstValue::Double(d), _) => float_literal(*d),
            (ConstValue::String(s), Type::Binary) => {
                let bytes = Literal::byte_string(s.as_bytes());
                quote!(#rt::bytes::Bytes::from_static(#bytes))
            }
            (ConstValue::String(s), _) if self.options.zero_copy_strings => {
                quote!(#rt::ByteString::from_static(#s))
            }
            (ConstValue::String(s), _) => quote!(::std::string::String::from(#s)),
            (ConstValue::Uuid(bytes), _) => quote!([#(#bytes),*]),
            (ConstValue::Enum { def, name, .. }, _) => {
                let path = self.def_path(*def, from);
                let value = naming::ident(&naming::shouty(name));
                quote!(#path::#value)
            }
            (ConstValue::List(items), Type::List(t) | Type::Set(t)) => {
                let items = items.iter().map(|i| self.value(i, t, from));
                let collection = self.rust_type(&resolved, from);
                if matches!(resolved, Type::List(_)) {
                    quote!(::std::vec![#(#items),*])
                } else {
                    quote!(<#collection>::from_iter([#(#items),*]))
                }
            }
            (ConstValue::List(_), _) | (ConstValue::Map(_), Type::List(_) | Type::Set(_)) => {
                let collection = self.rust_type(&resolved, from);
                quote!(<#collection>::new())
            }
            (ConstValue::Map(entries), Type::Map(k, val)) => {
                let entries = entries.iter().map(|(key, value)| {
                    let (key, value) = (self.value(key, k, from), self.value(value, val, from));
                    quote!((#key, #value))
                });
                let collection = self.rust_type(&resolved, from);
                quote!(<#collection>::from_iter([#(#entries),*]))
            }
            (ConstValue::Struct { def, fields }, _) => self.struct_value(*def, fields, from),
            (ConstValue::Map(_), _) => quote!(::std::default::Default::default()),
        }
    }

    fn struct_value(&self, id: DefId, set: &[(i16, ConstValue)], from: FileId) -> TokenStream {
        let path = self.def_path(id, from);
        let DefKind::Struct(s) = &self.ir.def(id).kind else {
            return quote!(::std::default::Default::default());
        };
        let names = super::items::field_names(s);
        if s.kind == StructKind::Union {
            if let Some((fid, v)) = set.first() {
                if let Some(i) = s.fields.iter().position(|f| f.id == *fid) {
                    let variant = naming::ident(&naming::upper_camel(&s.fields[i].name));
                    let value = self.boxed_value(id, i, self.value(v, &s.fields[i].ty, from));
                    return quote!(#path::#variant(#value));
                }
            }
        }
        let complete = s
            .fields
            .iter()
            .all(|f| set.iter().any(|(fid, _)| *fid == f.id));
        let rest = (!complete).then(|| quote!(..::std::default::Default::default()));
        let unknown = self
            .options
            .keep_unknown_fields
            .then(|| quote!(_unknown_fields: ::std::default::Default::default(),));
        let assigned = set.iter().filter_map(|(fid, v)| {
            let i = s.fields.iter().position(|f| f.id == *fid)?;
            let f = &s.fields[i];
            let name = naming::ident(&names[i]);
            let value = self.boxed_value(id, i, self.value(v, &f.ty, from));
            Some(if f.requiredness == Requiredness::Required {
                quote!(#name: #value)
            } else {
                quote!(#name: ::std::option::Option::Some(#value))
            })
        });
        quote!(#path { #(#assigned,)* #unknown #rest })
    }

    /// `value`, boxed if field `index` of struct `id` is boxed.
    pub fn boxed_value(&self, id: DefId, index: usize, value: TokenStream) -> TokenStream {
        if self.boxed.contains(&(id, index)) {
            quote!(::std::boxed::Box::new(#value))
        } else {
            value
        }
    }
}

fn int_literal(n: i64, suffix: &str) -> TokenStream {
    let lit = match suffix {
        "i8" => Literal::i8_suffixed(n as i8),
        "i16" => Literal::i16_suffixed(n as i16),
        "i32" => Literal::i32_suffixed(n as i32),
        _ => Literal::i64_suffixed(n),
    };
    quote!(#lit)
}

fn float_literal(d: f64) -> TokenStream {
    if d.is_nan() {
        quote!(f64::NAN)
    } else if d == f64::INFINITY {
        quote!(f64::INFINITY)
    } else if d == f64::NEG_INFINITY {
        quote!(f64::NEG_INFINITY)
    } else {
        let lit = Literal::f64_suffixed(d);
        quote!(#lit)
    }
}
