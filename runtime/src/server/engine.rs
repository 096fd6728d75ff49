//! How a poller runs calls: an [`Engine`] takes each request frame and either
//! serves it on the spot (inline handlers) or hands it off (workers, async
//! tasks) as a [`Pending`] call that waits in its connection's queue, in
//! request order, until its reply comes back through the poller's inbox.

use super::call::{self, Outcome};
use super::poller::Inbox;
use super::tasks::{AsyncCall, Completion};
use super::workers::{Job, WorkerPool};
use super::{Permit, Shared};
use crate::protocol::{Limits, Protocols};
use crate::service::Processor;
use crate::transport::{Frame, Transport};
use crate::Splices;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// Runs the calls of a poller's connections.
pub(super) trait Engine: Send + Sync + 'static {
    /// Calls run off the poller: they are queued, count against the
    /// in-flight caps, and come back as [`Done`].
    const HANDS_OFF: bool;
    /// A peer's close drops its calls that are still running (async tasks
    /// can be dropped; sync handlers cannot be stopped).
    const CANCELS_ON_CLOSE: bool;

    /// Starts the call in `call.frame`.
    fn start<T: Transport, X: Protocols>(&self, call: Start<'_, T, X>) -> Started;
}

/// One request frame to start, and what an engine may need for it.
pub(super) struct Start<'a, T, X> {
    pub protocols: &'a X,
    /// The connection's transport (frames inline replies).
    pub transport: &'a mut T,
    /// The connection's output (inline replies go there).
    pub out: &'a mut BytesMut,
    /// The splices of `out`.
    pub splices: &'a mut Splices,
    pub frame: Frame,
    pub peer: SocketAddr,
    pub limits: Limits,
    /// When the request was read.
    pub now: Instant,
    /// Where a handed-off call's reply goes.
    pub reply_to: ReplyTo<'a>,
    pub shared: &'a Arc<Shared>,
}

/// The address of a handed-off call: the poller, the connection and the
/// call's place in the connection's order.
#[derive(Clone, Copy)]
pub(super) struct ReplyTo<'a> {
    pub inbox: &'a Arc<Inbox>,
    pub slot: usize,
    pub generation: u64,
    pub seq: u64,
}

/// What an engine did with a frame.
pub(super) enum Started {
    /// Served on the poller; its reply, if any, is in the output.
    Served(Outcome),
    /// Handed off (or answered at once but queued behind earlier calls).
    Pending(Pending),
}

/// A finished call, back at its poller.
#[derive(Debug)]
pub(super) struct Done {
    pub slot: usize,
    pub generation: u64,
    pub seq: u64,
    pub finished: Finished,
}

/// What a finished call produced.
#[derive(Debug)]
pub(super) enum Finished {
    /// A worker's reply, framed already (empty for oneway calls), and the
    /// large values spliced into it (offsets of `reply`).
    Framed {
        reply: Bytes,
        splices: Splices,
        outcome: Outcome,
    },
    /// An async call's result, framed by the poller.
    Completed(Completion),
}

/// A call in its connection's queue, until its reply is framed.
#[derive(Debug)]
pub(super) struct Pending {
    done: Option<Finished>,
    /// Async calls: the task and what the reply's frame needs.
    call: Option<Box<AsyncCall>>,
}

impl Pending {
    /// A call on a worker.
    fn worker() -> Pending {
        Pending {
            done: None,
            call: None,
        }
    }

    /// An async call, finished already or running.
    pub fn task(call: AsyncCall, done: Option<Completion>) -> Pending {
        Pending {
            done: done.map(Finished::Completed),
            call: Some(Box::new(call)),
        }
    }

    /// The reply (or its absence) is ready to go.
    pub fn is_done(&self) -> bool {
        self.done.is_some()
    }

    /// Its answer closes the connection (undecodable arguments): nothing
    /// after it is read.
    pub fn closes(&self) -> bool {
        matches!(
            self.done,
            Some(Finished::Completed(Completion::Failed { close: true, .. }))
        )
    }

    /// When the call is given up, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.call.as_ref().and_then(|call| call.deadline())
    }

    /// The call finished: keeps what it produced, unless the call was
    /// settled already (timed out, dropped).
    pub fn finish(&mut self, finished: Finished) {
        if self.done.is_none() {
            if let Some(call) = &mut self.call {
                call.forget_task();
            }
            self.done = Some(finished);
        }
    }

    /// The deadline passed: drops a still-running task and settles the call
    /// with a timeout. False when it had finished.
    pub fn expire(&mut self) -> bool {
        if self.done.is_some() {
            return false;
        }
        match &mut self.call {
            Some(call) => {
                self.done = Some(Finished::Completed(call.time_out()));
                true
            }
            None => false,
        }
    }

    /// The peer went away: drops a still-running two-way async call (no
    /// one is left to take its reply). Oneway calls and worker calls go on.
    pub fn cancel(&mut self) {
        if self.done.is_none() {
            if let Some(call) = &mut self.call {
                if let Some(dropped) = call.cancel() {
                    self.done = Some(Finished::Completed(dropped));
                }
            }
        }
    }

    /// Appends the framed reply (if any) to `out` (and what it splices to
    /// `out`'s `splices`); `closing`: the server is shutting down (an async
    /// reply carries the TTHeader drain hint; a worker's is framed already).
    pub fn emit<T: Transport>(
        self,
        transport: &mut T,
        out: &mut BytesMut,
        splices: &mut Splices,
        closing: bool,
    ) -> Outcome {
        match (self.done, self.call) {
            (
                Some(Finished::Framed {
                    reply,
                    splices: spliced,
                    outcome,
                }),
                _,
            ) => {
                splices.append(spliced, out.len());
                out.extend_from_slice(&reply);
                outcome
            }
            (Some(Finished::Completed(completion)), Some(call)) => {
                call.emit(completion, transport, out, closing)
            }
            // Not reached: a worker's call finishes framed, an async one
            // completed, and only done calls are emitted.
            _ => Outcome::UNFRAMEABLE,
        }
    }
}

/// Sync handlers on the poller.
#[derive(Debug)]
pub(super) struct Inline<P>(pub Arc<P>);

impl<P: Processor> Engine for Inline<P> {
    const HANDS_OFF: bool = false;
    const CANCELS_ON_CLOSE: bool = false;

    fn start<T: Transport, X: Protocols>(&self, call: Start<'_, T, X>) -> Started {
        Started::Served(call::serve(
            &*self.0,
            call.protocols,
            call.transport,
            call.frame,
            Some(call.peer),
            call.limits,
            call.out,
            Some(call.splices),
            &call.shared.hint,
        ))
    }
}

/// Sync handlers on the worker pool.
impl Engine for WorkerPool {
    const HANDS_OFF: bool = true;
    const CANCELS_ON_CLOSE: bool = false;

    fn start<T: Transport, X: Protocols>(&self, call: Start<'_, T, X>) -> Started {
        self.submit(Job {
            inbox: Arc::clone(call.reply_to.inbox),
            slot: call.reply_to.slot,
            generation: call.reply_to.generation,
            seq: call.reply_to.seq,
            peer: call.peer,
            frame: call.frame,
            permit: Permit::new(call.shared),
        });
        Started::Pending(Pending::worker())
    }
}
