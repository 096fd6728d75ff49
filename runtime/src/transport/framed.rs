//! Framed messages: a 4-byte big-endian length, then the message (Apache
//! Thrift's `TFramedTransport`).

use super::{
    Dialect, Frame, FrameInfo, FrameStart, ProtocolId, Transport, TransportError, TransportLimits,
};
use bytes::{Buf, BufMut, BytesMut};

/// Length-prefixed messages. The protocol is told by the message's first
/// byte; frames are limited to [`TransportLimits::max_frame_len`] bytes.
#[derive(Clone, Debug, Default)]
pub struct Framed {
    limits: TransportLimits,
}

impl Framed {
    /// A framed transport enforcing `limits`.
    pub fn new(limits: TransportLimits) -> Framed {
        Framed { limits }
    }
}

impl Transport for Framed {
    fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
        let Some(prefix) = input.get(..4) else {
            return Ok(None);
        };
        let len = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let Ok(len) = usize::try_from(len) else {
            return Err(TransportError::negative_size("frame length", len.into()));
        };
        if len > self.limits.max_frame_len {
            return Err(TransportError::frame_too_large(
                len,
                self.limits.max_frame_len,
            ));
        }
        if len == 0 {
            return Err(TransportError::malformed("empty frame"));
        }
        if let Some(&first) = input.get(4) {
            // Refuse a stream that is not Thrift before waiting for its bytes.
            ProtocolId::of_message(first)?;
        }
        if input.len() - 4 < len {
            return Ok(None);
        }
        let mut frame = input.split_to(4 + len);
        frame.advance(4);
        let payload = frame.freeze();
        let protocol = ProtocolId::of_message(payload.first().copied().unwrap_or_default())?;
        Ok(Some(Frame {
            payload,
            info: FrameInfo::new(Dialect::Framed, protocol),
        }))
    }

    fn begin(
        &mut self,
        out: &mut BytesMut,
        _info: &FrameInfo,
    ) -> Result<FrameStart, TransportError> {
        let frame = out.len();
        out.put_u32(0);
        Ok(FrameStart {
            frame,
            payload: out.len(),
            zlib_passes: 0,
            inner_len: false,
            spliced: 0,
        })
    }

    fn finish(
        &mut self,
        out: &mut BytesMut,
        start: FrameStart,
        _info: &FrameInfo,
    ) -> Result<(), TransportError> {
        if start.frame.checked_add(4) != Some(start.payload) {
            return Err(super::bad_frame_start(start, out.len()));
        }
        super::finish_length_prefixed(out, start, &self.limits)
    }

    fn can_splice(&self, _info: &FrameInfo) -> bool {
        true
    }

    fn frame_len_hint(&self, input: &[u8]) -> Option<usize> {
        super::length_prefixed_hint(input, &self.limits)
    }
}
