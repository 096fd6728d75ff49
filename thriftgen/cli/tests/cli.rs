//! The `thriftgen` command's contract: exit codes, output formats, help.

use std::path::PathBuf;
use std::process::{Command, Output};

fn thriftgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thriftgen"))
        .args(args)
        .output()
        .expect("the thriftgen binary runs")
}

/// Writes `text` to a fresh file under the system temp dir.
fn idl(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thriftgen-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write idl");
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn valid_file_exits_0_and_prints_nothing() {
    let path = idl("valid.thrift", "struct User { 1: required string name }\n");
    let out = thriftgen(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
}

#[test]
fn warnings_alone_exit_0() {
    let path = idl("warn.thrift", "struct User { string name }\n");
    let out = thriftgen(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("warning: field `name` has no id"), "{err}");
    assert!(err.ends_with("warning: 1 warning emitted\n"), "{err}");
}

#[test]
fn errors_exit_1_with_rustc_style_report_and_no_colour_off_a_terminal() {
    let path = idl(
        "dup.thrift",
        "struct User {\n  1: string name\n  1: i32 age\n}\n",
    );
    let out = thriftgen(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: duplicate field id 1 in struct `User`\n"),
        "{err}"
    );
    assert!(err.contains("dup.thrift:3:3\n"), "{err}");
    assert!(err.contains("first used here"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );
    assert!(
        err.ends_with("error: aborting due to 1 previous error\n"),
        "{err}"
    );
}

#[test]
fn colour_can_be_forced() {
    let path = idl("colour.thrift", "struct A { 1: Missing m }\n");
    let out = thriftgen(&["check", "--color", "always", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains('\x1b'));
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let path = idl(
        "short.thrift",
        "struct A { 1: Missing m }\nstruct B { 1: Gone g }\n",
    );
    let out = thriftgen(&["check", "--format", "short", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].ends_with("short.thrift:1:15: error: cannot find type `Missing`"),
        "{err}"
    );
    assert!(
        lines[1].ends_with("short.thrift:2:15: error: cannot find type `Gone`"),
        "{err}"
    );
}

#[test]
fn every_file_is_checked_and_one_bad_file_fails_the_run() {
    let good = idl("good.thrift", "const i32 X = 1\n");
    let bad = idl("bad.thrift", "const i8 B = 300\n");
    let out = thriftgen(&["check", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("`300` does not fit in `i8`"));
}

#[test]
fn include_dirs_are_searched_in_order() {
    let dir = std::env::temp_dir().join(format!("thriftgen-cli-inc-{}", std::process::id()));
    for (sub, value) in [("first", 1), ("second", 2)] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(
            dir.join(sub).join("shared.thrift"),
            format!("const i32 V = {value}\n"),
        )
        .unwrap();
    }
    let main = idl(
        "uses_shared.thrift",
        "include \"shared.thrift\"\nconst i32 W = shared.V\n",
    );
    let out = thriftgen(&[
        "check",
        "--emit",
        "ir",
        "-I",
        dir.join("first").to_str().unwrap(),
        "-I",
        dir.join("second").to_str().unwrap(),
        main.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    assert!(ir.contains("const i32 W = 1"), "{ir}");
    let missing = thriftgen(&["check", main.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("cannot find included file `shared.thrift`"));
}

#[test]
fn unreadable_file_exits_1() {
    let out = thriftgen(&["check", "/nonexistent/nothing.thrift"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read `/nonexistent/nothing.thrift`"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(thriftgen(&[]).status.code(), Some(2));
    assert_eq!(thriftgen(&["check"]).status.code(), Some(2));
    assert_eq!(
        thriftgen(&["check", "--format", "long", "x.thrift"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(thriftgen(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn help_reads_well() {
    let out = thriftgen(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("check"), "{help}");
    assert!(help.contains("Exit status"), "{help}");
    let out = thriftgen(&["check", "--help"]);
    let help = text(&out.stdout);
    for word in [
        "--include-dir",
        "--format",
        "--color",
        "--emit",
        "beside the including file",
    ] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}

#[test]
fn gen_writes_one_file_per_module_and_a_mod_rs() {
    let dir = std::env::temp_dir().join(format!("thriftgen-cli-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("idl")).unwrap();
    std::fs::write(
        dir.join("idl/shared.thrift"),
        "struct Money { 1: i64 cents }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("idl/order.thrift"),
        "namespace rs shop.orders\ninclude \"shared.thrift\"\nstruct Order { 1: shared.Money total }\n",
    )
    .unwrap();
    let out = dir.join("gen");
    let run = || {
        thriftgen(&[
            "gen",
            "-o",
            out.to_str().unwrap(),
            dir.join("idl/order.thrift").to_str().unwrap(),
        ])
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["mod.rs", "shared.rs", "shop.orders.rs"]);
    let order = std::fs::read_to_string(out.join("shop.orders.rs")).unwrap();
    assert!(order.starts_with("// @generated by thriftgen"), "{order}");
    assert!(
        order.contains("pub total: ::std::option::Option<super::super::shared::Money>"),
        "{order}"
    );
    // A second run rewrites nothing.
    let before = std::fs::metadata(out.join("mod.rs"))
        .unwrap()
        .modified()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(run().status.code(), Some(0));
    assert_eq!(
        std::fs::metadata(out.join("mod.rs"))
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    // A bad file: exit 1 and nothing new written.
    std::fs::write(dir.join("idl/bad.thrift"), "struct B { 1: Nope n }\n").unwrap();
    let bad = thriftgen(&[
        "gen",
        "-o",
        dir.join("gen2").to_str().unwrap(),
        dir.join("idl/bad.thrift").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("cannot find type `Nope`"));
    assert!(!dir.join("gen2").exists());
}

/// `idl/portability/verdicts.txt`: each file with Apache's verdict.
fn portability_verdicts() -> (PathBuf, Vec<(String, bool)>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../idl/portability");
    let list = std::fs::read_to_string(dir.join("verdicts.txt")).expect("verdicts.txt");
    let verdicts: Vec<(String, bool)> = list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap().to_string();
            let verdict = words.next().unwrap();
            assert!(matches!(verdict, "accept" | "reject"), "{l}");
            (name, verdict == "accept")
        })
        .collect();
    // Every file of the directory has a verdict.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".thrift"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = verdicts.iter().map(|(n, _)| n.clone()).collect();
    listed.sort();
    assert_eq!(files, listed, "idl/portability and verdicts.txt differ");
    (dir, verdicts)
}

#[test]
fn strict_mode_agrees_with_apaches_verdicts() {
    let (dir, verdicts) = portability_verdicts();
    let mut disagree = Vec::new();
    for (name, apache_accepts) in &verdicts {
        let path = dir.join(name);
        let path = path.to_str().unwrap();
        let strict = thriftgen(&["check", "--strict", "--format", "short", path]);
        let accepted = strict.status.code() == Some(0);
        assert!(matches!(strict.status.code(), Some(0 | 1)), "{name}");
        if accepted != *apache_accepts {
            disagree.push(format!("{name}: {}", text(&strict.stderr)));
        }
        // Without `--strict`, what only Apache refuses is a warning.
        let lenient = thriftgen(&["check", "--format", "short", path]);
        let report = text(&lenient.stderr);
        if *apache_accepts {
            assert!(!report.contains("not-portable"), "{name}: {report}");
        } else if lenient.status.code() == Some(0) {
            assert!(
                report.contains("warning[not-portable]: "),
                "{name} is accepted without a portability warning: {report}"
            );
            let strict_report = text(&strict.stderr);
            assert!(
                strict_report.contains("error[not-portable]: "),
                "{name}: {strict_report}"
            );
        }
    }
    assert!(
        disagree.is_empty(),
        "disagreements:\n{}",
        disagree.join("\n")
    );
    assert!(verdicts.iter().filter(|(_, ok)| !ok).count() >= 15);
    assert!(verdicts.iter().filter(|(_, ok)| *ok).count() >= 3);
}

/// The same verdicts from Apache's own compiler, when `thrift` is installed
/// (CI installs it; `idl/portability/check_against_apache.sh` does the same
/// from the shell). Skipped otherwise.
#[test]
fn apaches_compiler_gives_the_listed_verdicts_when_installed() {
    let installed = Command::new("thrift")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("skipped: `thrift` (Apache Thrift's compiler) is not on PATH");
        return;
    }
    let (dir, verdicts) = portability_verdicts();
    let out = std::env::temp_dir().join(format!("thriftgen-cli-apache-{}", std::process::id()));
    let mut disagree = Vec::new();
    for (name, expected) in &verdicts {
        let accepted = ["py", "java", "go"].iter().all(|generator| {
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir_all(&out).unwrap();
            Command::new("thrift")
                .args(["--gen", generator, "-out"])
                .arg(&out)
                .arg(dir.join(name))
                .output()
                .is_ok_and(|o| o.status.success())
        });
        if accepted != *expected {
            disagree.push(name.clone());
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(disagree.is_empty(), "Apache disagrees on {disagree:?}");
}

#[test]
fn gen_prints_the_warnings_check_prints_and_strict_makes_them_errors() {
    let dir = std::env::temp_dir().join(format!("thriftgen-cli-genwarn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("warned.thrift");
    std::fs::write(
        &path,
        "include \"absent.thrift\"\nstruct A {\n  string name\n};\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let out = dir.join("out");
    let gen = thriftgen(&["gen", "-o", out.to_str().unwrap(), path]);
    assert_eq!(gen.status.code(), Some(0), "{}", text(&gen.stderr));
    let report = text(&gen.stderr);
    let check = thriftgen(&["check", path]);
    assert_eq!(check.status.code(), Some(0));
    assert_eq!(report, text(&check.stderr), "gen and check report alike");
    assert!(
        report.contains("warning: cannot find included file `absent.thrift`"),
        "{report}"
    );
    assert!(
        report.contains("warning: field `name` has no id"),
        "{report}"
    );
    assert!(
        report.contains("warning[not-portable]: `;` after struct `A`"),
        "{report}"
    );
    assert!(
        report.ends_with("warning: 3 warnings emitted\n"),
        "{report}"
    );
    assert!(out.join("warned.rs").is_file());

    let strict_out = dir.join("strict");
    let strict = thriftgen(&["gen", "--strict", "-o", strict_out.to_str().unwrap(), path]);
    assert_eq!(strict.status.code(), Some(1));
    let report = text(&strict.stderr);
    assert!(
        report.starts_with("error[not-portable]: `;` after struct `A`\n"),
        "{report}"
    );
    assert!(!strict_out.exists());
    let strict_check = thriftgen(&["check", "--strict", path]);
    assert_eq!(strict_check.status.code(), Some(1));
}

#[test]
fn strict_is_documented_in_the_help() {
    for command in ["check", "gen"] {
        let help = text(&thriftgen(&[command, "--help"]).stdout);
        assert!(help.contains("--strict"), "{command}: {help}");
        assert!(help.contains("Apache"), "{command}: {help}");
    }
}

#[test]
fn gen_serde_emits_the_derives() {
    let path = idl(
        "users.thrift",
        "enum Kind { A = 1 }\nstruct User { 1: required string userName, 2: optional binary avatar }\n",
    );
    let path = path.to_str().unwrap();
    let dir = std::env::temp_dir().join(format!("thriftgen-cli-serde-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = thriftgen(&["gen", "--serde", "-o", dir.to_str().unwrap(), path]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let code = std::fs::read_to_string(dir.join("users.rs")).unwrap();
    assert!(
        code.contains("#[derive(::serde::Serialize, ::serde::Deserialize)]\npub struct User {"),
        "{code}"
    );
    assert!(code.contains("#[serde(rename = \"userName\")]"), "{code}");
    assert!(
        code.contains("impl ::serde::Serialize for Kind {"),
        "{code}"
    );
    let mod_rs = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    assert!(mod_rs.contains("__require_serde_feature!();"), "{mod_rs}");
    // Without the flag, no serde.
    let plain = dir.join("plain");
    let run = thriftgen(&["gen", "-o", plain.to_str().unwrap(), path]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let code = std::fs::read_to_string(plain.join("users.rs")).unwrap();
    assert!(!code.contains("serde"), "{code}");
    let help = text(&thriftgen(&["gen", "--help"]).stdout);
    assert!(help.contains("--serde"), "{help}");
}
