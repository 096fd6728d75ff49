//! Rust names for IDL names: case conversion, keyword escaping, and
//! resolution of names that collide once converted.

use proc_macro2::{Ident, Span};

/// Words Rust reserves. Most are escaped as raw identifiers (`r#type`); the
/// few that cannot be raw get a trailing `_`.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "try", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// An identifier for `name`, escaped if Rust reserves it.
pub fn ident(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// `UpperCamelCase`, for types and union variants.
pub fn upper_camel(name: &str) -> String {
    let mut out = String::new();
    for word in words(name) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(&chars.as_str().to_lowercase());
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `snake_case`, for fields, functions and modules.
pub fn snake(name: &str) -> String {
    let out = words(name)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// `SHOUTY_SNAKE_CASE`, for constants and enum values.
pub fn shouty(name: &str) -> String {
    snake(name).to_uppercase()
}

/// Splits `fooBar_baz`, `FOOBar`, `foo2Bar` into words.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '.' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && !current.is_empty()
            && (prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(char::is_lowercase)));
        if boundary {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Gives each name a unique converted form: the first keeps it, later ones
/// that collide get `_` and a number (the field id, or the position).
pub fn unique(names: impl IntoIterator<Item = (String, i64)>) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    names
        .into_iter()
        .map(|(name, tag)| {
            let mut candidate = name.clone();
            let mut n = tag.unsigned_abs();
            while !taken.insert(candidate.clone()) {
                candidate = format!("{name}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(upper_camel("user_profile"), "UserProfile");
        assert_eq!(upper_camel("HTTPRequest"), "HttpRequest");
        assert_eq!(upper_camel("onewayvoid"), "Onewayvoid");
        assert_eq!(upper_camel("NOW_EAT_THIS"), "NowEatThis");
        assert_eq!(snake("fooBar"), "foo_bar");
        assert_eq!(snake("FooBar"), "foo_bar");
        assert_eq!(snake("userID2Name"), "user_id2_name");
        assert_eq!(snake("i32"), "i32");
        assert_eq!(shouty("maxItems"), "MAX_ITEMS");
        assert_eq!(shouty("RED"), "RED");
    }

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("crate").to_string(), "crate_");
        assert_eq!(ident("name").to_string(), "name");
    }

    #[test]
    fn collisions_get_numbered() {
        let names = unique([
            ("foo_bar".to_string(), 1),
            ("foo_bar".to_string(), 2),
            ("foo_bar".to_string(), 3),
        ]);
        assert_eq!(names, ["foo_bar", "foo_bar_2", "foo_bar_3"]);
    }
}
