//! Name lookup: `Name` in the file's own scope, `prefix.Name` in the file it
//! includes as `prefix.thrift`. Only direct includes are visible, as in Apache.

use super::Checker;
use crate::diag::Diagnostic;
use crate::ir::DefId;
use crate::source::FileId;
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
        match name.split_once('.') {
            Some((prefix, _)) if self.failed_include(module, prefix) => Found::Broken,
            Some((prefix, _)) => Found::NoPrefix(prefix.to_string()),
            None => Found::Missing,
        }
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

    /// Looks up a type or service; reports and returns `None` when there is none.
    pub(super) fn lookup_type(&mut self, module: FileId, name: &ast::Ident) -> Option<DefId> {
        match self.find(module, &name.name, Table::Types) {
            Found::Def(id) => Some(id),
            Found::Broken => None,
            Found::NoPrefix(prefix) => {
                self.error(self.no_prefix(&prefix, name));
                None
            }
            Found::Missing => {
                let mut diag = Diagnostic::error(format!("cannot find type `{}`", name.name))
                    .at(name.span, "not found");
                if let Some(s) = self.suggest(module, &name.name, Table::Types) {
                    diag = diag.with_help(format!("a type with a similar name exists: `{s}`"));
                } else if self.find(module, &name.name, Table::Consts).is_def() {
                    diag = diag.with_note(format!("`{}` is a constant, not a type", name.name));
                }
                self.error(diag);
                None
            }
        }
    }

    pub(super) fn no_prefix(&self, prefix: &str, name: &ast::Ident) -> Diagnostic {
        Diagnostic::error(format!("`{prefix}` is not an included file"))
            .at(name.span, format!("no `include` names `{prefix}`"))
            .with_help(format!(
                "add `include \"{prefix}.thrift\"` at the top of the file"
            ))
    }

    /// The closest name in scope to `name`, if one is close enough to be a typo.
    pub(super) fn suggest(&self, module: FileId, name: &str, table: Table) -> Option<String> {
        let m = module.0 as usize;
        let scope = |m: usize| match table {
            Table::Types => &self.types[m],
            Table::Consts => &self.consts[m],
        };
        let mut candidates: Vec<String> = scope(m).keys().map(|k| k.to_string()).collect();
        for (prefix, file) in &self.includes[m] {
            candidates.extend(
                scope(file.0 as usize)
                    .keys()
                    .map(|k| format!("{prefix}.{k}")),
            );
        }
        let limit = (name.len() / 3).max(1);
        candidates
            .into_iter()
            .map(|c| (edit_distance(name, &c), c))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, c)| c)
    }
}

impl Found {
    pub(super) fn is_def(&self) -> bool {
        matches!(self, Found::Def(_))
    }
}

/// Levenshtein distance, case-insensitive (so `user` suggests `User`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
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
            Diagnostic::warning(format!(
                "`{}` is a reserved word in other languages Thrift generates",
                name.name
            ))
            .at(name.span, "Apache's compiler rejects this name")
            .with_note("the Rust code escapes it; other generators may not")
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
    }
}
