//! Protocol errors: what went wrong, and where in the value being read.

use std::borrow::Cow;
use std::fmt;

/// What kind of problem a [`ProtocolError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// The input ended in the middle of a value.
    UnexpectedEof,
    /// Bytes that no valid encoding produces (an unknown type code, a bad
    /// varint, invalid UTF-8, a union with no or several fields, ...).
    InvalidData,
    /// A negative length or count.
    NegativeSize,
    /// A length or count beyond a configured limit or beyond the bytes left.
    SizeLimit,
    /// Structs or containers nested deeper than the configured limit.
    DepthLimit,
    /// A message header of an unknown protocol version.
    BadVersion,
    /// A `required` field was absent.
    MissingRequiredField,
    /// A value this side cannot write: a union's unknown variant whose field
    /// was not kept, or a value kept from a protocol of one's own written in
    /// another protocol.
    Unsupported,
}

/// Where an error happened: a field of a struct. Generated code names
/// fields with `&'static str`s; code driven by an IDL read at run time (the
/// `thriftgen-dynamic` crate) with owned strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldStep {
    /// The struct's IDL name.
    pub struct_name: Cow<'static, str>,
    /// The field's IDL name.
    pub field_name: Cow<'static, str>,
    /// The field's id.
    pub field_id: i16,
}

/// An error reading or writing a protocol, with the path of fields that led
/// to it: `Order.customer (#4): Customer.name (#2): invalid UTF-8`.
///
/// Boxed, so that `Result<T, ProtocolError>` stays small on the hot path.
#[derive(Clone, PartialEq, Eq)]
pub struct ProtocolError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ProtocolErrorKind,
    message: String,
    /// Innermost field first (the order steps are added in as the error
    /// travels out); shown outermost first.
    path: Vec<FieldStep>,
}

impl ProtocolError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ProtocolErrorKind, message: impl Into<String>) -> ProtocolError {
        ProtocolError(Box::new(Inner {
            kind,
            message: message.into(),
            path: Vec::new(),
        }))
    }

    /// The input ended before the value did.
    #[cold]
    pub fn eof() -> ProtocolError {
        ProtocolError::new(ProtocolErrorKind::UnexpectedEof, "unexpected end of input")
    }

    /// Invalid bytes, described by `message`.
    #[cold]
    pub fn invalid(message: impl Into<String>) -> ProtocolError {
        ProtocolError::new(ProtocolErrorKind::InvalidData, message)
    }

    /// A `required` field that was absent.
    #[cold]
    pub fn missing(
        struct_name: impl fmt::Display,
        field_name: impl fmt::Display,
        field_id: i16,
    ) -> ProtocolError {
        ProtocolError::new(
            ProtocolErrorKind::MissingRequiredField,
            format!("required field `{struct_name}.{field_name}` (#{field_id}) is missing"),
        )
    }

    /// A container whose elements have another wire type than the IDL says.
    pub fn element_type(expected: crate::TType, found: crate::TType) -> ProtocolError {
        ProtocolError::invalid(format!(
            "expected elements of type {expected:?}, found {found:?}"
        ))
    }

    /// A union holding the variant it does not know (field `field_id`, sent
    /// by a newer peer), whose value was skipped: there is nothing to write.
    pub fn unknown_variant(union_name: &'static str, field_id: i16) -> ProtocolError {
        ProtocolError::new(
            ProtocolErrorKind::Unsupported,
            format!(
                "union `{union_name}` holds unknown field #{field_id}, whose value was not kept \
                 (generate with `keep_unknown_fields` to pass it on)"
            ),
        )
    }

    /// The kind of error.
    pub fn kind(&self) -> ProtocolErrorKind {
        self.0.kind
    }

    /// The message, without the path.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The fields that led to the error, outermost first.
    pub fn path(&self) -> impl Iterator<Item = &FieldStep> {
        self.0.path.iter().rev()
    }

    /// Records that the error happened inside field `field_name` (`#field_id`)
    /// of struct `struct_name`. Generated code calls this as an error leaves a
    /// field, so the path reads from the outermost struct in.
    #[must_use]
    #[cold]
    pub fn in_field(
        mut self,
        struct_name: impl Into<Cow<'static, str>>,
        field_name: impl Into<Cow<'static, str>>,
        field_id: i16,
    ) -> Self {
        self.0.path.push(FieldStep {
            struct_name: struct_name.into(),
            field_name: field_name.into(),
            field_id,
        });
        self
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in self.path() {
            write!(
                f,
                "{}.{} (#{}): ",
                step.struct_name, step.field_name, step.field_id
            )?;
        }
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolError({:?}: {self})", self.0.kind)
    }
}

impl std::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_reads_from_the_outermost_struct_in() {
        let err = ProtocolError::invalid("invalid UTF-8")
            .in_field("Customer", "name", 2)
            .in_field("Order", "customer", 4);
        assert_eq!(
            err.to_string(),
            "Order.customer (#4): Customer.name (#2): invalid UTF-8"
        );
        assert_eq!(err.kind(), ProtocolErrorKind::InvalidData);
        assert_eq!(std::mem::size_of::<Result<u64, ProtocolError>>(), 16);
    }
}
