//! Definitions to Rust items: structs and exceptions, unions, enums,
//! typedefs and constants, each with its codec written out directly.

use super::naming;
use super::serde;
use super::types::Ctx;
use crate::ir::{Const, Def, DefId, DefKind, Enum, Field, Requiredness, Struct, StructKind, Type};
use crate::source::FileId;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// The Rust names of a struct's fields: snake case, unique.
pub(super) fn field_names(s: &Struct) -> Vec<String> {
    naming::unique(
        s.fields
            .iter()
            .map(|f| (naming::snake(&f.name), i64::from(f.id))),
    )
}

/// The user's attributes for the type `def` (`Builder::type_attribute`).
fn type_attributes(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    let path = format!("{}.{}", ctx.ir.module(def.module).stem, def.name);
    attributes(&ctx.options.type_attributes, &path)
}

/// The user's attributes for field `field` of type `def`.
fn field_attributes(ctx: &Ctx<'_>, def: &Def, field: &str) -> TokenStream {
    let path = format!("{}.{}.{field}", ctx.ir.module(def.module).stem, def.name);
    attributes(&ctx.options.field_attributes, &path)
}

fn attributes(configured: &[(String, String)], path: &str) -> TokenStream {
    configured
        .iter()
        .filter(|(pattern, _)| super::path_matches(pattern, path))
        // Checked to parse in `generate`.
        .filter_map(|(_, attribute)| attribute.parse::<TokenStream>().ok())
        .collect()
}

/// Doc comment attributes for an IDL doc comment.
fn docs(doc: &Option<String>) -> TokenStream {
    let lines = doc.iter().flat_map(|d| d.lines()).map(|line| {
        let line = format!(" {line}");
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// The item(s) for one definition.
pub(super) fn definition(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    match &def.kind {
        DefKind::Struct(s) if s.kind == StructKind::Union => union(ctx, def, s),
        DefKind::Struct(s) => structure(ctx, def, s),
        DefKind::Enum(e) => enumeration(ctx, def, e),
        DefKind::Typedef(t) => {
            let name = naming::ident(&ctx.names[def.id.0 as usize]);
            let target = ctx.rust_type(&t.target, def.module);
            let doc = docs(&def.doc);
            quote! { #doc pub type #name = #target; }
        }
        DefKind::Const(c) => constant(ctx, def, c),
        DefKind::Service(s) => super::services::service(ctx, def, s),
    }
}

fn derives(ctx: &Ctx<'_>, id: DefId, default: bool) -> TokenStream {
    let default = default.then(|| quote!(, Default));
    if ctx.hashable[id.0 as usize] {
        quote!(#[derive(Clone, Debug, PartialEq, Eq, Hash #default)])
    } else {
        quote!(#[derive(Clone, Debug, PartialEq #default)])
    }
}

/// Reads struct `name` into the locals `arms` assign: each arm matches a
/// field id and reads the field with `field.read` (which skips a field of
/// another wire type); `other` takes the fields no arm does.
pub(super) fn read_struct(name: &str, arms: Vec<TokenStream>, other: TokenStream) -> TokenStream {
    if arms.is_empty() {
        return quote!(__rt::read_struct(input, #name, |input, field| #other)?;);
    }
    quote! {
        let read = |input: &mut _, field: __rt::Field| match field.id {
            #(#arms)*
            _ => #other,
        };
        __rt::read_struct(input, #name, read)?;
    }
}

/// `n` locals `<prefix>_<i>`, all `None`, whose types are inferred from
/// the one assignment to each (in one statement when there are few).
pub(super) fn locals(prefix: &str, n: usize) -> TokenStream {
    let names: Vec<_> = (0..n)
        .map(|i| quote::format_ident!("{}_{}", prefix, i))
        .collect();
    if (2..=3).contains(&n) {
        let nones = names.iter().map(|_| quote!(__rt::None));
        quote!(let (#(mut #names),*) = (#(#nones),*);)
    } else {
        quote!(#(let mut #names = __rt::None;)*)
    }
}

/// The arm of [`read_struct`] that reads field `index` of struct `def` into
/// `local` (boxed where the field is).
fn read_arm(
    ctx: &Ctx<'_>,
    def: &Def,
    index: usize,
    f: &Field,
    local: &proc_macro2::Ident,
) -> TokenStream {
    let fid = Literal::i16_unsuffixed(f.id);
    let codec = ctx.field_codec(def.id, index, &f.ty, def.module);
    let fname = &f.name;
    quote!(#fid => field.read::<#codec>(input, &mut #local, #fname),)
}

/// A statement writing field `index` of struct `def`, `value` (an expression
/// of type `&T`, or `&Option<T>` when `optional`).
fn write_field(
    ctx: &Ctx<'_>,
    def: &Def,
    index: usize,
    f: &Field,
    value: TokenStream,
    optional: bool,
) -> TokenStream {
    let fid = Literal::i16_unsuffixed(f.id);
    let codec = ctx.field_codec(def.id, index, &f.ty, def.module);
    if optional {
        quote!(__rt::write_optional::<#codec>(output, #fid, #value)?;)
    } else {
        quote!(__rt::write_field::<#codec>(output, #fid, #value)?;)
    }
}

/// The Rust type of a struct field, with `Option` and `Box` as needed.
fn field_type(ctx: &Ctx<'_>, id: DefId, index: usize, f: &Field, module: FileId) -> TokenStream {
    let mut ty = ctx.rust_type(&f.ty, module);
    if ctx.boxed.contains(&(id, index)) {
        ty = quote!(::std::boxed::Box<#ty>);
    }
    if f.requiredness == Requiredness::Required {
        ty
    } else {
        quote!(::std::option::Option<#ty>)
    }
}

fn structure(ctx: &Ctx<'_>, def: &Def, s: &Struct) -> TokenStream {
    let rt = &ctx.rt;
    let id = def.id;
    let module = def.module;
    let name = naming::ident(&ctx.names[id.0 as usize]);
    let idl_name = &def.name;
    let names: Vec<_> = field_names(s).iter().map(|n| naming::ident(n)).collect();
    let doc = docs(&def.doc);

    // serde reads an absent optional field with an IDL default as that
    // default, from a function of the type's.
    let serde_default = |i: usize, f: &Field| {
        (f.requiredness != Requiredness::Required && f.default.is_some())
            .then(|| serde::default_fn(&names[i]))
    };
    let fields = s.fields.iter().enumerate().map(|(i, f)| {
        let ty = field_type(ctx, id, i, f, module);
        let fname = &names[i];
        let fdoc = docs(&f.doc);
        let attrs = field_attributes(ctx, def, &f.name);
        let default_of = serde_default(i, f).map(|function| format!("{name}::{function}"));
        let serde_attrs = serde::field(ctx, f, fname, default_of);
        quote! { #fdoc #serde_attrs #attrs pub #fname: #ty }
    });
    let keep = ctx.options.keep_unknown_fields;
    // `_unknown_fields`: no IDL field converts to a name with a leading `_`
    // followed by a letter.
    let skip = serde::skip(ctx);
    let unknown_decl = keep.then(|| {
        quote! {
            /// The fields this type does not know (sent by a newer peer), kept
            /// as they arrived and written back after the others.
            #skip
            pub _unknown_fields: #rt::protocol::UnknownFields
        }
    });
    let fields = fields.chain(unknown_decl);
    let type_attrs = type_attributes(ctx, def);

    // Reading: one local per field, filled as fields arrive in any order
    // (its type is inferred from the one assignment to it). IDL defaults
    // live in `Default`; an absent field reads as absent, so that decoding
    // what was encoded gives the same value back.
    let locals = locals("f", s.fields.len());
    let arms = s
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| read_arm(ctx, def, i, f, &quote::format_ident!("f_{}", i)))
        .collect();
    let build = s.fields.iter().enumerate().map(|(i, f)| {
        let local = quote::format_ident!("f_{}", i);
        let fname = &names[i];
        if f.requiredness == Requiredness::Required {
            let idl_field = &f.name;
            let fid = Literal::i16_unsuffixed(f.id);
            quote!(#fname: __rt::required(#local, #idl_name, #idl_field, #fid)?)
        } else {
            quote!(#fname: #local)
        }
    });
    let build = build.chain(keep.then(|| quote!(_unknown_fields: unknown_fields)));
    let (unknown_local, other) = if keep {
        (
            Some(quote!(let mut unknown_fields = #rt::protocol::UnknownFields::new();)),
            quote!(unknown_fields.read_field(input, field.id, field.ttype)),
        )
    } else {
        (None, quote!(field.skip(input)))
    };
    let write_unknown = keep.then(|| quote!(self._unknown_fields.write(output)?;));

    // Writing: required fields always, the others when set.
    let writes = s.fields.iter().enumerate().map(|(i, f)| {
        let fname = &names[i];
        let optional = f.requiredness != Requiredness::Required;
        write_field(ctx, def, i, f, quote!(&self.#fname), optional)
    });

    let derive_default =
        ctx.has_default[id.0 as usize] && s.fields.iter().all(|f| f.default.is_none());
    let derive = derives(ctx, id, derive_default);
    let serde_derive = serde::derive(ctx, def, &name);
    // The value of field `i` in `Default`.
    let default_value = |i: usize, f: &Field| match &f.default {
        Some(v) => {
            let v = ctx.boxed_value(id, i, ctx.value(v, &f.ty, module));
            if f.requiredness == Requiredness::Required {
                v
            } else {
                quote!(::std::option::Option::Some(#v))
            }
        }
        None if f.requiredness == Requiredness::Required => {
            quote!(::std::default::Default::default())
        }
        None => quote!(::std::option::Option::None),
    };
    let serde_defaults = serde::defaults(
        ctx,
        &name,
        s.fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let function = serde_default(i, f)?;
                Some((
                    function,
                    field_type(ctx, id, i, f, module),
                    default_value(i, f),
                ))
            })
            .collect(),
    );
    let default_impl = (ctx.has_default[id.0 as usize] && !derive_default).then(|| {
        let values = s.fields.iter().enumerate().map(|(i, f)| {
            let fname = &names[i];
            let value = default_value(i, f);
            quote!(#fname: #value)
        });
        let values =
            values.chain(keep.then(|| quote!(_unknown_fields: ::std::default::Default::default())));
        quote! {
            impl ::std::default::Default for #name {
                fn default() -> Self {
                    Self { #(#values,)* }
                }
            }
        }
    });

    let read_fields = read_struct(idl_name, arms, other);
    let display = format!("{idl_name}: {{:?}}");
    let error_impl = (s.kind == StructKind::Exception).then(|| {
        quote! {
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::write!(f, #display, self)
                }
            }
            impl ::std::error::Error for #name {}
        }
    });

    quote! {
        #doc
        #derive
        #serde_derive
        #type_attrs
        pub struct #name {
            #(#fields,)*
        }

        #default_impl
        #serde_defaults
        #error_impl

        impl #rt::Struct for #name {
            fn read<I: __rt::InputProtocol>(input: &mut I) -> __rt::CodecResult<Self> {
                #locals
                #unknown_local
                #read_fields
                __rt::Ok(Self { #(#build,)* })
            }

            fn write<O: __rt::OutputProtocol>(&self, output: &mut O) -> __rt::CodecResult<()> {
                output.write_struct_begin(#idl_name)?;
                #(#writes)*
                #write_unknown
                __rt::end_struct(output)
            }
        }
    }
}

/// The field's type without `Option` (but with `Box`).
fn field_type_inner(
    ctx: &Ctx<'_>,
    id: DefId,
    index: usize,
    f: &Field,
    module: FileId,
) -> TokenStream {
    let ty = ctx.rust_type(&f.ty, module);
    if ctx.boxed.contains(&(id, index)) {
        quote!(::std::boxed::Box<#ty>)
    } else {
        ty
    }
}

fn union(ctx: &Ctx<'_>, def: &Def, s: &Struct) -> TokenStream {
    let rt = &ctx.rt;
    let id = def.id;
    let module = def.module;
    let name = naming::ident(&ctx.names[id.0 as usize]);
    let idl_name = &def.name;
    // The IDL's variants keep their names; the unknown variant is `Unknown`,
    // or `Unknown0` when the IDL has a variant of that name.
    let mut variants: Vec<_> = naming::unique(
        s.fields
            .iter()
            .map(|f| (naming::upper_camel(&f.name), i64::from(f.id)))
            .chain(std::iter::once(("Unknown".to_string(), 0))),
    )
    .iter()
    .map(|v| naming::ident(v))
    .collect();
    let unknown = variants.pop().unwrap_or_else(|| naming::ident("Unknown"));
    let keep = ctx.options.keep_unknown_fields;
    let doc = docs(&def.doc);
    let derive = derives(ctx, id, false);
    let serde_derive = serde::derive(ctx, def, &name);
    let decl = s.fields.iter().enumerate().map(|(i, f)| {
        let v = &variants[i];
        let ty = field_type_inner(ctx, id, i, f, module);
        let fdoc = docs(&f.doc);
        let attrs = field_attributes(ctx, def, &f.name);
        let (serde_attrs, serde_value) = serde::variant(ctx, f, v);
        quote!(#fdoc #serde_attrs #attrs #v(#serde_value #ty))
    });
    // serde neither writes nor reads it: serializing it is an error.
    let skip = serde::skip(ctx);
    let unknown_decl = if keep {
        quote! {
            /// A field this side does not know (a newer peer's variant), kept
            /// as it arrived and written back as it was.
            #skip
            #unknown(#rt::protocol::UnknownField)
        }
    } else {
        quote! {
            /// A field this side does not know (a newer peer's variant): its
            /// id. Its value was skipped, so writing this is an error.
            #skip
            #unknown(i16)
        }
    };
    let type_attrs = type_attributes(ctx, def);
    let arms = s.fields.iter().enumerate().map(|(i, f)| {
        let v = &variants[i];
        let fid = Literal::i16_unsuffixed(f.id);
        let tt = ctx.ttype(&f.ty);
        let codec = ctx.field_codec(def.id, i, &f.ty, module);
        let fname = &f.name;
        quote! {
            (#fid, #tt) => {
                let value = field.value::<#codec>(input, #fname)?;
                __rt::set_variant(&mut found, Self::#v(value), #idl_name)
            }
        }
    });
    let other = if keep {
        quote! {{
            let value = #rt::protocol::UnknownField::read(input, field.id, field.ttype)?;
            __rt::set_variant(&mut found, Self::#unknown(value), #idl_name)
        }}
    } else {
        quote! {{
            field.skip(input)?;
            __rt::set_variant(&mut found, Self::#unknown(field.id), #idl_name)
        }}
    };
    let writes = s.fields.iter().enumerate().map(|(i, f)| {
        let v = &variants[i];
        let write = write_field(ctx, def, i, f, quote!(value), false);
        quote!(Self::#v(value) => { #write })
    });
    let write_body = if keep {
        quote! {
            output.write_struct_begin(#idl_name)?;
            match self {
                #(#writes)*
                Self::#unknown(field) => field.write(output)?,
            }
            __rt::end_struct(output)
        }
    } else if s.fields.is_empty() {
        // Only the unknown variant: nothing can be written.
        quote! {
            let _ = output;
            let Self::#unknown(id) = self;
            ::std::result::Result::Err(#rt::protocol::ProtocolError::unknown_variant(#idl_name, *id))
        }
    } else {
        quote! {
            output.write_struct_begin(#idl_name)?;
            match self {
                #(#writes)*
                Self::#unknown(id) => {
                    return ::std::result::Result::Err(
                        #rt::protocol::ProtocolError::unknown_variant(#idl_name, *id),
                    );
                }
            }
            __rt::end_struct(output)
        }
    };
    let body = if s.fields.is_empty() {
        other
    } else {
        quote! {
            match (field.id, field.ttype) {
                #(#arms)*
                _ => #other
            }
        }
    };
    let read_fields = quote! {
        let read = |input: &mut I, field: __rt::Field| #body;
        __rt::read_struct(input, #idl_name, read)?;
    };
    quote! {
        #doc
        #derive
        #serde_derive
        #type_attrs
        pub enum #name {
            #(#decl,)*
            #unknown_decl,
        }

        impl #rt::Struct for #name {
            fn read<I: __rt::InputProtocol>(input: &mut I) -> __rt::CodecResult<Self> {
                let mut found: __rt::Option<Self> = __rt::None;
                #read_fields
                found.ok_or_else(|| #rt::protocol::ProtocolError::invalid(
                    ::std::concat!("union `", #idl_name, "` has no field set"),
                ))
            }

            fn write<O: __rt::OutputProtocol>(&self, output: &mut O) -> __rt::CodecResult<()> {
                #write_body
            }
        }
    }
}

fn enumeration(ctx: &Ctx<'_>, def: &Def, e: &Enum) -> TokenStream {
    let name = naming::ident(&ctx.names[def.id.0 as usize]);
    let doc = docs(&def.doc);
    let consts: Vec<_> = naming::unique(
        e.values
            .iter()
            .enumerate()
            .map(|(i, v)| (naming::shouty(&v.name), i as i64)),
    )
    .iter()
    .map(|c| naming::ident(c))
    .collect();
    let decls = e.values.iter().enumerate().map(|(i, v)| {
        let c = &consts[i];
        let n = v.value;
        let vdoc = docs(&v.doc);
        quote!(#vdoc pub const #c: Self = Self(#n);)
    });
    // The first name of each number, for `name()` and `Debug`.
    let mut seen = std::collections::HashSet::new();
    let name_arms: Vec<_> = e
        .values
        .iter()
        .filter(|v| seen.insert(v.value))
        .map(|v| {
            let n = v.value;
            let idl = &v.name;
            quote!(#n => ::std::option::Option::Some(#idl),)
        })
        .collect();
    let all = consts.iter().map(|c| quote!(Self::#c));
    let name_body = if name_arms.is_empty() {
        quote!(::std::option::Option::None)
    } else {
        quote! {
            match self.0 {
                #(#name_arms)*
                _ => ::std::option::Option::None,
            }
        }
    };
    let type_attrs = type_attributes(ctx, def);
    let serde_impls = serde::enum_impls(ctx, def, e, &name);
    let named = format!("{}::{{}}", def.name);
    let numbered = format!("{}({{}})", def.name);
    quote! {
        #doc
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #type_attrs
        pub struct #name(pub i32);

        impl #name {
            #(#decls)*

            /// Every value the IDL names, in IDL order.
            pub const VALUES: &'static [Self] = &[#(#all),*];

            /// The IDL name of this value, or `None` for a number the IDL does
            /// not name (sent by a newer peer, say).
            pub fn name(self) -> ::std::option::Option<&'static str> {
                #name_body
            }
        }

        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    ::std::option::Option::Some(name) => ::std::write!(f, #named, name),
                    ::std::option::Option::None => ::std::write!(f, #numbered, self.0),
                }
            }
        }

        impl ::std::convert::From<i32> for #name {
            fn from(value: i32) -> Self {
                Self(value)
            }
        }

        impl ::std::convert::From<#name> for i32 {
            fn from(value: #name) -> i32 {
                value.0
            }
        }

        #serde_impls
    }
}

fn constant(ctx: &Ctx<'_>, def: &Def, c: &Const) -> TokenStream {
    let name = naming::ident(&ctx.names[def.id.0 as usize]);
    let doc = docs(&def.doc);
    let module = def.module;
    let resolved = ctx.ir.resolve(&c.ty).clone();
    let rt = &ctx.rt;
    match &resolved {
        Type::String => {
            let crate::ir::ConstValue::String(s) = &c.value else {
                return TokenStream::new();
            };
            quote!(#doc pub const #name: &str = #s;)
        }
        Type::Binary => {
            let crate::ir::ConstValue::String(s) = &c.value else {
                return TokenStream::new();
            };
            let bytes = Literal::byte_string(s.as_bytes());
            quote!(#doc pub const #name: &[u8] = #bytes;)
        }
        Type::Bool | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Double | Type::Uuid => {
            let ty = ctx.rust_type(&resolved, module);
            let value = ctx.value(&c.value, &c.ty, module);
            quote!(#doc pub const #name: #ty = #value;)
        }
        Type::Def(id) if matches!(ctx.ir.def(*id).kind, DefKind::Enum(_)) => {
            let ty = ctx.rust_type(&c.ty, module);
            let value = ctx.value(&c.value, &c.ty, module);
            quote!(#doc pub const #name: #ty = #value;)
        }
        _ => {
            let ty = ctx.rust_type(&c.ty, module);
            let value = ctx.value(&c.value, &c.ty, module);
            let _ = rt;
            quote! {
                #doc
                pub static #name: ::std::sync::LazyLock<#ty> = ::std::sync::LazyLock::new(|| #value);
            }
        }
    }
}
