//! The `build.rs` API, in the style of `prost-build`: [`compile`] for the
//! common case, [`Builder`] for the rest.
//!
//! ```no_run
//! // build.rs, in `fn main`:
//! thriftgen::compile(&["idl/service.thrift"], &["idl"]).unwrap();
//! ```
//!
//! ```ignore
//! // src/lib.rs
//! pub mod gen {
//!     thriftgen_runtime::include_generated!();
//! }
//! ```

use crate::codegen::{self, Options};
use crate::diag::{Diagnostic, Format, Renderer};
use crate::source::SourceMap;
use crate::Error;
use std::path::{Path, PathBuf};

/// Generates Rust for `files` (and everything they include) into
/// `$OUT_DIR/thriftgen/`, with `include_dirs` searched for includes.
///
/// # Errors
///
/// When an IDL file is invalid (the error renders every diagnostic) or the
/// output cannot be written.
pub fn compile<P: AsRef<Path>, Q: AsRef<Path>>(
    files: &[P],
    include_dirs: &[Q],
) -> Result<(), Error> {
    let mut builder = Builder::new();
    for dir in include_dirs {
        builder.include_dir(dir);
    }
    builder.compile(files)
}

/// Configures code generation; every setter returns `&mut Self`.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    include_dirs: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    options: Options,
    cargo: Option<bool>,
    strict: bool,
}

/// What a successful [`Builder::run`] leaves: its warnings, with the files
/// they point into.
#[derive(Debug)]
pub struct Compiled {
    /// Every file read.
    pub sources: SourceMap,
    /// The warnings of the run, in source order (there were no errors).
    pub warnings: Vec<Diagnostic>,
}

impl Compiled {
    /// The warnings rendered with `renderer`, with rustc's closing line
    /// (`warning: 2 warnings emitted`) in the full layout; empty when there
    /// are none.
    pub fn render(&self, renderer: &Renderer) -> String {
        let mut out = renderer.render_all(&self.sources, &self.warnings);
        if renderer.format == Format::Full {
            out.push_str(&crate::summary(&self.warnings));
        }
        out
    }
}

impl Builder {
    /// A builder with the defaults: output to `$OUT_DIR/thriftgen`, runtime at
    /// `::thriftgen_runtime`, hash collections.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Adds a directory to search for included files (after the including
    /// file's own directory, in the order added).
    pub fn include_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.include_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// Writes the generated files into `dir` instead of `$OUT_DIR/thriftgen`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The path generated code names the runtime crate by (default
    /// `::thriftgen_runtime`), for a renamed or re-exported runtime.
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.options.runtime_path = path.into();
        self
    }

    /// Uses `BTreeMap`/`BTreeSet` for IDL maps and sets instead of
    /// `HashMap`/`HashSet`.
    pub fn btree_collections(&mut self, yes: bool) -> &mut Self {
        self.options.btree = yes;
        self
    }

    /// The `BuildHasher` of every generated `HashMap` and `HashSet`, as a type
    /// path the generated code can name (`BuildHasher + Default + Clone`),
    /// such as `::foldhash::fast::RandomState` or `::ahash::RandomState`
    /// (the crate is a dependency of yours). By default, the standard
    /// library's: SipHash, keyed at random, which an attacker who sends
    /// maps cannot make collide. Faster hashers decode maps and sets
    /// faster (see `BENCHMARKS.md`), at the cost of that guarantee; choose
    /// one where peers are trusted.
    pub fn hasher(&mut self, path: impl Into<String>) -> &mut Self {
        self.options.hasher = Some(path.into());
        self
    }

    /// Generates `string` as `thriftgen_runtime::ByteString` instead of
    /// `String`: decoding validates the UTF-8 and slices the message instead
    /// of allocating and copying. It dereferences to `str`.
    pub fn zero_copy_strings(&mut self, yes: bool) -> &mut Self {
        self.options.zero_copy_strings = yes;
        self
    }

    /// Whether to generate the server side of each service: its handler
    /// trait, dispatch function and `<Service>Processor`. On by default.
    pub fn server(&mut self, yes: bool) -> &mut Self {
        self.options.server = yes;
        self
    }

    /// Whether to generate each service's clients, the blocking
    /// `<Service>Client` and the shared `<Service>AsyncClient`. On by
    /// default.
    pub fn client(&mut self, yes: bool) -> &mut Self {
        self.options.client = yes;
        self
    }

    /// Async handler traits: each method of a service's trait returns
    /// `impl Future<Output = Result<T, E>> + Send` (implement it with
    /// `async fn`), and `<Service>Processor` holds an `Arc` of the handler
    /// and implements `AsyncProcessor`, for the server's async mode. Off by
    /// default: blocking methods and a `Processor`. Clients are the same
    /// either way.
    pub fn async_handlers(&mut self, yes: bool) -> &mut Self {
        self.options.async_handlers = yes;
        self
    }

    /// Keeps the fields a struct does not know (sent by a newer peer) as raw
    /// bytes in its `_unknown_fields`, and writes them back on encode, so a
    /// proxy or an older service passes a newer message on whole; a union's
    /// `Unknown` variant keeps its field too. Off by default: unknown fields
    /// are skipped, and the generated code is exactly what it is without
    /// this option.
    pub fn keep_unknown_fields(&mut self, yes: bool) -> &mut Self {
        self.options.keep_unknown_fields = yes;
        self
    }

    /// Derives `serde::Serialize` and `serde::Deserialize` on the generated
    /// structs, exceptions and unions, and implements them for enums. Off by
    /// default, and then the generated code is exactly what it is without
    /// this option.
    ///
    /// The mapping (the guide's chapter 14 has the details):
    ///
    /// - fields and union variants keep their IDL names (`#[serde(rename)]`
    ///   where the Rust name differs), and a union is an externally tagged
    ///   enum, `{"field": value}`;
    /// - an enum value is its IDL name (`"PAID"`), or its number for a
    ///   value the IDL does not name; either is read back;
    /// - in human-readable formats (JSON, YAML, ...) `binary` is a base64
    ///   string (standard alphabet, padded; read with or without padding)
    ///   and `uuid` its `8-4-4-4-12` hex text; in other formats, raw bytes
    ///   (and enum numbers);
    /// - an optional field that is `None` is left out, and reads as `None`
    ///   when missing; one with an IDL default reads as that default when
    ///   missing (as `Default` builds it), and its `None` is written as
    ///   `null` so that it reads back as `None`; a missing `required` field
    ///   is an error; fields the IDL does not have are ignored, and
    ///   `_unknown_fields` and a union's `Unknown` variant are skipped
    ///   (serializing `Unknown` is an error);
    /// - lists, sets and maps are what serde makes of `Vec`, `HashSet` and
    ///   `HashMap` (or the B-tree ones): a map whose keys are structs, lists
    ///   or sets does not go through `serde_json`, which needs string or
    ///   number keys.
    ///
    /// The generated code names serde as `::serde` and the runtime's
    /// helpers through its `serde` feature, so the crate that compiles it
    /// needs, in `Cargo.toml`:
    ///
    /// ```toml
    /// [dependencies]
    /// serde = { version = "1", features = ["derive"] }
    /// # or a path or git dependency, as for the runtime without serde
    /// thriftgen-runtime = { version = "0.1", features = ["serde"] }
    /// ```
    ///
    /// Without the runtime's feature the generated `mod.rs` fails to
    /// compile with an error that says so.
    pub fn serde(&mut self, yes: bool) -> &mut Self {
        self.options.serde = yes;
        self
    }

    /// Adds `attribute` (for example `#[derive(serde::Serialize)]`) to the
    /// types that IDL path `path` selects: `.` selects every type, `shop`
    /// every type of `shop.thrift`, `shop.Order` one type.
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.options
            .type_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Adds `attribute` to the struct fields (and union variants) that IDL
    /// path `path` selects: `shop.Order.id` one field, `shop.Order` all its
    /// fields, `.` every field.
    pub fn field_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.options
            .field_attributes
            .push((path.into(), attribute.into()));
        self
    }

    /// Whether to print `cargo:` lines (`rerun-if-changed`, warnings). By
    /// default, when running under Cargo (`OUT_DIR` is set).
    pub fn cargo_metadata(&mut self, yes: bool) -> &mut Self {
        self.cargo = Some(yes);
        self
    }

    /// Strict mode: constructs that Apache Thrift's compiler refuses (the
    /// portability warnings, `warning[not-portable]`) are errors, so IDL
    /// shared with other languages' generators stays compilable there.
    /// Off by default.
    pub fn strict(&mut self, yes: bool) -> &mut Self {
        self.strict = yes;
        self
    }

    /// Checks `files`, generates their Rust and writes the files whose
    /// contents changed.
    ///
    /// # Errors
    ///
    /// When an IDL file is invalid or the output cannot be written.
    pub fn compile<P: AsRef<Path>>(&self, files: &[P]) -> Result<(), Error> {
        self.run(files).map(drop)
    }

    /// Like [`Builder::compile`], and returns the warnings of the run (which
    /// `compile` passes to Cargo only), for tools that print them.
    ///
    /// # Errors
    ///
    /// When an IDL file is invalid or the output cannot be written.
    pub fn run<P: AsRef<Path>>(&self, files: &[P]) -> Result<Compiled, Error> {
        let cargo = self
            .cargo
            .unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some());
        let mut analysis = crate::analyze(files, &self.include_dirs);
        if self.strict {
            analysis = analysis.into_strict();
        }
        if cargo {
            // Every file read, includes too, so an edit anywhere reruns the build.
            for (_, file) in analysis.sources.files() {
                println!("cargo:rerun-if-changed={}", file.path.display());
            }
        }
        let checked = analysis.into_result()?;
        if cargo {
            for warning in &checked.warnings {
                let at = warning.primary.as_ref().map(|l| {
                    let file = checked.sources.file(l.span.file);
                    let (line, col) = file.line_col(l.span.start);
                    format!("{}:{line}:{col}: ", file.name)
                });
                let code = warning.code.map(|c| format!("[{c}] ")).unwrap_or_default();
                println!(
                    "cargo:warning={}{code}{}",
                    at.unwrap_or_default(),
                    warning.message
                );
            }
        }
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => match std::env::var_os("OUT_DIR") {
                Some(dir) => PathBuf::from(dir).join("thriftgen"),
                None => {
                    return Err(error(
                        &checked.sources,
                        Diagnostic::error("no output directory: `OUT_DIR` is not set")
                            .with_help("call `Builder::out_dir`, or run from a build script"),
                    ))
                }
            },
        };
        let generated = codegen::generate(&checked.ir, &checked.sources, &self.options)
            .map_err(|d| error(&checked.sources, *d))?;
        write_files(&out_dir, &generated).map_err(|d| error(&checked.sources, *d))?;
        Ok(Compiled {
            sources: checked.sources,
            warnings: checked.warnings,
        })
    }
}

/// Writes each file into `dir` unless it already has that content, so that
/// Cargo does not rebuild what did not change.
pub(crate) fn write_files(
    dir: &Path,
    files: &[codegen::GeneratedFile],
) -> Result<(), Box<Diagnostic>> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        Box::new(Diagnostic::error(format!(
            "cannot {what} `{}`: {e}",
            path.display()
        )))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    for file in files {
        let path = dir.join(&file.name);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents) {
            continue;
        }
        std::fs::write(&path, &file.contents).map_err(|e| io("write", &path, e))?;
    }
    Ok(())
}

fn error(sources: &SourceMap, diagnostic: Diagnostic) -> Error {
    Error::from_parts(sources.clone(), vec![diagnostic])
}
