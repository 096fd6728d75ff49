//! Name lookup: `Name` in the file's own scope, `prefix.Name` in the file it
//! includes as `prefix.thrift`. Only direct includes are visible, as in Apache.

use super::Checker;
use crate::diag::Diagnostic;
use crate::ir::DefId;
use crate::source::{FileId, Span};
use crate::syntax::ast;

#[derive(Clone, Copy)]
pub(super) enum Table {
    Types,
    Consts,
}

pub(super) enum Found {
    Def(DefId),
    /// The name is in a file whose syntax was broken: already reported.
    Broken,
    /// `prefix.Name` where no included file is named `prefix`.
    NoPrefix(String),
    /// `prefix.Name` where the include named `prefix` was not found (a
    /// warning so far): the include's path literal.
    MissingInclude(Span),
    Missing,
}

impl Checker<'_> {
    pub(super) fn find(&self, module: FileId, name: &str, table: Table) -> Found {
        let m = module.0 as usize;
        let scope = |m: usize| match table {
            Table::Types => &self.types[m],
            Table::Consts => &self.consts[m],
        };
        if let Some(&id) = scope(m).get(name) {
            return Found::Def(id);
        }
        // The prefix is a file name, which may itself contain dots.
        for (i, _) in name.match_indices('.') {
            let prefix = &name[..i];
            if let Some(&file) = self.includes[m].get(prefix) {
                if self.broken[file.0 as usize] {
                    return Found::Broken;
                }
                return scope(file.0 as usize)
                    .get(&name[i + 1..])
                    .map_or(Found::Missing, |&id| Found::Def(id));
            }
        }
        let missing = &self.loaded.file(module).missing;
        for (i, _) in name.match_indices('.') {
            if let Some(inc) = missing.iter().find(|inc| inc.prefix == name[..i]) {
                return Found::MissingInclude(inc.span);
            }
        }
        match name.split_once('.') {
            Some((prefix, _)) if self.failed_include(module, prefix) => Found::Broken,
            Some((prefix, _)) => Found::NoPrefix(prefix.to_string()),
            None => Found::Missing,
        }
    }

    /// The error for a name used from an include that was not found.
    pub(super) fn missing_include_error(&self, name: &ast::Ident, include: Span) -> Diagnostic {
        let path = self.loaded.sources.snippet(include);
        let path = path.get(1..path.len().saturating_sub(1)).unwrap_or(path);
        Diagnostic::error(format!(
            "cannot use `{}`: the included file `{path}` was not found",
            name.name
        ))
        .at(name.span, "from a missing include")
        .with_label(include, "this include was not found")
        .with_note("a missing include is only a warning until a name from it is used")
        .with_help("add the directory that holds it with `-I DIR`")
    }

    /// Whether `module` has an `include` for `prefix` that could not be
    /// loaded (and was reported as such).
    fn failed_include(&self, module: FileId, prefix: &str) -> bool {
        let file = self.loaded.file(module);
        let Some(doc) = &file.ast else { return false };
        doc.headers.iter().any(|h| match h {
            ast::Header::Include(lit) => {
                crate::load::include_prefix(&lit.value) == prefix
                    && !file.includes.iter().any(|i| i.prefix == prefix)
            }
            _ => false,
        })
    }

    /// Looks up a type (or, with `service`, a service); reports and returns
    /// `None` when there is none.
    pub(super) fn lookup_type(
        &mut self,
        module: FileId,
        name: &ast::Ident,
        service: bool,
    ) -> Option<DefId> {
        match self.find(module, &name.name, Table::Types) {
            Found::Def(id) => Some(id),
            Found::Broken => None,
            Found::NoPrefix(prefix) => {
                self.error(self.no_prefix(module, &prefix, name));
                None
            }
            Found::MissingInclude(include) => {
                self.error(self.missing_include_error(name, include));
                None
            }
            Found::Missing => {
                let what = if service { "service" } else { "type" };
                let mut diag = Diagnostic::error(format!("cannot find {what} `{}`", name.name))
                    .at(name.span, "not found");
                let services = |c: &Checker<'_>, id: DefId| {
                    let is_service = matches!(
                        c.asts[id.0 as usize].kind,
                        ast::DefinitionKind::Service { .. }
                    );
                    is_service == service
                };
                if let Some(s) = self.suggest_where(module, &name.name, Table::Types, services) {
                    diag = diag.with_help(format!("a {what} with a similar name exists: `{s}`"));
                } else if self.find(module, &name.name, Table::Consts).is_def() {
                    diag = diag.with_note(format!("`{}` is a constant, not a type", name.name));
                }
                self.error(diag);
                None
            }
        }
    }

    pub(super) fn no_prefix(&self, module: FileId, prefix: &str, name: &ast::Ident) -> Diagnostic {
        let diag = Diagnostic::error(format!("`{prefix}` is not an included file"))
            .at(name.span, format!("no `include` names `{prefix}`"));
        let included = self.includes[module.0 as usize]
            .keys()
            .map(|k| k.to_string());
        match closest(prefix, included) {
            Some(s) => diag.with_help(format!(
                "an included file with a similar name exists: `{s}`"
            )),
            None => diag.with_help(format!(
                "add `include \"{prefix}.thrift\"` at the top of the file"
            )),
        }
    }

    /// The closest name in scope to `name`, if one is close enough to be a typo.
    pub(super) fn suggest(&self, module: FileId, name: &str, table: Table) -> Option<String> {
        self.suggest_where(module, name, table, |_, _| true)
    }

    /// [`Checker::suggest`] among the definitions `keep` accepts.
    fn suggest_where(
        &self,
        module: FileId,
        name: &str,
        table: Table,
        keep: impl Fn(&Self, DefId) -> bool,
    ) -> Option<String> {
        let m = module.0 as usize;
        let scope = |m: usize| match table {
            Table::Types => &self.types[m],
            Table::Consts => &self.consts[m],
        };
        let mut candidates: Vec<String> = scope(m)
            .iter()
            .filter(|(_, &id)| keep(self, id))
            .map(|(k, _)| k.to_string())
            .collect();
        for (prefix, file) in &self.includes[m] {
            candidates.extend(
                scope(file.0 as usize)
                    .iter()
                    .filter(|(_, &id)| keep(self, id))
                    .map(|(k, _)| format!("{prefix}.{k}")),
            );
        }
        closest(name, candidates.into_iter())
    }
}

/// The candidate closest to `name`, if one is close enough to be a typo:
/// at most one edit per three characters (at least one, and fewer than the
/// name has), a swap of two
/// neighbours counting as one edit (`Entyr` suggests `Entry`). Ties go to
/// the alphabetically first, so suggestions do not depend on hash order.
pub(super) fn closest(name: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .filter(|c| c != name)
        .map(|c| (edit_distance(name, &c), c))
        // Replacing every character (`z` for `x`) is no typo.
        .filter(|(d, _)| *d <= limit && *d < len)
        .min()
        .map(|(_, c)| c)
}

impl Found {
    pub(super) fn is_def(&self) -> bool {
        matches!(self, Found::Def(_))
    }
}

/// Edit distance (Levenshtein, plus a swap of two neighbouring characters
/// as one edit: the "optimal string alignment" distance), case-insensitive
/// (so `user` suggests `User`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    // Three rows: two back (for swaps), one back, and the current one.
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut best = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                if let Some(&two_back) = before.get(j - 1) {
                    best = best.min(two_back + 1);
                }
            }
            cur[j + 1] = best;
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// Words that Apache's compiler refuses as names because some of its target
/// languages reserve them. We accept them (Rust names are escaped), with a
/// warning for users who also generate code for those languages.
const RESERVED_ELSEWHERE: &[&str] = &[
    "BEGIN",
    "END",
    "__CLASS__",
    "__DIR__",
    "__FILE__",
    "__FUNCTION__",
    "__LINE__",
    "__METHOD__",
    "__NAMESPACE__",
    "abstract",
    "alias",
    "and",
    "args",
    "as",
    "assert",
    "begin",
    "break",
    "case",
    "catch",
    "class",
    "clone",
    "continue",
    "declare",
    "def",
    "default",
    "del",
    "delete",
    "do",
    "dynamic",
    "elif",
    "else",
    "elseif",
    "elsif",
    "end",
    "enddeclare",
    "endfor",
    "endforeach",
    "endif",
    "endswitch",
    "endwhile",
    "ensure",
    "except",
    "exec",
    "finally",
    "float",
    "for",
    "foreach",
    "from",
    "function",
    "global",
    "goto",
    "if",
    "implements",
    "import",
    "in",
    "inline",
    "instanceof",
    "interface",
    "is",
    "lambda",
    "module",
    "native",
    "new",
    "next",
    "nil",
    "not",
    "or",
    "package",
    "pass",
    "public",
    "print",
    "private",
    "protected",
    "raise",
    "redo",
    "rescue",
    "retry",
    "register",
    "return",
    "self",
    "sizeof",
    "static",
    "super",
    "switch",
    "synchronized",
    "then",
    "this",
    "throw",
    "transient",
    "try",
    "undef",
    "unless",
    "unsigned",
    "until",
    "use",
    "var",
    "virtual",
    "volatile",
    "when",
    "while",
    "with",
    "xor",
    "yield",
];

/// Warns when `name` is reserved in other languages Thrift generates.
pub(super) fn warn_reserved(diags: &mut Vec<Diagnostic>, name: &ast::Ident) {
    if RESERVED_ELSEWHERE.contains(&name.name.as_str()) {
        diags.push(
            Diagnostic::not_portable(
                format!(
                    "`{}` is a reserved word in languages Apache Thrift generates",
                    name.name
                ),
                "Apache's compiler refuses names on its list of reserved words (every generator but `py`, which refuses Python's own)",
            )
            .at(name.span, "reserved in other languages")
            .with_note("the Rust code escapes it")
            .with_help("rename it if this IDL is also compiled by Apache Thrift"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("User", "user"), 0);
        assert_eq!(edit_distance("Usr", "User"), 1);
        assert_eq!(edit_distance("Order", "Orders"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
        assert_eq!(edit_distance("Entyr", "Entry"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn closest_names() {
        let names = || ["Entry", "Entries", "Other"].map(String::from).into_iter();
        assert_eq!(super::closest("Entyr", names()).as_deref(), Some("Entry"));
        assert_eq!(super::closest("entry", names()).as_deref(), Some("Entry"));
        assert_eq!(super::closest("Zzz", names()), None);
        let short = || ["x", "Y"].map(String::from).into_iter();
        assert_eq!(super::closest("z", short()), None);
        assert_eq!(super::closest("y", short()).as_deref(), Some("Y"));
        assert_eq!(
            super::closest("Entry", ["Entry".to_string()].into_iter()),
            None
        );
    }
}
