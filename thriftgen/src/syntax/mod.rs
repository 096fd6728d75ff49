//! Syntax: IDL text to an AST ([`ast::Document`]) with spans.
//!
//! The grammar is `thrift.pest`. Parsing a file yields its AST and the
//! diagnostics found on the way (bad escapes, numbers out of range, removed
//! syntax); a syntax error stops that file only.

pub mod ast;
mod builder;
mod error;
mod scan;

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// The pest parser generated from `thrift.pest` (with its `Rule` enum),
/// internal to the crate.
mod parser {
    #![allow(missing_docs)]

    #[derive(pest_derive::Parser)]
    #[grammar = "syntax/thrift.pest"]
    pub(crate) struct ThriftParser;
}

pub(crate) use parser::{Rule, ThriftParser};

/// The words the grammar reserves (a definition cannot be named by one;
/// fields may be, with a portability warning).
pub const KEYWORDS: &[&str] = &[
    "namespace",
    "cpp_include",
    "cpp_type",
    "include",
    "xsd_all",
    "xsd_optional",
    "xsd_nillable",
    "xsd_attrs",
    "void",
    "bool",
    "byte",
    "i8",
    "i16",
    "i32",
    "i64",
    "double",
    "string",
    "binary",
    "uuid",
    "slist",
    "senum",
    "map",
    "list",
    "set",
    "oneway",
    "async",
    "typedef",
    "struct",
    "union",
    "exception",
    "extends",
    "throws",
    "service",
    "enum",
    "const",
    "required",
    "optional",
    "true",
    "false",
];

/// Brackets nested deeper than this are refused before parsing: the parser is
/// recursive, and no real IDL comes near it.
pub const MAX_NESTING: usize = 100;

/// Parses one file. Returns the AST (unless a syntax error stopped the parse)
/// and every diagnostic found.
pub fn parse(file: FileId, text: &str) -> (Option<ast::Document>, Vec<Diagnostic>) {
    if let Some(diag) = check_nesting(file, text) {
        return (None, vec![diag]);
    }
    match <ThriftParser as pest::Parser<Rule>>::parse(Rule::document, text) {
        Ok(mut pairs) => {
            let document = pairs
                .next()
                .expect("the document rule always yields one pair");
            let (doc, diags) = builder::Builder::new(file, text).document(document);
            (Some(doc), diags)
        }
        Err(err) => (None, vec![error::translate(file, text, &err)]),
    }
}

/// Refuses input whose brackets nest deeper than [`MAX_NESTING`], so a
/// hostile file cannot exhaust the stack of the recursive parser. Strings and
/// comments are skipped; unbalanced brackets are left to the parser.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut too_deep = None;
    scan::walk(text, |event| {
        let scan::Event::Code(i, byte) = event else {
            return;
        };
        match byte {
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING && too_deep.is_none() {
                    too_deep = Some(i);
                }
            }
            b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
    });
    let i = too_deep?;
    Some(
        Diagnostic::error(format!("brackets nest deeper than {MAX_NESTING} levels"))
            .at(Span::new(file, i, i + 1), "too deep")
            .with_note("the nesting limit keeps hostile input from exhausting the stack"),
    )
}

#[cfg(test)]
mod tests;
