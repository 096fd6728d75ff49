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
    /// `<Service><Function>`, the stem of the per-method types.
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
    let mut params = naming::unique(
        f.params
            .iter()
            .map(|p| (naming::snake(&p.name), i64::from(p.id))),
    );
    // The context parameter is `ctx`; a parameter of that name moves aside.
    for p in &mut params {
        if p == "ctx" {
            p.push('_');
        }
    }
    let variants = naming::unique(
        f.throws
            .iter()
            .map(|t| (naming::upper_camel(&t.name), i64::from(t.id)))
            .chain(std::iter::once(("Application".to_string(), 0))),
    );
    let variants = variants[..f.throws.len()].to_vec();
    Names {
        method: methods[index].clone(),
        stem: format!(
            "{}{}",
            ctx.names[service.0 as usize],
            naming::upper_camel(&f.name)
        ),
        params,
        variants,
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

/// The type of a parameter: `Option` when the IDL says `optional`.
pub(super) fn param_type(ctx: &Ctx<'_>, p: &Field, from: FileId) -> TokenStream {
    let ty = ctx.rust_type(&p.ty, from);
    if p.requiredness == Requiredness::Optional {
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
    let name = format_ident!("{}Error", n.stem);
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
            let once = f.throws.iter().filter(|o| o.ty == t.ty).count() == 1;
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
        let oneway = f.oneway.then(|| {
            quote!(#[doc = " `oneway`: the caller gets no reply, and an error is only logged."])
        });
        quote! {
            #doc
            #oneway
            fn #method(&self, ctx: &#rt::service::CallContext, #(#params),*) -> ::std::result::Result<#ret, #err>;
        }
    });
    let delegates = s.functions.iter().zip(all).map(|(f, n)| {
        let method = naming::ident(&n.method);
        let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
        let types = f.params.iter().map(|p| param_type(ctx, p, def.module));
        let ret = return_type(ctx, f, def.module);
        let err = error_type(ctx, def.id, f, n, def.module);
        quote! {
            fn #method(&self, ctx: &#rt::service::CallContext, #(#params: #types),*) -> ::std::result::Result<#ret, #err> {
                (**self).#method(ctx, #(#params),*)
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
    let fn_name = format_ident!("{}_dispatch", naming::snake(&ctx.names[def.id.0 as usize]));
    let processor = format_ident!("{}Processor", ctx.names[def.id.0 as usize]);
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
        quote! {
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
    let method = naming::ident(&n.method);
    let args_name = format!("{}_args", f.name);
    let result_name = format!("{}_result", f.name);
    let read = read_fields(ctx, &args_name, &f.params, module);
    let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
    let types: Vec<_> = f
        .params
        .iter()
        .map(|p| param_type(ctx, p, module))
        .collect();
    // A missing argument is its type's default where it has one (as Apache's
    // servers do), an error otherwise.
    let takes = f.params.iter().enumerate().map(|(i, p)| {
        let local = format_ident!("a_{}", i);
        if p.requiredness == Requiredness::Optional {
            quote!(#local)
        } else if let (Requiredness::Default, Some(v)) = (p.requiredness, &p.default) {
            let v = ctx.value(v, &p.ty, def.module);
            let scalar = match ctx.ir.resolve(&p.ty) {
                Type::Bool | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Double => true,
                Type::Def(id) => matches!(ctx.ir.def(*id).kind, DefKind::Enum(_)),
                _ => false,
            };
            if scalar {
                quote!(#local.unwrap_or(#v))
            } else {
                quote!(#local.unwrap_or_else(|| #v))
            }
        } else if p.requiredness == Requiredness::Default && ctx.type_default(&p.ty) {
            quote!(#local.unwrap_or_default())
        } else {
            let (pname, fid) = (&p.name, Literal::i16_unsuffixed(p.id));
            quote!(#local.ok_or_else(|| #rt::protocol::ProtocolError::missing(#args_name, #pname, #fid))?)
        }
    });
    let decode = quote! {
        let (#(#params,)*): (#(#types,)*) = (|| -> #rt::protocol::Result<(#(#types,)*)> {
            #read
            input.read_message_end()?;
            ::std::result::Result::Ok((#(#takes,)*))
        })()
        .map_err(#rt::service::ProcessError::Decode)?;
    };
    let call = quote!(handler.#method(ctx, #(#params),*));
    if f.oneway {
        return quote! {
            #wire_name => {
                #decode
                // The caller expects no reply; the error has nowhere to go.
                let _ = #call;
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
    let args = format_ident!("{}Args", n.stem);
    let args_name = format!("{}_args", f.name);
    let params: Vec<_> = n.params.iter().map(|p| naming::ident(p)).collect();
    let types: Vec<_> = f
        .params
        .iter()
        .map(|p| param_type(ctx, p, module))
        .collect();
    let writes = f.params.iter().zip(&params).map(|(p, pn)| {
        if p.requiredness == Requiredness::Optional {
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

    let reply = format_ident!("{}Reply", n.stem);
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

fn client(ctx: &Ctx<'_>, def: &Def) -> TokenStream {
    let rt = &ctx.rt;
    let module = def.module;
    let client = format_ident!("{}Client", ctx.names[def.id.0 as usize]);
    let mut used = std::collections::HashSet::new();
    let methods = client_functions(ctx, def.id).into_iter().filter_map(|(sid, i)| {
        let sdef = ctx.ir.def(sid);
        let DefKind::Service(s) = &sdef.kind else {
            return None;
        };
        let f = &s.functions[i];
        let n = names(ctx, sid, &method_names(s), i, f);
        // Inherited methods whose Rust name an own method took are left out.
        if !used.insert(n.method.clone()) {
            return None;
        }
        let method = naming::ident(&n.method);
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
