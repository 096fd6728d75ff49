//! thriftgen: the Thrift IDL front end and Rust code generator.
//!
//! The front end reads `.thrift` files, follows their includes, checks them
//! and produces an [`ir::Ir`]: plain, resolved data for the code generator.
//! Every problem is a [`diag::Diagnostic`] pointing into the source, rendered
//! the way rustc renders its own.
//!
//! ```no_run
//! let checked = thriftgen::check(&["idl/service.thrift"], &["idl"])?;
//! for module in &checked.ir.modules {
//!     println!("{}: {} definitions", module.stem, module.defs.len());
//! }
//! # Ok::<(), thriftgen::Error>(())
//! ```

#![warn(missing_docs)]
#![doc = ""]
#![doc = include_str!("../README.md")]

pub mod audit;
mod build;
mod check;
pub mod codegen;
pub mod diag;
mod diag_render;
pub mod ir;
pub mod load;
pub mod source;
pub mod syntax;

pub use build::{compile, Builder, Compiled};
use diag::{Diagnostic, Format, Renderer, Severity};
use source::SourceMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Everything one run of the front end found: always produced, errors or not.
#[derive(Debug)]
pub struct Analysis {
    /// Every file read.
    pub sources: SourceMap,
    /// The checked program; complete only when there are no errors.
    pub ir: ir::Ir,
    /// Errors and warnings, ordered by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Strict mode: every portability warning ([`diag::NOT_PORTABLE`]: a
    /// construct Apache Thrift's compiler refuses) becomes an error, so the
    /// run fails where Apache's compiler would.
    pub fn into_strict(mut self) -> Analysis {
        for d in &mut self.diagnostics {
            if d.is_not_portable() {
                d.severity = Severity::Error;
            }
        }
        self
    }

    /// The checked program and its warnings, or every diagnostic as an
    /// [`Error`] when there is an error.
    ///
    /// # Errors
    ///
    /// When any diagnostic is an error.
    pub fn into_result(self) -> Result<Checked, Error> {
        if self.has_errors() {
            return Err(Error::from_parts(self.sources, self.diagnostics));
        }
        Ok(Checked {
            sources: self.sources,
            ir: self.ir,
            warnings: self.diagnostics,
        })
    }
}

/// A valid program: what [`check`] returns when there is no error.
#[derive(Debug)]
pub struct Checked {
    /// Every file read.
    pub sources: SourceMap,
    /// The checked program.
    pub ir: ir::Ir,
    /// Warnings (there are no errors).
    pub warnings: Vec<Diagnostic>,
}

/// The diagnostics of a run that found errors. `Display` prints the
/// rendered report, errors first (then the warnings), so it starts with
/// `error: ...`. `Debug` prints the same report on a line of its own, so a
/// build script that fails with `?` (`Error: ` + `Debug`) or `unwrap` shows
/// it as rustc would instead of `Error: error: ...`.
pub struct Error {
    sources: SourceMap,
    diagnostics: Vec<Diagnostic>,
}

impl Error {
    pub(crate) fn from_parts(sources: SourceMap, mut diagnostics: Vec<Diagnostic>) -> Error {
        // Stable: each group stays in source order.
        diagnostics.sort_by_key(|d| !d.is_error());
        Error {
            sources,
            diagnostics,
        }
    }

    /// The errors and warnings, errors first.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The files the diagnostics point into.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// The report rendered with `renderer` (for colour or the short format):
    /// errors first, then warnings, each in source order.
    pub fn render(&self, renderer: &Renderer) -> String {
        let mut out = renderer.render_all(&self.sources, &self.diagnostics);
        if renderer.format == Format::Full {
            out.push_str(&summary(&self.diagnostics));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&Renderer::default()))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // After `Error: ` or `called `Result::unwrap()` on an `Err` value: `,
        // start the report on a fresh line so its headline reads `error: ...`.
        f.write_str("\n")?;
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// `1 warning`, `2 warnings`: a count and its noun, in the plural when it
/// is not one (for closing lines).
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// rustc's closing line: `error: aborting due to 2 previous errors; 1 warning emitted`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match (errors, warnings) {
        (0, 0) => String::new(),
        (0, w) => format!("warning: {} emitted\n", plural(w, "warning")),
        (1, 0) => "error: aborting due to 1 previous error\n".to_string(),
        (e, 0) => format!("error: aborting due to {e} previous errors\n"),
        (e, w) => format!(
            "error: aborting due to {}; {} emitted\n",
            plural(e, "previous error"),
            plural(w, "warning")
        ),
    }
}

/// Reads `files` and everything they include (looked up beside the including
/// file, then in `include_dirs` in order), checks them, and returns all that
/// was found. Never panics on bad input.
pub fn analyze<P: AsRef<Path>, Q: AsRef<Path>>(files: &[P], include_dirs: &[Q]) -> Analysis {
    let roots: Vec<PathBuf> = files.iter().map(|p| p.as_ref().to_path_buf()).collect();
    let dirs: Vec<PathBuf> = include_dirs
        .iter()
        .map(|p| p.as_ref().to_path_buf())
        .collect();
    let mut diagnostics = Vec::new();
    let loaded = load::load(&roots, &dirs, &mut diagnostics);
    finish(loaded, diagnostics)
}

/// Like [`analyze`], for one file given as text: `name` is shown in
/// diagnostics and its directory is where includes are looked up first.
pub fn analyze_source<Q: AsRef<Path>>(name: &str, text: &str, include_dirs: &[Q]) -> Analysis {
    let dirs: Vec<PathBuf> = include_dirs
        .iter()
        .map(|p| p.as_ref().to_path_buf())
        .collect();
    let mut diagnostics = Vec::new();
    let loaded = load::load_source(name, text, &dirs, &mut diagnostics);
    finish(loaded, diagnostics)
}

fn finish(loaded: load::Loaded, mut diagnostics: Vec<Diagnostic>) -> Analysis {
    let ir = check::check(&loaded, &mut diagnostics);
    diagnostics.sort_by_key(|d| {
        let at = d.primary.as_ref().map(|l| (l.span.file, l.span.start));
        (at, std::cmp::Reverse(d.severity == Severity::Error))
    });
    Analysis {
        sources: loaded.sources,
        ir,
        diagnostics,
    }
}

/// Reads and checks `files` with their includes.
///
/// # Errors
///
/// When any file cannot be read or is invalid; the error renders every
/// diagnostic of the run.
pub fn check<P: AsRef<Path>, Q: AsRef<Path>>(
    files: &[P],
    include_dirs: &[Q],
) -> Result<Checked, Error> {
    analyze(files, include_dirs).into_result()
}
