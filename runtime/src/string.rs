//! [`ByteString`]: a UTF-8 string that shares its storage with the message it
//! was read from, for generated code built with zero-copy strings.

use bytes::Bytes;
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// An immutable UTF-8 string stored in [`Bytes`]: reading one from a message
/// validates it and slices the input, without allocating or copying.
/// Dereferences to `str`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteString(
    /// Always valid UTF-8: every constructor checks or guarantees it.
    Bytes,
);

impl ByteString {
    /// A string over static text, without copying.
    pub const fn from_static(text: &'static str) -> ByteString {
        ByteString(Bytes::from_static(text.as_bytes()))
    }

    /// `bytes` as a string, if they are valid UTF-8.
    ///
    /// # Errors
    ///
    /// Returns the UTF-8 error when they are not.
    pub fn from_utf8(bytes: Bytes) -> Result<ByteString, std::str::Utf8Error> {
        validate_utf8(&bytes)?;
        Ok(ByteString(bytes))
    }

    /// The text `input[start..end]`, sharing storage. The caller has checked
    /// that the range is within `input` and holds valid UTF-8.
    #[inline]
    pub(crate) fn from_checked(input: &Bytes, start: usize, end: usize) -> ByteString {
        ByteString(input.slice(start..end))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes were checked to be UTF-8 when the value was made
        // (`from_utf8`) or came from a `str` (`from_static`, `From`), and
        // they are never mutated.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The text from byte `at` on, sharing storage.
    ///
    /// # Panics
    ///
    /// When `at` is not a character boundary of the text.
    pub fn slice_from(&self, at: usize) -> ByteString {
        assert!(
            self.as_str().is_char_boundary(at),
            "not a character boundary"
        );
        ByteString(self.0.slice(at..))
    }

    /// The bytes, sharing storage.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// Checks UTF-8, with a fast path for ASCII (most protocol text).
#[inline]
pub(crate) fn validate_utf8(bytes: &[u8]) -> Result<(), std::str::Utf8Error> {
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
        ByteString(Bytes::from(text.into_bytes()))
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
}
