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

/// Audits two versions given as text.
fn audit_text(old: &str, new: &str) -> Audit {
    let check = |name: &str, text: &str| {
        thriftgen::analyze_source(name, text, &[] as &[&str])
            .into_result()
            .unwrap_or_else(|e| panic!("{name} does not check:\n{e}"))
    };
    audit::audit(&check("v.old.thrift", old), &check("v.new.thrift", new))
}

#[test]
fn a_renamed_struct_is_a_removal_and_changes_the_fields_that_use_it() {
    let audit = audit_text(
        "struct A { 1: i32 x }\nstruct B { 1: A a }\n",
        "struct C { 1: i32 x }\nstruct B { 1: C a }\n",
    );
    assert_eq!(
        codes(&audit),
        [audit::DEFINITION_REMOVED, audit::FIELD_TYPE_CHANGED]
    );
}

#[test]
fn typedef_chains_and_containers_are_compared_by_what_they_stand_for() {
    let audit = audit_text(
        "enum E { A = 1 }\nstruct S { 1: map<string, list<E>> m\n 2: set<i64> s }\n",
        "enum E { A = 1 }\ntypedef E F\ntypedef list<F> L\ntypedef i64 I\ntypedef I J\n\
         struct S { 1: map<string, L> m\n 2: set<J> s }\n",
    );
    assert_eq!(codes(&audit), [] as [&str; 0]);
    let audit = audit_text(
        "struct S { 1: map<string, list<i32>> m }\n",
        "struct S { 1: map<string, set<i32>> m }\n",
    );
    assert_eq!(codes(&audit), [audit::FIELD_TYPE_CHANGED]);
}

#[test]
fn a_method_removed_from_a_base_service_is_removed_from_its_children() {
    let audit = audit_text(
        "service Base { void ping() }\nservice Api extends Base { void call() }\n",
        "service Base { }\nservice Api extends Base { void call() }\n",
    );
    // Once from `Base` itself, once from `Api`, which served it too.
    assert_eq!(
        codes(&audit),
        [audit::METHOD_REMOVED, audit::METHOD_REMOVED]
    );
}

#[test]
fn a_namespace_added_is_a_warning_with_a_place_in_the_new_version() {
    let audit = audit_text(
        "struct S { 1: i32 x }\n",
        "namespace rs shop.v2\nstruct S { 1: i32 x }\n",
    );
    assert_eq!(codes(&audit), [audit::NAMESPACE_CHANGED]);
    assert!(!audit.is_breaking());
    let finding = &audit.findings[0];
    assert!(finding.old.is_none());
    let new = finding.new.expect("the namespace line");
    assert_eq!(audit.sources.snippet(new), "namespace rs shop.v2");
}

#[test]
fn enum_values_match_by_name_before_number() {
    // Swapping two numbers renumbers both values, it does not rename them.
    let audit = audit_text("enum E { A = 1, B = 2 }\n", "enum E { A = 2, B = 1 }\n");
    assert_eq!(
        codes(&audit),
        [audit::ENUM_VALUE_RENUMBERED, audit::ENUM_VALUE_RENUMBERED]
    );
}

#[test]
fn a_return_type_changed_to_void_breaks_and_a_field_keeps_its_default() {
    let audit = audit_text(
        "service S { i32 f() }\nstruct T { 1: optional i32 n = 3 }\n",
        "service S { void f() }\nstruct T { 1: optional i32 n = 3 }\n",
    );
    assert_eq!(codes(&audit), [audit::RETURN_TYPE_CHANGED]);
}
