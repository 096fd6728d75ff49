//! `thriftgen new`: scaffolding a crate, then living with a growing IDL.
//!
//! The fast tests check the files; `scaffolded_crate_builds_serves_and_answers`
//! and `async_scaffold_builds_serves_and_answers` build the crate with cargo,
//! run its server and call it (they compile the crate's dependencies, so they
//! are `#[ignore]`d here and run by `.ci/run` and `just template`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IDL: &str = r#"
namespace rs shop

exception NotFound { 1: string what }

service Health {
  string ping()
}

service Shop extends Health {
  string lookup(1: string sku) throws (1: NotFound not_found)
}

service Admin {
  i64 count()
}
"#;

fn thriftgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_thriftgen"))
}

fn new(dir: &Path, idl: &Path) -> String {
    new_with(dir, &["--idl".as_ref(), idl.as_os_str()])
}

/// `thriftgen new DIR/shop-server ARGS...`, which must succeed.
fn new_with(dir: &Path, args: &[&std::ffi::OsStr]) -> String {
    new_named(&dir.join("shop-server"), args)
}

/// `thriftgen new CRATE ARGS...`, which must succeed.
fn new_named(crate_dir: &Path, args: &[&std::ffi::OsStr]) -> String {
    let out = thriftgen()
        .arg("new")
        .arg(crate_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn scaffolds_then_adds_stubs_without_touching_edits() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let report = new(tmp.path(), &idl);
    for file in [
        "Cargo.toml",
        "build.rs",
        "src/main.rs",
        "examples/client.rs",
        "README.md",
    ] {
        assert!(report.contains(&format!("created  {file}")), "{report}");
    }
    let crate_dir = tmp.path().join("shop-server");
    let handler = std::fs::read_to_string(crate_dir.join("src/handler.rs")).unwrap();
    // Both leaf services, and the base of one, each implemented once.
    for block in [
        "Health for Handler",
        "Shop for Handler",
        "Admin for Handler",
    ] {
        assert_eq!(handler.matches(block).count(), 1, "{handler}");
    }
    assert!(
        handler.contains("Err(ApplicationException::not_implemented(\"Shop.lookup\").into())"),
        "{handler}"
    );
    // The runtime answers for stubs: no helper of the user's to keep.
    assert!(!handler.contains("fn not_implemented"), "{handler}");
    assert!(!handler.contains("todo!"));
    let main = std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap();
    assert!(main.contains("Multiplexed::new(\"Shop\""), "{main}");

    // The user implements a method and edits main.rs; the IDL gains a method.
    let edited = handler.replace(
        "Err(ApplicationException::not_implemented(\"Health.ping\"))",
        "Ok(\"pong\".to_string()) // mine",
    );
    assert_ne!(edited, handler);
    std::fs::write(crate_dir.join("src/handler.rs"), &edited).unwrap();
    std::fs::write(crate_dir.join("src/main.rs"), format!("{main}// my note\n")).unwrap();
    std::fs::write(
        &idl,
        IDL.replace(
            "  i64 count()\n",
            "  i64 count()\n  void reset(1: bool hard)\n",
        )
        .replace("  string ping()\n", "  string ping()\n  i32 uptime()\n"),
    )
    .unwrap();

    let report = new(tmp.path(), &idl);
    assert!(report.contains("updated  idl/shop.thrift"), "{report}");
    assert!(report.contains("kept     src/main.rs"), "{report}");
    assert!(report.contains("added    stub Admin::reset"), "{report}");
    assert!(report.contains("added    stub Health::uptime"), "{report}");
    let handler = std::fs::read_to_string(crate_dir.join("src/handler.rs")).unwrap();
    assert!(
        handler.contains("Ok(\"pong\".to_string()) // mine"),
        "{handler}"
    );
    assert!(handler.contains("fn reset("), "{handler}");
    assert!(handler.contains("fn uptime("), "{handler}");
    // Everything the user wrote is still there, in order.
    let kept: Vec<&str> = edited.lines().collect();
    let mut now = handler.lines();
    for line in kept {
        assert!(now.any(|l| l == line), "lost line {line:?}");
    }
    let main_now = std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap();
    assert!(main_now.ends_with("// my note\n"));

    // A method leaving the IDL is reported, not removed.
    std::fs::write(&idl, IDL.replace("  i64 count()\n", "")).unwrap();
    let report = new(tmp.path(), &idl);
    assert!(
        report.contains("Admin::count is no longer in the IDL"),
        "{report}"
    );
    let after = std::fs::read_to_string(crate_dir.join("src/handler.rs")).unwrap();
    assert_eq!(after, handler);
}

#[test]
fn async_scaffolds_async_fns_and_keeps_to_them() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let report = new_with(
        tmp.path(),
        &["--idl".as_ref(), idl.as_os_str(), "--async".as_ref()],
    );
    assert!(
        report.contains("handlers async fns on a tokio runtime (`--async`"),
        "{report}"
    );
    let crate_dir = tmp.path().join("shop-server");
    let read = |file: &str| std::fs::read_to_string(crate_dir.join(file)).unwrap();

    let manifest = read("Cargo.toml");
    assert!(manifest.contains("async-handlers = true"), "{manifest}");
    assert!(manifest.contains("tokio = {"), "{manifest}");
    assert!(manifest.contains("\"rt-multi-thread\""), "{manifest}");
    let build = read("build.rs");
    assert!(build.contains(".async_handlers(true)"), "{build}");
    assert!(
        build.contains(r#".compile(&["idl/shop.thrift"])"#),
        "{build}"
    );
    assert!(!build.contains("thriftgen::compile("), "{build}");

    let main = read("src/main.rs");
    for expected in [
        "tokio::runtime::Builder::new_multi_thread()",
        "Server::new_async(processor, runtime.handle().clone())",
        "ShopProcessor::from_arc(Arc::clone(&handler))",
        ".with(\"Admin\", crate::gen::shop::AdminProcessor::from_arc(",
        "ctrlc::set_handler",
        "EnvFilter::try_from_default_env()",
        "threads: Option<usize>",
        "pollers: Option<usize>",
    ] {
        assert!(main.contains(expected), "{expected:?} in {main}");
    }
    assert!(!main.contains("workers"), "{main}");

    let client = read("examples/client.rs");
    assert!(client.contains("#[tokio::main]"), "{client}");
    assert!(client.contains("ShopAsyncClient::new(addr,"), "{client}");
    assert!(client.contains("client.ping().await"), "{client}");
    assert!(client.contains("client.lookup(\"\").await"), "{client}");

    let handler = read("src/handler.rs");
    for stub in [
        "async fn ping(&self, _ctx: &CallContext) -> Result<String, ApplicationException> {",
        "async fn count(&self, _ctx: &CallContext) -> Result<i64, ApplicationException> {",
        "Err(ApplicationException::not_implemented(\"Shop.lookup\").into())",
    ] {
        assert!(handler.contains(stub), "{stub:?} in {handler}");
    }
    assert!(
        !handler.contains("    fn "),
        "every stub is async: {handler}"
    );

    // Run again without `--async`: the crate says it is async, and the
    // methods the IDL gained get `async fn` stubs.
    std::fs::write(
        &idl,
        IDL.replace(
            "  i64 count()\n",
            "  i64 count()\n  void reset(1: bool hard)\n",
        ),
    )
    .unwrap();
    let report = new(tmp.path(), &idl);
    assert!(
        report.contains("handlers async fns on a tokio runtime (as Cargo.toml records"),
        "{report}"
    );
    assert!(report.contains("added    stub Admin::reset"), "{report}");
    let handler = read("src/handler.rs");
    assert!(handler.contains("    async fn reset(\n"), "{handler}");
    assert!(handler.contains("        _hard: bool,\n"), "{handler}");

    // Without the record, the handler file tells.
    let manifest = read("Cargo.toml");
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        manifest.replace("async-handlers = true\n", ""),
    )
    .unwrap();
    std::fs::write(
        &idl,
        IDL.replace("  i64 count()\n", "  i64 count()\n  i32 size()\n"),
    )
    .unwrap();
    let report = new(tmp.path(), &idl);
    assert!(
        report.contains("(src/handler.rs has `async fn`s)"),
        "{report}"
    );
    assert!(read("src/handler.rs").contains("async fn size("));
}

#[test]
fn sync_crates_stay_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let report = new(tmp.path(), &idl);
    assert!(report.contains("handlers blocking (`--async`"), "{report}");
    let crate_dir = tmp.path().join("shop-server");
    let handler = std::fs::read_to_string(crate_dir.join("src/handler.rs")).unwrap();
    assert!(!handler.contains("async"), "{handler}");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("tokio"), "{manifest}");
    assert!(!manifest.contains("async-handlers"), "{manifest}");
    // `--async` cannot switch a crate made blocking: its files are the user's.
    let out = thriftgen()
        .arg("new")
        .arg(&crate_dir)
        .arg("--async")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("was made with blocking handlers: `--async` does not rewrite"),
        "{stderr}"
    );
    let after = std::fs::read_to_string(crate_dir.join("src/handler.rs")).unwrap();
    assert_eq!(after, handler);
}

#[test]
fn the_crate_keeps_its_own_copy_of_the_idl() {
    let tmp = tempfile::tempdir().unwrap();
    // `app/shop.thrift` includes a file beside it and one from `-I shared`.
    std::fs::create_dir_all(tmp.path().join("app/common")).unwrap();
    std::fs::create_dir_all(tmp.path().join("shared")).unwrap();
    std::fs::write(
        tmp.path().join("shared/errors.thrift"),
        "exception Gone { 1: string what }\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("app/common/types.thrift"),
        "struct Item { 1: string sku }\n",
    )
    .unwrap();
    let idl = tmp.path().join("app/shop.thrift");
    std::fs::write(
        &idl,
        "include \"common/types.thrift\"\ninclude \"errors.thrift\"\n\
         service Shop { types.Item get(1: string sku) throws (1: errors.Gone gone) }\n",
    )
    .unwrap();
    let report = new_with(
        tmp.path(),
        &[
            "--idl".as_ref(),
            idl.as_os_str(),
            "-I".as_ref(),
            tmp.path().join("shared").as_os_str(),
        ],
    );
    for file in [
        "idl/app/shop.thrift",
        "idl/app/common/types.thrift",
        "idl/shared/errors.thrift",
    ] {
        assert!(report.contains(&format!("created  {file}")), "{report}");
    }
    let crate_dir = tmp.path().join("shop-server");
    let build = std::fs::read_to_string(crate_dir.join("build.rs")).unwrap();
    assert!(
        build.contains(r#"compile(&["idl/app/shop.thrift"], &["idl/shared"])"#),
        "{build}"
    );
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("idl = \"idl/app/shop.thrift\""),
        "{manifest}"
    );
    // Nothing outside the crate is needed any more.
    std::fs::remove_dir_all(tmp.path().join("app")).unwrap();
    std::fs::remove_dir_all(tmp.path().join("shared")).unwrap();
    // The crate's copy is its IDL: edited there, `new` without `--idl` reads it.
    let copy = crate_dir.join("idl/app/shop.thrift");
    let text = std::fs::read_to_string(&copy).unwrap();
    std::fs::write(&copy, text.replace("}\n", "  i32 size()\n}\n")).unwrap();
    let report = new_with(tmp.path(), &[]);
    assert!(report.contains("read     idl/app/shop.thrift"), "{report}");
    assert!(report.contains("added    stub Shop::size"), "{report}");
}

#[test]
fn dependencies_are_chosen_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let manifest = || std::fs::read_to_string(tmp.path().join("shop-server/Cargo.toml")).unwrap();
    let fresh = || std::fs::remove_dir_all(tmp.path().join("shop-server")).unwrap();

    // By default: the checkout this `thriftgen` was built from, said so.
    let report = new(tmp.path(), &idl);
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    assert!(
        report.contains(&format!("from path {}", checkout.display())),
        "{report}"
    );
    let runtime = checkout.join("runtime").display().to_string();
    assert!(
        manifest().contains(&format!("thriftgen-runtime = {{ path = {runtime:?} }}")),
        "{}",
        manifest()
    );
    fresh();

    let url = "https://example.com/thriftgen.git";
    let report = new_with(
        tmp.path(),
        &[
            "--idl".as_ref(),
            idl.as_os_str(),
            "--runtime-dep".as_ref(),
            "git".as_ref(),
            "--git".as_ref(),
            url.as_ref(),
        ],
    );
    assert!(report.contains(&format!("from git {url}")), "{report}");
    assert!(manifest().contains(&format!("thriftgen-runtime = {{ git = {url:?} }}")));
    assert!(manifest().contains(&format!("thriftgen = {{ git = {url:?} }}")));
    fresh();

    new_with(
        tmp.path(),
        &[
            "--idl".as_ref(),
            idl.as_os_str(),
            "--runtime-dep".as_ref(),
            "version".as_ref(),
        ],
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(manifest().contains(&format!("thriftgen-runtime = \"{version}\"")));
    fresh();

    // A directory that is no checkout, and flags that do not go together.
    for args in [
        &["--runtime-path", "/nonexistent"][..],
        &["--runtime-path", "/"][..],
        &["--runtime-dep", "git", "--runtime-path", "/"][..],
    ] {
        let out = thriftgen()
            .arg("new")
            .arg(tmp.path().join("shop-server"))
            .arg("--idl")
            .arg(&idl)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!tmp.path().join("shop-server").exists());
    }
}

#[test]
fn unknown_services_and_bad_idl_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let out = thriftgen()
        .args(["new", "x", "--service", "Nope", "--idl"])
        .arg(&idl)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("there is no service `Nope`"), "{stderr}");
    assert!(!tmp.path().join("x").exists());

    std::fs::write(&idl, "service S { void f(1: Missing m) }").unwrap();
    let out = thriftgen()
        .args(["new", "x", "--idl"])
        .arg(&idl)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot find type `Missing`"));
}

/// What running a scaffolded crate's server and example client gave.
struct Served {
    /// The client's standard output.
    answers: String,
    /// The server's log (its standard output).
    log: String,
}

/// Replaces the stub of `Health.ping` in `crate_dir` with one answering
/// "pong", builds the crate (no warning allowed), serves it with
/// `RUST_LOG=thriftgen_runtime=debug,info`, runs its example client, then
/// stops the server with SIGTERM; checks both exit 0.
fn build_serve_and_call(crate_dir: &Path) -> Served {
    let handler = crate_dir.join("src/handler.rs");
    let text = std::fs::read_to_string(&handler).unwrap();
    let implemented = text.replace(
        "Err(ApplicationException::not_implemented(\"Health.ping\"))",
        "Ok(\"pong\".to_string())",
    );
    assert_ne!(implemented, text);
    std::fs::write(&handler, implemented).unwrap();
    // Share one target directory between runs so dependencies build once
    // (the crates have different names, so their binaries do not collide).
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/scaffold");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--bins", "--examples"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(crate_dir)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "{stderr}");
    // Neither the template nor the code generated into it warns.
    assert!(!stderr.contains("warning"), "{stderr}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let name = crate_dir.file_name().unwrap();
    // `RUST_LOG` is honoured: the runtime's debug events show.
    let server = Command::new(target.join("debug").join(name))
        .args(["--addr", &addr])
        .env("RUST_LOG", "thriftgen_runtime=debug,info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(target.join("debug/examples/client"))
        .arg(&addr)
        .output()
        .unwrap();
    // Graceful shutdown: SIGTERM through `kill`, then wait.
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let served = server.wait_with_output().unwrap();
    let answers = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{answers}");
    let log = String::from_utf8_lossy(&served.stdout).into_owned();
    assert!(
        served.status.success(),
        "graceful shutdown exits 0: {:?}\n{log}",
        served.status
    );
    Served { answers, log }
}

/// What both templates' example clients and servers must show.
fn check_answers(served: &Served) {
    let Served { answers, log } = served;
    assert!(answers.contains("Health.ping -> Ok(\"pong\")"), "{answers}");
    assert!(answers.contains("Shop.lookup -> Err("), "{answers}");
    assert!(answers.contains("is not implemented yet"), "{answers}");
    // The kind prints by name.
    assert!(answers.contains("kind: UNKNOWN"), "{answers}");
    assert!(log.contains("serving"), "{log}");
    assert!(log.contains("DEBUG"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
#[ignore = "builds the scaffolded crate with cargo; run by .ci/run and `just template`"]
fn scaffolded_crate_builds_serves_and_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    new(tmp.path(), &idl);
    // The crate builds from its own copy of the IDL.
    std::fs::remove_file(&idl).unwrap();
    check_answers(&build_serve_and_call(&tmp.path().join("shop-server")));
}

#[test]
#[ignore = "builds the scaffolded crate with cargo; run by .ci/run and `just template`"]
fn async_scaffold_builds_serves_and_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let idl = tmp.path().join("shop.thrift");
    std::fs::write(&idl, IDL).unwrap();
    let crate_dir = tmp.path().join("shop-async");
    new_named(
        &crate_dir,
        &["--idl".as_ref(), idl.as_os_str(), "--async".as_ref()],
    );
    std::fs::remove_file(&idl).unwrap();
    check_answers(&build_serve_and_call(&crate_dir));
}
