//! Wire-level constants shared by every protocol: the type codes of the
//! binary protocol (`TType`) and the message kinds (`MessageType`), as
//! Apache's `thrift-binary-protocol.md` and `thrift-rpc.md` define them.

use std::fmt;

/// The type of a value on the wire, as the binary protocol encodes it in
/// field and container headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TType {
    /// Marks the end of a struct's fields.
    Stop = 0,
    /// `void` (only in legacy encodings; never in a field).
    Void = 1,
    /// `bool`
    Bool = 2,
    /// `i8` / `byte`
    I8 = 3,
    /// `double`
    Double = 4,
    /// `i16`
    I16 = 6,
    /// `i32` and enums
    I32 = 8,
    /// `i64`
    I64 = 10,
    /// `string` and `binary`
    String = 11,
    /// `struct`, `union` and `exception`
    Struct = 12,
    /// `map<K, V>`
    Map = 13,
    /// `set<T>`
    Set = 14,
    /// `list<T>`
    List = 15,
    /// `uuid` (16 bytes)
    Uuid = 16,
}

impl TType {
    /// The fewest bytes a value of this type takes in the binary protocol: a
    /// decoder checks `count * min_size <= bytes left` before trusting a
    /// container's declared length.
    pub const fn binary_min_size(self) -> usize {
        match self {
            TType::Stop | TType::Void => 0,
            TType::Bool | TType::I8 => 1,
            TType::I16 => 2,
            TType::I32 => 4,
            TType::Double | TType::I64 => 8,
            // A length prefix, or a stop byte, or a container header.
            TType::String => 4,
            TType::Struct => 1,
            TType::Map => 6,
            TType::Set | TType::List => 5,
            TType::Uuid => 16,
        }
    }
}

/// A byte that is not a known [`TType`] code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownTType(pub u8);

impl fmt::Display for UnknownTType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown type code {}", self.0)
    }
}

impl std::error::Error for UnknownTType {}

/// `TType` by wire code, for a branch-free lookup on the decode path.
const TTYPES: [Option<TType>; 256] = {
    let mut table = [None; 256];
    let all = [
        TType::Stop,
        TType::Void,
        TType::Bool,
        TType::I8,
        TType::Double,
        TType::I16,
        TType::I32,
        TType::I64,
        TType::String,
        TType::Struct,
        TType::Map,
        TType::Set,
        TType::List,
        TType::Uuid,
    ];
    let mut i = 0;
    while i < all.len() {
        table[all[i] as usize] = Some(all[i]);
        i += 1;
    }
    table
};

impl TType {
    /// The type with wire code `byte`, if there is one.
    #[inline]
    pub fn from_code(byte: u8) -> Option<TType> {
        TTYPES[byte as usize]
    }
}

impl TryFrom<u8> for TType {
    type Error = UnknownTType;

    #[inline]
    fn try_from(byte: u8) -> Result<TType, UnknownTType> {
        TType::from_code(byte).ok_or(UnknownTType(byte))
    }
}

/// The codes as the spec lists them, to check the table against.
#[cfg(test)]
fn ttype_by_match(byte: u8) -> Result<TType, UnknownTType> {
    Ok(match byte {
        0 => TType::Stop,
        1 => TType::Void,
        2 => TType::Bool,
        3 => TType::I8,
        4 => TType::Double,
        6 => TType::I16,
        8 => TType::I32,
        10 => TType::I64,
        11 => TType::String,
        12 => TType::Struct,
        13 => TType::Map,
        14 => TType::Set,
        15 => TType::List,
        16 => TType::Uuid,
        other => return Err(UnknownTType(other)),
    })
}

/// The kind of an RPC message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// A request that expects a reply.
    Call = 1,
    /// A successful reply, or one carrying a declared exception.
    Reply = 2,
    /// A reply carrying an `ApplicationException`.
    Exception = 3,
    /// A request that expects no reply.
    Oneway = 4,
}

/// A byte that is not a known [`MessageType`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownMessageType(pub u8);

impl fmt::Display for UnknownMessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown message type {}", self.0)
    }
}

impl std::error::Error for UnknownMessageType {}

impl TryFrom<u8> for MessageType {
    type Error = UnknownMessageType;

    fn try_from(byte: u8) -> Result<MessageType, UnknownMessageType> {
        Ok(match byte {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            other => return Err(UnknownMessageType(other)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_codes() {
        for byte in 0..=255u8 {
            assert_eq!(TType::try_from(byte), ttype_by_match(byte));
        }
    }

    #[test]
    fn every_type_code_round_trips() {
        for byte in 0..=255u8 {
            if let Ok(t) = TType::try_from(byte) {
                assert_eq!(t as u8, byte);
            }
        }
        let known = (0..=255u8).filter(|b| TType::try_from(*b).is_ok()).count();
        assert_eq!(known, 14);
        assert_eq!(TType::try_from(5), Err(UnknownTType(5)));
        assert_eq!(UnknownTType(7).to_string(), "unknown type code 7");
    }

    #[test]
    fn message_types_round_trip() {
        for t in [
            MessageType::Call,
            MessageType::Reply,
            MessageType::Exception,
            MessageType::Oneway,
        ] {
            assert_eq!(MessageType::try_from(t as u8), Ok(t));
        }
        assert_eq!(MessageType::try_from(0), Err(UnknownMessageType(0)));
        assert_eq!(MessageType::try_from(5), Err(UnknownMessageType(5)));
    }
}

/// A `uuid` as its 8-4-4-4-12 hex text in lower case
/// (`00112233-4455-6677-8899-aabbccddeeff`), as the JSON protocol writes it.
pub fn uuid_to_string(value: &[u8; 16]) -> String {
    let text = crate::protocol::format_uuid(value);
    // ASCII hex digits and hyphens only.
    text.iter().map(|&b| char::from(b)).collect()
}

/// A `uuid` from its 8-4-4-4-12 hex text, in either case; `None` when
/// `text` is not one.
pub fn uuid_from_str(text: &str) -> Option<[u8; 16]> {
    crate::protocol::parse_uuid(text.as_bytes())
}

#[cfg(test)]
mod uuid_tests {
    #[test]
    fn uuid_text_round_trips() {
        let uuid = *b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff";
        let text = super::uuid_to_string(&uuid);
        assert_eq!(text, "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(super::uuid_from_str(&text.to_uppercase()), Some(uuid));
        assert_eq!(
            super::uuid_from_str("00112233445566778899aabbccddeeff"),
            None
        );
    }
}
