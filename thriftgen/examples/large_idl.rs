//! Prints a generated IDL of at least N lines (default 3000), to time
//! `thriftgen check` on a large file:
//!
//! ```sh
//! cargo run -p thriftgen --example large_idl -- 3000 > target/large.thrift
//! target/release/thriftgen check target/large.thrift
//! ```

#[path = "../benches/large_idl.rs"]
mod large_idl;

fn main() {
    let lines = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    print!("{}", large_idl::generate(lines));
}
