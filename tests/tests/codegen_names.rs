//! No valid IDL makes code generation fail: file names, namespaces and
//! identifiers of every shape (hyphens, leading digits, Rust keywords,
//! non-ASCII letters, names that collide once converted, namespaces several
//! files share) generate files that parse as Rust, with a `mod.rs` that
//! declares every one of them.

use proptest::prelude::*;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Names Rust or the generator treats specially, and ordinary ones.
const SPECIAL: &[&str] = &[
    "type", "self", "Self", "super", "crate", "fn", "match", "mod", "r", "_", "__", "_1", "a_",
    "gen", "try", "Unknown", "unknown", "FooBar", "foo_bar", "fooBar", "FOO_BAR", "x2", "V",
];

fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(SPECIAL).prop_map(str::to_string),
        "[A-Za-z_][A-Za-z0-9_]{0,6}",
    ]
    .prop_filter("not a Thrift keyword", |s| !is_thrift_keyword(s))
}

fn stem() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "simple-service",
                "include-child",
                "2fa",
                "type",
                "self",
                "crate",
                "a b",
                "café",
                "über-type",
                "x.y",
                "-",
                "_",
                "transit",
                "Transit",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-zA-Z0-9_ é-]{1,8}",
    ]
}

/// A `namespace rs`, from a small pool so that files often share one.
fn namespace() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        proptest::sample::select(
            &[
                "transit",
                "Transit",
                "transit.fares",
                "a.b",
                "a",
                "type",
                "self.x",
                "r#x",
            ][..]
        )
        .prop_map(str::to_string),
        proptest::collection::vec(identifier(), 1..3).prop_map(|s| s.join(".")),
    ])
    .prop_filter("an IDL identifier", |ns| {
        ns.as_deref().is_none_or(|ns| {
            ns.split('.')
                .all(|s| is_identifier(s) && !is_thrift_keyword(s))
        })
    })
}

#[derive(Clone, Debug)]
struct File {
    stem: String,
    namespace: Option<String>,
    names: Vec<String>,
}

fn file() -> impl Strategy<Value = File> {
    (
        stem(),
        namespace(),
        proptest::collection::vec(identifier(), 8),
    )
        .prop_map(|(stem, namespace, names)| File {
            stem,
            namespace,
            names,
        })
}

fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_thrift_keyword(s: &str) -> bool {
    thriftgen::syntax::KEYWORDS.contains(&s) || s.ends_with("_namespace")
}

/// The IDL text of `file`: every kind of definition, named from its pool
/// (distinct names only; a duplicate is an IDL error, not this test's
/// subject), and fields referring to the structs of `refs` (the prefixes of
/// included files that IDL can name).
fn idl(file: &File, includes: &[String], refs: &[String]) -> String {
    let mut out = String::new();
    if let Some(ns) = &file.namespace {
        let _ = writeln!(out, "namespace rs {ns}");
    }
    for inc in includes {
        let _ = writeln!(out, "include \"{inc}.thrift\"");
    }
    let mut names: Vec<&String> = Vec::new();
    for n in &file.names {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let name = |i: usize| names[i % names.len()].as_str();
    // Type names must be distinct from each other; field and value names
    // only within their parent.
    let mut types: Vec<&str> = Vec::new();
    for n in &names {
        if types.len() < 5 {
            types.push(n);
        }
    }
    while types.len() < 5 {
        types.push(["S0", "U0", "E0", "C0", "V0"][types.len()]);
    }
    let _ = writeln!(out, "struct {} {{", types[0]);
    for (i, field) in names.iter().take(4).enumerate() {
        let _ = writeln!(out, "  {}: optional i32 {field}", i + 1);
    }
    for (i, prefix) in refs.iter().enumerate() {
        let _ = writeln!(out, "  {}: optional {prefix}.Shared ref{i}", 10 + i);
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "struct Shared {{ 1: optional {} inner }}", types[0]);
    let _ = writeln!(out, "union {} {{", types[1]);
    for (i, field) in names.iter().skip(1).take(3).enumerate() {
        let _ = writeln!(out, "  {}: string {field}", i + 1);
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "union Nothing {{}}");
    let _ = writeln!(
        out,
        "enum {} {{ {} }}",
        types[2],
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(out, "const i32 {} = 1", types[3]);
    let _ = writeln!(
        out,
        "service {} {{ void {}(1: i32 {}) oneway void {}_2() }}",
        types[4],
        name(1),
        name(2),
        name(3)
    );
    out
}

fn temp_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "thriftgen-names-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_valid_idl_generates_rust_that_parses(
        root in file(),
        others in proptest::collection::vec(file(), 0..4),
        keep in any::<bool>(),
    ) {
        let dir = temp_dir();
        // One file per distinct stem: the root includes all the others.
        let mut stems: Vec<String> = Vec::new();
        let mut written = Vec::new();
        for other in &others {
            if other.stem == root.stem || stems.contains(&other.stem) {
                continue;
            }
            stems.push(other.stem.clone());
            std::fs::write(
                dir.join(format!("{}.thrift", other.stem)),
                idl(other, &[], &[]),
            )
            .expect("write");
            written.push(other.clone());
        }
        let refs: Vec<String> = stems
            .iter()
            .filter(|s| is_identifier(s) && !is_thrift_keyword(s))
            .cloned()
            .collect();
        let root_path = dir.join(format!("{}.thrift", root.stem));
        std::fs::write(&root_path, idl(&root, &stems, &refs)).expect("write");

        let analysis = thriftgen::analyze(&[&root_path], &[&dir]);
        let checked = match analysis.into_result() {
            Ok(checked) => checked,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                // Only a few generated names are not valid IDL (a value
                // name repeated in an enum, say); the rest must check.
                prop_assume!(false, "{}", e);
                unreachable!()
            }
        };
        let options = thriftgen::codegen::Options {
            keep_unknown_fields: keep,
            // serde's attributes and enum impls parse too.
            serde: keep,
            ..Default::default()
        };
        let files = thriftgen::codegen::generate(&checked.ir, &checked.sources, &options)
            .expect("generation never fails on valid IDL");
        let _ = std::fs::remove_dir_all(&dir);
        prop_assert_eq!(files.len(), written.len() + 2);
        let mod_rs = &files.last().expect("mod.rs").contents;
        let mut seen = std::collections::HashSet::new();
        for file in &files {
            prop_assert!(seen.insert(file.name.clone()), "{} twice", file.name);
            prop_assert!(
                file.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'),
                "file name {}", file.name
            );
            if let Err(e) = syn::parse_file(&file.contents) {
                prop_assert!(false, "{} does not parse: {e}\n{}", file.name, file.contents);
            }
            if file.name != "mod.rs" {
                let include = format!("include!(\"{}\");", file.name);
                prop_assert!(mod_rs.contains(&include), "{}\n{mod_rs}", file.name);
            }
        }
    }
}
