//! The library API as a build script uses it.

use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thriftgen-api-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn errors_print_the_same_report_through_display_and_debug() {
    let dir = temp_dir("display");
    let path = dir.join("bad.thrift");
    std::fs::write(&path, "struct A {\n  1: Missing m\n}\n").unwrap();
    let err = thriftgen::check(&[&path], &[] as &[&str]).unwrap_err();
    let display = err.to_string();
    assert_eq!(display, format!("{err:?}"));
    assert!(
        display.starts_with("error: cannot find type `Missing`\n"),
        "{display}"
    );
    assert!(display.contains("bad.thrift:2:6\n"), "{display}");
    assert!(
        display.ends_with("error: aborting due to 1 previous error\n"),
        "{display}"
    );
    assert_eq!(err.diagnostics().len(), 1);
}

#[test]
fn a_valid_file_gives_its_ir_and_warnings() {
    let dir = temp_dir("valid");
    let path = dir.join("ok.thrift");
    std::fs::write(&path, "namespace rs app.api\nstruct A { string a }\n").unwrap();
    let checked = thriftgen::check(&[&path], &[] as &[&str]).expect("valid");
    assert_eq!(checked.warnings.len(), 1);
    let module = checked.ir.module(checked.ir.roots[0]);
    assert_eq!(module.namespace("rs"), Some("app.api"));
    let def = checked.ir.def(module.defs[0]);
    assert_eq!(def.name, "A");
    let thriftgen::ir::DefKind::Struct(s) = &def.kind else {
        panic!("a struct")
    };
    assert_eq!((s.fields[0].id, s.fields[0].id_assigned), (-1, true));
}

#[test]
fn includes_beside_the_file_win_over_include_dirs() {
    let dir = temp_dir("order");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("src/common.thrift"), "const i32 WHERE = 1\n").unwrap();
    std::fs::write(dir.join("lib/common.thrift"), "const i32 WHERE = 2\n").unwrap();
    std::fs::write(
        dir.join("src/main.thrift"),
        "include \"common.thrift\"\nconst i32 X = common.WHERE\n",
    )
    .unwrap();
    let checked = thriftgen::check(&[dir.join("src/main.thrift")], &[dir.join("lib")]).unwrap();
    let ir = &checked.ir;
    let root = ir.module(ir.roots[0]);
    let thriftgen::ir::DefKind::Const(c) = &ir.def(root.defs[0]).kind else {
        panic!("a constant")
    };
    assert_eq!(c.value, thriftgen::ir::ConstValue::Int(1));
}

#[test]
fn a_file_with_a_syntax_error_does_not_cascade_into_its_includers() {
    let dir = temp_dir("cascade");
    std::fs::write(dir.join("broken.thrift"), "struct B {\n").unwrap();
    std::fs::write(
        dir.join("user.thrift"),
        "include \"broken.thrift\"\nstruct U { 1: broken.B b }\n",
    )
    .unwrap();
    let analysis = thriftgen::analyze(&[dir.join("user.thrift")], &[] as &[&str]);
    let errors: Vec<&str> = analysis
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(errors, ["expected `}` or a field, found end of file"]);
}
