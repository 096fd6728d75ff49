//! Apache Thrift / fbthrift THeader, as Apache's `doc/specs/HeaderFormat.md`
//! defines it:
//!
//! ```text
//! LENGTH (4) | 0x0FFF (2) | FLAGS (2) | SEQUENCE NUMBER (4) | HEADER SIZE (2, /4)
//! PROTOCOL ID (varint) | NUM TRANSFORMS (varint) | TRANSFORM ID (varint)...
//! INFO ID (varint) | INFO DATA ...   (until the 0x00 padding)
//! PAYLOAD (transformed)
//! ```
//!
//! `INFO_KEYVALUE` (1) is a varint count of key/value pairs, each key and value a
//! varint length and its bytes. Info ids this implementation does not know
//! end the info section (the spec orders infos oldest first, so none after an
//! unknown one is known either): the rest of the header is skipped.

use super::envelope::{self, HeaderReader};
use super::{
    Dialect, Frame, FrameInfo, FrameStart, Headers, ProtocolId, Transform, Transport,
    TransportError, TransportErrorKind, TransportLimits,
};
use bytes::{BufMut, Bytes, BytesMut};

/// THeader's magic number, in the two bytes after `LENGTH`.
pub(super) const MAGIC: u16 = 0x0FFF;
const NAME: &str = "THeader";

/// `PROTOCOL ID` of the binary protocol.
const PROTOCOL_BINARY: u64 = 0;
/// `PROTOCOL ID` of the compact protocol.
const PROTOCOL_COMPACT: u64 = 2;
/// `PROTOCOL ID` of the JSON protocol (Apache THeader's number).
const PROTOCOL_JSON: u64 = 1;
/// The info id of key/value headers.
const INFO_KEYVALUE: u64 = 1;
/// The most transforms one frame may list. The spec defines three; a long
/// list could only be an attempt to make the receiver inflate a payload over
/// and over.
pub(super) const MAX_TRANSFORMS: usize = 4;

/// Apache Thrift / fbthrift THeader frames (magic `0x0FFF`): varint header
/// fields, byte-string key/value headers and the zlib transform.
#[derive(Clone, Debug, Default)]
pub struct Header {
    limits: TransportLimits,
}

impl Header {
    /// A THeader transport enforcing `limits`.
    pub fn new(limits: TransportLimits) -> Header {
        Header { limits }
    }
}

impl Transport for Header {
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        let Some(raw) = envelope::take_frame(input, MAGIC, NAME, &self.limits)? else {
            return Ok(None);
        };
        let header_bytes = raw.header();
        let mut header = HeaderReader::new(&header_bytes, NAME);
        let protocol = match header.varint("protocol id")? {
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
        let count = header.varint_u32("transform count")?;
        let transforms = read_transforms(count, || header.varint("transform id"))?;
        let headers = read_infos(&mut header)?;
        let payload = untransform(raw.payload(), &transforms, &self.limits)?;
        Ok(Some(Frame {
            payload,
            info: FrameInfo {
                dialect: Dialect::Header,
                protocol,
                flags: raw.flags,
                seq_id: raw.seq_id,
                transforms,
                headers,
                framed_payload: false,
            },
        }))
    }

    /// Writes the frame's fixed start and header: protocol id, the transforms
    /// of `info` and its key/value headers. (THeader has no integer headers or
    /// ACL token; those of `info.headers` are not written.)
    fn begin(
        &mut self,
        out: &mut BytesMut,
        info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        let zlib_passes = check_transforms(&info.transforms)?;
        let frame = envelope::begin(out, MAGIC, info.flags, info.seq_id);
        put_varint(out, protocol_id(info.protocol));
        put_varint(out, info.transforms.len() as u64);
        for transform in &info.transforms {
            put_varint(out, u64::from(transform.id()));
        }
        let pairs = info.headers.pairs();
        if !pairs.is_empty() {
            // Bounded by the header limit before anything is trusted.
            let limit = self.limits.max_header_len;
            let size: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
            if size > limit {
                out.truncate(frame);
                return Err(TransportError::new(
                    TransportErrorKind::HeaderTooLarge,
                    format!("{NAME} headers of {size} bytes are over the limit of {limit}"),
                ));
            }
            put_varint(out, INFO_KEYVALUE);
            put_varint(out, pairs.len() as u64);
            for (key, value) in pairs {
                put_varint(out, key.len() as u64);
                out.put_slice(key);
                put_varint(out, value.len() as u64);
                out.put_slice(value);
            }
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

    fn can_splice(&self, info: &FrameInfo) -> bool {
        info.transforms.is_empty()
    }

    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        super::length_prefixed_hint(input, &self.limits)
    }
}

fn protocol_id(protocol: ProtocolId) -> u64 {
    match protocol {
        ProtocolId::Binary => PROTOCOL_BINARY,
        ProtocolId::Compact => PROTOCOL_COMPACT,
        ProtocolId::Json => PROTOCOL_JSON,
        ProtocolId::Other(id) => u64::from(id),
    }
}

/// Reads `count` transform ids with `next`; unknown ids are errors, as the
/// spec requires.
pub(super) fn read_transforms(
    count: usize,
    mut next: impl FnMut() -> Result<u64, TransportError>,
) -> Result<Vec<Transform>, TransportError> {
    if count > MAX_TRANSFORMS {
        return Err(TransportError::malformed(format!(
            "{count} transforms in one frame (at most {MAX_TRANSFORMS})"
        )));
    }
    let mut transforms = Vec::new();
    for _ in 0..count {
        transforms.push(Transform::from_id(next()?)?);
    }
    Ok(transforms)
}

/// How many times `finish` must deflate for `transforms`.
pub(super) fn check_transforms(transforms: &[Transform]) -> Result<u8, TransportError> {
    if transforms.len() > MAX_TRANSFORMS {
        return Err(TransportError::malformed(format!(
            "{} transforms in one frame (at most {MAX_TRANSFORMS})",
            transforms.len()
        )));
    }
    // At most MAX_TRANSFORMS, all zlib.
    Ok(transforms.len() as u8)
}

/// Undoes the transforms, last applied first.
pub(super) fn untransform(
    mut payload: Bytes,
    transforms: &[Transform],
    limits: &TransportLimits,
) -> Result<Bytes, TransportError> {
    for transform in transforms.iter().rev() {
        payload = match transform {
            Transform::Zlib => super::zlib::inflate(&payload, limits.max_decompressed_len)?.into(),
        };
    }
    Ok(payload)
}

/// Reads the info section up to the padding (or an unknown info id).
fn read_infos(header: &mut HeaderReader<'_>) -> Result<Headers, TransportError> {
    let mut headers = Headers::default();
    while header.remaining() > 0 {
        match header.varint("info id")? {
            INFO_KEYVALUE => {
                let count = header.varint_u32("header count")?;
                // Each pair takes at least two one-byte lengths.
                header.check_count(count, 2, "key/value headers")?;
                for _ in 0..count {
                    let len = header.varint_u32("header key length")?;
                    let key = header.take(len, "header key")?;
                    let len = header.varint_u32("header value length")?;
                    let value = header.take(len, "header value")?;
                    headers.push_decoded(key, value);
                }
            }
            // Padding, or an info this implementation does not know: the spec
            // lets a reader skip the rest of the header.
            _ => break,
        }
    }
    Ok(headers)
}

/// An unsigned LEB128 varint.
fn put_varint(out: &mut BytesMut, mut n: u64) {
    while n >= 0x80 {
        out.put_u8((n as u8) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_varints() {
        let mut out = BytesMut::new();
        for n in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            put_varint(&mut out, n);
            let bytes = out.clone().freeze();
            let mut reader = HeaderReader::new(&bytes, NAME);
            assert_eq!(reader.varint("n"), Ok(n));
            assert_eq!(reader.remaining(), 0);
            out.clear();
        }
    }

    #[test]
    fn header_of_a_plain_frame_is_two_bytes_padded_to_four() {
        let mut out = BytesMut::new();
        let info = FrameInfo::new(Dialect::Header, ProtocolId::Compact);
        let mut header = Header::default();
        let start = header
            .begin(&mut out, &info)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(start.payload_offset(), 18);
        assert_eq!(&out[12..], &[0x00, 0x01, 0x02, 0x00, 0x00, 0x00]);
    }
}
