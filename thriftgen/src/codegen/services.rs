//! Services to Rust: per service a handler trait, the typed error of each
//! method that declares exceptions, a dispatch function and a processor for
//! servers, and argument/result codecs and a typed client for callers.
//!
//! For `service Calculator extends Shared` with `i32 add(1: i32 a, 2: i32 b)`:
//!
//! - `trait Calculator: Shared` with `fn add(&self, ctx, a, b) -> Result<i32, E>`;
//! - `CalculatorProcessor<H>`, a `Processor` serving any `H: Calculator`,
//!   whose dispatch falls back to `Shared`'s for inherited methods;
//! - `CalculatorClient` with `fn add(&mut self, a, b)`, inherited methods
//!   included.

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
    // The context parameter is `ctx`; a parameter of that name moves aside.
    // A name taken twice gets the field id (`ctx_7`, not `ctx__7`).
    let mut taken = std::collections::HashSet::new();
    let params = f
        .params
        .iter()
        .map(|p| {
            let name = naming::snake(&p.name);
            let name = if name == "ctx" {
                "ctx_".to_string()
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

/// The type of a parameter: `Option` when the caller may leave it out.
pub(super) fn param_type(ctx: &Ctx<'_>, p: &Field, from: FileId) -> TokenStream {
    let ty = ctx.rust_type(&p.ty, from);
    if omittable(p) {
        quote!(::std::option::Option<#ty>)
    } else {
        ty
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
        let dispatch = dispatch(ctx, def, s, &all);
        quote!(#handler #dispatch)
    });
    let client = ctx.options.client.then(|| {
        let codecs = s
            .functions
            .iter()
            .zip(&all)
            .map(|(f, n)| client_codecs(ctx, def, f, n));
        let client = client(ctx, def);
        quote!(#(#codecs)* #client)
    });
    quote! {
        #(#errors)*
        #server
        #client
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
    if f.throws.is_empty() {
        let rt = &ctx.rt;
        quote!(#rt::protocol::ApplicationException)
    } else {
        ctx.item_path(service, &format!("{}Error", n.stem), from)
    }
}

pub(super) fn return_type(ctx: &Ctx<'_>, f: &Function, from: FileId) -> TokenStream {
    match &f.returns {
        Some(t) => ctx.rust_type(t, from),
        None => quote!(()),
    }
}

fn error_enum(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> Option<TokenStream> {
    if f.throws.is_empty() {
        return None;
    }
    let rt = &ctx.rt;
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
    Some(quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        pub enum #name {
            #( #[doc = #variant_docs] #variants(#types), )*
            /// An application error (`TApplicationException`).
            Application(#rt::protocol::ApplicationException),
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
            fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    #( Self::#variants(e) => ::std::option::Option::Some(e), )*
                    Self::Application(e) => ::std::option::Option::Some(e),
                }
            }
        }

        #(#froms)*

        impl ::std::convert::From<#rt::protocol::ApplicationException> for #name {
            fn from(e: #rt::protocol::ApplicationException) -> Self {
                Self::Application(e)
            }
        }
    })
}

fn docs(doc: &Option<String>) -> TokenStream {
    let lines = doc.iter().flat_map(|d| d.lines()).map(|line| {
        let line = format!(" {line}");
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// Doc lines for the arguments a caller may leave out, which the handler
/// sees as `None`.
fn omitted_docs(ctx: &Ctx<'_>, f: &Function, n: &Names) -> TokenStream {
    let lines: Vec<String> = f
        .params
        .iter()
        .zip(&n.params)
        .filter(|(p, _)| omittable(p))
        .map(|(p, pn)| match &p.default {
            Some(v) => format!(
                " - `{pn}`: `None` when the caller left it out; the IDL default is `{}`.",
                ctx.ir.value_text(v)
            ),
            None => format!(" - `{pn}`: `None` when the caller left it out."),
        })
        .collect();
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
    let rt = &ctx.rt;
    let name = naming::ident(&ctx.names[def.id.0 as usize]);
    let supertrait = match s.extends {
        Some(base) => ctx.def_path(base, def.module),
        None => quote!(::std::marker::Send + ::std::marker::Sync + 'static),
    };
    let doc = match &def.doc {
        Some(_) => docs(&def.doc),
        None => {
            let line = format!(" The handler of service `{}`.", def.name);
            quote!(#[doc = #line])
        }
    };
    let methods = s.functions.iter().zip(all).map(|(f, n)| {
        let method = naming::ident(&n.method);
        let params = f.params.iter().zip(&n.params).map(|(p, pn)| {
            let pn = naming::ident(pn);
            let ty = param_type(ctx, p, def.module);
            quote!(#pn: #ty)
        });
        let ret = return_type(ctx, f, def.module);
        let err = error_type(ctx, def.id, f, n, def.module);
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
            fn #method(&self, ctx: &#rt::service::CallContext, #(#params),*) -> ::std::result::Result<#ret, #err>;
        }
    });
    let delegates = s.functions.iter().zip(all).map(|(f, n)| {
        let method = naming::ident(&n.method);
        let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
        let types = f.params.iter().map(|p| param_type(ctx, p, def.module));
        let ret = return_type(ctx, f, def.module);
        let err = error_type(ctx, def.id, f, n, def.module);
        let allow = lint_allows(&n.method);
        quote! {
            #allow
            fn #method(&self, ctx: &#rt::service::CallContext, #(#params: #types),*) -> ::std::result::Result<#ret, #err> {
                <H as #name>::#method(&**self, ctx, #(#params),*)
            }
        }
    });
    quote! {
        #doc
        pub trait #name: #supertrait {
            #(#methods)*
        }

        /// A shared handler serves as well.
        impl<H: #name + ?::std::marker::Sized> #name for ::std::sync::Arc<H> {
            #(#delegates)*
        }
    }
}

/// The dispatch function of a service (shared with services that extend it)
/// and its processor.
fn dispatch(ctx: &Ctx<'_>, def: &Def, s: &Service, all: &[Names]) -> TokenStream {
    let rt = &ctx.rt;
    let trait_name = naming::ident(&ctx.names[def.id.0 as usize]);
    let fn_name = naming::ident(&format!(
        "{}_dispatch",
        naming::snake(&ctx.names[def.id.0 as usize])
    ));
    let processor = naming::ident(&format!("{}Processor", ctx.names[def.id.0 as usize]));
    let arms = s
        .functions
        .iter()
        .zip(all)
        .map(|(f, n)| dispatch_arm(ctx, def, f, n));
    let fallback = match s.extends {
        Some(base) => {
            let base_fn = ctx.item_path(
                base,
                &format!("{}_dispatch", naming::snake(&ctx.names[base.0 as usize])),
                def.module,
            );
            quote!(#base_fn(handler, ctx, header, input, output))
        }
        None => quote!(::std::result::Result::Ok(#rt::service::Processed::UnknownMethod)),
    };
    let body = if s.functions.is_empty() {
        match s.extends {
            Some(_) => fallback,
            None => quote! {
                let _ = (handler, ctx, header, input, output);
                ::std::result::Result::Ok(#rt::service::Processed::UnknownMethod)
            },
        }
    } else {
        let arms: Vec<_> = arms.collect();
        // Only oneway methods and nothing to fall back to: nothing is written.
        let unused = (s.extends.is_none() && s.functions.iter().all(|f| f.oneway))
            .then(|| quote!(let _ = output;));
        quote! {
            #unused
            match header.name.as_str() {
                #(#arms)*
                _ => #fallback,
            }
        }
    };
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
        pub fn #fn_name<H, I, O>(
            handler: &H,
            ctx: &#rt::service::CallContext,
            header: &#rt::protocol::MessageHeader,
            input: &mut I,
            output: &mut O,
        ) -> ::std::result::Result<#rt::service::Processed, #rt::service::ProcessError>
        where
            H: #trait_name + ?Sized,
            I: #rt::protocol::InputProtocol,
            O: #rt::protocol::OutputProtocol,
        {
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

        impl<H: #trait_name> #rt::service::Processor for #processor<H> {
            fn process<I: #rt::protocol::InputProtocol, O: #rt::protocol::OutputProtocol>(
                &self,
                ctx: &#rt::service::CallContext,
                header: &#rt::protocol::MessageHeader,
                input: &mut I,
                output: &mut O,
            ) -> ::std::result::Result<#rt::service::Processed, #rt::service::ProcessError> {
                #fn_name(&self.handler, ctx, header, input, output)
            }
        }
    }
}

/// Reads a struct of `fields` into locals `a_0..`, naming `struct_name` in
/// errors. Returns the statements.
fn read_fields(ctx: &Ctx<'_>, struct_name: &str, fields: &[Field], from: FileId) -> TokenStream {
    let locals = fields.iter().enumerate().map(|(i, f)| {
        let local = format_ident!("a_{}", i);
        let ty = ctx.rust_type(&f.ty, from);
        quote!(let mut #local: ::std::option::Option<#ty> = ::std::option::Option::None;)
    });
    let arms = fields.iter().enumerate().map(|(i, f)| {
        let local = format_ident!("a_{}", i);
        let fid = Literal::i16_unsuffixed(f.id);
        let tt = ctx.ttype(&f.ty);
        let read = ctx.read_result(&f.ty, from);
        let fname = &f.name;
        quote! {
            (#fid, #tt) => {
                #local = ::std::option::Option::Some(
                    #read.map_err(|e| e.in_field(#struct_name, #fname, #fid))?,
                );
            }
        }
    });
    let read = super::items::field_loop(ctx, arms);
    quote! {
        #(#locals)*
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

/// Writes field `id` of type `ty` holding `value` (a `&T` expression).
fn write_field(ctx: &Ctx<'_>, f: &Field, value: TokenStream) -> TokenStream {
    let tt = ctx.ttype(&f.ty);
    let fid = Literal::i16_unsuffixed(f.id);
    let write = ctx.write(&f.ty, &quote!(value));
    let bind = (value.to_string() != "value").then(|| quote!(let value = #value;));
    quote! {{
        #bind
        output.write_field_begin(#tt, #fid)?;
        #write
        output.write_field_end()?;
    }}
}

fn dispatch_arm(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> TokenStream {
    let rt = &ctx.rt;
    let module = def.module;
    let wire_name = &f.name;
    let trait_name = naming::ident(&ctx.names[def.id.0 as usize]);
    let method = naming::ident(&n.method);
    let args_name = format!("{}_args", f.name);
    let result_name = format!("{}_result", f.name);
    let read = read_fields(ctx, &args_name, &f.params, module);
    // The decoded arguments stay in the locals `a_0..`, so no IDL name can
    // shadow `handler`, `header`, `output` and the rest.
    let locals: Vec<_> = (0..f.params.len())
        .map(|i| format_ident!("a_{}", i))
        .collect();
    let types: Vec<_> = f
        .params
        .iter()
        .map(|p| param_type(ctx, p, module))
        .collect();
    // An argument the caller may leave out reaches the handler as an
    // `Option`. Another missing argument is its type's default where it has
    // one (as Apache's servers do), an error otherwise.
    let takes = f.params.iter().zip(&locals).map(|(p, local)| {
        if omittable(p) {
            quote!(#local)
        } else if p.requiredness == Requiredness::Default && ctx.type_default(&p.ty) {
            quote!(#local.unwrap_or_default())
        } else {
            let (pname, fid) = (&p.name, Literal::i16_unsuffixed(p.id));
            quote!(#local.ok_or_else(|| #rt::protocol::ProtocolError::missing(#args_name, #pname, #fid))?)
        }
    });
    let decode = quote! {
        let (#(#locals,)*): (#(#types,)*) = (|| -> #rt::protocol::Result<(#(#types,)*)> {
            #read
            input.read_message_end()?;
            ::std::result::Result::Ok((#(#takes,)*))
        })()
        .map_err(#rt::service::ProcessError::Decode)?;
    };
    // Called through the trait: a base service may have a method of the same
    // Rust name.
    let call = quote!(#trait_name::#method(handler, ctx, #(#locals),*));
    if f.oneway {
        let what = format!("{}.{}", def.name, f.name);
        return quote! {
            #wire_name => {
                #decode
                // The caller expects no reply: the error is logged.
                if let ::std::result::Result::Err(e) = #call {
                    #rt::service::oneway_failed(#what, &e);
                }
                ::std::result::Result::Ok(#rt::service::Processed::Oneway)
            }
        };
    }
    let reply_begin = quote! {
        output.write_message_begin(&#rt::protocol::MessageHeader {
            name: header.name.clone(),
            kind: #rt::MessageType::Reply,
            seqid: header.seqid,
        })?;
        output.write_struct_begin(#result_name)?;
    };
    let reply_end = quote! {
        output.write_field_stop()?;
        output.write_struct_end()?;
        output.write_message_end()
    };
    let success = match &f.returns {
        Some(ty) => write_field(ctx, &success_field(ty, f), quote!(value)),
        None => quote!(let _ = value;),
    };
    let error_arms = if f.throws.is_empty() {
        quote! {
            ::std::result::Result::Err(e) => #rt::service::write_exception(output, &header.name, header.seqid, e),
        }
    } else {
        let error = error_type(ctx, def.id, f, n, module);
        let arms = f.throws.iter().zip(&n.variants).map(|(t, v)| {
            let v = naming::ident(v);
            let write = write_field(ctx, t, quote!(e));
            quote! {
                ::std::result::Result::Err(#error::#v(e)) => {
                    #reply_begin
                    #write
                    #reply_end
                }
            }
        });
        quote! {
            #(#arms)*
            ::std::result::Result::Err(#error::Application(e)) => {
                #rt::service::write_exception(output, &header.name, header.seqid, e)
            }
        }
    };
    quote! {
        #wire_name => {
            #decode
            let result = #call;
            (|| -> #rt::protocol::Result<()> {
                match &result {
                    ::std::result::Result::Ok(value) => {
                        #reply_begin
                        #success
                        #reply_end
                    }
                    #error_arms
                }
            })()
            .map_err(#rt::service::ProcessError::Encode)?;
            ::std::result::Result::Ok(#rt::service::Processed::Replied)
        }
    }
}

/// The arguments writer and result reader a client uses for one method.
fn client_codecs(ctx: &Ctx<'_>, def: &Def, f: &Function, n: &Names) -> TokenStream {
    let rt = &ctx.rt;
    let module = def.module;
    let args = naming::ident(&format!("{}Args", n.stem));
    let args_name = format!("{}_args", f.name);
    let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
    let types: Vec<_> = f
        .params
        .iter()
        .map(|p| param_type(ctx, p, module))
        .collect();
    let writes = f.params.iter().zip(&params).map(|(p, pn)| {
        if omittable(p) {
            // `None`: not sent, so the server sees the argument left out.
            let write = write_field(ctx, p, quote!(value));
            quote! {
                if let ::std::option::Option::Some(value) = self.#pn {
                    #write
                }
            }
        } else {
            write_field(ctx, p, quote!(self.#pn))
        }
    });
    let args_doc = format!(
        " The arguments of `{}.{}`, for the client.",
        def.name, f.name
    );
    let args_struct = if f.params.is_empty() {
        quote! {
            #[doc = #args_doc]
            #[doc(hidden)]
            #[derive(Debug)]
            pub struct #args;

            impl #rt::service::Args for #args {
                fn write<O: #rt::protocol::OutputProtocol>(&self, output: &mut O) -> #rt::protocol::Result<()> {
                    output.write_struct_begin(#args_name)?;
                    output.write_field_stop()?;
                    output.write_struct_end()
                }
            }
        }
    } else {
        quote! {
            #[doc = #args_doc]
            #[doc(hidden)]
            #[derive(Debug)]
            pub struct #args<'a> {
                #( pub #params: &'a #types, )*
            }

            impl #rt::service::Args for #args<'_> {
                fn write<O: #rt::protocol::OutputProtocol>(&self, output: &mut O) -> #rt::protocol::Result<()> {
                    output.write_struct_begin(#args_name)?;
                    #(#writes)*
                    output.write_field_stop()?;
                    output.write_struct_end()
                }
            }
        }
    };
    if f.oneway {
        return args_struct;
    }

    let reply = naming::ident(&format!("{}Reply", n.stem));
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
            if let ::std::option::Option::Some(e) = #local {
                return ::std::result::Result::Ok(::std::result::Result::Err(#err::#v(e)));
            }
        }
    });
    let value = if f.returns.is_some() {
        let method = &f.name;
        let missing = if f.throws.is_empty() {
            quote!(#rt::service::missing_result(#method))
        } else {
            quote!(#err::Application(#rt::service::missing_result(#method)))
        };
        quote! {
            match a_0 {
                ::std::option::Option::Some(value) => ::std::result::Result::Ok(::std::result::Result::Ok(value)),
                ::std::option::Option::None => ::std::result::Result::Ok(::std::result::Result::Err(
                    #missing,
                )),
            }
        }
    } else {
        quote!(::std::result::Result::Ok(::std::result::Result::Ok(())))
    };
    let reply_doc = format!(
        " Reads the result of `{}.{}`, for the client.",
        def.name, f.name
    );
    quote! {
        #args_struct

        #[doc = #reply_doc]
        #[doc(hidden)]
        #[derive(Debug)]
        pub struct #reply;

        impl #rt::service::Reply for #reply {
            type Ok = #ok;
            type Err = #err;

            #[allow(clippy::needless_return)]
            fn read<I: #rt::protocol::InputProtocol>(
                input: &mut I,
            ) -> #rt::protocol::Result<::std::result::Result<#ok, #err>> {
                #read
                #(#exceptions)*
                #value
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

/// The functions a client of `id` offers with the Rust name of each: a name
/// the client's own methods (`connect`, `new`, `connection`) or a nearer
/// service's method took gets a `_`.
pub(super) fn client_methods(ctx: &Ctx<'_>, id: DefId) -> Vec<(DefId, usize, String)> {
    let mut used: std::collections::HashSet<String> =
        ["connect", "new", "connection"].map(String::from).into();
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
    let lines: Vec<String> = f
        .params
        .iter()
        .zip(&n.params)
        .filter(|(p, _)| omittable(p))
        .map(|(p, pn)| match &p.default {
            Some(v) => format!(
                " - `{pn}`: `None` leaves it out (the IDL default is `{}`).",
                ctx.ir.value_text(v)
            ),
            None => format!(" - `{pn}`: `None` leaves it out."),
        })
        .collect();
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

fn client(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    let rt = &ctx.rt;
    let module = def.module;
    let client = naming::ident(&format!("{}Client", ctx.names[def.id.0 as usize]));
    // The client's own methods are taken.
    let methods = client_methods(ctx, def.id).into_iter().filter_map(|(sid, i, name)| {
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
        let method = naming::ident(&name);
        let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
        let types: Vec<_> = f.params.iter().map(|p| param_type(ctx, p, module)).collect();
        let args = ctx.item_path(sid, &format!("{}Args", n.stem), module);
        let args_value = if f.params.is_empty() {
            quote!(#args)
        } else {
            quote!(#args { #(#params: &#params,)* })
        };
        let wire_name = &f.name;
        let doc = docs(&f.doc);
        let omitted = client_omitted_docs(ctx, f, &n);
        let allow = lint_allows(&name);
        let doc = quote!(#doc #renamed #omitted #allow);
        if f.oneway {
            return Some(quote! {
                #doc
                ///
                /// `oneway`: returns once the call is sent; no reply comes.
                pub fn #method(&mut self, #(#params: #types),*) -> ::std::result::Result<(), #rt::client::ClientError> {
                    self.inner.send_oneway(#wire_name, &#args_value)
                }
            });
        }
        let reply = ctx.item_path(sid, &format!("{}Reply", n.stem), module);
        let ok = return_type(ctx, f, module);
        let err = error_type(ctx, sid, f, &n, module);
        Some(quote! {
            #doc
            pub fn #method(&mut self, #(#params: #types),*) -> ::std::result::Result<#ok, #rt::client::CallError<#err>> {
                self.inner.call::<#reply, _>(#wire_name, &#args_value)
            }
        })
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
        pub struct #client<T = #rt::transport::AnyTransport, X = #rt::protocol::Standard> {
            inner: #rt::client::Client<T, X>,
        }

        impl #client {
            /// Connects to `addr` with `options` (transport, protocol,
            /// timeouts).
            ///
            /// # Errors
            ///
            /// When the connection cannot be made.
            pub fn connect<A: ::std::net::ToSocketAddrs>(
                addr: A,
                options: #rt::client::ClientOptions,
            ) -> ::std::result::Result<Self, #rt::client::ClientError> {
                ::std::result::Result::Ok(Self::new(#rt::client::Client::connect(addr, options)?))
            }
        }

        impl<T: #rt::transport::Transport, X: #rt::protocol::Protocols> #client<T, X> {
            /// A client over an open connection.
            pub fn new(inner: #rt::client::Client<T, X>) -> Self {
                Self { inner }
            }

            /// The connection: set headers for the next call, or change
            /// timeouts.
            pub fn connection(&mut self) -> &mut #rt::client::Client<T, X> {
                &mut self.inner
            }

            #(#methods)*
        }
    }
}
