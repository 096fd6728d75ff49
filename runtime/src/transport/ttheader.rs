//! CloudWeGo Kitex TTHeader, as CloudWeGo's `transport_protocol_ttheader`
//! page defines it: THeader's layout with fixed-width fields.
//!
//! ```text
//! LENGTH (4) | 0x1000 (2) | FLAGS (2) | SEQUENCE NUMBER (4) | HEADER SIZE (2, /4)
//! PROTOCOL ID (u8) | NUM TRANSFORMS (u8) | TRANSFORM ID (u8)...
//! INFO ID (u8) | INFO DATA ...   (then 0x00 padding to a multiple of 4)
//! PAYLOAD
//! ```
//!
//! Infos, all lengths and counts big-endian `u16`:
//!
//! - `INFO_KEYVALUE` (`0x01`): a count, then key/value pairs, each string a
//!   length and its bytes.
//! - `INFO_INTKEYVALUE` (`0x10`): a count, then pairs of a `u16` key and a
//!   string value.
//! - `INFO_ACL_TOKEN` (`0x11`): one string, the token.
//!
//! Padding bytes (`0x00`) between infos are skipped. An unknown info id ends
//! the info section, as THeader's spec (which TTHeader follows) allows: its
//! data cannot be measured, and infos are only hints.

use super::envelope::{self, HeaderReader};
use super::header::{check_transforms, read_transforms, untransform};
use super::{
    Dialect, Frame, FrameInfo, FrameStart, Headers, ProtocolId, Transport, TransportError,
    TransportErrorKind, TransportLimits,
};
use bytes::{BufMut, BytesMut};

/// TTHeader's magic number, in the two bytes after `LENGTH`.
pub(super) const MAGIC: u16 = 0x1000;
const NAME: &str = "TTHeader";

/// `PROTOCOL ID` of the binary protocol.
const PROTOCOL_BINARY: u8 = 0;
/// `PROTOCOL ID` of the compact protocol.
const PROTOCOL_COMPACT: u8 = 2;

const INFO_PADDING: u8 = 0x00;
const INFO_KEYVALUE: u8 = 0x01;
const INFO_INTKEYVALUE: u8 = 0x10;
const INFO_ACL_TOKEN: u8 = 0x11;

/// CloudWeGo Kitex TTHeader frames (magic `0x1000`): fixed-width header
/// fields, string and integer key/value headers and an ACL token.
#[derive(Clone, Debug, Default)]
pub struct TTHeader {
    limits: TransportLimits,
}

impl TTHeader {
    /// A TTHeader transport enforcing `limits`.
    pub fn new(limits: TransportLimits) -> TTHeader {
        TTHeader { limits }
    }
}

impl Transport for TTHeader {
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        let Some(raw) = envelope::take_frame(input, MAGIC, NAME, &self.limits)? else {
            return Ok(None);
        };
        let mut header = HeaderReader::new(raw.header(), NAME);
        let protocol = match header.u8("protocol id")? {
            PROTOCOL_BINARY => ProtocolId::Binary,
            PROTOCOL_COMPACT => ProtocolId::Compact,
            other => {
                return Err(TransportError::new(
                    TransportErrorKind::UnsupportedProtocol,
                    format!("unsupported {NAME} protocol id {other}"),
                ))
            }
        };
        let count = usize::from(header.u8("transform count")?);
        let transforms = read_transforms(count, || header.u8("transform id").map(u64::from))?;
        let headers = read_infos(&mut header)?;
        let payload = untransform(raw.payload(), &transforms, &self.limits)?;
        Ok(Some(Frame {
            payload,
            info: FrameInfo {
                dialect: Dialect::TTHeader,
                protocol,
                flags: raw.flags,
                seq_id: raw.seq_id,
                transforms,
                headers,
            },
        }))
    }

    /// Writes the frame's fixed start and header: protocol id, the transforms
    /// of `info`, then its string headers, integer headers and ACL token, each
    /// block only when there is something in it.
    fn begin(
        &mut self,
        out: &mut BytesMut,
        info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        let zlib_passes = check_transforms(&info.transforms)?;
        check_headers(&info.headers, &self.limits)?;
        let frame = envelope::begin(out, MAGIC, info.flags, info.seq_id);
        out.put_u8(match info.protocol {
            ProtocolId::Binary => PROTOCOL_BINARY,
            ProtocolId::Compact => PROTOCOL_COMPACT,
            ProtocolId::Other(id) => id,
        });
        // At most MAX_TRANSFORMS.
        out.put_u8(info.transforms.len() as u8);
        for transform in &info.transforms {
            out.put_u8(transform.id());
        }
        // `check_headers` made sure every count and length fits a u16.
        let headers = &info.headers;
        if !headers.strings.is_empty() {
            out.put_u8(INFO_KEYVALUE);
            out.put_u16(headers.strings.len() as u16);
            for (key, value) in &headers.strings {
                put_string(out, key);
                put_string(out, value);
            }
        }
        if !headers.ints.is_empty() {
            out.put_u8(INFO_INTKEYVALUE);
            out.put_u16(headers.ints.len() as u16);
            for (key, value) in &headers.ints {
                out.put_u16(*key);
                put_string(out, value);
            }
        }
        if let Some(token) = &headers.acl_token {
            out.put_u8(INFO_ACL_TOKEN);
            put_string(out, token);
        }
        let start = envelope::end_header(out, frame, NAME, &self.limits)?;
        Ok(FrameStart {
            zlib_passes,
            ..start
        })
    }

    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        _info: &FrameInfo,
    ) -> Result<(), TransportError> {
        envelope::finish(out, start, &self.limits)
    }
}

/// Checks that every count and length fits its `u16` and that the headers
/// fit the header limit, before anything is written.
fn check_headers(headers: &Headers, limits: &TransportLimits) -> Result<(), TransportError> {
    let too_large = |what: String| {
        Err(TransportError::new(
            TransportErrorKind::HeaderTooLarge,
            format!("{NAME} {what}"),
        ))
    };
    let max = usize::from(u16::MAX);
    if headers.strings.len() > max || headers.ints.len() > max {
        return too_large(format!("headers are more than {max} pairs"));
    }
    let strings = headers.strings.iter().flat_map(|(k, v)| [k, v]);
    let values = headers.ints.iter().map(|(_, v)| v);
    let texts = strings.chain(values).chain(&headers.acl_token);
    let mut size = 0usize;
    for text in texts {
        if text.len() > max {
            return too_large(format!("header of {} bytes is over {max}", text.len()));
        }
        size += text.len() + 2;
    }
    size += headers.ints.len() * 2;
    if size > limits.max_header_len {
        return too_large(format!(
            "headers of {size} bytes are over the limit of {}",
            limits.max_header_len
        ));
    }
    Ok(())
}

/// A `u16` length and the string's bytes (the length was checked).
fn put_string(out: &mut BytesMut, text: &str) {
    out.put_u16(text.len() as u16);
    out.put_slice(text.as_bytes());
}

fn read_string(header: &mut HeaderReader<'_>, what: &str) -> Result<String, TransportError> {
    let len = usize::from(header.u16(what)?);
    header.string(len, what)
}

/// Reads the info section up to its end (or an unknown info id).
fn read_infos(header: &mut HeaderReader<'_>) -> Result<Headers, TransportError> {
    let mut headers = Headers::default();
    while header.remaining() > 0 {
        match header.u8("info id")? {
            INFO_PADDING => {}
            INFO_KEYVALUE => {
                let count = usize::from(header.u16("header count")?);
                // Each pair takes at least two two-byte lengths.
                header.check_count(count, 4, "key/value headers")?;
                for _ in 0..count {
                    let key = read_string(header, "header key")?;
                    let value = read_string(header, "header value")?;
                    headers.strings.push((key, value));
                }
            }
            INFO_INTKEYVALUE => {
                let count = usize::from(header.u16("int header count")?);
                // Each pair takes at least a key and a length.
                header.check_count(count, 4, "int key/value headers")?;
                for _ in 0..count {
                    let key = header.u16("int header key")?;
                    let value = read_string(header, "int header value")?;
                    headers.ints.push((key, value));
                }
            }
            INFO_ACL_TOKEN => {
                headers.acl_token = Some(read_string(header, "ACL token")?);
            }
            _ => break,
        }
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_value_over_u16_is_an_error_and_writes_nothing() {
        let mut info = FrameInfo::new(Dialect::TTHeader, ProtocolId::Binary);
        info.headers.insert("k", "v".repeat(70_000));
        let limits = TransportLimits {
            max_header_len: 1 << 20,
            ..TransportLimits::DEFAULT
        };
        let mut out = BytesMut::from(&b"earlier"[..]);
        let err = TTHeader::new(limits).begin(&mut out, &info).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::HeaderTooLarge);
        assert_eq!(
            err.message(),
            "TTHeader header of 70000 bytes is over 65535"
        );
        assert_eq!(&out[..], b"earlier");
    }
}
