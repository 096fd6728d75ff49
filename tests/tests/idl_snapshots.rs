//! Snapshots over the IDL corpus: the checked IR of every file in
//! `idl/good/` and the rendered diagnostics of every file in `idl/bad/`.
//!
//! Update with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use thriftgen::diag::{Format, Renderer};
use thriftgen_tests::{relative, workspace_root};

fn analyze(path: &std::path::Path) -> thriftgen::Analysis {
    // Paths relative to the workspace root keep snapshots machine-independent.
    std::env::set_current_dir(workspace_root()).expect("workspace root exists");
    thriftgen::analyze(&[relative(path)], &[] as &[&str])
}

#[test]
fn good_files_check_clean_and_their_ir_is_stable() {
    insta::glob!("../../idl/good", "**/*.thrift", |path| {
        let analysis = analyze(path);
        let warnings = Renderer::default().render_all(&analysis.sources, &analysis.diagnostics);
        assert!(
            !analysis.has_errors(),
            "{} has errors:\n{warnings}",
            path.display()
        );
        let sources = &analysis.sources;
        let ir = analysis
            .ir
            .dump(&|s| sources.file(s.file).line_col(s.start));
        insta::assert_snapshot!(format!("{warnings}---\n{ir}"));
    });
}

#[test]
fn bad_files_report_errors_like_rustc() {
    insta::glob!("../../idl/bad", "*.thrift", |path| {
        let analysis = analyze(path);
        assert!(
            analysis.has_errors(),
            "{} should have errors",
            path.display()
        );
        let full = Renderer::default().render_all(&analysis.sources, &analysis.diagnostics);
        let short = Renderer {
            format: Format::Short,
            color: false,
        }
        .render_all(&analysis.sources, &analysis.diagnostics);
        insta::assert_snapshot!(format!("{full}---\n{short}"));
    });
}

#[test]
fn every_bad_file_has_a_distinct_first_error() {
    // One file per error kind: the corpus is only useful if each file shows
    // a different problem.
    std::env::set_current_dir(workspace_root()).expect("workspace root exists");
    let mut seen = std::collections::HashMap::new();
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join("idl/bad"))
        .expect("idl/bad exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "thrift"))
        .collect();
    files.sort();
    for path in &files {
        let analysis = analyze(path);
        let first = analysis
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| kind_of(&d.message))
            .unwrap_or_default();
        if let Some(other) = seen.insert(first.clone(), path.clone()) {
            panic!(
                "{} and {} both start with the same kind of error: {first}",
                other.display(),
                path.display()
            );
        }
    }
    assert!(
        seen.len() >= 25,
        "only {} error kinds in idl/bad",
        seen.len()
    );
}

/// The message with its specifics (names in backticks, numbers) blanked, so
/// two files only count as distinct if the kind of error differs. Removed
/// IDL constructs keep their name: `senum` and `slist` are different errors.
fn kind_of(message: &str) -> String {
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        let named = i % 2 == 1;
        if named && (REMOVED.contains(&part) || part.ends_with("_namespace")) {
            out.push_str(&format!("`{part}`"));
        } else if named {
            out.push_str("`_`");
        } else {
            push_blanking_digits(&mut out, part);
        }
    }
    out
}

const REMOVED: &[&str] = &["senum", "slist", "include", "namespace"];

fn push_blanking_digits(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
}

#[test]
fn generated_code_is_stable() {
    insta::glob!("../../idl/good", "*.thrift", |path| {
        let analysis = analyze(path);
        let checked = analysis.into_result().expect("good files are valid");
        let files =
            thriftgen::codegen::generate(&checked.ir, &checked.sources, &Default::default())
                .expect("generation succeeds");
        // The root module's file; included modules have snapshots of their own.
        let origin = format!("from `{}`.", checked.sources.file(checked.ir.roots[0]).name);
        let file = files
            .iter()
            .find(|f| {
                f.contents
                    .lines()
                    .next()
                    .is_some_and(|l| l.contains(&origin))
            })
            .expect("a file for the root module");
        insta::assert_snapshot!(file.contents);
    });
}

#[test]
fn async_handlers_are_stable() {
    // The async form of the service file: async traits, `AsyncProcessor`s.
    let analysis = analyze(&workspace_root().join("idl/good/services.thrift"));
    let checked = analysis.into_result().expect("valid");
    let options = thriftgen::codegen::Options {
        async_handlers: true,
        ..Default::default()
    };
    let files = thriftgen::codegen::generate(&checked.ir, &checked.sources, &options)
        .expect("generation succeeds");
    let file = files
        .iter()
        .find(|f| f.name == "services.rs")
        .expect("services.rs");
    insta::assert_snapshot!(file.contents);
}

#[test]
fn files_sharing_a_namespace_are_its_submodules() {
    // transit_fares.thrift (namespace `transit.fares`) includes both files
    // of `namespace rs transit`.
    let analysis = analyze(&workspace_root().join("idl/good/transit_fares.thrift"));
    let checked = analysis.into_result().expect("valid");
    let files = thriftgen::codegen::generate(&checked.ir, &checked.sources, &Default::default())
        .expect("generation succeeds");
    let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "transit.fares.rs",
            "transit.transit_lines.rs",
            "transit.transit_stops.rs",
            "mod.rs"
        ]
    );
    let mod_rs = files.iter().find(|f| f.name == "mod.rs").expect("mod.rs");
    insta::assert_snapshot!(mod_rs.contents);
}
