//! The server speaks JSON to a connection that does, buffered or framed, on
//! the same port as every other dialect; bad JSON fails that connection only.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::echo_server;
use thriftgen_runtime::transport::message_len;

fn connect(server: &thriftgen_runtime::server::RunningServer) -> TcpStream {
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads one unframed JSON message; what follows it stays in `got`.
fn read_buffered_from(stream: &mut TcpStream, got: &mut Vec<u8>) -> String {
    let mut chunk = [0; 512];
    loop {
        if let Some(len) = message_len(got, 1 << 20).unwrap() {
            let message = got.drain(..len).collect();
            return String::from_utf8(message).unwrap();
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before a whole reply: {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one unframed JSON message, which must be all that arrived.
fn read_buffered(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let message = read_buffered_from(stream, &mut got);
    assert!(got.is_empty(), "more than one reply: {got:?}");
    message
}

/// Reads one framed message.
fn read_framed(stream: &mut TcpStream) -> String {
    let mut len = [0; 4];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

fn framed(text: &str) -> Vec<u8> {
    let mut out = (text.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out
}

#[test]
fn json_calls_buffered_and_framed_get_json_replies() {
    let (server, _) = echo_server();
    let mut stream = connect(&server);
    // Two calls in one write, then one more.
    stream
        .write_all(br#"[1,"echo",1,5,{"1":{"i32":7}}][1,"echo",1,6,{"1":{"i32":-8}}]"#)
        .unwrap();
    let mut got = Vec::new();
    assert_eq!(
        read_buffered_from(&mut stream, &mut got),
        r#"[1,"echo",2,5,{"0":{"i32":7}}]"#
    );
    assert_eq!(
        read_buffered_from(&mut stream, &mut got),
        r#"[1,"echo",2,6,{"0":{"i32":-8}}]"#
    );
    // Unknown fields of any type are skipped; whitespace is fine.
    stream
        .write_all(br#"[1,"echo",1,7,{"2":{"map":["str","lst",1,{"a]":["dbl",1,"NaN"]}]}, "1":{"i32":9}}]"#)
        .unwrap();
    assert_eq!(
        read_buffered(&mut stream),
        r#"[1,"echo",2,7,{"0":{"i32":9}}]"#
    );

    let mut stream = connect(&server);
    stream
        .write_all(&framed(r#"[1,"echo",1,1,{"1":{"i32":1}}]"#))
        .unwrap();
    assert_eq!(
        read_framed(&mut stream),
        r#"[1,"echo",2,1,{"0":{"i32":1}}]"#
    );
    server.shutdown(Duration::from_secs(5));
}

#[test]
fn bad_json_fails_its_connection_only() {
    let (server, _) = echo_server();
    // Arguments that do not decode: PROTOCOL_ERROR (type 7) in JSON, then
    // the connection closes.
    let mut bad = connect(&server);
    bad.write_all(br#"[1,"echo",1,3,{"1":{"i32":2147483648}}]"#)
        .unwrap();
    let reply = read_buffered(&mut bad);
    assert!(
        reply.starts_with(r#"[1,"echo",3,3,{"1":{"str":""#)
            && reply.ends_with(r#""2":{"i32":7}}]"#),
        "{reply}"
    );
    assert!(
        reply.contains("2147483648 does not fit in an i32"),
        "{reply}"
    );
    let mut rest = Vec::new();
    assert_eq!(bad.read_to_end(&mut rest).unwrap(), 0, "then closed");
    // Nesting beyond the limit while the message's end is looked for: closed
    // without a reply.
    let mut deep = connect(&server);
    deep.write_all(&b"[".repeat(300)).unwrap();
    let mut rest = Vec::new();
    assert!(
        matches!(deep.read_to_end(&mut rest), Ok(0) | Err(_)),
        "{rest:?}"
    );
    // Others are still served.
    let mut good = connect(&server);
    good.write_all(br#"[1,"echo",1,4,{"1":{"i32":4}}]"#)
        .unwrap();
    assert_eq!(
        read_buffered(&mut good),
        r#"[1,"echo",2,4,{"0":{"i32":4}}]"#
    );
    server.shutdown(Duration::from_secs(5));
}
