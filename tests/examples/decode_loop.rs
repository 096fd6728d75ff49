//! Decodes (or encodes) the codec benchmark's order many times, for a
//! profiler:
//!
//! ```sh
//! cargo build --release -p thriftgen-tests --example decode_loop
//! valgrind --tool=callgrind target/release/examples/decode_loop binary-decode 20000
//! valgrind --tool=callgrind target/release/examples/decode_loop binary-decode-zero-copy 20000
//! ```

use thriftgen_runtime::bytes::BytesMut;
use thriftgen_runtime::protocol::{BinaryReader, BinaryWriter, CompactReader, CompactWriter};
use thriftgen_runtime::Struct;
use thriftgen_tests::gen::codec::Order;
use thriftgen_tests::gen_zero_copy::codec::Order as ZeroCopyOrder;

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "binary-decode".to_string());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let order = thriftgen_tests::fixture::order();
    let mut buf = BytesMut::new();
    let compact = what.starts_with("compact");
    if compact {
        order.write(&mut CompactWriter::new(&mut buf)).unwrap();
    } else {
        order.write(&mut BinaryWriter::new(&mut buf)).unwrap();
    }
    let bytes = buf.split().freeze();
    let mut total = 0usize;
    if what == "binary-decode-zero-copy" {
        let order = thriftgen_tests::fixture::zero_copy::order();
        buf.clear();
        order.write(&mut BinaryWriter::new(&mut buf)).unwrap();
        let bytes = buf.split().freeze();
        for _ in 0..n {
            let order = ZeroCopyOrder::read(&mut BinaryReader::new(bytes.clone()));
            total += order.map(|o| o.items.len()).unwrap_or(0);
        }
        println!("{what} x{n}: {total}");
        return;
    }
    for _ in 0..n {
        if what.ends_with("decode") {
            let order = if compact {
                Order::read(&mut CompactReader::new(bytes.clone()))
            } else {
                Order::read(&mut BinaryReader::new(bytes.clone()))
            };
            total += order.map(|o| o.items.len()).unwrap_or(0);
        } else {
            buf.clear();
            if compact {
                order.write(&mut CompactWriter::new(&mut buf)).unwrap();
            } else {
                order.write(&mut BinaryWriter::new(&mut buf)).unwrap();
            }
            total += buf.len();
        }
    }
    println!("{what} x{n}: {total}");
}
