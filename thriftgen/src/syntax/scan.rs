//! One lexical walk over IDL text that knows strings and comments, for the
//! checks that run beside the grammar (nesting depth, doc comments).

/// What the walk meets.
pub(super) enum Event {
    /// A byte outside strings and comments, at this offset.
    Code(usize, u8),
    /// A `/* ... */` comment from `start` to `end` (or to the end of the text
    /// if it is not closed).
    BlockComment { start: usize, end: usize },
}

/// Calls `visit` for every byte outside strings and comments and for every
/// block comment, in order. Strings end at their quote or at the end of the
/// line (the grammar reports an unterminated one); `//` and `#` comments are
/// skipped to the end of the line.
pub(super) fn walk(text: &str, mut visit: impl FnMut(Event)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => i = line_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = line_end(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                visit(Event::BlockComment { start: i, end });
                i = end;
                continue;
            }
            b => visit(Event::Code(i, b)),
        }
        i += 1;
    }
}

fn line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| i + p)
}
