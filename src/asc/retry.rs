//! Retry policy: which failures are retried, how long to wait (exponential backoff with jitter,
//! `Retry-After` honoured), and parsing of Apple's `X-Rate-Limit` header.

use std::time::{Duration, SystemTime};

/// Bounds on retrying one request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts after this much time has been spent on the request.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_total: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1): exponential with ±25 % jitter,
    /// or the server's `Retry-After` when it gave one (capped at `max_delay` × 4).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay.saturating_mul(4));
        }
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
            .min(self.max_delay);
        let jitter = 0.75 + fastrand::f64() * 0.5;
        exp.mul_f64(jitter)
    }
}

/// Whether an HTTP status is worth retrying for an idempotent request.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || (500..600).contains(&status)
}

/// `Retry-After`: delta-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(24 * 3600)));
    }
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::PrimitiveDateTime::parse(v, &fmt).ok()?.assume_utc();
    let when: SystemTime = when.into();
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Apple's `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3567;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
}

pub fn parse_rate_limit(value: &str) -> Option<RateLimit> {
    let mut rl = RateLimit {
        limit: None,
        remaining: None,
    };
    for part in value.split(';') {
        let Some((k, v)) = part.split_once(':') else { continue };
        let v = v.trim().parse::<u64>().ok();
        match k.trim() {
            "user-hour-lim" => rl.limit = v,
            "user-hour-rem" => rl.remaining = v,
            _ => {}
        }
    }
    (rl.limit.is_some() || rl.remaining.is_some()).then_some(rl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn rate_limit_header() {
        assert_eq!(
            parse_rate_limit("user-hour-lim:3600;user-hour-rem:3567;"),
            Some(RateLimit {
                limit: Some(3600),
                remaining: Some(3567)
            })
        );
        assert_eq!(parse_rate_limit("garbage"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let d1 = p.delay(1, None);
        let d4 = p.delay(4, None);
        assert!(d1 >= Duration::from_millis(750) && d1 <= Duration::from_millis(1250));
        assert!(d4 >= Duration::from_secs(6));
        assert!(p.delay(30, None) <= Duration::from_millis(37_500));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
    }
}
