//! Breaking-change audit: compares two checked versions of an IDL, as Apache
//! Thrift's `--audit` does, and reports every change that breaks the wire or
//! the generated Rust.
//!
//! ```no_run
//! let old = thriftgen::check(&["v1/user.thrift"], &["v1"])?;
//! let new = thriftgen::check(&["v2/user.thrift"], &["v2"])?;
//! let audit = thriftgen::audit::audit(&old, &new);
//! eprint!("{}", audit.render(&thriftgen::diag::Renderer::default()));
//! if audit.is_breaking() {
//!     std::process::exit(1);
//! }
//! # Ok::<(), thriftgen::Error>(())
//! ```
//!
//! # What is compared
//!
//! The first root module of each version is paired with the other's first
//! root (their file names may differ); every other module is paired by its
//! stem (the prefix includes give it: `shared` for `include
//! "x/shared.thrift"`). In paired modules, definitions are matched by name,
//! fields, parameters and `throws` entries by id, enum values by name (then by
//! number), methods by name over the service and every service it extends.
//! Types are compared with typedefs followed, and a named type matches when it
//! has the same name in the paired module: a typedef standing for the same
//! type as before changes nothing.
//!
//! # What breaks
//!
//! An error ([`Severity::Error`]) is a change that breaks the wire between an
//! old and a new peer, removes something old code uses, or turns a type into
//! another kind of type (a struct into an exception or a union); a warning is a
//! change that keeps the wire but is worth a look (it may change the
//! generated Rust, or a value old peers assume). Every finding has a code,
//! listed in [`RULES`] with its severity and rule.
//!
//! The judgement calls:
//!
//! - removing a field is an error even when it was optional, since a later
//!   version may give its id to a field of another type (see reserving
//!   below); removing a `required` field is always an error;
//! - `required` to optional or default is a warning (the wire is the same,
//!   but old readers reject a value that leaves the field out); the other
//!   way is an error;
//! - renames of fields, parameters and enum values keep the wire and change
//!   the generated Rust: warnings, as are `namespace` changes, an added
//!   parameter that is not `required`, an added `extends`, a field added to
//!   a union, and changed defaults and constants;
//! - an exception added to `throws` is a warning (an old client reports an
//!   unknown result, the call fails either way); one removed is an error;
//! - moving or renaming a definition is its removal (every Rust path to it
//!   changes), and adding anything that is not `required` is compatible.
//!
//! Thrift has no `reserved` keyword. A field is kept by leaving it in the
//! struct (marked deprecated in its doc comment, say); a struct may instead
//! list the ids of fields it dropped in the annotation
//! `(thriftgen.reserved = "3, 4")`. Removing a field whose id is listed there
//! is compatible (unless the field was `required`: old readers still demand
//! it), and a field that takes a listed id is an error.

use crate::diag::{Diagnostic, Format, Renderer, Severity};
use crate::ir::{
    ConstValue, Def, DefId, DefKind, Field, Function, Ir, Requiredness, Service, Struct,
    StructKind, Type,
};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::{plural, Checked};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The struct annotation listing ids of removed fields that must not be
/// reused: `(thriftgen.reserved = "3, 4")`.
pub const RESERVED: &str = "thriftgen.reserved";

/// A kind of finding: its code, its severity and what it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The stable code, shown as `error[audit::...]`.
    pub code: &'static str,
    /// Error (breaking) or warning.
    pub severity: Severity,
    /// What change it reports.
    pub summary: &'static str,
}

/// Every rule of the audit.
pub const RULES: &[Rule] = &[
    Rule {
        code: DEFINITION_REMOVED,
        severity: Severity::Error,
        summary: "a struct, union, exception, enum, typedef or service was removed",
    },
    Rule {
        code: DEFINITION_KIND_CHANGED,
        severity: Severity::Error,
        summary: "a definition became another kind of definition (a struct an enum, say)",
    },
    Rule {
        code: STRUCT_KIND_CHANGED,
        severity: Severity::Error,
        summary: "a struct, union or exception became one of the other two",
    },
    Rule {
        code: TYPEDEF_CHANGED,
        severity: Severity::Error,
        summary: "a typedef stands for another type",
    },
    Rule {
        code: FIELD_REMOVED,
        severity: Severity::Error,
        summary: "a field was removed and its id is not reserved",
    },
    Rule {
        code: REQUIRED_FIELD_REMOVED,
        severity: Severity::Error,
        summary: "a required field was removed (old readers demand it)",
    },
    Rule {
        code: RESERVED_ID_REUSED,
        severity: Severity::Error,
        summary: "a field takes an id the struct reserves",
    },
    Rule {
        code: FIELD_TYPE_CHANGED,
        severity: Severity::Error,
        summary: "a field, parameter or exception kept its id but changed its type",
    },
    Rule {
        code: FIELD_ID_REUSED,
        severity: Severity::Error,
        summary: "a field id was given to another field (another name and type)",
    },
    Rule {
        code: REQUIRED_FIELD_ADDED,
        severity: Severity::Error,
        summary: "a required field or parameter was added (old writers do not send it)",
    },
    Rule {
        code: REQUIREDNESS_STRICTER,
        severity: Severity::Error,
        summary: "an optional or default field became required",
    },
    Rule {
        code: REQUIREDNESS_RELAXED,
        severity: Severity::Warning,
        summary: "a required field became optional or default (old readers fail if it is left out)",
    },
    Rule {
        code: FIELD_RENAMED,
        severity: Severity::Warning,
        summary: "a field kept its id and type but changed its name (a source change)",
    },
    Rule {
        code: UNION_VARIANT_ADDED,
        severity: Severity::Warning,
        summary: "a field was added to a union (old readers reject a value that sets it)",
    },
    Rule {
        code: DEFAULT_CHANGED,
        severity: Severity::Warning,
        summary: "a field's default value was changed, added or removed",
    },
    Rule {
        code: ENUM_VALUE_REMOVED,
        severity: Severity::Error,
        summary: "an enum value was removed",
    },
    Rule {
        code: ENUM_VALUE_RENUMBERED,
        severity: Severity::Error,
        summary: "an enum value kept its name but changed its number",
    },
    Rule {
        code: ENUM_VALUE_RENAMED,
        severity: Severity::Warning,
        summary: "an enum value kept its number but changed its name (a source change)",
    },
    Rule {
        code: METHOD_REMOVED,
        severity: Severity::Error,
        summary: "a method was removed from a service and the services it extends",
    },
    Rule {
        code: RETURN_TYPE_CHANGED,
        severity: Severity::Error,
        summary: "a method returns another type",
    },
    Rule {
        code: ONEWAY_CHANGED,
        severity: Severity::Error,
        summary: "a method became oneway or stopped being oneway",
    },
    Rule {
        code: PARAM_REMOVED,
        severity: Severity::Error,
        summary: "a method parameter was removed",
    },
    Rule {
        code: PARAM_ADDED,
        severity: Severity::Warning,
        summary: "a parameter that is not required was added (the Rust signature changes)",
    },
    Rule {
        code: EXCEPTION_REMOVED,
        severity: Severity::Error,
        summary: "an exception was removed from a method's `throws`",
    },
    Rule {
        code: EXCEPTION_ADDED,
        severity: Severity::Warning,
        summary: "an exception was added to a method's `throws` (old clients cannot decode it)",
    },
    Rule {
        code: EXTENDS_CHANGED,
        severity: Severity::Error,
        summary: "a service extends another service, or stopped extending one",
    },
    Rule {
        code: EXTENDS_ADDED,
        severity: Severity::Warning,
        summary: "a service that extended nothing extends a service (its trait gets a supertrait)",
    },
    Rule {
        code: CONST_CHANGED,
        severity: Severity::Warning,
        summary: "a constant's type or value changed",
    },
    Rule {
        code: CONST_REMOVED,
        severity: Severity::Warning,
        summary: "a constant was removed (a source change)",
    },
    Rule {
        code: NAMESPACE_CHANGED,
        severity: Severity::Warning,
        summary: "a `namespace` line changed, was added or was removed (`rs`: the Rust path)",
    },
    Rule {
        code: MODULE_REMOVED,
        severity: Severity::Warning,
        summary: "an included file is no longer included",
    },
];

/// `audit::definition-removed`
pub const DEFINITION_REMOVED: &str = "audit::definition-removed";
/// `audit::definition-kind-changed`
pub const DEFINITION_KIND_CHANGED: &str = "audit::definition-kind-changed";
/// `audit::struct-kind-changed`
pub const STRUCT_KIND_CHANGED: &str = "audit::struct-kind-changed";
/// `audit::typedef-changed`
pub const TYPEDEF_CHANGED: &str = "audit::typedef-changed";
/// `audit::field-removed`
pub const FIELD_REMOVED: &str = "audit::field-removed";
/// `audit::required-field-removed`
pub const REQUIRED_FIELD_REMOVED: &str = "audit::required-field-removed";
/// `audit::reserved-id-reused`
pub const RESERVED_ID_REUSED: &str = "audit::reserved-id-reused";
/// `audit::field-type-changed`
pub const FIELD_TYPE_CHANGED: &str = "audit::field-type-changed";
/// `audit::field-id-reused`
pub const FIELD_ID_REUSED: &str = "audit::field-id-reused";
/// `audit::union-variant-added`
pub const UNION_VARIANT_ADDED: &str = "audit::union-variant-added";
/// `audit::required-field-added`
pub const REQUIRED_FIELD_ADDED: &str = "audit::required-field-added";
/// `audit::requiredness-stricter`
pub const REQUIREDNESS_STRICTER: &str = "audit::requiredness-stricter";
/// `audit::requiredness-relaxed`
pub const REQUIREDNESS_RELAXED: &str = "audit::requiredness-relaxed";
/// `audit::field-renamed`
pub const FIELD_RENAMED: &str = "audit::field-renamed";
/// `audit::default-changed`
pub const DEFAULT_CHANGED: &str = "audit::default-changed";
/// `audit::enum-value-removed`
pub const ENUM_VALUE_REMOVED: &str = "audit::enum-value-removed";
/// `audit::enum-value-renumbered`
pub const ENUM_VALUE_RENUMBERED: &str = "audit::enum-value-renumbered";
/// `audit::enum-value-renamed`
pub const ENUM_VALUE_RENAMED: &str = "audit::enum-value-renamed";
/// `audit::method-removed`
pub const METHOD_REMOVED: &str = "audit::method-removed";
/// `audit::return-type-changed`
pub const RETURN_TYPE_CHANGED: &str = "audit::return-type-changed";
/// `audit::oneway-changed`
pub const ONEWAY_CHANGED: &str = "audit::oneway-changed";
/// `audit::param-removed`
pub const PARAM_REMOVED: &str = "audit::param-removed";
/// `audit::param-added`
pub const PARAM_ADDED: &str = "audit::param-added";
/// `audit::exception-removed`
pub const EXCEPTION_REMOVED: &str = "audit::exception-removed";
/// `audit::exception-added`
pub const EXCEPTION_ADDED: &str = "audit::exception-added";
/// `audit::extends-changed`
pub const EXTENDS_CHANGED: &str = "audit::extends-changed";
/// `audit::extends-added`
pub const EXTENDS_ADDED: &str = "audit::extends-added";
/// `audit::const-changed`
pub const CONST_CHANGED: &str = "audit::const-changed";
/// `audit::const-removed`
pub const CONST_REMOVED: &str = "audit::const-removed";
/// `audit::namespace-changed`
pub const NAMESPACE_CHANGED: &str = "audit::namespace-changed";
/// `audit::module-removed`
pub const MODULE_REMOVED: &str = "audit::module-removed";

/// The severity of the finding code `code` (an error for unknown codes).
fn severity_of(code: &str) -> Severity {
    RULES
        .iter()
        .find(|r| r.code == code)
        .map_or(Severity::Error, |r| r.severity)
}

/// One change between the versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The report: its primary label is in the new version when the change
    /// has a place there, in the old one otherwise (a removal); a secondary
    /// label points at the old version.
    pub diagnostic: Diagnostic,
    /// Where the change is in the new version, in [`Audit::sources`].
    pub new: Option<Span>,
    /// What it was in the old version, in [`Audit::sources`].
    pub old: Option<Span>,
}

impl Finding {
    /// Whether the change breaks compatibility (an error).
    pub fn is_breaking(&self) -> bool {
        self.diagnostic.is_error()
    }

    /// The finding's stable code, such as `audit::field-type-changed`.
    pub fn code(&self) -> &'static str {
        self.diagnostic.code.unwrap_or("audit")
    }
}

/// What [`audit`] found.
///
/// Both versions' files live in [`Audit::sources`]: the old version's files
/// first, with the ids they had, then the new version's, so every label of a
/// finding renders with one map, each file in its own snippet section.
#[derive(Debug)]
pub struct Audit {
    /// The old version's files, then the new version's.
    pub sources: SourceMap,
    /// The changes, old definitions in source order first, then what only
    /// the new version has.
    pub findings: Vec<Finding>,
}

impl Audit {
    /// Whether any change breaks compatibility.
    pub fn is_breaking(&self) -> bool {
        self.findings.iter().any(Finding::is_breaking)
    }

    /// The findings' diagnostics.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.findings.iter().map(|f| &f.diagnostic)
    }

    /// The report as `thriftgen audit` prints it: every finding in
    /// `renderer`'s layout, and in the full layout a closing summary line.
    pub fn render(&self, renderer: &Renderer) -> String {
        let mut out = renderer.render_all(&self.sources, self.diagnostics());
        if renderer.format == Format::Full {
            out.push_str(&self.summary());
        }
        out
    }

    /// `error: 2 breaking changes; 1 warning emitted`, `warning: 1 warning
    /// emitted`, or nothing when there is no finding.
    pub fn summary(&self) -> String {
        let errors = self.findings.iter().filter(|f| f.is_breaking()).count();
        let warnings = self.findings.len() - errors;
        match (errors, warnings) {
            (0, 0) => String::new(),
            (0, w) => format!("warning: {} emitted\n", plural(w, "warning")),
            (e, 0) => format!("error: {}\n", plural(e, "breaking change")),
            (e, w) => format!(
                "error: {}; {} emitted\n",
                plural(e, "breaking change"),
                plural(w, "warning")
            ),
        }
    }

    /// The findings as one JSON array, one object per finding:
    /// `{"severity", "code", "message", "new", "old"}`, where `new` and `old`
    /// are `{"file", "line", "column"}` (1-based) or `null`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, f) in self.findings.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let d = &f.diagnostic;
            let _ = write!(
                out,
                "\n  {{\"severity\": {}, \"code\": {}, \"message\": {}, \"new\": {}, \"old\": {}}}",
                json_string(&d.severity.to_string()),
                json_string(f.code()),
                json_string(&d.message),
                self.json_place(f.new),
                self.json_place(f.old),
            );
        }
        if !self.findings.is_empty() {
            out.push('\n');
        }
        out.push_str("]\n");
        out
    }

    fn json_place(&self, span: Option<Span>) -> String {
        let Some(span) = span else {
            return "null".into();
        };
        let file = self.sources.file(span.file);
        let (line, column) = file.line_col(span.start);
        format!(
            "{{\"file\": {}, \"line\": {line}, \"column\": {column}}}",
            json_string(&file.name)
        )
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Compares the old and the new version of an IDL and reports every change
/// (see the [module docs](self) for the rules). Both must have checked
/// without errors; their warnings are not repeated.
pub fn audit(old: &Checked, new: &Checked) -> Audit {
    let mut sources = old.sources.clone();
    let offset = old.sources.files().count() as u32;
    for (_, file) in new.sources.files() {
        sources.add(SourceFile::new(
            file.path.clone(),
            file.name.clone(),
            file.text.clone(),
        ));
    }
    let mut auditor = Auditor {
        old: &old.ir,
        new: &new.ir,
        old_sources: &old.sources,
        new_sources: &new.sources,
        offset,
        pairs: pair_modules(&old.ir, &new.ir),
        findings: Vec::new(),
    };
    auditor.run();
    Audit {
        sources,
        findings: auditor.findings,
    }
}

/// Old module -> new module: the first roots with each other, the rest by stem.
fn pair_modules(old: &Ir, new: &Ir) -> HashMap<FileId, FileId> {
    let mut pairs = HashMap::new();
    let (old_root, new_root) = (old.roots.first().copied(), new.roots.first().copied());
    if let (Some(o), Some(n)) = (old_root, new_root) {
        pairs.insert(o, n);
    }
    for m in &old.modules {
        if Some(m.file) == old_root {
            continue;
        }
        let found = new
            .modules
            .iter()
            .find(|n| n.stem == m.stem && Some(n.file) != new_root);
        if let Some(n) = found {
            pairs.insert(m.file, n.file);
        }
    }
    pairs
}

/// Which list of fields is being compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fields {
    Struct,
    Params,
    Throws,
}

impl Fields {
    fn noun(self) -> &'static str {
        match self {
            Fields::Struct => "field",
            Fields::Params => "parameter",
            Fields::Throws => "exception",
        }
    }
}

/// What a list of fields belongs to: a struct, or a method (for its
/// parameters and exceptions).
struct Owner {
    /// `struct `User``, `method `Users.get``.
    what: String,
    old_module: FileId,
    /// Where additions are reported as missing in the old version.
    old_at: Span,
    new_module: FileId,
    /// Where removals are reported in the new version.
    new_at: Span,
    /// Whether the new owner is a union.
    union: bool,
}

struct Auditor<'a> {
    old: &'a Ir,
    new: &'a Ir,
    old_sources: &'a SourceMap,
    new_sources: &'a SourceMap,
    /// Added to the new version's file ids to place them in the merged map.
    offset: u32,
    pairs: HashMap<FileId, FileId>,
    findings: Vec<Finding>,
}

impl Auditor<'_> {
    /// A span of the new version, moved into the merged map.
    fn n(&self, span: Span) -> Span {
        Span {
            file: FileId(span.file.0 + self.offset),
            ..span
        }
    }

    /// Reports a change found at `new` (new version) that was `old`.
    fn report(
        &mut self,
        code: &'static str,
        message: String,
        new: Option<(Span, &str)>,
        old: Option<(Span, &str)>,
        note: Option<String>,
    ) {
        let mut d = match severity_of(code) {
            Severity::Error => Diagnostic::error(message),
            Severity::Warning => Diagnostic::warning(message),
        }
        .with_code(code);
        let new = new.map(|(s, label)| (self.n(s), label));
        // The new version's place leads; a removal has only the old one.
        match (new, old) {
            (Some((ns, nl)), old) => {
                d = d.at(ns, nl);
                if let Some((os, ol)) = old {
                    d = d.with_label(os, ol);
                }
            }
            (None, Some((os, ol))) => d = d.at(os, ol),
            (None, None) => {}
        }
        if let Some(note) = note {
            d = d.with_note(note);
        }
        self.findings.push(Finding {
            diagnostic: d,
            new: new.map(|(s, _)| s),
            old: old.map(|(s, _)| s),
        });
    }

    fn run(&mut self) {
        let mut old_modules: Vec<FileId> = self.old.modules.iter().map(|m| m.file).collect();
        // Roots first, so their findings lead.
        old_modules.sort_by_key(|f| !self.old.roots.contains(f));
        for om in old_modules {
            match self.pairs.get(&om).copied() {
                Some(nm) => self.module(om, nm),
                None => {
                    let stem = &self.old.module(om).stem;
                    let message = format!("`{stem}` is no longer included");
                    let span = Span::new(om, 0, 0);
                    self.report(
                        MODULE_REMOVED,
                        message,
                        None,
                        Some((span, "this file")),
                        Some("its definitions are compared where the new version uses them".into()),
                    );
                }
            }
        }
    }

    fn module(&mut self, om: FileId, nm: FileId) {
        let (old_m, new_m) = (self.old.module(om), self.new.module(nm));
        for (scope, name) in &old_m.namespaces {
            let now = new_m
                .namespaces
                .iter()
                .find(|(s, _)| s == scope)
                .map(|(_, n)| n.as_str());
            if now == Some(name.as_str()) {
                continue;
            }
            let old_span = namespace_span(self.old_sources.file(om), om, scope);
            let new_span = namespace_span(self.new_sources.file(nm), nm, scope);
            let message = match now {
                Some(now) => format!("`namespace {scope}` changed from `{name}` to `{now}`"),
                None => format!("`namespace {scope} {name}` was removed"),
            };
            let note = (scope == "rs")
                .then(|| "the generated Rust module has another path: a source change".into());
            self.report(
                NAMESPACE_CHANGED,
                message,
                new_span.map(|s| (s, "now")),
                old_span.map(|s| (s, "was")),
                note,
            );
        }
        for (scope, name) in &new_m.namespaces {
            if old_m.namespaces.iter().any(|(s, _)| s == scope) {
                continue;
            }
            let new_span = namespace_span(self.new_sources.file(nm), nm, scope);
            let message = format!("`namespace {scope} {name}` was added");
            let note = (scope == "rs")
                .then(|| "the generated Rust module has another path: a source change".into());
            self.report(
                NAMESPACE_CHANGED,
                message,
                new_span.map(|s| (s, "added here")),
                None,
                note,
            );
        }
        for &id in &old_m.defs {
            let od = self.old.def(id);
            let found = new_m
                .defs
                .iter()
                .map(|&d| self.new.def(d))
                .find(|d| d.name == od.name);
            match found {
                Some(nd) => self.def(od, nd),
                None => self.removed_def(od),
            }
        }
    }

    fn removed_def(&mut self, od: &Def) {
        let (code, what) = match &od.kind {
            DefKind::Const(_) => (CONST_REMOVED, "constant"),
            other => (DEFINITION_REMOVED, kind_name(other)),
        };
        let message = format!("{what} `{}` was removed", od.name);
        self.report(
            code,
            message,
            None,
            Some((od.name_span, "removed in the new version")),
            Some(match code {
                CONST_REMOVED => "Rust code naming it no longer compiles".into(),
                _ => {
                    "Rust code naming it no longer compiles, and old peers may still send it".into()
                }
            }),
        );
    }

    fn def(&mut self, od: &Def, nd: &Def) {
        let (ok, nk) = (kind_name(&od.kind), kind_name(&nd.kind));
        match (&od.kind, &nd.kind) {
            (DefKind::Struct(os), DefKind::Struct(ns)) => self.structs(od, os, nd, ns),
            (DefKind::Enum(oe), DefKind::Enum(ne)) => self.enums(oe, nd, ne),
            (DefKind::Service(os), DefKind::Service(ns)) => self.services(od, os, nd, ns),
            (DefKind::Const(oc), DefKind::Const(nc)) => {
                let (ot, nt) = (
                    self.old_type(&oc.ty, od.module),
                    self.new_type(&nc.ty, nd.module),
                );
                let (ov, nv) = (
                    self.old.value_text(&oc.value),
                    self.new.value_text(&nc.value),
                );
                if !self.same_type(&oc.ty, &nc.ty) || ov != nv {
                    let message = format!("constant `{}` changed", nd.name);
                    self.report(
                        CONST_CHANGED,
                        message,
                        Some((nd.span, &format!("now `{nt} = {nv}`"))),
                        Some((od.span, &format!("was `{ot} = {ov}`"))),
                        Some("code compiled against the old value keeps it".into()),
                    );
                }
            }
            (DefKind::Typedef(ot), DefKind::Typedef(nt)) => {
                if !self.same_type(&ot.target, &nt.target) {
                    let (was, now) = (
                        self.old_type(&ot.target, od.module),
                        self.new_type(&nt.target, nd.module),
                    );
                    let message = format!("typedef `{}` changed from `{was}` to `{now}`", nd.name);
                    self.report(
                        TYPEDEF_CHANGED,
                        message,
                        Some((nd.span, &format!("now `{now}`"))),
                        Some((od.span, &format!("was `{was}`"))),
                        None,
                    );
                }
            }
            _ => {
                let message = format!("`{}` changed from {ok} to {nk}", nd.name);
                self.report(
                    DEFINITION_KIND_CHANGED,
                    message,
                    Some((nd.name_span, &format!("now {nk}"))),
                    Some((od.name_span, &format!("was {ok}"))),
                    None,
                );
            }
        }
    }

    fn structs(&mut self, od: &Def, os: &Struct, nd: &Def, ns: &Struct) {
        if os.kind != ns.kind {
            let (was, now) = (os.kind.keyword(), ns.kind.keyword());
            let message = format!("`{}` changed from {was} to {now}", nd.name);
            self.report(
                STRUCT_KIND_CHANGED,
                message,
                Some((nd.name_span, &format!("now {now}"))),
                Some((od.name_span, &format!("was {was}"))),
                Some(match (os.kind, ns.kind) {
                    (StructKind::Union, _) | (_, StructKind::Union) => {
                        "a union is a Rust enum and carries exactly one field on the wire".into()
                    }
                    _ => "the encoding is the same, but the generated Rust type is not".into(),
                }),
            );
        }
        let owner = Owner {
            what: format!("{} `{}`", ns.kind.keyword(), nd.name),
            old_module: od.module,
            old_at: od.name_span,
            new_module: nd.module,
            new_at: nd.name_span,
            union: ns.kind == StructKind::Union,
        };
        self.fields(
            Fields::Struct,
            &owner,
            &os.fields,
            &ns.fields,
            &reserved_ids(nd),
        );
    }

    /// Compares two lists of fields by id.
    fn fields(
        &mut self,
        kind: Fields,
        owner: &Owner,
        old: &[Field],
        new: &[Field],
        reserved: &[i16],
    ) {
        let noun = kind.noun();
        let what = owner.what.as_str();
        for of in old {
            let Some(nf) = new.iter().find(|f| f.id == of.id) else {
                self.removed_field(kind, owner, of, reserved);
                continue;
            };
            self.field(kind, owner, of, nf);
        }
        for nf in new {
            if old.iter().any(|f| f.id == nf.id) {
                continue;
            }
            if reserved.contains(&nf.id) {
                let message = format!(
                    "{noun} `{}` of {what} takes id {}, which is reserved",
                    nf.name, nf.id
                );
                self.report(
                    RESERVED_ID_REUSED,
                    message,
                    Some((nf.span, "reserved id")),
                    None,
                    Some(format!("`{RESERVED}` lists the ids of removed fields")),
                );
            } else if nf.requiredness == Requiredness::Required && kind != Fields::Throws {
                let message = format!("required {noun} `{}` added to {what}", nf.name);
                self.report(
                    REQUIRED_FIELD_ADDED,
                    message,
                    Some((nf.span, "added here")),
                    Some((owner.old_at, "not in the old version")),
                    Some(
                        "old writers do not send it, and new readers reject what they send".into(),
                    ),
                );
            } else if owner.union {
                let message = format!("variant `{}` added to {what}", nf.name);
                self.report(
                    UNION_VARIANT_ADDED,
                    message,
                    Some((nf.span, "added here")),
                    Some((owner.old_at, "not in the old version")),
                    Some(
                        "old readers reject a value that sets it (no variant they know is set)"
                            .into(),
                    ),
                );
            } else if kind == Fields::Params {
                let message = format!("parameter `{}` added to {what}", nf.name);
                self.report(
                    PARAM_ADDED,
                    message,
                    Some((nf.span, "added here")),
                    Some((owner.old_at, "not in the old version")),
                    Some("old clients do not send it; the Rust signature changes".into()),
                );
            } else if kind == Fields::Throws {
                let message = format!("exception `{}` added to {what}", nf.name);
                self.report(
                    EXCEPTION_ADDED,
                    message,
                    Some((nf.span, "added here")),
                    Some((owner.old_at, "not in the old version")),
                    Some(
                        "old clients cannot decode it: they get an unknown-result error instead"
                            .into(),
                    ),
                );
            }
        }
    }

    fn removed_field(&mut self, kind: Fields, owner: &Owner, of: &Field, reserved: &[i16]) {
        let what = owner.what.as_str();
        let name = &of.name;
        let id = of.id;
        let (code, message, note) = match kind {
            Fields::Throws => (
                EXCEPTION_REMOVED,
                format!("exception `{name}` (id {id}) removed from {what}"),
                "new servers can no longer report it; old clients expect it".to_string(),
            ),
            Fields::Params => (
                PARAM_REMOVED,
                format!("parameter `{name}` (id {id}) removed from {what}"),
                "old clients still send it; the Rust signature changes".to_string(),
            ),
            Fields::Struct if of.requiredness == Requiredness::Required => (
                REQUIRED_FIELD_REMOVED,
                format!("required field `{name}` (id {id}) removed from {what}"),
                "old readers reject a value without it".to_string(),
            ),
            Fields::Struct if reserved.contains(&id) => return,
            Fields::Struct => (
                FIELD_REMOVED,
                format!("field `{name}` (id {id}) removed from {what}"),
                format!(
                    "a later field may reuse id {id} with another type; keep the field, \
                     or list its id in `({RESERVED} = \"{id}\")`"
                ),
            ),
        };
        self.report(
            code,
            message,
            Some((owner.new_at, "removed from here")),
            Some((of.span, "was here")),
            Some(note),
        );
    }

    fn field(&mut self, kind: Fields, owner: &Owner, of: &Field, nf: &Field) {
        let what = owner.what.as_str();
        let noun = kind.noun();
        if !self.same_type(&of.ty, &nf.ty) {
            let (was, now) = self.type_pair(&of.ty, owner.old_module, &nf.ty, owner.new_module);
            if of.name != nf.name {
                let message = format!(
                    "id {} of {what} was reused: {noun} `{}` became `{}` of another type",
                    nf.id, of.name, nf.name
                );
                self.report(
                    FIELD_ID_REUSED,
                    message,
                    Some((nf.span, &format!("now `{now} {}`", nf.name))),
                    Some((of.span, &format!("was `{was} {}`", of.name))),
                    Some(format!(
                        "peers of the two versions cannot read each other's value; give the new \
                         {noun} an unused id and list {} in `({RESERVED} = \"{}\")`",
                        nf.id, nf.id
                    )),
                );
                return;
            }
            let message = format!(
                "{noun} {} of {what} changed type from `{was}` to `{now}`",
                nf.id
            );
            self.report(
                FIELD_TYPE_CHANGED,
                message,
                Some((nf.span, &format!("now `{now}`"))),
                Some((of.span, &format!("was `{was}`"))),
                Some("peers of the two versions cannot read each other's value".into()),
            );
            // Renames and requiredness are moot when the type changed.
            return;
        }
        if of.name != nf.name {
            let message = format!(
                "{noun} {} of {what} renamed from `{}` to `{}`",
                nf.id, of.name, nf.name
            );
            self.report(
                FIELD_RENAMED,
                message,
                Some((nf.span, "new name")),
                Some((of.span, "old name")),
                Some("the wire is the same; Rust code naming it must change".into()),
            );
        }
        if kind != Fields::Throws {
            self.requiredness(noun, what, of, nf);
        }
        let text = |ir: &Ir, v: &Option<ConstValue>| v.as_ref().map(|v| ir.value_text(v));
        let (was, now) = (text(self.old, &of.default), text(self.new, &nf.default));
        if was != now {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
            let message = format!(
                "default of {noun} `{}` of {what} changed from {} to {}",
                nf.name,
                show(&was),
                show(&now)
            );
            self.report(
                DEFAULT_CHANGED,
                message,
                Some((nf.span, &format!("now {}", show(&now)))),
                Some((of.span, &format!("was {}", show(&was)))),
                Some("peers of the two versions assume different values when it is not set".into()),
            );
        }
    }

    fn requiredness(&mut self, noun: &str, what: &str, of: &Field, nf: &Field) {
        use Requiredness::*;
        let word = |r: Requiredness| match r {
            Required => "required",
            Optional => "optional",
            Default => "default",
        };
        let (code, note) = match (of.requiredness, nf.requiredness) {
            (Optional | Default, Required) => (
                REQUIREDNESS_STRICTER,
                "old writers may leave it out, and new readers reject that",
            ),
            (Required, Optional | Default) => (
                REQUIREDNESS_RELAXED,
                "old readers reject a value without it: keep setting it until they are upgraded",
            ),
            _ => return,
        };
        let (was, now) = (word(of.requiredness), word(nf.requiredness));
        let message = format!("{noun} `{}` of {what} changed from {was} to {now}", nf.name);
        self.report(
            code,
            message,
            Some((nf.span, &format!("now {now}"))),
            Some((of.span, &format!("was {was}"))),
            Some(note.into()),
        );
    }

    fn enums(&mut self, oe: &crate::ir::Enum, nd: &Def, ne: &crate::ir::Enum) {
        for ov in &oe.values {
            if let Some(nv) = ne.values.iter().find(|v| v.name == ov.name) {
                if nv.value != ov.value {
                    let message = format!(
                        "`{}.{}` renumbered from {} to {}",
                        nd.name, nv.name, ov.value, nv.value
                    );
                    self.report(
                        ENUM_VALUE_RENUMBERED,
                        message,
                        Some((nv.span, &format!("now {}", nv.value))),
                        Some((ov.span, &format!("was {}", ov.value))),
                        Some(
                            "peers of the two versions read the number as different values".into(),
                        ),
                    );
                }
            } else if let Some(nv) = ne.values.iter().find(|v| v.value == ov.value) {
                if !oe.values.iter().any(|v| v.name == nv.name) {
                    let message = format!(
                        "`{}.{}` ({}) renamed to `{}`",
                        nd.name, ov.name, ov.value, nv.name
                    );
                    self.report(
                        ENUM_VALUE_RENAMED,
                        message,
                        Some((nv.span, "new name")),
                        Some((ov.span, "old name")),
                        Some("the wire is the same; Rust code naming it must change".into()),
                    );
                    continue;
                }
                self.removed_value(ov, nd);
            } else {
                self.removed_value(ov, nd);
            }
        }
    }

    fn removed_value(&mut self, ov: &crate::ir::EnumValue, nd: &Def) {
        let message = format!("`{}.{}` ({}) was removed", nd.name, ov.name, ov.value);
        self.report(
            ENUM_VALUE_REMOVED,
            message,
            Some((nd.name_span, "removed from here")),
            Some((ov.span, "was here")),
            Some("old peers still send it".into()),
        );
    }

    fn services(&mut self, od: &Def, os: &Service, nd: &Def, ns: &Service) {
        let same_base = match (os.extends, ns.extends) {
            (None, None) => true,
            (Some(o), Some(n)) => self.same_def(o, n),
            _ => false,
        };
        if os.extends.is_none() && ns.extends.is_some() {
            let base = ns.extends.map_or(String::new(), |b| {
                self.new.type_name(&Type::Def(b), nd.module)
            });
            let message = format!("service `{}` now extends `{base}`", nd.name);
            self.report(
                EXTENDS_ADDED,
                message,
                Some((nd.name_span, "now extends a service")),
                Some((od.name_span, "extended nothing")),
                Some(
                    "old clients call the same methods; the Rust handler trait gets a supertrait"
                        .into(),
                ),
            );
        } else if !same_base {
            let show = |ir: &Ir, base: Option<DefId>, from: FileId| {
                base.map_or("nothing".to_string(), |b| {
                    format!("`{}`", ir.type_name(&Type::Def(b), from))
                })
            };
            let (was, now) = (
                show(self.old, os.extends, od.module),
                show(self.new, ns.extends, nd.module),
            );
            let message = format!(
                "service `{}` changed what it extends from {was} to {now}",
                nd.name
            );
            self.report(
                EXTENDS_CHANGED,
                message,
                Some((nd.name_span, &format!("now extends {now}"))),
                Some((od.name_span, &format!("extended {was}"))),
                Some("the Rust handler trait's supertrait changes".into()),
            );
        }
        let old_fns = methods(self.old, od);
        let new_fns = methods(self.new, nd);
        for (odef, of) in &old_fns {
            match new_fns.iter().find(|(_, f)| f.name == of.name) {
                Some((ndef, nf)) => self.function(nd, odef, of, ndef, nf),
                None => {
                    let message =
                        format!("method `{}` removed from service `{}`", of.name, nd.name);
                    self.report(
                        METHOD_REMOVED,
                        message,
                        Some((nd.name_span, "removed from here")),
                        Some((of.span, "was here")),
                        Some("old clients still call it".into()),
                    );
                }
            }
        }
    }

    fn function(&mut self, service: &Def, od: &Def, of: &Function, nd: &Def, nf: &Function) {
        let what = format!("method `{}.{}`", service.name, nf.name);
        if of.oneway != nf.oneway {
            let word = |b: bool| if b { "oneway" } else { "not oneway" };
            let message = format!("{what} is now {}", word(nf.oneway));
            self.report(
                ONEWAY_CHANGED,
                message,
                Some((nf.span, &format!("now {}", word(nf.oneway)))),
                Some((of.span, &format!("was {}", word(of.oneway)))),
                Some(
                    "one side waits for a reply the other never sends, or sends one nobody reads"
                        .into(),
                ),
            );
        }
        let same_return = match (&of.returns, &nf.returns) {
            (None, None) => true,
            (Some(o), Some(n)) => self.same_type(o, n),
            _ => false,
        };
        if !same_return {
            let (was, now) = match (&of.returns, &nf.returns) {
                (Some(o), Some(n)) => self.type_pair(o, od.module, n, nd.module),
                _ => (
                    of.returns
                        .as_ref()
                        .map_or("void".into(), |t| self.old_type(t, od.module)),
                    nf.returns
                        .as_ref()
                        .map_or("void".into(), |t| self.new_type(t, nd.module)),
                ),
            };
            let message = format!("{what} returns `{now}` instead of `{was}`");
            self.report(
                RETURN_TYPE_CHANGED,
                message,
                Some((nf.span, &format!("now `{now}`"))),
                Some((of.span, &format!("was `{was}`"))),
                None,
            );
        }
        let owner = Owner {
            what,
            old_module: od.module,
            old_at: of.span,
            new_module: nd.module,
            new_at: nf.span,
            union: false,
        };
        self.fields(Fields::Params, &owner, &of.params, &nf.params, &[]);
        self.fields(Fields::Throws, &owner, &of.throws, &nf.throws, &[]);
    }

    /// Old type `o` and new type `n` as the IDL spells them, with what they
    /// stand for when the spelling alone would read the same.
    fn type_pair(&self, o: &Type, of: FileId, n: &Type, nf: FileId) -> (String, String) {
        let (was, now) = (self.old_type(o, of), self.new_type(n, nf));
        if was != now {
            return (was, now);
        }
        (
            format!("{was}` = `{}", self.old_type(self.old.resolve(o), of)),
            format!("{now}` = `{}", self.new_type(self.new.resolve(n), nf)),
        )
    }

    fn old_type(&self, ty: &Type, from: FileId) -> String {
        self.old.type_name(ty, from)
    }

    fn new_type(&self, ty: &Type, from: FileId) -> String {
        self.new.type_name(ty, from)
    }

    /// Whether old type `o` and new type `n` are the same, typedefs followed.
    fn same_type(&self, o: &Type, n: &Type) -> bool {
        match (self.old.resolve(o), self.new.resolve(n)) {
            (Type::List(a), Type::List(b)) | (Type::Set(a), Type::Set(b)) => self.same_type(a, b),
            (Type::Map(ka, va), Type::Map(kb, vb)) => {
                self.same_type(ka, kb) && self.same_type(va, vb)
            }
            (Type::Def(a), Type::Def(b)) => self.same_def(*a, *b),
            (a, b) => a == b,
        }
    }

    /// Whether old definition `o` and new definition `n` are the same one:
    /// the same name in paired modules.
    fn same_def(&self, o: DefId, n: DefId) -> bool {
        let (od, nd) = (self.old.def(o), self.new.def(n));
        od.name == nd.name && self.pairs.get(&od.module) == Some(&nd.module)
    }
}

/// The functions of service `def` and of every service it extends, nearest
/// first, each with the service that declares it.
fn methods<'a>(ir: &'a Ir, def: &'a Def) -> Vec<(&'a Def, &'a Function)> {
    let mut out = Vec::new();
    let mut next = Some(def);
    // Bounded: a checked IR has no extends cycles.
    for _ in 0..=ir.defs.len() {
        let Some(d) = next else { break };
        let DefKind::Service(s) = &d.kind else { break };
        for f in &s.functions {
            if !out
                .iter()
                .any(|(_, g): &(&Def, &Function)| g.name == f.name)
            {
                out.push((d, f));
            }
        }
        next = s.extends.map(|b| ir.def(b));
    }
    out
}

/// The ids a struct lists in its [`RESERVED`] annotation.
fn reserved_ids(def: &Def) -> Vec<i16> {
    def.annotations
        .iter()
        .filter(|a| a.key == RESERVED)
        .flat_map(|a| a.value.split([',', ' ']))
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn kind_name(kind: &DefKind) -> &'static str {
    match kind {
        DefKind::Const(_) => "constant",
        DefKind::Typedef(_) => "typedef",
        DefKind::Enum(_) => "enum",
        DefKind::Struct(s) => s.kind.keyword(),
        DefKind::Service(_) => "service",
    }
}

/// The `namespace SCOPE` line of `file` (the IR keeps no span for it).
fn namespace_span(file: &SourceFile, id: FileId, scope: &str) -> Option<Span> {
    let mut offset = 0;
    for line in file.text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let mut words = trimmed.split_whitespace();
        if words.next() == Some("namespace") && words.next() == Some(scope) {
            let start = offset + (line.len() - trimmed.len());
            let end = offset + line.trim_end().len();
            return Some(Span::new(id, start, end));
        }
        offset += line.len();
    }
    None
}
