//! Command-line pieces the binaries share.

use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// `--protocol binary|compact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// The binary protocol (strict).
    Binary,
    /// The compact protocol.
    Compact,
}

impl From<Protocol> for ProtocolId {
    fn from(p: Protocol) -> ProtocolId {
        match p {
            Protocol::Binary => ProtocolId::Binary,
            Protocol::Compact => ProtocolId::Compact,
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

/// Blocks until the process gets SIGINT or SIGTERM.
pub fn wait_for_signal() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::SeqCst);
    }
    let handler = on_signal as extern "C" fn(libc::c_int);
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
