//! Pooled blocks for connection buffers, and reading a socket straight into
//! one.
//!
//! A connection holds an input and an output block only while it has bytes
//! in them: an idle connection holds none, so ten thousand idle connections
//! cost their bookkeeping, not 16 KiB each. Blocks come back to a poller's
//! pool when nothing else shares them (a frame handed to a worker as a
//! `Bytes` slice keeps its block alive; that block is freed, not pooled, once
//! the last slice drops).

use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;

/// The default block size: most requests and replies fit one block.
pub const BLOCK_SIZE: usize = 8 * 1024;

/// A free list of blocks, one per poller (no locking).
#[derive(Debug)]
pub struct BlockPool {
    free: Vec<BytesMut>,
    block_size: usize,
    max_pooled: usize,
}

impl BlockPool {
    /// A pool of blocks of `block_size` bytes, keeping at most `max_pooled`.
    pub fn new(block_size: usize, max_pooled: usize) -> BlockPool {
        BlockPool {
            free: Vec::new(),
            block_size,
            max_pooled,
        }
    }

    /// An empty block.
    pub fn take(&mut self) -> BytesMut {
        self.free
            .pop()
            .unwrap_or_else(|| BytesMut::with_capacity(self.block_size))
    }

    /// Makes sure `buf` has room for at least `min` more bytes, taking a
    /// block from the pool when it has none.
    pub fn ensure(&mut self, buf: &mut BytesMut, min: usize) {
        if buf.capacity() == 0 {
            *buf = self.take();
        }
        if buf.capacity() - buf.len() < min {
            buf.reserve(min.max(self.block_size));
        }
    }

    /// Returns `buf`'s block to the pool when no frame still shares it;
    /// otherwise lets it go. Any bytes in it are dropped; `buf` is left
    /// without a block.
    pub fn give(&mut self, buf: &mut BytesMut) {
        if buf.capacity() == 0 {
            // Either no block, or an empty view at the end of one whose
            // bytes were all split off (a frame that filled the room made
            // for it): let that block go too, or an idle connection would
            // keep its last large frame's allocation alive.
            *buf = BytesMut::new();
            return;
        }
        let mut block = std::mem::take(buf);
        block.clear();
        if self.free.len() < self.max_pooled
            && block.capacity() <= 4 * self.block_size
            && block.try_reclaim(self.block_size)
        {
            self.free.push(block);
        }
    }
}

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were appended.
    Data(usize),
    /// The peer closed its side.
    Closed,
    /// Nothing to read now.
    WouldBlock,
}

/// Reads from `source` into the spare capacity of `buf` (at most `max`
/// bytes), appending what arrives.
///
/// # Errors
///
/// Any socket error other than "would block" and "interrupted".
pub fn read_into<S: AsRawFd>(
    source: &S,
    buf: &mut BytesMut,
    max: usize,
) -> io::Result<ReadOutcome> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    if len == 0 {
        return Ok(ReadOutcome::Data(0));
    }
    loop {
        // SAFETY: the pointer and length describe `buf`'s spare capacity,
        // which `read(2)` only writes to (no reference to uninitialized
        // bytes is made); the file descriptor is open while `source` lives.
        let n = unsafe { libc::read(source.as_raw_fd(), spare.as_mut_ptr().cast(), len) };
        if n > 0 {
            let n = n as usize;
            // SAFETY: `read` initialized the first `n` spare bytes.
            unsafe { buf.set_len(buf.len() + n) };
            return Ok(ReadOutcome::Data(n));
        }
        if n == 0 {
            return Ok(ReadOutcome::Closed);
        }
        let err = io::Error::last_os_error();
        match err.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(ReadOutcome::WouldBlock),
            _ => return Err(err),
        }
    }
}

/// Large [`Bytes`] values a protocol writer hands on by reference instead of
/// copying them into its output buffer (netpoll's "nocopy" writes): each one
/// goes out, with a vectored write, between the buffer's bytes at the offset
/// where the writer met it. A 1 MiB `binary` echoed back is then a slice of
/// the request frame all the way to `writev`.
///
/// Offsets are in the coordinates of the one output buffer the splices
/// belong to: [`Splices::advance`] consumes both together, so they stay in
/// step. A frame's length counts its spliced bytes (the transport is told
/// with [`FrameStart::with_spliced`](crate::transport::FrameStart::with_spliced)).
#[derive(Debug, Default)]
pub struct Splices {
    /// (offset in the output buffer, bytes), in order of offset; never empty
    /// bytes.
    list: VecDeque<(usize, Bytes)>,
    /// The bytes of every splice in `list`.
    len: usize,
    /// Values shorter than this are copied (see [`Splices::MIN_LEN`]).
    min_len: usize,
}

impl Splices {
    /// The shortest value spliced by default: 32 KiB. Below it copying
    /// costs less (a reply that small still fits a block the pool keeps,
    /// four times [`BLOCK_SIZE`]); from it on, splicing saves about half the
    /// server's CPU per call (measured in BENCHMARKS.md, "Large messages").
    pub const MIN_LEN: usize = 32 * 1024;

    /// No splices; values of [`Splices::MIN_LEN`] bytes or more are spliced.
    pub fn new() -> Splices {
        Splices::with_min_len(Splices::MIN_LEN)
    }

    /// No splices; values of `min_len` bytes or more are spliced.
    pub fn with_min_len(min_len: usize) -> Splices {
        Splices {
            list: VecDeque::new(),
            len: 0,
            min_len: min_len.max(1),
        }
    }

    /// Whether a value of `len` bytes should be spliced rather than copied.
    #[inline]
    pub fn wants(&self, len: usize) -> bool {
        len >= self.min_len
    }

    /// Splices `bytes` at offset `at` of the output buffer (at or after
    /// every earlier splice's offset: the writer's current end).
    pub fn push(&mut self, at: usize, bytes: Bytes) {
        debug_assert!(self.list.back().is_none_or(|(last, _)| *last <= at));
        if bytes.is_empty() {
            return;
        }
        self.len += bytes.len();
        self.list.push_back((at, bytes));
    }

    /// No splice waits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many splices wait (a mark for [`Splices::truncate`]).
    #[inline]
    pub fn count(&self) -> usize {
        self.list.len()
    }

    /// The bytes of all waiting splices.
    #[inline]
    pub fn bytes(&self) -> usize {
        self.len
    }

    /// The bytes of the splices after the first `mark`.
    pub fn bytes_since(&self, mark: usize) -> usize {
        self.list.iter().skip(mark).map(|(_, b)| b.len()).sum()
    }

    /// Drops the splices after the first `mark` (the output they belonged
    /// to was truncated away).
    pub fn truncate(&mut self, mark: usize) {
        while self.list.len() > mark {
            if let Some((_, bytes)) = self.list.pop_back() {
                self.len -= bytes.len();
            }
        }
    }

    /// Moves the splices after the first `mark` by `to - from` bytes: the
    /// output they sit in was moved from offset `from` to offset `to` (a
    /// reply framed again with a longer or shorter header).
    pub fn shift(&mut self, mark: usize, from: usize, to: usize) {
        for (at, _) in self.list.iter_mut().skip(mark) {
            *at = *at - from + to;
        }
    }

    /// Takes over `other`, the splices of a buffer whose bytes are about to
    /// be appended to this one's at offset `base`.
    pub fn append(&mut self, other: Splices, base: usize) {
        for (at, bytes) in other.list {
            self.push(base + at, bytes);
        }
    }

    /// Fills `slices` with the output in order, `buf`'s bytes and the
    /// splices between them, as far as `slices` goes; returns how many it
    /// filled.
    pub fn io_slices<'a>(&'a self, buf: &'a [u8], slices: &mut [IoSlice<'a>]) -> usize {
        let mut filled = 0;
        let mut pos = 0;
        let pieces = self.list.iter().flat_map(|(at, bytes)| {
            let before = buf.get(pos..*at).unwrap_or_default();
            pos = *at;
            [before, &bytes[..]]
        });
        let tail_from = self.list.back().map_or(0, |(at, _)| *at);
        let tail = buf.get(tail_from..).unwrap_or_default();
        for piece in pieces.chain(std::iter::once(tail)) {
            if filled == slices.len() {
                break;
            }
            if !piece.is_empty() {
                slices[filled] = IoSlice::new(piece);
                filled += 1;
            }
        }
        filled
    }

    /// Consumes the first `n` bytes of the output (`buf` and the splices
    /// together), after a write took them.
    pub fn advance(&mut self, buf: &mut BytesMut, mut n: usize) {
        while n > 0 {
            match self.list.front_mut() {
                Some((0, bytes)) => {
                    let k = n.min(bytes.len());
                    bytes.advance(k);
                    self.len -= k;
                    n -= k;
                    if bytes.is_empty() {
                        self.list.pop_front();
                    }
                }
                Some((at, _)) => {
                    let k = n.min(*at).min(buf.len());
                    if k == 0 {
                        // Not reached: a splice's offset is within `buf`.
                        break;
                    }
                    buf.advance(k);
                    n -= k;
                    for (at, _) in &mut self.list {
                        *at -= k;
                    }
                }
                None => {
                    buf.advance(n.min(buf.len()));
                    n = 0;
                }
            }
        }
    }

    /// Copies every splice into `buf` where it belongs, leaving no splice:
    /// the output as one buffer (for a path that cannot write vectored).
    pub fn flatten_into(&mut self, buf: &mut BytesMut) {
        if self.list.is_empty() {
            return;
        }
        let mut flat = BytesMut::with_capacity(buf.len() + self.len);
        let mut pos = 0;
        for (at, bytes) in self.list.drain(..) {
            flat.extend_from_slice(&buf[pos..at]);
            flat.extend_from_slice(&bytes);
            pos = at;
        }
        flat.extend_from_slice(&buf[pos..]);
        self.len = 0;
        *buf = flat;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_go_out_in_order_through_partial_writes() {
        let mut buf = BytesMut::from(&b"abcdefgh"[..]);
        let mut splices = Splices::with_min_len(1);
        splices.push(2, Bytes::from_static(b"XYZ"));
        splices.push(2, Bytes::from_static(b"12"));
        splices.push(8, Bytes::from_static(b"END"));
        assert_eq!(splices.bytes(), 8);
        let whole = b"abXYZ12cdefghEND";
        let mut sent = Vec::new();
        // Writes of every size, the way a socket may take them.
        for step in [1, 3, 2, 5, 1, 100] {
            let mut slices = [IoSlice::new(&[]); 8];
            let n = splices.io_slices(&buf, &mut slices);
            let flat: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
            assert_eq!(flat, whole[sent.len()..], "after {} bytes", sent.len());
            let k = step.min(flat.len());
            sent.extend_from_slice(&flat[..k]);
            splices.advance(&mut buf, k);
        }
        assert_eq!(sent, whole);
        assert!(splices.is_empty() && buf.is_empty());
        assert_eq!(splices.bytes(), 0);
    }

    #[test]
    fn flattening_and_truncating() {
        let mut buf = BytesMut::from(&b"abcd"[..]);
        let mut splices = Splices::with_min_len(1);
        splices.push(1, Bytes::from_static(b"X"));
        let mark = splices.count();
        splices.push(3, Bytes::from_static(b"YY"));
        assert_eq!(splices.bytes_since(mark), 2);
        splices.shift(mark, 0, 2);
        splices.truncate(mark);
        assert_eq!(splices.bytes(), 1);
        splices.flatten_into(&mut buf);
        assert_eq!(&buf[..], b"aXbcd");
        assert!(splices.is_empty());
    }

    #[test]
    fn blocks_come_back_only_when_unshared() {
        let mut pool = BlockPool::new(64, 4);
        let mut buf = BytesMut::new();
        pool.ensure(&mut buf, 1);
        assert!(buf.capacity() >= 64);
        buf.extend_from_slice(b"frame");
        let frame = buf.split_to(5).freeze();
        pool.give(&mut buf);
        assert_eq!(pool.free.len(), 0, "a frame still shares the block");
        drop(frame);
        let mut buf = pool.take();
        buf.extend_from_slice(b"x");
        buf.clear();
        pool.give(&mut buf);
        assert_eq!(pool.free.len(), 1);
        assert_eq!(buf.capacity(), 0);
    }

    #[test]
    fn an_empty_view_lets_its_block_go() {
        let mut pool = BlockPool::new(64, 4);
        let mut buf = BytesMut::with_capacity(1000);
        buf.resize(1000, 7);
        let frame = buf.split_to(1000).freeze();
        assert_eq!(buf.capacity(), 0);
        pool.give(&mut buf);
        assert!(
            frame.is_unique(),
            "the input no longer shares the frame's block"
        );
        assert_eq!(pool.free.len(), 0);
    }

    #[test]
    fn reads_from_a_socket() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(b"hello").unwrap();
        let mut buf = BytesMut::with_capacity(16);
        assert_eq!(
            read_into(&server, &mut buf, 3).unwrap(),
            ReadOutcome::Data(3)
        );
        assert_eq!(
            read_into(&server, &mut buf, 16).unwrap(),
            ReadOutcome::Data(2)
        );
        assert_eq!(&buf[..], b"hello");
        drop(client);
        assert_eq!(
            read_into(&server, &mut buf, 16).unwrap(),
            ReadOutcome::Closed
        );
    }
}
