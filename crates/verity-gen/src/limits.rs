//! Limits on what is sent: requests in flight, requests and tokens per minute, and a shared
//! cool-down after a rate-limit reply.
//!
//! The per-minute limits space requests evenly (a request may start `60 / limit` seconds after
//! the previous one; tokens count the prompt estimate plus `max_tokens`), so a limit is never
//! exceeded in any window and no burst is sent after an idle period. A `429` with
//! `Retry-After` pauses every request, not only the one that got it.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// An even-spacing rate limit.
#[derive(Debug)]
struct Pace {
    per_unit: Duration,
    next: Instant,
}

impl Pace {
    fn new(per_minute: f64) -> Pace {
        Pace {
            per_unit: Duration::from_secs_f64(60.0 / per_minute),
            next: Instant::now(),
        }
    }

    /// Reserve `units` and return when they may be used.
    fn reserve(&mut self, units: u64) -> Instant {
        let now = Instant::now();
        let start = self.next.max(now);
        self.next = start + self.per_unit.mul_f64(units as f64);
        start
    }
}

/// The limits shared by every request of a stage.
#[derive(Debug)]
pub struct Limiter {
    slots: std::sync::Arc<Semaphore>,
    requests: Option<Mutex<Pace>>,
    tokens: Option<Mutex<Pace>>,
    pause_until: Mutex<Option<Instant>>,
}

/// Permission to have one request in flight (released when dropped).
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Limiter {
    /// At most `concurrency` in flight, optional per-minute limits.
    pub fn new(concurrency: usize, rpm: Option<f64>, tpm: Option<f64>) -> Limiter {
        Limiter {
            slots: std::sync::Arc::new(Semaphore::new(concurrency.max(1))),
            requests: rpm.map(|r| Mutex::new(Pace::new(r))),
            tokens: tpm.map(|t| Mutex::new(Pace::new(t))),
            pause_until: Mutex::new(None),
        }
    }

    /// Wait for a slot, the cool-down and the per-minute limits; `tokens` is the request's
    /// estimated token cost.
    pub async fn acquire(&self, tokens: u64) -> Slot {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the limiter's semaphore is never closed");
        loop {
            let pause = self.pause_until.lock().ok().and_then(|p| *p);
            match pause {
                Some(until) if until > Instant::now() => {
                    tokio::time::sleep_until(until.into()).await
                }
                _ => break,
            }
        }
        let mut start = Instant::now();
        if let Some(pace) = &self.requests {
            if let Ok(mut p) = pace.lock() {
                start = start.max(p.reserve(1));
            }
        }
        if let Some(pace) = &self.tokens {
            if let Ok(mut p) = pace.lock() {
                start = start.max(p.reserve(tokens.max(1)));
            }
        }
        if start > Instant::now() {
            tokio::time::sleep_until(start.into()).await;
        }
        Slot { _permit: permit }
    }

    /// Pause every request for `wait` (a rate-limit reply's `Retry-After`).
    pub fn cool_down(&self, wait: Duration) {
        if let Ok(mut p) = self.pause_until.lock() {
            let until = Instant::now() + wait;
            match *p {
                Some(old) if old >= until => {}
                _ => *p = Some(until),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_spaces_requests_evenly() {
        let mut pace = Pace::new(600.0); // one per 100 ms
        let a = pace.reserve(1);
        let b = pace.reserve(1);
        let c = pace.reserve(3);
        let d = pace.reserve(1);
        assert_eq!(b - a, Duration::from_millis(100));
        assert_eq!(c - b, Duration::from_millis(100));
        assert_eq!(d - c, Duration::from_millis(300));
    }
}
