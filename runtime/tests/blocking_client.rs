//! The blocking client dials again after a broken connection (a server
//! restart, a killed connection), and never retries the call that failed.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{echo_server_at, rogue, Action, EchoArgs, EchoReply};
use thriftgen_runtime::client::{CallError, Client, ClientError, ClientOptions};
use thriftgen_runtime::protocol::ApplicationException;

fn echo(client: &mut Client, x: i32) -> Result<i32, CallError<ApplicationException>> {
    client.call::<EchoReply, _>("echo", &EchoArgs(x))
}

fn options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Some(Duration::from_secs(2)),
        read_timeout: Some(Duration::from_secs(5)),
        write_timeout: Some(Duration::from_secs(5)),
        ..ClientOptions::default()
    }
}

/// A rogue server on a runtime of its own (the client under test blocks).
fn rogue_server(behave: fn(i32) -> Action) -> (tokio::runtime::Runtime, support::Rogue) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(rogue(1, behave));
    (runtime, server)
}

#[test]
fn the_client_dials_again_after_the_server_restarts() {
    let (server, _) = echo_server_at("127.0.0.1:0");
    let addr = server.local_addr();
    let mut client = Client::connect(addr, options()).unwrap();
    assert_eq!(echo(&mut client, 1).unwrap(), 1);

    // Restarted between two calls: the closed idle connection is noticed
    // before anything is sent, so no call fails.
    server.shutdown(Duration::from_secs(1));
    let (server, _) = echo_server_at(&addr.to_string());
    assert_eq!(echo(&mut client, 2).unwrap(), 2);

    // Down during a call: that call fails, and so do calls while it is down...
    server.shutdown(Duration::from_secs(1));
    for x in 3..5 {
        match echo(&mut client, x) {
            Err(CallError::Client(ClientError::Io(_) | ClientError::BadReply(_))) => {}
            other => panic!("expected a connection error, got {other:?}"),
        }
        assert!(client.is_broken());
    }
    // ...and once it is back, the next call dials it.
    let (server, _) = echo_server_at(&addr.to_string());
    assert_eq!(echo(&mut client, 5).unwrap(), 5);
    assert!(!client.is_broken());
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn a_killed_connection_is_dialed_again_and_its_call_not_retried() {
    // The server kills the connection on x = 13, without answering.
    let (_runtime, server) = rogue_server(|x| match x {
        13 => Action::Close,
        _ => Action::Answer,
    });
    let mut client = Client::connect(server.addr, options()).unwrap();
    assert_eq!(echo(&mut client, 1).unwrap(), 1);
    let e = echo(&mut client, 13).unwrap_err();
    assert!(
        matches!(e, CallError::Client(ClientError::BadReply(ref why)) if why.contains("closed")),
        "{e}"
    );
    // The failed call reached the server once and was not sent again.
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);
    assert_eq!(echo(&mut client, 2).unwrap(), 2);
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    // Dialing again on demand.
    client.reconnect().unwrap();
    assert_eq!(echo(&mut client, 3).unwrap(), 3);
    assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn a_client_made_from_a_stream_cannot_dial_again() {
    let (_runtime, server) = rogue_server(|x| match x {
        13 => Action::Close,
        _ => Action::Answer,
    });
    let stream = std::net::TcpStream::connect(server.addr).unwrap();
    let mut client = Client::from_stream(stream, options()).unwrap();
    assert_eq!(echo(&mut client, 1).unwrap(), 1);
    assert!(echo(&mut client, 13).is_err());
    let e = echo(&mut client, 2).unwrap_err();
    assert!(matches!(e, CallError::Client(ClientError::Broken)), "{e}");
    assert!(matches!(client.reconnect(), Err(ClientError::Broken)));
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
}
