//! `thriftgen::audit` over the pairs of `idl/audit/`: every breaking pair
//! reports exactly its rule, every compatible pair reports no error, and
//! every rule has a pair.
//!
//! Update the snapshots with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p thriftgen --test audit`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use thriftgen::audit::{self, Audit};
use thriftgen::diag::{Format, Renderer, Severity};

/// `idl/audit`, relative to this package (tests run in its directory), so
/// that file names in reports do not depend on the machine.
const DIR: &str = "../idl/audit";

/// Every pair of `idl/audit/` (`NAME.old.thrift` / `NAME.new.thrift`) and
/// the codes its audit must report, in order. Pairs named `compatible-*`
/// must report nothing.
const PAIRS: &[(&str, &[&str])] = &[
    ("compatible-additions", &[]),
    ("compatible-include", &[]),
    ("compatible-reserved", &[]),
    ("compatible-typedef", &[]),
    ("const-changed", &[audit::CONST_CHANGED]),
    ("const-removed", &[audit::CONST_REMOVED]),
    ("default-changed", &[audit::DEFAULT_CHANGED]),
    ("definition-kind-changed", &[audit::DEFINITION_KIND_CHANGED]),
    ("definition-removed", &[audit::DEFINITION_REMOVED]),
    ("enum-value-removed", &[audit::ENUM_VALUE_REMOVED]),
    ("enum-value-renamed", &[audit::ENUM_VALUE_RENAMED]),
    ("enum-value-renumbered", &[audit::ENUM_VALUE_RENUMBERED]),
    ("exception-added", &[audit::EXCEPTION_ADDED]),
    ("exception-removed", &[audit::EXCEPTION_REMOVED]),
    ("extends-added", &[audit::EXTENDS_ADDED]),
    ("extends-changed", &[audit::EXTENDS_CHANGED]),
    ("field-id-reused", &[audit::FIELD_ID_REUSED]),
    ("field-removed", &[audit::FIELD_REMOVED]),
    ("field-renamed", &[audit::FIELD_RENAMED]),
    ("field-type-changed", &[audit::FIELD_TYPE_CHANGED]),
    (
        "include-changed",
        &[audit::FIELD_TYPE_CHANGED, audit::FIELD_TYPE_CHANGED],
    ),
    ("method-removed", &[audit::METHOD_REMOVED]),
    ("namespace-changed", &[audit::NAMESPACE_CHANGED]),
    ("oneway-changed", &[audit::ONEWAY_CHANGED]),
    ("param-added", &[audit::PARAM_ADDED]),
    ("param-removed", &[audit::PARAM_REMOVED]),
    ("param-type-changed", &[audit::FIELD_TYPE_CHANGED]),
    ("required-field-added", &[audit::REQUIRED_FIELD_ADDED]),
    ("required-field-removed", &[audit::REQUIRED_FIELD_REMOVED]),
    ("required-param-added", &[audit::REQUIRED_FIELD_ADDED]),
    ("requiredness-relaxed", &[audit::REQUIREDNESS_RELAXED]),
    ("requiredness-stricter", &[audit::REQUIREDNESS_STRICTER]),
    ("reserved-id-reused", &[audit::RESERVED_ID_REUSED]),
    ("return-type-changed", &[audit::RETURN_TYPE_CHANGED]),
    ("struct-kind-changed", &[audit::STRUCT_KIND_CHANGED]),
    (
        "typedef-changed",
        &[audit::TYPEDEF_CHANGED, audit::FIELD_TYPE_CHANGED],
    ),
    ("union-variant-added", &[audit::UNION_VARIANT_ADDED]),
];

fn path(name: &str, version: &str) -> PathBuf {
    Path::new(DIR).join(format!("{name}.{version}.thrift"))
}

/// Checks both versions of pair `name` and audits them.
fn run(name: &str) -> Audit {
    let check = |version: &str| {
        thriftgen::check(&[path(name, version)], &[] as &[&str])
            .unwrap_or_else(|e| panic!("{name}.{version}.thrift does not check:\n{e}"))
    };
    audit::audit(&check("old"), &check("new"))
}

fn codes(audit: &Audit) -> Vec<&'static str> {
    audit.findings.iter().map(|f| f.code()).collect()
}

#[test]
fn every_pair_reports_exactly_its_rules() {
    let mut failures = Vec::new();
    for &(name, expected) in PAIRS {
        let audit = run(name);
        let found = codes(&audit);
        if found != expected {
            failures.push(format!(
                "{name}: expected {expected:?}, found {found:?}\n{}",
                audit.render(&Renderer::default())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn breaking_pairs_break_and_compatible_pairs_do_not() {
    for &(name, expected) in PAIRS {
        let audit = run(name);
        let breaks = expected.iter().any(|c| {
            audit::RULES
                .iter()
                .any(|r| r.code == *c && r.severity == Severity::Error)
        });
        assert_eq!(audit.is_breaking(), breaks, "{name}");
        if name.starts_with("compatible-") {
            assert!(audit.findings.is_empty(), "{name}: {:?}", codes(&audit));
        }
    }
}

#[test]
fn every_rule_has_a_pair_and_every_pair_is_listed() {
    let covered: BTreeSet<&str> = PAIRS.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let missing: Vec<&str> = audit::RULES
        .iter()
        .map(|r| r.code)
        .filter(|c| !covered.contains(c) && *c != audit::MODULE_REMOVED)
        .collect();
    assert!(missing.is_empty(), "rules without a pair: {missing:?}");

    let listed: BTreeSet<&str> = PAIRS.iter().map(|(n, _)| *n).collect();
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(DIR).expect("idl/audit exists") {
        let name = entry.expect("readable entry").file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".old.thrift") {
            assert!(path(stem, "new").exists(), "{stem} has no new version");
            on_disk.insert(stem.to_string());
        }
    }
    let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).collect();
    assert_eq!(listed, on_disk, "PAIRS and idl/audit/ differ");
}

#[test]
fn every_finding_of_a_change_points_into_both_versions() {
    for &(name, _) in PAIRS {
        let audit = run(name);
        for f in &audit.findings {
            let file = |span: Option<thriftgen::source::Span>| {
                span.map(|s| audit.sources.file(s.file).name.clone())
            };
            if let Some(new) = file(f.new) {
                assert!(new.contains("new"), "{name}: new label in {new}");
            }
            if let Some(old) = file(f.old) {
                assert!(old.contains("old"), "{name}: old label in {old}");
            }
            // Only an addition lacks an old place, only a removal a new one.
            assert!(f.new.is_some() || f.old.is_some(), "{name}: {f:?}");
        }
    }
}

#[test]
fn an_included_file_that_is_no_longer_included_is_reported() {
    let old =
        thriftgen::check(&[path("compatible-include", "old")], &[] as &[&str]).expect("old checks");
    let new = thriftgen::analyze_source("x.new.thrift", "struct Route {}\n", &[] as &[&str])
        .into_result()
        .expect("new checks");
    let audit = audit::audit(&old, &new);
    let found = codes(&audit);
    assert!(found.contains(&audit::MODULE_REMOVED), "{found:?}");
    assert!(
        audit.is_breaking(),
        "its fields and the service are gone too"
    );
}

#[test]
fn json_lists_every_finding_with_both_places() {
    let audit = run("field-type-changed");
    let json = audit.to_json();
    let expected = r#"[
  {"severity": "error", "code": "audit::field-type-changed", "message": "field 2 of struct `User` changed type from `i32` to `i64`", "new": {"file": "../idl/audit/field-type-changed.new.thrift", "line": 3, "column": 3}, "old": {"file": "../idl/audit/field-type-changed.old.thrift", "line": 3, "column": 3}}
]
"#;
    assert_eq!(json, expected);
    assert_eq!(run("compatible-typedef").to_json(), "[]\n");
    let removed = run("definition-removed").to_json();
    assert!(removed.contains(r#""new": null, "old": {"#), "{removed}");
}

#[test]
fn json_strings_are_escaped() {
    let old = thriftgen::analyze_source(
        "q\"old\".thrift",
        "const string S = \"a\\\"b\"\n",
        &[] as &[&str],
    )
    .into_result()
    .expect("old checks");
    let new = thriftgen::analyze_source(
        "q\"new\".thrift",
        "const string S = \"c\\td\"\n",
        &[] as &[&str],
    )
    .into_result()
    .expect("new checks");
    let json = audit::audit(&old, &new).to_json();
    assert!(json.contains(r#""file": "q\"new\".thrift""#), "{json}");
    assert!(!json.contains('\t'), "{json}");
}

#[test]
fn rendered_reports_are_stable() {
    for name in [
        "field-id-reused",
        "exception-removed",
        "include-changed",
        "requiredness-relaxed",
        "namespace-changed",
        "definition-removed",
    ] {
        let audit = run(name);
        let full = audit.render(&Renderer::default());
        let short = audit.render(&Renderer {
            format: Format::Short,
            color: false,
        });
        insta::assert_snapshot!(name, format!("{full}---\n{short}"));
    }
}
