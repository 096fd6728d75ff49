//! What code generated with `Builder::serde(true)` builds on (the `serde`
//! feature): `Serialize` and `Deserialize` for open enums, and the field
//! adapters for `binary` and `uuid`, at any depth in lists, sets and maps.
//!
//! Generated code names serde itself as `::serde` (a dependency of the
//! user's crate) and these helpers as `__rt::serde`. An enum's impls call
//! [`serialize_enum`] and [`deserialize_enum`]; a field whose type holds
//! `binary` or `uuid` carries `#[serde(with = "__rt::serde::As::<M>")]`,
//! where the marker `M` spells the field's shape: [`Base64`] and [`Uuid`]
//! for the leaves, [`Opt`], [`Seq`], [`Map`] and [`Pair`] around them, and
//! [`Same`] for a part serialized as usual (`map<string, binary>` is
//! `Map<Same, Base64>`).
//!
//! Human-readable formats (`Serializer::is_human_readable`, as JSON, YAML,
//! TOML) get text: an enum value's IDL name, `binary` as standard padded
//! base64, `uuid` as `00112233-4455-6677-8899-aabbccddeeff`. Other formats
//! (bincode, postcard, MessagePack, CBOR) get the enum's number and the raw
//! bytes.

use ::serde::de::{self, Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use ::serde::ser::{Serialize, Serializer};
use base64::Engine as _;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

/// Serializes an open enum's value `value`, whose IDL name is `name`
/// (`None` for a number the IDL does not name): the name in a
/// human-readable format when there is one, else the number.
///
/// # Errors
///
/// The serializer's.
pub fn serialize_enum<S: Serializer>(
    value: i32,
    name: Option<&'static str>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match name {
        Some(name) if serializer.is_human_readable() => serializer.serialize_str(name),
        _ => serializer.serialize_i32(value),
    }
}

/// Deserializes a value of the open enum `enum_name`, whose IDL names and
/// numbers are `values`: in a human-readable format a name, a number, or a
/// number as a string (a map key in JSON); in any other format the number.
///
/// # Errors
///
/// A name `values` does not have, a number out of `i32`'s range, another
/// kind of value, or the deserializer's.
pub fn deserialize_enum<'de, D: Deserializer<'de>>(
    deserializer: D,
    enum_name: &'static str,
    values: &'static [(&'static str, i32)],
) -> Result<i32, D::Error> {
    let visitor = EnumVisitor { enum_name, values };
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(visitor)
    } else {
        deserializer.deserialize_i32(visitor)
    }
}

struct EnumVisitor {
    enum_name: &'static str,
    values: &'static [(&'static str, i32)],
}

impl Visitor<'_> for EnumVisitor {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value of enum `{}`: a name or an i32", self.enum_name)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i32, E> {
        i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i32, E> {
        i32::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i32, E> {
        if let Some(&(_, value)) = self.values.iter().find(|(name, _)| *name == v) {
            return Ok(value);
        }
        if let Ok(value) = v.parse::<i32>() {
            return Ok(value);
        }
        let names: Vec<String> = self.values.iter().map(|(n, _)| format!("`{n}`")).collect();
        let expected = if names.is_empty() {
            "an i32".to_string()
        } else {
            format!("one of {} or an i32", names.join(", "))
        };
        Err(E::custom(format_args!(
            "unknown value `{v}` of enum `{}`, expected {expected}",
            self.enum_name
        )))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<i32, E> {
        match std::str::from_utf8(v) {
            Ok(text) => self.visit_str(text),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
        }
    }
}

/// The adapter of a field with marker `M`:
/// `#[serde(with = "__rt::serde::As::<M>")]`.
#[derive(Debug)]
pub struct As<M>(PhantomData<M>);

impl<M> As<M> {
    /// Serializes `value` as `M` says.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<T: ?Sized, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        M: SerializeAs<T>,
    {
        M::serialize_as(value, serializer)
    }

    /// Deserializes a value as `M` says.
    ///
    /// # Errors
    ///
    /// When the input does not hold one, or the deserializer's.
    pub fn deserialize<'de, T, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error>
    where
        M: DeserializeAs<'de, T>,
    {
        M::deserialize_as(deserializer)
    }
}

/// How a marker serializes a `T`.
pub trait SerializeAs<T: ?Sized> {
    /// Serializes `value`.
    ///
    /// # Errors
    ///
    /// The serializer's.
    fn serialize_as<S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error>;
}

/// How a marker deserializes a `T`.
pub trait DeserializeAs<'de, T> {
    /// Deserializes a value.
    ///
    /// # Errors
    ///
    /// When the input does not hold one, or the deserializer's.
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error>;
}

/// A `&T` that serializes as marker `M` says (an element of a collection).
struct SerializeWith<'a, T: ?Sized, M>(&'a T, PhantomData<M>);

impl<T: ?Sized, M: SerializeAs<T>> Serialize for SerializeWith<'_, T, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        M::serialize_as(self.0, serializer)
    }
}

fn with<T: ?Sized, M>(value: &T) -> SerializeWith<'_, T, M> {
    SerializeWith(value, PhantomData)
}

/// A `T` deserialized as marker `M` says (an element of a collection).
struct DeserializeWith<T, M>(T, PhantomData<M>);

impl<'de, T, M: DeserializeAs<'de, T>> Deserialize<'de> for DeserializeWith<T, M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        M::deserialize_as(deserializer).map(|value| DeserializeWith(value, PhantomData))
    }
}

/// A part serialized by its own `Serialize` and `Deserialize`.
#[derive(Debug)]
pub enum Same {}

impl<T: Serialize + ?Sized> SerializeAs<T> for Same {
    fn serialize_as<S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeAs<'de, T> for Same {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// The engine of [`Base64`]: the standard alphabet, written padded, read
/// with or without padding.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// `binary` (`Bytes`): a base64 string (standard alphabet, padded; read
/// with or without padding) in human-readable formats, raw bytes in others.
#[derive(Debug)]
pub enum Base64 {}

impl SerializeAs<Bytes> for Base64 {
    fn serialize_as<S: Serializer>(value: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&BASE64.encode(value))
        } else {
            serializer.serialize_bytes(value)
        }
    }
}

impl<'de> DeserializeAs<'de, Bytes> for Base64 {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(BytesVisitor)
        } else {
            deserializer.deserialize_byte_buf(BytesVisitor)
        }
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`binary`: a base64 string or bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        BASE64
            .decode(v)
            .map(Bytes::from)
            .map_err(|e| E::custom(format_args!("invalid base64: {e}")))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes::copy_from_slice(v))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes::from(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = seq.next_element::<u8>()? {
            out.push(byte);
        }
        Ok(Bytes::from(out))
    }
}

/// `uuid` (`[u8; 16]`): the string `00112233-4455-6677-8899-aabbccddeeff`
/// (read in either case) in human-readable formats, 16 raw bytes in others.
#[derive(Debug)]
pub enum Uuid {}

impl SerializeAs<[u8; 16]> for Uuid {
    fn serialize_as<S: Serializer>(value: &[u8; 16], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let text = crate::protocol::format_uuid(value);
            // The text is ASCII hex digits and dashes.
            serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
        } else {
            serializer.serialize_bytes(value)
        }
    }
}

impl<'de> DeserializeAs<'de, [u8; 16]> for Uuid {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 16], D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(UuidVisitor)
        } else {
            deserializer.deserialize_bytes(UuidVisitor)
        }
    }
}

struct UuidVisitor;

impl<'de> Visitor<'de> for UuidVisitor {
    type Value = [u8; 16];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a `uuid`: a string of 8-4-4-4-12 hex digits, or 16 bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<[u8; 16], E> {
        crate::protocol::parse_uuid(v.as_bytes())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<[u8; 16], E> {
        <[u8; 16]>::try_from(v).map_err(|_| E::invalid_length(v.len(), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; 16], A::Error> {
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(17, &self));
        }
        Ok(out)
    }
}

/// An `Option<T>` whose value is serialized as `A` says.
#[derive(Debug)]
pub struct Opt<A>(PhantomData<A>);

impl<T, A: SerializeAs<T>> SerializeAs<Option<T>> for Opt<A> {
    fn serialize_as<S: Serializer>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_some(&with::<T, A>(value)),
            None => serializer.serialize_none(),
        }
    }
}

impl<'de, T, A: DeserializeAs<'de, T>> DeserializeAs<'de, Option<T>> for Opt<A> {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
        let value = Option::<DeserializeWith<T, A>>::deserialize(deserializer)?;
        Ok(value.map(|v| v.0))
    }
}

/// A list or set (`Vec`, `HashSet`, `BTreeSet`) whose elements are
/// serialized as `A` says: a sequence.
#[derive(Debug)]
pub struct Seq<A>(PhantomData<A>);

/// A map (`HashMap`, `BTreeMap`) whose keys are serialized as `K` says and
/// values as `V` says: a map.
#[derive(Debug)]
pub struct Map<K, V>(PhantomData<(K, V)>);

/// A `(key, value)` pair of a map with keys that cannot be hashed (a
/// `Vec<(K, V)>`, with `Seq<Pair<..>>`): a two-element tuple.
#[derive(Debug)]
pub struct Pair<K, V>(PhantomData<(K, V)>);

impl<T, A: SerializeAs<T>> SerializeAs<Vec<T>> for Seq<A> {
    fn serialize_as<S: Serializer>(value: &Vec<T>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(with::<T, A>))
    }
}

impl<T, H, A: SerializeAs<T>> SerializeAs<HashSet<T, H>> for Seq<A> {
    fn serialize_as<S: Serializer>(
        value: &HashSet<T, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(with::<T, A>))
    }
}

impl<T, A: SerializeAs<T>> SerializeAs<BTreeSet<T>> for Seq<A> {
    fn serialize_as<S: Serializer>(value: &BTreeSet<T>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(with::<T, A>))
    }
}

impl<'de, T, A: DeserializeAs<'de, T>> DeserializeAs<'de, Vec<T>> for Seq<A> {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(CollectSeq::<Vec<T>, T, A>::new())
    }
}

impl<'de, T, H, A> DeserializeAs<'de, HashSet<T, H>> for Seq<A>
where
    T: Eq + Hash,
    H: BuildHasher + Default,
    A: DeserializeAs<'de, T>,
{
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<HashSet<T, H>, D::Error> {
        deserializer.deserialize_seq(CollectSeq::<HashSet<T, H>, T, A>::new())
    }
}

impl<'de, T: Ord, A: DeserializeAs<'de, T>> DeserializeAs<'de, BTreeSet<T>> for Seq<A> {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<T>, D::Error> {
        deserializer.deserialize_seq(CollectSeq::<BTreeSet<T>, T, A>::new())
    }
}

impl<K, V, H, KA: SerializeAs<K>, VA: SerializeAs<V>> SerializeAs<HashMap<K, V, H>>
    for Map<KA, VA>
{
    fn serialize_as<S: Serializer>(
        value: &HashMap<K, V, H>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            value
                .iter()
                .map(|(k, v)| (with::<K, KA>(k), with::<V, VA>(v))),
        )
    }
}

impl<K, V, KA: SerializeAs<K>, VA: SerializeAs<V>> SerializeAs<BTreeMap<K, V>> for Map<KA, VA> {
    fn serialize_as<S: Serializer>(
        value: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            value
                .iter()
                .map(|(k, v)| (with::<K, KA>(k), with::<V, VA>(v))),
        )
    }
}

impl<'de, K, V, H, KA, VA> DeserializeAs<'de, HashMap<K, V, H>> for Map<KA, VA>
where
    K: Eq + Hash,
    H: BuildHasher + Default,
    KA: DeserializeAs<'de, K>,
    VA: DeserializeAs<'de, V>,
{
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<HashMap<K, V, H>, D::Error> {
        deserializer.deserialize_map(CollectMap::<HashMap<K, V, H>, K, KA, V, VA>::new())
    }
}

impl<'de, K: Ord, V, KA, VA> DeserializeAs<'de, BTreeMap<K, V>> for Map<KA, VA>
where
    KA: DeserializeAs<'de, K>,
    VA: DeserializeAs<'de, V>,
{
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error> {
        deserializer.deserialize_map(CollectMap::<BTreeMap<K, V>, K, KA, V, VA>::new())
    }
}

impl<K, V, KA: SerializeAs<K>, VA: SerializeAs<V>> SerializeAs<(K, V)> for Pair<KA, VA> {
    fn serialize_as<S: Serializer>(value: &(K, V), serializer: S) -> Result<S::Ok, S::Error> {
        (with::<K, KA>(&value.0), with::<V, VA>(&value.1)).serialize(serializer)
    }
}

impl<'de, K, V, KA, VA> DeserializeAs<'de, (K, V)> for Pair<KA, VA>
where
    KA: DeserializeAs<'de, K>,
    VA: DeserializeAs<'de, V>,
{
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<(K, V), D::Error> {
        let (k, v) = <(DeserializeWith<K, KA>, DeserializeWith<V, VA>)>::deserialize(deserializer)?;
        Ok((k.0, v.0))
    }
}

/// Collects a sequence of `T`, each deserialized as `M` says, into `C`.
struct CollectSeq<C, T, M>(PhantomData<(C, T, M)>);

impl<C, T, M> CollectSeq<C, T, M> {
    fn new() -> Self {
        CollectSeq(PhantomData)
    }
}

impl<'de, C, T, M> Visitor<'de> for CollectSeq<C, T, M>
where
    C: Default + Extend<T>,
    M: DeserializeAs<'de, T>,
{
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<C, A::Error> {
        let mut out = C::default();
        while let Some(element) = seq.next_element::<DeserializeWith<T, M>>()? {
            out.extend(std::iter::once(element.0));
        }
        Ok(out)
    }
}

/// Collects a map of `K` (deserialized as `KA` says) to `V` (as `VA`
/// says) into `C`.
struct CollectMap<C, K, KA, V, VA>(PhantomData<(C, K, KA, V, VA)>);

impl<C, K, KA, V, VA> CollectMap<C, K, KA, V, VA> {
    fn new() -> Self {
        CollectMap(PhantomData)
    }
}

impl<'de, C, K, KA, V, VA> Visitor<'de> for CollectMap<C, K, KA, V, VA>
where
    C: Default + Extend<(K, V)>,
    KA: DeserializeAs<'de, K>,
    VA: DeserializeAs<'de, V>,
{
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<C, A::Error> {
        let mut out = C::default();
        while let Some((key, value)) =
            map.next_entry::<DeserializeWith<K, KA>, DeserializeWith<V, VA>>()?
        {
            out.extend(std::iter::once((key.0, value.0)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field as generated code declares one, to drive the adapters.
    struct Field<T, M>(T, PhantomData<M>);

    impl<T, M: SerializeAs<T>> Serialize for Field<T, M> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            As::<M>::serialize(&self.0, serializer)
        }
    }

    impl<'de, T, M: DeserializeAs<'de, T>> Deserialize<'de> for Field<T, M> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            As::<M>::deserialize(deserializer).map(|v| Field(v, PhantomData))
        }
    }

    fn json<M: SerializeAs<T>, T>(value: T) -> String {
        serde_json::to_string(&Field::<T, M>(value, PhantomData)).unwrap()
    }

    fn parse<M: for<'de> DeserializeAs<'de, T>, T>(text: &str) -> Result<T, String> {
        serde_json::from_str::<Field<T, M>>(text)
            .map(|f| f.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn binary_is_padded_base64_and_reads_without_padding() {
        assert_eq!(json::<Base64, _>(Bytes::from_static(b"hi")), r#""aGk=""#);
        assert_eq!(parse::<Base64, Bytes>(r#""aGk=""#).unwrap(), "hi");
        assert_eq!(parse::<Base64, Bytes>(r#""aGk""#).unwrap(), "hi");
        assert_eq!(parse::<Base64, Bytes>(r#""""#).unwrap(), "");
        let err = parse::<Base64, Bytes>(r#""a*k=""#).unwrap_err();
        assert!(err.starts_with("invalid base64: "), "{err}");
    }

    #[test]
    fn uuids_are_text() {
        let id: [u8; 16] = core::array::from_fn(|i| i as u8 * 17);
        let text = r#""00112233-4455-6677-8899-aabbccddeeff""#;
        assert_eq!(json::<Uuid, _>(id), text);
        assert_eq!(parse::<Uuid, [u8; 16]>(text).unwrap(), id);
        assert_eq!(parse::<Uuid, [u8; 16]>(&text.to_uppercase()).unwrap(), id);
        assert!(parse::<Uuid, [u8; 16]>(r#""0011""#).is_err());
    }

    #[test]
    fn containers_carry_the_marker_to_their_elements() {
        type Nested = Map<Same, Seq<Opt<Base64>>>;
        let value = BTreeMap::from([("k".to_string(), vec![Some(Bytes::from_static(b"a")), None])]);
        let text = json::<Nested, _>(value.clone());
        assert_eq!(text, r#"{"k":["YQ==",null]}"#);
        assert_eq!(parse::<Nested, BTreeMap<_, _>>(&text).unwrap(), value);
        let keys: HashMap<Bytes, i32> = HashMap::from([(Bytes::from_static(b"k"), 1)]);
        let text = json::<Map<Base64, Same>, _>(keys.clone());
        assert_eq!(text, r#"{"aw==":1}"#);
        assert_eq!(
            parse::<Map<Base64, Same>, HashMap<_, _>>(&text).unwrap(),
            keys
        );
        let pairs = vec![(Bytes::from_static(b"k"), 1.5)];
        let text = json::<Seq<Pair<Base64, Same>>, _>(pairs.clone());
        assert_eq!(text, r#"[["aw==",1.5]]"#);
        assert_eq!(
            parse::<Seq<Pair<Base64, Same>>, Vec<_>>(&text).unwrap(),
            pairs
        );
        let set = BTreeSet::from([Bytes::from_static(b"x")]);
        assert_eq!(
            parse::<Seq<Base64>, BTreeSet<Bytes>>(&json::<Seq<Base64>, _>(set.clone())).unwrap(),
            set
        );
    }

    /// An open enum as generated code declares one.
    #[derive(Debug, PartialEq)]
    struct Kind(i32);

    const KIND: &[(&str, i32)] = &[("ONE", 1), ("TWO", 2), ("UNO", 1)];

    impl Serialize for Kind {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let name = KIND.iter().find(|(_, v)| *v == self.0).map(|(n, _)| *n);
            serialize_enum(self.0, name, serializer)
        }
    }

    impl<'de> Deserialize<'de> for Kind {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize_enum(deserializer, "Kind", KIND).map(Kind)
        }
    }

    #[test]
    fn enums_are_names_or_numbers() {
        assert_eq!(serde_json::to_string(&Kind(2)).unwrap(), r#""TWO""#);
        assert_eq!(serde_json::to_string(&Kind(7)).unwrap(), "7");
        let parse = |text: &str| serde_json::from_str::<Kind>(text).map_err(|e| e.to_string());
        assert_eq!(parse(r#""UNO""#), Ok(Kind(1)));
        assert_eq!(parse("7"), Ok(Kind(7)));
        assert_eq!(parse("-3"), Ok(Kind(-3)));
        assert_eq!(
            parse(r#""THREE""#).unwrap_err(),
            "unknown value `THREE` of enum `Kind`, expected one of `ONE`, `TWO`, `UNO` or an i32 at line 1 column 7"
        );
        assert!(parse("4294967296")
            .unwrap_err()
            .starts_with("invalid value"));
        // Map keys are strings in JSON: a number the IDL does not name too.
        assert_eq!(parse(r#""7""#), Ok(Kind(7)));
    }

    #[test]
    fn byte_strings_are_plain_strings() {
        let long = "a string longer than the inline limit of a ByteString";
        for text in ["", "short", long] {
            let value = crate::ByteString::from(text.to_string());
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            assert_eq!(
                serde_json::from_str::<crate::ByteString>(&json).unwrap(),
                text
            );
        }
        assert!(serde_json::from_str::<crate::ByteString>("1").is_err());
    }
}
