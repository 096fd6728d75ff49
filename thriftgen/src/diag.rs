//! Diagnostics: one type for every error and warning of a run, rendered the
//! way rustc renders its own.

use crate::source::{SourceMap, Span};
use std::fmt;

/// The code of portability warnings: constructs thriftgen accepts that
/// Apache Thrift's compiler (0.17, and the generators of other languages)
/// refuses. Strict mode (`thriftgen check --strict`, [`crate::Builder::strict`])
/// makes them errors.
pub const NOT_PORTABLE: &str = "not-portable";

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Accepted, but worth a look.
    Warning,
    /// The input is invalid; nothing is generated.
    Error,
}

/// A span with a short message, drawn under the source line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// What the label points at.
    pub span: Span,
    /// What it says there (may be empty).
    pub message: String,
}

/// An error or warning about the input, pointing at the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable name for the kind of diagnostic, shown in brackets after
    /// the severity (`warning[not-portable]`); see [`NOT_PORTABLE`].
    pub code: Option<&'static str>,
    /// The headline: lowercase, no trailing period, names in backticks.
    pub message: String,
    /// Where the problem is, with `^^^` under it.
    pub primary: Option<Label>,
    /// Related places, with `---` under them ("first defined here").
    pub secondary: Vec<Label>,
    /// `= note: ...` lines.
    pub notes: Vec<String>,
    /// `= help: ...`: the obvious fix, if there is one.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with `message`, pointing at nothing yet.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A warning with `message`, pointing at nothing yet.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Points the diagnostic at `span`, with `label` written under it.
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    /// Adds a `= note:` line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the `= help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// A warning with code [`NOT_PORTABLE`]: thriftgen accepts the construct
    /// but Apache Thrift's compiler does not. `rule` is the Apache rule it
    /// breaks, shown as a note.
    pub fn not_portable(message: impl Into<String>, rule: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: Some(NOT_PORTABLE),
            ..Diagnostic::warning(message)
        }
        .with_note(rule)
    }

    /// Sets the code shown as `warning[code]`.
    pub fn with_code(mut self, code: &'static str) -> Diagnostic {
        self.code = Some(code);
        self
    }

    /// Whether this is a portability warning (code [`NOT_PORTABLE`]), or an
    /// error made of one by strict mode.
    pub fn is_not_portable(&self) -> bool {
        self.code == Some(NOT_PORTABLE)
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// How to print diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// rustc's layout: headline, `-->` location, source lines with carets, notes.
    #[default]
    Full,
    /// One line each: `file:line:col: error: message`.
    Short,
}

/// Renders diagnostics against the files they point into.
#[derive(Clone, Copy, Debug, Default)]
pub struct Renderer {
    /// Full or short layout.
    pub format: Format,
    /// Whether to use ANSI colours (only when writing to a terminal).
    pub color: bool,
}

impl Renderer {
    /// Renders one diagnostic, ending with a newline.
    pub fn render(&self, sources: &SourceMap, diag: &Diagnostic) -> String {
        crate::diag_render::render(self, sources, diag)
    }

    /// Renders many diagnostics, separated as rustc separates them (a blank
    /// line after each in the full layout).
    pub fn render_all<'a>(
        &self,
        sources: &SourceMap,
        diags: impl IntoIterator<Item = &'a Diagnostic>,
    ) -> String {
        let mut out = String::new();
        for d in diags {
            out.push_str(&self.render(sources, d));
            if self.format == Format::Full {
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}
