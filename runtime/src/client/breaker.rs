//! A per-instance circuit breaker: the error rate over a sliding window of
//! time buckets opens it (once the window holds enough samples); it stays
//! open for a cooling period, then lets probe calls through one at a time
//! (half-open) and closes after enough of them succeed in a row, or opens
//! again on the first that fails.

use super::fleet::BreakerOptions;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Buckets in the sliding window.
const BUCKETS: usize = 10;

/// Where an instance's circuit breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Calls flow; failures are counted.
    Closed,
    /// Too many recent failures: the instance gets no calls until the
    /// cooling period ends.
    Open,
    /// Cooled down: probe calls go through one at a time, and decide
    /// whether it closes or opens again.
    HalfOpen,
}

/// What [`Breaker::peek`] says of a new call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Admission {
    /// It may go (the breaker is closed).
    Yes,
    /// It may go as the one probe (half-open, or open and cooled down).
    Probe,
    /// It may not.
    No,
}

/// The right to one call through the breaker.
#[derive(Debug)]
pub(super) struct Ticket {
    probe: bool,
}

pub(super) struct Breaker {
    options: BreakerOptions,
    /// The [`BreakerState`] as a byte, read without the lock.
    hint: AtomicU8,
    state: Mutex<State>,
    epoch: Instant,
}

struct State {
    mode: Mode,
    /// (bucket number, successes, failures), by bucket number modulo
    /// [`BUCKETS`].
    buckets: [(u64, u64, u64); BUCKETS],
}

enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool, successes: u32 },
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

impl Breaker {
    pub(super) fn new(options: BreakerOptions) -> Breaker {
        Breaker {
            options,
            hint: AtomicU8::new(CLOSED),
            state: Mutex::new(State {
                mode: Mode::Closed,
                buckets: [(u64::MAX, 0, 0); BUCKETS],
            }),
            epoch: Instant::now(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each change is made whole under the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state now (an open breaker whose cooling ended reads half-open).
    pub(super) fn state(&self, now: Instant) -> BreakerState {
        match self.peek(now) {
            Admission::Yes => BreakerState::Closed,
            Admission::Probe => BreakerState::HalfOpen,
            Admission::No => match self.hint.load(Ordering::Acquire) {
                HALF_OPEN => BreakerState::HalfOpen,
                _ => BreakerState::Open,
            },
        }
    }

    /// Whether a call may go now, without taking the right.
    pub(super) fn peek(&self, now: Instant) -> Admission {
        if !self.options.enabled || self.hint.load(Ordering::Acquire) == CLOSED {
            return Admission::Yes;
        }
        match self.lock().mode {
            Mode::Closed => Admission::Yes,
            Mode::Open { until } if now >= until => Admission::Probe,
            Mode::Open { .. } => Admission::No,
            Mode::HalfOpen { probing: false, .. } => Admission::Probe,
            Mode::HalfOpen { probing: true, .. } => Admission::No,
        }
    }

    /// Takes the right to one call now, if the breaker lets it go.
    pub(super) fn admit(&self, now: Instant) -> Option<Ticket> {
        if !self.options.enabled || self.hint.load(Ordering::Acquire) == CLOSED {
            return Some(Ticket { probe: false });
        }
        let mut state = self.lock();
        match state.mode {
            Mode::Closed => Some(Ticket { probe: false }),
            Mode::Open { until } if now >= until => {
                state.mode = Mode::HalfOpen {
                    probing: true,
                    successes: 0,
                };
                self.hint.store(HALF_OPEN, Ordering::Release);
                Some(Ticket { probe: true })
            }
            Mode::HalfOpen {
                probing: false,
                successes,
            } => {
                state.mode = Mode::HalfOpen {
                    probing: true,
                    successes,
                };
                Some(Ticket { probe: true })
            }
            Mode::Open { .. } | Mode::HalfOpen { probing: true, .. } => None,
        }
    }

    /// A call that was not judged (dropped, or its failure was not the
    /// instance's): a probe's turn passes to the next call.
    pub(super) fn release(&self, ticket: Ticket) {
        if ticket.probe {
            let mut state = self.lock();
            if let Mode::HalfOpen { successes, .. } = state.mode {
                state.mode = Mode::HalfOpen {
                    probing: false,
                    successes,
                };
            }
        }
    }

    /// The outcome of a call admitted with `ticket`.
    pub(super) fn record(&self, ticket: Ticket, ok: bool, now: Instant) {
        if !self.options.enabled {
            return;
        }
        let options = &self.options;
        let mut state = self.lock();
        match state.mode {
            Mode::HalfOpen { successes, .. } if ticket.probe => {
                if !ok {
                    self.open(&mut state, now);
                } else if successes + 1 >= options.half_open_successes.max(1) {
                    state.mode = Mode::Closed;
                    state.buckets = [(u64::MAX, 0, 0); BUCKETS];
                    self.hint.store(CLOSED, Ordering::Release);
                } else {
                    state.mode = Mode::HalfOpen {
                        probing: false,
                        successes: successes + 1,
                    };
                }
            }
            Mode::Closed => {
                let bucket_length = (options.window / BUCKETS as u32).max(Duration::from_millis(1));
                let bucket = (now.saturating_duration_since(self.epoch).as_nanos()
                    / bucket_length.as_nanos()) as u64;
                let slot = &mut state.buckets[bucket as usize % BUCKETS];
                if slot.0 != bucket {
                    *slot = (bucket, 0, 0);
                }
                if ok {
                    slot.1 += 1;
                    return;
                }
                slot.2 += 1;
                let (mut total, mut failed) = (0u64, 0u64);
                for &(number, successes, failures) in &state.buckets {
                    if number <= bucket && bucket - number < BUCKETS as u64 {
                        total += successes + failures;
                        failed += failures;
                    }
                }
                if total >= options.min_samples.max(1)
                    && failed as f64 >= options.error_rate * total as f64
                {
                    self.open(&mut state, now);
                }
            }
            // A late outcome of a call admitted before the state changed.
            Mode::Open { .. } | Mode::HalfOpen { .. } => {}
        }
    }

    fn open(&self, state: &mut State, now: Instant) {
        state.mode = Mode::Open {
            until: now + self.options.cooling,
        };
        self.hint.store(OPEN, Ordering::Release);
    }
}
