//! Pest pairs to the AST: one method per grammar rule, each keeping spans.
//!
//! Problems that the grammar lets through on purpose so they can be explained
//! well (bad escapes, numbers out of range, removed syntax, headers after
//! definitions) become diagnostics here; building goes on after each, so a
//! file reports all of them at once.

use super::ast::*;
use super::Rule;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use pest::iterators::Pair;

pub(super) struct Builder<'a> {
    file: FileId,
    text: &'a str,
    /// Every doc comment of the file, in order, as byte ranges.
    docs: Vec<(usize, usize)>,
    diags: Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

impl<'a> Builder<'a> {
    pub(super) fn new(file: FileId, text: &'a str) -> Builder<'a> {
        Builder {
            file,
            text,
            docs: Vec::new(),
            diags: Vec::new(),
        }
    }

    pub(super) fn document(mut self, pair: P<'_>) -> (Document, Vec<Diagnostic>) {
        self.docs = doc_comments(self.text);
        let mut document = Document::default();
        let mut first_definition: Option<Span> = None;
        for item in pair.into_inner() {
            let rule = item.as_rule();
            match rule {
                Rule::include | Rule::cpp_include | Rule::namespace | Rule::legacy_namespace => {
                    if document.headers.is_empty() && first_definition.is_none() {
                        document.doc = self.doc_before(item.as_span().start());
                    }
                    let span = self.span(&item);
                    if let Some(def) = first_definition {
                        let keyword = item.as_str().split_whitespace().next().unwrap_or("");
                        self.diags.push(
                            Diagnostic::error(format!("`{keyword}` must come before definitions"))
                                .at(span, "after a definition")
                                .with_label(def, "first definition is here")
                                .with_help("move the headers (`include`, `namespace`) to the top of the file"),
                        );
                    }
                    if let Some(header) = self.header(item) {
                        document.headers.push(header);
                    }
                }
                Rule::EOI | Rule::bom => {}
                _ => {
                    let def = self.definition(item);
                    first_definition.get_or_insert(def.span);
                    document.definitions.push(def);
                }
            }
        }
        (document, self.diags)
    }

    // ------------------------------------------------------------ headers

    fn header(&mut self, pair: P<'_>) -> Option<Header> {
        let rule = pair.as_rule();
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let keyword = inner.next()?;
        let word = keyword.as_str();
        if let Some(sep) = inner.clone().find(|p| p.as_rule() == Rule::trailing_sep) {
            let sep_span = self.span(&sep);
            self.diags.push(
                Diagnostic::not_portable(
                    format!("`{}` after the `{word}` line", sep.as_str()),
                    "Apache's grammar has no `,` or `;` after `include`, `cpp_include` or `namespace`",
                )
                .at(sep_span, "Apache's compiler refuses this")
                .with_help(format!("remove the `{}`", sep.as_str())),
            );
        }
        let mut inner = inner.filter(|p| p.as_rule() != Rule::trailing_sep);
        match rule {
            Rule::include => Some(Header::Include(self.literal(inner.next()?))),
            Rule::cpp_include => Some(Header::CppInclude(self.literal(inner.next()?))),
            Rule::namespace => {
                let scope = inner.next()?;
                let scope = Ident {
                    name: scope.as_str().to_string(),
                    span: self.span(&scope),
                };
                let name = self.ident(inner.next()?);
                let annotations = inner
                    .next()
                    .map(|a| self.annotations(a))
                    .unwrap_or_default();
                Some(Header::Namespace(Namespace {
                    scope,
                    name,
                    annotations,
                    span,
                }))
            }
            _ => {
                let language = match word {
                    "cpp_namespace" => "cpp",
                    "java_package" => "java",
                    "csharp_namespace" => "csharp",
                    "delphi_namespace" => "delphi",
                    "php_namespace" => "php",
                    "py_module" => "py",
                    "perl_package" => "perl",
                    "ruby_namespace" => "rb",
                    "smalltalk_category" | "smalltalk_prefix" => "st",
                    _ => "xsd",
                };
                let name = inner.next().map_or("NAME", |n| n.as_str());
                self.diags.push(
                    Diagnostic::error(format!("`{word}` is no longer supported"))
                        .at(self.span(&keyword), "removed from Thrift")
                        .with_help(format!("write `namespace {language} {name}`")),
                );
                None
            }
        }
    }

    // -------------------------------------------------------- definitions

    fn definition(&mut self, pair: P<'_>) -> Definition {
        let rule = pair.as_rule();
        let span = self.span(&pair);
        let doc = self.doc_before(pair.as_span().start());
        let mut name = None;
        let mut annotations = Vec::new();
        let mut ty = None;
        let mut value = None;
        let mut values = Vec::new();
        let mut fields = Vec::new();
        let mut functions = Vec::new();
        let mut extends = None;
        let mut keyword = None;
        let mut trailing_sep = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::identifier if name.is_none() => name = Some(self.simple_name(child)),
                Rule::field_type => ty = Some(self.field_type(child)),
                Rule::annotations => annotations = self.annotations(child),
                Rule::enum_value => values.push(self.enum_value(child)),
                Rule::field => fields.push(self.field(child)),
                Rule::function => functions.push(self.function(child)),
                Rule::extends => {
                    let target = child.into_inner().nth(1);
                    extends = target.map(|t| self.ident(t));
                }
                Rule::literal if rule == Rule::senum_def => {}
                Rule::kw_senum | Rule::kw_const | Rule::kw_typedef | Rule::kw_enum => {
                    keyword = Some(child)
                }
                Rule::kw_struct | Rule::kw_union | Rule::kw_exception | Rule::kw_service => {}
                Rule::kw_xsd_all | Rule::lbrace | Rule::rbrace | Rule::eq => {}
                Rule::trailing_sep => trailing_sep = Some((child.as_str(), self.span(&child))),
                _ => value = Some(self.const_value(child)),
            }
        }
        let name = name.unwrap_or_else(|| Ident {
            name: String::new(),
            span,
        });
        if let Some((sep, sep_span)) = trailing_sep {
            let what = match rule {
                Rule::struct_def => "struct",
                Rule::union_def => "union",
                Rule::exception_def => "exception",
                Rule::service_def => "service",
                Rule::senum_def => "senum",
                _ => "enum",
            };
            self.diags.push(
                Diagnostic::not_portable(
                    format!("`{sep}` after {what} `{}`", name.name),
                    "Apache's grammar has no `,` or `;` after the `}` of a struct, union, exception, enum or service",
                )
                .at(sep_span, "Apache's compiler refuses this")
                .with_help(format!("remove the `{sep}`")),
            );
        }
        let kind = match rule {
            Rule::const_def => DefinitionKind::Const {
                ty: ty.expect("grammar: const has a type"),
                value: value.expect("grammar: const has a value"),
            },
            Rule::typedef_def => DefinitionKind::Typedef {
                ty: ty.expect("grammar: typedef has a type"),
            },
            Rule::enum_def => DefinitionKind::Enum { values },
            Rule::senum_def => {
                let kw = keyword.expect("grammar: senum keyword");
                self.diags.push(
                    Diagnostic::error("`senum` is no longer supported")
                        .at(self.span(&kw), "removed from Thrift")
                        .with_help("use an `enum`, or `string` constants"),
                );
                DefinitionKind::Enum { values: Vec::new() }
            }
            Rule::struct_def => DefinitionKind::Struct {
                kind: StructKind::Struct,
                fields,
            },
            Rule::union_def => DefinitionKind::Struct {
                kind: StructKind::Union,
                fields,
            },
            Rule::exception_def => DefinitionKind::Struct {
                kind: StructKind::Exception,
                fields,
            },
            _ => DefinitionKind::Service { extends, functions },
        };
        Definition {
            name,
            doc,
            annotations,
            span,
            kind,
        }
    }

    fn enum_value(&mut self, pair: P<'_>) -> EnumValue {
        let span = self.span(&pair);
        let doc = self.doc_before(pair.as_span().start());
        let mut inner = pair.into_inner();
        let name = self.simple_name(inner.next().expect("grammar: enum value name"));
        let mut value = None;
        let mut annotations = Vec::new();
        for child in inner {
            match child.as_rule() {
                Rule::int_literal => {
                    let s = self.span(&child);
                    value = self.int(&child).map(|v| (v, s));
                }
                Rule::annotations => annotations = self.annotations(child),
                _ => {}
            }
        }
        EnumValue {
            name,
            value,
            doc,
            annotations,
            span,
        }
    }

    fn field(&mut self, pair: P<'_>) -> Field {
        let span = self.span(&pair);
        let doc = self.doc_before(pair.as_span().start());
        let mut id = None;
        let mut requiredness = None;
        let mut ty = None;
        let mut name = None;
        let mut default = None;
        let mut annotations = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::field_id => {
                    let number = child.into_inner().next().expect("grammar: field id number");
                    let s = self.span(&number);
                    id = self.int(&number).map(|v| (v, s));
                }
                Rule::requiredness => {
                    let r = if child.as_str() == "required" {
                        Requiredness::Required
                    } else {
                        Requiredness::Optional
                    };
                    requiredness = Some((r, self.span(&child)));
                }
                Rule::field_type => ty = Some(self.field_type(child)),
                Rule::field_name => {
                    let ident = self.simple_name(child);
                    if is_apache_keyword(&ident.name) {
                        self.diags.push(
                            Diagnostic::not_portable(
                                format!("field name `{}` is a keyword", ident.name),
                                format!(
                                    "Apache's compiler reads `{}` as a keyword, never as a field name",
                                    ident.name
                                ),
                            )
                            .at(ident.span, "a keyword")
                            .with_help("rename the field (its name is not on the wire, its id is)"),
                        );
                    }
                    name = Some(ident);
                }
                Rule::annotations => annotations = self.annotations(child),
                Rule::reference | Rule::eq | Rule::xsd_attrs => {}
                Rule::kw_xsd_optional | Rule::kw_xsd_nillable => {}
                _ => default = Some(self.const_value(child)),
            }
        }
        Field {
            id,
            requiredness,
            ty: ty.expect("grammar: field has a type"),
            name: name.expect("grammar: field has a name"),
            default,
            doc,
            annotations,
            span,
        }
    }

    fn function(&mut self, pair: P<'_>) -> Function {
        let span = self.span(&pair);
        let doc = self.doc_before(pair.as_span().start());
        let mut oneway = None;
        let mut is_async = false;
        let mut returns = None;
        let mut returns_span = span;
        let mut name = None;
        let mut params = Vec::new();
        let mut throws = None;
        let mut annotations = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::oneway => {
                    is_async = child.as_str() == "async";
                    oneway = Some(self.span(&child));
                }
                Rule::function_type => {
                    returns_span = self.span(&child);
                    let inner = child.into_inner().next().expect("grammar: function type");
                    if inner.as_rule() == Rule::field_type {
                        returns = Some(self.field_type(inner));
                    }
                }
                Rule::identifier => name = Some(self.simple_name(child)),
                Rule::field => params.push(self.field(child)),
                Rule::throws => {
                    let s = self.span(&child);
                    let fields = child
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::field)
                        .map(|p| self.field(p))
                        .collect();
                    throws = Some((fields, s));
                }
                Rule::annotations => annotations = self.annotations(child),
                _ => {}
            }
        }
        Function {
            oneway,
            is_async,
            returns,
            returns_span,
            name: name.expect("grammar: function has a name"),
            params,
            throws,
            doc,
            annotations,
            span,
        }
    }

    // -------------------------------------------------------------- types

    fn field_type(&mut self, pair: P<'_>) -> TypeExpr {
        let span = self.span(&pair);
        let inner = pair
            .into_inner()
            .next()
            .expect("grammar: field_type has one child");
        match inner.as_rule() {
            Rule::type_ref => {
                let ident = self.ident(inner.into_inner().next().expect("grammar: type name"));
                TypeExpr {
                    kind: TypeExprKind::Named(ident),
                    annotations: Vec::new(),
                    span,
                }
            }
            Rule::base_type => {
                let mut children = inner.into_inner();
                let name = children.next().expect("grammar: base type name");
                let keyword = name.as_str();
                let base = match keyword {
                    "bool" => BaseType::Bool,
                    "byte" | "i8" => BaseType::I8,
                    "i16" => BaseType::I16,
                    "i32" => BaseType::I32,
                    "i64" => BaseType::I64,
                    "double" => BaseType::Double,
                    "binary" => BaseType::Binary,
                    "uuid" => {
                        self.diags.push(
                            Diagnostic::not_portable(
                                "the `uuid` type is not portable",
                                "Apache's compiler has no `uuid` type before 0.18, and several of its generators lack it",
                            )
                            .at(self.span(&name), "Apache Thrift 0.17 refuses this"),
                        );
                        BaseType::Uuid
                    }
                    "string" => BaseType::String,
                    _ => {
                        self.diags.push(
                            Diagnostic::error("`slist` is no longer supported")
                                .at(self.span(&name), "removed from Thrift")
                                .with_help("use `string`"),
                        );
                        BaseType::String
                    }
                };
                let annotations = children
                    .next()
                    .map(|a| self.annotations(a))
                    .unwrap_or_default();
                TypeExpr {
                    kind: TypeExprKind::Base(base),
                    annotations,
                    span,
                }
            }
            _ => {
                let mut children = inner.into_inner();
                let container = children.next().expect("grammar: container kind");
                let annotations = children
                    .next()
                    .map(|a| self.annotations(a))
                    .unwrap_or_default();
                let rule = container.as_rule();
                let mut types = container
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::field_type)
                    .map(|p| Box::new(self.field_type(p)));
                let first = types.next().expect("grammar: element type");
                let kind = match rule {
                    Rule::map_type => {
                        TypeExprKind::Map(first, types.next().expect("grammar: map value type"))
                    }
                    Rule::set_type => TypeExprKind::Set(first),
                    _ => TypeExprKind::List(first),
                };
                TypeExpr {
                    kind,
                    annotations,
                    span,
                }
            }
        }
    }

    fn annotations(&mut self, pair: P<'_>) -> Vec<Annotation> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::annotation)
            .map(|a| {
                let span = self.span(&a);
                let mut inner = a.into_inner();
                let key = self.ident(inner.next().expect("grammar: annotation key"));
                let value = inner
                    .find(|p| p.as_rule() == Rule::literal)
                    .map(|l| self.literal(l));
                Annotation { key, value, span }
            })
            .collect()
    }

    // ---------------------------------------------------------- constants

    fn const_value(&mut self, pair: P<'_>) -> ConstExpr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::int_literal => ConstExprKind::Int(self.int(&pair).unwrap_or(0)),
            Rule::double_literal => ConstExprKind::Double(self.double(&pair)),
            Rule::literal => ConstExprKind::String(self.literal(pair).value),
            Rule::bool_literal => ConstExprKind::Bool(pair.as_str() == "true"),
            Rule::const_ref => {
                ConstExprKind::Ref(self.ident(pair.into_inner().next().expect("grammar: name")))
            }
            Rule::const_list => ConstExprKind::List(
                pair.into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::lbracket | Rule::rbracket))
                    .map(|p| self.const_value(p))
                    .collect(),
            ),
            Rule::const_map => ConstExprKind::Map(
                pair.into_inner()
                    .filter(|p| p.as_rule() == Rule::map_entry)
                    .map(|entry| {
                        let mut kv = entry.into_inner().filter(|p| p.as_rule() != Rule::colon);
                        let k = self.const_value(kv.next().expect("grammar: map key"));
                        let v = self.const_value(kv.next().expect("grammar: map value"));
                        (k, v)
                    })
                    .collect(),
            ),
            rule => unreachable!("grammar: {rule:?} is not a constant value"),
        };
        ConstExpr { kind, span }
    }

    /// An integer literal (decimal or hex, signed); out of i64 range is an error.
    fn int(&mut self, pair: &P<'_>) -> Option<i64> {
        let text = pair.as_str();
        let (negative, digits) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let magnitude = match digits.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => digits.parse::<u64>(),
        };
        let value = magnitude.ok().and_then(|m| {
            if negative {
                0i64.checked_sub_unsigned(m)
            } else {
                i64::try_from(m).ok()
            }
        });
        if value.is_none() {
            self.diags.push(
                Diagnostic::error(format!("integer literal `{text}` does not fit in 64 bits"))
                    .at(self.span(pair), "out of range for `i64`")
                    .with_note("Thrift integers are at most 64-bit signed: -9223372036854775808 to 9223372036854775807"),
            );
        }
        value
    }

    fn double(&mut self, pair: &P<'_>) -> f64 {
        // The grammar only lets through what `f64::from_str` reads.
        pair.as_str().trim_start_matches('+').parse().unwrap_or(0.0)
    }

    /// A string literal, unescaped. Apache accepts exactly `\n \r \t \" \' \\`.
    fn literal(&mut self, pair: P<'_>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair.as_str();
        let body = &raw[1..raw.len() - 1];
        let mut value = String::with_capacity(body.len());
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            let Some((j, e)) = chars.next() else { break };
            match e {
                'n' => value.push('\n'),
                'r' => value.push('\r'),
                't' => value.push('\t'),
                '"' | '\'' | '\\' => value.push(e),
                _ => {
                    let start = span.start as usize + 1 + i;
                    let end = span.start as usize + 1 + j + e.len_utf8();
                    self.diags.push(
                        Diagnostic::error(format!("unknown escape `\\{e}` in string literal"))
                            .at(Span::new(self.file, start, end), "unknown escape")
                            .with_help(
                                r#"Thrift strings know only `\n`, `\r`, `\t`, `\"`, `\'` and `\\`"#,
                            ),
                    );
                }
            }
        }
        StrLit { value, span }
    }

    // --------------------------------------------------------------- names

    fn ident(&self, pair: P<'_>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    /// A name being defined: no dots allowed, since `a.b` could never be
    /// referred to.
    fn simple_name(&mut self, pair: P<'_>) -> Ident {
        let ident = self.ident(pair);
        if ident.name.contains('.') {
            self.diags.push(
                Diagnostic::error(format!("`{}` is not a valid name", ident.name))
                    .at(ident.span, "names cannot contain `.`")
                    .with_help(format!("write `{}`", ident.name.replace('.', "_"))),
            );
        }
        ident
    }

    // ---------------------------------------------------------------- spans

    /// The span of a pair without the whitespace and comments pest leaves at
    /// its end when an optional last element is missing.
    fn span(&self, pair: &P<'_>) -> Span {
        Span::new(self.file, pair.as_span().start(), end_of(pair))
    }

    /// The doc comment that ends right before `start`, with only whitespace
    /// and comments between them.
    fn doc_before(&self, start: usize) -> Option<String> {
        let i = self.docs.partition_point(|&(_, end)| end <= start);
        let &(doc_start, doc_end) = self.docs.get(i.checked_sub(1)?)?;
        if !only_trivia(&self.text[doc_end..start]) {
            return None;
        }
        Some(clean_doc(&self.text[doc_start..doc_end]))
    }
}

/// The words of [`super::KEYWORDS`] that Apache's compiler (0.17) reads as
/// keywords and thriftgen also accepts as field names (`1: string string`):
/// all but these, which are none there (or only literals).
const NOT_APACHE_KEYWORDS: &[&str] = &[
    "uuid",
    "cpp_type",
    "xsd_all",
    "xsd_optional",
    "xsd_nillable",
    "xsd_attrs",
    "slist",
    "senum",
    "true",
    "false",
];

fn is_apache_keyword(word: &str) -> bool {
    super::KEYWORDS.contains(&word) && !NOT_APACHE_KEYWORDS.contains(&word)
}

/// Where the last token inside `pair` ends.
fn end_of(pair: &P<'_>) -> usize {
    match pair.clone().into_inner().last() {
        Some(child) => end_of(&child),
        None => pair.as_span().end(),
    }
}

/// The byte ranges of every doc comment (`/** ... */`, but not `/**/` or
/// `/***/`, which Apache reads as plain comments) in `text`, in order.
/// String literals and other comments are skipped, so `"/**"` is no comment.
fn doc_comments(text: &str) -> Vec<(usize, usize)> {
    let mut docs = Vec::new();
    super::scan::walk(text, |event| {
        if let super::scan::Event::BlockComment { start, end } = event {
            let body = text[start + 2..end].trim_end_matches("*/");
            if body.starts_with('*')
                && !body.bytes().all(|b| b == b'*')
                && text[..end].ends_with("*/")
            {
                docs.push((start, end));
            }
        }
    });
    docs
}

/// Whether `text` is only whitespace and comments.
fn only_trivia(text: &str) -> bool {
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("//") || rest.starts_with('#') {
            rest = rest.find('\n').map_or("", |n| &rest[n..]);
        } else if let Some(body) = rest.strip_prefix("/*") {
            match body.find("*/") {
                Some(end) => rest = &body[end + 2..],
                None => return false,
            }
        } else {
            return false;
        }
        rest = rest.trim_start();
    }
    true
}

/// `/** text */` to `text`: strips the delimiters and blank lines at both
/// ends; on later lines, a leading `*` and one space after it when every line
/// has one, else the indentation common to them.
fn clean_doc(raw: &str) -> String {
    let body = raw
        .strip_prefix("/**")
        .and_then(|b| b.strip_suffix("*/"))
        .unwrap_or(raw);
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return String::new();
    }
    let first = lines.remove(0).trim().to_string();
    let content = |l: &String| !l.trim().is_empty();
    let starred = lines
        .iter()
        .filter(|l| content(l))
        .all(|l| l.trim_start().starts_with('*'));
    let rest: Vec<String> = if starred {
        lines
            .iter()
            .map(|l| {
                let t = l.trim_start();
                let t = t.strip_prefix('*').unwrap_or(t);
                t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
            })
            .collect()
    } else {
        let indent = lines
            .iter()
            .filter(|l| content(l))
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        lines
            .iter()
            .map(|l| l.get(indent..).unwrap_or("").trim_end().to_string())
            .collect()
    };
    let all: Vec<String> = std::iter::once(first).chain(rest).collect();
    let start = all.iter().position(|l| !l.is_empty()).unwrap_or(all.len());
    let end = all
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |i| i + 1);
    all[start..end].join("\n")
}

#[cfg(test)]
mod tests {
    use super::{clean_doc, only_trivia};

    #[test]
    fn doc_comments_are_found_outside_strings_and_comments() {
        let text = "/** a */ \"/** no */\" // /** no */\n/**/ /***/ /* x */ /**b*/ # /** no";
        let found: Vec<&str> = super::doc_comments(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, ["/** a */", "/**b*/"]);
    }

    #[test]
    fn doc_comments_are_cleaned() {
        assert_eq!(clean_doc("/** one line */"), "one line");
        assert_eq!(
            clean_doc("/**\n   * First.\n   *\n   *   indented\n   */"),
            "First.\n\n  indented"
        );
        assert_eq!(
            clean_doc("/**\n  no stars\n    here\n*/"),
            "no stars\n  here"
        );
        assert_eq!(
            clean_doc("/** The user.\n * Second line. */"),
            "The user.\nSecond line."
        );
        assert_eq!(clean_doc("/***/"), "");
    }

    #[test]
    fn trivia_detection() {
        assert!(only_trivia("  \n // c\n # d\n /* e */ \r\n"));
        assert!(!only_trivia(" x "));
        assert!(!only_trivia(" /* open"));
    }
}
