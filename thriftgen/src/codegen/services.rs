//! Services to Rust: per service a handler trait, the typed error of each
//! method that declares exceptions, a dispatch function and a processor for
//! servers, the wire shapes of each method, and typed clients for callers.
//!
//! For `service Calculator extends Shared` with `i32 add(1: i32 a, 2: i32 b)`:
//!
//! - `trait Calculator: Shared` with `fn add(&self, ctx, a, b) -> Result<i32, E>`
//!   (with `async_handlers`, `-> impl Future<Output = Result<i32, E>> + Send`);
//! - `CalculatorProcessor<H>`, a `Processor` (an `AsyncProcessor` with async
//!   handlers) serving any `H: Calculator`, whose dispatch falls back to
//!   `Shared`'s for inherited methods;
//! - `CalculatorAddMethod`, which reads and writes `add`'s arguments and
//!   result, and `CalculatorAddArgs`, the arguments a client writes;
//! - `CalculatorClient` with `fn add(&mut self, a, b)` and
//!   `CalculatorAsyncClient` with `fn add(&self, a, b) -> impl Future`,
//!   inherited methods included.
//!
//! Generated modules import the runtime's `__private` module as `__rt`; what
//! every method shares (reading the arguments, calling the handler, writing
//! the reply) lives there, so each dispatch arm and client method is a line.

use super::naming;
use super::types::Ctx;
use crate::ir::{Def, DefId, DefKind, Field, Function, Requiredness, Service, Type};
use crate::source::FileId;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// Names derived for one function of a service.
pub(super) struct Names {
    /// The Rust method name.
    pub method: String,
    /// `<Service><Method>`, the stem of the per-method types.
    pub stem: String,
    /// The Rust names of the parameters.
    pub params: Vec<String>,
    /// The variants of the error enum, one per declared exception.
    pub variants: Vec<String>,
}

pub(super) fn names(
    ctx: &Ctx<'_>,
    service: DefId,
    methods: &[String],
    index: usize,
    f: &Function,
) -> Names {
    // The context parameter is `ctx`, and dispatch code calls `handler`: a
    // parameter of either name moves aside. A name taken twice gets the
    // field id (`ctx_7`, not `ctx__7`).
    let mut taken = std::collections::HashSet::new();
    let params = f
        .params
        .iter()
        .map(|p| {
            let name = naming::snake(&p.name);
            let name = if name == "ctx" || name == "handler" {
                format!("{name}_")
            } else {
                name
            };
            let mut candidate = name.clone();
            let mut n = p.id.unsigned_abs();
            while !taken.insert(candidate.clone()) {
                candidate = format!("{}_{n}", name.trim_end_matches('_'));
                n += 1;
            }
            candidate
        })
        .collect();
    Names {
        method: methods[index].clone(),
        // From the unique method name, so two functions whose names differ
        // only in case (`getItem`, `get_item`) get distinct types.
        stem: format!(
            "{}{}",
            ctx.names[service.0 as usize],
            naming::upper_camel(&methods[index])
        ),
        params,
        variants: variants(ctx, f),
    }
}

/// The variants of a method's error enum: each named after the exception's
/// type (`NotFound(NotFound)`), unless another `throws` of the method has
/// the same type or the same name, or the name is `Application`; those are
/// named after their field (`throws (1: NotFound primary)` gives
/// `Primary(NotFound)`).
fn variants(ctx: &Ctx<'_>, f: &Function) -> Vec<String> {
    let type_names: Vec<Option<&str>> = f
        .throws
        .iter()
        .map(|t| match &t.ty {
            Type::Def(id) => Some(ctx.names[id.0 as usize].as_str()),
            _ => None,
        })
        .collect();
    let chosen = f.throws.iter().enumerate().map(|(i, t)| {
        let resolved = ctx.ir.resolve(&t.ty);
        let shared = f
            .throws
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && ctx.ir.resolve(&o.ty) == resolved);
        let name = match type_names[i] {
            Some(name)
                if !shared
                    && name != "Application"
                    && type_names.iter().filter(|&&n| n == Some(name)).count() == 1 =>
            {
                name.to_string()
            }
            _ => naming::upper_camel(&t.name),
        };
        (name, t.id.unsigned_abs())
    });
    // `Application` is taken: the enum always has that variant. A name taken
    // twice gets a number (the field id), without `_`, to stay camel case.
    let mut taken = std::collections::HashSet::from(["Application".to_string()]);
    chosen
        .map(|(name, mut n)| {
            let mut candidate = name.clone();
            while !taken.insert(candidate.clone()) {
                candidate = format!("{name}{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// The narrow `#[allow]` a method named after an IDL function needs:
/// clippy expects `new`, `into_*`, `from_*`, `to_*` and `*_mut` to take
/// `self` in a certain way, and `next`, `add`, ... to implement a trait.
pub(super) fn lint_allows(name: &str) -> TokenStream {
    const TRAIT_METHODS: &[&str] = &[
        "add",
        "as_mut",
        "as_ref",
        "bitand",
        "bitor",
        "bitxor",
        "borrow",
        "borrow_mut",
        "clone",
        "cmp",
        "default",
        "deref",
        "deref_mut",
        "div",
        "drop",
        "eq",
        "from_iter",
        "from_str",
        "hash",
        "index",
        "index_mut",
        "into_iter",
        "mul",
        "neg",
        "next",
        "not",
        "rem",
        "shl",
        "shr",
        "sub",
    ];
    let mut lints = Vec::new();
    if name == "new"
        || ["as_", "from_", "into_", "is_", "to_"]
            .iter()
            .any(|p| name.starts_with(p))
        || name.ends_with("_mut")
    {
        lints.push(quote!(clippy::wrong_self_convention));
    }
    if name == "new" {
        lints.push(quote!(clippy::new_ret_no_self));
    }
    if TRAIT_METHODS.contains(&name) {
        lints.push(quote!(clippy::should_implement_trait));
    }
    if lints.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[allow(#(#lints),*)])
    }
}

/// The Rust method names of a service's own functions.
pub(super) fn method_names(s: &Service) -> Vec<String> {
    naming::unique(
        s.functions
            .iter()
            .enumerate()
            .map(|(i, f)| (naming::snake(&f.name), i as i64)),
    )
}

/// Whether a caller may leave argument `p` out: it is `optional` or has an
/// IDL default. Such an argument is an `Option` in the handler and in the
/// client; `None` is not sent, and the handler sees `None` when it was not.
pub(super) fn omittable(p: &Field) -> bool {
    match p.requiredness {
        Requiredness::Optional => true,
        Requiredness::Default => p.default.is_some(),
        Requiredness::Required => false,
    }
}

/// The items for `service`.
pub(super) fn service(ctx: &Ctx<'_>, def: &Def, s: &Service) -> TokenStream {
    let methods = method_names(s);
    let all: Vec<Names> = s
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| names(ctx, def.id, &methods, i, f))
        .collect();
    let errors = s
        .functions
        .iter()
        .zip(&all)
        .map(|(f, n)| error_enum(ctx, def, f, n));
    let server = ctx.options.server.then(|| {
        let handler = handler_trait(ctx, def, s, &all);
        let dispatch = if ctx.options.async_handlers {
            dispatch_async(ctx, def, s, &all)
        } else {
            dispatch(ctx, def, s, &all)
        };
        quote!(#handler #dispatch)
    });
    let codecs = s
        .functions
        .iter()
        .zip(&all)
        .map(|(f, n)| method_codecs(ctx, def, f, n));
    let client = ctx.options.client.then(|| {
        let blocking = client(ctx, def);
        let shared = async_client(ctx, def);
        quote!(#blocking #shared)
    });
    quote! {
        #(#errors)*
        #server
        #(#codecs)*
        #client
    }
}

/// `Option<T>` in generated modules (through `__rt`, since an IDL may define
/// `Option`), the standard path in code outside them (the scaffold).
fn option(ctx: &Ctx<'_>, ty: TokenStream) -> TokenStream {
    if ctx.abs_root.is_some() {
        quote!(::std::option::Option<#ty>)
    } else {
        quote!(__rt::Option<#ty>)
    }
}

/// The type of a parameter as the handler takes it: `Option` when the caller
/// may leave it out.
pub(super) fn param_type(ctx: &Ctx<'_>, p: &Field, from: FileId) -> TokenStream {
    let ty = ctx.rust_type(&p.ty, from);
    if omittable(p) {
        option(ctx, ty)
    } else {
        ty
    }
}

/// Whether a client passes a value of `ty` by value: numbers, `bool`,
/// `uuid` and enums (all `Copy`). Everything else is borrowed.
fn passed_by_value(ctx: &Ctx<'_>, ty: &Type) -> bool {
    match ctx.ir.resolve(ty) {
        Type::Bool | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Double | Type::Uuid => {
            true
        }
        Type::Def(id) => matches!(ctx.ir.def(*id).kind, DefKind::Enum(_)),
        _ => false,
    }
}

/// Whether the client's arguments of `f` borrow anything (their struct then
/// has a lifetime).
fn borrows(ctx: &Ctx<'_>, f: &Function) -> bool {
    f.params.iter().any(|p| !passed_by_value(ctx, &p.ty))
}

/// The type of a parameter as a client takes it: by value for numbers and
/// enums, `&str` for strings, `&[u8]` for binary, `&[T]` for lists (and the
/// sets and maps that are `Vec`s), `&T` for the rest; `Option` of that when
/// the caller may leave it out. `lifetime` is the references' lifetime
/// (empty: elided).
pub(super) fn client_param_type(
    ctx: &Ctx<'_>,
    p: &Field,
    from: FileId,
    lifetime: &TokenStream,
) -> TokenStream {
    let ty = if passed_by_value(ctx, &p.ty) {
        ctx.rust_type(&p.ty, from)
    } else {
        match ctx.ir.resolve(&p.ty) {
            Type::String => quote!(&#lifetime str),
            Type::Binary => quote!(&#lifetime [u8]),
            Type::List(t) => {
                let t = ctx.rust_type(t, from);
                quote!(&#lifetime [#t])
            }
            Type::Set(t) if !ctx.type_hashable(t) => {
                let t = ctx.rust_type(t, from);
                quote!(&#lifetime [#t])
            }
            Type::Map(k, v) if !ctx.type_hashable(k) => {
                let (k, v) = (ctx.rust_type(k, from), ctx.rust_type(v, from));
                quote!(&#lifetime [(#k, #v)])
            }
            _ => {
                let ty = ctx.rust_type(&p.ty, from);
                quote!(&#lifetime #ty)
            }
        }
    };
    if omittable(p) {
        option(ctx, ty)
    } else {
        ty
    }
}

/// A value of the client's type for parameter `p` built from `Default`s,
/// as Rust source, for examples (`Default::default()`, `""`, `&[]`,
/// `&Default::default()`, `None`).
pub(super) fn example_arg(ctx: &Ctx<'_>, p: &Field) -> &'static str {
    if omittable(p) {
        return "None";
    }
    if passed_by_value(ctx, &p.ty) {
        return "Default::default()";
    }
    match ctx.ir.resolve(&p.ty) {
        Type::String => "\"\"",
        Type::Binary | Type::List(_) => "&[]",
        Type::Set(t) if !ctx.type_hashable(t) => "&[]",
        Type::Map(k, _) if !ctx.type_hashable(k) => "&[]",
        _ => "&Default::default()",
    }
}

/// The error type of a method, as a path from module `from`: the generated
/// enum when the method declares exceptions, else `ApplicationException`.
pub(super) fn error_type(
    ctx: &Ctx<'_>,
    service: DefId,
    f: &Function,
    n: &Names,
    from: FileId,
) -> TokenStream {
    if !f.throws.is_empty() {
        ctx.item_path(service, &format!("{}Error", n.stem), from)
    } else if ctx.abs_root.is_some() {
        let rt = &ctx.rt;
        quote!(#rt::protocol::ApplicationException)
    } else {
        quote!(__rt::ApplicationException)
    }
}

pub(super) fn return_type(ctx: &Ctx<'_>, f: &Function, from: FileId) -> TokenStream {
    match &f.returns {
        Some(t) => ctx.rust_type(t, from),
        None => quote!(()),
    }
}

/// The unit struct that describes method `n` on the wire (`<Stem>Method`),
/// as a path from module `from`.
fn method_type(ctx: &Ctx<'_>, service: DefId, n: &Names, from: FileId) -> TokenStream {
    ctx.item_path(service, &format!("{}Method", n.stem), from)
}

fn error_enum(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> Option<TokenStream> {
    if f.throws.is_empty() {
        return None;
    }
    let name = naming::ident(&format!("{}Error", n.stem));
    let variants: Vec<_> = n.variants.iter().map(|v| naming::ident(v)).collect();
    let types: Vec<_> = f
        .throws
        .iter()
        .map(|t| ctx.rust_type(&t.ty, def.module))
        .collect();
    let doc = format!(
        " The error of `{}.{}`: one of its declared exceptions, or an application error.",
        def.name, f.name
    );
    let variant_docs = f.throws.iter().map(|t| {
        format!(
            " `{}` ({}: {})",
            t.name,
            t.id,
            ctx.ir.type_name(&t.ty, def.module)
        )
    });
    // `From` for each exception type that only one variant holds.
    let froms = f
        .throws
        .iter()
        .zip(&variants)
        .zip(&types)
        .filter_map(|((t, v), ty)| {
            // A typedef of an exception is the exception's type.
            let resolved = ctx.ir.resolve(&t.ty);
            let once = f
                .throws
                .iter()
                .filter(|o| ctx.ir.resolve(&o.ty) == resolved)
                .count()
                == 1;
            once.then(|| {
                quote! {
                    impl ::std::convert::From<#ty> for #name {
                        fn from(e: #ty) -> Self {
                            Self::#v(e)
                        }
                    }
                }
            })
        });
    let method_error = ctx.options.server.then(|| {
        quote! {
            impl __rt::MethodError for #name {
                fn application(&self) -> __rt::Option<&__rt::ApplicationException> {
                    match self {
                        Self::Application(e) => __rt::Some(e),
                        _ => __rt::None,
                    }
                }
            }
        }
    });
    Some(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        pub enum #name {
            #( #[doc = #variant_docs] #variants(#types), )*
            /// An application error (`TApplicationException`).
            Application(__rt::ApplicationException),
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    #( Self::#variants(e) => ::std::fmt::Display::fmt(e, f), )*
                    Self::Application(e) => ::std::fmt::Display::fmt(e, f),
                }
            }
        }

        impl ::std::error::Error for #name {
            fn source(&self) -> __rt::Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    #( Self::#variants(e) => __rt::Some(e), )*
                    Self::Application(e) => __rt::Some(e),
                }
            }
        }

        #(#froms)*

        impl ::std::convert::From<__rt::ApplicationException> for #name {
            fn from(e: __rt::ApplicationException) -> Self {
                Self::Application(e)
            }
        }

        #method_error
    })
}

fn docs(doc: &Option<String>) -> TokenStream {
    let lines = doc.iter().flat_map(|d| d.lines()).map(|line| {
        let line = format!(" {line}");
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// One doc line per argument a caller may leave out, `describe`d from its
/// IDL default (if any), after its name.
fn omitted_lines(
    ctx: &Ctx<'_>,
    f: &Function,
    n: &Names,
    describe: impl Fn(Option<String>) -> String,
) -> Vec<String> {
    f.params
        .iter()
        .zip(&n.params)
        .filter(|(p, _)| omittable(p))
        .map(|(p, pn)| {
            let default = p.default.as_ref().map(|v| ctx.ir.value_text(v));
            format!(" - `{pn}`: {}", describe(default))
        })
        .collect()
}

/// Doc lines for the arguments a caller may leave out, which the handler
/// sees as `None`.
fn omitted_docs(ctx: &Ctx<'_>, f: &Function, n: &Names) -> TokenStream {
    let lines = omitted_lines(ctx, f, n, |default| match default {
        Some(v) => format!("`None` when the caller left it out; the IDL default is `{v}`."),
        None => "`None` when the caller left it out.".to_string(),
    });
    if lines.is_empty() {
        return TokenStream::new();
    }
    let head = (f.doc.is_some()).then(|| quote!(#[doc = ""]));
    quote! {
        #head
        #[doc = " Arguments the caller may leave out:"]
        #[doc = ""]
        #( #[doc = #lines] )*
    }
}

fn handler_trait(ctx: &Ctx<'_>, def: &Def, s: &Service, all: &[Names]) -> TokenStream {
    let name = naming::ident(&ctx.names[def.id.0 as usize]);
    let asynchronous = ctx.options.async_handlers;
    let supertrait = match s.extends {
        Some(base) => ctx.def_path(base, def.module),
        None => quote!(__rt::Send + __rt::Sync + 'static),
    };
    let doc = match &def.doc {
        Some(_) => docs(&def.doc),
        None => {
            let line = format!(" The handler of service `{}`.", def.name);
            quote!(#[doc = #line])
        }
    };
    let async_doc = asynchronous.then(|| {
        let processor = format!("{}Processor", ctx.names[def.id.0 as usize]);
        let line =
            format!(" served by `{processor}`, an `AsyncProcessor`, with the server's async mode.");
        quote! {
            #[doc = ""]
            #[doc = " Async: each method returns a `Send` future; implement it with"]
            #[doc = " `async fn` (the future may borrow `self` and `ctx`). It is"]
            #[doc = #line]
        }
    });
    // What a method returns: the result, or a future of it.
    let output = |ret: &TokenStream, err: &TokenStream| {
        if asynchronous {
            quote!(impl __rt::Future<Output = __rt::Result<#ret, #err>> + __rt::Send)
        } else {
            quote!(__rt::Result<#ret, #err>)
        }
    };
    let methods = s.functions.iter().zip(all).map(|(f, n)| {
        let method = naming::ident(&n.method);
        let params = f.params.iter().zip(&n.params).map(|(p, pn)| {
            let pn = naming::ident(pn);
            let ty = param_type(ctx, p, def.module);
            quote!(#pn: #ty)
        });
        let out = output(
            &return_type(ctx, f, def.module),
            &error_type(ctx, def.id, f, n, def.module),
        );
        let doc = docs(&f.doc);
        let allow = lint_allows(&n.method);
        let omitted = omitted_docs(ctx, f, n);
        let oneway = f.oneway.then(|| {
            let blank = (f.doc.is_some() || !omitted.is_empty()).then(|| quote!(#[doc = ""]));
            quote! {
                #blank
                #[doc = " `oneway`: the caller gets no reply; an error is logged (a `tracing`"]
                #[doc = " warning naming the method), then dropped."]
            }
        });
        quote! {
            #doc
            #omitted
            #oneway
            #allow
            fn #method(&self, ctx: &__rt::CallContext, #(#params),*) -> #out;
        }
    });
    let delegates = s.functions.iter().zip(all).map(|(f, n)| {
        let method = naming::ident(&n.method);
        let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
        let types = f.params.iter().map(|p| param_type(ctx, p, def.module));
        let out = output(
            &return_type(ctx, f, def.module),
            &error_type(ctx, def.id, f, n, def.module),
        );
        let allow = lint_allows(&n.method);
        quote! {
            #allow
            fn #method(&self, ctx: &__rt::CallContext, #(#params: #types),*) -> #out {
                <H as #name>::#method(self, ctx, #(#params),*)
            }
        }
    });
    quote! {
        #doc
        #async_doc
        pub trait #name: #supertrait {
            #(#methods)*
        }

        /// A shared handler serves as well.
        impl<H: #name + ?__rt::Sized> #name for __rt::Arc<H> {
            #(#delegates)*
        }
    }
}

/// The name of the dispatch function of service `id`.
fn dispatch_name(ctx: &Ctx<'_>, id: DefId) -> String {
    format!("{}_dispatch", naming::snake(&ctx.names[id.0 as usize]))
}

/// The patterns that bind a method's arguments, and the same names as
/// arguments of the handler call. IDL names cannot shadow `handler` or
/// `ctx` (see [`names`]).
fn bindings(n: &Names) -> (TokenStream, Vec<proc_macro2::Ident>) {
    let names: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
    (quote!((#(#names,)*)), names)
}

/// The body of a dispatch function: a `match` on the method name with
/// `arms`, falling back to the dispatch of the service `s` extends.
fn dispatch_body(ctx: &Ctx<'_>, def: &Def, s: &Service, arms: Vec<TokenStream>) -> TokenStream {
    let fallback = match s.extends {
        Some(base) => {
            let base_fn = ctx.item_path(base, &dispatch_name(ctx, base), def.module);
            quote!(#base_fn(handler, ctx, call))
        }
        None => quote!(call.unknown()),
    };
    if arms.is_empty() {
        let unused = s.extends.is_none().then(|| quote!(let _ = (handler, ctx);));
        return quote!(#unused #fallback);
    }
    quote! {
        match call.method() {
            #(#arms)*
            _ => #fallback,
        }
    }
}

/// The dispatch function of a service with blocking handlers (shared with
/// services that extend it) and its `Processor`.
fn dispatch(ctx: &Ctx<'_>, def: &Def, s: &Service, all: &[Names]) -> TokenStream {
    let service = &ctx.names[def.id.0 as usize];
    let trait_name = naming::ident(service);
    let fn_name = naming::ident(&dispatch_name(ctx, def.id));
    let processor = naming::ident(&format!("{service}Processor"));
    let arms = s.functions.iter().zip(all).map(|(f, n)| {
        let wire_name = &f.name;
        let method = naming::ident(&n.method);
        let marker = method_type(ctx, def.id, n, def.module);
        let (pattern, args) = bindings(n);
        // Called through the trait: a base service may have a method of the
        // same Rust name.
        let call = quote!(#trait_name::#method(handler, ctx, #(#args),*));
        let serve = if f.oneway {
            quote!(oneway)
        } else {
            quote!(reply)
        };
        quote!(#wire_name => call.#serve(#marker, |#pattern| #call),)
    });
    let body = dispatch_body(ctx, def, s, arms.collect());
    let dispatch_doc = format!(
        " Serves one call of `{}` (or of a service it extends) with `handler`.",
        def.name
    );
    let processor_doc = format!(
        " Serves service `{}` with a handler: give it to the server.",
        def.name
    );
    quote! {
        #[doc = #dispatch_doc]
        #[doc(hidden)]
        pub fn #fn_name<H: #trait_name + ?__rt::Sized>(
            handler: &H,
            ctx: &__rt::CallContext,
            call: __rt::Call<'_, impl __rt::InputProtocol, impl __rt::OutputProtocol>,
        ) -> __rt::Result<__rt::Processed, __rt::ProcessError> {
            #body
        }

        #[doc = #processor_doc]
        #[derive(Clone, Debug, Default)]
        pub struct #processor<H> {
            handler: H,
        }

        impl<H: #trait_name> #processor<H> {
            /// A processor calling `handler`.
            pub fn new(handler: H) -> Self {
                Self { handler }
            }

            /// The handler.
            pub fn handler(&self) -> &H {
                &self.handler
            }
        }

        impl<H: #trait_name> __rt::Processor for #processor<H> {
            fn process<I: __rt::InputProtocol, O: __rt::OutputProtocol>(
                &self,
                ctx: &__rt::CallContext,
                header: &__rt::MessageHeader,
                input: &mut I,
                output: &mut O,
            ) -> __rt::Result<__rt::Processed, __rt::ProcessError> {
                #fn_name(&self.handler, ctx, __rt::Call::new(header, input, output))
            }
        }
    }
}

/// The dispatch function of a service with async handlers (shared with
/// services that extend it) and its `AsyncProcessor`: arguments are decoded
/// at once, and the future owns the handler (an `Arc`) and the context.
fn dispatch_async(ctx: &Ctx<'_>, def: &Def, s: &Service, all: &[Names]) -> TokenStream {
    let service = &ctx.names[def.id.0 as usize];
    let trait_name = naming::ident(service);
    let fn_name = naming::ident(&dispatch_name(ctx, def.id));
    let processor = naming::ident(&format!("{service}Processor"));
    let arms = s.functions.iter().zip(all).map(|(f, n)| {
        let wire_name = &f.name;
        let method = naming::ident(&n.method);
        let marker = method_type(ctx, def.id, n, def.module);
        let (pattern, args) = bindings(n);
        let call = quote! {
            move |#pattern| async move { #trait_name::#method(&*handler, &ctx, #(#args),*).await }
        };
        let serve = if f.oneway {
            quote!(oneway)
        } else {
            quote!(reply)
        };
        quote!(#wire_name => call.#serve(#marker, #call),)
    });
    let body = dispatch_body(ctx, def, s, arms.collect());
    let dispatch_doc = format!(
        " Starts one call of `{}` (or of a service it extends) with `handler`.",
        def.name
    );
    let processor_doc = format!(
        " Serves service `{}` with an async handler: give it to the server's async mode.",
        def.name
    );
    quote! {
        #[doc = #dispatch_doc]
        #[doc(hidden)]
        pub fn #fn_name<H: #trait_name, R: __rt::Protocol>(
            handler: __rt::Arc<H>,
            ctx: __rt::Arc<__rt::CallContext>,
            call: __rt::AsyncCall<'_, R>,
        ) -> __rt::Result<__rt::Dispatch, __rt::ProcessError> {
            #body
        }

        #[doc = #processor_doc]
        #[derive(Debug, Default)]
        pub struct #processor<H> {
            handler: __rt::Arc<H>,
        }

        impl<H> ::std::clone::Clone for #processor<H> {
            fn clone(&self) -> Self {
                Self { handler: __rt::Arc::clone(&self.handler) }
            }
        }

        impl<H: #trait_name> #processor<H> {
            /// A processor calling `handler`.
            pub fn new(handler: H) -> Self {
                Self { handler: __rt::Arc::new(handler) }
            }

            /// A processor calling a shared handler.
            pub fn from_arc(handler: __rt::Arc<H>) -> Self {
                Self { handler }
            }

            /// The handler.
            pub fn handler(&self) -> &__rt::Arc<H> {
                &self.handler
            }
        }

        impl<H: #trait_name> __rt::AsyncProcessor for #processor<H> {
            fn dispatch<R: __rt::Protocol>(
                &self,
                ctx: __rt::Arc<__rt::CallContext>,
                header: &__rt::MessageHeader,
                input: &mut R::Reader,
                limits: __rt::Limits,
            ) -> __rt::Result<__rt::Dispatch, __rt::ProcessError> {
                let call = __rt::AsyncCall::<R>::new(header, input, limits);
                #fn_name(__rt::Arc::clone(&self.handler), ctx, call)
            }
        }
    }
}

fn read_fields(ctx: &Ctx<'_>, struct_name: &str, fields: &[Field], from: FileId) -> TokenStream {
    // Each local's type is inferred from the one assignment to it.
    let locals = super::items::locals("a", fields.len());
    let arms = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let local = format_ident!("a_{}", i);
            let fid = Literal::i16_unsuffixed(f.id);
            let codec = ctx.codec(&f.ty, from);
            let fname = &f.name;
            quote!(#fid => field.read::<#codec>(input, &mut #local, #fname),)
        })
        .collect();
    let read = super::items::read_struct(struct_name, arms, quote!(field.skip(input)));
    quote! {
        #locals
        #read
    }
}

/// Field 0 of a result struct: the return value.
fn success_field(ty: &Type, f: &Function) -> Field {
    Field {
        id: 0,
        id_assigned: false,
        name: "success".to_string(),
        ty: ty.clone(),
        requiredness: Requiredness::Optional,
        default: None,
        doc: None,
        annotations: Vec::new(),
        type_annotations: Vec::new(),
        span: f.span,
    }
}

/// Writes field `id` of type `ty` holding `value` (a `&T` expression), in
/// module `from`.
fn write_field(ctx: &Ctx<'_>, f: &Field, value: TokenStream, from: FileId) -> TokenStream {
    let fid = Literal::i16_unsuffixed(f.id);
    let codec = ctx.codec(&f.ty, from);
    quote!(__rt::write_field::<#codec>(output, #fid, #value)?;)
}

/// Writes argument `p` as a client lends it (`value` is `&str`, `&[u8]` or a
/// slice where [`client_param_type`] says so, else `&T`).
fn write_arg(ctx: &Ctx<'_>, p: &Field, value: TokenStream, from: FileId) -> TokenStream {
    let fid = Literal::i16_unsuffixed(p.id);
    if passed_by_value(ctx, &p.ty) {
        return write_field(ctx, p, value, from);
    }
    match ctx.ir.resolve(&p.ty) {
        Type::String => quote!(__rt::write_str(output, #fid, #value)?;),
        Type::Binary => quote!(__rt::write_slice(output, #fid, #value)?;),
        Type::List(t) => {
            let t = ctx.codec(t, from);
            quote!(__rt::write_items::<#t>(output, #fid, __rt::TType::List, #value)?;)
        }
        Type::Set(t) if !ctx.type_hashable(t) => {
            let t = ctx.codec(t, from);
            quote!(__rt::write_items::<#t>(output, #fid, __rt::TType::Set, #value)?;)
        }
        Type::Map(k, v) if !ctx.type_hashable(k) => {
            let (k, v) = (ctx.codec(k, from), ctx.codec(v, from));
            quote!(__rt::write_pairs::<#k, #v>(output, #fid, #value)?;)
        }
        _ => write_field(ctx, p, value, from),
    }
}

/// What one method needs on the wire: its `<Stem>Method` unit struct, which
/// reads the arguments and writes the result for the server and reads the
/// result for the client, and the `<Stem>Args` a client writes.
fn method_codecs(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> TokenStream {
    let server = ctx.options.server;
    let client = ctx.options.client;
    let marker = naming::ident(&format!("{}Method", n.stem));
    let what = format!("{}.{}", def.name, f.name);
    let marker_item = (server || (client && !f.oneway)).then(|| {
        let doc =
            format!(" `{what}` on the wire: how its arguments and result are read and written.");
        quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #[derive(Debug)]
            pub struct #marker;
        }
    });
    let decode = server.then(|| decode_args(ctx, def, f, &marker, &what));
    let encode = (server && !f.oneway).then(|| encode_result(ctx, def, f, n, &marker));
    let reply = (client && !f.oneway).then(|| read_reply(ctx, def, f, n, &marker));
    let args = client.then(|| client_args(ctx, def, f, n));
    quote! {
        #marker_item
        #decode
        #encode
        #reply
        #args
    }
}

/// `DecodeArgs`: the arguments as the handler takes them.
fn decode_args(
    ctx: &Ctx<'_>,
    def: &Def,
    f: &Function,
    marker: &proc_macro2::Ident,
    what: &str,
) -> TokenStream {
    let module = def.module;
    let args_name = format!("{}_args", f.name);
    let read = read_fields(ctx, &args_name, &f.params, module);
    let types = f.params.iter().map(|p| param_type(ctx, p, module));
    // An argument the caller may leave out reaches the handler as an
    // `Option`. Another missing argument is its type's default where it has
    // one (as Apache's servers do), an error otherwise.
    let takes = f.params.iter().enumerate().map(|(i, p)| {
        let local = format_ident!("a_{}", i);
        if omittable(p) {
            quote!(#local)
        } else if p.requiredness == Requiredness::Default && ctx.type_default(&p.ty) {
            quote!(#local.unwrap_or_default())
        } else {
            let (pname, fid) = (&p.name, Literal::i16_unsuffixed(p.id));
            quote!(__rt::required(#local, #args_name, #pname, #fid)?)
        }
    });
    quote! {
        impl __rt::DecodeArgs for #marker {
            const NAME: &'static str = #what;
            type Args = (#(#types,)*);

            fn read_args(input: &mut impl __rt::InputProtocol) -> __rt::CodecResult<Self::Args> {
                #read
                __rt::Ok((#(#takes,)*))
            }
        }
    }
}

/// `EncodeResult`: the result struct of a value or a declared exception.
fn encode_result(
    ctx: &Ctx<'_>,
    def: &Def,
    f: &Function,
    n: &Names,
    marker: &proc_macro2::Ident,
) -> TokenStream {
    let module = def.module;
    let result_name = format!("{}_result", f.name);
    let ok = return_type(ctx, f, module);
    let err = error_type(ctx, def.id, f, n, module);
    let mut arms = Vec::new();
    if let Some(ty) = &f.returns {
        let write = write_field(ctx, &success_field(ty, f), quote!(value), module);
        arms.push((quote!(__rt::Ok(value)), write));
    }
    for (t, v) in f.throws.iter().zip(&n.variants) {
        let v = naming::ident(v);
        let write = write_field(ctx, t, quote!(value), module);
        arms.push((quote!(__rt::Err(#err::#v(value))), write));
    }
    // An application error is no field: it goes as an exception message.
    let write = match arms.as_slice() {
        [] => quote!(let _ = result;),
        [(pattern, write)] => quote! {
            if let #pattern = result { #write }
        },
        _ => {
            let arms = arms
                .iter()
                .map(|(pattern, write)| quote!(#pattern => { #write }));
            quote! {
                match result {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    };
    quote! {
        impl __rt::EncodeResult for #marker {
            type Ok = #ok;
            type Err = #err;

            fn write_result<O: __rt::OutputProtocol>(
                result: &__rt::MethodResult<Self>,
                output: &mut O,
            ) -> __rt::CodecResult<()> {
                output.write_struct_begin(#result_name)?;
                #write
                __rt::end_struct(output)
            }
        }
    }
}

/// `Reply`: the client reads the result struct.
fn read_reply(
    ctx: &Ctx<'_>,
    def: &Def,
    f: &Function,
    n: &Names,
    marker: &proc_macro2::Ident,
) -> TokenStream {
    let module = def.module;
    let result_name = format!("{}_result", f.name);
    let ok = return_type(ctx, f, module);
    let err = error_type(ctx, def.id, f, n, module);
    let mut fields: Vec<Field> = Vec::new();
    if let Some(ty) = &f.returns {
        fields.push(success_field(ty, f));
    }
    fields.extend(f.throws.iter().cloned());
    let read = read_fields(ctx, &result_name, &fields, module);
    let offset = usize::from(f.returns.is_some());
    let exceptions = n.variants.iter().enumerate().map(|(i, v)| {
        let local = format_ident!("a_{}", i + offset);
        let v = naming::ident(v);
        quote! {
            if let __rt::Some(e) = #local {
                return __rt::Ok(__rt::Err(#err::#v(e)));
            }
        }
    });
    let value = if f.returns.is_some() {
        let method = &f.name;
        quote!(__rt::Ok(__rt::success(a_0, #method)))
    } else {
        quote!(__rt::Ok(__rt::Ok(())))
    };
    quote! {
        impl __rt::Reply for #marker {
            type Ok = #ok;
            type Err = #err;

            fn read<I: __rt::InputProtocol>(input: &mut I) -> __rt::ReplyResult<Self> {
                #read
                #(#exceptions)*
                #value
            }
        }
    }
}

/// `<Stem>Args`: the arguments a client writes, borrowed from the caller.
fn client_args(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> TokenStream {
    let module = def.module;
    let args = naming::ident(&format!("{}Args", n.stem));
    let args_name = format!("{}_args", f.name);
    let doc = format!(
        " The arguments of `{}.{}`, for the client.",
        def.name, f.name
    );
    let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
    let lifetime = if borrows(ctx, f) {
        quote!('a)
    } else {
        TokenStream::new()
    };
    let generics = (!lifetime.is_empty()).then(|| quote!(<'a>));
    let anonymous = (!lifetime.is_empty()).then(|| quote!(<'_>));
    let types = f
        .params
        .iter()
        .map(|p| client_param_type(ctx, p, module, &lifetime));
    let writes = f.params.iter().zip(&params).map(|(p, pn)| {
        // The field as a reference: borrowed already, or borrowed here.
        let value = if passed_by_value(ctx, &p.ty) {
            quote!(&self.#pn)
        } else {
            quote!(self.#pn)
        };
        if omittable(p) {
            // `None`: not sent, so the server sees the argument left out.
            let write = write_arg(ctx, p, quote!(value), module);
            quote! {
                if let __rt::Some(value) = #value { #write }
            }
        } else {
            write_arg(ctx, p, value, module)
        }
    });
    let fields = if f.params.is_empty() {
        quote!(;)
    } else {
        quote!({ #( pub #params: #types, )* })
    };
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[derive(Debug)]
        pub struct #args #generics #fields

        impl __rt::Args for #args #anonymous {
            fn write<O: __rt::OutputProtocol>(&self, output: &mut O) -> __rt::CodecResult<()> {
                output.write_struct_begin(#args_name)?;
                #(#writes)*
                __rt::end_struct(output)
            }
        }
    }
}

/// The functions a client of `id` offers: its own and every inherited one,
/// nearest first (a service cannot redefine an inherited function).
fn client_functions(ctx: &Ctx<'_>, id: DefId) -> Vec<(DefId, usize)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut next = Some(id);
    while let Some(sid) = next {
        if !seen.insert(sid) {
            break;
        }
        let DefKind::Service(s) = &ctx.ir.def(sid).kind else {
            break;
        };
        out.extend((0..s.functions.len()).map(|i| (sid, i)));
        next = s.extends;
    }
    out
}

/// The names of the blocking client's own methods.
const CLIENT_OWN: &[&str] = &["connect", "new", "connection"];

/// The names of the async client's own methods.
const ASYNC_CLIENT_OWN: &[&str] = &["new", "from_client", "client", "with_call_options"];

/// The functions the blocking client of `id` offers with the Rust name of
/// each: a name the client's own methods (`connect`, `new`, `connection`)
/// or a nearer service's method took gets a `_`.
pub(super) fn client_methods(ctx: &Ctx<'_>, id: DefId) -> Vec<(DefId, usize, String)> {
    client_methods_beside(ctx, id, CLIENT_OWN)
}

/// [`client_methods`] for a client whose own methods are `own`.
fn client_methods_beside(ctx: &Ctx<'_>, id: DefId, own: &[&str]) -> Vec<(DefId, usize, String)> {
    let mut used: std::collections::HashSet<String> = own.iter().map(|s| s.to_string()).collect();
    let mut names_of = std::collections::HashMap::new();
    client_functions(ctx, id)
        .into_iter()
        .filter_map(|(sid, i)| {
            let DefKind::Service(s) = &ctx.ir.def(sid).kind else {
                return None;
            };
            let methods = names_of.entry(sid).or_insert_with(|| method_names(s));
            let mut name = methods[i].clone();
            while !used.insert(name.clone()) {
                name.push('_');
            }
            Some((sid, i, name))
        })
        .collect()
}

/// Client doc lines for the arguments a caller may leave out.
fn client_omitted_docs(ctx: &Ctx<'_>, f: &Function, n: &Names) -> TokenStream {
    let lines = omitted_lines(ctx, f, n, |default| match default {
        Some(v) => format!("`None` leaves it out (the IDL default is `{v}`)."),
        None => "`None` leaves it out.".to_string(),
    });
    if lines.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[doc = ""]
        #[doc = " Arguments that may be left out:"]
        #[doc = ""]
        #( #[doc = #lines] )*
    }
}

/// One client method per function the client of `id` offers, as `method`
/// builds it from (the function, its names, the Rust method name, its doc
/// lines and parameters).
fn client_method_items(
    ctx: &Ctx<'_>,
    def: &Def,
    own: &[&str],
    method: impl Fn(&Function, &Names, DefId, TokenStream, TokenStream) -> TokenStream,
) -> Vec<TokenStream> {
    let module = def.module;
    client_methods_beside(ctx, def.id, own)
        .into_iter()
        .filter_map(|(sid, i, name)| {
            let sdef = ctx.ir.def(sid);
            let DefKind::Service(s) = &sdef.kind else {
                return None;
            };
            let f = &s.functions[i];
            let n = names(ctx, sid, &method_names(s), i, f);
            let renamed = (name != n.method).then(|| {
                let line = format!(
                    " `{}.{}` in the IDL: `{}` is taken here.",
                    sdef.name, f.name, n.method
                );
                quote!(#[doc = ""] #[doc = #line])
            });
            let ident = naming::ident(&name);
            let params = f.params.iter().zip(&n.params).map(|(p, pn)| {
                let pn = naming::ident(pn);
                let ty = client_param_type(ctx, p, module, &TokenStream::new());
                quote!(#pn: #ty)
            });
            let doc = docs(&f.doc);
            let omitted = client_omitted_docs(ctx, f, &n);
            let allow = lint_allows(&name);
            let oneway = f.oneway.then(|| {
                quote! {
                    #[doc = ""]
                    #[doc = " `oneway`: returns once the call is sent; no reply comes."]
                }
            });
            let idempotent = (f.is_idempotent() && !f.oneway).then(|| {
                quote! {
                    #[doc = ""]
                    #[doc = " `idempotent`: a fleet's async client may send it again (retries, backup requests)."]
                }
            });
            let attrs = quote!(#doc #renamed #omitted #oneway #idempotent #allow);
            let params = quote!(#(#params),*);
            Some(method(f, &n, sid, quote!(#attrs pub fn #ident), params))
        })
        .collect()
}

/// The value of a method's `<Stem>Args`, from the parameters of the same
/// names.
fn args_value(ctx: &Ctx<'_>, sid: DefId, n: &Names, from: FileId) -> TokenStream {
    let args = ctx.item_path(sid, &format!("{}Args", n.stem), from);
    if n.params.is_empty() {
        args
    } else {
        let params = n.params.iter().map(|p| naming::ident(p));
        quote!(#args { #(#params),* })
    }
}

/// A statement binding `args` to the arguments struct of a call (a
/// parameter called `args` is read before the binding shadows it), and the
/// expression that names it.
fn bind_args(ctx: &Ctx<'_>, sid: DefId, n: &Names, from: FileId) -> (TokenStream, TokenStream) {
    let args = args_value(ctx, sid, n, from);
    if n.params.is_empty() {
        (TokenStream::new(), args)
    } else {
        (quote!(let args = #args;), quote!(args))
    }
}

fn client(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    let module = def.module;
    let client = naming::ident(&format!("{}Client", ctx.names[def.id.0 as usize]));
    let methods = client_method_items(ctx, def, CLIENT_OWN, |f, n, sid, head, params| {
        let wire_name = &f.name;
        let (bind, args) = bind_args(ctx, sid, n, module);
        if f.oneway {
            return quote! {
                #head(&mut self, #params) -> __rt::Result<(), __rt::ClientError> {
                    #bind
                    self.inner.send_oneway(#wire_name, &#args)
                }
            };
        }
        let marker = method_type(ctx, sid, n, module);
        let ok = return_type(ctx, f, module);
        let err = error_type(ctx, sid, f, n, module);
        quote! {
            #head(&mut self, #params) -> __rt::Result<#ok, __rt::CallError<#err>> {
                #bind
                self.inner.call::<#marker, _>(#wire_name, &#args)
            }
        }
    });
    let doc = format!(
        " A client of service `{}`: one connection, one call at a time.",
        def.name
    );
    quote! {
        #[doc = #doc]
        ///
        /// Generic over the framing and the protocols: the built-in ones by
        /// default, or one's own through `Client::with_parts`.
        #[derive(Debug)]
        pub struct #client<T = __rt::AnyTransport, X = __rt::Standard> {
            inner: __rt::Client<T, X>,
        }

        impl #client {
            /// Connects to `addr` with `options` (transport, protocol,
            /// timeouts).
            ///
            /// # Errors
            ///
            /// When the connection cannot be made.
            pub fn connect(
                addr: impl __rt::ToSocketAddrs,
                options: __rt::ClientOptions,
            ) -> __rt::Result<Self, __rt::ClientError> {
                __rt::Ok(Self::new(__rt::Client::connect(addr, options)?))
            }
        }

        impl<T: __rt::Transport, X: __rt::Protocols> #client<T, X> {
            /// A client over an open connection.
            pub fn new(inner: __rt::Client<T, X>) -> Self {
                Self { inner }
            }

            /// The connection: set headers for the next call, or change
            /// timeouts.
            pub fn connection(&mut self) -> &mut __rt::Client<T, X> {
                &mut self.inner
            }

            #(#methods)*
        }
    }
}

fn async_client(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    let module = def.module;
    let client = naming::ident(&format!("{}AsyncClient", ctx.names[def.id.0 as usize]));
    let methods = client_method_items(ctx, def, ASYNC_CLIENT_OWN, |f, n, sid, head, params| {
        let wire_name = &f.name;
        let (bind, args) = bind_args(ctx, sid, n, module);
        // The call is encoded now; the future is generic over the reply
        // alone, so it borrows none of the arguments.
        if f.oneway {
            return quote! {
                #head(&self, #params) -> impl __rt::Future<Output = __rt::Result<(), __rt::ClientError>> + __rt::Send + 'static {
                    #bind
                    let call = self.inner.prepare(#wire_name, __rt::MessageType::Oneway, &#args);
                    self.inner.send_prepared(call)
                }
            };
        }
        let marker = method_type(ctx, sid, n, module);
        let ok = return_type(ctx, f, module);
        let err = error_type(ctx, sid, f, n, module);
        // `(idempotent = "true")`: a fleet may retry the call after a
        // failure that may have reached a server, and send backup requests.
        let prepared = if f.is_idempotent() {
            quote!(call.idempotent())
        } else {
            quote!(call)
        };
        let call = quote! {
            let call = self.inner.prepare(#wire_name, __rt::MessageType::Call, &#args);
            self.inner.call_prepared::<#marker>(#prepared)
        };
        quote! {
            #head(&self, #params) -> impl __rt::Future<Output = __rt::Result<#ok, __rt::CallError<#err>>> + __rt::Send + 'static {
                #bind
                #call
            }
        }
    });
    let doc = format!(
        " An async client of service `{}`: cheap to clone, shared by any number of tasks.",
        def.name
    );
    quote! {
        #[doc = #doc]
        ///
        /// Each method encodes its arguments at once and returns a future
        /// that borrows nothing, to await or to spawn.
        #[derive(Clone, Debug)]
        pub struct #client {
            inner: __rt::AsyncClient,
        }

        impl #client {
            /// A client of the server at `addr`; connections are made as
            /// calls need them.
            pub fn new(addr: __rt::SocketAddr, options: __rt::AsyncClientOptions) -> Self {
                Self::from_client(__rt::AsyncClient::new(addr, options))
            }

            /// A client over `inner`.
            pub fn from_client(inner: __rt::AsyncClient) -> Self {
                Self { inner }
            }

            /// The untyped client underneath.
            pub fn client(&self) -> &__rt::AsyncClient {
                &self.inner
            }

            /// The same client (sharing its connections) with `call` for
            /// every call made through it: timeouts, headers.
            pub fn with_call_options(&self, call: __rt::CallOptions) -> Self {
                Self::from_client(self.inner.with_call_options(call))
            }

            #(#methods)*
        }
    }
}
