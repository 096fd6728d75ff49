//! The key/value headers of THeader and TTHeader frames.
//!
//! Keys and values are byte strings on the wire in both dialects (a length,
//! then that many bytes, with no promise of UTF-8), so [`Headers`] keeps them
//! as [`Bytes`]: decoded headers are slices of the frame, not copies, and a
//! key such as `b"\xff\xfe"` or a value such as `b"\x00\x01\xff"` comes
//! through as it was sent. Text is a view on top: [`Headers::get_str`].

use bytes::Bytes;
use std::fmt;

/// Something [`Headers`] can store as a key or value: text or bytes, owned
/// (moved in without a copy) or borrowed (copied).
///
/// Implemented for [`Bytes`], `String`, `Vec<u8>` and references to anything
/// that is `AsRef<[u8]>` (`&str`, `&[u8]`, `&[u8; N]`, `&String`, ...), so both
/// `insert("k", "v")` and `insert(b"\xff".to_vec(), Bytes::new())` work.
pub trait IntoHeaderBytes {
    /// The bytes.
    fn into_header_bytes(self) -> Bytes;
}

impl IntoHeaderBytes for Bytes {
    fn into_header_bytes(self) -> Bytes {
        self
    }
}

impl IntoHeaderBytes for Vec<u8> {
    fn into_header_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoHeaderBytes for String {
    fn into_header_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl<T: AsRef<[u8]> + ?Sized> IntoHeaderBytes for &T {
    fn into_header_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_ref())
    }
}

/// Well-known keys of TTHeader's integer headers (`INFO_INTKEYVALUE`), as
/// Kitex and Volo use them (Kitex's `transmeta` package). Their values are
/// text: a service name, a method name, a number of milliseconds.
pub mod int_keys {
    /// The transport the caller used.
    pub const TRANSPORT_TYPE: u16 = 0x01;
    /// A log id.
    pub const LOG_ID: u16 = 0x02;
    /// The calling service.
    pub const FROM_SERVICE: u16 = 0x03;
    /// The caller's cluster.
    pub const FROM_CLUSTER: u16 = 0x04;
    /// The caller's data centre.
    pub const FROM_IDC: u16 = 0x05;
    /// The service called.
    pub const TO_SERVICE: u16 = 0x06;
    /// The callee's cluster.
    pub const TO_CLUSTER: u16 = 0x07;
    /// The callee's data centre.
    pub const TO_IDC: u16 = 0x08;
    /// The method called.
    pub const TO_METHOD: u16 = 0x09;
    /// The environment.
    pub const ENV: u16 = 0x0a;
    /// The address the caller connected to.
    pub const DEST_ADDRESS: u16 = 0x0b;
    /// The call's timeout in milliseconds, as decimal text (see
    /// [`CallContext::timeout`](crate::service::CallContext::timeout)).
    pub const RPC_TIMEOUT: u16 = 0x0c;
    /// The read timeout in milliseconds.
    pub const READ_TIMEOUT: u16 = 0x0d;
    /// A consistent-hashing key.
    pub const RING_HASH_KEY: u16 = 0x0e;
    /// Whether the call came through a service mesh (Kitex's
    /// `WithMeshHeader`; Volo sends it, sometimes empty).
    pub const WITH_MESH_HEADER: u16 = 0x10;
    /// The connect timeout in milliseconds.
    pub const CONNECT_TIMEOUT: u16 = 0x11;
    /// The calling method.
    pub const FROM_METHOD: u16 = 0x14;
    /// The message type.
    pub const MSG_TYPE: u16 = 0x16;
}

/// Key/value headers carried by THeader and TTHeader frames: byte strings,
/// in arrival order.
///
/// - key/values (THeader `INFO_KEYVALUE`, TTHeader `INFO_KEYVALUE`): byte
///   keys, byte values;
/// - integer key/values (TTHeader `INFO_INTKEYVALUE`): `u16` keys, byte
///   values (see [`int_keys`]);
/// - an ACL token (TTHeader `INFO_ACL_TOKEN`).
///
/// Decoded headers keep their arrival order, duplicates included; lookups
/// return the last value of a key, as a peer that stores headers in a map
/// would see it. [`Headers::insert`] replaces, [`Headers::append`] adds.
///
/// ```
/// use thriftgen_runtime::transport::Headers;
///
/// let mut headers = Headers::new();
/// headers.insert("user", "alice");
/// headers.insert(&b"\xff\xfe"[..], &b"\x00\x01\xff"[..]);
/// headers.insert("empty", "");
/// assert_eq!(headers.get_str("user"), Some("alice"));
/// assert_eq!(headers.get(b"\xff\xfe"), Some(&b"\x00\x01\xff"[..]));
/// assert_eq!(headers.get("empty"), Some(&b""[..]));
/// assert_eq!(headers.get("missing"), None);
/// let keys: Vec<&[u8]> = headers.iter().map(|(k, _)| &k[..]).collect();
/// assert_eq!(keys, [&b"user"[..], b"\xff\xfe", b"empty"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pairs: Vec<(Bytes, Bytes)>,
    ints: Vec<(u16, Bytes)>,
    acl_token: Option<Bytes>,
}

/// Sets `key` in `list` to `value`: the first entry of the key takes the
/// value, later ones go.
fn replace<K: PartialEq>(list: &mut Vec<(K, Bytes)>, key: K, value: Bytes) {
    match list.iter().position(|(k, _)| *k == key) {
        Some(first) => {
            list[first].1 = value;
            let mut index = 0;
            list.retain(|(k, _)| {
                let keep = index <= first || *k != key;
                index += 1;
                keep
            });
        }
        None => list.push((key, value)),
    }
}

/// Removes every entry of `key` from `list`; returns the last value.
fn remove_all<K: PartialEq>(list: &mut Vec<(K, Bytes)>, key: &K) -> Option<Bytes> {
    let mut last = None;
    list.retain(|(k, v)| {
        if k == key {
            last = Some(v.clone());
            false
        } else {
            true
        }
    });
    last
}

impl Headers {
    /// No headers. Allocates nothing.
    pub const fn new() -> Headers {
        Headers {
            pairs: Vec::new(),
            ints: Vec::new(),
            acl_token: None,
        }
    }

    /// The value of `key` (the last one, if it came more than once).
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&[u8]> {
        self.get_bytes(key).map(|v| &v[..])
    }

    /// The value of `key` as [`Bytes`], to keep without a copy.
    pub fn get_bytes(&self, key: impl AsRef<[u8]>) -> Option<&Bytes> {
        let key = key.as_ref();
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The value of `key` as text: `None` when there is no such key or its
    /// value is not UTF-8 (then [`Headers::get`] still has its bytes).
    pub fn get_str(&self, key: impl AsRef<[u8]>) -> Option<&str> {
        self.get(key).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        self.get_bytes(key).is_some()
    }

    /// Sets `key` to `value`, replacing every value it had.
    pub fn insert(&mut self, key: impl IntoHeaderBytes, value: impl IntoHeaderBytes) {
        replace(
            &mut self.pairs,
            key.into_header_bytes(),
            value.into_header_bytes(),
        );
    }

    /// Adds `key` with `value` after the others, even if `key` is already
    /// there (both are then sent).
    pub fn append(&mut self, key: impl IntoHeaderBytes, value: impl IntoHeaderBytes) {
        self.pairs
            .push((key.into_header_bytes(), value.into_header_bytes()));
    }

    /// Removes every value of `key`; returns the last one.
    pub fn remove(&mut self, key: impl AsRef<[u8]>) -> Option<Bytes> {
        let key = key.as_ref();
        let mut last = None;
        self.pairs.retain(|(k, v)| {
            let matches = k == key;
            if matches {
                last = Some(v.clone());
            }
            !matches
        });
        last
    }

    /// The key/values in arrival (or insertion) order, duplicates included.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Bytes, &Bytes)> + '_ {
        self.pairs.iter().map(|(k, v)| (k, v))
    }

    /// How many key/values there are (duplicates included; integer headers
    /// and the ACL token not counted).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// The value of integer header `key` (TTHeader; the last one, if it came
    /// more than once).
    pub fn get_int(&self, key: u16) -> Option<&[u8]> {
        self.ints
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| &v[..])
    }

    /// The value of integer header `key` as text (`None` when absent or not
    /// UTF-8).
    pub fn get_int_str(&self, key: u16) -> Option<&str> {
        self.get_int(key).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Sets integer header `key` to `value`, replacing every value it had.
    pub fn insert_int(&mut self, key: u16, value: impl IntoHeaderBytes) {
        replace(&mut self.ints, key, value.into_header_bytes());
    }

    /// Adds integer header `key` with `value` after the others.
    pub fn append_int(&mut self, key: u16, value: impl IntoHeaderBytes) {
        self.ints.push((key, value.into_header_bytes()));
    }

    /// Removes every value of integer header `key`; returns the last one.
    pub fn remove_int(&mut self, key: u16) -> Option<Bytes> {
        remove_all(&mut self.ints, &key)
    }

    /// The integer headers in arrival (or insertion) order.
    pub fn iter_ints(&self) -> impl ExactSizeIterator<Item = (u16, &Bytes)> + '_ {
        self.ints.iter().map(|(k, v)| (*k, v))
    }

    /// The ACL token (TTHeader `INFO_ACL_TOKEN`), if any.
    pub fn acl_token(&self) -> Option<&[u8]> {
        self.acl_token.as_deref()
    }

    /// Sets the ACL token.
    pub fn set_acl_token(&mut self, token: impl IntoHeaderBytes) {
        self.acl_token = Some(token.into_header_bytes());
    }

    /// Removes the ACL token; returns it.
    pub fn remove_acl_token(&mut self) -> Option<Bytes> {
        self.acl_token.take()
    }

    /// Whether there are no headers of any kind.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.ints.is_empty() && self.acl_token.is_none()
    }

    /// Removes every header of every kind.
    pub fn clear(&mut self) {
        self.pairs.clear();
        self.ints.clear();
        self.acl_token = None;
    }

    /// Every header of `other` added after these (appended, not replaced).
    pub fn extend(&mut self, other: Headers) {
        self.pairs.extend(other.pairs);
        self.ints.extend(other.ints);
        if other.acl_token.is_some() {
            self.acl_token = other.acl_token;
        }
    }

    /// Adds a decoded key/value (no replacing: the wire order is kept).
    pub(super) fn push_decoded(&mut self, key: Bytes, value: Bytes) {
        self.pairs.push((key, value));
    }

    /// Adds a decoded integer key/value.
    pub(super) fn push_decoded_int(&mut self, key: u16, value: Bytes) {
        self.ints.push((key, value));
    }

    /// The key/values, for the encoders.
    pub(super) fn pairs(&self) -> &[(Bytes, Bytes)] {
        &self.pairs
    }

    /// The integer key/values, for the encoders.
    pub(super) fn ints(&self) -> &[(u16, Bytes)] {
        &self.ints
    }

    /// The ACL token, for the encoders.
    pub(super) fn acl_token_bytes(&self) -> Option<&Bytes> {
        self.acl_token.as_ref()
    }
}

/// Text where it is UTF-8, escaped bytes where it is not.
struct Shown<'a>(&'a [u8]);

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(self.0) {
            Ok(text) => fmt::Debug::fmt(text, f),
            Err(_) => write!(f, "b\"{}\"", self.0.escape_ascii()),
        }
    }
}

/// The key/values of a [`Headers`] as a map, for `Debug`.
struct Pairs<'a>(&'a [(Bytes, Bytes)]);

impl fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (Shown(k), Shown(v))))
            .finish()
    }
}

/// The integer key/values of a [`Headers`] as a map, for `Debug`.
struct Ints<'a>(&'a [(u16, Bytes)]);

impl fmt::Debug for Ints<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, Shown(v))))
            .finish()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Headers");
        s.field("pairs", &Pairs(&self.pairs));
        if !self.ints.is_empty() {
            s.field("ints", &Ints(&self.ints));
        }
        if let Some(token) = &self.acl_token {
            s.field("acl_token", &Shown(token));
        }
        s.finish()
    }
}

impl<K: IntoHeaderBytes, V: IntoHeaderBytes> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Headers {
        let mut headers = Headers::new();
        for (key, value) in iter {
            headers.append(key, value);
        }
        headers
    }
}
