//! Code generation: the checked IR to formatted Rust source, one file per IDL
//! module plus a `mod.rs` that declares the module tree.
//!
//! Items are built as `quote!` token streams, parsed into a `syn::File` and
//! printed with `prettyplease`, under an `@generated` header.

mod items;
mod naming;
pub mod scaffold;
mod services;
mod types;

use crate::diag::Diagnostic;
use crate::ir::Ir;
use crate::source::{FileId, SourceMap};
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::BTreeMap;

/// What the generated code looks like.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path generated code uses for the runtime crate.
    pub runtime_path: String,
    /// `BTreeMap`/`BTreeSet` instead of `HashMap`/`HashSet`.
    pub btree: bool,
    /// `string` as the runtime's `ByteString` (a validated slice of the
    /// message, no copy) instead of `String`.
    pub zero_copy_strings: bool,
    /// Attributes added to types: (IDL path, attribute).
    pub type_attributes: Vec<(String, String)>,
    /// Attributes added to struct fields: (IDL path, attribute).
    pub field_attributes: Vec<(String, String)>,
    /// Generate each service's handler trait, dispatch and processor.
    pub server: bool,
    /// Generate each service's client.
    pub client: bool,
}

/// Whether IDL path `pattern` selects `path`: `.` (or empty) selects
/// everything, otherwise `pattern` must equal `path` or be a prefix of it
/// ending at a `.` (`shop` selects `shop.Order` and `shop.Order.id`).
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches('.');
    pattern.is_empty()
        || path == pattern
        || path
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runtime_path: "::thriftgen_runtime".to_string(),
            btree: false,
            zero_copy_strings: false,
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            server: true,
            client: true,
        }
    }
}

/// One generated Rust file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The file name, relative to the output directory.
    pub name: String,
    /// The formatted source.
    pub contents: String,
}

/// Generates one file per module of `ir` and a `mod.rs` declaring them all.
///
/// # Errors
///
/// When two IDL files would become the same Rust module.
pub fn generate(
    ir: &Ir,
    sources: &SourceMap,
    options: &Options,
) -> Result<Vec<GeneratedFile>, Box<Diagnostic>> {
    for (path, attribute) in options
        .type_attributes
        .iter()
        .chain(&options.field_attributes)
    {
        if attribute.parse::<TokenStream>().is_err() {
            return Err(Box::new(
                Diagnostic::error(format!(
                    "the attribute `{attribute}` for `{path}` is not valid Rust"
                ))
                .with_help("write a whole attribute, such as `#[derive(Hash)]`"),
            ));
        }
    }
    let module_paths = module_paths(ir, sources)?;
    let ctx = types::Ctx::new(ir, options, module_paths);
    let mut files = Vec::new();
    for module in &ir.modules {
        let items = module
            .defs
            .iter()
            .map(|&id| items::definition(&ctx, ir.def(id)));
        let tokens = quote!(#(#items)*);
        let path = &ctx.module_paths[module.file.0 as usize];
        let source = &sources.file(module.file).name;
        files.push(GeneratedFile {
            name: format!("{}.rs", path.join(".")),
            contents: format_file(tokens, &format!("from `{source}`"))?,
        });
    }
    files.push(GeneratedFile {
        name: "mod.rs".to_string(),
        contents: mod_rs(&ctx.module_paths),
    });
    Ok(files)
}

/// Each file's module path: its `namespace rs` split at dots, else its file
/// stem, in snake case. Two files on one path are an error.
fn module_paths(ir: &Ir, sources: &SourceMap) -> Result<Vec<Vec<String>>, Box<Diagnostic>> {
    let mut taken: BTreeMap<Vec<String>, FileId> = BTreeMap::new();
    let mut paths = Vec::new();
    for module in &ir.modules {
        let path: Vec<String> = match module.namespace("rs") {
            Some(ns) => ns.split('.').map(naming::snake).collect(),
            None => vec![naming::snake(&module.stem)],
        };
        if let Some(&other) = taken.get(&path) {
            return Err(Box::new(
                Diagnostic::error(format!(
                    "`{}` and `{}` would both become the Rust module `{}`",
                    sources.file(other).name,
                    sources.file(module.file).name,
                    path.join("::")
                ))
                .with_help("give one of them its own `namespace rs`"),
            ));
        }
        taken.insert(path.clone(), module.file);
        paths.push(path);
    }
    Ok(paths)
}

/// Tokens to formatted source with the `@generated` header.
fn format_file(tokens: TokenStream, origin: &str) -> Result<String, Box<Diagnostic>> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| {
        Box::new(Diagnostic::error(format!(
            "internal error: generated code does not parse: {e}"
        )))
    })?;
    Ok(format!(
        "// @generated by thriftgen {origin}. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// `mod.rs`: nested `pub mod`s that `include!` each module's file.
fn mod_rs(paths: &[Vec<String>]) -> String {
    #[derive(Default)]
    struct Node {
        file: Option<String>,
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for path in paths {
        let mut node = &mut root;
        for segment in path {
            node = node.children.entry(segment.clone()).or_default();
        }
        node.file = Some(format!("{}.rs", path.join(".")));
    }
    fn write(out: &mut String, node: &Node, indent: usize) {
        let pad = "    ".repeat(indent);
        if let Some(file) = &node.file {
            out.push_str(&format!("{pad}include!(\"{file}\");\n"));
        }
        for (name, child) in &node.children {
            let ident = naming::ident(name);
            // Generated signatures mirror the IDL: a function's parameters
            // and nested container types are what the IDL says they are. A
            // binary crate uses only part of what an IDL declares.
            out.push_str(&format!(
                "{pad}#[allow(dead_code, clippy::too_many_arguments, clippy::type_complexity)]\n"
            ));
            out.push_str(&format!("{pad}pub mod {ident} {{\n"));
            write(out, child, indent + 1);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
    let mut out = String::from("// @generated by thriftgen. Do not edit.\n\n");
    write(&mut out, &root, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_text(idl: &str, options: &Options) -> Result<String, Box<Diagnostic>> {
        let checked = crate::analyze_source("shop.thrift", idl, &[] as &[&str])
            .into_result()
            .expect("valid IDL");
        let files = generate(&checked.ir, &checked.sources, options)?;
        Ok(files
            .into_iter()
            .find(|f| f.name == "shop.rs")
            .expect("shop.rs")
            .contents)
    }

    #[test]
    fn paths_select_by_segment() {
        assert!(path_matches(".", "shop.Order"));
        assert!(path_matches("shop", "shop.Order.id"));
        assert!(path_matches("shop.Order", "shop.Order.id"));
        assert!(path_matches(".shop.Order.id", "shop.Order.id"));
        assert!(!path_matches("shop.Ord", "shop.Order"));
        assert!(!path_matches("shop.Order.id", "shop.Order"));
    }

    #[test]
    fn attributes_land_on_the_selected_items() {
        let options = Options {
            type_attributes: vec![
                ("shop.Order".into(), "#[doc(alias = \"purchase\")]".into()),
                (".".into(), "#[must_use]".into()),
            ],
            field_attributes: vec![("shop.Order.id".into(), "#[doc(alias = \"key\")]".into())],
            ..Options::default()
        };
        let text = generate_text(
            "struct Order { 1: i64 id, 2: string note }\nenum Kind { A }\nunion U { 1: i32 a }\n",
            &options,
        )
        .unwrap();
        assert_eq!(text.matches("#[must_use]").count(), 3, "{text}");
        assert_eq!(
            text.matches("#[doc(alias = \"purchase\")]").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("#[doc(alias = \"key\")]\n    pub id:"),
            "{text}"
        );
        assert!(
            !text.contains("#[doc(alias = \"key\")]\n    pub note:"),
            "{text}"
        );
    }

    #[test]
    fn an_attribute_that_is_not_rust_is_an_error() {
        let options = Options {
            type_attributes: vec![(".".into(), "#[derive(".into())],
            ..Options::default()
        };
        let err = generate_text("struct A {}\n", &options).unwrap_err();
        assert_eq!(
            err.message,
            "the attribute `#[derive(` for `.` is not valid Rust"
        );
    }
}
