//! `(idempotent = "true")` in the IDL: the generated async client marks the
//! calls of exactly the annotated methods (inherited ones included), and a
//! fleet retries those, and only those, after a failure that may have
//! reached a server (`idl/good/idempotent.thrift`).

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thriftgen_runtime::client::{AsyncClient, Balancer, CallError, ClientError, FleetOptions};
use thriftgen_runtime::discover::StaticDiscover;
use thriftgen_runtime::{ApplicationException, AsyncClientOptions, CallContext, Server};
use thriftgen_tests::gen::idempotent::{Ledger, LedgerAsyncClient, LedgerProcessor, Reads};
use thriftgen_tests::workspace_root;

/// The methods of `impl <client>` whose body calls `.idempotent()`, and
/// those whose does not.
fn marked_methods(file: &syn::File, client: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut marked = BTreeSet::new();
    let mut unmarked = BTreeSet::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(ty) = &*imp.self_ty else {
            continue;
        };
        if ty.path.segments.last().is_none_or(|s| s.ident != client) {
            continue;
        }
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            let body = quote_body(&f.block);
            if !body.contains("prepare") && !body.contains("call ::") && !body.contains("send_") {
                continue; // a constructor or accessor
            }
            let name = f.sig.ident.to_string();
            if body.contains(". idempotent ()") {
                marked.insert(name);
            } else {
                unmarked.insert(name);
            }
        }
    }
    (marked, unmarked)
}

fn quote_body(block: &syn::Block) -> String {
    quote::ToTokens::to_token_stream(block).to_string()
}

fn generated() -> syn::File {
    std::env::set_current_dir(workspace_root()).expect("workspace root exists");
    let analysis = thriftgen::analyze(&["idl/good/idempotent.thrift"], &[] as &[&str]);
    assert!(
        analysis.diagnostics.is_empty(),
        "idempotent.thrift checks without a warning: {:?}",
        analysis.diagnostics
    );
    let checked = analysis.into_result().expect("valid");
    let files = thriftgen::codegen::generate(&checked.ir, &checked.sources, &Default::default())
        .expect("generation succeeds");
    let file = files
        .iter()
        .find(|f| f.name == "idempotent.rs")
        .expect("idempotent.rs");
    syn::parse_file(&file.contents).expect("generated code parses")
}

#[test]
fn the_async_client_marks_exactly_the_annotated_methods() {
    let file = generated();
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    // `Ledger` inherits `Reads`' methods, and their marks.
    let (marked, unmarked) = marked_methods(&file, "LedgerAsyncClient");
    assert_eq!(marked, set(&["count", "echo", "get", "version"]));
    assert_eq!(unmarked, set(&["add", "log", "reset"]));
    let (marked, unmarked) = marked_methods(&file, "ReadsAsyncClient");
    assert_eq!(marked, set(&["count", "get", "version"]));
    assert!(unmarked.is_empty(), "{unmarked:?}");
    // The blocking client never retries: nothing to mark.
    let (marked, unmarked) = marked_methods(&file, "LedgerClient");
    assert!(marked.is_empty(), "{marked:?}");
    assert_eq!(unmarked.len(), 7, "{unmarked:?}");
}

/// A ledger that answers everything.
#[derive(Default)]
struct Books {
    calls: AtomicUsize,
}

impl Reads for Books {
    fn get(&self, _ctx: &CallContext, key: String) -> Result<String, ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(key)
    }

    fn count(&self, _ctx: &CallContext) -> Result<i32, ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(1)
    }

    fn version(&self, _ctx: &CallContext) -> Result<i64, ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(2)
    }
}

impl Ledger for Books {
    fn add(&self, _ctx: &CallContext, amount: i64) -> Result<i64, ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(amount)
    }

    fn reset(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn echo(&self, _ctx: &CallContext, text: String) -> Result<String, ApplicationException> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(text)
    }

    fn log(&self, _ctx: &CallContext, _line: String) -> Result<(), ApplicationException> {
        Ok(())
    }
}

/// A listener that reads each request and closes the connection without a
/// reply: the call may have run there. Stops when `stop` is set.
fn black_hole(stop: Arc<AtomicBool>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let swallowed = Arc::new(AtomicUsize::new(0));
    let count = swallowed.clone();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((mut socket, _)) => {
                    let _ = socket.set_nonblocking(false);
                    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buf = [0u8; 256];
                    if socket.read(&mut buf).is_ok_and(|n| n > 0) {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    // Dropped: closed with the call unanswered.
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    (addr, swallowed)
}

/// A call that reached a server and got no answer (not one never sent).
fn lost_call(e: &ClientError) -> bool {
    match e {
        ClientError::ConnectionLost(_) | ClientError::BadReply(_) | ClientError::Io(_) => true,
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn a_fleet_retries_the_annotated_methods_only() {
    let books = Arc::new(Books::default());
    let server = Server::new(LedgerProcessor::new(books.clone()))
        .bind("127.0.0.1:0")
        .expect("bind");
    let stop = Arc::new(AtomicBool::new(false));
    let (hole, swallowed) = black_hole(stop.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let fleet = FleetOptions {
            // Every other call goes to the black hole first.
            balancer: Balancer::RoundRobin,
            ..FleetOptions::default()
        };
        let client = LedgerAsyncClient::from_client(AsyncClient::discover(
            StaticDiscover::new([server.local_addr(), hole]),
            AsyncClientOptions::default(),
            fleet,
        ));
        let limit = Duration::from_secs(30);
        tokio::time::timeout(limit, async {
            // Marked methods: every call is answered, retried on the server
            // when the black hole took it.
            for i in 0..6 {
                assert_eq!(client.get(&format!("k{i}")).await.unwrap(), format!("k{i}"));
                assert_eq!(client.echo("hi").await.unwrap(), "hi");
                assert_eq!(client.count().await.unwrap(), 1);
            }
            let retried = swallowed.load(Ordering::SeqCst);
            assert!(retried > 0, "the black hole took no call");
            // Unmarked methods: a call the black hole took fails.
            let mut lost = 0;
            for i in 0..6 {
                match client.add(i).await {
                    Ok(n) => assert_eq!(n, i),
                    Err(CallError::Client(e)) => lost += usize::from(lost_call(&e)),
                    Err(e) => panic!("unexpected {e}"),
                }
                match client.reset().await {
                    Ok(()) => {}
                    Err(CallError::Client(e)) => lost += usize::from(lost_call(&e)),
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            assert!(lost > 0, "no unmarked call was lost");
            assert_eq!(
                swallowed.load(Ordering::SeqCst) - retried,
                lost,
                "each lost call was sent once, to the black hole"
            );
        })
        .await
        .expect("the calls finished in time");
    });
    stop.store(true, Ordering::SeqCst);
    server.shutdown(Duration::from_secs(5));
    assert!(books.calls.load(Ordering::SeqCst) >= 18);
}
