//! Pooled blocks for connection buffers, and reading a socket straight into
//! one.
//!
//! A connection holds an input and an output block only while it has bytes
//! in them: an idle connection holds none, so ten thousand idle connections
//! cost their bookkeeping, not 16 KiB each. Blocks come back to a poller's
//! pool when nothing else shares them (a frame handed to a worker as a
//! `Bytes` slice keeps its block alive; that block is freed, not pooled, once
//! the last slice drops).

use bytes::BytesMut;
use std::io;
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
    /// without a block (a buffer without one is left as it is).
    pub fn give(&mut self, buf: &mut BytesMut) {
        if buf.capacity() == 0 {
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

#[cfg(test)]
mod tests {
    use super::*;

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
