//! `thriftgen new`: a service crate from the template in `template/` of this
//! package (inside it, so `cargo package` takes it along), and later, stubs
//! for the methods an IDL gained.
//!
//! Files that exist are never rewritten, with one exception made with care:
//! `src/handler.rs` gets stubs for new methods inserted into its `impl`
//! blocks (and `impl` blocks for new services appended), leaving every byte
//! the user wrote in place.
//!
//! With `--async` the crate's handlers are `async fn`s served on a tokio
//! runtime (the templates in `template/async/`); the crate records that in
//! its `Cargo.toml`, so that later runs add `async fn` stubs.

use proc_macro2::LineColumn;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use thriftgen::codegen::scaffold::{ServiceScaffold, TraitStubs};

const CARGO_TOML: &str = include_str!("../template/Cargo.toml.in");
const BUILD_RS: &str = include_str!("../template/build.rs.in");
const MAIN_RS: &str = include_str!("../template/src/main.rs.in");
const CLIENT_RS: &str = include_str!("../template/examples/client.rs.in");
const README: &str = include_str!("../template/README.md.in");
const ASYNC_CARGO_TOML: &str = include_str!("../template/async/Cargo.toml.in");
const ASYNC_BUILD_RS: &str = include_str!("../template/async/build.rs.in");
const ASYNC_MAIN_RS: &str = include_str!("../template/async/src/main.rs.in");
const ASYNC_CLIENT_RS: &str = include_str!("../template/async/examples/client.rs.in");
const ASYNC_README: &str = include_str!("../template/async/README.md.in");

/// What `new` was asked.
pub struct Request<'a> {
    /// The crate's directory (its last component is the crate's name).
    pub dir: &'a Path,
    /// The root IDL file: the one given with `--idl`, or the crate's own copy
    /// (see [`recorded_idl`]).
    pub idl: &'a Path,
    /// Include directories.
    pub include_dirs: &'a [PathBuf],
    /// Every IDL file read (the root and its includes).
    pub sources: &'a [PathBuf],
    /// How the crate depends on the runtime and the generator.
    pub dependency: &'a Dependency,
    /// Blocking or async handlers (see [`handler_mode`]).
    pub mode: &'a HandlerMode,
}

/// Whether the crate's handlers block or are `async fn`s, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerMode {
    /// `async fn` handlers on a tokio runtime.
    pub asynchronous: bool,
    /// Where the choice came from, for the report.
    why: &'static str,
}

impl HandlerMode {
    /// One line for the report.
    fn describe(&self) -> String {
        let what = if self.asynchronous {
            "async fns on a tokio runtime"
        } else {
            "blocking"
        };
        format!("handlers {what} ({})", self.why)
    }
}

/// Chooses blocking or async handlers: `--async` for a new crate; for one
/// made before, what it records (`async-handlers = true` under
/// `[package.metadata.thriftgen]`) or, failing that, whether its
/// `src/handler.rs` has `async fn`s.
///
/// # Errors
///
/// When `--async` is asked of a crate made with blocking handlers: its
/// `build.rs` and `src/main.rs` are the user's and are never rewritten.
pub fn handler_mode(dir: &Path, asked: bool) -> Result<HandlerMode, String> {
    let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return Ok(HandlerMode {
            asynchronous: asked,
            why: if asked {
                "`--async`; recorded in Cargo.toml"
            } else {
                "`--async` for async fns on a tokio runtime"
            },
        });
    };
    let recorded = metadata_value(&manifest, "async-handlers").is_some_and(|v| v == "true");
    let found = || {
        std::fs::read_to_string(dir.join("src/handler.rs"))
            .is_ok_and(|text| has_async_methods(&text))
    };
    let mode = if recorded {
        HandlerMode {
            asynchronous: true,
            why: "as Cargo.toml records: `async-handlers = true`",
        }
    } else if found() {
        HandlerMode {
            asynchronous: true,
            why: "src/handler.rs has `async fn`s",
        }
    } else {
        HandlerMode {
            asynchronous: false,
            why: "as the crate was made",
        }
    };
    if asked && !mode.asynchronous {
        return Err(format!(
            "`{}` was made with blocking handlers: `--async` does not rewrite its \
             build.rs and src/main.rs\n\
             help: scaffold another crate with `--async` to see what changes, or drop `--async`",
            dir.display()
        ));
    }
    Ok(mode)
}

/// Whether an `impl` block of `text` (a handler file) has an `async fn`.
fn has_async_methods(text: &str) -> bool {
    let Ok(file) = syn::parse_file(text) else {
        return false;
    };
    file.items.iter().any(|item| match item {
        syn::Item::Impl(block) => block.items.iter().any(|i| match i {
            syn::ImplItem::Fn(f) => f.sig.asyncness.is_some(),
            _ => false,
        }),
        _ => false,
    })
}

/// How `--runtime-dep` was given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DependencyKind {
    /// A path to a thriftgen checkout (`--runtime-path DIR`).
    Path,
    /// A git repository (`--git URL`).
    Git,
    /// The crates' version on crates.io.
    Version,
}

/// Where the scaffolded crate gets `thriftgen-runtime` and `thriftgen`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dependency {
    /// A thriftgen checkout: the directory holding `runtime/` and
    /// `thriftgen/`.
    Path(PathBuf),
    /// A git repository holding both crates.
    Git(String),
    /// The published version this `thriftgen` was built as.
    Version,
}

impl Dependency {
    /// Chooses from `--runtime-dep`, `--runtime-path` and `--git`. Without
    /// `--runtime-dep`: a path when `--runtime-path` is given or the checkout
    /// this `thriftgen` was built from is still there, else git.
    pub fn choose(
        kind: Option<DependencyKind>,
        path: Option<&Path>,
        git: Option<&str>,
    ) -> Result<Dependency, String> {
        let kind = kind.unwrap_or(match (path, git) {
            (Some(_), _) => DependencyKind::Path,
            (None, Some(_)) => DependencyKind::Git,
            (None, None) if built_checkout().is_some() => DependencyKind::Path,
            (None, None) => DependencyKind::Git,
        });
        if path.is_some() && kind != DependencyKind::Path {
            return Err("`--runtime-path` goes with `--runtime-dep path`".to_string());
        }
        if git.is_some() && kind != DependencyKind::Git {
            return Err("`--git` goes with `--runtime-dep git`".to_string());
        }
        Ok(match kind {
            DependencyKind::Path => match path {
                Some(dir) => Dependency::Path(checkout(dir)?),
                None => Dependency::Path(built_checkout().ok_or_else(|| {
                    "the checkout this `thriftgen` was built from is gone: \
                     give `--runtime-path DIR`"
                        .to_string()
                })?),
            },
            DependencyKind::Git => {
                Dependency::Git(git.unwrap_or(env!("CARGO_PKG_REPOSITORY")).to_string())
            }
            DependencyKind::Version => Dependency::Version,
        })
    }

    /// The TOML value for the dependency on the crate in directory `dir` of
    /// the checkout (`runtime` or `thriftgen`).
    fn toml(&self, dir: &str) -> String {
        match self {
            Dependency::Path(root) => {
                format!("{{ path = {:?} }}", root.join(dir).display().to_string())
            }
            Dependency::Git(url) => format!("{{ git = {url:?} }}"),
            Dependency::Version => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        }
    }

    /// One line for the report.
    fn describe(&self) -> String {
        match self {
            Dependency::Path(root) => format!(
                "path {} (--runtime-dep path; --runtime-path DIR for another checkout)",
                root.display()
            ),
            Dependency::Git(url) => format!("git {url} (--runtime-dep git; --git URL for another)"),
            Dependency::Version => format!(
                "version {} from crates.io (--runtime-dep version)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// The checkout this `thriftgen` was built from, if it is still there.
fn built_checkout() -> Option<PathBuf> {
    checkout(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).ok()
}

/// `dir` as a checkout holding both crates: the checkout itself, or its
/// `runtime/` directory.
fn checkout(dir: &Path) -> Result<PathBuf, String> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let holds = |root: &Path| {
        root.join("runtime/Cargo.toml").is_file() && root.join("thriftgen/Cargo.toml").is_file()
    };
    if holds(&dir) {
        return Ok(dir);
    }
    match dir.parent() {
        Some(parent) if dir.ends_with("runtime") && holds(parent) => Ok(parent.to_path_buf()),
        _ => Err(format!(
            "{} is not a thriftgen checkout (a directory with runtime/ and thriftgen/)",
            dir.display()
        )),
    }
}

/// The table of the crate's `Cargo.toml` that records its IDL.
const METADATA: &str = "[package.metadata.thriftgen]";

/// The IDL a crate made before serves, and its include directories, as its
/// `Cargo.toml` records them (`[package.metadata.thriftgen]`): the copy in
/// its `idl/` directory. Used when `new` runs again without `--idl`.
pub fn recorded_idl(dir: &Path) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| {
        format!(
            "{}: {e}; give `--idl FILE` to create the crate",
            manifest.display()
        )
    })?;
    if !text.contains(METADATA) {
        return Err(format!(
            "{} has no `{METADATA}` table naming the IDL: give `--idl FILE`",
            manifest.display()
        ));
    }
    let value = |key: &str| metadata_value(&text, key);
    let idl = value("idl")
        .and_then(|v| unquote(&v))
        .ok_or_else(|| format!("{}: `idl` is missing from `{METADATA}`", manifest.display()))?;
    let includes = value("include-dirs").unwrap_or_default();
    let includes = includes
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .filter_map(|v| unquote(v.trim()))
        .map(|d| dir.join(d))
        .collect();
    Ok((dir.join(idl), includes))
}

/// The value of `key` in the `[package.metadata.thriftgen]` table of the
/// manifest `text`, as written (`"idl/shop.thrift"`, `true`).
fn metadata_value(text: &str, key: &str) -> Option<String> {
    let (_, rest) = text.split_once(METADATA)?;
    let table = rest.split("\n[").next().unwrap_or(rest);
    table.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// A TOML basic string's contents (`"a\\b"` gives `a\b`).
fn unquote(value: &str) -> Option<String> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Scaffolds or updates the crate; returns the lines of the report.
pub fn run(req: &Request<'_>, services: &[ServiceScaffold]) -> Result<Vec<String>, String> {
    let name = crate_name(req.dir)?;
    std::fs::create_dir_all(req.dir.join("src"))
        .and_then(|()| std::fs::create_dir_all(req.dir.join("examples")))
        .map_err(|e| format!("cannot create {}: {e}", req.dir.display()))?;
    let crate_dir = req
        .dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", req.dir.display()))?;
    let asynchronous = req.mode.asynchronous;
    let mut report = vec![req.mode.describe()];
    let copy = copy_idl(&crate_dir, req, &mut report)?;
    let quoted = |p: &str| format!("{p:?}");
    let includes: Vec<String> = copy.include_dirs.iter().map(|d| quoted(d)).collect();
    let names: Vec<&str> = services.iter().map(|s| s.idl_name.as_str()).collect();
    let vars = [
        ("name", name.clone()),
        ("idl", copy.idl.clone()),
        ("idl_toml", quoted(&copy.idl)),
        ("include_dirs_toml", format!("[{}]", includes.join(", "))),
        (
            "include_dirs",
            if includes.is_empty() {
                "&[] as &[&str]".to_string()
            } else {
                format!("&[{}]", includes.join(", "))
            },
        ),
        (
            "include_dir_calls",
            includes
                .iter()
                .map(|d| format!("        .include_dir({d})\n"))
                .collect(),
        ),
        ("services", describe(&names)),
        ("runtime_dep", req.dependency.toml("runtime")),
        ("thriftgen_dep", req.dependency.toml("thriftgen")),
        ("processor", processor(services, asynchronous)),
        ("client_path", client_path(services, asynchronous)),
        ("client_calls", client_calls(services, asynchronous)),
    ];
    let templates = if asynchronous {
        [
            ("Cargo.toml", ASYNC_CARGO_TOML),
            ("build.rs", ASYNC_BUILD_RS),
            ("src/main.rs", ASYNC_MAIN_RS),
            ("examples/client.rs", ASYNC_CLIENT_RS),
            ("README.md", ASYNC_README),
        ]
    } else {
        [
            ("Cargo.toml", CARGO_TOML),
            ("build.rs", BUILD_RS),
            ("src/main.rs", MAIN_RS),
            ("examples/client.rs", CLIENT_RS),
            ("README.md", README),
        ]
    };
    for (path, template) in templates {
        let target = req.dir.join(path);
        if target.exists() {
            report.push(format!("kept     {path} (exists; never rewritten)"));
            // The IDL moved within idl/ (its includes reach further now).
            let text = std::fs::read_to_string(&target).unwrap_or_default();
            if matches!(path, "Cargo.toml" | "build.rs") && !text.contains(&copy.idl) {
                report.push(format!(
                    "note     {path} does not name {}, where the IDL is now: update it",
                    copy.idl
                ));
            }
        } else {
            write(&target, &render(template, &vars))?;
            report.push(format!("created  {path}"));
            if path == "Cargo.toml" {
                report.push(format!(
                    "         thriftgen-runtime and thriftgen from {}",
                    req.dependency.describe()
                ));
            }
        }
    }
    let handler = req.dir.join("src/handler.rs");
    if handler.exists() {
        let text =
            std::fs::read_to_string(&handler).map_err(|e| format!("{}: {e}", handler.display()))?;
        let (updated, lines) = update_handler(&text, services)?;
        if updated != text {
            write(&handler, &updated)?;
        }
        if lines.is_empty() {
            report.push("kept     src/handler.rs (every method has its stub)".to_string());
        }
        report.extend(lines);
        // `src/main.rs` is the user's too: say what it does not serve yet.
        if let Ok(main) = std::fs::read_to_string(req.dir.join("src/main.rs")) {
            for s in services {
                if !main.contains(&s.processor_path) {
                    report.push(format!(
                        "note     service `{}` is not served by src/main.rs: add `{}` there \
                         (see `Multiplexed` for several services on one port)",
                        s.idl_name, s.processor_path
                    ));
                }
            }
        }
    } else {
        write(&handler, &new_handler(req.idl, services))?;
        let count: usize = traits(services).map(|t| t.methods.len()).sum();
        let plural = if count == 1 { "" } else { "s" };
        report.push(format!("created  src/handler.rs ({count} stub{plural})"));
    }
    Ok(report)
}

/// Where the crate's copy of the IDL is, relative to the crate.
struct IdlCopy {
    /// The root file (`idl/shop.thrift`).
    idl: String,
    /// The include directories (`idl/shared`).
    include_dirs: Vec<String>,
}

/// Copies the IDL and every file it includes into the crate's `idl/`,
/// keeping their layout relative to one another so that includes resolve
/// as before; nothing is copied when they already are the crate's copy.
fn copy_idl(
    crate_dir: &Path,
    req: &Request<'_>,
    report: &mut Vec<String>,
) -> Result<IdlCopy, String> {
    let canonical = |p: &Path| {
        p.canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let idl = canonical(req.idl)?;
    let mut sources = req
        .sources
        .iter()
        .map(|p| canonical(p))
        .collect::<Result<Vec<_>, _>>()?;
    if !sources.contains(&idl) {
        sources.insert(0, idl.clone());
    }
    let include_dirs = req
        .include_dirs
        .iter()
        .map(|d| canonical(d))
        .collect::<Result<Vec<_>, _>>()?;
    let own = crate_dir.join("idl");
    let to_string = |p: &Path| {
        let text = p.display().to_string().replace('\\', "/");
        text.trim_end_matches('/').to_string()
    };
    if sources.iter().all(|s| s.starts_with(&own)) {
        report.push(format!(
            "read     {} (the crate's copy; `--idl FILE` refreshes it from FILE)",
            to_string(&relative(crate_dir, &idl))
        ));
        return Ok(IdlCopy {
            idl: to_string(&relative(crate_dir, &idl)),
            include_dirs: include_dirs
                .iter()
                .map(|d| to_string(&relative(crate_dir, d)))
                .collect(),
        });
    }
    // The include directories a file was found in, and the deepest
    // directory holding them and every file.
    let used: Vec<&PathBuf> = include_dirs
        .iter()
        .filter(|d| sources.iter().any(|s| s.starts_with(d)))
        .collect();
    let mut base = idl.parent().unwrap_or(Path::new("/")).to_path_buf();
    for p in sources
        .iter()
        .filter_map(|s| s.parent())
        .chain(used.iter().map(|d| d.as_path()))
    {
        while !p.starts_with(&base) {
            if !base.pop() {
                break;
            }
        }
    }
    for source in &sources {
        let rel = relative(&base, source);
        let target = own.join(&rel);
        let text = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
        let shown = to_string(&Path::new("idl").join(&rel));
        match std::fs::read(&target) {
            Ok(old) if old == text => {
                if source == &idl {
                    report.push(format!(
                        "kept     {shown} (the same as {})",
                        req.idl.display()
                    ));
                }
                continue;
            }
            Ok(_) => report.push(format!("updated  {shown} (from {})", source.display())),
            Err(_) => report.push(format!("created  {shown}")),
        }
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&target, &text)
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    let in_copy = |p: &Path| to_string(&Path::new("idl").join(relative(&base, p)));
    Ok(IdlCopy {
        idl: in_copy(&idl),
        include_dirs: used.iter().map(|d| in_copy(d)).collect(),
    })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn crate_name(dir: &Path) -> Result<String, String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("`{}` does not end in a crate name", dir.display()))?;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`{name}` is not a crate name: use letters, digits, `-` and `_`, starting with a letter"
        ))
    }
}

/// `{{key}}` → value.
fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// `a`, `a and b`, `a, b and c` in backquotes.
fn describe(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "no service".to_string(),
        [one] => format!("service {one}"),
        [rest @ .., last] => format!("services {} and {last}", rest.join(", ")),
    }
}

/// The expression `src/main.rs` serves, over `handler`, an `Arc<Handler>`.
fn processor(services: &[ServiceScaffold], asynchronous: bool) -> String {
    // A blocking processor takes any handler (`Arc<Handler>` is one); an
    // async one holds an `Arc` itself.
    let make = |s: &ServiceScaffold| {
        if asynchronous {
            format!("{}::from_arc(Arc::clone(&handler))", s.processor_path)
        } else {
            format!("{}::new(Arc::clone(&handler))", s.processor_path)
        }
    };
    match services {
        [] => "thriftgen_runtime::service::NoService".to_string(),
        [one] => make(one),
        [first, rest @ ..] => {
            // Several services on one port: `Service:method` names route to
            // each, plain names to the first.
            let mut out = format!("Multiplexed::new({:?}, {})", first.idl_name, make(first));
            for s in rest {
                let _ = write!(out, "\n        .with({:?}, {})", s.idl_name, make(s));
            }
            let _ = write!(out, "\n        .with_default({})", make(first));
            out
        }
    }
}

fn client_path(services: &[ServiceScaffold], asynchronous: bool) -> String {
    let Some(first) = services.first() else {
        return "()".to_string();
    };
    if asynchronous {
        first.async_client_path.clone()
    } else {
        first.client_path.clone()
    }
}

/// Calls of the first service's methods that take no argument or only
/// arguments with defaults (at most three).
fn client_calls(services: &[ServiceScaffold], asynchronous: bool) -> String {
    let (mutable, call_end) = if asynchronous {
        ("", ".await")
    } else {
        ("mut ", "")
    };
    let Some(first) = services.first() else {
        return format!("    let _ = &{mutable}client;");
    };
    let mut out = String::new();
    let calls = first
        .traits
        .iter()
        .flat_map(|t| t.methods.iter().map(move |m| (t, m)))
        .filter(|(_, m)| m.defaultable)
        .take(3);
    for (t, m) in calls {
        let args = &m.example_args;
        let _ = writeln!(
            out,
            "    println!(\"{}.{} -> {{:?}}\", client.{}({args}){call_end});",
            t.idl_name, m.name, m.client_name
        );
    }
    if out.is_empty() {
        let _ = writeln!(
            out,
            "    // Call a method here, for example `client.some_method(args){call_end}?`.\n    \
             let _ = &{mutable}client;"
        );
    }
    out.trim_end().to_string()
}

/// Every trait to implement, each once, bases first.
fn traits(services: &[ServiceScaffold]) -> impl Iterator<Item = &TraitStubs> {
    let mut seen = BTreeSet::new();
    services
        .iter()
        .flat_map(|s| s.traits.iter())
        .filter(move |t| seen.insert(t.trait_path.clone()))
}

fn impl_block(t: &TraitStubs) -> String {
    let mut out = format!("impl {} for Handler {{\n", t.trait_path);
    let methods: Vec<&str> = t.methods.iter().map(|m| m.code.as_str()).collect();
    out.push_str(&methods.join("\n"));
    out.push_str("}\n");
    out
}

fn new_handler(idl: &Path, services: &[ServiceScaffold]) -> String {
    let file = idl
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    // The stubs answer with `ApplicationException::not_implemented`, from the
    // runtime, so nothing here is needed once every method is written.
    // Without a method yet, the imports wait for the stubs of later ones.
    let allow = if traits(services).all(|t| t.methods.is_empty()) {
        "#[allow(unused_imports)]\n"
    } else {
        ""
    };
    let mut out = format!(
        "//! The handlers of `{file}`: this file is yours. Each method starts as a\n\
         //! stub answering \"not implemented\"; replace the stubs with the real\n\
         //! work. `thriftgen new` adds stubs here for methods the IDL gains later\n\
         //! and never changes what you wrote.\n\n\
         {allow}use thriftgen_runtime::protocol::ApplicationException;\n\
         {allow}use thriftgen_runtime::service::CallContext;\n\n\
         /// Serves every service of `{file}`; its state (a database pool, a\n\
         /// cache...) goes in its fields.\n\
         #[derive(Debug, Default)]\n\
         pub struct Handler {{}}\n"
    );
    for t in traits(services) {
        out.push('\n');
        out.push_str(&impl_block(t));
    }
    out
}

/// Adds stubs for missing methods to `text` (the user's handler file):
/// inside the existing `impl Trait for ...` blocks, or as new blocks at the
/// end. Returns the new text and the report.
fn update_handler(
    text: &str,
    services: &[ServiceScaffold],
) -> Result<(String, Vec<String>), String> {
    let file = syn::parse_file(text)
        .map_err(|e| format!("src/handler.rs does not parse ({e}); fix it, then run again"))?;
    // trait name -> (the position of its closing brace, its methods)
    let mut impls: Vec<(String, LineColumn, Vec<String>)> = Vec::new();
    for item in &file.items {
        if let syn::Item::Impl(block) = item {
            let Some((_, path, _)) = &block.trait_ else {
                continue;
            };
            let Some(last) = path.segments.last() else {
                continue;
            };
            let methods = block
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                    _ => None,
                })
                .collect();
            impls.push((
                last.ident.to_string(),
                block.brace_token.span.close().start(),
                methods,
            ));
        }
    }
    let mut insertions: Vec<(usize, String)> = Vec::new();
    let mut appended = String::new();
    let mut report = Vec::new();
    for t in traits(services) {
        match impls.iter().find(|(name, _, _)| name == &t.trait_name) {
            Some((_, close, have)) => {
                let missing: Vec<_> = t
                    .methods
                    .iter()
                    .filter(|m| !have.iter().any(|h| h.trim_start_matches("r#") == m.name))
                    .collect();
                if !missing.is_empty() {
                    let code: Vec<&str> = missing.iter().map(|m| m.code.as_str()).collect();
                    insertions.push((offset(text, *close), format!("\n{}", code.join("\n"))));
                    for m in &missing {
                        report.push(format!(
                            "added    stub {}::{} to src/handler.rs",
                            t.trait_name, m.name
                        ));
                    }
                }
                for h in have {
                    if !t
                        .methods
                        .iter()
                        .any(|m| m.name == h.trim_start_matches("r#"))
                    {
                        report.push(format!(
                            "note     {}::{h} is no longer in the IDL: remove it from src/handler.rs",
                            t.trait_name
                        ));
                    }
                }
            }
            None => {
                appended.push('\n');
                appended.push_str(&impl_block(t));
                let n = t.methods.len();
                report.push(format!(
                    "added    impl {} ({n} stub{}) to src/handler.rs",
                    t.trait_name,
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
    }
    let mut out = text.to_string();
    insertions.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (at, code) in insertions {
        out.insert_str(at, &code);
    }
    if !appended.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&appended);
    }
    Ok((out, report))
}

/// The byte offset of a line/column (1-based line, 0-based char column).
fn offset(text: &str, at: LineColumn) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(at.line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line = &text[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i)
}

/// `to` relative to `from` (both absolute), with `..` where needed.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/c"), Path::new("/a/idl/x.thrift")),
            PathBuf::from("../../idl/x.thrift")
        );
        assert_eq!(
            relative(Path::new("/a"), Path::new("/a/idl/x.thrift")),
            PathBuf::from("idl/x.thrift")
        );
    }

    #[test]
    fn offsets_count_characters() {
        let text = "ab\ncé}\n";
        assert_eq!(
            offset(text, LineColumn { line: 2, column: 2 }),
            text.find('}').unwrap()
        );
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(&["A"]), "service `A`");
        assert_eq!(describe(&["A", "B", "C"]), "services `A`, `B` and `C`");
    }
}
