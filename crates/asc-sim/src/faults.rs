//! Fault switches (what to break, how often) and the mutable counters that apply them.

use std::time::Duration;

/// Faults the simulator injects, all off by default.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Fraction (0.0–1.0) of part PUTs answered with 503/500 without storing the bytes.
    pub fail_part_rate: f64,
    /// After this many API requests, answer a burst of 429s, then recover; repeats.
    pub rate_limit_after: Option<u64>,
    /// How many requests each 429 burst rejects.
    pub rate_limit_burst: u64,
    /// Apply the first commit PATCH, then close the connection without answering (once).
    pub drop_commit_response: bool,
    /// Reject tokens whose `iat` is older than this (proves the client re-mints tokens).
    pub token_max_age: Option<Duration>,
    /// Answer `sourceFileChecksums.file: null` (only `composite` filled) even when the commit
    /// carried a file checksum, as Apple does for clients that send none.
    pub omit_file_checksum: bool,
    /// Added before every response.
    pub latency: Duration,
    /// Seed for every random decision (failed parts, part order), so runs are reproducible.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_part_rate: 0.0,
            rate_limit_after: None,
            rate_limit_burst: 2,
            drop_commit_response: false,
            token_max_age: None,
            omit_file_checksum: false,
            latency: Duration::ZERO,
            seed: 0,
        }
    }
}

/// The hourly quota Apple reports in `X-Rate-Limit`.
pub(crate) const HOURLY_LIMIT: u64 = 3600;

/// Mutable fault state, kept under the simulator's lock.
#[derive(Debug)]
pub(crate) struct FaultState {
    faults: Faults,
    part_rng: fastrand::Rng,
    /// API requests seen (drives the `user-hour-rem` countdown).
    api_requests: u64,
    /// Requests admitted since the last 429 burst ended.
    since_burst: u64,
    /// 429s still to answer in the current burst.
    burst_left: u64,
    commit_dropped: bool,
}

/// What the rate limiter decided for one API request.
pub(crate) struct RateDecision {
    pub remaining: u64,
    pub limited: bool,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        FaultState {
            part_rng: fastrand::Rng::with_seed(faults.seed),
            faults,
            api_requests: 0,
            since_burst: 0,
            burst_left: 0,
            commit_dropped: false,
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Counts one API request and says whether it falls in a 429 burst.
    pub fn rate(&mut self) -> RateDecision {
        self.api_requests = self.api_requests.saturating_add(1);
        let remaining = HOURLY_LIMIT.saturating_sub(self.api_requests);
        let limited = match self.faults.rate_limit_after {
            None => false,
            Some(after) => {
                if self.burst_left > 0 {
                    self.burst_left -= 1;
                    true
                } else if self.since_burst >= after {
                    self.since_burst = 0;
                    self.burst_left = self.faults.rate_limit_burst.saturating_sub(1);
                    self.faults.rate_limit_burst > 0
                } else {
                    self.since_burst += 1;
                    false
                }
            }
        };
        RateDecision { remaining, limited }
    }

    /// The `user-hour-rem` value without counting a request (for refused tokens).
    pub fn remaining(&self) -> u64 {
        HOURLY_LIMIT.saturating_sub(self.api_requests)
    }

    /// Whether this part PUT should fail; `Some(status)` to answer with.
    pub fn fail_part(&mut self) -> Option<u16> {
        let rate = self.faults.fail_part_rate;
        if rate <= 0.0 {
            return None;
        }
        let roll = self.part_rng.f64();
        if roll < rate {
            // Mostly 503 (what S3 says when it sheds load), sometimes a plain 500.
            Some(if self.part_rng.u8(0..4) == 0 { 500 } else { 503 })
        } else {
            None
        }
    }

    /// True exactly once when `drop_commit_response` is on.
    pub fn take_commit_drop(&mut self) -> bool {
        if self.faults.drop_commit_response && !self.commit_dropped {
            self.commit_dropped = true;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_repeat_after_n_requests() {
        let mut f = FaultState::new(Faults {
            rate_limit_after: Some(3),
            ..Faults::default()
        });
        let got: Vec<bool> = (0..10).map(|_| f.rate().limited).collect();
        assert_eq!(got, [false, false, false, true, true, false, false, false, true, true]);
    }

    #[test]
    fn remaining_counts_down() {
        let mut f = FaultState::new(Faults::default());
        assert_eq!(f.rate().remaining, HOURLY_LIMIT - 1);
        assert_eq!(f.rate().remaining, HOURLY_LIMIT - 2);
    }

    #[test]
    fn failed_parts_are_reproducible() {
        let faults = Faults {
            fail_part_rate: 0.5,
            seed: 7,
            ..Faults::default()
        };
        let mut a = FaultState::new(faults.clone());
        let mut b = FaultState::new(faults);
        let ra: Vec<_> = (0..20).map(|_| a.fail_part()).collect();
        let rb: Vec<_> = (0..20).map(|_| b.fail_part()).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(Option::is_some) && ra.iter().any(Option::is_none));
    }

    #[test]
    fn commit_drops_once() {
        let mut f = FaultState::new(Faults {
            drop_commit_response: true,
            ..Faults::default()
        });
        assert!(f.take_commit_drop());
        assert!(!f.take_commit_drop());
    }
}
