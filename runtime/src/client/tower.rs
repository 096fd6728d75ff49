//! The async client as a `tower::Service`: [`AsyncClient::service`] makes a
//! [`ClientService`], whose requests are [`Call`]s.
//!
//! The service is a wrapper rather than `AsyncClient` itself because
//! `poll_ready` reserves room for the next call, and that reservation
//! belongs to one handle, not to every clone of a shared client.

use super::{AsyncClient, CallError, ClientError};
use crate::service::{Args, Reply};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::PollSemaphore;

/// One typed call for a [`ClientService`]: the method's name and its
/// arguments, the reply read as `R` (the generated `<Stem>Method` type of
/// the method, or any [`Reply`]).
///
/// ```
/// # use thriftgen_runtime::client::Call;
/// # struct EchoArgs(i32);
/// # struct EchoMethod;
/// let call: Call<EchoArgs, EchoMethod> = Call::new("echo", EchoArgs(7));
/// assert_eq!(call.method(), "echo");
/// ```
pub struct Call<A, R> {
    method: &'static str,
    args: A,
    reply: PhantomData<fn() -> R>,
}

impl<A, R> Call<A, R> {
    /// A call of `method` with `args`.
    pub fn new(method: &'static str, args: A) -> Call<A, R> {
        Call {
            method,
            args,
            reply: PhantomData,
        }
    }

    /// The method called.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The arguments.
    pub fn args(&self) -> &A {
        &self.args
    }
}

impl<A: Clone, R> Clone for Call<A, R> {
    fn clone(&self) -> Call<A, R> {
        Call::new(self.method, self.args.clone())
    }
}

impl<A: fmt::Debug, R> fmt::Debug for Call<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("args", &self.args)
            .finish()
    }
}

/// An [`AsyncClient`] as a `tower::Service<Call<A, R>>` for any arguments
/// `A` and reply `R`: responds with `R::Ok`, fails with
/// [`CallError<R::Err>`] (declared exceptions included, as
/// [`CallError::Service`]), so tower's timeout, concurrency limit, retry,
/// load-shedding and balancing layers compose with it.
///
/// `poll_ready` is real back-pressure: it reserves one of the calls the
/// client's connections can carry at once (pooled: `max_connections`;
/// multiplexed: `connections × max_in_flight`; a fleet: that per instance),
/// shared by every `ClientService` of the client, and is pending while
/// none is free. A `call` made without readiness still runs (it never
/// panics), unreserved. Clones share the room but not a reservation.
/// The future owns everything (`Send + 'static`); the call is encoded when
/// `call` is made.
pub struct ClientService {
    client: AsyncClient,
    slots: PollSemaphore,
    permit: Option<OwnedSemaphorePermit>,
}

impl ClientService {
    pub(super) fn new(client: AsyncClient) -> ClientService {
        let slots = PollSemaphore::new(client.slots());
        ClientService {
            client,
            slots,
            permit: None,
        }
    }

    /// The client it calls with.
    pub fn client(&self) -> &AsyncClient {
        &self.client
    }
}

impl Clone for ClientService {
    fn clone(&self) -> ClientService {
        ClientService::new(self.client.clone())
    }
}

impl fmt::Debug for ClientService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientService")
            .field("client", &self.client)
            .field("ready", &self.permit.is_some())
            .finish()
    }
}

impl<A, R> tower_service::Service<Call<A, R>> for ClientService
where
    A: Args,
    R: Reply + 'static,
    R::Ok: Send + 'static,
    R::Err: Send + 'static,
{
    type Response = R::Ok;
    type Error = CallError<R::Err>;
    type Future = Pin<Box<dyn Future<Output = Result<R::Ok, CallError<R::Err>>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.permit.is_some() {
            return Poll::Ready(Ok(()));
        }
        // Readiness is the first use of a fleet too.
        self.client.start();
        match self.slots.poll_acquire(cx) {
            Poll::Ready(Some(permit)) => {
                self.permit = Some(permit);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(None) => Poll::Ready(Err(CallError::Client(ClientError::ConnectionLost(
                "the client is closed".to_string(),
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, call: Call<A, R>) -> Self::Future {
        let permit = self.permit.take();
        let future = self.client.call::<R, A>(call.method, &call.args);
        Box::pin(async move {
            let result = future.await;
            drop(permit);
            result
        })
    }
}
