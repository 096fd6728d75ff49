//! `soak`: a long, moderate load on a running `echo-server`, with clients
//! reconnecting and hostile frames mixed in, sampling the server's memory,
//! descriptors and the latency as it goes.
//!
//! ```sh
//! soak --addr 127.0.0.1:9090 --pid PID [--minutes 10] [--connections 100]
//!      [--rate 50] [--reconnect-percent 1] [--sample-seconds 30]
//! ```
//!
//! Each of `--connections` threads calls `Echo` `--rate` times a second on
//! its own connection (framed binary; every reply checked); every second
//! `--reconnect-percent` of them drop their connection and dial again; a
//! hostile thread sends a garbage, an oversized, a truncated and a
//! half-sent frame on fresh connections every second. Every sample prints a
//! row (time, calls, errors, p50/p99 of the window, server RSS and open
//! descriptors); the last line is `JSON {..}` with the baseline and the
//! final figures. Bounded: it stops after `--minutes`.

use clap::Parser;
use hdrhistogram::Histogram;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thriftgen_interop::echo::{EchoServerClient, Request};
use thriftgen_runtime::client::ClientOptions;

/// Soaks an echo server.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The server.
    #[arg(long)]
    addr: SocketAddr,
    /// The server's process id, to read its memory and descriptors.
    #[arg(long)]
    pid: u32,
    /// How long to run.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Client connections (one thread each).
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Calls per second per connection.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Percent of the connections that reconnect every second.
    #[arg(long, default_value_t = 1.0)]
    reconnect_percent: f64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 30)]
    sample_seconds: u64,
    /// Mix hostile frames in (`--hostile false` for a clean, steady rate,
    /// as `bench/rate_cpu.sh` measures).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    hostile: bool,
}

/// The server's resident memory (KiB) and open descriptors.
fn server_resources(pid: u32) -> (u64, usize) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    (rss, fds)
}

/// The server's CPU time so far (user + system), in seconds.
fn server_cpu_seconds(pid: u32) -> f64 {
    // The fields after the command name (which may hold spaces), from
    // field 3 on: utime and stime are fields 14 and 15, in clock ticks.
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // The tick is USER_HZ, which Linux fixes at 100 for /proc on every
    // architecture (std has no sysconf to ask).
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

struct Shared {
    stop: AtomicBool,
    calls: AtomicU64,
    errors: AtomicU64,
    reconnects: AtomicU64,
    hostile: AtomicU64,
    window: Mutex<Histogram<u64>>,
}

fn client_loop(addr: SocketAddr, rate: u32, reconnect: Arc<AtomicBool>, shared: Arc<Shared>) {
    let request = Request {
        action: "echo".into(),
        msg: "s".repeat(256).into(),
    };
    let period = Duration::from_secs(1) / rate.max(1);
    let mut client = None;
    let mut next = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        if reconnect.swap(false, Ordering::Relaxed) {
            client = None;
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let c = match &mut client {
            Some(c) => c,
            None => match EchoServerClient::connect(addr, ClientOptions::default()) {
                Ok(c) => client.insert(c),
                Err(_) => {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(period);
                    continue;
                }
            },
        };
        let started = Instant::now();
        match c.echo(&request) {
            Ok(reply) if reply.msg == request.msg => {
                shared.calls.fetch_add(1, Ordering::Relaxed);
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                if let Ok(mut h) = shared.window.lock() {
                    let _ = h.record(micros.max(1));
                }
            }
            _ => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                client = None;
            }
        }
        next += period;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
}

/// Every second, on fresh connections: garbage, a frame announcing 1 GiB,
/// a frame cut short and closed, and a frame sent half-way and left.
fn hostile_loop(addr: SocketAddr, shared: Arc<Shared>) {
    let mut left_open = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let sends: [&[u8]; 3] = [
            b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n",
            &[0x40, 0x00, 0x00, 0x00, 0x80, 0x01],
            &[0x00, 0x00, 0x00, 0x20, 0x80, 0x01, 0x00, 0x01, 0x00],
        ];
        for bytes in sends {
            if let Ok(mut s) = TcpStream::connect(addr) {
                let _ = s.write_all(bytes);
                shared.hostile.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Half a frame, left open until the server's read timeout.
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(&[0x00, 0x00, 0x01, 0x00, 0x80, 0x01, 0x00, 0x01]);
            shared.hostile.fetch_add(1, Ordering::Relaxed);
            left_open.push((Instant::now(), s));
        }
        // The server closes those at its read timeout; let go of ours a
        // little after it, so nothing piles up here either.
        left_open.retain(|(since, _)| since.elapsed() < Duration::from_secs(40));
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn main() {
    let args = Args::parse();
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        calls: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        hostile: AtomicU64::new(0),
        window: Mutex::new(histogram()),
    });
    let (rss0, fds0) = server_resources(args.pid);
    let flags: Vec<Arc<AtomicBool>> = (0..args.connections)
        .map(|_| Arc::new(AtomicBool::new(false)))
        .collect();
    let mut threads = Vec::new();
    for flag in &flags {
        let (flag, shared) = (Arc::clone(flag), Arc::clone(&shared));
        let (addr, rate) = (args.addr, args.rate);
        threads.push(std::thread::spawn(move || {
            client_loop(addr, rate, flag, shared)
        }));
    }
    if args.hostile {
        let (shared, addr) = (Arc::clone(&shared), args.addr);
        threads.push(std::thread::spawn(move || hostile_loop(addr, shared)));
    }

    let start = Instant::now();
    let cpu0 = server_cpu_seconds(args.pid);
    let end = start + Duration::from_secs_f64(args.minutes * 60.0);
    let per_second = (args.connections as f64 * args.reconnect_percent / 100.0).max(0.0);
    let mut owed = 0.0;
    let mut next_sample = start + Duration::from_secs(args.sample_seconds);
    let mut victim = 0usize;
    let mut p99s = Vec::new();
    println!("| minute | calls | errors | reconnects | hostile | p50 µs | p99 µs | server RSS KiB | server fds |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    while Instant::now() < end {
        std::thread::sleep(Duration::from_secs(1));
        owed += per_second;
        while owed >= 1.0 && !flags.is_empty() {
            flags[victim % flags.len()].store(true, Ordering::Relaxed);
            victim += 1;
            owed -= 1.0;
        }
        if Instant::now() >= next_sample {
            next_sample += Duration::from_secs(args.sample_seconds);
            let window = shared
                .window
                .lock()
                .map(|mut h| {
                    let taken = h.clone();
                    h.reset();
                    taken
                })
                .unwrap_or_else(|_| histogram());
            let (rss, fds) = server_resources(args.pid);
            let p99 = window.value_at_quantile(0.99);
            p99s.push(p99);
            println!(
                "| {:.1} | {} | {} | {} | {} | {} | {} | {rss} | {fds} |",
                start.elapsed().as_secs_f64() / 60.0,
                shared.calls.load(Ordering::Relaxed),
                shared.errors.load(Ordering::Relaxed),
                shared.reconnects.load(Ordering::Relaxed),
                shared.hostile.load(Ordering::Relaxed),
                window.value_at_quantile(0.5),
                p99,
            );
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = server_cpu_seconds(args.pid) - cpu0;
    let calls = shared.calls.load(Ordering::Relaxed);
    // Give the server its read timeout to close what the hostile peers
    // left half-sent.
    std::thread::sleep(Duration::from_secs(2));
    let (rss1, fds1) = server_resources(args.pid);
    let first = p99s.first().copied().unwrap_or(0);
    let last = p99s.last().copied().unwrap_or(0);
    println!(
        "JSON {{\"minutes\":{:.1},\"calls\":{},\"errors\":{},\"reconnects\":{},\"hostile\":{},\
         \"rss_kib_start\":{rss0},\"rss_kib_end\":{rss1},\"fds_start\":{fds0},\"fds_end\":{fds1},\
         \"p99_us_first\":{first},\"p99_us_last\":{last},\"qps\":{:.0},\"server_cpu_s\":{server_cpu:.2},\
         \"server_cpu_pct\":{:.1},\"server_cpu_us_per_call\":{:.2}}}",
        elapsed / 60.0,
        calls,
        shared.errors.load(Ordering::Relaxed),
        shared.reconnects.load(Ordering::Relaxed),
        shared.hostile.load(Ordering::Relaxed),
        calls as f64 / elapsed,
        100.0 * server_cpu / elapsed,
        1e6 * server_cpu / calls.max(1) as f64,
    );
}
