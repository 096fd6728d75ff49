//! Nothing panics on any input: mangled versions of the valid IDL files, and
//! random text, go through parsing, checking and rendering.

use proptest::prelude::*;
use std::path::PathBuf;
use thriftgen::diag::{Format, Renderer};

fn good_files() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../idl/good");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "thrift"))
                .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(&p).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    // A seed that does not depend on the corpus, so the test always has input.
    files.push((
        "seed.thrift".to_string(),
        "namespace rs seed\nenum E { A = 1, B }\nconst map<string, E> M = {\"a\": E.A}\n\
         struct S { 1: required string s = \"x\\n\", 2: optional list<S> kids, 3: E e = B }\n\
         union U { 1: i32 a 2: binary b }\nexception X { 1: string message }\n\
         service Base { void ping() }\nservice Svc extends Base { S get(1: i64 id) throws (1: X x) oneway void log(1: string m) }\n"
            .to_string(),
    ));
    files
}

/// Tokens that tend to break parsers: openers without closers, quotes,
/// comment starts, huge numbers, keywords in odd places, non-ASCII.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "<",
    ">",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "'",
    "/*",
    "*/",
    "/**",
    "//",
    "#",
    "\n",
    "\r",
    ":",
    "=",
    ",",
    ";",
    "&",
    ".",
    "-",
    "+",
    "0x",
    "1e",
    "\\",
    "\\q",
    "ü",
    "日本",
    "\u{FEFF}",
    "\0",
    "struct",
    "union",
    "service",
    "extends",
    "throws",
    "oneway",
    "void",
    "required",
    "list<",
    "map<",
    "include \"x.thrift\"",
    "include \"seed.thrift\"",
    "99999999999999999999999",
    "-9223372036854775809",
    "2147483648",
    "70000:",
    "xsd_attrs",
    "senum",
    "slist",
    "typedef S S",
    "const i8 B = 300",
    "E.C",
    "uuid",
    "\"00112233-4455-6677-8899-aabbccddeeff\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(u16, u16),
    Insert(u16, usize),
    Duplicate(u16, u16),
    Truncate(u16),
    Flip(u16, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<u16>(), 1u16..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<u16>(), 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<u16>(), 1u16..128).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        any::<u16>().prop_map(Mutation::Truncate),
        (any::<u16>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
    ]
}

/// A position in `text` on a char boundary, from a fraction of its length.
fn at(text: &str, frac: u16) -> usize {
    let mut i = text.len() * usize::from(frac) / usize::from(u16::MAX);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn end_from(text: &str, start: usize, n: u16) -> usize {
    let mut end = (start + usize::from(n)).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn apply(text: &mut String, m: &Mutation) {
    match *m {
        Mutation::Delete(a, n) => {
            let start = at(text, a);
            let end = end_from(text, start, n);
            text.replace_range(start..end, "");
        }
        Mutation::Insert(a, t) => {
            let i = at(text, a);
            text.insert_str(i, TOKENS[t]);
        }
        Mutation::Duplicate(a, n) => {
            let start = at(text, a);
            let end = end_from(text, start, n);
            let piece = text[start..end].to_string();
            text.insert_str(end, &piece);
        }
        Mutation::Truncate(a) => {
            let i = at(text, a);
            text.truncate(i);
        }
        Mutation::Flip(a, b) => {
            let i = at(text, a);
            if let Some(c) = text[i..].chars().next() {
                let replacement = char::from(b.max(1) & 0x7f).to_string();
                text.replace_range(i..i + c.len_utf8(), &replacement);
            }
        }
    }
}

/// Runs the whole front end and every renderer over `text`.
fn exercise(name: &str, text: &str) {
    let analysis = thriftgen::analyze_source(name, text, &[] as &[&str]);
    for format in [Format::Full, Format::Short] {
        for color in [false, true] {
            let out =
                Renderer { format, color }.render_all(&analysis.sources, &analysis.diagnostics);
            assert!(analysis.diagnostics.is_empty() || !out.is_empty());
        }
    }
    if !analysis.has_errors() {
        let sources = &analysis.sources;
        let _ = analysis
            .ir
            .dump(&|s| sources.file(s.file).line_col(s.start));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mangled_good_files_never_panic(
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = good_files();
        let (name, original) = &files[file.index(files.len())];
        let mut text = original.clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        exercise(name, &text);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        exercise("random.thrift", &text);
    }

    #[test]
    fn random_token_soup_never_panics(tokens in prop::collection::vec(0..TOKENS.len(), 0..60)) {
        let text: String = tokens.iter().map(|&t| TOKENS[t]).collect::<Vec<_>>().join(" ");
        exercise("soup.thrift", &text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for opener in ["list<", "[", "{", "("] {
        let text = format!("const list<i32> X = {}", opener.repeat(100_000));
        let analysis = thriftgen::analyze_source("deep.thrift", &text, &[] as &[&str]);
        assert!(analysis.has_errors(), "{opener}");
        let msg = &analysis.diagnostics[0].message;
        assert!(msg.contains("nest deeper"), "{opener}: {msg}");
    }
}

#[test]
fn nesting_within_the_limit_parses() {
    let depth = thriftgen::syntax::MAX_NESTING / 2 - 1;
    let ty = format!("{}i32{}", "list<".repeat(depth), ">".repeat(depth));
    let analysis =
        thriftgen::analyze_source("ok.thrift", &format!("typedef {ty} T\n"), &[] as &[&str]);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
}

#[test]
fn empty_and_whitespace_files_are_valid() {
    for text in [
        "",
        "\n",
        "\u{FEFF}",
        "// nothing\n# here\n/* either */\n",
        "\r\n\r\n",
    ] {
        let analysis = thriftgen::analyze_source("empty.thrift", text, &[] as &[&str]);
        assert!(
            analysis.diagnostics.is_empty(),
            "{text:?}: {:?}",
            analysis.diagnostics
        );
    }
}

#[test]
fn nesting_at_the_limit_fits_the_stack_of_a_test_thread() {
    // Test threads have 2 MiB of stack, build scripts 8 MiB: the limit must
    // hold in a debug build on the smaller one.
    let n = thriftgen::syntax::MAX_NESTING;
    let value = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let text = format!(
        "const list<i32> X = {value}\nstruct S {{ 1: {}i32{} x }}\n",
        "list<".repeat(n - 2),
        ">".repeat(n - 2)
    );
    let analysis = thriftgen::analyze_source("limit.thrift", &text, &[] as &[&str]);
    assert!(!analysis
        .diagnostics
        .iter()
        .any(|d| d.message.contains("nest deeper")));
}

#[test]
fn more_implicit_ids_than_i16_holds_is_an_error() {
    let fields: String = (0..32_770).map(|i| format!("  i32 f{i}\n")).collect();
    let text = format!("struct Huge {{\n{fields}}}\n");
    let analysis = thriftgen::analyze_source("huge.thrift", &text, &[] as &[&str]);
    let errors: Vec<&str> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(errors, ["struct `Huge` has too many fields without ids"; 2]);
}
