//! The worker pool: threads that run handlers which may block, so pollers
//! keep polling. A poller submits a [`Job`] (one request frame); a worker
//! serves it into a reply buffer of its own and hands the framed reply back
//! to the poller's inbox, which sends replies in request order.

use super::call;
use super::engine::{Done, Finished};
use super::poller::Inbox;
use super::{NewTransport, Permit, ServerOptions};
use crate::protocol::{Limits, Protocols};
use crate::service::Processor;
use crate::transport::{Frame, TransportLimits};
use crate::Splices;
use bytes::BytesMut;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request for a worker.
#[derive(Debug)]
pub(super) struct Job {
    pub inbox: Arc<Inbox>,
    pub slot: usize,
    pub generation: u64,
    pub seq: u64,
    pub peer: SocketAddr,
    pub frame: Frame,
    /// Counts the job against the server's in-flight cap until it is done.
    pub permit: Permit,
}

/// The pollers' side of the pool.
#[derive(Clone, Debug)]
pub(super) struct WorkerPool {
    jobs: Sender<Job>,
}

impl WorkerPool {
    /// Queues a job. (The queue is bounded by the pollers, which stop
    /// reading a connection at its in-flight cap, and every connection at
    /// the server's.)
    pub fn submit(&self, job: Job) {
        if let Err(e) = self.jobs.send(job) {
            // Every worker is gone (they only stop when the pollers do):
            // answer nothing; the connection closes at shutdown.
            tracing::error!("worker pool is gone; request dropped");
            drop(e);
        }
    }
}

/// Starts `n` workers serving with `processor`, framing replies with
/// transports from `new_transport`.
pub(super) fn start<P: Processor, N: NewTransport, X: Protocols>(
    n: usize,
    processor: Arc<P>,
    new_transport: Arc<N>,
    protocols: Arc<X>,
    options: &ServerOptions,
) -> io::Result<(WorkerPool, Vec<JoinHandle<()>>)> {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let queue = Arc::clone(&queue);
        let processor = Arc::clone(&processor);
        let new_transport = Arc::clone(&new_transport);
        let protocols = Arc::clone(&protocols);
        let limits = options.limits;
        let transport_limits = options.transport_limits;
        handles.push(
            std::thread::Builder::new()
                .name(format!("thrift-worker-{i}"))
                .spawn(move || {
                    work(
                        &queue,
                        &*processor,
                        &*new_transport,
                        &*protocols,
                        limits,
                        transport_limits,
                    )
                })?,
        );
    }
    Ok((WorkerPool { jobs }, handles))
}

fn work<P: Processor, N: NewTransport, X: Protocols>(
    queue: &Mutex<Receiver<Job>>,
    processor: &P,
    new_transport: &N,
    protocols: &X,
    limits: Limits,
    transport_limits: TransportLimits,
) {
    let mut out = BytesMut::with_capacity(crate::buffer::BLOCK_SIZE);
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            match queue.recv() {
                Ok(job) => job,
                // Every poller is gone.
                Err(_) => return,
            }
        };
        // A fresh transport frames the reply as the request's frame info
        // says (a detecting one adopts the request's dialect).
        let mut transport = new_transport.new_transport(transport_limits);
        out.clear();
        let mut splices = Splices::new();
        let outcome = call::serve(
            processor,
            protocols,
            &mut transport,
            job.frame,
            Some(job.peer),
            limits,
            &mut out,
            Some(&mut splices),
            &job.permit.0.hint,
        );
        drop(job.permit);
        job.inbox.push_done(Done {
            slot: job.slot,
            generation: job.generation,
            seq: job.seq,
            finished: Finished::Framed {
                reply: out.split().freeze(),
                splices,
                outcome,
            },
        });
    }
}
