//! Async handlers on loopback: the generated async traits of
//! `idl/good/services.thrift` (`Builder::async_handlers`), implemented with
//! `async fn`s that await, served by the server's async mode and called
//! through the generated `OrderServiceAsyncClient`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thriftgen_runtime::{
    ApplicationException, AsyncClientOptions, CallContext, CallError, Dialect, ProtocolId, Server,
};
use thriftgen_tests::gen_async::services::{
    Health, Order, OrderNotFound, OrderService, OrderServiceAsyncClient, OrderServiceGetError,
    OrderServicePlaceError, OrderServiceProcessor, Unauthorized,
};

/// A shop whose every method awaits before it answers.
#[derive(Default)]
struct Shop {
    orders: Mutex<HashMap<i64, Order>>,
    audits: AtomicUsize,
}

/// Stands for the I/O a real handler awaits.
async fn io() {
    tokio::time::sleep(Duration::from_millis(5)).await;
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
    for (dialect, protocol) in [
        (Dialect::Framed, ProtocolId::Binary),
        (Dialect::Header, ProtocolId::Compact),
    ] {
        runtime.block_on(async {
            let client =
                OrderServiceAsyncClient::new(addr, AsyncClientOptions::pooled(dialect, protocol));
            // Arguments by reference; the future borrows none of them.
            let placing = client.place(&order(1, "ann"));
            assert_eq!(placing.await.unwrap(), 1);
            assert_eq!(client.place(&order(2, "ann")).await.unwrap(), 2);
            assert!(matches!(
                client.place(&order(3, "")).await,
                Err(CallError::Service(OrderServicePlaceError::Unauthorized(_)))
            ));
            assert_eq!(client.get(1).await.unwrap(), order(1, "ann"));
            match client.get(99).await {
                Err(CallError::Service(OrderServiceGetError::OrderNotFound(e))) => {
                    assert_eq!(e.id, 99)
                }
                other => panic!("expected OrderNotFound, got {other:?}"),
            }
            let ids: Vec<i64> = client
                .by_customer("ann", Some(1))
                .await
                .unwrap()
                .iter()
                .map(|o| o.id)
                .collect();
            assert_eq!(ids, [2]);
            // Inherited from `Health`, through the base's dispatch.
            assert!(client.ping().await.unwrap());
            // Many calls in flight at once from spawned tasks: each handler
            // awaits, none holds a poller.
            let calls: Vec<_> = (0..16)
                .map(|i| tokio::spawn(client.get(1 + i % 2)))
                .collect();
            for (i, call) in calls.into_iter().enumerate() {
                assert_eq!(call.await.unwrap().unwrap().id, 1 + i as i64 % 2);
            }
            let before = shop.audits.load(Ordering::SeqCst);
            client.audit("placed", &HashMap::new()).await.unwrap();
            // The oneway call is done when the next call's reply is back
            // only if it ran first; wait for it instead.
            for _ in 0..200 {
                if shop.audits.load(Ordering::SeqCst) > before {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert!(shop.audits.load(Ordering::SeqCst) > before);
            client.cancel(2).await.unwrap();
            assert_eq!(client.counts().await.unwrap()["orders"], 1);
            client.place(&order(2, "ann")).await.unwrap();
        });
    }
    server.shutdown(Duration::from_secs(5));
}
