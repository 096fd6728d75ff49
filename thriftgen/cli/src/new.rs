//! `thriftgen new`: a service crate from the template in `template/`, and
//! later, stubs for the methods an IDL gained.
//!
//! Files that exist are never rewritten, with one exception made with care:
//! `src/handler.rs` gets stubs for new methods inserted into its `impl`
//! blocks (and `impl` blocks for new services appended), leaving every byte
//! the user wrote in place.

use proc_macro2::LineColumn;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use thriftgen::codegen::scaffold::{ServiceScaffold, TraitStubs};

const CARGO_TOML: &str = include_str!("../../../template/Cargo.toml.in");
const BUILD_RS: &str = include_str!("../../../template/build.rs.in");
const MAIN_RS: &str = include_str!("../../../template/src/main.rs.in");
const CLIENT_RS: &str = include_str!("../../../template/examples/client.rs.in");
const README: &str = include_str!("../../../template/README.md.in");

/// What `new` was asked.
pub struct Request<'a> {
    /// The crate's directory (its last component is the crate's name).
    pub dir: &'a Path,
    /// The IDL file.
    pub idl: &'a Path,
    /// Include directories.
    pub include_dirs: &'a [PathBuf],
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
    let idl = req
        .idl
        .canonicalize()
        .map_err(|e| format!("{}: {e}", req.idl.display()))?;
    let includes = req
        .include_dirs
        .iter()
        .map(|d| {
            d.canonicalize()
                .map(|d| format!("{:?}", relative(&crate_dir, &d).display().to_string()))
                .map_err(|e| format!("{}: {e}", d.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = services.iter().map(|s| s.idl_name.as_str()).collect();
    let vars = [
        ("name", name.clone()),
        ("idl", relative(&crate_dir, &idl).display().to_string()),
        ("idl_arg", req.idl.display().to_string()),
        (
            "include_dirs",
            if includes.is_empty() {
                "&[] as &[&str]".to_string()
            } else {
                format!("&[{}]", includes.join(", "))
            },
        ),
        ("services", describe(&names)),
        ("runtime_dep", dependency("runtime")),
        ("thriftgen_dep", dependency("thriftgen")),
        ("processor", processor(services)),
        ("client_path", client_path(services)),
        ("client_calls", client_calls(services)),
    ];
    let mut report = Vec::new();
    for (path, template) in [
        ("Cargo.toml", CARGO_TOML),
        ("build.rs", BUILD_RS),
        ("src/main.rs", MAIN_RS),
        ("examples/client.rs", CLIENT_RS),
        ("README.md", README),
    ] {
        let target = req.dir.join(path);
        if target.exists() {
            report.push(format!("kept     {path} (exists; never rewritten)"));
        } else {
            write(&target, &render(template, &vars))?;
            report.push(format!("created  {path}"));
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
        write(&handler, &new_handler(&idl, services))?;
        let count: usize = traits(services).map(|t| t.methods.len()).sum();
        let plural = if count == 1 { "" } else { "s" };
        report.push(format!("created  src/handler.rs ({count} stub{plural})"));
    }
    Ok(report)
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

/// Path dependencies on this workspace when the `thriftgen` that runs was
/// built from a workspace that is still there; versions otherwise.
fn dependency(dir: &str) -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = workspace.join(dir);
    match path
        .join("Cargo.toml")
        .exists()
        .then(|| path.canonicalize())
    {
        Some(Ok(path)) => format!("{{ path = {:?} }}", path.display().to_string()),
        _ => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
    }
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

fn processor(services: &[ServiceScaffold]) -> String {
    match services {
        [] => "thriftgen_runtime::service::NoService".to_string(),
        [one] => format!("{}::new(Arc::clone(&handler))", one.processor_path),
        [first, rest @ ..] => {
            // Several services on one port: `Service:method` names route to
            // each, plain names to the first.
            let mut out = format!(
                "Multiplexed::new({:?}, {}::new(Arc::clone(&handler)))",
                first.idl_name, first.processor_path
            );
            for s in rest {
                let _ = write!(
                    out,
                    "\n        .with({:?}, {}::new(Arc::clone(&handler)))",
                    s.idl_name, s.processor_path
                );
            }
            let _ = write!(
                out,
                "\n        .with_default({}::new(Arc::clone(&handler)))",
                first.processor_path
            );
            out
        }
    }
}

fn client_path(services: &[ServiceScaffold]) -> String {
    services
        .first()
        .map_or_else(|| "()".to_string(), |s| s.client_path.clone())
}

/// Calls of the first service's methods that take no argument or only
/// arguments with defaults (at most three).
fn client_calls(services: &[ServiceScaffold]) -> String {
    let Some(first) = services.first() else {
        return "    let _ = &mut client;".to_string();
    };
    let mut out = String::new();
    let calls = first
        .traits
        .iter()
        .flat_map(|t| t.methods.iter().map(move |m| (t, m)))
        .filter(|(_, m)| m.defaultable)
        .take(3);
    for (t, m) in calls {
        let args = vec!["Default::default()"; m.arity].join(", ");
        let _ = writeln!(
            out,
            "    println!(\"{}.{} -> {{:?}}\", client.{}({args}));",
            t.idl_name, m.name, m.name
        );
    }
    if out.is_empty() {
        out.push_str("    // Call a method here, for example `client.some_method(args)?`.\n    let _ = &mut client;\n");
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
    let mut out = format!(
        "//! The handlers of `{file}`: this file is yours. Each method starts as a\n\
         //! stub answering \"not implemented\"; replace the stubs with the real\n\
         //! work. `thriftgen new` adds stubs here for methods the IDL gains later\n\
         //! and never changes what you wrote.\n\n\
         use thriftgen_runtime::protocol::{{ApplicationErrorKind, ApplicationException}};\n\
         use thriftgen_runtime::service::CallContext;\n\n\
         /// Serves every service of `{file}`; its state (a database pool, a\n\
         /// cache...) goes in its fields.\n\
         #[derive(Debug, Default)]\n\
         pub struct Handler {{}}\n"
    );
    for t in traits(services) {
        out.push('\n');
        out.push_str(&impl_block(t));
    }
    out.push_str(
        "\n/// The answer of a method that is not written yet: an application error\n\
         /// the caller sees as `TApplicationException(UNKNOWN)`. (Kept when every\n\
         /// method is written: stubs for new methods use it.)\n\
         #[allow(dead_code)]\n\
         fn not_implemented(method: &str) -> ApplicationException {\n    \
         ApplicationException::new(\n        \
         ApplicationErrorKind::UNKNOWN,\n        \
         format!(\"{method} is not implemented yet\"),\n    \
         )\n}\n",
    );
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
