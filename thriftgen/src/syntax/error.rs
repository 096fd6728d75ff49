//! Pest errors to diagnostics that name tokens and constructs in words
//! ("expected `}` or a field, found `=`"), never grammar rule names.

use super::Rule;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use pest::error::{ErrorVariant, InputLocation};

pub(super) fn translate(file: FileId, text: &str, err: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
    .min(text.len());
    let rest = &text[pos..];

    if (rest.starts_with('"') || rest.starts_with('\'')) && !closes_on_line(rest) {
        let end = pos + rest.find('\n').unwrap_or(rest.len());
        let end = if text[..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        return Diagnostic::error("unterminated string literal")
            .at(
                Span::new(file, pos, end.max(pos + 1)),
                "the string starts here",
            )
            .with_help("close the string on the same line; Thrift strings cannot span lines");
    }
    if rest.starts_with("/*") && !rest.contains("*/") {
        return Diagnostic::error("unterminated block comment")
            .at(Span::new(file, pos, pos + 2), "the comment starts here")
            .with_help("close it with `*/`");
    }

    let (found, found_len) = found_token(rest);
    let expected = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let span = Span::new(file, pos, pos + found_len);
    let mut diag = Diagnostic::error(format!("expected {expected}, found {found}"))
        .at(span, format!("expected {expected}"));
    if rest.starts_with("void") && expected.contains("a type") {
        diag = diag.with_help("`void` is only allowed as the return type of a function");
    }
    diag
}

/// Whether a string literal starting at `rest[0]` has its closing quote on
/// the same line.
fn closes_on_line(rest: &str) -> bool {
    let quote = rest.as_bytes()[0];
    let mut bytes = rest.as_bytes()[1..].iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => {
                bytes.next();
            }
            b'\n' => return false,
            _ if b == quote => return true,
            _ => {}
        }
    }
    false
}

/// The token at the error, in words, and its length in bytes.
fn found_token(rest: &str) -> (String, usize) {
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        let what = if super::KEYWORDS.contains(&word) {
            "keyword "
        } else {
            ""
        };
        return (format!("{what}`{word}`"), len);
    }
    (format!("`{first}`"), first.len_utf8())
}

/// "`}` or a field": what the parser was ready to accept, deduplicated, in
/// words. Tokens come first, then constructs.
fn describe(rules: &[Rule]) -> String {
    let mut tokens: Vec<String> = Vec::new();
    let mut phrases: Vec<&'static str> = Vec::new();
    let is_definition = |r: &Rule| {
        matches!(
            r,
            Rule::const_def
                | Rule::typedef_def
                | Rule::enum_def
                | Rule::senum_def
                | Rule::struct_def
                | Rule::union_def
                | Rule::exception_def
                | Rule::service_def
        )
    };
    let at_top_level = rules.iter().any(is_definition);
    let is_value = |r: &Rule| {
        matches!(
            r,
            Rule::int_literal
                | Rule::double_literal
                | Rule::bool_literal
                | Rule::const_ref
                | Rule::const_list
                | Rule::const_map
        )
    };
    let any_value = rules.iter().any(is_value);
    for rule in rules {
        let word = match rule {
            r if is_definition(r) => Some("a definition"),
            Rule::include | Rule::cpp_include | Rule::namespace | Rule::legacy_namespace => {
                Some("a definition")
            }
            Rule::EOI if at_top_level => None,
            Rule::EOI => Some("end of file"),
            Rule::int_literal if !rules.iter().any(|r| is_value(r) && *r != Rule::int_literal) => {
                Some("an integer")
            }
            r if is_value(r) => Some("a constant value"),
            Rule::literal if any_value => Some("a constant value"),
            Rule::literal => Some("a string literal"),
            Rule::identifier | Rule::type_ref => Some("a name"),
            Rule::field_name => Some("a field name"),
            Rule::field => Some("a field"),
            Rule::function => Some("a function"),
            Rule::enum_value => Some("an enum value"),
            Rule::annotation => Some("an annotation"),
            Rule::annotations => Some("annotations"),
            Rule::map_entry => Some("a map entry"),
            Rule::field_id => Some("a field id"),
            Rule::field_type
            | Rule::base_type
            | Rule::base_type_name
            | Rule::container_type
            | Rule::map_type
            | Rule::set_type
            | Rule::list_type => Some("a type"),
            Rule::function_type => Some("a return type"),
            Rule::namespace_scope => Some("a language name or `*`"),
            _ => {
                if let Some(token) = token(*rule) {
                    if !tokens.iter().any(|t| t == token) {
                        tokens.push(token.to_string());
                    }
                }
                None
            }
        };
        if let Some(w) = word {
            if !phrases.contains(&w) {
                phrases.push(w);
            }
        }
    }
    // Optional continuations (annotations, defaults, legacy XSD options)
    // would be listed after almost every token; name them only when nothing
    // else fits.
    let noise = |t: &String| OPTIONAL_CONTINUATIONS.contains(&t.as_str());
    if tokens.iter().any(|t| !noise(t)) || !phrases.is_empty() {
        tokens.retain(|t| !noise(t));
    }
    if phrases.contains(&"a constant value") {
        tokens.retain(|t| t != "`[`" && t != "`{`");
        phrases.retain(|p| *p != "a name");
    }
    tokens.sort();
    let items: Vec<String> = tokens
        .into_iter()
        .chain(phrases.into_iter().map(str::to_string))
        .collect();
    match items.as_slice() {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

const OPTIONAL_CONTINUATIONS: &[&str] = &[
    "`(`",
    "`=`",
    "`&`",
    "`cpp_type`",
    "`xsd_all`",
    "`xsd_optional`",
    "`xsd_nillable`",
    "`xsd_attrs`",
    "`required` or `optional`",
];

/// The literal text of a token rule, in backticks.
fn token(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::langle => "`<`",
        Rule::rangle => "`>`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::eq => "`=`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::star => "`*`",
        Rule::reference => "`&`",
        Rule::kw_include => "`include`",
        Rule::kw_cpp_include => "`cpp_include`",
        Rule::kw_namespace => "`namespace`",
        Rule::kw_const => "`const`",
        Rule::kw_typedef => "`typedef`",
        Rule::kw_enum => "`enum`",
        Rule::kw_struct => "`struct`",
        Rule::kw_union => "`union`",
        Rule::kw_exception => "`exception`",
        Rule::kw_service => "`service`",
        Rule::kw_extends | Rule::extends => "`extends`",
        Rule::kw_oneway | Rule::oneway => "`oneway`",
        Rule::kw_void => "`void`",
        Rule::kw_throws | Rule::throws => "`throws`",
        Rule::kw_required | Rule::kw_optional | Rule::requiredness => "`required` or `optional`",
        Rule::kw_cpp_type | Rule::cpp_type => "`cpp_type`",
        Rule::kw_xsd_all => "`xsd_all`",
        Rule::kw_xsd_optional => "`xsd_optional`",
        Rule::kw_xsd_nillable => "`xsd_nillable`",
        Rule::kw_xsd_attrs | Rule::xsd_attrs => "`xsd_attrs`",
        _ => return None,
    })
}
