//! The end-to-end demo, and the README's main job:
//!
//! ```sh
//! cargo run --release -p demo
//! ```
//!
//! `build.rs` has generated Rust from `idl/demo/store.thrift`. This program
//! serves it on a free loopback port, calls it through the generated client
//! over four dialects, shows a declared exception arriving typed, runs a
//! short load (bounded in time), prints QPS and latency, and shuts the
//! server down gracefully.

use demo::gen::store::{StoreClient, StoreGetError, StoreProcessor};
use demo::MemoryStore;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thriftgen_runtime::client::{CallError, ClientOptions};
use thriftgen_runtime::server::{Server, ServerOptions};
use thriftgen_runtime::transport::{Dialect, ProtocolId};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let server = Server::new(StoreProcessor::new(Arc::new(MemoryStore::default())))
        .options(ServerOptions {
            pollers: 1,
            ..ServerOptions::default()
        })
        .bind("127.0.0.1:0")?;
    let addr = server.local_addr();
    println!("serving idl/demo/store.thrift on {addr} (every dialect on one port)\n");

    // The same generated client over four framings and both protocols.
    let dialects = [
        (Dialect::Framed, ProtocolId::Binary, "framed + binary"),
        (Dialect::Buffered, ProtocolId::Compact, "buffered + compact"),
        (
            Dialect::Header,
            ProtocolId::Compact,
            "THeader (Apache) + compact",
        ),
        (
            Dialect::TTHeader,
            ProtocolId::Binary,
            "TTHeader (Kitex) + binary",
        ),
    ];
    for (i, (dialect, protocol, name)) in dialects.into_iter().enumerate() {
        let mut client = StoreClient::connect(addr, ClientOptions::new(dialect, protocol))?;
        let key = format!("key-{i}");
        client.put(&key, &format!("value over {name}"))?;
        let value = client.get(&key)?;
        println!("{name:28} ping -> {:?}, get -> {value:?}", client.ping()?);
    }

    // A declared exception arrives as a typed error.
    let mut client = StoreClient::connect(addr, ClientOptions::default())?;
    match client.get("missing") {
        Err(CallError::Service(StoreGetError::NotFound(e))) => {
            println!("\nget(\"missing\") -> Err(NotFound {{ key: {:?} }})", e.key)
        }
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    println!("size -> {}", client.size()?);

    // A short load: 16 connections calling `get` for two seconds.
    let (qps, latencies) = load(addr, 16, Duration::from_secs(2))?;
    println!(
        "\nload: 16 connections, 2 s: {qps:.0} calls/s, latency p50 {} µs, p99 {} µs, max {} µs",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0),
    );

    let stats = server.shutdown(Duration::from_secs(5));
    println!(
        "\nserver stopped: {} connections, {} requests, {} replies, {} errors",
        stats.connections_accepted, stats.requests, stats.replies, stats.errors
    );
    Ok(())
}

/// Calls `get` on `connections` connections until `duration` has passed;
/// returns calls per second and every latency in µs, sorted.
fn load(
    addr: std::net::SocketAddr,
    connections: usize,
    duration: Duration,
) -> Result<(f64, Vec<u64>), Error> {
    let mut setup = StoreClient::connect(addr, ClientOptions::default())?;
    setup.put("hot", &"x".repeat(100))?;
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            std::thread::spawn(move || -> Result<Vec<u64>, String> {
                let mut client = StoreClient::connect(addr, ClientOptions::default())
                    .map_err(|e| e.to_string())?;
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    client.get("hot").map_err(|e| e.to_string())?;
                    latencies.push(t.elapsed().as_micros() as u64);
                }
                Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.join().map_err(|_| "a load thread panicked")??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok((all.len() as f64 / elapsed, all))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
