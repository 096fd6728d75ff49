//! Rendering of [`Diagnostic`]s in rustc's layout:
//!
//! ```text
//! error: duplicate field id 1 in struct `User`
//!  --> idl/user.thrift:4:3
//!   |
//! 3 |   1: string name
//!   |   - first used here
//! 4 |   1: i32 age
//!   |   ^ duplicate id
//!   |
//!   = help: give the field an unused id
//! ```
//!
//! Labels in the primary label's file share its snippet; labels in other
//! files get a `:::` section each. Several labels on one line share one row
//! of markers, and the messages that do not fit on it hang below on `|`
//! connectors, as rustc draws them.
//!
//! Rendering never panics: spans past the end of a file or inside a
//! character are drawn at the nearest place that exists, and labels in files
//! the [`SourceMap`] does not know are left out.

use crate::diag::{Diagnostic, Format, Label, Renderer, Severity};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::borrow::Cow;
use std::cmp::Reverse;

/// Spaces a tab stands for, in the source text and in the marker columns alike.
const TAB: &str = "    ";

/// The byte order mark, which editors (and rustc) do not count as a column.
const BOM: char = '\u{feff}';

/// Renders `diag` in `r`'s layout; every line, the last one included, ends
/// with `\n`, and no line ends with a space.
pub(crate) fn render(r: &Renderer, sources: &SourceMap, diag: &Diagnostic) -> String {
    let mut out = Writer::new(r.color);
    let primary = diag
        .primary
        .as_ref()
        .and_then(|label| Mark::resolve(sources, label, true));
    match r.format {
        Format::Short => short(&mut out, diag, primary.as_ref()),
        Format::Full => full(&mut out, sources, diag, primary),
    }
    out.finish()
}

/// `file:line:col: error: message`, or just the headline without a place.
fn short(out: &mut Writer, diag: &Diagnostic, primary: Option<&Mark<'_>>) {
    if let Some(mark) = primary {
        let place = format!("{}:{}:{}: ", mark.source.name, mark.line, mark.col);
        out.put(Style::Bold, &place);
    }
    headline(out, diag);
    out.newline();
}

/// The headline, the snippets of every file the labels point into, then the
/// notes and the help.
fn full(out: &mut Writer, sources: &SourceMap, diag: &Diagnostic, primary: Option<Mark<'_>>) {
    headline(out, diag);
    out.newline();
    let sections = primary.map_or_else(Vec::new, |p| sections(sources, p, &diag.secondary));
    // One gutter width for the whole diagnostic, so that all `|` line up.
    // Lines shown between labels are above the last label, so labels decide.
    let width = sections
        .iter()
        .flat_map(|s| &s.marks)
        .map(|m| digits(m.line))
        .max()
        .unwrap_or(1);
    for (i, section) in sections.iter().enumerate() {
        let arrow = if i == 0 {
            "-->"
        } else {
            // rustc closes the previous snippet with an empty gutter line.
            blank_gutter(out, width);
            ":::"
        };
        snippet(out, section, arrow, width, diag.severity);
    }
    notes(out, diag, width, !sections.is_empty());
}

/// `error: message`, without the line end.
fn headline(out: &mut Writer, diag: &Diagnostic) {
    let level = match diag.code {
        Some(code) => format!("{}[{code}]", diag.severity),
        None => diag.severity.to_string(),
    };
    out.put(Style::Level(diag.severity), &level);
    out.put(Style::Bold, ": ");
    out.put(Style::Bold, &diag.message);
}

/// The `= note:` lines and the `= help:` line, after an empty gutter line
/// when they follow a snippet.
fn notes(out: &mut Writer, diag: &Diagnostic, width: usize, after_snippet: bool) {
    let mut notes = diag
        .notes
        .iter()
        .map(|n| ("note", n.as_str()))
        .chain(diag.help.as_deref().map(|h| ("help", h)))
        .peekable();
    if after_snippet && notes.peek().is_some() {
        blank_gutter(out, width);
    }
    for (kind, text) in notes {
        out.put(Style::Plain, &" ".repeat(width + 1));
        out.put(Style::Accent, "=");
        out.put(Style::Plain, " ");
        out.put(Style::Bold, kind);
        out.put(Style::Plain, ": ");
        // Like rustc, continue a note of several lines under its first word.
        let indent = " ".repeat(width + " = ".len() + kind.len() + ": ".len());
        for (i, part) in text.split('\n').enumerate() {
            if i > 0 {
                out.newline();
                out.put(Style::Plain, &indent);
            }
            out.put(Style::Plain, part);
        }
        out.newline();
    }
}

/// A label placed in its file: everything needed to draw it.
#[derive(Clone, Copy)]
struct Mark<'a> {
    file: FileId,
    source: &'a SourceFile,
    /// Byte offset of the span's start, to find the first label of a file.
    start: u32,
    /// 1-based line of the span's start; a span is drawn on this line only.
    line: usize,
    /// 1-based column (in characters) of the span's start, as locations show it.
    col: usize,
    /// 0-based display column where the markers start.
    draw_col: usize,
    /// Number of markers: at least one, even for an empty span.
    draw_width: usize,
    primary: bool,
    message: &'a str,
}

impl<'a> Mark<'a> {
    /// Places `label` in its file, or `None` if `sources` does not have the file.
    fn resolve(sources: &'a SourceMap, label: &'a Label, primary: bool) -> Option<Mark<'a>> {
        let span = label.span;
        // `SourceMap::file` panics on a foreign id; a renderer must not.
        let (file, source) = sources.files().find(|&(id, _)| id == span.file)?;
        let (line, col) = source.line_col(span.start);
        let (draw_col, draw_width) = marker_columns(source, span, line);
        Some(Mark {
            file,
            source,
            start: span.start,
            line,
            col,
            draw_col,
            draw_width,
            primary,
            message: &label.message,
        })
    }

    /// The display column just past the markers.
    fn draw_end(&self) -> usize {
        self.draw_col + self.draw_width
    }

    fn style(&self, severity: Severity) -> Style {
        if self.primary {
            Style::Level(severity)
        } else {
            Style::Accent
        }
    }
}

/// Where the markers of `span` go on `line`, the line the span starts on:
/// the 0-based display column and the width (at least 1), in characters
/// with a tab counted as four. A span running past the end of the line is
/// cut there; offsets inside a character widen the span to the whole
/// character.
fn marker_columns(source: &SourceFile, span: Span, line: usize) -> (usize, usize) {
    let text = source.line_text(line);
    let line_start = source.line_start(line);
    let shown = hidden_prefix(text, line);
    let start = floor_char_boundary(text, (span.start as usize).saturating_sub(line_start));
    let start = start.max(shown);
    let end = ceil_char_boundary(text, (span.end as usize).saturating_sub(line_start));
    let end = end.max(start);
    let col = display_width(&text[shown..start]);
    (col, display_width(&text[start..end]).max(1))
}

/// The length of what is not shown at the start of `text`: a byte order
/// mark on the first line.
fn hidden_prefix(text: &str, line: usize) -> usize {
    if line == 1 && text.starts_with(BOM) {
        BOM.len_utf8()
    } else {
        0
    }
}

/// `offset` capped at `text`'s length and moved back to a char boundary.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `offset` capped at `text`'s length and moved on to a char boundary.
fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Columns `text` takes on screen, as this renderer draws it.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if c == '\t' { TAB.len() } else { 1 })
        .sum()
}

/// Line `line` as shown: tabs expanded, a byte order mark dropped.
fn display_text(source: &SourceFile, line: usize) -> Cow<'_, str> {
    let text = source.line_text(line);
    let text = &text[hidden_prefix(text, line)..];
    if text.contains('\t') {
        Cow::Owned(text.replace('\t', TAB))
    } else {
        Cow::Borrowed(text)
    }
}

/// Number of decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The labels of one file: one `-->` or `:::` location and its lines.
struct Section<'a> {
    source: &'a SourceFile,
    /// The label the location line names: the primary label, or in another
    /// file the first label in it.
    anchor: Mark<'a>,
    marks: Vec<Mark<'a>>,
}

impl<'a> Section<'a> {
    fn new(mark: Mark<'a>) -> Section<'a> {
        Section {
            source: mark.source,
            anchor: mark,
            marks: vec![mark],
        }
    }

    fn push(&mut self, mark: Mark<'a>) {
        if !self.anchor.primary && mark.start < self.anchor.start {
            self.anchor = mark;
        }
        self.marks.push(mark);
    }
}

/// Groups the labels by file: the primary label's file first, then the other
/// files in the order their first label appears.
fn sections<'a>(
    sources: &'a SourceMap,
    primary: Mark<'a>,
    secondary: &'a [Label],
) -> Vec<Section<'a>> {
    let mut sections = vec![Section::new(primary)];
    for mark in secondary
        .iter()
        .filter_map(|label| Mark::resolve(sources, label, false))
    {
        match sections.iter_mut().find(|s| s.anchor.file == mark.file) {
            Some(section) => section.push(mark),
            None => sections.push(Section::new(mark)),
        }
    }
    sections
}

/// One file's part of the snippet: the location line, then each labelled
/// line with its markers. Lines one apart are joined by the line between
/// them; lines further apart by `...`.
fn snippet(out: &mut Writer, section: &Section<'_>, arrow: &str, width: usize, severity: Severity) {
    let anchor = &section.anchor;
    out.put(Style::Plain, &" ".repeat(width));
    out.put(Style::Accent, arrow);
    let place = format!(" {}:{}:{}", section.source.name, anchor.line, anchor.col);
    out.put(Style::Plain, &place);
    out.newline();
    blank_gutter(out, width);

    let mut lines: Vec<usize> = section.marks.iter().map(|m| m.line).collect();
    lines.sort_unstable();
    lines.dedup();
    let mut previous: Option<usize> = None;
    for line in lines {
        match previous {
            Some(prev) if line == prev + 2 => source_line(out, section.source, prev + 1, width),
            Some(prev) if line > prev + 2 => {
                out.put(Style::Accent, "...");
                out.newline();
            }
            _ => {}
        }
        source_line(out, section.source, line, width);
        let on_line: Vec<&Mark<'_>> = section.marks.iter().filter(|m| m.line == line).collect();
        for row in marker_rows(&on_line, severity) {
            gutter(out, width, None);
            for &(ch, style) in &row.0 {
                out.put(style, ch.encode_utf8(&mut [0; 4]));
            }
            out.newline();
        }
        previous = Some(line);
    }
}

/// `12 | text of line 12`.
fn source_line(out: &mut Writer, source: &SourceFile, line: usize, width: usize) {
    gutter(out, width, Some(line));
    out.put(Style::Plain, &display_text(source, line));
    out.newline();
}

/// The gutter of a line: its number (or nothing), `|` and a space.
fn gutter(out: &mut Writer, width: usize, line: Option<usize>) {
    let number = line.map_or_else(String::new, |n| n.to_string());
    // rustc aligns line numbers to the left.
    out.put(Style::Accent, &format!("{number:<width$} |"));
    out.put(Style::Plain, " ");
}

/// A line with only the gutter.
fn blank_gutter(out: &mut Writer, width: usize) {
    gutter(out, width, None);
    out.newline();
}

/// The rows under one source line, for the labels `marks` on it, laid out
/// as rustc does:
///
/// ```text
/// 4 |     let x: i32 = f(a, "b");
///   |            ---   -    ^^^ expected `i32`
///   |            |     |
///   |            |     this function
///   |            expected due to this
/// ```
///
/// All markers share the first row. The rightmost message follows its
/// markers when nothing else is drawn further right; the others hang below,
/// rightmost first, each from a `|` at the start of its markers.
fn marker_rows(marks: &[&Mark<'_>], severity: Severity) -> Vec<Row> {
    let mut markers = Row::default();
    // Secondaries first: where spans overlap, the primary's carets stay visible.
    let (primary, secondary): (Vec<&Mark<'_>>, Vec<&Mark<'_>>) =
        marks.iter().copied().partition(|m| m.primary);
    for mark in secondary.iter().chain(&primary) {
        let marker = if mark.primary { "^" } else { "-" };
        markers.paint(
            mark.draw_col,
            &marker.repeat(mark.draw_width),
            mark.style(severity),
        );
    }

    let mut hanging: Vec<&Mark<'_>> = marks
        .iter()
        .copied()
        .filter(|m| !m.message.is_empty())
        .collect();
    if let Some(i) = inline_label(marks, &hanging) {
        let mark = hanging.remove(i);
        // The space too, so that colour runs on from the markers.
        let text = format!(" {}", mark.message);
        markers.paint(mark.draw_end(), &text, mark.style(severity));
    }
    let mut rows = vec![markers];
    if hanging.is_empty() {
        return rows;
    }

    // Stable: labels starting at the same column stay in order, primary first.
    hanging.sort_by_key(|m| Reverse(m.draw_col));
    let mut connectors = Row::default();
    for mark in &hanging {
        connectors.paint(mark.draw_col, "|", mark.style(severity));
    }
    rows.push(connectors);
    for (i, mark) in hanging.iter().enumerate() {
        let mut row = Row::default();
        // The labels still to come keep their connectors; one starting at
        // this very column would be hidden under the message, so rustc
        // simply stacks such messages.
        for left in hanging[i + 1..]
            .iter()
            .filter(|m| m.draw_col < mark.draw_col)
        {
            row.paint(left.draw_col, "|", left.style(severity));
        }
        row.paint(mark.draw_col, mark.message, mark.style(severity));
        rows.push(row);
    }
    rows
}

/// The index in `labelled` of the label whose message goes on the marker
/// row: the rightmost one, if no markers reach past its own and no other
/// message starts at its column.
fn inline_label(marks: &[&Mark<'_>], labelled: &[&Mark<'_>]) -> Option<usize> {
    let (i, last) = labelled
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| m.draw_col)?;
    let clear = marks.iter().all(|m| m.draw_end() <= last.draw_end());
    let alone = labelled
        .iter()
        .filter(|m| m.draw_col == last.draw_col)
        .count()
        == 1;
    (clear && alone).then_some(i)
}

/// One row of text under a source line, a character and a style per column.
#[derive(Default)]
struct Row(Vec<(char, Style)>);

impl Row {
    /// Writes `text` from column `col` on, over whatever is there.
    fn paint(&mut self, col: usize, text: &str, style: Style) {
        for (at, ch) in (col..).zip(text.chars()) {
            if self.0.len() <= at {
                self.0.resize(at + 1, (' ', Style::Plain));
            }
            self.0[at] = (ch, style);
        }
    }
}

/// How a piece of output looks on a terminal (rustc's colours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Bold,
    /// Gutter, locations' arrows, `=`, secondary markers: bold blue.
    Accent,
    /// The severity word and the primary markers: bold red or bold yellow.
    Level(Severity),
}

impl Style {
    /// The ANSI escape that starts the style.
    fn escape(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Bold => "\x1b[1m",
            Style::Accent => "\x1b[1;34m",
            Style::Level(Severity::Error) => "\x1b[1;31m",
            Style::Level(Severity::Warning) => "\x1b[1;33m",
        }
    }
}

/// Ends a style.
const RESET: &str = "\x1b[0m";

/// Collects the output a line at a time, as styled pieces, so that trailing
/// spaces can be trimmed before escapes hide them.
struct Writer {
    color: bool,
    text: String,
    line: Vec<(Style, String)>,
}

impl Writer {
    fn new(color: bool) -> Writer {
        Writer {
            color,
            text: String::new(),
            line: Vec::new(),
        }
    }

    /// Appends `text` in `style` to the current line.
    fn put(&mut self, style: Style, text: &str) {
        match self.line.last_mut() {
            // One escape per run of a style, not per piece.
            Some((last, piece)) if *last == style => piece.push_str(text),
            _ => self.line.push((style, text.to_owned())),
        }
    }

    /// Ends the current line: trims its trailing spaces, adds the escapes.
    fn newline(&mut self) {
        while let Some((_, piece)) = self.line.last_mut() {
            piece.truncate(piece.trim_end_matches(' ').len());
            if !piece.is_empty() {
                break;
            }
            self.line.pop();
        }
        for (style, piece) in self.line.drain(..) {
            if self.color && style != Style::Plain && !piece.is_empty() {
                self.text.push_str(style.escape());
                self.text.push_str(&piece);
                self.text.push_str(RESET);
            } else {
                self.text.push_str(&piece);
            }
        }
        self.text.push('\n');
    }

    /// The output, its last line ended.
    fn finish(mut self) -> String {
        if !self.line.is_empty() {
            self.newline();
        }
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map of files named and read as `name`, with `text`.
    fn map(files: &[(&str, &str)]) -> SourceMap {
        let mut sources = SourceMap::new();
        for &(name, text) in files {
            sources.add(SourceFile::new(name.into(), name.into(), text.into()));
        }
        sources
    }

    fn span(file: u32, start: usize, end: usize) -> Span {
        Span::new(FileId(file), start, end)
    }

    /// The span of the `n`th (0-based) occurrence of `needle` in `text`.
    fn find(text: &str, needle: &str, n: usize) -> Span {
        let start = text.match_indices(needle).nth(n).expect("needle in text").0;
        span(0, start, start + needle.len())
    }

    fn full(sources: &SourceMap, diag: &Diagnostic) -> String {
        render(&Renderer::default(), sources, diag)
    }

    fn short(sources: &SourceMap, diag: &Diagnostic) -> String {
        let r = Renderer {
            format: Format::Short,
            color: false,
        };
        render(&r, sources, diag)
    }

    fn coloured(sources: &SourceMap, diag: &Diagnostic) -> String {
        let r = Renderer {
            format: Format::Full,
            color: true,
        };
        render(&r, sources, diag)
    }

    const USER: &str = "struct User {\n  1: string name\n  1: i32 age\n}\n";

    #[test]
    fn single_label() {
        let text = "const i8 LEVEL = 300\n";
        let sources = map(&[("a.thrift", text)]);
        let diag = Diagnostic::error("`300` does not fit in `i8`")
            .at(find(text, "300", 0), "out of range");
        let expected = r"error: `300` does not fit in `i8`
 --> a.thrift:1:18
  |
1 | const i8 LEVEL = 300
  |                  ^^^ out of range
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn primary_and_secondary_on_an_earlier_line_with_notes_and_help() {
        let sources = map(&[("idl/bad/duplicate_field_id.thrift", USER)]);
        let diag = Diagnostic::error("duplicate field id 1 in struct `User`")
            .at(find(USER, "1", 1), "duplicate id")
            .with_label(find(USER, "1", 0), "first used here")
            .with_note("field ids identify fields on the wire")
            .with_help("give the field an unused id");
        let expected = r"error: duplicate field id 1 in struct `User`
 --> idl/bad/duplicate_field_id.thrift:3:3
  |
2 |   1: string name
  |   - first used here
3 |   1: i32 age
  |   ^ duplicate id
  |
  = note: field ids identify fields on the wire
  = help: give the field an unused id
";
        assert_eq!(full(&sources, &diag), expected);
        // The public entry point renders the same.
        assert_eq!(Renderer::default().render(&sources, &diag), expected);
    }

    /// `line 1` to `line 12`, one a line.
    fn numbered_lines() -> String {
        (1..=12).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn labels_far_apart_are_joined_by_an_ellipsis() {
        let text = numbered_lines();
        let sources = map(&[("f.thrift", &text)]);
        let diag = Diagnostic::warning("far apart")
            .at(find(&text, "line", 10), "here")
            .with_label(find(&text, "line", 1), "there");
        // The gutter is as wide as the largest line number shown.
        let expected = r"warning: far apart
  --> f.thrift:11:1
   |
2  | line 2
   | ---- there
...
11 | line 11
   | ^^^^ here
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn labels_two_lines_apart_show_the_line_between() {
        let text = numbered_lines();
        let sources = map(&[("f.thrift", &text)]);
        let diag = Diagnostic::error("near")
            .at(find(&text, "line", 3), "")
            .with_label(find(&text, "line", 1), "");
        let expected = r"error: near
 --> f.thrift:4:1
  |
2 | line 2
  | ----
3 | line 3
4 | line 4
  | ^^^^
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn labels_on_adjacent_lines_need_nothing_between() {
        let text = numbered_lines();
        let sources = map(&[("f.thrift", &text)]);
        let diag = Diagnostic::error("adjacent")
            .at(find(&text, "5", 0), "five")
            .with_label(find(&text, "6", 0), "six");
        let expected = r"error: adjacent
 --> f.thrift:5:6
  |
5 | line 5
  |      ^ five
6 | line 6
  |      - six
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn labels_in_another_file_get_their_own_section() {
        let main = "include \"other.thrift\"\n\nstruct B {\n  1: other.A a\n}\n";
        let other = "// shared\nstruct A {}\n";
        let sources = map(&[("main.thrift", main), ("other.thrift", other)]);
        let a = other.find('A').unwrap();
        let diag = Diagnostic::error("`other.A` is not usable here")
            .at(find(main, "other.A", 0), "used here")
            .with_label(span(1, a, a + 1), "defined here")
            .with_label(find(main, "include \"other.thrift\"", 0), "included here")
            .with_note("a note");
        let expected = r#"error: `other.A` is not usable here
 --> main.thrift:4:6
  |
1 | include "other.thrift"
  | ---------------------- included here
...
4 |   1: other.A a
  |      ^^^^^^^ used here
  |
 ::: other.thrift:2:8
  |
2 | struct A {}
  |        - defined here
  |
  = note: a note
"#;
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn another_files_section_is_located_at_its_first_label() {
        let other = "a\nb\nc\n";
        let sources = map(&[("main.thrift", "x\n"), ("other.thrift", other)]);
        let diag = Diagnostic::error("e")
            .at(span(0, 0, 1), "")
            .with_label(span(1, 4, 5), "c")
            .with_label(span(1, 0, 1), "a");
        let expected = r"error: e
 --> main.thrift:1:1
  |
1 | x
  | ^
  |
 ::: other.thrift:1:1
  |
1 | a
  | - a
2 | b
3 | c
  | - c
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn notes_of_several_lines_continue_under_their_first_word() {
        let text = numbered_lines();
        let sources = map(&[("f.thrift", &text)]);
        let diag = Diagnostic::error("e")
            .at(find(&text, "line 10", 0), "x")
            .with_note("expected `i32`\n   found `string`")
            .with_help("one\ntwo");
        let expected = r"error: e
  --> f.thrift:10:1
   |
10 | line 10
   | ^^^^^^^ x
   |
   = note: expected `i32`
              found `string`
   = help: one
           two
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn without_a_primary_label_only_the_headline_and_notes() {
        let sources = map(&[("a.thrift", "x\n")]);
        let diag = Diagnostic::error("cannot read `x.thrift`: not found")
            .with_label(span(0, 0, 1), "ignored without a primary label")
            .with_note("searched `idl`")
            .with_help("check the path");
        let expected = r"error: cannot read `x.thrift`: not found
  = note: searched `idl`
  = help: check the path
";
        assert_eq!(full(&sources, &diag), expected);
        let bare = Diagnostic::warning("nothing to point at");
        assert_eq!(full(&sources, &bare), "warning: nothing to point at\n");
    }

    #[test]
    fn labels_in_unknown_files_are_left_out() {
        let sources = map(&[("a.thrift", "x\n")]);
        let diag = Diagnostic::error("e")
            .at(span(7, 0, 1), "in no file")
            .with_help("h");
        assert_eq!(full(&sources, &diag), "error: e\n  = help: h\n");
        assert_eq!(short(&sources, &diag), "error: e\n");
        let diag = Diagnostic::error("e")
            .at(span(0, 0, 1), "here")
            .with_label(span(7, 0, 1), "in no file");
        let expected = r"error: e
 --> a.thrift:1:1
  |
1 | x
  | ^ here
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn a_code_is_shown_after_the_severity() {
        let text = "include \"a.thrift\";\n";
        let sources = map(&[("b.thrift", text)]);
        let diag = Diagnostic::not_portable("`;` after `include`", "Apache's grammar has none")
            .at(find(text, ";", 0), "here");
        let expected = r#"warning[not-portable]: `;` after `include`
 --> b.thrift:1:19
  |
1 | include "a.thrift";
  |                   ^ here
  |
  = note: Apache's grammar has none
"#;
        assert_eq!(full(&sources, &diag), expected);
        assert_eq!(
            short(&sources, &diag),
            "b.thrift:1:19: warning[not-portable]: `;` after `include`\n"
        );
    }

    #[test]
    fn short_format_is_one_line() {
        let sources = map(&[("idl/user.thrift", USER)]);
        let diag = Diagnostic::warning("field `age` reuses id 1")
            .at(find(USER, "age", 0), "here")
            .with_label(find(USER, "name", 0), "not shown")
            .with_note("not shown")
            .with_help("not shown");
        assert_eq!(
            short(&sources, &diag),
            "idl/user.thrift:3:10: warning: field `age` reuses id 1\n"
        );
        let bare = Diagnostic::error("no inputs").with_help("not shown");
        assert_eq!(short(&sources, &bare), "error: no inputs\n");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "const string ü = \"日本語\" + x\n";
        let sources = map(&[("u.thrift", text)]);
        let diag = Diagnostic::error("e").at(find(text, "x", 0), "here");
        let expected = r#"error: e
 --> u.thrift:1:26
  |
1 | const string ü = "日本語" + x
  |                          ^ here
"#;
        assert_eq!(full(&sources, &diag), expected);
        // Multi-byte characters inside the span get one marker each.
        let diag = Diagnostic::error("e").at(find(text, "\"日本語\"", 0), "string");
        assert!(
            full(&sources, &diag).ends_with("\n  |                  ^^^^^ string\n"),
            "{}",
            full(&sources, &diag)
        );
    }

    #[test]
    fn offsets_inside_a_character_widen_the_span_to_it() {
        let text = "a ü b\n";
        let sources = map(&[("u.thrift", text)]);
        let u = text.find('ü').unwrap();
        // Start and end both inside `ü`: the whole character is marked.
        for (start, end) in [(u + 1, u + 1), (u, u + 1), (u + 1, u + 2)] {
            let diag = Diagnostic::error("e").at(span(0, start, end), "ü");
            let out = full(&sources, &diag);
            assert!(
                out.ends_with("1 | a ü b\n  |   ^ ü\n"),
                "{start}..{end}: {out}"
            );
        }
    }

    #[test]
    fn tabs_count_four_columns() {
        let text = "struct S {\n\t1:\ti32 x\n}\n";
        let sources = map(&[("t.thrift", text)]);
        let diag = Diagnostic::error("e")
            .at(find(text, "i32", 0), "type")
            .with_label(find(text, "\t", 0), "a tab");
        let expected = "error: e
 --> t.thrift:2:5
  |
2 |     1:    i32 x
  | ----      ^^^ type
  | |
  | a tab
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn spans_past_the_end_point_just_past_the_last_character() {
        let text = "struct S {";
        let sources = map(&[("e.thrift", text)]);
        let diag = Diagnostic::error("expected `}`, found end of file").at(span(0, 10, 10), "here");
        let expected = r"error: expected `}`, found end of file
 --> e.thrift:1:11
  |
1 | struct S {
  |           ^ here
";
        assert_eq!(full(&sources, &diag), expected);
        let diag = Diagnostic::error("far out").at(span(0, 50, 90), "here");
        assert_eq!(
            full(&sources, &diag),
            expected.replace("expected `}`, found end of file", "far out")
        );
    }

    #[test]
    fn an_empty_file_shows_an_empty_line() {
        let sources = map(&[("empty.thrift", "")]);
        let diag = Diagnostic::warning("the file is empty").at(span(0, 0, 0), "");
        let expected = r"warning: the file is empty
 --> empty.thrift:1:1
  |
1 |
  | ^
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn a_span_over_several_lines_is_drawn_on_its_first() {
        let sources = map(&[("u.thrift", USER)]);
        let diag = Diagnostic::error("e").at(find(USER, "{\n  1: string", 0), "opens here");
        let expected = r"error: e
 --> u.thrift:1:13
  |
1 | struct User {
  |             ^ opens here
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn crlf_line_ends_are_not_shown_or_marked() {
        let text = "struct S {\r\n  1: i32 x\r\n}\r\n";
        let sources = map(&[("crlf.thrift", text)]);
        // The span runs into the `\r\n`.
        let x = text.find('x').unwrap();
        let diag = Diagnostic::error("e").at(span(0, x, x + 3), "x");
        let expected = r"error: e
 --> crlf.thrift:2:10
  |
2 |   1: i32 x
  |          ^ x
";
        assert_eq!(full(&sources, &diag), expected);
        // A span starting on the `\n` points just past the line's text.
        let diag = Diagnostic::error("e").at(span(0, x + 2, x + 2), "end");
        assert!(full(&sources, &diag).ends_with("2 |   1: i32 x\n  |           ^ end\n"));
    }

    #[test]
    fn a_byte_order_mark_is_neither_shown_nor_counted() {
        let text = "\u{feff}struct S {}\n";
        let sources = map(&[("bom.thrift", text)]);
        let diag = Diagnostic::error("e").at(find(text, "S", 0), "name");
        let out = full(&sources, &diag);
        assert!(!out.contains('\u{feff}'), "{out}");
        assert!(
            out.ends_with("1 | struct S {}\n  |        ^ name\n"),
            "{out}"
        );
    }

    #[test]
    fn labels_on_one_line_share_the_marker_row() {
        let text = "service S extends T, U\n";
        let sources = map(&[("s.thrift", text)]);
        let diag = Diagnostic::error("e")
            .at(find(text, "U", 0), "third")
            .with_label(find(text, "S", 0), "first")
            .with_label(find(text, "T", 0), "second");
        let expected = r"error: e
 --> s.thrift:1:22
  |
1 | service S extends T, U
  |         -         -  ^ third
  |         |         |
  |         |         second
  |         first
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn a_message_that_would_cover_markers_hangs_below() {
        let text = "const i32 X = f(y)\n";
        let sources = map(&[("c.thrift", text)]);
        // The primary lies inside the secondary: its carets win.
        let diag = Diagnostic::error("e")
            .at(find(text, "y", 0), "inner")
            .with_label(find(text, "f(y)", 0), "outer");
        let expected = r"error: e
 --> c.thrift:1:17
  |
1 | const i32 X = f(y)
  |               --^-
  |               | |
  |               | inner
  |               outer
";
        assert_eq!(full(&sources, &diag), expected);
        // A rightmost label without a message leaves the others below too.
        let diag = Diagnostic::error("e")
            .at(find(text, "y", 0), "")
            .with_label(find(text, "X", 0), "name");
        let expected_rows = "  |           -     ^\n  |           |\n  |           name\n";
        assert!(
            full(&sources, &diag).ends_with(expected_rows),
            "{}",
            full(&sources, &diag)
        );
    }

    #[test]
    fn messages_at_the_same_column_are_stacked() {
        let text = "x\n";
        let sources = map(&[("x.thrift", text)]);
        let diag = Diagnostic::error("e")
            .at(span(0, 0, 1), "used here")
            .with_label(span(0, 0, 1), "moved here");
        let expected = r"error: e
 --> x.thrift:1:1
  |
1 | x
  | ^
  | |
  | used here
  | moved here
";
        assert_eq!(full(&sources, &diag), expected);
    }

    #[test]
    fn no_line_ends_with_a_space() {
        let text = "struct S {   \n}\n";
        let sources = map(&[("s.thrift", text)]);
        let diag = Diagnostic::error("trailing  ")
            .at(span(0, 10, 13), "spaces  ")
            .with_note("n ");
        let out = full(&sources, &diag);
        assert!(out.lines().all(|l| !l.ends_with(' ')), "{out:?}");
        assert!(
            out.contains("1 | struct S {\n  |           ^^^ spaces\n"),
            "{out}"
        );
    }

    #[test]
    fn colour_follows_rustc() {
        let text = "a b\n";
        let sources = map(&[("c.thrift", text)]);
        let diag = Diagnostic::error("msg")
            .at(span(0, 2, 3), "p")
            .with_label(span(0, 0, 1), "s")
            .with_help("h");
        let expected = "\x1b[1;31merror\x1b[0m\x1b[1m: msg\x1b[0m
 \x1b[1;34m-->\x1b[0m c.thrift:1:3
\x1b[1;34m  |\x1b[0m
\x1b[1;34m1 |\x1b[0m a b
\x1b[1;34m  |\x1b[0m \x1b[1;34m-\x1b[0m \x1b[1;31m^ p\x1b[0m
\x1b[1;34m  |\x1b[0m \x1b[1;34m|\x1b[0m
\x1b[1;34m  |\x1b[0m \x1b[1;34ms\x1b[0m
\x1b[1;34m  |\x1b[0m
  \x1b[1;34m=\x1b[0m \x1b[1mhelp\x1b[0m: h
";
        assert_eq!(coloured(&sources, &diag), expected);
        assert!(!full(&sources, &diag).contains('\x1b'));

        let warning = Diagnostic::warning("w").at(span(0, 0, 1), "");
        let out = coloured(&sources, &warning);
        assert!(out.starts_with("\x1b[1;33mwarning\x1b[0m"), "{out:?}");
        assert!(out.ends_with("\x1b[1;33m^\x1b[0m\n"), "{out:?}");
        let r = Renderer {
            format: Format::Short,
            color: true,
        };
        assert_eq!(
            render(&r, &sources, &warning),
            "\x1b[1mc.thrift:1:1: \x1b[0m\x1b[1;33mwarning\x1b[0m\x1b[1m: w\x1b[0m\n"
        );
        assert!(!short(&sources, &warning).contains('\x1b'));
    }

    #[test]
    fn no_span_makes_it_panic() {
        let texts = [
            "",
            "ü",
            "a\r\nü\tb",
            "日本\n\n\u{feff}x\r\n",
            "\u{feff}",
            "a\n",
        ];
        let mut sources = SourceMap::new();
        for (i, text) in texts.iter().enumerate() {
            let name = format!("f{i}.thrift");
            sources.add(SourceFile::new(
                name.clone().into(),
                name,
                (*text).to_owned(),
            ));
        }
        let renderers = [Format::Full, Format::Short]
            .into_iter()
            .flat_map(|format| [false, true].map(|color| Renderer { format, color }));
        let renderers: Vec<Renderer> = renderers.collect();
        for (file, text) in texts.iter().enumerate() {
            let far = text.len() + 3;
            for start in 0..=far {
                for end in 0..=far {
                    let diag = Diagnostic::error("e")
                        .at(span(file as u32, start, end), "p")
                        .with_label(span(file as u32, end, start), "s")
                        .with_label(span(0, start, end), "other")
                        .with_label(span(99, start, end), "none")
                        .with_note("n");
                    for r in &renderers {
                        let out = render(r, &sources, &diag);
                        assert!(out.ends_with('\n'));
                    }
                }
            }
        }
        let huge = Diagnostic::error("e").at(span(0, u32::MAX as usize, u32::MAX as usize), "");
        assert!(full(&sources, &huge).ends_with("  | ^\n"));
    }
}
