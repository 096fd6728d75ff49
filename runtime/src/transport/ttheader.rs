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
//! Infos, all lengths and counts big-endian `u16`, every key and value a
//! byte string (a length and its bytes, UTF-8 or not, possibly empty):
//!
//! - `INFO_KEYVALUE` (`0x01`): a count, then key/value pairs.
//! - `INFO_INTKEYVALUE` (`0x10`): a count, then pairs of a `u16` key and a
//!   value (see [`int_keys`](super::int_keys)).
//! - `INFO_ACL_TOKEN` (`0x11`): one string, the token.
//!
//! Padding bytes (`0x00`) between infos are skipped. An unknown info id ends
//! the info section, as THeader's spec (which TTHeader follows) allows: its
//! data cannot be measured, and infos are only hints.
//!
//! The payload is the message itself (`TTHeader` in Kitex's terms) or a
//! framed message, a 4-byte big-endian length and then the message
//! (Kitex's `TTHeaderFramed`, Volo's default `TTHeader<Framed<Binary>>`).
//! Which one is told from the payload's first bytes: a strict binary message
//! starts `0x80 0x01`, a compact one `0x82`, and a framed one with a length
//! equal to the rest of the payload. [`FrameInfo::framed_payload`] records the
//! shape, so a reply repeats it.

use super::envelope::{self, HeaderReader};
use super::header::{check_transforms, read_transforms, untransform};
use super::{
    Dialect, Frame, FrameInfo, FrameStart, Headers, ProtocolId, Transport, TransportError,
    TransportErrorKind, TransportLimits,
};
use bytes::{BufMut, Bytes, BytesMut};

/// TTHeader's magic number, in the two bytes after `LENGTH`.
pub(super) const MAGIC: u16 = 0x1000;
const NAME: &str = "TTHeader";

/// `PROTOCOL ID` of the binary protocol.
const PROTOCOL_BINARY: u8 = 0;
/// `PROTOCOL ID` of the compact protocol.
const PROTOCOL_COMPACT: u8 = 2;
/// `PROTOCOL ID` of the JSON protocol: THeader's number, which Kitex leaves
/// unassigned (its ids are 0 binary, 2 compact, 3 compact v2, 4 protobuf), so
/// only our own peers send JSON in TTHeader.
const PROTOCOL_JSON: u8 = 1;

const INFO_PADDING: u8 = 0x00;
const INFO_KEYVALUE: u8 = 0x01;
const INFO_INTKEYVALUE: u8 = 0x10;
const INFO_ACL_TOKEN: u8 = 0x11;

/// CloudWeGo Kitex TTHeader frames (magic `0x1000`): fixed-width header
/// fields, byte-string and integer key/value headers and an ACL token; the
/// message inside bare or framed.
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
        let header_bytes = raw.header();
        let mut header = HeaderReader::new(&header_bytes, NAME);
        let protocol = match header.u8("protocol id")? {
            PROTOCOL_BINARY => ProtocolId::Binary,
            PROTOCOL_COMPACT => ProtocolId::Compact,
            PROTOCOL_JSON => ProtocolId::Json,
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
        let (payload, framed_payload) = unframe(payload)?;
        Ok(Some(Frame {
            payload,
            info: FrameInfo {
                dialect: Dialect::TTHeader,
                protocol,
                flags: raw.flags,
                seq_id: raw.seq_id,
                transforms,
                headers,
                framed_payload,
            },
        }))
    }

    /// Writes the frame's fixed start and header: protocol id, the transforms
    /// of `info`, then its key/value headers, integer headers and ACL token,
    /// each block only when there is something in it; then, when
    /// [`FrameInfo::framed_payload`] is set, a placeholder for the message's
    /// own length, which `finish` patches.
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
            ProtocolId::Json => PROTOCOL_JSON,
            ProtocolId::Other(id) => id,
        });
        // At most MAX_TRANSFORMS.
        out.put_u8(info.transforms.len() as u8);
        for transform in &info.transforms {
            out.put_u8(transform.id());
        }
        // `check_headers` made sure every count and length fits a u16.
        let headers = &info.headers;
        let pairs = headers.pairs();
        if !pairs.is_empty() {
            out.put_u8(INFO_KEYVALUE);
            out.put_u16(pairs.len() as u16);
            for (key, value) in pairs {
                put_string(out, key);
                put_string(out, value);
            }
        }
        let ints = headers.ints();
        if !ints.is_empty() {
            out.put_u8(INFO_INTKEYVALUE);
            out.put_u16(ints.len() as u16);
            for (key, value) in ints {
                out.put_u16(*key);
                put_string(out, value);
            }
        }
        if let Some(token) = headers.acl_token_bytes() {
            out.put_u8(INFO_ACL_TOKEN);
            put_string(out, token);
        }
        let start = envelope::end_header(out, frame, NAME, &self.limits)?;
        if info.framed_payload {
            out.put_u32(0);
        }
        Ok(FrameStart {
            zlib_passes,
            inner_len: info.framed_payload,
            payload: out.len(),
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

    fn can_splice(&self, info: &FrameInfo) -> bool {
        info.transforms.is_empty()
    }

    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        super::length_prefixed_hint(input, &self.limits)
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
    let (pairs, ints) = (headers.pairs(), headers.ints());
    if pairs.len() > max || ints.len() > max {
        return too_large(format!("headers are more than {max} pairs"));
    }
    let keys_and_values = pairs.iter().flat_map(|(k, v)| [k, v]);
    let values = ints.iter().map(|(_, v)| v);
    let all = keys_and_values
        .chain(values)
        .chain(headers.acl_token_bytes());
    let mut size = 0usize;
    for bytes in all {
        if bytes.len() > max {
            return too_large(format!("header of {} bytes is over {max}", bytes.len()));
        }
        size += bytes.len() + 2;
    }
    size += ints.len() * 2;
    if size > limits.max_header_len {
        return too_large(format!(
            "headers of {size} bytes are over the limit of {}",
            limits.max_header_len
        ));
    }
    Ok(())
}

/// A `u16` length and the bytes (the length was checked).
fn put_string(out: &mut BytesMut, bytes: &[u8]) {
    out.put_u16(bytes.len() as u16);
    out.put_slice(bytes);
}

/// A `u16` length and that many bytes, sliced out of the header.
fn read_string(header: &mut HeaderReader<'_>, what: &str) -> Result<Bytes, TransportError> {
    let len = usize::from(header.u16(what)?);
    header.take(len, what)
}

/// Tells a framed payload (a 4-byte length equal to the rest, then the
/// message) from a bare message; returns the message and whether it was
/// framed.
fn unframe(payload: Bytes) -> Result<(Bytes, bool), TransportError> {
    // A strict binary (0x80 0x01) or compact (0x82) message: bare. A framed
    // one starts with a length, and no frame is 2 GiB long.
    let Some(&[b0, b1, b2, b3]) = payload.get(..4) else {
        return Ok((payload, false));
    };
    if b0 >= 0x80 {
        return Ok((payload, false));
    }
    let len = u32::from_be_bytes([b0, b1, b2, b3]) as usize;
    let rest = payload.len() - 4;
    if len == rest {
        return Ok((payload.slice(4..), true));
    }
    // A length, then a strict binary or compact message: framed, but with the
    // wrong length. (A bare old non-strict message starts with its name's
    // length and then the name, which is text.)
    if matches!(payload.get(4), Some(0x80 | 0x82)) {
        return Err(TransportError::malformed(format!(
            "{NAME} payload of {rest} bytes after its length holds a framed message of {len} bytes"
        )));
    }
    Ok((payload, false))
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
                    headers.push_decoded(key, value);
                }
            }
            INFO_INTKEYVALUE => {
                let count = usize::from(header.u16("int header count")?);
                // Each pair takes at least a key and a length.
                header.check_count(count, 4, "int key/value headers")?;
                for _ in 0..count {
                    let key = header.u16("int header key")?;
                    let value = read_string(header, "int header value")?;
                    headers.push_decoded_int(key, value);
                }
            }
            INFO_ACL_TOKEN => {
                headers.set_acl_token(read_string(header, "ACL token")?);
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
