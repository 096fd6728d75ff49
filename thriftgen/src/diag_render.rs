//! Rendering of [`Diagnostic`]s in rustc's layout:
//!
//! ```text
//! error: duplicate field id 1 in struct `User`
//!  --> idl/user.thrift:4:3
//!   |
//! 3 |   1: string name
//!   |   - first used here
//! 4 |   1: i32 age
//!   |   ^ used again here
//!   |
//!   = help: give each field its own id
//! ```
//!
//! Labels in the primary's file share its snippet; labels in other files get
//! a `:::` section each. Never panics, whatever the spans say.

use crate::diag::{Diagnostic, Format, Label, Renderer, Severity};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::fmt::Write as _;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const BLUE: &str = "\x1b[1;34m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";

/// Writes `text` in `style` when colouring, plain otherwise.
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

pub(crate) fn render(r: &Renderer, sources: &SourceMap, diag: &Diagnostic) -> String {
    let p = Painter { color: r.color };
    let level_style = match diag.severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    };
    let level = p.paint(level_style, &diag.severity.to_string());
    let message = p.paint(BOLD, &diag.message);
    match r.format {
        Format::Short => match &diag.primary {
            Some(label) => {
                let (file, line, col) = location(sources, label.span);
                format!("{file}:{line}:{col}: {level}: {message}\n")
            }
            None => format!("{level}: {message}\n"),
        },
        Format::Full => {
            let mut out = format!("{level}: {message}\n");
            full_body(&mut out, &p, level_style, sources, diag);
            trim_line_ends(&out)
        }
    }
}

/// Everything after the headline: location, snippets, notes.
fn full_body(
    out: &mut String,
    p: &Painter,
    level_style: &str,
    sources: &SourceMap,
    diag: &Diagnostic,
) {
    let Some(primary) = &diag.primary else {
        for (word, text) in notes(diag) {
            let _ = writeln!(
                out,
                "  {} {}: {text}",
                p.paint(BLUE, "="),
                p.paint(BOLD, word)
            );
        }
        return;
    };
    // Group labels by file: the primary's file first, then others in order of appearance.
    let mut groups: Vec<(FileId, Vec<(&Label, bool)>)> =
        vec![(primary.span.file, vec![(primary, true)])];
    for label in &diag.secondary {
        match groups.iter_mut().find(|(f, _)| *f == label.span.file) {
            Some((_, labels)) => labels.push((label, false)),
            None => groups.push((label.span.file, vec![(label, false)])),
        }
    }
    let width = groups
        .iter()
        .flat_map(|(file, labels)| {
            labels
                .iter()
                .map(move |(l, _)| line_of(sources.file(*file), l.span))
        })
        .max()
        .unwrap_or(1)
        .to_string()
        .len();
    let gutter = |p: &Painter| p.paint(BLUE, &format!("{:width$} |", ""));

    for (index, (file_id, labels)) in groups.iter().enumerate() {
        let file = sources.file(*file_id);
        let anchor = if index == 0 {
            primary.span
        } else {
            labels[0].0.span
        };
        let (line, col) = file.line_col(anchor.start);
        let arrow = if index == 0 { "-->" } else { ":::" };
        let _ = writeln!(
            out,
            "{:width$}{} {}:{line}:{col}",
            "",
            p.paint(BLUE, arrow),
            file.name
        );
        let _ = writeln!(out, "{}", gutter(p));
        snippet(out, p, level_style, file, labels, width);
    }
    let notes = notes(diag);
    if !notes.is_empty() {
        let _ = writeln!(out, "{}", gutter(p));
        for (word, text) in notes {
            let _ = writeln!(
                out,
                "{:width$} {} {}: {text}",
                "",
                p.paint(BLUE, "="),
                p.paint(BOLD, word)
            );
        }
    }
}

fn notes(diag: &Diagnostic) -> Vec<(&'static str, &str)> {
    diag.notes
        .iter()
        .map(|n| ("note", n.as_str()))
        .chain(diag.help.iter().map(|h| ("help", h.as_str())))
        .collect()
}

/// The source lines that carry labels, each followed by its underlines.
fn snippet(
    out: &mut String,
    p: &Painter,
    level_style: &str,
    file: &SourceFile,
    labels: &[(&Label, bool)],
    width: usize,
) {
    let mut lines: Vec<usize> = labels.iter().map(|(l, _)| line_of(file, l.span)).collect();
    lines.sort_unstable();
    lines.dedup();
    let mut previous: Option<usize> = None;
    for &line in &lines {
        if let Some(prev) = previous {
            if line == prev + 2 {
                source_line(out, p, file, prev + 1, width);
            } else if line > prev + 2 {
                let _ = writeln!(out, "{}", p.paint(BLUE, "..."));
            }
        }
        source_line(out, p, file, line, width);
        let mut on_line: Vec<(usize, usize, &Label, bool)> = labels
            .iter()
            .filter(|(l, _)| line_of(file, l.span) == line)
            .map(|&(l, primary)| {
                let (start, len) = columns(file, l.span, line);
                (start, len, l, primary)
            })
            .collect();
        on_line.sort_by_key(|&(start, _, _, primary)| (start, !primary));
        for (start, len, label, primary) in on_line {
            let (mark, style) = if primary {
                ('^', level_style)
            } else {
                ('-', BLUE)
            };
            let marks: String = std::iter::repeat(mark).take(len).collect();
            let text = if label.message.is_empty() {
                marks
            } else {
                format!("{marks} {}", label.message)
            };
            let _ = writeln!(
                out,
                "{} {:start$}{}",
                p.paint(BLUE, &format!("{:width$} |", "")),
                "",
                p.paint(style, &text)
            );
        }
        previous = Some(line);
    }
}

fn source_line(out: &mut String, p: &Painter, file: &SourceFile, line: usize, width: usize) {
    let text = expand_tabs(file.line_text(line));
    let _ = writeln!(
        out,
        "{} {text}",
        p.paint(BLUE, &format!("{line:>width$} |"))
    );
}

/// The 1-based line a span starts on.
fn line_of(file: &SourceFile, span: Span) -> usize {
    file.line_col(span.start).0
}

/// Where the underline of `span` starts on `line` (0-based display column)
/// and how wide it is (at least 1). A span running past its first line is
/// underlined to the end of that line. Tabs count as four columns.
fn columns(file: &SourceFile, span: Span, line: usize) -> (usize, usize) {
    let text = file.line_text(line);
    let line_start = file.line_start(line);
    let start = clamp(text, (span.start as usize).saturating_sub(line_start));
    let end = clamp(text, (span.end as usize).saturating_sub(line_start)).max(start);
    let col = display_width(&text[..start]);
    let len = display_width(&text[start..end]).max(1);
    (col, len)
}

/// `offset` moved into `text` and back onto a char boundary.
fn clamp(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

fn expand_tabs(text: &str) -> String {
    text.replace('\t', "    ")
}

fn location(sources: &SourceMap, span: Span) -> (&str, usize, usize) {
    let file = sources.file(span.file);
    let (line, col) = file.line_col(span.start);
    (&file.name, line, col)
}

fn trim_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn map(files: &[(&str, &str)]) -> SourceMap {
        let mut m = SourceMap::new();
        for (name, text) in files {
            m.add(SourceFile::new(
                name.into(),
                name.to_string(),
                text.to_string(),
            ));
        }
        m
    }

    fn span(file: u32, start: usize, end: usize) -> Span {
        Span::new(FileId(file), start, end)
    }

    fn plain(sources: &SourceMap, d: &Diagnostic) -> String {
        render(&Renderer::default(), sources, d)
    }

    const USER: &str = "struct User {\n  1: string name\n  1: i32 age\n}\n";

    #[test]
    fn primary_and_secondary_on_earlier_line_with_notes() {
        let m = map(&[("user.thrift", USER)]);
        let d = Diagnostic::error("duplicate field id 1 in struct `User`")
            .at(span(0, 33, 34), "used again here")
            .with_label(span(0, 16, 17), "first used here")
            .with_note("ids identify fields on the wire")
            .with_help("give each field its own id");
        let expected = r#"error: duplicate field id 1 in struct `User`
 --> user.thrift:3:3
  |
2 |   1: string name
  |   - first used here
3 |   1: i32 age
  |   ^ used again here
  |
  = note: ids identify fields on the wire
  = help: give each field its own id
"#;
        assert_eq!(plain(&m, &d), expected);
    }

    #[test]
    fn single_label_without_notes_ends_after_the_underline() {
        let m = map(&[("a.thrift", "const i8 B = 300\n")]);
        let d = Diagnostic::error("`300` does not fit in `i8`").at(span(0, 13, 16), "out of range");
        let expected = "error: `300` does not fit in `i8`\n --> a.thrift:1:14\n  |\n1 | const i8 B = 300\n  |              ^^^ out of range\n";
        assert_eq!(plain(&m, &d), expected);
    }

    #[test]
    fn distant_lines_are_elided_and_near_ones_shown() {
        let text: String = (1..=12).map(|i| format!("line {i}\n")).collect();
        let m = map(&[("f.thrift", &text)]);
        let at = |line: usize| text.match_indices("line").nth(line - 1).unwrap().0;
        let far = Diagnostic::error("far")
            .at(span(0, at(11), at(11) + 4), "here")
            .with_label(span(0, at(2), at(2) + 4), "there");
        let out = plain(&m, &far);
        assert!(
            out.contains(" 2 | line 2\n   | ---- there\n...\n11 | line 11\n   | ^^^^ here\n"),
            "{out}"
        );
        let near = Diagnostic::error("near")
            .at(span(0, at(4), at(4) + 4), "")
            .with_label(span(0, at(2), at(2) + 4), "");
        let out = plain(&m, &near);
        assert!(
            out.contains("2 | line 2\n  | ----\n3 | line 3\n4 | line 4\n  | ^^^^\n"),
            "{out}"
        );
    }

    #[test]
    fn labels_in_other_files_get_their_own_section() {
        let m = map(&[
            ("main.thrift", "include \"other.thrift\"\n"),
            ("other.thrift", "struct A {}\n"),
        ]);
        let d = Diagnostic::error("include cycle")
            .at(span(0, 8, 22), "closes the cycle")
            .with_label(span(1, 7, 8), "defined here");
        let expected = r#"error: include cycle
 --> main.thrift:1:9
  |
1 | include "other.thrift"
  |         ^^^^^^^^^^^^^^ closes the cycle
 ::: other.thrift:1:8
  |
1 | struct A {}
  |        - defined here
"#;
        assert_eq!(plain(&m, &d), expected);
    }

    #[test]
    fn without_a_span_only_the_headline_and_notes() {
        let m = map(&[]);
        let d = Diagnostic::error("cannot read `x.thrift`: not found").with_help("check the path");
        assert_eq!(
            plain(&m, &d),
            "error: cannot read `x.thrift`: not found\n  = help: check the path\n"
        );
        let short = Renderer {
            format: Format::Short,
            color: false,
        };
        assert_eq!(
            render(&short, &m, &d),
            "error: cannot read `x.thrift`: not found\n"
        );
    }

    #[test]
    fn short_format_is_one_line() {
        let m = map(&[("user.thrift", USER)]);
        let d = Diagnostic::warning("field `age` has no id")
            .at(span(0, 33, 34), "x")
            .with_help("ignored");
        let short = Renderer {
            format: Format::Short,
            color: false,
        };
        assert_eq!(
            render(&short, &m, &d),
            "user.thrift:3:3: warning: field `age` has no id\n"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "const string ü = \"日本\" x\n";
        let m = map(&[("u.thrift", text)]);
        let start = text.find('x').unwrap();
        let d = Diagnostic::error("e").at(span(0, start, start + 1), "here");
        let out = plain(&m, &d);
        assert!(out.contains(" --> u.thrift:1:23\n"), "{out}");
        assert!(out.ends_with("  |                       ^ here\n"), "{out}");
    }

    #[test]
    fn tabs_line_up() {
        let text = "\t1: i32 x\n";
        let m = map(&[("t.thrift", text)]);
        let d = Diagnostic::error("e").at(span(0, 4, 7), "type");
        let out = plain(&m, &d);
        assert!(
            out.contains("1 |     1: i32 x\n  |        ^^^ type\n"),
            "{out}"
        );
    }

    #[test]
    fn odd_spans_never_panic() {
        let text = "ü\r\nabc";
        let m = map(&[("o.thrift", text), ("empty.thrift", "")]);
        for (s, e) in [(0, 1), (1, 2), (0, 100), (50, 60), (3, 3), (2, 1)] {
            let d = Diagnostic::error("e")
                .at(span(0, s, e), "l")
                .with_label(span(1, 0, 5), "m");
            let out = plain(&m, &d);
            assert!(out.starts_with("error: e\n"));
        }
        let crlf = plain(&m, &Diagnostic::error("e").at(span(0, 4, 7), "abc"));
        assert!(crlf.contains("2 | abc\n  | ^^^ abc\n"), "{crlf}");
    }

    #[test]
    fn colour_only_when_asked() {
        let m = map(&[("user.thrift", USER)]);
        let d = Diagnostic::error("e")
            .at(span(0, 33, 34), "x")
            .with_help("h");
        assert!(!plain(&m, &d).contains('\x1b'));
        let coloured = render(
            &Renderer {
                format: Format::Full,
                color: true,
            },
            &m,
            &d,
        );
        assert!(coloured.contains("\x1b[1;31merror\x1b[0m"), "{coloured:?}");
        assert!(coloured.contains("\x1b[1;34m"), "{coloured:?}");
    }
}
