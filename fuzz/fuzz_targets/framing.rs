//! Every transport fed the same bytes whole and in fuzzer-chosen chunks: the
//! frames (and the error, if any) must be the same either way, since a
//! socket may cut a stream anywhere. Each frame decoded must also frame
//! again (`begin`/`finish`) into bytes that decode to the same frame.
//!
//! Input: byte 0 picks the transport (and small limits for bit 3); byte 1
//! is how many chunk sizes follow; then the sizes; the rest is the stream.
#![no_main]

use thriftgen_fuzz::{chunks, TRANSPORT_LIMITS};
use thriftgen_runtime::bytes::BytesMut;
use thriftgen_runtime::protocol::{Binary, Compact, InputProtocol, Json, Protocol};
use thriftgen_runtime::transport::{
    message_len, AnyTransport, Buffered, Detect, Dialect, Frame, Framed, Header, MessageScanner,
    ProtocolId, TTHeader, Transport, TransportErrorKind, TransportLimits,
};
use thriftgen_runtime::TType;

/// The frames decoded, then how the stream ended: `None` wanting more bytes
/// (with how many are left), or the error's kind.
type Outcome = (Vec<Frame>, Result<usize, TransportErrorKind>);

fn whole<T: Transport>(mut transport: T, data: &[u8]) -> Outcome {
    let mut input = BytesMut::from(data);
    let mut frames = Vec::new();
    let end = drain(&mut transport, &mut input, &mut frames).map(|()| input.len());
    (frames, end)
}

fn chunked<T: Transport>(mut transport: T, data: &[u8], sizes: &[u8]) -> Outcome {
    let mut input = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks(data, sizes) {
        input.extend_from_slice(chunk);
        if let Err(e) = drain(&mut transport, &mut input, &mut frames) {
            return (frames, Err(e));
        }
    }
    let left = input.len();
    (frames, Ok(left))
}

fn drain<T: Transport>(
    transport: &mut T,
    input: &mut BytesMut,
    frames: &mut Vec<Frame>,
) -> Result<(), TransportErrorKind> {
    loop {
        let before = input.len();
        match transport.decode(input) {
            Ok(Some(frame)) => {
                assert!(input.len() < before, "a frame consumed no bytes");
                frames.push(frame);
            }
            Ok(None) => {
                assert_eq!(input.len(), before, "`Ok(None)` changed the input");
                return Ok(());
            }
            Err(e) => return Err(e.kind()),
        }
    }
}

fn same(a: &Outcome, b: &Outcome, what: &str) {
    let frames = |o: &Outcome| {
        o.0.iter()
            .map(|f| (f.payload.clone(), f.info.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(frames(a), frames(b), "{what}: frames differ");
    assert_eq!(a.1, b.1, "{what}: the streams end differently");
}

/// A frame framed again decodes to itself.
fn reframes(frame: &Frame, limits: TransportLimits) {
    let mut transport = AnyTransport::new(frame.info.dialect, limits);
    let mut out = BytesMut::new();
    let Ok(start) = transport.begin(&mut out, &frame.info) else {
        return;
    };
    out.extend_from_slice(&frame.payload);
    if transport.finish(&mut out, start, &frame.info).is_err() {
        return;
    }
    let mut fresh = AnyTransport::new(frame.info.dialect, limits);
    let again = fresh
        .decode(&mut out)
        .unwrap_or_else(|e| panic!("{frame:?} framed again does not decode: {e}"))
        .unwrap_or_else(|| panic!("{frame:?} framed again is incomplete"));
    assert_eq!(
        again.payload, frame.payload,
        "payload changed when framed again"
    );
    assert_eq!(
        again.info, frame.info,
        "frame info changed when framed again"
    );
    assert!(out.is_empty(), "bytes left after a frame framed again");
}

/// A message the buffered scanner cut out also reads with its protocol's
/// reader to its end.
fn reads_to_end(frame: &Frame) {
    fn go<P: Protocol>(frame: &Frame) {
        let mut reader = P::reader(frame.payload.clone(), thriftgen_fuzz::LIMITS);
        let read = reader
            .read_message_begin()
            .and_then(|_| reader.skip(TType::Struct))
            .and_then(|()| reader.read_message_end());
        if read.is_ok() {
            assert_eq!(
                reader.remaining(),
                0,
                "the scanner cut a message short or long"
            );
        }
    }
    match frame.info.protocol {
        ProtocolId::Binary => go::<Binary>(frame),
        ProtocolId::Compact => go::<Compact>(frame),
        ProtocolId::Json => go::<Json>(frame),
        ProtocolId::Other(_) => {}
    }
}

fn check<T: Transport>(new: impl Fn() -> T, data: &[u8], sizes: &[u8], limits: TransportLimits) {
    let a = whole(new(), data);
    let b = chunked(new(), data, sizes);
    same(&a, &b, "whole vs chunked");
    for frame in &a.0 {
        reframes(frame, limits);
        if frame.info.dialect == Dialect::Buffered {
            reads_to_end(frame);
        }
    }
}

/// The incremental scanner and the one-shot `message_len` agree.
fn scanner(data: &[u8], sizes: &[u8], limits: TransportLimits) {
    let once = message_len(data, limits.max_frame_len).map_err(|e| e.kind());
    let mut scanner = MessageScanner::new(limits.max_frame_len);
    let mut seen = 0;
    let mut found = Ok(None);
    for chunk in chunks(data, sizes) {
        seen += chunk.len();
        found = scanner.scan(&data[..seen]).map_err(|e| e.kind());
        if !matches!(found, Ok(None)) {
            break;
        }
    }
    assert_eq!(once, found, "message_len and the scanner disagree");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [kind, count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(*count).min(rest.len());
    let (sizes, stream) = rest.split_at(count);
    let limits = if kind & 8 == 0 {
        TRANSPORT_LIMITS
    } else {
        TransportLimits {
            max_frame_len: 512,
            max_header_len: 64,
            max_decompressed_len: 256,
        }
    };
    match kind % 8 {
        0 => check(|| Buffered::new(limits), stream, sizes, limits),
        1 => check(|| Framed::new(limits), stream, sizes, limits),
        2 => check(|| Header::new(limits), stream, sizes, limits),
        3 => check(|| TTHeader::new(limits), stream, sizes, limits),
        4 => scanner(stream, sizes, limits),
        _ => check(|| Detect::new(limits), stream, sizes, limits),
    }
});
