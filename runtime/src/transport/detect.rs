//! Dialect detection: a server answers every dialect on one port, so it
//! looks at the first bytes of each connection once and then speaks what it
//! found.
//!
//! | first bytes | dialect |
//! |---|---|
//! | byte 0 is `0x80` (strict binary), `0x82` (compact) or `[` (JSON) | [`Buffered`] |
//! | bytes 4..6 are `0x0FFF` | [`Header`] |
//! | bytes 4..6 are `0x1000` | [`TTHeader`] |
//! | bytes 4..6 are `0x80 0x01`, or byte 4 is `0x82` with compact version 1 | [`Framed`] |
//! | bytes 4..6 are `[` and a digit (JSON: `[1,"name",...`) | [`Framed`] |
//! | bytes 4..8 are an old non-strict name length that fits the frame length in bytes 0..4 | [`Framed`] |
//! | bytes 0..4 are an old non-strict name length, followed by printable name bytes | [`Buffered`] |

use super::{
    Buffered, Dialect, Frame, FrameInfo, FrameStart, Framed, Header, TTHeader, Transport,
    TransportError, TransportErrorKind, TransportLimits,
};
use bytes::BytesMut;

/// The longest method name an old non-strict binary message may plausibly
/// start with, for detection.
const MAX_PLAUSIBLE_NAME_LEN: usize = 64 << 10;

/// Bytes of a non-strict frame after the name: type (1), seqid (4), stop (1).
const NON_STRICT_MIN_AFTER_NAME: usize = 6;

/// The dialect the first bytes of a connection speak.
///
/// `Ok(None)`: more bytes are needed to tell (never more than 8).
///
/// # Errors
///
/// [`TransportErrorKind::UnknownDialect`] when the bytes match no dialect.
pub fn detect_dialect(bytes: &[u8]) -> Result<Option<Dialect>, TransportError> {
    let Some(&first) = bytes.first() else {
        return Ok(None);
    };
    match first {
        // A JSON message: no other dialect starts with 0x5b (as a length,
        // it would be over a gigabyte).
        0x80 | 0x82 | b'[' => return Ok(Some(Dialect::Buffered)),
        // Every other dialect starts with a non-negative i32.
        0x81 | 0x83..=0xff => return Err(unknown(bytes)),
        _ => {}
    }
    let Some(&[b4, b5]) = bytes.get(4..6) else {
        return Ok(None);
    };
    match u16::from_be_bytes([b4, b5]) {
        super::header::MAGIC => return Ok(Some(Dialect::Header)),
        super::ttheader::MAGIC => return Ok(Some(Dialect::TTHeader)),
        _ => {}
    }
    if (b4 == 0x80 && b5 == 0x01)
        || (b4 == 0x82 && b5 & 0x1f == 1)
        || (b4 == b'[' && b5.is_ascii_digit())
    {
        return Ok(Some(Dialect::Framed));
    }
    let head = i32_at(bytes, 0).unwrap_or_default() as usize;
    if b4 == 0 && b5 == 0 {
        // A frame length, then an old non-strict message's name length.
        let Some(name_len) = i32_at(bytes, 4) else {
            return Ok(None);
        };
        let fits = name_len > 0
            && (name_len as usize).saturating_add(4 + NON_STRICT_MIN_AFTER_NAME) <= head;
        if fits {
            return Ok(Some(Dialect::Framed));
        }
        return Err(unknown(bytes));
    }
    // An old non-strict message: the name's length, then the name.
    if (1..=MAX_PLAUSIBLE_NAME_LEN).contains(&head) {
        let Some(name) = bytes.get(4..8.min(4 + head)) else {
            return Ok(None);
        };
        if name.iter().all(u8::is_ascii_graphic) {
            return Ok(Some(Dialect::Buffered));
        }
    }
    Err(unknown(bytes))
}

fn i32_at(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cold]
fn unknown(bytes: &[u8]) -> TransportError {
    let shown = &bytes[..bytes.len().min(8)];
    TransportError::new(
        TransportErrorKind::UnknownDialect,
        format!("unknown transport (first bytes {shown:02x?})"),
    )
}

/// One of the four transports, chosen at run time: what a client builds from
/// its configured [`Dialect`], and what [`Detect`] delegates to.
#[derive(Clone, Debug)]
pub enum AnyTransport {
    /// Unframed messages.
    Buffered(Buffered),
    /// Length-prefixed messages.
    Framed(Framed),
    /// Apache THeader frames.
    Header(Header),
    /// Kitex TTHeader frames.
    TTHeader(TTHeader),
}

impl AnyTransport {
    /// The transport for `dialect`, enforcing `limits`.
    pub fn new(dialect: Dialect, limits: TransportLimits) -> AnyTransport {
        match dialect {
            Dialect::Buffered => AnyTransport::Buffered(Buffered::new(limits)),
            Dialect::Framed => AnyTransport::Framed(Framed::new(limits)),
            Dialect::Header => AnyTransport::Header(Header::new(limits)),
            Dialect::TTHeader => AnyTransport::TTHeader(TTHeader::new(limits)),
        }
    }

    /// The dialect this transport speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            AnyTransport::Buffered(_) => Dialect::Buffered,
            AnyTransport::Framed(_) => Dialect::Framed,
            AnyTransport::Header(_) => Dialect::Header,
            AnyTransport::TTHeader(_) => Dialect::TTHeader,
        }
    }
}

/// Calls `$call` on whichever transport `$any` holds.
macro_rules! delegate {
    ($any:expr, $t:ident => $call:expr) => {
        match $any {
            AnyTransport::Buffered($t) => $call,
            AnyTransport::Framed($t) => $call,
            AnyTransport::Header($t) => $call,
            AnyTransport::TTHeader($t) => $call,
        }
    };
}

impl Transport for AnyTransport {
    #[inline]
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        delegate!(self, t => t.decode(input))
    }

    #[inline]
    fn begin(
        &mut self,
        out: &mut BytesMut,
        info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        delegate!(self, t => t.begin(out, info))
    }

    #[inline]
    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        info: &FrameInfo,
    ) -> Result<(), TransportError> {
        delegate!(self, t => t.finish(out, start, info))
    }

    #[inline]
    fn can_splice(&self, info: &FrameInfo) -> bool {
        delegate!(self, t => t.can_splice(info))
    }

    #[inline]
    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        delegate!(self, t => t.frame_len_hint(input))
    }
}

/// The server's per-connection transport: detects the dialect from the first
/// bytes (see [`detect_dialect`]), then delegates to it for the life of the
/// connection.
#[derive(Clone, Debug, Default)]
pub struct Detect {
    limits: TransportLimits,
    chosen: Option<AnyTransport>,
}

impl Detect {
    /// A detecting transport whose chosen transport will enforce `limits`.
    pub fn new(limits: TransportLimits) -> Detect {
        Detect {
            limits,
            chosen: None,
        }
    }

    /// The dialect detected so far, if any.
    pub fn dialect(&self) -> Option<Dialect> {
        self.chosen.as_ref().map(AnyTransport::dialect)
    }

    /// The transport chosen, once the dialect is known.
    fn chosen(&mut self, dialect: Dialect) -> &mut AnyTransport {
        let limits = self.limits;
        self.chosen
            .get_or_insert_with(|| AnyTransport::new(dialect, limits))
    }
}

impl Transport for Detect {
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        if let Some(chosen) = &mut self.chosen {
            return chosen.decode(input);
        }
        match detect_dialect(input)? {
            Some(dialect) => self.chosen(dialect).decode(input),
            None => Ok(None),
        }
    }

    /// Frames with the detected transport; before anything was detected, with
    /// the transport of `info.dialect`, which the connection then keeps.
    fn begin(
        &mut self,
        out: &mut BytesMut,
        info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        self.chosen(info.dialect).begin(out, info)
    }

    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        info: &FrameInfo,
    ) -> Result<(), TransportError> {
        self.chosen(info.dialect).finish(out, start, info)
    }

    /// As the detected transport (false before anything was detected).
    fn can_splice(&self, info: &FrameInfo) -> bool {
        self.chosen.as_ref().is_some_and(|t| t.can_splice(info))
    }

    /// As the detected transport, or the one the first bytes name.
    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        match &self.chosen {
            Some(chosen) => chosen.frame_len_hint(input),
            None => {
                let dialect = detect_dialect(input).ok()??;
                AnyTransport::new(dialect, self.limits).frame_len_hint(input)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_at_most_eight_bytes() {
        let stream = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x04, b'p'];
        for cut in 0..8 {
            assert_eq!(detect_dialect(&stream[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(detect_dialect(&stream[..8]), Ok(Some(Dialect::Framed)));
    }

    #[test]
    fn short_non_strict_names_need_only_their_bytes() {
        // Name "a": 4 + 1 bytes tell it.
        let stream = [0x00, 0x00, 0x00, 0x01, b'a', 0x01];
        assert_eq!(detect_dialect(&stream[..5]), Ok(None));
        assert_eq!(detect_dialect(&stream), Ok(Some(Dialect::Buffered)));
    }

    #[test]
    fn rejects_http_and_tls() {
        for bytes in [
            &b"GET / HTTP/1.1\r\n"[..],
            &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01],
        ] {
            let err = detect_dialect(bytes).unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::UnknownDialect);
        }
        assert_eq!(
            detect_dialect(b"GET / HTTP/1.1").unwrap_err().message(),
            "unknown transport (first bytes [47, 45, 54, 20, 2f, 20, 48, 54])"
        );
    }
}
