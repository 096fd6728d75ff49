//! `TApplicationException`: the error a server sends instead of a reply when
//! the call itself failed (unknown method, undecodable request, handler
//! panic, ...), as the struct every Thrift library reads.

use super::{InputProtocol, OutputProtocol, ProtocolError, Result};
use crate::wire::TType;
use std::fmt;

/// The kind of an [`ApplicationException`]. Open: a kind this library does not
/// know survives a round trip.
///
/// `Display` and `Debug` print a standard kind's name (`INTERNAL_ERROR`) and
/// another kind's number (`42`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationErrorKind(pub i32);

impl ApplicationErrorKind {
    /// An unspecified error.
    pub const UNKNOWN: Self = Self(0);
    /// The service has no such method.
    pub const UNKNOWN_METHOD: Self = Self(1);
    /// The message type was not a call or oneway.
    pub const INVALID_MESSAGE_TYPE: Self = Self(2);
    /// A reply named another method than the call.
    pub const WRONG_METHOD_NAME: Self = Self(3);
    /// A reply's sequence id did not match the call's.
    pub const BAD_SEQUENCE_ID: Self = Self(4);
    /// A reply had neither a result nor a declared exception.
    pub const MISSING_RESULT: Self = Self(5);
    /// The handler failed (for example, it panicked).
    pub const INTERNAL_ERROR: Self = Self(6);
    /// The request could not be decoded.
    pub const PROTOCOL_ERROR: Self = Self(7);
    /// A THeader transform was not understood.
    pub const INVALID_TRANSFORM: Self = Self(8);
    /// The protocol was not understood.
    pub const INVALID_PROTOCOL: Self = Self(9);
    /// The client type was not supported.
    pub const UNSUPPORTED_CLIENT_TYPE: Self = Self(10);

    /// The kind's name, if it is a standard one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "UNKNOWN",
            1 => "UNKNOWN_METHOD",
            2 => "INVALID_MESSAGE_TYPE",
            3 => "WRONG_METHOD_NAME",
            4 => "BAD_SEQUENCE_ID",
            5 => "MISSING_RESULT",
            6 => "INTERNAL_ERROR",
            7 => "PROTOCOL_ERROR",
            8 => "INVALID_TRANSFORM",
            9 => "INVALID_PROTOCOL",
            10 => "UNSUPPORTED_CLIENT_TYPE",
            _ => return None,
        })
    }
}

impl fmt::Display for ApplicationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for ApplicationErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The wire struct `TApplicationException { 1: string message, 2: i32 type }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationException {
    /// What happened.
    pub kind: ApplicationErrorKind,
    /// A human-readable explanation.
    pub message: String,
}

impl ApplicationException {
    /// An exception of `kind` saying `message`.
    pub fn new(kind: ApplicationErrorKind, message: impl Into<String>) -> ApplicationException {
        ApplicationException {
            kind,
            message: message.into(),
        }
    }

    /// The answer of a method whose handler is not written yet: kind
    /// [`UNKNOWN`](ApplicationErrorKind::UNKNOWN), saying "`method` is not
    /// implemented yet". `method` names it as the IDL does
    /// (`"Service.method"`). The stubs `thriftgen new` writes return it.
    ///
    /// ```
    /// use thriftgen_runtime::protocol::{ApplicationErrorKind, ApplicationException};
    ///
    /// let e = ApplicationException::not_implemented("Shop.lookup");
    /// assert_eq!(e.kind, ApplicationErrorKind::UNKNOWN);
    /// assert_eq!(e.to_string(), "UNKNOWN: Shop.lookup is not implemented yet");
    /// ```
    pub fn not_implemented(method: &str) -> ApplicationException {
        ApplicationException::new(
            ApplicationErrorKind::UNKNOWN,
            format!("{method} is not implemented yet"),
        )
    }

    /// Reads the struct; unknown fields are skipped.
    ///
    /// # Errors
    ///
    /// When the input is not a valid struct.
    pub fn read<I: InputProtocol>(input: &mut I) -> Result<ApplicationException> {
        let mut out = ApplicationException::new(ApplicationErrorKind::UNKNOWN, "");
        input.read_struct_begin()?;
        loop {
            let field = input.read_field_begin()?;
            match (field.id, field.ttype) {
                (_, TType::Stop) => break,
                (1, TType::String) => {
                    out.message = input
                        .read_string()
                        .map_err(|e| e.in_field("TApplicationException", "message", 1))?;
                }
                (2, TType::I32) => {
                    out.kind = ApplicationErrorKind(
                        input
                            .read_i32()
                            .map_err(|e| e.in_field("TApplicationException", "type", 2))?,
                    );
                }
                (_, ttype) => input.skip(ttype)?,
            }
            input.read_field_end()?;
        }
        input.read_struct_end()?;
        Ok(out)
    }

    /// Writes the struct.
    ///
    /// # Errors
    ///
    /// Only if the message is longer than the protocol can carry.
    pub fn write<O: OutputProtocol>(&self, output: &mut O) -> Result<()> {
        output.write_struct_begin("TApplicationException")?;
        output.write_field_begin(TType::String, 1)?;
        output.write_string(&self.message)?;
        output.write_field_end()?;
        output.write_field_begin(TType::I32, 2)?;
        output.write_i32(self.kind.0)?;
        output.write_field_end()?;
        output.write_field_stop()?;
        output.write_struct_end()
    }
}

impl fmt::Display for ApplicationException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.name() {
            Some(name) => write!(f, "{name}: {}", self.message),
            None => write!(f, "application error {}: {}", self.kind.0, self.message),
        }
    }
}

impl std::error::Error for ApplicationException {}

impl From<ProtocolError> for ApplicationException {
    fn from(err: ProtocolError) -> ApplicationException {
        ApplicationException::new(ApplicationErrorKind::PROTOCOL_ERROR, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_print_their_names_or_numbers() {
        assert_eq!(
            ApplicationErrorKind::INTERNAL_ERROR.to_string(),
            "INTERNAL_ERROR"
        );
        assert_eq!(
            format!("{:?}", ApplicationErrorKind::INTERNAL_ERROR),
            "INTERNAL_ERROR"
        );
        assert_eq!(format!("{:?}", ApplicationErrorKind(42)), "42");
        assert_eq!(ApplicationErrorKind(42).to_string(), "42");
        let e = ApplicationException::new(ApplicationErrorKind::PROTOCOL_ERROR, "bad");
        assert_eq!(
            format!("{e:?}"),
            "ApplicationException { kind: PROTOCOL_ERROR, message: \"bad\" }"
        );
    }
}
