//! A rate limit per key (a principal, a client's address), shared by every connection
//! and service of a process.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use governor::clock::Clock as _;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use helpdesk_domain::Actor;

/// A token bucket per key (by default a principal): `rate` per second, bursts of up to
/// twice that (governor's keyed GCRA limiter, which is that bucket kept as one timestamp
/// a key).
#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq + Clone = Actor> {
    /// None: no limit.
    limiter: Option<governor::RateLimiter<K, DefaultKeyedStateStore<K>, LimiterClock>>,
    /// Milliseconds from `started` to the last sweep of idle keys.
    started: Instant,
    last_sweep: AtomicU64,
}

/// Keys kept before the idle ones (as good as a full bucket) are forgotten.
const KEYS_KEPT: usize = 100_000;

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `rate` requests per second per key; 0 lets everything through.
    pub fn new(rate: u32) -> Self {
        let limiter = NonZeroU32::new(rate).map(|per_second| {
            let burst = per_second.saturating_mul(NonZeroU32::new(2).expect("2 is not 0"));
            let quota = Quota::per_second(per_second).allow_burst(burst);
            governor::RateLimiter::dashmap_with_clock(quota, LimiterClock)
        });
        RateLimiter {
            limiter,
            started: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    /// Takes one request from `key`'s bucket; false when it is empty.
    pub fn allow(&self, key: K) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        if limiter.len() > KEYS_KEPT && self.sweep_due() {
            // Keys come and go; forget the full buckets (they start full anyway). At most
            // once a second: a sweep visits every key.
            limiter.retain_recent();
        }
        limiter.check_key(&key).is_ok()
    }

    /// Whether a second has passed since the last sweep of idle keys (and if so, this
    /// call is the sweep's).
    fn sweep_due(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_sweep.load(Ordering::Relaxed);
        now >= last + 1_000
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Takes one request from `key`'s bucket, waiting until there is one: a stream's
    /// commands slow down to the rate instead of being refused.
    pub async fn until_allowed(&self, key: K) {
        let Some(limiter) = &self.limiter else {
            return;
        };
        while let Err(not_until) = limiter.check_key(&key) {
            tokio::time::sleep(not_until.wait_time_from(LimiterClock.now())).await;
        }
    }

    /// [`RateLimiter::allow`] at a given time (never earlier than a previous call's), so
    /// that a test can say how much time passes instead of sleeping and hoping.
    #[cfg(test)]
    fn allow_at(&self, key: K, now: Instant) -> bool {
        GIVEN_NOW.set(Some(now));
        let allowed = self.allow(key);
        GIVEN_NOW.set(None);
        allowed
    }
}

#[cfg(test)]
thread_local! {
    /// The time [`RateLimiter::allow_at`] gives the limiter's clock, on its own thread.
    static GIVEN_NOW: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// The monotonic clock, unless a test on this thread says what time it is.
#[derive(Debug, Clone, Copy)]
struct LimiterClock;

impl governor::clock::Clock for LimiterClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        #[cfg(test)]
        if let Some(now) = GIVEN_NOW.get() {
            return now;
        }
        Instant::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_gets_a_burst_then_the_rate() {
        use std::time::Duration;

        let limiter = RateLimiter::new(10);
        let a = Actor::System;
        let start = Instant::now();
        let allowed = (0..100).filter(|_| limiter.allow_at(a, start)).count();
        assert_eq!(allowed, 20, "a burst of twice the rate");
        // 10/s: 250 ms later, 2.5 requests' worth has come back.
        let later = start + Duration::from_millis(250);
        let again = (0..100).filter(|_| limiter.allow_at(a, later)).count();
        assert_eq!(again, 2, "10/s refill after 250 ms");
        // The half left over counts: 50 ms more make one more.
        let then = later + Duration::from_millis(50);
        let more = (0..100).filter(|_| limiter.allow_at(a, then)).count();
        assert_eq!(more, 1, "the remainder carries over");
        // A long pause refills no more than the burst.
        let much_later = then + Duration::from_secs(60);
        let refilled = (0..100).filter(|_| limiter.allow_at(a, much_later)).count();
        assert_eq!(refilled, 20, "never more than the burst");
        // Another principal has a bucket of its own.
        let b = Actor::Integration(helpdesk_domain::TokenId::from_uuid(uuid::Uuid::nil()));
        assert!(limiter.allow_at(b, much_later));
        assert!(RateLimiter::new(0).allow(a));
    }
}
