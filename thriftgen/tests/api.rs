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
    // `Debug` starts the same report on a line of its own, so that
    // `Error: ` (what `main` prints for an `Err`) does not stack on it.
    assert_eq!(format!("\n{display}"), format!("{err:?}"));
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

fn analyze(dir: &std::path::Path, file: &str, text: &str) -> thriftgen::Analysis {
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    thriftgen::analyze(&[path], &[] as &[&str])
}

fn messages(analysis: &thriftgen::Analysis) -> Vec<String> {
    analysis
        .diagnostics
        .iter()
        .map(|d| {
            let code = d.code.map(|c| format!("[{c}]")).unwrap_or_default();
            let help = d
                .help
                .as_deref()
                .map(|h| format!(" / {h}"))
                .unwrap_or_default();
            format!("{}{code}: {}{help}", d.severity, d.message)
        })
        .collect()
}

#[test]
fn the_report_of_an_error_starts_with_the_errors_even_after_warnings() {
    let dir = temp_dir("errors-first");
    let path = dir.join("main.thrift");
    // A warning on line 1, the error on line 2.
    std::fs::write(&path, "struct A { string a }\nstruct B { 1: Missing m }\n").unwrap();
    let err = thriftgen::check(&[&path], &[] as &[&str]).unwrap_err();
    let report = err.to_string();
    assert!(
        report.starts_with("error: cannot find type `Missing`\n"),
        "{report}"
    );
    assert!(report.contains("warning: field `a` has no id"), "{report}");
    assert!(format!("{err:?}").starts_with("\nerror: "), "{err:?}");
    assert!(err.diagnostics()[0].is_error());
}

#[test]
fn a_missing_include_is_a_warning_until_a_name_from_it_is_used() {
    let dir = temp_dir("missing-include");
    let unused = analyze(
        &dir,
        "unused.thrift",
        "include \"gone.thrift\"\ninclude \"/nonexistent/abs.thrift\"\nstruct A { 1: i32 x }\n",
    );
    assert!(!unused.has_errors(), "{:?}", messages(&unused));
    assert_eq!(
        messages(&unused),
        [
            "warning: cannot find included file `gone.thrift` / add the directory that holds it with `-I DIR`",
            "warning: cannot find included file `/nonexistent/abs.thrift`",
        ]
    );
    // The IR has no module for it, and code generation copes.
    let checked = unused.into_result().unwrap();
    assert_eq!(checked.ir.modules.len(), 1);
    assert!(checked.ir.modules[0].includes.is_empty());
    thriftgen::codegen::generate(&checked.ir, &checked.sources, &Default::default())
        .expect("generation succeeds without the missing module");

    let used = analyze(
        &dir,
        "used.thrift",
        "include \"gone.thrift\"\nstruct A { 1: gone.Thing t }\nconst i32 C = gone.LIMIT\n",
    );
    let errors: Vec<&thriftgen::diag::Diagnostic> =
        used.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 2, "{:?}", messages(&used));
    assert_eq!(
        errors[0].message,
        "cannot use `gone.Thing`: the included file `gone.thrift` was not found"
    );
    assert_eq!(
        errors[1].message,
        "cannot use `gone.LIMIT`: the included file `gone.thrift` was not found"
    );
    // The error points at the use (line 2), with the include as a label.
    let file = used
        .sources
        .file(errors[0].primary.as_ref().unwrap().span.file);
    let at = errors[0].primary.as_ref().unwrap().span.start;
    assert_eq!(file.line_col(at), (2, 15));
    assert_eq!(errors[0].secondary[0].message, "this include was not found");
}

#[test]
fn includes_are_found_in_the_top_level_files_directory_last_with_a_portability_warning() {
    let dir = temp_dir("top-level-dir");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("common.thrift"), "struct Common { 1: i32 x }\n").unwrap();
    std::fs::write(
        dir.join("sub/middle.thrift"),
        "include \"common.thrift\"\nstruct Middle { 1: common.Common c }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("top.thrift"),
        "include \"sub/middle.thrift\"\nstruct Top { 1: middle.Middle m }\n",
    )
    .unwrap();
    let analysis = thriftgen::analyze(&[dir.join("top.thrift")], &[] as &[&str]);
    assert!(!analysis.has_errors(), "{:?}", messages(&analysis));
    assert_eq!(
        messages(&analysis),
        ["warning[not-portable]: `common.thrift` is found only in the directory of the top-level file / pass `-I DIR`, or write the path relative to the including file"
            .replace("DIR", &dir.display().to_string())]
    );
    assert!(analysis.into_strict().has_errors());
    // With `-I`, Apache's compiler finds it too: no warning.
    let with_dir = thriftgen::analyze(&[dir.join("top.thrift")], &[&dir]);
    assert!(with_dir.diagnostics.is_empty(), "{:?}", messages(&with_dir));
    // Beside the including file wins over the top-level directory.
    std::fs::write(
        dir.join("sub/common.thrift"),
        "struct Common { 1: i64 y }\n",
    )
    .unwrap();
    let beside = thriftgen::analyze(&[dir.join("top.thrift")], &[] as &[&str]);
    assert!(beside.diagnostics.is_empty(), "{:?}", messages(&beside));
}

#[test]
fn near_names_are_suggested() {
    let dir = temp_dir("suggest");
    std::fs::write(dir.join("shared.thrift"), "struct Money { 1: i64 cents }\n").unwrap();
    let analysis = analyze(
        &dir,
        "typos.thrift",
        "include \"shared.thrift\"\n\
         struct Entry { 1: i32 x }\n\
         enum Color { RED = 1, GREEN = 2 }\n\
         const i32 LIMIT = 10\n\
         service Base { void ping() }\n\
         struct Uses {\n\
           1: Entyr e\n\
           2: Color c = Color.GREN\n\
           3: i32 n = LIMT\n\
           4: sharde.Money m\n\
         }\n\
         const Entry E = {\"xx\": 1}\n\
         service Child extends Bsae { void play() }\n",
    );
    let helps: Vec<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.message, d.help.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        helps,
        [
            "cannot find type `Entyr`: a type with a similar name exists: `Entry`",
            "enum `Color` has no value `GREN`: a value with a similar name exists: `GREEN`",
            "cannot find constant `LIMT`: a constant with a similar name exists: `LIMIT`",
            "`sharde` is not an included file: an included file with a similar name exists: `shared`",
            "`Entry` has no field `xx`: a field with a similar name exists: `x`",
            "cannot find service `Bsae`: a service with a similar name exists: `Base`",
        ]
    );
}

#[test]
fn strict_mode_makes_portability_warnings_errors() {
    let dir = temp_dir("strict");
    let path = dir.join("semi.thrift");
    std::fs::write(&path, "struct A {\n  1: i32 x\n};\n").unwrap();
    let lenient = thriftgen::analyze(&[&path], &[] as &[&str]);
    assert_eq!(
        messages(&lenient),
        ["warning[not-portable]: `;` after struct `A` / remove the `;`"]
    );
    let strict = lenient.into_strict();
    assert!(strict.has_errors());
    let report = strict.into_result().unwrap_err().to_string();
    assert!(
        report.starts_with("error[not-portable]: `;` after struct `A`\n"),
        "{report}"
    );
    assert!(
        report.contains("= note: Apache's grammar has no `,` or `;` after the `}` of a struct"),
        "{report}"
    );

    // The same through the build.rs API.
    let out = dir.join("out");
    let mut builder = thriftgen::Builder::new();
    builder.out_dir(&out).cargo_metadata(false);
    let compiled = builder.run(&[&path]).expect("lenient by default");
    assert_eq!(compiled.warnings.len(), 1);
    let rendered = compiled.render(&Default::default());
    assert!(
        rendered.starts_with("warning[not-portable]: "),
        "{rendered}"
    );
    assert!(
        rendered.ends_with("warning: 1 warning emitted\n"),
        "{rendered}"
    );
    let err = builder.strict(true).compile(&[&path]).unwrap_err();
    assert!(
        err.to_string().starts_with("error[not-portable]: "),
        "{err}"
    );
}

#[test]
fn idempotent_annotations_are_read_and_odd_values_warned_about() {
    let dir = temp_dir("idempotent");
    let analysis = analyze(
        &dir,
        "idem.thrift",
        "service S {\n\
           string a() (idempotent = \"true\")\n\
           string b() (idempotent = \"1\")\n\
           string c() (idempotent)\n\
           string d() (idempotent = \"false\")\n\
           string e() (idempotent = \"0\")\n\
           string f() (idempotent = \"yes\")\n\
           string g()\n\
           oneway void h() (idempotent = \"true\")\n\
         }\n",
    );
    assert_eq!(
        messages(&analysis),
        [
            "warning: unknown value \"yes\" of annotation `idempotent` on `f` / \
             write `idempotent = \"true\"` or remove the annotation",
            "warning: `idempotent` has no effect on oneway function `h`",
        ]
    );
    // The first points at the value.
    let rendered = thriftgen::diag::Renderer {
        format: thriftgen::diag::Format::Short,
        color: false,
    }
    .render_all(&analysis.sources, &analysis.diagnostics);
    assert!(rendered.contains("idem.thrift:7:"), "{rendered}");
    let service = analysis
        .ir
        .defs
        .iter()
        .find_map(|d| match &d.kind {
            thriftgen::ir::DefKind::Service(s) => Some(s),
            _ => None,
        })
        .expect("the service");
    let marked: Vec<&str> = service
        .functions
        .iter()
        .filter(|f| f.is_idempotent())
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(marked, ["a", "b", "c", "h"]);
}
