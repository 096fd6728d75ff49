//! `thriftgen`: checks Thrift IDL files, generates Rust from them, scaffolds
//! service crates, audits IDL changes and calls services from their IDL.

mod call;
mod new;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use thriftgen::diag::{Format, Renderer};

/// Thrift IDL to idiomatic Rust.
///
/// Exit status: 0 when every file is valid (warnings allowed), 1 when any
/// error was reported, 2 on a usage error. `audit` exits 1 on a breaking
/// change and 2 when a version does not check; `call` has its own (see
/// `thriftgen call --help`).
#[derive(Parser, Debug)]
#[command(name = "thriftgen", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check IDL files and everything they include, reporting every error.
    ///
    /// Includes are looked up beside the including file first, then in each
    /// `-I` directory in the order given, then in the directory of the file
    /// named on the command line. Prints nothing when all is well, warnings
    /// and errors otherwise.
    ///
    /// `warning[not-portable]` marks what thriftgen accepts but Apache
    /// Thrift's compiler refuses; `--strict` makes those errors.
    Check(CheckArgs),
    /// Create a service crate from an IDL file, or add stubs for new methods
    /// to one created before.
    ///
    /// Creates NAME/ with `idl/` (a copy of the IDL and the files it
    /// includes), `Cargo.toml`, `build.rs` (one `thriftgen::compile` line
    /// over `idl/`), `src/main.rs` (a server with `--addr`, `--pollers`,
    /// `--workers`, logging, graceful shutdown on Ctrl-C/SIGTERM),
    /// `src/handler.rs` (a stub per method of each service and of the
    /// services it extends, answering "not implemented"),
    /// `examples/client.rs` and a README.
    ///
    /// With `--async` the handlers are `async fn`s on a tokio runtime:
    /// `build.rs` sets `async_handlers(true)`, `src/main.rs` serves with
    /// `Server::new_async` (`--addr`, `--pollers`, `--threads`) and the
    /// example calls the generated async client.
    ///
    /// Run it again after the IDL changed: files that exist are never
    /// rewritten, except that `src/handler.rs` gets stubs for new methods
    /// inserted (and `impl` blocks for new services appended); methods that
    /// left the IDL are reported, not removed. Every change is listed.
    New(NewArgs),
    /// Generate Rust from IDL files: one `.rs` per module, plus `mod.rs`.
    ///
    /// Every module reached through includes is generated too. With `mod
    /// gen;` and a dependency on `thriftgen-runtime`, a crate compiles OUT as
    /// is. Files whose contents did not change are not rewritten.
    Gen(GenArgs),
    /// Compare two versions of an IDL file and report the changes that
    /// break compatibility, as Apache Thrift's `--audit` does.
    ///
    /// OLD and NEW are checked first, each with its includes (looked up as
    /// `check` looks them up). Then definitions are matched by name, fields
    /// and parameters by id, enum values by name and number, methods by name,
    /// and every change is reported with the place in NEW and what it was in
    /// OLD: errors for changes that break old peers (a field's type changed,
    /// a method removed, an enum value renumbered, ...), warnings for changes
    /// that keep the wire but are worth a look (a default or a constant
    /// changed, a field renamed).
    ///
    /// Exit status: 0 when nothing breaks (warnings allowed), 1 when a change
    /// breaks compatibility, 2 when OLD or NEW does not check (its errors are
    /// printed) or on a usage error.
    Audit(AuditArgs),
    /// Call a method of a running service from its IDL, with JSON arguments,
    /// printing the result as JSON; no generated code is needed.
    ///
    /// The arguments are a JSON object by parameter name: `thriftgen call
    /// --idl svc.thrift --addr 127.0.0.1:9090 Users.get '{"id": 7}'`. Unknown
    /// or ill-typed arguments, and `required` ones left out, are errors before
    /// anything is sent. `binary` is base64, enums are names (or numbers),
    /// maps whose keys are not strings are lists of `[key, value]` pairs (see
    /// the guide, "Calling any service"). A `oneway` method returns as soon
    /// as the call is sent, printing nothing; a `void` one prints `null`.
    ///
    /// Exit status: 0 when the method returned (its result on standard
    /// output); 1 when it threw one of its declared exceptions (printed on
    /// standard output as `{"exception": TYPE, "field": NAME, "value":
    /// {...}}`); 2 when nothing was sent (usage error, IDL errors, unknown
    /// method, bad arguments); 3 when the server answered with an application
    /// exception (unknown method, a failing handler, ...); 4 when there was
    /// no valid answer (connection refused or lost, timeout, bad reply).
    Call(call::CallArgs),
}

#[derive(Args, Debug)]
struct AuditArgs {
    /// The old version of the IDL file.
    #[arg(value_name = "OLD")]
    old: PathBuf,

    /// The new version of the IDL file.
    #[arg(value_name = "NEW")]
    new: PathBuf,

    /// Add DIR to the directories searched for included files (of both
    /// versions).
    #[arg(short = 'I', long = "include-dir", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,

    /// How to print the findings: `full` (rustc's layout, with the lines of
    /// both versions), `short` (one `file:line:col: error: message` line
    /// each) or `json` (one array on standard output).
    #[arg(long, value_enum, default_value_t = AuditFormatArg::Full)]
    format: AuditFormatArg,

    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AuditFormatArg {
    Full,
    Short,
    Json,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// The crate's directory; its last component is the crate's name.
    #[arg(value_name = "NAME")]
    name: PathBuf,

    /// The IDL file whose services the crate serves. It is copied, with the
    /// files it includes, into the crate's `idl/`, which is the crate's IDL
    /// from then on; given again, it refreshes that copy. Without it, the
    /// crate's copy is read (as its `Cargo.toml` records it).
    #[arg(long, value_name = "FILE")]
    idl: Option<PathBuf>,

    /// Add DIR to the directories searched for included files.
    #[arg(short = 'I', long = "include-dir", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,

    /// Scaffold only this service (repeat for several; default: every
    /// service of the file).
    #[arg(long = "service", value_name = "SERVICE")]
    services: Vec<String>,

    /// How the new crate depends on `thriftgen-runtime` and `thriftgen`:
    /// a path to a thriftgen checkout, a git repository, or the crates.io
    /// version (not published yet). Default: the checkout this `thriftgen`
    /// was built from, when it is still there; git otherwise.
    #[arg(long, value_enum, value_name = "HOW")]
    runtime_dep: Option<new::DependencyKind>,

    /// The thriftgen checkout for `--runtime-dep path` (the directory with
    /// `runtime/` and `thriftgen/`; default: the one this was built from).
    #[arg(long, value_name = "DIR")]
    runtime_path: Option<PathBuf>,

    /// The repository for `--runtime-dep git` (default: the `repository` of
    /// this `thriftgen`'s Cargo.toml).
    #[arg(long, value_name = "URL")]
    git: Option<String>,

    /// Async handlers: `async fn` stubs, served on a multi-thread tokio
    /// runtime, and an example with the async client. A crate made so
    /// records it, and later runs add `async fn` stubs without the flag.
    #[arg(long = "async")]
    async_handlers: bool,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// The IDL files to generate from.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Add DIR to the directories searched for included files.
    #[arg(short = 'I', long = "include-dir", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,

    /// The directory to write into (created if needed).
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    out: PathBuf,

    /// The path generated code names the runtime crate by.
    #[arg(long, value_name = "PATH", default_value = "::thriftgen_runtime")]
    runtime_path: String,

    /// Use BTreeMap/BTreeSet instead of HashMap/HashSet.
    #[arg(long)]
    btree: bool,

    /// The BuildHasher of every HashMap and HashSet (a type path, such as
    /// ::foldhash::fast::RandomState); the standard SipHash by default.
    #[arg(long, value_name = "PATH")]
    hasher: Option<String>,

    /// Generate `string` as the runtime's zero-copy `ByteString` instead of
    /// `String`.
    #[arg(long)]
    zero_copy_strings: bool,

    /// Keep the fields a struct does not know as raw bytes and write them
    /// back (for proxies and services between a newer and an older peer).
    #[arg(long)]
    keep_unknown_fields: bool,

    /// Derive serde's Serialize and Deserialize on generated types, with the
    /// IDL's names (the crate needs `serde` with `derive`, and
    /// thriftgen-runtime's `serde` feature).
    #[arg(long)]
    serde: bool,

    /// Leave out the server side of services (handler traits, processors).
    #[arg(long)]
    no_server: bool,

    /// Leave out service clients.
    #[arg(long)]
    no_client: bool,

    /// Async handler traits: each method returns a `Send` future (implement
    /// it with `async fn`) and the processor is an `AsyncProcessor`, for the
    /// server's async mode.
    #[arg(long = "async")]
    async_handlers: bool,

    /// Make portability warnings errors: refuse what Apache Thrift's
    /// compiler refuses.
    #[arg(long)]
    strict: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The IDL files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Add DIR to the directories searched for included files.
    #[arg(short = 'I', long = "include-dir", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,

    /// How to print diagnostics: `full` (rustc's layout, with source lines)
    /// or `short` (one `file:line:col: error: message` line each).
    #[arg(long, value_enum, default_value_t = FormatArg::Full)]
    format: FormatArg,

    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,

    /// Also print what was checked: `ir` dumps the checked program.
    #[arg(long, value_enum)]
    emit: Option<EmitArg>,

    /// Make portability warnings (`warning[not-portable]`) errors, so a
    /// file passes only if Apache Thrift's compiler accepts it too.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Full,
    Short,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorArg {
    /// Colour when standard error is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EmitArg {
    /// The checked program, one line per definition, field and value.
    Ir,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Gen(args) => gen(args),
        Command::New(args) => new_crate(args),
        Command::Audit(args) => audit(args),
        Command::Call(args) => call::call(args, &call::renderer(auto_color())),
    }
}

fn new_crate(args: NewArgs) -> ExitCode {
    let renderer = Renderer {
        format: Format::Full,
        color: auto_color(),
    };
    let dependency = match new::Dependency::choose(
        args.runtime_dep,
        args.runtime_path.as_deref(),
        args.git.as_deref(),
    ) {
        Ok(dependency) => dependency,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Without `--idl`, the crate's own copy.
    let (idl, include_dirs) = match &args.idl {
        Some(idl) => (idl.clone(), args.include_dirs.clone()),
        None => match new::recorded_idl(&args.name) {
            Ok(recorded) => recorded,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let mode = match new::handler_mode(&args.name, args.async_handlers) {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let checked = match thriftgen::analyze(&[&idl], &include_dirs).into_result() {
        Ok(checked) => checked,
        Err(err) => {
            let _ = std::io::stderr()
                .lock()
                .write_all(err.render(&renderer).as_bytes());
            return ExitCode::from(1);
        }
    };
    let options = thriftgen::codegen::Options {
        async_handlers: mode.asynchronous,
        ..thriftgen::codegen::Options::default()
    };
    let services = match thriftgen::codegen::scaffold::scaffold(
        &checked.ir,
        &checked.sources,
        &options,
        "crate::gen",
        &args.services,
    ) {
        Ok(services) => services,
        Err(diagnostic) => {
            let report = renderer.render_all(&checked.sources, std::slice::from_ref(&*diagnostic));
            let _ = std::io::stderr().lock().write_all(report.as_bytes());
            return ExitCode::from(1);
        }
    };
    let sources: Vec<PathBuf> = checked
        .sources
        .files()
        .map(|(_, file)| file.path.clone())
        .collect();
    let request = new::Request {
        dir: &args.name,
        idl: &idl,
        include_dirs: &include_dirs,
        sources: &sources,
        dependency: &dependency,
        mode: &mode,
    };
    match new::run(&request, &services) {
        Ok(report) => {
            println!("{}:", args.name.display());
            for line in report {
                println!("  {line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn gen(args: GenArgs) -> ExitCode {
    let mut builder = thriftgen::Builder::new();
    if let Some(hasher) = &args.hasher {
        builder.hasher(hasher);
    }
    for dir in &args.include_dirs {
        builder.include_dir(dir);
    }
    builder
        .out_dir(&args.out)
        .runtime_path(args.runtime_path)
        .btree_collections(args.btree)
        .zero_copy_strings(args.zero_copy_strings)
        .keep_unknown_fields(args.keep_unknown_fields)
        .serde(args.serde)
        .server(!args.no_server)
        .client(!args.no_client)
        .async_handlers(args.async_handlers)
        .strict(args.strict)
        .cargo_metadata(false);
    let renderer = Renderer {
        format: Format::Full,
        color: auto_color(),
    };
    match builder.run(&args.files) {
        Ok(compiled) => {
            // The same warnings `check` prints.
            let _ = std::io::stderr()
                .lock()
                .write_all(compiled.render(&renderer).as_bytes());
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = std::io::stderr()
                .lock()
                .write_all(err.render(&renderer).as_bytes());
            ExitCode::from(1)
        }
    }
}

/// Colour when standard error is a terminal and `NO_COLOR` is unset.
fn auto_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn color(arg: ColorArg) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => auto_color(),
    }
}

fn audit(args: AuditArgs) -> ExitCode {
    let renderer = Renderer {
        format: match args.format {
            AuditFormatArg::Short => Format::Short,
            AuditFormatArg::Full | AuditFormatArg::Json => Format::Full,
        },
        color: color(args.color),
    };
    let old = thriftgen::analyze(&[&args.old], &args.include_dirs);
    let new = thriftgen::analyze(&[&args.new], &args.include_dirs);
    let (old, new) = match (old.into_result(), new.into_result()) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            // What `check` would print for each version that is invalid.
            let mut stderr = std::io::stderr().lock();
            for err in [old.err(), new.err()].into_iter().flatten() {
                let _ = stderr.write_all(err.render(&renderer).as_bytes());
            }
            return ExitCode::from(2);
        }
    };
    let audit = thriftgen::audit::audit(&old, &new);
    if let AuditFormatArg::Json = args.format {
        let _ = std::io::stdout()
            .lock()
            .write_all(audit.to_json().as_bytes());
    } else {
        let _ = std::io::stderr()
            .lock()
            .write_all(audit.render(&renderer).as_bytes());
    }
    if audit.is_breaking() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn check(args: CheckArgs) -> ExitCode {
    let mut analysis = thriftgen::analyze(&args.files, &args.include_dirs);
    if args.strict {
        analysis = analysis.into_strict();
    }
    let stderr = std::io::stderr();
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => auto_color(),
    };
    let renderer = Renderer {
        format: match args.format {
            FormatArg::Full => Format::Full,
            FormatArg::Short => Format::Short,
        },
        color,
    };
    let mut report = renderer.render_all(&analysis.sources, &analysis.diagnostics);
    if renderer.format == Format::Full {
        report.push_str(&thriftgen::summary(&analysis.diagnostics));
    }
    // Nothing useful is left to do if stderr or stdout is closed.
    let _ = stderr.lock().write_all(report.as_bytes());
    if analysis.has_errors() {
        return ExitCode::from(1);
    }
    if let Some(EmitArg::Ir) = args.emit {
        let sources = &analysis.sources;
        let dump = analysis
            .ir
            .dump(&|span| sources.file(span.file).line_col(span.start));
        let _ = std::io::stdout().lock().write_all(dump.as_bytes());
    }
    ExitCode::SUCCESS
}
