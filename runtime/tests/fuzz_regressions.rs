//! Inputs the fuzz targets (`fuzz/`, see `fuzz/README.md`) found, one named
//! test each, so `cargo test` keeps them fixed without nightly. Each test
//! says which target found it and what was wrong.

use bytes::BytesMut;
use thriftgen_runtime::transport::{
    Detect, Header, TTHeader, Transport, TransportErrorKind, TransportLimits,
};

/// Feeds `stream` to a fresh transport in chunks of `sizes`, draining frames
/// after each chunk; the error kind the stream ends with, if any.
fn error_when_fed<T: Transport>(
    mut transport: T,
    stream: &[u8],
    sizes: &[usize],
) -> Option<TransportErrorKind> {
    let mut input = BytesMut::new();
    let mut rest = stream;
    let mut sizes = sizes.iter().copied().cycle();
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(sizes.next().unwrap_or(rest.len()).min(rest.len()));
        rest = tail;
        input.extend_from_slice(chunk);
        loop {
            match transport.decode(&mut input) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Some(e.kind()),
            }
        }
    }
    None
}

/// `framing`: a THeader or TTHeader frame whose length is too short for
/// the fixed header and whose magic is wrong was `BadMagic` when its first
/// six bytes arrived together, but `Malformed` when the length arrived
/// alone (the length was judged before the magic had arrived). The decoder
/// now waits for the magic.
#[test]
fn envelope_error_does_not_depend_on_where_the_stream_is_cut() {
    let limits = TransportLimits::DEFAULT;
    // LENGTH 2 (shorter than the fixed header), then a wrong magic.
    let stream = [0x00, 0x00, 0x00, 0x02, 0x12, 0x34];
    for sizes in [&[6][..], &[4, 2], &[1], &[5, 1]] {
        assert_eq!(
            error_when_fed(Header::new(limits), &stream, sizes),
            Some(TransportErrorKind::BadMagic),
            "THeader fed in chunks of {sizes:?}"
        );
        assert_eq!(
            error_when_fed(TTHeader::new(limits), &stream, sizes),
            Some(TransportErrorKind::BadMagic),
            "TTHeader fed in chunks of {sizes:?}"
        );
    }
    // The right magic: too short is still an error, however it arrives.
    for (magic, name) in [([0x0f, 0xff], "THeader"), ([0x10, 0x00], "TTHeader")] {
        let stream = [0x00, 0x00, 0x00, 0x02, magic[0], magic[1]];
        for sizes in [&[6][..], &[4, 2], &[1]] {
            assert_eq!(
                error_when_fed(Detect::new(limits), &stream, sizes),
                Some(TransportErrorKind::Malformed),
                "{name} fed in chunks of {sizes:?}"
            );
        }
    }
}
