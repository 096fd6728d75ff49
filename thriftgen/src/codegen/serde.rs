//! serde on generated types (`Options::serde`): the derives and `#[serde]`
//! attributes of structs, exceptions and unions, and the `Serialize` and
//! `Deserialize` impls of open enums. With the option off, every function
//! here returns nothing, so the generated code is what it is without serde.
//!
//! The mapping: fields and variants keep their IDL names; an enum value is
//! its IDL name, or its number when the IDL does not name it; `binary` is
//! base64 and `uuid` its hyphenated text in human-readable formats; `None`
//! is left out, a missing optional field reads as its IDL default (or
//! `None`), a missing `required` one is an error; unknown fields are
//! skipped. serde itself is named `::serde` (the user's dependency), the
//! runtime's helpers `__rt::serde` (its `serde` feature).

use super::types::Ctx;
use crate::ir::{Def, DefKind, Enum, Field, Requiredness, Type};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// `#[derive(Serialize, Deserialize)]`, and the IDL name where the Rust
/// name differs, for the struct, exception or union `def`.
pub(super) fn derive(ctx: &Ctx<'_>, def: &Def, rust_name: &Ident) -> TokenStream {
    if !ctx.options.serde {
        return TokenStream::new();
    }
    let rename = rename(rust_name, &def.name);
    quote! {
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        #rename
    }
}

/// `#[serde(rename = "idl")]` when serde would spell `rust` otherwise.
fn rename(rust: &Ident, idl: &str) -> TokenStream {
    match rename_part(rust, idl) {
        Some(part) => quote!(#[serde(#part)]),
        None => TokenStream::new(),
    }
}

/// `rename = "idl"` when serde would spell `rust` otherwise.
fn rename_part(rust: &Ident, idl: &str) -> Option<TokenStream> {
    // serde names a raw identifier without its `r#`.
    let rust = rust.to_string();
    (rust.strip_prefix("r#").unwrap_or(&rust) != idl).then(|| quote!(rename = #idl))
}

/// The name of the function that gives the IDL default of the struct field
/// `rust_name`, for `#[serde(default = "..")]`.
pub(super) fn default_fn(rust_name: &Ident) -> Ident {
    let name = rust_name.to_string();
    quote::format_ident!(
        "__serde_default_{}",
        name.strip_prefix("r#").unwrap_or(&name)
    )
}

/// The attributes of struct field `f` (Rust name `rust_name`, of type `ty`
/// without `Option`): its IDL name, its adapter when it holds `binary` or
/// `uuid`, and what absence means. `default_of` names the function giving
/// its IDL default (see [`defaults`]), as `Type::function`.
pub(super) fn field(
    ctx: &Ctx<'_>,
    f: &Field,
    rust_name: &Ident,
    default_of: Option<String>,
) -> TokenStream {
    if !ctx.options.serde {
        return TokenStream::new();
    }
    let required = f.requiredness == Requiredness::Required;
    let mut parts: Vec<_> = rename_part(rust_name, &f.name).into_iter().collect();
    if let Some(marker) = marker(ctx, &f.ty) {
        let marker = if required {
            marker
        } else {
            format!("__rt::serde::Opt<{marker}>")
        };
        let with = format!("__rt::serde::As::<{marker}>");
        parts.push(quote!(with = #with));
    }
    if !required {
        match default_of {
            // `None` is written as `null` here: left out, the field would
            // read back as its default.
            Some(path) => parts.push(quote!(default = #path)),
            None => {
                parts.push(quote!(default));
                parts.push(quote!(
                    skip_serializing_if = "::std::option::Option::is_none"
                ));
            }
        }
    }
    if parts.is_empty() {
        return TokenStream::new();
    }
    quote!(#[serde(#(#parts),*)])
}

/// `#[serde(skip)]`, for `_unknown_fields` and a union's unknown variant.
pub(super) fn skip(ctx: &Ctx<'_>) -> TokenStream {
    if ctx.options.serde {
        quote!(#[serde(skip)])
    } else {
        TokenStream::new()
    }
}

/// The attributes of union variant `v` for field `f`, and those of the
/// variant's value.
pub(super) fn variant(ctx: &Ctx<'_>, f: &Field, v: &Ident) -> (TokenStream, TokenStream) {
    if !ctx.options.serde {
        return (TokenStream::new(), TokenStream::new());
    }
    let value = match marker(ctx, &f.ty) {
        Some(marker) => {
            let with = format!("__rt::serde::As::<{marker}>");
            quote!(#[serde(with = #with)])
        }
        None => TokenStream::new(),
    };
    (rename(v, &f.name), value)
}

/// The functions giving the IDL defaults of the optional fields that have
/// one, for `#[serde(default = "..")]`: each `(name, type, value)`, the
/// value as the generated `Default` builds it.
pub(super) fn defaults(
    ctx: &Ctx<'_>,
    name: &Ident,
    functions: Vec<(Ident, TokenStream, TokenStream)>,
) -> TokenStream {
    if !ctx.options.serde || functions.is_empty() {
        return TokenStream::new();
    }
    let functions = functions.iter().map(|(function, ty, value)| {
        quote! {
            fn #function() -> #ty {
                #value
            }
        }
    });
    quote! {
        /// The IDL defaults of fields serde reads as absent.
        impl #name {
            #(#functions)*
        }
    }
}

/// `Serialize` and `Deserialize` for the open enum `def`: a value is its
/// IDL name, or its number when the IDL does not name it.
pub(super) fn enum_impls(ctx: &Ctx<'_>, def: &Def, e: &Enum, name: &Ident) -> TokenStream {
    if !ctx.options.serde {
        return TokenStream::new();
    }
    let idl_name = &def.name;
    let values = e.values.iter().map(|v| {
        let (n, value) = (&v.name, v.value);
        quote!((#n, #value))
    });
    quote! {
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                __rt::serde::serialize_enum(self.0, self.name(), serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                const VALUES: &[(&str, i32)] = &[#(#values),*];
                __rt::serde::deserialize_enum(deserializer, #idl_name, VALUES).map(Self)
            }
        }
    }
}

/// The `__rt::serde` marker of a value of type `ty` (as its Rust type is
/// built by `Ctx::rust_type`), or `None` when serde's own impls do: only
/// `binary` and `uuid` need one, and the containers that hold them.
fn marker(ctx: &Ctx<'_>, ty: &Type) -> Option<String> {
    let same = || "__rt::serde::Same".to_string();
    match ty {
        Type::Binary => Some("__rt::serde::Base64".to_string()),
        Type::Uuid => Some("__rt::serde::Uuid".to_string()),
        Type::List(t) | Type::Set(t) => marker(ctx, t).map(|m| format!("__rt::serde::Seq<{m}>")),
        Type::Map(k, v) => {
            let (key, value) = (marker(ctx, k), marker(ctx, v));
            if key.is_none() && value.is_none() {
                return None;
            }
            let (key, value) = (key.unwrap_or_else(same), value.unwrap_or_else(same));
            Some(if ctx.type_hashable(k) {
                format!("__rt::serde::Map<{key}, {value}>")
            } else {
                format!("__rt::serde::Seq<__rt::serde::Pair<{key}, {value}>>")
            })
        }
        Type::Def(id) => match &ctx.ir.def(*id).kind {
            DefKind::Typedef(t) => marker(ctx, &t.target),
            _ => None,
        },
        _ => None,
    }
}
