//! How every IDL type is read and written, once, as generic code: generated
//! structs name a field's type as a [`Codec`] (`List<Str>`, `Map<I32, Address>`)
//! and call [`read_field`] or [`write_field`] with it, so each field is one
//! short line of generated code and the loops over lists, sets and maps live
//! here. Monomorphized per use, this is the code the generator used to spell
//! out for each field.
//!
//! Reached through [`__private`](crate::__private); not a public API.

use crate::protocol::{expect_element, InputProtocol, OutputProtocol, ProtocolError, Result};
use crate::string::ByteString;
use crate::wire::TType;
use crate::Struct;
use bytes::Bytes;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

/// How values of one IDL type are read and written: its wire type and its
/// Rust type ([`Codec::Value`]). Implemented by a marker type per IDL type
/// ([`I64`], [`Str`], [`List`], ...) and by every generated struct, union and
/// exception (through [`Struct`]).
pub trait Codec {
    /// The Rust type generated code holds the value in.
    type Value;
    /// The wire type.
    const TTYPE: TType;

    /// Reads a value.
    ///
    /// # Errors
    ///
    /// When the input is malformed or breaks a limit.
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<Self::Value>;

    /// Writes a value.
    ///
    /// # Errors
    ///
    /// When the output fails (depth, lengths).
    fn write_value<O: OutputProtocol>(value: &Self::Value, output: &mut O) -> Result<()>;
}

/// The codecs of the types a reader and a writer method each handle:
/// `write(*)` for a writer that takes the value (scalars), `write()` for one
/// that takes a reference.
macro_rules! leaves {
    ($($(#[$doc:meta])* $marker:ident: $value:ty = $ttype:ident, $read:ident, $write:ident($($deref:tt)?);)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $marker {}

        impl Codec for $marker {
            type Value = $value;
            const TTYPE: TType = TType::$ttype;

            #[inline]
            fn read_value<I: InputProtocol>(input: &mut I) -> Result<$value> {
                input.$read()
            }

            #[inline]
            fn write_value<O: OutputProtocol>(value: &$value, output: &mut O) -> Result<()> {
                output.$write($($deref)? value)
            }
        }
    )*};
}

leaves! {
    /// `bool`.
    Bool: bool = Bool, read_bool, write_bool(*);
    /// `i8` (`byte`).
    I8: i8 = I8, read_i8, write_i8(*);
    /// `i16`.
    I16: i16 = I16, read_i16, write_i16(*);
    /// `i32`.
    I32: i32 = I32, read_i32, write_i32(*);
    /// `i64`.
    I64: i64 = I64, read_i64, write_i64(*);
    /// `double`.
    Double: f64 = Double, read_double, write_double(*);
    /// `string` as a `String`.
    Str: String = String, read_string, write_string();
    /// `string` as a [`ByteString`] (zero-copy strings).
    ByteStr: ByteString = String, read_byte_string, write_byte_string();
    /// `binary`, as [`Bytes`].
    Binary: Bytes = String, read_binary, write_bytes();
    /// `uuid`, as its 16 bytes.
    Uuid: [u8; 16] = Uuid, read_uuid, write_uuid();
}

/// Every generated struct, union and exception is its own codec.
impl<T: Struct> Codec for T {
    type Value = T;
    const TTYPE: TType = TType::Struct;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<T> {
        T::read(input)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &T, output: &mut O) -> Result<()> {
        value.write(output)
    }
}

/// An enum: its generated newtype over `i32`.
#[derive(Debug)]
pub struct Enum<T>(PhantomData<T>);

impl<T: Copy + From<i32>> Codec for Enum<T>
where
    i32: From<T>,
{
    type Value = T;
    const TTYPE: TType = TType::I32;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<T> {
        input.read_i32().map(T::from)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &T, output: &mut O) -> Result<()> {
        output.write_i32(i32::from(*value))
    }
}

/// A boxed value (a struct field that closes a cycle of types).
#[derive(Debug)]
pub struct Boxed<T>(PhantomData<T>);

impl<T: Codec> Codec for Boxed<T> {
    type Value = Box<T::Value>;
    const TTYPE: TType = T::TTYPE;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<Box<T::Value>> {
        T::read_value(input).map(Box::new)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &Box<T::Value>, output: &mut O) -> Result<()> {
        T::write_value(value, output)
    }
}

/// `list<T>`, as a `Vec`.
#[derive(Debug)]
pub struct List<T>(PhantomData<T>);

impl<T: Codec> Codec for List<T> {
    type Value = Vec<T::Value>;
    const TTYPE: TType = TType::List;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<Vec<T::Value>> {
        let header = input.read_list_begin()?;
        expect_element(T::TTYPE, header.element, header.len)?;
        let mut items = Vec::with_capacity(input.capacity::<T::Value>(header.len));
        for _ in 0..header.len {
            items.push(T::read_value(input)?);
        }
        input.read_list_end()?;
        Ok(items)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &Vec<T::Value>, output: &mut O) -> Result<()> {
        output.write_list_begin(T::TTYPE, value.len())?;
        for item in value {
            T::write_value(item, output)?;
        }
        output.write_list_end()
    }
}

/// A collection a set or a map is read into.
pub trait Collection<T>: Sized {
    /// An empty collection with room for `capacity` items.
    fn with_capacity(capacity: usize) -> Self;
    /// Adds an item (a later duplicate replaces an earlier one in sets and
    /// maps).
    fn add(&mut self, item: T);
    /// How many items it holds.
    fn count(&self) -> usize;
}

impl<T> Collection<T> for Vec<T> {
    #[inline]
    fn with_capacity(capacity: usize) -> Self {
        Vec::with_capacity(capacity)
    }

    #[inline]
    fn add(&mut self, item: T) {
        self.push(item);
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl<T: Eq + Hash, S: BuildHasher + Default> Collection<T> for std::collections::HashSet<T, S> {
    #[inline]
    fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, S::default())
    }

    #[inline]
    fn add(&mut self, item: T) {
        self.insert(item);
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl<T: Ord> Collection<T> for std::collections::BTreeSet<T> {
    #[inline]
    fn with_capacity(_: usize) -> Self {
        Self::new()
    }

    #[inline]
    fn add(&mut self, item: T) {
        self.insert(item);
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> Collection<(K, V)>
    for std::collections::HashMap<K, V, S>
{
    #[inline]
    fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, S::default())
    }

    #[inline]
    fn add(&mut self, (key, value): (K, V)) {
        self.insert(key, value);
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

impl<K: Ord, V> Collection<(K, V)> for std::collections::BTreeMap<K, V> {
    #[inline]
    fn with_capacity(_: usize) -> Self {
        Self::new()
    }

    #[inline]
    fn add(&mut self, (key, value): (K, V)) {
        self.insert(key, value);
    }

    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
}

/// `set<T>` read into the collection `C`: a `HashSet` (with any hasher), a
/// `BTreeSet`, or a `Vec` for elements that cannot be hashed.
#[derive(Debug)]
pub struct SetOf<T, C>(PhantomData<(T, C)>);

/// `set<T>` as a `HashSet` with the standard hasher.
pub type Set<T, S = RandomState> = SetOf<T, std::collections::HashSet<<T as Codec>::Value, S>>;

impl<T: Codec, C: Collection<T::Value>> Codec for SetOf<T, C>
where
    for<'a> &'a C: IntoIterator<Item = &'a T::Value>,
{
    type Value = C;
    const TTYPE: TType = TType::Set;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<C> {
        let header = input.read_set_begin()?;
        expect_element(T::TTYPE, header.element, header.len)?;
        let mut items = C::with_capacity(input.capacity::<T::Value>(header.len));
        for _ in 0..header.len {
            items.add(T::read_value(input)?);
        }
        input.read_set_end()?;
        Ok(items)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &C, output: &mut O) -> Result<()> {
        output.write_set_begin(T::TTYPE, value.count())?;
        for item in value {
            T::write_value(item, output)?;
        }
        output.write_set_end()
    }
}

/// `map<K, V>` read into the collection `C`: a `HashMap` (with any hasher),
/// a `BTreeMap`, or a `Vec` of pairs for keys that cannot be hashed.
#[derive(Debug)]
pub struct MapOf<K, V, C>(PhantomData<(K, V, C)>);

/// `map<K, V>` as a `HashMap` with the standard hasher.
pub type Map<K, V, S = RandomState> =
    MapOf<K, V, std::collections::HashMap<<K as Codec>::Value, <V as Codec>::Value, S>>;

/// The entries of a map collection, by reference.
pub trait Entries<K, V> {
    /// Every entry, as a key and a value.
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a K, &'a V)>
    where
        K: 'a,
        V: 'a;
}

impl<K, V, S> Entries<K, V> for std::collections::HashMap<K, V, S> {
    #[inline]
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a K, &'a V)>
    where
        K: 'a,
        V: 'a,
    {
        self.iter()
    }
}

impl<K, V> Entries<K, V> for std::collections::BTreeMap<K, V> {
    #[inline]
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a K, &'a V)>
    where
        K: 'a,
        V: 'a,
    {
        self.iter()
    }
}

impl<K, V> Entries<K, V> for Vec<(K, V)> {
    #[inline]
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a K, &'a V)>
    where
        K: 'a,
        V: 'a,
    {
        self.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Codec, V: Codec, C> Codec for MapOf<K, V, C>
where
    C: Collection<(K::Value, V::Value)> + Entries<K::Value, V::Value>,
{
    type Value = C;
    const TTYPE: TType = TType::Map;

    #[inline]
    fn read_value<I: InputProtocol>(input: &mut I) -> Result<C> {
        let header = input.read_map_begin()?;
        expect_element(K::TTYPE, header.key, header.len)?;
        expect_element(V::TTYPE, header.value, header.len)?;
        let mut items = C::with_capacity(input.capacity::<(K::Value, V::Value)>(header.len));
        for _ in 0..header.len {
            let key = K::read_value(input)?;
            let value = V::read_value(input)?;
            items.add((key, value));
        }
        input.read_map_end()?;
        Ok(items)
    }

    #[inline]
    fn write_value<O: OutputProtocol>(value: &C, output: &mut O) -> Result<()> {
        output.write_map_begin(K::TTYPE, V::TTYPE, value.count())?;
        for (key, value) in value.entries() {
            K::write_value(key, output)?;
            V::write_value(value, output)?;
        }
        output.write_map_end()
    }
}

/// Reads field `id` of `struct_name` as `C`, adding the field to the path of
/// any error.
///
/// # Errors
///
/// As [`Codec::read_value`].
#[inline(always)]
pub fn read_field<C: Codec>(
    input: &mut impl InputProtocol,
    struct_name: &'static str,
    field_name: &'static str,
    id: i16,
) -> Result<C::Value> {
    match C::read_value(input) {
        Ok(value) => Ok(value),
        Err(e) => Err(e.in_field(struct_name, field_name, id)),
    }
}

/// Writes field `id` holding `value` as `C`.
///
/// # Errors
///
/// As [`Codec::write_value`].
#[inline(always)]
pub fn write_field<C: Codec>(
    output: &mut impl OutputProtocol,
    id: i16,
    value: &C::Value,
) -> Result<()> {
    output.write_field_begin(C::TTYPE, id)?;
    C::write_value(value, output)?;
    output.write_field_end()
}

/// Writes field `id` as `C` when it is set.
///
/// # Errors
///
/// As [`Codec::write_value`].
#[inline(always)]
pub fn write_optional<C: Codec>(
    output: &mut impl OutputProtocol,
    id: i16,
    value: &Option<C::Value>,
) -> Result<()> {
    match value {
        Some(value) => write_field::<C>(output, id, value),
        None => Ok(()),
    }
}

/// The value of required field `id` of `struct_name`, which must have been
/// read.
///
/// # Errors
///
/// [`ProtocolError::missing`] when it was not.
#[inline]
pub fn required<T>(
    value: Option<T>,
    struct_name: &'static str,
    field_name: &'static str,
    id: i16,
) -> Result<T> {
    match value {
        Some(value) => Ok(value),
        None => Err(ProtocolError::missing(struct_name, field_name, id)),
    }
}

/// Writes field `id`, a `string` the caller lends (a client's argument).
///
/// # Errors
///
/// As [`OutputProtocol::write_string`].
#[inline]
pub fn write_str(output: &mut impl OutputProtocol, id: i16, value: &str) -> Result<()> {
    output.write_field_begin(TType::String, id)?;
    output.write_string(value)?;
    output.write_field_end()
}

/// Writes field `id`, a `binary` the caller lends (a client's argument).
///
/// # Errors
///
/// As [`OutputProtocol::write_binary`].
#[inline]
pub fn write_slice(output: &mut impl OutputProtocol, id: i16, value: &[u8]) -> Result<()> {
    output.write_field_begin(TType::String, id)?;
    output.write_binary(value)?;
    output.write_field_end()
}

/// Writes field `id`, a list (`ttype` `List`) or a set (`Set`) of `T`s the
/// caller lends as a slice (a client's argument).
///
/// # Errors
///
/// As [`Codec::write_value`].
#[inline]
pub fn write_items<T: Codec>(
    output: &mut impl OutputProtocol,
    id: i16,
    ttype: TType,
    value: &[T::Value],
) -> Result<()> {
    output.write_field_begin(ttype, id)?;
    if ttype == TType::Set {
        output.write_set_begin(T::TTYPE, value.len())?;
    } else {
        output.write_list_begin(T::TTYPE, value.len())?;
    }
    for item in value {
        T::write_value(item, output)?;
    }
    if ttype == TType::Set {
        output.write_set_end()?;
    } else {
        output.write_list_end()?;
    }
    output.write_field_end()
}

/// Writes field `id`, a map the caller lends as a slice of pairs (a client's
/// argument whose keys cannot be hashed).
///
/// # Errors
///
/// As [`Codec::write_value`].
#[inline]
pub fn write_pairs<K: Codec, V: Codec>(
    output: &mut impl OutputProtocol,
    id: i16,
    value: &[(K::Value, V::Value)],
) -> Result<()> {
    output.write_field_begin(TType::Map, id)?;
    output.write_map_begin(K::TTYPE, V::TTYPE, value.len())?;
    for (key, value) in value {
        K::write_value(key, output)?;
        V::write_value(value, output)?;
    }
    output.write_map_end()?;
    output.write_field_end()
}

/// A field header inside [`read_struct`]: its id and wire type, and the
/// struct it belongs to (for errors).
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The field's id.
    pub id: i16,
    /// The field's wire type.
    pub ttype: TType,
    struct_name: &'static str,
}

impl Field {
    /// Reads this field as `C` into `slot` when its wire type is `C`'s; skips
    /// it otherwise (a field of another type is a field this side does not
    /// know). Errors name the field (`name`).
    ///
    /// # Errors
    ///
    /// As [`Codec::read_value`].
    #[inline(always)]
    pub fn read<C: Codec>(
        self,
        input: &mut impl InputProtocol,
        slot: &mut Option<C::Value>,
        name: &'static str,
    ) -> Result<()> {
        if self.ttype != C::TTYPE {
            return input.skip(self.ttype);
        }
        match C::read_value(input) {
            Ok(value) => {
                *slot = Some(value);
                Ok(())
            }
            Err(e) => Err(e.in_field(self.struct_name, name, self.id)),
        }
    }

    /// Reads this field as `C` (the caller has checked its wire type).
    /// Errors name the field (`name`).
    ///
    /// # Errors
    ///
    /// As [`Codec::read_value`].
    #[inline(always)]
    pub fn value<C: Codec>(
        self,
        input: &mut impl InputProtocol,
        name: &'static str,
    ) -> Result<C::Value> {
        match C::read_value(input) {
            Ok(value) => Ok(value),
            Err(e) => Err(e.in_field(self.struct_name, name, self.id)),
        }
    }

    /// Skips this field.
    ///
    /// # Errors
    ///
    /// As [`InputProtocol::skip`].
    #[inline]
    pub fn skip(self, input: &mut impl InputProtocol) -> Result<()> {
        input.skip(self.ttype)
    }
}

/// Reads struct `name`: calls `field` with each field as it arrives, until
/// the stop field.
///
/// # Errors
///
/// When the input is malformed, or `field` fails.
#[inline(always)]
pub fn read_struct<I: InputProtocol>(
    input: &mut I,
    name: &'static str,
    mut field: impl FnMut(&mut I, Field) -> Result<()>,
) -> Result<()> {
    input.read_struct_begin()?;
    loop {
        let header = input.read_field_begin()?;
        if header.ttype == TType::Stop {
            break;
        }
        field(
            input,
            Field {
                id: header.id,
                ttype: header.ttype,
                struct_name: name,
            },
        )?;
        input.read_field_end()?;
    }
    input.read_struct_end()
}

/// Sets the variant of a union being read.
///
/// # Errors
///
/// When a variant was set already: a union has one field.
#[inline]
pub fn set_variant<U>(found: &mut Option<U>, variant: U, union_name: &'static str) -> Result<()> {
    if found.replace(variant).is_some() {
        return Err(ProtocolError::invalid(format!(
            "union `{union_name}` has more than one field set"
        )));
    }
    Ok(())
}

/// Ends a struct being written: its stop field, then the struct.
///
/// # Errors
///
/// As [`OutputProtocol::write_struct_end`].
#[inline]
pub fn end_struct(output: &mut impl OutputProtocol) -> Result<()> {
    output.write_field_stop()?;
    output.write_struct_end()
}

/// The return value of a reply (field 0 of the result struct), or the
/// application error a reply with neither a value nor an exception is.
#[inline]
pub fn success<T, E: From<crate::ApplicationException>>(
    value: Option<T>,
    method: &str,
) -> std::result::Result<T, E> {
    value.ok_or_else(|| E::from(crate::__private::missing_result(method)))
}
