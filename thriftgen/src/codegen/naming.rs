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

/// An identifier for `name`, whatever the string: characters an identifier
/// cannot hold become `_` (non-ASCII letters and digits `u` and their code
/// point in hex, as [`snake`] spells them), a leading digit or an empty name
/// gets a `_` in front, and a word Rust reserves is escaped. Never panics.
pub fn ident(name: &str) -> Ident {
    let mut text = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            text.push(c);
        } else if c.is_alphanumeric() {
            text.push_str(&escape(c));
        } else {
            text.push('_');
        }
    }
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_digit()) {
        text.insert(0, '_');
    }
    if NOT_RAW.contains(&text.as_str()) {
        text.push('_');
        Ident::new(&text, Span::call_site())
    } else if KEYWORDS.contains(&text.as_str()) {
        Ident::new_raw(&text, Span::call_site())
    } else {
        Ident::new(&text, Span::call_site())
    }
}

/// A non-ASCII letter or digit as ASCII: `u` and its code point in hex
/// (`é` is `ue9`). Generated names stay ASCII, so no lint about uncommon or
/// confusable code points can fire in generated code.
fn escape(c: char) -> String {
    format!("u{:x}", u32::from(c))
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

/// Splits `fooBar_baz`, `FOOBar`, `foo2Bar`, `simple-service` into words.
/// Anything but ASCII letters and digits separates words; a non-ASCII letter
/// or digit is a word of its own, spelt in ASCII (see [`escape`]).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if c.is_alphanumeric() {
                words.push(escape(c));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|j| chars.get(j).copied());
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && !current.is_empty()
            && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase())));
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
/// that collide get a number (the field id, or the position): `_` and the
/// number for snake and shouty names (`foo_bar_2`, `MAX_2`), the number alone
/// for camel-case ones (`FooBar2`), which `non_camel_case_types` requires.
pub fn unique(names: impl IntoIterator<Item = (String, i64)>) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    names
        .into_iter()
        .map(|(name, tag)| {
            let camel = name.contains(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .find(char::is_ascii_alphabetic)
                    .is_some_and(|c| c.is_ascii_uppercase());
            let mut candidate = name.clone();
            let mut n = tag.unsigned_abs();
            while !taken.insert(candidate.clone()) {
                candidate = if camel {
                    format!("{name}{n}")
                } else {
                    format!("{name}_{n}")
                };
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
        assert_eq!(ident("Self").to_string(), "Self_");
        assert_eq!(ident("_").to_string(), "__");
    }

    #[test]
    fn any_string_is_an_identifier() {
        assert_eq!(ident("").to_string(), "__");
        assert_eq!(ident("simple-service").to_string(), "simple_service");
        assert_eq!(ident("2fa").to_string(), "_2fa");
        assert_eq!(ident("café").to_string(), "cafue9");
        assert_eq!(ident("a b.c").to_string(), "a_b_c");
        for name in [
            "",
            " ",
            "-",
            "9",
            "r#type",
            "\u{301}",
            "\u{1F600}",
            "self",
            "__",
        ] {
            syn::parse_str::<syn::Ident>(&ident(name).to_string()).unwrap();
        }
    }

    #[test]
    fn file_names_become_snake_case() {
        assert_eq!(snake("simple-service"), "simple_service");
        assert_eq!(snake("include-child"), "include_child");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(snake("type"), "type");
        assert_eq!(snake("my service.v2"), "my_service_v2");
        assert_eq!(snake("café"), "caf_ue9");
        assert_eq!(snake("---"), "_");
        assert_eq!(upper_camel("2fa"), "_2fa");
        assert_eq!(upper_camel("über-type"), "UfcBerType");
    }

    #[test]
    fn collisions_get_numbered() {
        let names = unique([
            ("foo_bar".to_string(), 1),
            ("foo_bar".to_string(), 2),
            ("foo_bar".to_string(), 3),
        ]);
        assert_eq!(names, ["foo_bar", "foo_bar_2", "foo_bar_3"]);
        let names = unique([
            ("FooBar".to_string(), 1),
            ("FooBar".to_string(), 2),
            ("MAX".to_string(), 0),
            ("MAX".to_string(), 3),
        ]);
        assert_eq!(names, ["FooBar", "FooBar2", "MAX", "MAX_3"]);
    }
}
