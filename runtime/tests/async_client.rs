//! The shared async client on loopback, on a multi-thread tokio runtime:
//! every dialect and protocol on both strategies against the runtime's
//! server, then misbehaving hand-written servers (reordering, silence, bad
//! sequence ids, malformed replies), the pool's cap and wait timeout, and
//! cancellation leaving nothing behind.

mod support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::{echo_server, rogue, Action, EchoArgs, EchoReply};
use thriftgen_runtime::client::{
    AsyncClient, AsyncClientOptions, CallError, CallOptions, ClientError, MultiplexOptions,
    PoolOptions, Strategy,
};
use thriftgen_runtime::server::Server;
use thriftgen_runtime::service::Multiplexed;
use thriftgen_runtime::transport::{Dialect, ProtocolId};

/// Every test's bound: a hang fails the test instead of stalling the run.
const LIMIT: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `test` on a fresh multi-thread runtime, bounded by [`LIMIT`].
fn run<F: Future<Output = ()>>(test: F) {
    runtime().block_on(async {
        tokio::time::timeout(LIMIT, test)
            .await
            .expect("the test finished in time")
    });
}

fn pooled(max_connections: usize) -> AsyncClientOptions {
    AsyncClientOptions {
        strategy: Strategy::Pooled(PoolOptions {
            max_connections,
            max_idle: max_connections,
            ..PoolOptions::default()
        }),
        ..AsyncClientOptions::default()
    }
}

fn multiplexed(connections: usize) -> AsyncClientOptions {
    AsyncClientOptions {
        strategy: Strategy::Multiplexed(MultiplexOptions {
            connections,
            ..MultiplexOptions::default()
        }),
        ..AsyncClientOptions::default()
    }
}

async fn echo(
    client: &AsyncClient,
    x: i32,
) -> Result<i32, CallError<thriftgen_runtime::protocol::ApplicationException>> {
    client.call::<EchoReply, _>("echo", &EchoArgs(x)).await
}

fn client_error<T: std::fmt::Debug, E: std::fmt::Debug>(
    result: Result<T, CallError<E>>,
) -> ClientError {
    match result {
        Err(CallError::Client(e)) => e,
        other => panic!("expected a client error, got {other:?}"),
    }
}

/// Waits (bounded) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: still not so after 5 s");
}

#[test]
fn every_dialect_and_protocol_on_both_strategies() {
    let (server, service) = echo_server();
    let addr = server.local_addr();
    run(async move {
        let dialects = [
            (Dialect::Buffered, false),
            (Dialect::Framed, false),
            (Dialect::Header, false),
            (Dialect::TTHeader, false),
            (Dialect::TTHeader, true),
        ];
        for strategy in [pooled(4), multiplexed(2)] {
            for (dialect, framed_payload) in dialects {
                for protocol in [ProtocolId::Binary, ProtocolId::Compact, ProtocolId::Json] {
                    let what = format!(
                        "{:?} {dialect:?} {protocol:?} framed {framed_payload}",
                        strategy.strategy
                    );
                    let options = AsyncClientOptions {
                        dialect,
                        protocol,
                        framed_payload,
                        ..strategy.clone()
                    };
                    let client = AsyncClient::new(addr, options);
                    let calls: Vec<_> = (0..50)
                        .map(|x| tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(x))))
                        .collect();
                    for (x, call) in calls.into_iter().enumerate() {
                        assert_eq!(call.await.unwrap().unwrap(), x as i32, "{what}");
                    }
                    // Per-call headers go out, reply headers come back.
                    let traced = client.with_call_options(CallOptions::new().header("k", "v"));
                    let (value, headers) = traced
                        .call_with_headers::<EchoReply, _>("echo", &EchoArgs(7))
                        .await
                        .unwrap();
                    assert_eq!(value, 7, "{what}");
                    if matches!(dialect, Dialect::Header | Dialect::TTHeader) {
                        assert_eq!(headers.get_str("k"), Some("v!"), "{what}");
                    } else {
                        assert!(headers.is_empty(), "{what}");
                    }
                    // The original clone sends none.
                    let (_, headers) = client
                        .call_with_headers::<EchoReply, _>("echo", &EchoArgs(8))
                        .await
                        .unwrap();
                    assert_eq!(headers.get_str("k"), None, "{what}");
                    // Oneway, then the connection still answers.
                    let notes = service.notes.load(Ordering::SeqCst);
                    client.send_oneway("note", &EchoArgs(1)).await.unwrap();
                    assert_eq!(echo(&client, 9).await.unwrap(), 9, "{what}");
                    eventually("the note arrived", || {
                        service.notes.load(Ordering::SeqCst) > notes
                    })
                    .await;
                }
            }
        }
    });
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn service_names_reach_a_multiplexed_server() {
    let service = std::sync::Arc::new(support::EchoService::default());
    let server = Server::new(Multiplexed::new("Echo", service))
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    run(async move {
        for strategy in [pooled(2), multiplexed(1)] {
            let client = AsyncClient::new(
                addr,
                AsyncClientOptions {
                    service_name: Some("Echo".to_string()),
                    ..strategy
                },
            );
            assert_eq!(echo(&client, 3).await.unwrap(), 3);
            // Without the prefix the server knows no such method.
            let bare = AsyncClient::new(addr, AsyncClientOptions::default());
            assert!(matches!(echo(&bare, 3).await, Err(CallError::Service(_))));
        }
    });
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn the_pool_never_exceeds_its_cap_and_reuses_its_connections() {
    run(async {
        let server = rogue(1, |_| Action::Delay(Duration::from_millis(2))).await;
        let client = AsyncClient::new(server.addr, pooled(4));
        for round in 0..2 {
            let tasks: Vec<_> = (0..200)
                .map(|task| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        for i in 0..5 {
                            let x = task * 10 + i;
                            assert_eq!(echo(&client, x).await.unwrap(), x);
                        }
                        let stats = client.stats();
                        assert!(stats.open <= 4, "{stats:?}");
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let accepted = server.accepted.load(Ordering::SeqCst);
            assert!(accepted <= 4, "round {round}: {accepted} connections");
        }
        // Steady load: the second round dialed nothing new.
        let stats = client.stats();
        assert!(stats.connects <= 4, "{stats:?}");
        assert_eq!(stats.in_flight, 0, "{stats:?}");
        assert!(stats.idle >= 1 && stats.idle <= 4, "{stats:?}");
    });
}

#[test]
fn waiting_too_long_for_a_pooled_connection_is_its_own_error() {
    run(async {
        let server = rogue(1, |_| Action::Delay(Duration::from_millis(300))).await;
        let options = AsyncClientOptions {
            strategy: Strategy::Pooled(PoolOptions {
                max_connections: 1,
                wait_timeout: Duration::from_millis(50),
                ..PoolOptions::default()
            }),
            ..AsyncClientOptions::default()
        };
        let client = AsyncClient::new(server.addr, options);
        let first = tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(1)));
        eventually("the first call holds the connection", || {
            client.stats().in_flight == 1
        })
        .await;
        let e = client_error(echo(&client, 2).await);
        assert!(matches!(e, ClientError::NoConnection(_)), "{e}");
        assert!(e.to_string().contains("no free connection"), "{e}");
        assert_eq!(first.await.unwrap().unwrap(), 1);
        assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_pooled_connection_whose_call_was_abandoned_is_not_reused() {
    run(async {
        // x = 1 is slow; the others are answered at once.
        let server = rogue(1, |x| match x {
            1 => Action::Delay(Duration::from_millis(300)),
            _ => Action::Answer,
        })
        .await;
        let client = AsyncClient::new(server.addr, pooled(1));
        // Timed out...
        let hurried =
            client.with_call_options(CallOptions::new().timeout(Duration::from_millis(50)));
        let e = client_error(echo(&hurried, 1).await);
        assert!(matches!(e, ClientError::Timeout(_)), "{e}");
        // ...and dropped mid-flight.
        let dropped = tokio::time::timeout(Duration::from_millis(50), echo(&client, 1)).await;
        assert!(dropped.is_err());
        // Each answer goes to its own call: a new connection each time.
        for x in 2..6 {
            assert_eq!(echo(&client, x).await.unwrap(), x);
        }
        assert_eq!(client.stats().connects, 3);
        assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
    });
}

/// 10,000 calls dropped at every stage (before a connection, queued,
/// sent, answered) leave no pending entry, waiter or permit behind.
fn cancelled_calls_leave_no_state(options: AsyncClientOptions) {
    let (server, _service) = echo_server();
    let addr = server.local_addr();
    run(async move {
        let client = AsyncClient::new(addr, options);
        for batch in 0..20 {
            let calls: Vec<_> = (0..500)
                .map(|i| {
                    let call = client.call::<EchoReply, _>("echo", &EchoArgs(i));
                    tokio::spawn(async move {
                        let wait = Duration::from_micros(((i * 37 + batch) % 400) as u64);
                        let _ = tokio::time::timeout(wait, call).await;
                    })
                })
                .collect();
            for (i, call) in calls.into_iter().enumerate() {
                if i % 3 == 0 {
                    call.abort();
                }
                let _ = call.await;
            }
        }
        eventually("no call is pending", || {
            let stats = client.stats();
            stats.in_flight == 0 && stats.abandoned == 0
        })
        .await;
        // And the client still works, on a bounded number of connections.
        assert_eq!(echo(&client, 42).await.unwrap(), 42);
        let stats = client.stats();
        assert_eq!((stats.in_flight, stats.abandoned), (0, 0), "{stats:?}");
    });
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn cancelled_multiplexed_calls_leave_no_state() {
    cancelled_calls_leave_no_state(multiplexed(2));
}

#[test]
fn cancelled_pooled_calls_leave_no_state() {
    cancelled_calls_leave_no_state(pooled(16));
}

/// Many tasks share one connection; each gets its own answer.
async fn each_call_gets_its_answer(addr: SocketAddr, client: &AsyncClient) {
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let x = task * 100 + i;
                    assert_eq!(echo(&client, x).await.unwrap(), x, "{addr}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn multiplexed_calls_against_an_in_order_server() {
    run(async {
        let server = rogue(1, |_| Action::Answer).await;
        let client = AsyncClient::new(server.addr, multiplexed(1));
        each_call_gets_its_answer(server.addr, &client).await;
        assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
        assert_eq!(client.stats().in_flight, 0);
    });
}

#[test]
fn multiplexed_calls_against_a_server_that_answers_out_of_order() {
    run(async {
        // Replies held and sent back to front, four at a time; and every
        // seventh call delayed past its neighbours.
        let server = rogue(4, |x| {
            if x % 7 == 0 {
                Action::Delay(Duration::from_millis(5))
            } else {
                Action::Answer
            }
        })
        .await;
        let client = AsyncClient::new(server.addr, multiplexed(1));
        // Batches of four only complete with four calls in flight: 64 tasks.
        each_call_gets_its_answer(server.addr, &client).await;
        assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    });
}

/// Calls 100..105 are held in flight; then a call with `poison` breaks the
/// connection: every call on it fails, and the next call reconnects.
async fn a_bad_reply_fails_the_calls_then_reconnects(behave: fn(i32) -> Action, expect: &str) {
    let server = rogue(1, behave).await;
    let client = AsyncClient::new(server.addr, multiplexed(1));
    assert_eq!(echo(&client, 1).await.unwrap(), 1);
    let held: Vec<_> = (100..105)
        .map(|x| tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(x))))
        .collect();
    eventually("the held calls are in flight", || {
        client.stats().in_flight == 5
    })
    .await;
    let e = client_error(echo(&client, 13).await);
    assert!(e.to_string().contains(expect), "{e}");
    for call in held {
        let e = client_error(call.await.unwrap());
        assert!(matches!(e, ClientError::ConnectionLost(_)), "{e}");
        assert!(e.to_string().contains(expect), "{e}");
    }
    assert_eq!(client.stats().in_flight, 0);
    // The next call dials again.
    assert_eq!(echo(&client, 2).await.unwrap(), 2);
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}

fn held_or(poison: Action) -> fn(i32) -> Action {
    match poison {
        Action::BadSeqid => |x| match x {
            13 => Action::BadSeqid,
            100..=199 => Action::Hold,
            _ => Action::Answer,
        },
        Action::MalformedHeader => |x| match x {
            13 => Action::MalformedHeader,
            100..=199 => Action::Hold,
            _ => Action::Answer,
        },
        Action::MalformedBody => |x| match x {
            13 => Action::MalformedBody,
            100..=199 => Action::Hold,
            _ => Action::Answer,
        },
        Action::WrongMethod => |x| match x {
            13 => Action::WrongMethod,
            100..=199 => Action::Hold,
            _ => Action::Answer,
        },
        _ => |x| match x {
            13 => Action::Close,
            100..=199 => Action::Hold,
            _ => Action::Answer,
        },
    }
}

#[test]
fn an_unknown_sequence_id_fails_the_connection_then_reconnects() {
    run(a_bad_reply_fails_the_calls_then_reconnects(
        held_or(Action::BadSeqid),
        "unknown sequence id",
    ));
}

#[test]
fn a_malformed_reply_header_fails_the_connection_then_reconnects() {
    run(a_bad_reply_fails_the_calls_then_reconnects(
        held_or(Action::MalformedHeader),
        "malformed reply",
    ));
}

#[test]
fn a_malformed_reply_body_fails_the_connection_then_reconnects() {
    run(async {
        let server = rogue(1, held_or(Action::MalformedBody)).await;
        let client = AsyncClient::new(server.addr, multiplexed(1));
        let held: Vec<_> = (100..103)
            .map(|x| tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(x))))
            .collect();
        eventually("the held calls are in flight", || {
            client.stats().in_flight == 3
        })
        .await;
        // The call itself sees the decode error; the others lose the connection.
        let e = client_error(echo(&client, 13).await);
        assert!(matches!(e, ClientError::Protocol(_)), "{e}");
        for call in held {
            let e = client_error(call.await.unwrap());
            assert!(e.to_string().contains("malformed reply"), "{e}");
        }
        assert_eq!(echo(&client, 2).await.unwrap(), 2);
        assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn a_reply_for_another_method_fails_the_connection_then_reconnects() {
    run(a_bad_reply_fails_the_calls_then_reconnects(
        held_or(Action::WrongMethod),
        "not `echo`",
    ));
}

#[test]
fn a_server_closing_fails_the_calls_then_reconnects() {
    run(a_bad_reply_fails_the_calls_then_reconnects(
        held_or(Action::Close),
        "closed the connection",
    ));
}

#[test]
fn pooled_calls_refuse_bad_replies_and_go_on() {
    run(async {
        for poison in [
            Action::BadSeqid,
            Action::MalformedHeader,
            Action::MalformedBody,
            Action::WrongMethod,
            Action::Close,
        ] {
            let server = rogue(1, held_or(poison)).await;
            let client = AsyncClient::new(server.addr, pooled(2));
            assert_eq!(echo(&client, 1).await.unwrap(), 1);
            let e = client_error(echo(&client, 13).await);
            assert!(!matches!(e, ClientError::Timeout(_)), "{poison:?}: {e}");
            assert_eq!(echo(&client, 2).await.unwrap(), 2, "{poison:?}");
            assert_eq!(server.accepted.load(Ordering::SeqCst), 2, "{poison:?}");
        }
    });
}

#[test]
fn a_silent_server_costs_each_call_its_timeout() {
    run(async {
        let server = rogue(1, |_| Action::Hold).await;
        for strategy in [pooled(64), multiplexed(1)] {
            let options = AsyncClientOptions {
                call_timeout: Some(Duration::from_millis(100)),
                ..strategy
            };
            let client = AsyncClient::new(server.addr, options);
            let calls: Vec<_> = (0..50)
                .map(|x| tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(x))))
                .collect();
            for call in calls {
                let e = client_error(call.await.unwrap());
                assert!(
                    matches!(e, ClientError::Timeout(t) if t == Duration::from_millis(100)),
                    "{e}"
                );
            }
            let stats = client.stats();
            assert_eq!(stats.in_flight, 0, "{stats:?}");
        }
    });
}

#[test]
fn a_multiplexed_connection_full_of_abandoned_calls_is_replaced() {
    run(async {
        let server = rogue(1, |x| {
            if x < 100 {
                Action::Hold
            } else {
                Action::Answer
            }
        })
        .await;
        let options = AsyncClientOptions {
            call_timeout: Some(Duration::from_millis(20)),
            strategy: Strategy::Multiplexed(MultiplexOptions {
                connections: 1,
                max_in_flight: 4,
                ..MultiplexOptions::default()
            }),
            ..AsyncClientOptions::default()
        };
        let client = AsyncClient::new(server.addr, options);
        for x in 0..5 {
            let e = client_error(echo(&client, x).await);
            assert!(matches!(e, ClientError::Timeout(_)), "{e}");
        }
        // Five abandoned on a connection of four: the next call dials anew.
        assert_eq!(echo(&client, 100).await.unwrap(), 100);
        assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
        let stats = client.stats();
        assert_eq!((stats.in_flight, stats.abandoned), (0, 0), "{stats:?}");
    });
}

#[test]
fn a_full_multiplexed_connection_makes_calls_wait_then_fail() {
    run(async {
        let server = rogue(1, |x| {
            if x < 100 {
                Action::Hold
            } else {
                Action::Answer
            }
        })
        .await;
        let options = AsyncClientOptions {
            strategy: Strategy::Multiplexed(MultiplexOptions {
                connections: 1,
                max_in_flight: 2,
                wait_timeout: Duration::from_millis(50),
            }),
            ..AsyncClientOptions::default()
        };
        let client = AsyncClient::new(server.addr, options);
        let held: Vec<_> = (0..2)
            .map(|x| tokio::spawn(client.call::<EchoReply, _>("echo", &EchoArgs(x))))
            .collect();
        eventually("two calls in flight", || client.stats().in_flight == 2).await;
        let e = client_error(echo(&client, 100).await);
        assert!(matches!(e, ClientError::NoConnection(_)), "{e}");
        for call in held {
            call.abort();
        }
    });
}

#[test]
fn no_server_is_an_error_not_a_hang() {
    // A port that was just free: nothing listens there now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run(async move {
        for strategy in [pooled(2), multiplexed(2)] {
            let client = AsyncClient::new(addr, strategy);
            for _ in 0..3 {
                let e = client_error(echo(&client, 1).await);
                assert!(matches!(e, ClientError::Io(_)), "{e}");
            }
            assert_eq!(client.stats().open, 0);
        }
    });
}

#[test]
fn a_client_is_shared_and_its_futures_are_spawnable() {
    fn shared<T: Clone + Send + Sync + 'static>(_: &T) {}
    fn spawnable<F: Future + Send + 'static>(_: &F) {}
    let client = AsyncClient::new(
        "127.0.0.1:9".parse().unwrap(),
        AsyncClientOptions::default(),
    );
    shared(&client);
    let call = client.call::<EchoReply, _>("echo", &EchoArgs(1));
    spawnable(&call);
    let oneway = client.send_oneway("note", &EchoArgs(1));
    spawnable(&oneway);
    // Never polled: no runtime needed, nothing dialed.
    drop((call, oneway));
    assert_eq!(client.stats().connects, 0);
}
