//! Calls `EchoServer.Echo` (`idl/echo.thrift`) with the generated client over
//! Kitex's TTHeader, bare or framed inside (`--framed`, the shape Volo's
//! default codec speaks), and prints the answer and the reply's headers.
//! A check against another implementation's server, e.g. Volo's:
//!
//! ```sh
//! cargo run --release -p thriftgen-interop --example ttheader_echo -- 127.0.0.1:9092 --framed
//! ```
//!
//! Exits non-zero when a call fails or the answer is not the request.

use std::process::ExitCode;
use thriftgen_interop::echo::{EchoServerClient, Request};
use thriftgen_runtime::client::ClientOptions;
use thriftgen_runtime::transport::{int_keys, Dialect, ProtocolId};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:9092".to_string());
    let framed = args.iter().any(|a| a == "--framed");
    let calls: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--calls="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let options = ClientOptions {
        framed_payload: framed,
        ..ClientOptions::new(Dialect::TTHeader, ProtocolId::Binary)
    };
    let mut client = match EchoServerClient::connect(addr.as_str(), options) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("ttheader_echo: {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for i in 0..calls {
        let headers = client.connection().headers_mut();
        headers.insert("isn", "EchoServer");
        headers.insert_int(int_keys::TO_METHOD, "Echo");
        headers.insert_int(int_keys::RPC_TIMEOUT, "1000");
        let msg = format!("hello #{i}");
        let request = Request {
            action: "echo".into(),
            msg: msg.clone().into(),
        };
        match client.echo(&request) {
            Ok(reply) if reply.msg.as_str() == msg && reply.action.as_str() == "echo" => {
                println!(
                    "ok call {i} (framed payload: {framed}): {:?}; reply headers {:?}",
                    reply.msg.as_str(),
                    client.connection().reply_headers()
                );
            }
            Ok(reply) => {
                eprintln!("FAIL call {i}: answer {reply:?}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("FAIL call {i}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
