//! Code generation: the checked IR to formatted Rust source, one file per IDL
//! module plus a `mod.rs` that declares the module tree.
//!
//! Items are built as `quote!` token streams, parsed into a `syn::File` and
//! printed with `prettyplease`, under an `@generated` header.

mod items;
mod naming;
pub mod scaffold;
mod serde;
mod services;
mod types;

use crate::diag::Diagnostic;
use crate::ir::Ir;
use crate::source::SourceMap;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::{BTreeMap, BTreeSet};

/// What the generated code looks like.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path generated code uses for the runtime crate.
    pub runtime_path: String,
    /// `BTreeMap`/`BTreeSet` instead of `HashMap`/`HashSet`.
    pub btree: bool,
    /// The `BuildHasher` of every `HashMap` and `HashSet` (a type path), or
    /// `None` for the standard library's (SipHash, randomly keyed).
    pub hasher: Option<String>,
    /// `string` as the runtime's `ByteString` (a validated slice of the
    /// message, no copy) instead of `String`.
    pub zero_copy_strings: bool,
    /// Attributes added to types: (IDL path, attribute).
    pub type_attributes: Vec<(String, String)>,
    /// Attributes added to struct fields: (IDL path, attribute).
    pub field_attributes: Vec<(String, String)>,
    /// Generate each service's handler trait, dispatch and processor.
    pub server: bool,
    /// Generate each service's clients (blocking and async).
    pub client: bool,
    /// Async handler traits: each method returns a `Send` future, and
    /// `<Service>Processor` is an `AsyncProcessor`.
    pub async_handlers: bool,
    /// Keep the fields a struct does not know (sent by a newer peer) as raw
    /// bytes in `_unknown_fields`, and write them back; a union's unknown
    /// variant keeps its field the same way. Off: they are skipped, at no
    /// cost.
    pub keep_unknown_fields: bool,
    /// Derive `serde::Serialize` and `serde::Deserialize` on structs,
    /// exceptions and unions, and implement them for enums, with the IDL's
    /// names (needs the runtime's `serde` feature).
    pub serde: bool,
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
            hasher: None,
            zero_copy_strings: false,
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            server: true,
            client: true,
            async_handlers: false,
            keep_unknown_fields: false,
            serde: false,
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
/// Any valid IDL generates: file names and namespaces that are not Rust
/// identifiers are converted, and files sharing a namespace become
/// submodules of it (see the guide's mapping table).
///
/// # Errors
///
/// When a configured attribute is not valid Rust.
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
    if let Some(hasher) = &options.hasher {
        if syn::parse_str::<syn::Type>(hasher).is_err() {
            return Err(Box::new(
                Diagnostic::error(format!("the hasher `{hasher}` is not a Rust type"))
                    .with_help("give a path to a `BuildHasher + Default` type, such as `::foldhash::fast::RandomState`"),
            ));
        }
    }
    let layout = layout(ir);
    let ctx = types::Ctx::new(ir, options, layout.paths.clone());
    let mut files = Vec::new();
    for module in &ir.modules {
        let items = module
            .defs
            .iter()
            .map(|&id| items::definition(&ctx, ir.def(id)));
        // Generated code names the runtime's helpers for it as `__rt` (no
        // IDL name converts to it).
        let rt = &ctx.rt;
        let import = quote! {
            #[allow(unused_imports)]
            use #rt::__private as __rt;
        };
        let tokens = quote!(#import #(#items)*);
        let path = &ctx.module_paths[module.file.0 as usize];
        let source = &sources.file(module.file).name;
        files.push(GeneratedFile {
            name: module_file_name(path),
            contents: format_file(tokens, &format!("from `{source}`"))?,
        });
    }
    files.push(GeneratedFile {
        name: "mod.rs".to_string(),
        contents: mod_rs(&layout, options),
    });
    Ok(files)
}

/// Each file's module path (snake-case segments from the generated root).
/// See [`layout`].
pub(crate) fn module_paths(
    ir: &Ir,
    _sources: &SourceMap,
) -> Result<Vec<Vec<String>>, Box<Diagnostic>> {
    Ok(layout(ir).paths)
}

/// Where each IDL file's Rust module goes.
pub(crate) struct Layout {
    /// Per file (indexed by [`FileId`]): its module path, in snake case.
    pub paths: Vec<Vec<String>>,
    /// Per file: its namespace (`namespace rs`, else the stem), in snake case.
    pub namespaces: Vec<Vec<String>>,
    /// The namespaces several files share: modules that hold those files as
    /// submodules, and re-export them.
    pub shared: BTreeSet<Vec<String>>,
}

/// The module of each file. A file's namespace is its `namespace rs` split at
/// dots, else its file stem, each segment in snake case (so any file name
/// becomes an identifier). A namespace of one file is that file's module. The
/// files of a namespace several files share become submodules of it named
/// after their stems, and the namespace module re-exports their items
/// (`pub use self::stem::*`), so a name only one of them defines is reachable
/// from the namespace directly. A path that is still taken (two stems that
/// convert alike, a namespace that names another file's submodule, a module
/// that would clash with a type of its parent) gets `_2`, `_3`, ... on its
/// last segment, in file order. Never an error.
pub(crate) fn layout(ir: &Ir) -> Layout {
    let namespace = |m: &crate::ir::Module| -> Vec<String> {
        match m.namespace("rs") {
            Some(ns) => ns.split('.').map(naming::snake).collect(),
            None => vec![naming::snake(&m.stem)],
        }
    };
    let namespaces: Vec<Vec<String>> = ir.modules.iter().map(namespace).collect();
    let mut sharing: BTreeMap<&[String], usize> = BTreeMap::new();
    for ns in &namespaces {
        *sharing.entry(ns.as_slice()).or_default() += 1;
    }
    let shared: BTreeSet<Vec<String>> = sharing
        .iter()
        .filter(|&(_, &n)| n > 1)
        .map(|(ns, _)| ns.to_vec())
        .collect();
    let wanted: Vec<Vec<String>> = ir
        .modules
        .iter()
        .zip(&namespaces)
        .map(|(m, ns)| {
            let mut path = ns.clone();
            if sharing.get(ns.as_slice()).is_some_and(|&n| n > 1) {
                path.push(naming::snake(&m.stem));
            }
            path
        })
        .collect();
    // Taken: every file's module, every shared namespace module, and beside
    // each file's module the names of its types that look like modules
    // (`_2fa`: a type and a module share Rust's type namespace). A file's
    // module may be the parent of other modules (`a` and `a.b`).
    let mut taken: BTreeSet<Vec<String>> = shared.iter().cloned().collect();
    let names = types::def_names(ir);
    for (module, path) in ir.modules.iter().zip(&wanted) {
        for &id in &module.defs {
            let name = &names[id.0 as usize];
            if !name.chars().any(|c| c.is_ascii_uppercase()) {
                let mut beside = path.clone();
                beside.push(name.clone());
                taken.insert(beside);
            }
        }
    }
    // A namespace as written is placed before the submodules derived from
    // file stems, so only a derived name ever moves aside.
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| wanted[i].len() != namespaces[i].len());
    let mut paths = vec![Vec::new(); wanted.len()];
    for i in order {
        let mut path = wanted[i].clone();
        if taken.contains(&path) {
            let last = path.pop().unwrap_or_default();
            let mut n = 2;
            loop {
                path.push(format!("{last}_{n}"));
                if !taken.contains(&path) {
                    break;
                }
                path.pop();
                n += 1;
            }
        }
        taken.insert(path.clone());
        paths[i] = path;
    }
    Layout {
        paths,
        namespaces,
        shared,
    }
}

/// The file a module's code is written to: its path joined with dots
/// (`transit.fares.rs`). A top-level module named `mod` would be written over
/// by `mod.rs`, so its file is `mod_.rs`.
fn module_file_name(path: &[String]) -> String {
    let joined = path.join(".");
    if joined == "mod" {
        "mod_.rs".to_string()
    } else {
        format!("{joined}.rs")
    }
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

/// `mod.rs`: nested `pub mod`s that `include!` each module's file, and in
/// the module of a shared namespace a glob re-export of each of its files.
fn mod_rs(layout: &Layout, options: &Options) -> String {
    #[derive(Default)]
    struct Node {
        file: Option<String>,
        /// The submodules that hold a shared namespace's files.
        members: Vec<String>,
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    fn walk<'n>(mut node: &'n mut Node, path: &[String]) -> &'n mut Node {
        for segment in path {
            node = node.children.entry(segment.clone()).or_default();
        }
        node
    }
    for path in &layout.paths {
        walk(&mut root, path).file = Some(module_file_name(path));
    }
    for (file, path) in layout.paths.iter().enumerate() {
        if let Some((last, parent)) = path.split_last() {
            if layout.namespaces[file] == parent && layout.shared.contains(parent) {
                walk(&mut root, parent).members.push(last.clone());
            }
        }
    }
    fn write(out: &mut String, node: &Node, indent: usize) {
        let pad = "    ".repeat(indent);
        if let Some(file) = &node.file {
            out.push_str(&format!("{pad}include!(\"{file}\");\n"));
        }
        // Names two of the files define are ambiguous here, an error only
        // where one is used; `namespace::stem::Name` always works.
        for name in &node.members {
            let ident = naming::ident(name);
            out.push_str(&format!("{pad}#[allow(ambiguous_glob_reexports)]\n"));
            out.push_str(&format!("{pad}pub use self::{ident}::*;\n"));
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
    if options.serde {
        // A clear error when the runtime's `serde` feature is off.
        out.push_str(&format!(
            "{}::__require_serde_feature!();\n\n",
            options.runtime_path
        ));
    }
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

    /// Generates from files written to a fresh directory; the first is the
    /// root and includes the others.
    fn generate_files(files: &[(&str, &str)]) -> Vec<GeneratedFile> {
        let dir = std::env::temp_dir().join(format!(
            "thriftgen-layout-{}-{}",
            std::process::id(),
            files[0].0
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let analysis = crate::analyze(&[dir.join(files[0].0)], &[&dir]);
        let checked = analysis.into_result().expect("valid IDL");
        let generated = generate(&checked.ir, &checked.sources, &Options::default()).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        generated
    }

    fn names(files: &[GeneratedFile]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_namespace_that_names_a_submodule_of_a_shared_one_moves_aside() {
        let files = generate_files(&[
            (
                "root.thrift",
                "namespace rs x\ninclude \"a.thrift\"\ninclude \"other.thrift\"\n\
                 struct R { 1: a.A a, 2: other.O o }\n",
            ),
            ("a.thrift", "namespace rs x.root\nstruct A {}\n"),
            ("other.thrift", "namespace rs x\nstruct O {}\n"),
        ]);
        // `x.root` as written wins; root.thrift's derived submodule moves.
        assert_eq!(
            names(&files),
            ["x.root_2.rs", "x.root.rs", "x.other.rs", "mod.rs"]
        );
        let root = &files[0].contents;
        assert!(root.contains("super::super::x::root::A"), "{root}");
        assert!(root.contains("super::super::x::other::O"), "{root}");
        let mod_rs = &files[3].contents;
        assert!(mod_rs.contains("pub use self::root_2::*;"), "{mod_rs}");
        assert!(!mod_rs.contains("pub use self::root::*;"), "{mod_rs}");
    }

    #[test]
    fn a_namespace_of_one_file_keeps_its_layout_and_may_hold_others() {
        let files = generate_files(&[
            (
                "parent.thrift",
                "namespace rs a\ninclude \"child.thrift\"\nstruct P { 1: child.C c }\n",
            ),
            ("child.thrift", "namespace rs a.b\nstruct C {}\n"),
        ]);
        assert_eq!(names(&files), ["a.rs", "a.b.rs", "mod.rs"]);
        assert!(files[0].contents.contains("super::a::b::C"));
        assert!(!files[2].contents.contains("pub use"));
    }

    #[test]
    fn keyword_file_names_agree_between_mod_rs_and_the_file() {
        let files = generate_files(&[
            (
                "type.thrift",
                "include \"self.thrift\"\nstruct T { 1: self.S s }\n",
            ),
            ("self.thrift", "struct S {}\n"),
        ]);
        assert_eq!(names(&files), ["type.rs", "self.rs", "mod.rs"]);
        assert!(files[0].contents.contains("super::self_::S"));
        let mod_rs = &files[2].contents;
        assert!(
            mod_rs.contains("pub mod r#type {\n    include!(\"type.rs\");"),
            "{mod_rs}"
        );
        assert!(
            mod_rs.contains("pub mod self_ {\n    include!(\"self.rs\");"),
            "{mod_rs}"
        );
    }

    #[test]
    fn definitions_that_convert_alike_get_numbered() {
        let text = generate_text(
            "struct foo_bar {}\nstruct FooBar {}\nconst i32 max = 1\nconst i32 MAX = 2\n",
            &Options::default(),
        )
        .unwrap();
        assert!(text.contains("pub struct FooBar {"), "{text}");
        assert!(text.contains("pub struct FooBar1 {"), "{text}");
        assert!(text.contains("pub const MAX: i32 = 1i32;"), "{text}");
        assert!(text.contains("pub const MAX_3: i32 = 2i32;"), "{text}");
    }
}
