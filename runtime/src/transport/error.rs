//! Transport errors: a frame that cannot be taken off the wire or written.

use std::fmt;

/// What kind of problem a [`TransportError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// A frame (or unframed message) longer than
    /// [`TransportLimits::max_frame_len`](super::TransportLimits::max_frame_len),
    /// or a length or count that could not fit in one.
    FrameTooLarge,
    /// A THeader/TTHeader header longer than
    /// [`TransportLimits::max_header_len`](super::TransportLimits::max_header_len),
    /// or a header value too long for its length field.
    HeaderTooLarge,
    /// A payload that inflates to more than
    /// [`TransportLimits::max_decompressed_len`](super::TransportLimits::max_decompressed_len).
    DecompressedTooLarge,
    /// An unframed message nested deeper than
    /// [`MAX_MESSAGE_DEPTH`](super::MAX_MESSAGE_DEPTH).
    DepthLimit,
    /// A negative length or count.
    NegativeSize,
    /// A THeader/TTHeader frame without its magic number.
    BadMagic,
    /// The first bytes of a connection match no known dialect.
    UnknownDialect,
    /// A transform this implementation does not support (HMAC, snappy, ...).
    UnsupportedTransform,
    /// A protocol id or message version other than binary, compact or JSON.
    UnsupportedProtocol,
    /// A compressed payload that is not a valid zlib stream.
    Decompress,
    /// A payload that could not be compressed.
    Compress,
    /// Any other bytes that no valid frame contains.
    Malformed,
}

/// A frame that cannot be taken off the wire or written.
///
/// Boxed, so that `Result<Option<Frame>, TransportError>` stays small on the
/// hot path.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
        TransportError(Box::new(Inner {
            kind,
            message: message.into(),
        }))
    }

    /// The kind of error.
    pub fn kind(&self) -> TransportErrorKind {
        self.0.kind
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    #[cold]
    pub(super) fn malformed(message: impl Into<String>) -> TransportError {
        TransportError::new(TransportErrorKind::Malformed, message)
    }

    #[cold]
    pub(super) fn frame_too_large(len: impl fmt::Display, max: usize) -> TransportError {
        TransportError::new(
            TransportErrorKind::FrameTooLarge,
            format!("frame of {len} bytes is over the limit of {max}"),
        )
    }

    #[cold]
    pub(super) fn negative_size(what: &str, len: i64) -> TransportError {
        TransportError::new(
            TransportErrorKind::NegativeSize,
            format!("negative {what} {len}"),
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransportError({:?}: {self})", self.0.kind)
    }
}

impl std::error::Error for TransportError {}

impl From<TransportError> for std::io::Error {
    /// An [`InvalidData`](std::io::ErrorKind::InvalidData) error carrying the
    /// transport error as its source.
    fn from(err: TransportError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_the_message_and_debugs_the_kind() {
        let err = TransportError::frame_too_large(20, 10);
        assert_eq!(err.to_string(), "frame of 20 bytes is over the limit of 10");
        assert_eq!(
            format!("{err:?}"),
            "TransportError(FrameTooLarge: frame of 20 bytes is over the limit of 10)"
        );
        assert_eq!(err.kind(), TransportErrorKind::FrameTooLarge);
        assert_eq!(std::mem::size_of::<Result<(), TransportError>>(), 8);
    }

    #[test]
    fn becomes_an_invalid_data_io_error() {
        let io: std::io::Error = TransportError::malformed("bad").into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(io.to_string(), "bad");
        let inner = io
            .into_inner()
            .and_then(|e| e.downcast::<TransportError>().ok());
        assert_eq!(inner.map(|e| e.kind()), Some(TransportErrorKind::Malformed));
    }
}
