//! Handler stubs for `thriftgen new`: for each service of the root files, one
//! `impl` per trait (the service's and each it extends) with a stub per
//! method that answers "not implemented" as an application error
//! (`ApplicationException::not_implemented`, from the runtime). With
//! [`Options::async_handlers`] the stubs are `async fn`s.
//!
//! Paths are absolute from a root the caller names (`crate::gen`), so the
//! stubs compile in any file of the user's crate.

use super::services::{
    client_methods, error_type, example_arg, method_names, names, param_type, return_type,
};
use super::types::Ctx;
use super::{module_paths, naming, Options};
use crate::diag::Diagnostic;
use crate::ir::{DefId, DefKind, Ir};
use crate::source::SourceMap;
use proc_macro2::TokenStream;
use quote::quote;

/// The scaffolding of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceScaffold {
    /// The service's name in the IDL.
    pub idl_name: String,
    /// Absolute path of its processor (`crate::gen::store::StoreProcessor`).
    pub processor_path: String,
    /// Absolute path of its client (`crate::gen::store::StoreClient`).
    pub client_path: String,
    /// Absolute path of its async client
    /// (`crate::gen::store::StoreAsyncClient`).
    pub async_client_path: String,
    /// One entry per trait to implement: the services it extends first, the
    /// service's own trait last.
    pub traits: Vec<TraitStubs>,
}

/// The stubs of one handler trait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraitStubs {
    /// The IDL name of the service the trait comes from.
    pub idl_name: String,
    /// Absolute path of the trait (`crate::gen::store::Store`).
    pub trait_path: String,
    /// The trait's last path segment (`Store`).
    pub trait_name: String,
    /// One stub per method.
    pub methods: Vec<MethodStub>,
}

/// One method stub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodStub {
    /// The Rust method name.
    pub name: String,
    /// The method's name in the service's client, as Rust source (`r#type`
    /// for a keyword): the same, but for a method named like one of the
    /// client's own, which gets a `_`.
    pub client_name: String,
    /// The method as formatted Rust source, indented for an `impl` block,
    /// ending with a newline (an `async fn` with `Options::async_handlers`).
    pub code: String,
    /// Whether every argument has a `Default` value (so an example can call
    /// it with `Default::default()`s), and how many arguments it takes.
    pub defaultable: bool,
    /// The number of arguments.
    pub arity: usize,
    /// Arguments for a call of the client's method built from `Default`s
    /// (`Default::default()`, `""`, `&[]`, `&Default::default()`, `None`),
    /// as Rust source joined by `, `; meaningful when `defaultable`.
    pub example_args: String,
}

/// Stubs for every service of the root files of `ir` (or those named in
/// `only`), with paths from `root` (for example `crate::gen`).
///
/// # Errors
///
/// When a service named in `only` does not exist, or `root` is not a path.
pub fn scaffold(
    ir: &Ir,
    sources: &SourceMap,
    options: &Options,
    root: &str,
    only: &[String],
) -> Result<Vec<ServiceScaffold>, Box<Diagnostic>> {
    let root_tokens: TokenStream = root
        .parse()
        .map_err(|_| Box::new(Diagnostic::error(format!("`{root}` is not a Rust path"))))?;
    let mut ctx = Ctx::new(ir, options, module_paths(ir, sources)?);
    ctx.abs_root = Some(root_tokens);
    let services: Vec<DefId> = ir
        .roots
        .iter()
        .flat_map(|&file| ir.modules[file.0 as usize].defs.iter().copied())
        .filter(|&id| matches!(ir.def(id).kind, DefKind::Service(_)))
        .collect();
    for name in only {
        if !services.iter().any(|&id| &ir.def(id).name == name) {
            let known: Vec<_> = services
                .iter()
                .map(|&id| ir.def(id).name.as_str())
                .collect();
            return Err(Box::new(
                Diagnostic::error(format!("there is no service `{name}`")).with_help(
                    if known.is_empty() {
                        "the IDL file defines no service".to_string()
                    } else {
                        format!("the IDL file defines: {}", known.join(", "))
                    },
                ),
            ));
        }
    }
    // By default, the services no other service of the file extends: a
    // base's methods are served through the services that extend it.
    let extended: Vec<DefId> = services
        .iter()
        .filter_map(|&id| match &ir.def(id).kind {
            DefKind::Service(s) => s.extends,
            _ => None,
        })
        .collect();
    Ok(services
        .into_iter()
        .filter(|&id| {
            if only.is_empty() {
                !extended.contains(&id)
            } else {
                only.contains(&ir.def(id).name)
            }
        })
        .map(|id| service(&ctx, id))
        .collect())
}

fn path_string(tokens: TokenStream) -> String {
    tokens.to_string().replace(' ', "")
}

fn service(ctx: &Ctx<'_>, id: DefId) -> ServiceScaffold {
    let def = ctx.ir.def(id);
    let name = &ctx.names[id.0 as usize];
    // The chain of services, base first.
    let mut chain = Vec::new();
    let mut next = Some(id);
    while let Some(sid) = next {
        if chain.contains(&sid) {
            break;
        }
        chain.push(sid);
        next = match &ctx.ir.def(sid).kind {
            DefKind::Service(s) => s.extends,
            _ => None,
        };
    }
    chain.reverse();
    let client = client_methods(ctx, id);
    ServiceScaffold {
        idl_name: def.name.clone(),
        processor_path: path_string(ctx.item_path(id, &format!("{name}Processor"), def.module)),
        client_path: path_string(ctx.item_path(id, &format!("{name}Client"), def.module)),
        async_client_path: path_string(ctx.item_path(
            id,
            &format!("{name}AsyncClient"),
            def.module,
        )),
        traits: chain
            .into_iter()
            .map(|sid| trait_stubs(ctx, sid, &client))
            .collect(),
    }
}

/// The stubs of service `id`'s trait; `client` names the client's methods.
fn trait_stubs(ctx: &Ctx<'_>, id: DefId, client: &[(DefId, usize, String)]) -> TraitStubs {
    let def = ctx.ir.def(id);
    let DefKind::Service(s) = &def.kind else {
        unreachable!("only services are scaffolded");
    };
    let rt = &ctx.rt;
    let methods = method_names(s);
    let stubs = s
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let n = names(ctx, id, &methods, i, f);
            let method = naming::ident(&n.method);
            let params = f.params.iter().zip(&n.params).map(|(p, pn)| {
                let pn = naming::ident(&format!("_{}", pn.trim_start_matches("r#")));
                let ty = param_type(ctx, p, def.module);
                quote!(#pn: #ty)
            });
            let ret = return_type(ctx, f, def.module);
            let err = error_type(ctx, id, f, &n, def.module);
            let what = format!("{}.{}", def.name, f.name);
            let value = quote!(#rt::protocol::ApplicationException::not_implemented(#what));
            let value = if f.throws.is_empty() {
                value
            } else {
                quote!(#value.into())
            };
            // With async handlers the trait's methods return `impl Future`,
            // which an `async fn` implements.
            let asyncness = ctx.options.async_handlers.then(|| quote!(async));
            let code = quote! {
                #asyncness fn #method(&self, _ctx: &#rt::service::CallContext, #(#params),*) -> ::std::result::Result<#ret, #err> {
                    ::std::result::Result::Err(#value)
                }
            };
            let client_name = client
                .iter()
                .find(|(sid, j, _)| *sid == id && *j == i)
                .map_or_else(|| n.method.clone(), |(_, _, name)| name.clone());
            let client_name = naming::ident(&client_name).to_string();
            MethodStub {
                name: n.method.clone(),
                client_name,
                code: format_method(code),
                defaultable: f.params.iter().all(|p| ctx.type_default(&p.ty)),
                arity: f.params.len(),
                example_args: f
                    .params
                    .iter()
                    .map(|p| example_arg(ctx, p))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    TraitStubs {
        idl_name: def.name.clone(),
        trait_path: path_string(ctx.def_path(id, def.module)),
        trait_name: ctx.names[id.0 as usize].clone(),
        methods: stubs,
    }
}

/// A method formatted as it sits in an `impl` block (indented by 4).
fn format_method(method: TokenStream) -> String {
    let wrapped = quote!(impl __Trait for __Handler { #method });
    let text = match syn::parse2::<syn::File>(wrapped) {
        Ok(file) => prettyplease::unparse(&file),
        // Generated tokens always parse; keep them as they are otherwise.
        Err(_) => return format!("    {method}\n"),
    };
    // Shorter paths for a file people read: the handler file imports
    // `CallContext` and `ApplicationException`, and the prelude has the rest.
    let text = text
        .replace("::std::result::Result::Err", "Err")
        .replace("::std::result::Result", "Result")
        .replace("::std::string::String", "String")
        .replace("::std::option::Option", "Option")
        .replace("::std::vec::Vec", "Vec")
        .replace("::std::collections::", "std::collections::")
        .replace("::thriftgen_runtime::service::CallContext", "CallContext")
        .replace(
            "::thriftgen_runtime::protocol::ApplicationException",
            "ApplicationException",
        )
        .replace("::thriftgen_runtime::", "thriftgen_runtime::");
    // Format again: the shorter paths fit on fewer lines.
    let text = syn::parse_file(&text)
        .map(|file| prettyplease::unparse(&file))
        .unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    // Drop `impl ... {` and the closing `}`.
    let body = lines.get(1..lines.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = body.join("\n");
    out.push('\n');
    out
}
