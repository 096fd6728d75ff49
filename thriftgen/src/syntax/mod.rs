//! Syntax: IDL text to an AST ([`ast::Document`]) with spans.
//!
//! The grammar is `thrift.pest`. Parsing a file yields its AST and the
//! diagnostics found on the way (bad escapes, numbers out of range, removed
//! syntax); a syntax error stops that file only.

pub mod ast;
mod builder;
mod error;

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// The pest parser generated from `thrift.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "syntax/thrift.pest"]
pub(crate) struct ThriftParser;

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
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(format!(
                            "brackets nest deeper than {MAX_NESTING} levels"
                        ))
                        .at(Span::new(file, i, i + 1), "too deep")
                        .with_note(
                            "the nesting limit keeps hostile input from exhausting the stack",
                        ),
                    );
                }
            }
            b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 1);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests;
