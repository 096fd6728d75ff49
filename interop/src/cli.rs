//! Command-line pieces the binaries share.

use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// `--protocol binary|compact|json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// The binary protocol (strict).
    Binary,
    /// The compact protocol.
    Compact,
    /// Apache's JSON protocol.
    Json,
}

impl From<Protocol> for ProtocolId {
    fn from(p: Protocol) -> ProtocolId {
        match p {
            Protocol::Binary => ProtocolId::Binary,
            Protocol::Compact => ProtocolId::Compact,
            Protocol::Json => ProtocolId::Json,
        }
    }
}

/// `--transport buffered|framed|header|ttheader`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// Unframed.
    Buffered,
    /// A 4-byte length before each message.
    Framed,
    /// Apache/fbthrift THeader.
    Header,
    /// Kitex TTHeader.
    Ttheader,
}

impl From<Transport> for Dialect {
    fn from(t: Transport) -> Dialect {
        match t {
            Transport::Buffered => Dialect::Buffered,
            Transport::Framed => Dialect::Framed,
            Transport::Header => Dialect::Header,
            Transport::Ttheader => Dialect::TTHeader,
        }
    }
}

/// SIGINT and SIGTERM, caught: [`Signals::wait`] blocks until one comes,
/// without waking up meanwhile (the handler writes a byte to a pipe that
/// `wait` blocks reading: the self-pipe trick), so an idle server process
/// sleeps. Install it before serving, so that the pipe exists even when
/// the server later runs out of file descriptors.
#[derive(Debug)]
pub struct Signals {
    read_end: libc::c_int,
}

static WAKE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_signal(_: libc::c_int) {
    let fd = WAKE.load(std::sync::atomic::Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a local.
        unsafe { libc::write(fd, std::ptr::addr_of!(byte).cast(), 1) };
    }
}

impl Signals {
    /// Catches SIGINT and SIGTERM from now on.
    ///
    /// # Errors
    ///
    /// When no pipe can be made (out of file descriptors).
    pub fn install() -> std::io::Result<Signals> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let [read_end, write_end] = fds;
        WAKE.store(write_end, std::sync::atomic::Ordering::SeqCst);
        let handler = on_signal as extern "C" fn(libc::c_int);
        // SAFETY: the handler only loads an atomic and calls write(2), both
        // async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
            libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
        }
        Ok(Signals { read_end })
    }

    /// Blocks until SIGINT or SIGTERM.
    pub fn wait(self) {
        let mut byte = 0u8;
        loop {
            // SAFETY: reads one byte into a local.
            let n = unsafe { libc::read(self.read_end, std::ptr::addr_of_mut!(byte).cast(), 1) };
            let interrupted =
                n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
            // Anything but an interruption (a byte, or an error that cannot
            // happen while the write end is open) is a reason to stop
            // rather than spin.
            if !interrupted {
                return;
            }
        }
    }
}
