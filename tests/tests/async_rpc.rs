//! Async handlers on loopback: the generated async traits of
//! `idl/good/services.thrift` (`Builder::async_handlers`), implemented with
//! `async fn`s that await, served by the server's async mode and called
//! through the generated `OrderServiceAsyncClient`: every dialect the server
//! detects, both protocols, pooled and multiplexed connections.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thriftgen_runtime::{
    ApplicationException, AsyncClientOptions, CallContext, CallError, CallOptions, Dialect,
    ProtocolId, Server,
};
use thriftgen_tests::gen_async::services::{
    Health, Order, OrderNotFound, OrderService, OrderServiceAsyncClient, OrderServiceGetArgs,
    OrderServiceGetError, OrderServiceGetMethod, OrderServicePlaceError, OrderServiceProcessor,
    Unauthorized,
};

/// A shop whose every method awaits before it answers.
#[derive(Default)]
struct Shop {
    orders: Mutex<HashMap<i64, Order>>,
    audits: AtomicUsize,
}

/// Stands for the I/O a real handler awaits.
async fn io() {
    tokio::time::sleep(Duration::from_millis(2)).await;
}

impl Health for Shop {
    async fn ping(&self, _ctx: &CallContext) -> Result<bool, ApplicationException> {
        io().await;
        Ok(true)
    }

    async fn shutdown(&self, _ctx: &CallContext) -> Result<(), ApplicationException> {
        Ok(())
    }
}

impl OrderService for Shop {
    async fn get(&self, ctx: &CallContext, id: i64) -> Result<Order, OrderServiceGetError> {
        io().await;
        ctx.set_reply_header("served-by", "async");
        // A header of the call comes back in the reply.
        if let Some(user) = ctx.headers().get("user") {
            ctx.set_reply_header("hello", user.to_vec());
        }
        let found = self.orders.lock().unwrap().get(&id).cloned();
        found.ok_or_else(|| OrderNotFound { id }.into())
    }

    async fn by_customer(
        &self,
        _ctx: &CallContext,
        customer: String,
        limit: Option<i32>,
    ) -> Result<Vec<Order>, ApplicationException> {
        io().await;
        let orders = self.orders.lock().unwrap();
        let mut found: Vec<Order> = orders
            .values()
            .filter(|o| o.customer == customer)
            .cloned()
            .collect();
        found.sort_by_key(|o| -o.id);
        found.truncate(limit.unwrap_or(50) as usize);
        Ok(found)
    }

    async fn place(&self, _ctx: &CallContext, order: Order) -> Result<i64, OrderServicePlaceError> {
        io().await;
        if order.customer.is_empty() {
            return Err(Unauthorized {
                reason: Some("who are you?".to_string()),
            }
            .into());
        }
        let id = order.id;
        self.orders.lock().unwrap().insert(id, order);
        Ok(id)
    }

    async fn cancel(&self, _ctx: &CallContext, id: i64) -> Result<(), ApplicationException> {
        io().await;
        self.orders.lock().unwrap().remove(&id);
        Ok(())
    }

    async fn audit(
        &self,
        _ctx: &CallContext,
        _event: String,
        _fields: HashMap<String, String>,
    ) -> Result<(), ApplicationException> {
        io().await;
        self.audits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn counts(
        &self,
        _ctx: &CallContext,
    ) -> Result<HashMap<String, i64>, ApplicationException> {
        io().await;
        let orders = self.orders.lock().unwrap().len() as i64;
        Ok(HashMap::from([("orders".to_string(), orders)]))
    }
}

fn order(id: i64, customer: &str) -> Order {
    Order {
        id,
        customer: customer.to_string(),
        items: Some(vec!["tea".to_string()]),
    }
}

/// Every dialect the server detects (TTHeader twice: its payload bare, and
/// framed as Kitex's `TTHeaderFramed` sends it), with both protocols.
fn every_wire() -> Vec<(Dialect, ProtocolId, bool)> {
    let mut wires = Vec::new();
    for (dialect, framed_payload) in [
        (Dialect::Buffered, false),
        (Dialect::Framed, false),
        (Dialect::Header, false),
        (Dialect::TTHeader, false),
        (Dialect::TTHeader, true),
    ] {
        for protocol in [ProtocolId::Binary, ProtocolId::Compact] {
            wires.push((dialect, protocol, framed_payload));
        }
    }
    wires
}

#[test]
fn async_handlers_serve_the_async_client() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shop = Arc::new(Shop::default());
    let processor = OrderServiceProcessor::from_arc(Arc::clone(&shop));
    let server = Server::new_async(processor, runtime.handle().clone())
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr();
    for (dialect, protocol, framed_payload) in every_wire() {
        for (strategy, options) in [
            ("pooled", AsyncClientOptions::pooled(dialect, protocol)),
            (
                "multiplexed",
                AsyncClientOptions::multiplexed(dialect, protocol),
            ),
        ] {
            let wire =
                format!("{dialect:?} {protocol:?} framed_payload={framed_payload} {strategy}");
            let options = AsyncClientOptions {
                framed_payload,
                ..options
            };
            let client = OrderServiceAsyncClient::new(addr, options);
            runtime.block_on(conversation(&shop, &client, dialect, &wire));
        }
    }
    server.shutdown(Duration::from_secs(5));
}

/// One client's calls: every shape of method, typed errors, calls in flight
/// at once, and (for the header dialects) reply headers.
async fn conversation(shop: &Shop, client: &OrderServiceAsyncClient, dialect: Dialect, wire: &str) {
    // Arguments by reference; the future borrows none of them.
    let placing = client.place(&order(1, "ann"));
    assert_eq!(placing.await.unwrap(), 1, "{wire}");
    assert_eq!(client.place(&order(2, "ann")).await.unwrap(), 2, "{wire}");
    assert!(
        matches!(
            client.place(&order(3, "")).await,
            Err(CallError::Service(OrderServicePlaceError::Unauthorized(_)))
        ),
        "{wire}"
    );
    assert_eq!(client.get(1).await.unwrap(), order(1, "ann"), "{wire}");
    match client.get(99).await {
        Err(CallError::Service(OrderServiceGetError::OrderNotFound(e))) => {
            assert_eq!(e.id, 99, "{wire}")
        }
        other => panic!("{wire}: expected OrderNotFound, got {other:?}"),
    }
    let ids: Vec<i64> = client
        .by_customer("ann", Some(1))
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, [2], "{wire}");
    // Inherited from `Health`, through the base's dispatch.
    assert!(client.ping().await.unwrap(), "{wire}");
    // Many calls in flight at once from spawned tasks: each handler awaits,
    // none holds a poller.
    let calls: Vec<_> = (0..16)
        .map(|i| tokio::spawn(client.get(1 + i % 2)))
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().unwrap().id, 1 + i as i64 % 2, "{wire}");
    }
    // Reply headers, through the untyped client underneath: THeader and
    // TTHeader carry them, the other dialects have none to carry.
    let traced = client.with_call_options(CallOptions::new().header("user", "ann"));
    let (found, headers) = traced
        .client()
        .call_with_headers::<OrderServiceGetMethod, _>("get", &OrderServiceGetArgs { id: 1 })
        .await
        .unwrap();
    assert_eq!(found, order(1, "ann"), "{wire}");
    if matches!(dialect, Dialect::Header | Dialect::TTHeader) {
        assert_eq!(headers.get("served-by"), Some(&b"async"[..]), "{wire}");
        assert_eq!(headers.get("hello"), Some(&b"ann"[..]), "{wire}");
    } else {
        assert!(headers.is_empty(), "{wire}: {headers:?}");
    }
    let before = shop.audits.load(Ordering::SeqCst);
    client.audit("placed", &HashMap::new()).await.unwrap();
    // The oneway call is done when the next call's reply is back only if it
    // ran first; wait for it instead.
    for _ in 0..500 {
        if shop.audits.load(Ordering::SeqCst) > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(shop.audits.load(Ordering::SeqCst) > before, "{wire}");
    client.cancel(2).await.unwrap();
    assert_eq!(client.counts().await.unwrap()["orders"], 1, "{wire}");
    client.place(&order(2, "ann")).await.unwrap();
}
