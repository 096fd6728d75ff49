//! The balancers' state over one instance set, rebuilt whenever the set
//! changes: a round-robin cursor, the smooth weighted round robin's current
//! weights, the consistent-hash ring, or nothing (power of two choices
//! reads the instances' load).

use super::fleet::{Balancer, Member};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// A stable 64-bit hash of `bytes` (FNV-1a, then a 64-bit finalizer for
/// spread): the same everywhere, so every client process places a key on
/// the same instance.
pub(super) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    mix(hash)
}

/// The splitmix64 finalizer.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub(super) enum BalanceState {
    RoundRobin(AtomicUsize),
    /// Each instance's current weight (nginx's smooth weighted round robin).
    Weighted(Mutex<Vec<i64>>),
    /// Points on the ring (hash, member index), sorted; round robin for
    /// calls without a key.
    Hash {
        ring: Vec<(u64, usize)>,
        next: AtomicUsize,
    },
    PowerOfTwo,
}

impl BalanceState {
    /// The state for `members`, which have `weights`.
    pub(super) fn new(
        balancer: Balancer,
        members: &[Arc<Member>],
        weights: &[u32],
        virtual_nodes: usize,
    ) -> BalanceState {
        match balancer {
            Balancer::RoundRobin => BalanceState::RoundRobin(AtomicUsize::new(fastrand::usize(..))),
            Balancer::WeightedRoundRobin => {
                BalanceState::Weighted(Mutex::new(vec![0; members.len()]))
            }
            Balancer::ConsistentHash => {
                let mut ring = Vec::new();
                for (index, (member, &weight)) in members.iter().zip(weights).enumerate() {
                    if weight == 0 {
                        continue;
                    }
                    // Weighted: a default-weight instance gets `virtual_nodes`.
                    let points = (virtual_nodes.max(1) as u64 * u64::from(weight)
                        / u64::from(crate::discover::DEFAULT_WEIGHT))
                    .clamp(1, 10_000);
                    let name = member.addr.to_string();
                    for point in 0..points {
                        let key = format!("{name}#{point}");
                        ring.push((hash_bytes(key.as_bytes()), index));
                    }
                }
                ring.sort_unstable();
                BalanceState::Hash {
                    ring,
                    next: AtomicUsize::new(fastrand::usize(..)),
                }
            }
            Balancer::PowerOfTwoChoices => BalanceState::PowerOfTwo,
        }
    }

    /// The index of the member to call among those `eligible` allows.
    pub(super) fn pick(
        &self,
        members: &[Arc<Member>],
        weights: &[u32],
        key: Option<u64>,
        now: Instant,
        eligible: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = members.len();
        if n == 0 {
            return None;
        }
        match self {
            BalanceState::RoundRobin(next) => round_robin(next, n, &eligible),
            BalanceState::Weighted(current) => {
                let mut current = current.lock().unwrap_or_else(PoisonError::into_inner);
                let mut total = 0i64;
                let mut best: Option<usize> = None;
                for index in (0..n).filter(|&index| eligible(index)) {
                    let weight = i64::from(weights[index]);
                    current[index] += weight;
                    total += weight;
                    if best.is_none_or(|best| current[index] > current[best]) {
                        best = Some(index);
                    }
                }
                let best = best?;
                current[best] -= total;
                Some(best)
            }
            BalanceState::Hash { ring, next } => {
                let Some(key) = key else {
                    return round_robin(next, n, &eligible);
                };
                if ring.is_empty() {
                    return None;
                }
                let start = ring.partition_point(|&(point, _)| point < key);
                (0..ring.len())
                    .map(|step| ring[(start + step) % ring.len()].1)
                    .find(|&index| eligible(index))
            }
            BalanceState::PowerOfTwo => {
                let candidates: Vec<usize> = (0..n).filter(|&index| eligible(index)).collect();
                match candidates.len() {
                    0 => None,
                    1 => Some(candidates[0]),
                    len => {
                        let a = fastrand::usize(..len);
                        let mut b = fastrand::usize(..len - 1);
                        if b >= a {
                            b += 1;
                        }
                        let (a, b) = (candidates[a], candidates[b]);
                        if members[b].cost(now) < members[a].cost(now) {
                            Some(b)
                        } else {
                            Some(a)
                        }
                    }
                }
            }
        }
    }
}

fn round_robin(next: &AtomicUsize, n: usize, eligible: &impl Fn(usize) -> bool) -> Option<usize> {
    let start = next.fetch_add(1, Ordering::Relaxed);
    (0..n)
        .map(|step| start.wrapping_add(step) % n)
        .find(|&index| eligible(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_stable() {
        assert_eq!(hash_bytes(b"user-42"), hash_bytes(b"user-42"));
        assert_ne!(hash_bytes(b"user-42"), hash_bytes(b"user-43"));
    }
}
