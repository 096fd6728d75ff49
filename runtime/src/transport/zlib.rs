//! The zlib transform: inflating with a hard cap on the output, deflating in
//! place at the end of an output buffer.

use super::{TransportError, TransportErrorKind};
use bytes::BytesMut;
use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use std::io::Write;

/// The first output buffer, before it grows with what really inflates.
const INITIAL_CAPACITY: usize = 4 << 10;

/// Inflates the zlib stream `input` into at most `cap` bytes.
///
/// The output grows as bytes really come out (doubling, never beyond
/// `cap + 1`), so a small bomb costs at most the cap, never more memory.
///
/// # Errors
///
/// [`TransportErrorKind::DecompressedTooLarge`] past `cap`;
/// [`TransportErrorKind::Decompress`] for an invalid or truncated stream, or
/// bytes after its end.
pub(super) fn inflate(input: &[u8], cap: usize) -> Result<Vec<u8>, TransportError> {
    // One byte over the cap tells "too large" from "exactly at the cap".
    let hard_cap = cap.saturating_add(1);
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(INITIAL_CAPACITY.min(hard_cap));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= hard_cap {
                return Err(TransportError::new(
                    TransportErrorKind::DecompressedTooLarge,
                    format!("compressed payload inflates to more than {cap} bytes"),
                ));
            }
            let grow = out.len().max(INITIAL_CAPACITY).min(hard_cap - out.len());
            out.reserve_exact(grow);
        }
        let consumed = inflater.total_in() as usize;
        let produced = inflater.total_out();
        let rest = input.get(consumed..).unwrap_or_default();
        let status = inflater
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|e| {
                TransportError::new(
                    TransportErrorKind::Decompress,
                    format!("invalid zlib stream: {e}"),
                )
            })?;
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let progressed =
                    inflater.total_in() as usize != consumed || inflater.total_out() != produced;
                if !progressed && out.len() < out.capacity() {
                    return Err(TransportError::new(
                        TransportErrorKind::Decompress,
                        "truncated zlib stream",
                    ));
                }
            }
        }
    }
    if out.len() > cap {
        return Err(TransportError::new(
            TransportErrorKind::DecompressedTooLarge,
            format!("compressed payload inflates to more than {cap} bytes"),
        ));
    }
    let trailing = input.len() - (inflater.total_in() as usize).min(input.len());
    if trailing > 0 {
        return Err(TransportError::new(
            TransportErrorKind::Decompress,
            format!("trailing bytes after the zlib stream ({trailing})"),
        ));
    }
    Ok(out)
}

/// Deflates `out[from..]` in place (the compressed bytes replace it).
///
/// # Errors
///
/// [`TransportErrorKind::Compress`] if the encoder fails (it cannot when
/// writing to memory).
pub(super) fn deflate_tail(out: &mut BytesMut, from: usize) -> Result<(), TransportError> {
    let plain = out.get(from..).unwrap_or_default();
    // Compressed aside and copied back: deflating into `out` itself would
    // first have to move the plain bytes (or everything before them) away.
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(plain.len() / 2), Compression::default());
    let compressed = encoder
        .write_all(plain)
        .and_then(|()| encoder.finish())
        .map_err(|e| {
            TransportError::new(
                TransportErrorKind::Compress,
                format!("cannot compress the payload: {e}"),
            )
        })?;
    out.truncate(from);
    out.extend_from_slice(&compressed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::from(data);
        deflate_tail(&mut out, 0).unwrap_or_else(|e| panic!("{e}"));
        out.to_vec()
    }

    #[test]
    fn round_trips() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let packed = deflate(&data);
        assert!(packed.len() < data.len());
        assert_eq!(inflate(&packed, data.len()).as_deref(), Ok(&data[..]));
        assert_eq!(inflate(&deflate(b""), 0).as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn deflates_only_the_tail() {
        let mut out = BytesMut::from(&b"headpayload"[..]);
        deflate_tail(&mut out, 4).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&out[..4], b"head");
        assert_eq!(inflate(&out[4..], 100).as_deref(), Ok(&b"payload"[..]));
    }

    #[test]
    fn stops_at_the_cap() {
        let data = vec![0u8; 1 << 20];
        let packed = deflate(&data);
        let err = inflate(&packed, (1 << 20) - 1).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::DecompressedTooLarge);
        assert_eq!(inflate(&packed, 1 << 20).map(|v| v.len()), Ok(1 << 20));
    }

    #[test]
    fn rejects_truncated_corrupt_and_trailing_input() {
        let packed = deflate(b"hello, hello, hello");
        for cut in 0..packed.len() {
            let err = inflate(&packed[..cut], 100).unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Decompress, "cut at {cut}");
        }
        let mut corrupt = packed.clone();
        corrupt[0] ^= 0xff;
        assert_eq!(
            inflate(&corrupt, 100).unwrap_err().kind(),
            TransportErrorKind::Decompress
        );
        let mut trailing = packed;
        trailing.push(0);
        assert_eq!(
            inflate(&trailing, 100).unwrap_err().message(),
            "trailing bytes after the zlib stream (1)"
        );
    }
}
