//! [`ByteString`]: a UTF-8 string that shares its storage with the message it
//! was read from, for generated code built with zero-copy strings.

use bytes::Bytes;
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// An immutable UTF-8 string that shares storage with the message it was
/// read from: reading one validates it and, when it is longer than
/// [`ByteString::INLINE`] bytes, slices the input without allocating or
/// copying; shorter ones are copied into the value itself, which costs less
/// than sharing (no reference count to touch) and keeps no message alive.
/// Dereferences to `str`.
#[derive(Clone)]
pub struct ByteString(Repr);

/// Always valid UTF-8: every constructor checks or guarantees it.
#[derive(Clone)]
enum Repr {
    /// Text of at most `INLINE` bytes: the first `bytes[INLINE]` bytes (the
    /// last byte holds the length; the bytes after the text are not part of
    /// it).
    Inline([u8; ByteString::INLINE + 1]),
    /// A slice of a message (or any `Bytes`).
    Shared(Bytes),
}

impl ByteString {
    /// The longest text a decoded `ByteString` copies instead of sharing.
    pub const INLINE: usize = 23;

    /// A string over static text, without copying.
    pub const fn from_static(text: &'static str) -> ByteString {
        ByteString(Repr::Shared(Bytes::from_static(text.as_bytes())))
    }

    /// `bytes` as a string, if they are valid UTF-8 (sharing them, however
    /// short).
    ///
    /// # Errors
    ///
    /// Returns the UTF-8 error when they are not.
    pub fn from_utf8(bytes: Bytes) -> Result<ByteString, std::str::Utf8Error> {
        validate_utf8(&bytes)?;
        Ok(ByteString(Repr::Shared(bytes)))
    }

    /// The text `input[start..end]`: copied when short, else sharing
    /// storage. The caller has checked that the range is within `input` and
    /// holds valid UTF-8.
    #[inline]
    pub(crate) fn from_checked(input: &Bytes, start: usize, end: usize) -> ByteString {
        let len = end.saturating_sub(start);
        if len > Self::INLINE {
            return ByteString(Repr::Shared(input.slice(start..end)));
        }
        // Copied as three words (no `memcpy` call, and stores as wide as the
        // loads that later move the value) when the input has the bytes;
        // what follows the text is never read.
        let window = input
            .get(start..start + Self::INLINE + 1)
            .and_then(|w| <&[u8; Self::INLINE + 1]>::try_from(w).ok());
        match window {
            Some(window) => Self::inline_from(window, len),
            None => Self::inline(input.get(start..end).unwrap_or_default()),
        }
    }

    /// `text` (valid UTF-8, at most `INLINE` bytes) copied inline.
    fn inline(text: &[u8]) -> ByteString {
        let mut window = [0; Self::INLINE + 1];
        let len = text.len().min(Self::INLINE);
        window[..len].copy_from_slice(&text[..len]);
        Self::inline_from(&window, len)
    }

    /// The first `len` (at most `INLINE`) bytes of `window`, inline.
    #[inline]
    fn inline_from(window: &[u8; Self::INLINE + 1], len: usize) -> ByteString {
        let word = |i: usize| {
            let mut w = [0; 8];
            w.copy_from_slice(&window[i * 8..i * 8 + 8]);
            w
        };
        let mut last = word(2);
        last[7] = len.min(Self::INLINE) as u8;
        let mut bytes = [0; Self::INLINE + 1];
        bytes[..8].copy_from_slice(&word(0));
        bytes[8..16].copy_from_slice(&word(1));
        bytes[16..].copy_from_slice(&last);
        ByteString(Repr::Inline(bytes))
    }

    /// The text's bytes.
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(bytes) => &bytes[..usize::from(bytes[Self::INLINE])],
            Repr::Shared(bytes) => bytes,
        }
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes were checked to be UTF-8 when the value was made
        // (`from_utf8`, `from_checked`) or came from a `str` (`from_static`,
        // `From`), are copied or sliced only at character boundaries
        // (`slice_from`), and are never mutated.
        unsafe { std::str::from_utf8_unchecked(self.as_bytes()) }
    }

    /// The text from byte `at` on (sharing storage when it shares any).
    ///
    /// # Panics
    ///
    /// When `at` is not a character boundary of the text.
    pub fn slice_from(&self, at: usize) -> ByteString {
        assert!(
            self.as_str().is_char_boundary(at),
            "not a character boundary"
        );
        match &self.0 {
            Repr::Inline(_) => Self::inline(&self.as_bytes()[at..]),
            Repr::Shared(bytes) => ByteString(Repr::Shared(bytes.slice(at..))),
        }
    }

    /// The storage this text shares, when it shares any (for writers that
    /// hand large values on without copying them).
    #[inline]
    pub fn shared(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Inline(_) => None,
            Repr::Shared(bytes) => Some(bytes),
        }
    }

    /// The bytes (sharing storage, or copied when the text is inline).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(_) => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(bytes) => bytes,
        }
    }
}

impl Default for ByteString {
    fn default() -> ByteString {
        ByteString::from_static("")
    }
}

impl PartialEq for ByteString {
    fn eq(&self, other: &ByteString) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ByteString {}

impl PartialOrd for ByteString {
    fn partial_cmp(&self, other: &ByteString) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByteString {
    fn cmp(&self, other: &ByteString) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

/// Checks UTF-8: short text with a fast path for ASCII (most protocol
/// text), long text with SIMD (`simdutf8`, which accepts exactly what the
/// standard library does; on an error the standard library says where).
#[inline]
pub(crate) fn validate_utf8(bytes: &[u8]) -> Result<(), std::str::Utf8Error> {
    if bytes.len() >= 64 {
        return match simdutf8::basic::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(_) => std::str::from_utf8(bytes).map(|_| ()),
        };
    }
    if bytes.is_ascii() {
        Ok(())
    } else {
        std::str::from_utf8(bytes).map(|_| ())
    }
}

// Hash as `str` does, as `Borrow<str>` requires (maps keyed by `ByteString`
// are looked up with `&str`).
impl std::hash::Hash for ByteString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for ByteString {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ByteString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for ByteString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for ByteString {
    fn from(text: &'static str) -> ByteString {
        ByteString::from_static(text)
    }
}

impl From<String> for ByteString {
    fn from(text: String) -> ByteString {
        ByteString(Repr::Shared(Bytes::from(text.into_bytes())))
    }
}

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ByteString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ByteString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A `ByteString` is a plain string to serde.
#[cfg(feature = "serde")]
impl serde::Serialize for ByteString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read from a string: short text is copied into the value, longer text
/// is moved in (an owned `String`) or copied once.
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ByteString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ByteString, D::Error> {
        struct Text;

        impl serde::de::Visitor<'_> for Text {
            type Value = ByteString;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteString, E> {
                if v.len() <= ByteString::INLINE {
                    Ok(ByteString::inline(v.as_bytes()))
                } else {
                    Ok(ByteString::from(v.to_owned()))
                }
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ByteString, E> {
                if v.len() <= ByteString::INLINE {
                    Ok(ByteString::inline(v.as_bytes()))
                } else {
                    Ok(ByteString::from(v))
                }
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteString, E> {
                match std::str::from_utf8(v) {
                    Ok(text) => self.visit_str(text),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(v), &self)),
                }
            }
        }

        deserializer.deserialize_string(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn validates_and_shares() {
        let input = Bytes::from_static("héllo".as_bytes());
        let s = ByteString::from_utf8(input.clone()).unwrap();
        assert_eq!(s, "héllo");
        assert_eq!(s.as_ptr(), input.as_ptr());
        assert!(ByteString::from_utf8(Bytes::from_static(&[0xc3, 0x28])).is_err());
        let mut map = HashMap::new();
        map.insert(ByteString::from("k"), 1);
        assert_eq!(map.get("k"), Some(&1));
        assert_eq!(format!("{s} {s:?}"), "héllo \"héllo\"");
    }

    #[test]
    fn long_text_is_validated_as_the_standard_library_does() {
        let mut text = "é".repeat(40).into_bytes();
        assert!(validate_utf8(&text).is_ok());
        text[50] = 0xff;
        let ours = validate_utf8(&text).unwrap_err();
        let std = std::str::from_utf8(&text).unwrap_err();
        assert_eq!(ours.valid_up_to(), std.valid_up_to());
        assert!(validate_utf8(&[b'a'; 100]).is_ok());
        // A sequence cut at the end, and a surrogate, are errors too.
        let cut = [&[b'a'; 70][..], &[0xe2, 0x82]].concat();
        assert!(validate_utf8(&cut).is_err());
        let surrogate = [&[b'a'; 70][..], &[0xed, 0xa0, 0x80]].concat();
        assert!(validate_utf8(&surrogate).is_err());
    }

    #[test]
    fn decoded_text_is_inline_when_short_and_shared_when_long() {
        let long = "a string longer than the inline limit";
        let input = Bytes::from(format!("{long}|short"));
        let shared = ByteString::from_checked(&input, 0, long.len());
        assert_eq!(shared, long);
        assert_eq!(shared.as_ptr(), input.as_ptr());
        assert!(shared.shared().is_some());
        let short = ByteString::from_checked(&input, long.len() + 1, input.len());
        assert_eq!(short, "short");
        assert!(short.shared().is_none());
        assert_eq!(short.slice_from(2), "ort");
        assert_eq!(shared.slice_from(2).as_ptr(), input[2..].as_ptr());
        assert_eq!(short.clone().into_bytes(), Bytes::from_static(b"short"));
        // Equality, order and hashing see the text, not where it lives.
        let same = ByteString::from(String::from("short"));
        assert_eq!(short, same);
        assert_eq!(short.cmp(&same), std::cmp::Ordering::Equal);
        let mut map = HashMap::new();
        map.insert(same, 1);
        assert_eq!(map.get(&short), Some(&1));
        assert_eq!(ByteString::default(), "");
    }
}
