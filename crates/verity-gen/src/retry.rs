//! Backoff between retries: exponential with jitter, at least the server's `Retry-After`.

use std::time::{Duration, SystemTime};

/// The longest `Retry-After` honoured; a longer one is waited for this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Backoff policy.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Largest delay (before `Retry-After`).
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (0-based): `base * 2^retry` capped at `max`, times
    /// a random factor in [0.5, 1) (so clients that failed together do not retry together),
    /// and never shorter than `retry_after`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
        match retry_after {
            Some(after) => jittered.max(after.min(MAX_RETRY_AFTER)),
            None => jittered,
        }
    }
}

/// Parse a `Retry-After` value: seconds (`"2"`, `"1.5"`) or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_jittered_capped_and_respect_retry_after() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d0 = b.delay(0, None);
            assert!(d0 >= Duration::from_millis(50) && d0 < Duration::from_millis(100));
            let d3 = b.delay(3, None);
            assert!(d3 >= Duration::from_millis(400) && d3 < Duration::from_millis(800));
            let d30 = b.delay(30, None);
            assert!(d30 >= Duration::from_millis(500) && d30 < Duration::from_secs(1));
            assert!(b.delay(0, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
            assert_eq!(
                b.delay(0, Some(Duration::from_secs(100_000))),
                MAX_RETRY_AFTER
            );
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
    }
}
