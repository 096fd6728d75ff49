//! `thriftgen audit OLD NEW`: exit codes, formats and include directories,
//! over the pairs of `idl/audit/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn thriftgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thriftgen"))
        .args(args)
        .output()
        .expect("the thriftgen binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../idl/audit")
}

fn pair(name: &str) -> (String, String) {
    let file = |v: &str| {
        dir()
            .join(format!("{name}.{v}.thrift"))
            .to_string_lossy()
            .into_owned()
    };
    (file("old"), file("new"))
}

/// Pairs whose changes are warnings only: the audit passes.
const WARNING_PAIRS: &[&str] = &[
    "const-changed",
    "const-removed",
    "default-changed",
    "enum-value-renamed",
    "exception-added",
    "extends-added",
    "field-renamed",
    "namespace-changed",
    "param-added",
    "requiredness-relaxed",
    "union-variant-added",
];

/// Pairs named after another rule than the one they show.
fn code_of(name: &str) -> String {
    let rule = match name {
        "include-changed" | "param-type-changed" => "field-type-changed",
        "required-param-added" => "required-field-added",
        other => other,
    };
    format!("audit::{rule}")
}

fn pairs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("idl/audit exists")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".old.thrift").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() > 30, "found only {names:?}");
    names
}

#[test]
fn breaking_pairs_exit_1_warning_pairs_and_compatible_pairs_exit_0() {
    for name in pairs() {
        let (old, new) = pair(&name);
        let out = thriftgen(&["audit", &old, &new]);
        let err = text(&out.stderr);
        if name.starts_with("compatible-") {
            assert_eq!(out.status.code(), Some(0), "{name}:\n{err}");
            assert!(err.is_empty(), "{name} printed:\n{err}");
            continue;
        }
        let code = code_of(&name);
        if WARNING_PAIRS.contains(&name.as_str()) {
            assert_eq!(out.status.code(), Some(0), "{name}:\n{err}");
            assert!(
                err.contains(&format!("warning[{code}]: ")),
                "{name}:\n{err}"
            );
            assert!(
                !err.contains("error[") && !err.contains("\nerror:"),
                "{name}:\n{err}"
            );
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}:\n{err}");
            assert!(err.contains(&format!("error[{code}]: ")), "{name}:\n{err}");
            assert!(err.contains("breaking change"), "{name}:\n{err}");
        }
    }
}

#[test]
fn full_format_shows_both_versions() {
    let (old, new) = pair("enum-value-renumbered");
    let out = thriftgen(&["audit", &old, &new]);
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "error[audit::enum-value-renumbered]: `Status.CLOSED` renumbered from 2 to 3\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("enum-value-renumbered.new.thrift:4:3\n"),
        "{err}"
    );
    assert!(
        err.contains("enum-value-renumbered.old.thrift:3:3\n"),
        "{err}"
    );
    assert!(err.contains("^^^ now 3") || err.contains("now 3"), "{err}");
    assert!(err.contains("was 2"), "{err}");
    assert!(err.ends_with("error: 1 breaking change\n"), "{err}");
    assert!(!err.contains('\x1b'), "no colour off a terminal");
    let coloured = thriftgen(&["audit", "--color", "always", &old, &new]);
    assert!(text(&coloured.stderr).contains('\x1b'));
}

#[test]
fn short_format_is_one_line_per_finding() {
    let (old, new) = pair("typedef-changed");
    let out = thriftgen(&["audit", "--format", "short", &old, &new]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].ends_with(
            "typedef-changed.new.thrift:1:1: error[audit::typedef-changed]: \
             typedef `UserId` changed from `i32` to `i64`"
        ),
        "{err}"
    );
    assert!(
        lines[1].contains("error[audit::field-type-changed]"),
        "{err}"
    );
}

#[test]
fn json_is_one_array_on_stdout() {
    let (old, new) = pair("exception-removed");
    let out = thriftgen(&["audit", "--format", "json", &old, &new]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let json = text(&out.stdout);
    assert!(json.starts_with("[\n  {\"severity\": \"error\", \"code\": \"audit::exception-removed\", \"message\": \"exception `denied` (id 2) removed from method `Files.read`\", \"new\": {\"file\": "), "{json}");
    assert!(
        json.contains(
            "exception-removed.new.thrift\", \"line\": 10, \"column\": 3}, \"old\": {\"file\": "
        ),
        "{json}"
    );
    assert!(
        json.ends_with("exception-removed.old.thrift\", \"line\": 10, \"column\": 60}}\n]\n"),
        "{json}"
    );

    let (old, new) = pair("compatible-include");
    let out = thriftgen(&["audit", "--format", "json", &old, &new]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "[]\n");
}

#[test]
fn an_invalid_version_exits_2_with_its_check_report() {
    let tmp = std::env::temp_dir().join(format!("thriftgen-audit-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let bad = tmp.join("bad.thrift");
    std::fs::write(&bad, "struct A {\n  1: Missing m\n}\n").expect("write");
    let (old, _) = pair("field-removed");
    let out = thriftgen(&["audit", &old, bad.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: cannot find type `Missing`\n"),
        "{err}"
    );
    assert!(err.contains("bad.thrift:2:6\n"), "{err}");
    assert!(
        err.ends_with("error: aborting due to 1 previous error\n"),
        "{err}"
    );

    let missing = tmp.join("missing.thrift");
    let out = thriftgen(&["audit", missing.to_str().expect("utf-8 path"), &old]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn include_dirs_apply_to_both_versions() {
    // Each version includes `shared.thrift`, found only through its `-I` dir.
    let tmp = std::env::temp_dir().join(format!("thriftgen-audit-inc-{}", std::process::id()));
    for (version, ty) in [("old", "i32"), ("new", "i64")] {
        let d = tmp.join(version);
        std::fs::create_dir_all(d.join("inc")).expect("temp dir");
        std::fs::write(
            d.join("inc/shared.thrift"),
            format!("struct Id {{\n  1: required {ty} value\n}}\n"),
        )
        .expect("write");
        std::fs::write(
            d.join("main.thrift"),
            "include \"shared.thrift\"\n\nstruct User {\n  1: required shared.Id id\n}\n",
        )
        .expect("write");
    }
    let path = |p: &str| tmp.join(p).to_string_lossy().into_owned();
    let out = thriftgen(&[
        "audit",
        "-I",
        &path("old/inc"),
        "-I",
        &path("new/inc"),
        &path("old/main.thrift"),
        &path("new/main.thrift"),
    ]);
    let err = text(&out.stderr);
    // Both versions find the first `-I` dir's file: nothing changed.
    assert_eq!(out.status.code(), Some(0), "{err}");

    let out = thriftgen(&[
        "audit",
        "-I",
        &path("new/inc"),
        &path("old/main.thrift"),
        &path("new/main.thrift"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // Next to each main file: the versions differ.
    for version in ["old", "new"] {
        std::fs::copy(
            tmp.join(version).join("inc/shared.thrift"),
            tmp.join(version).join("shared.thrift"),
        )
        .expect("copy");
    }
    let out = thriftgen(&["audit", &path("old/main.thrift"), &path("new/main.thrift")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[audit::field-type-changed]: field 1 of struct `Id`"),
        "{err}"
    );
}

#[test]
fn audit_is_documented_in_the_help() {
    let out = thriftgen(&["audit", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for needle in ["OLD", "NEW", "--format", "json", "-I", "Exit status"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let out = thriftgen(&["--help"]);
    assert!(text(&out.stdout).contains("audit"));
}
