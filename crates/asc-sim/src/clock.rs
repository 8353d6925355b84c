//! The simulator's time source is the [`Clock`] the product's client uses (from `asc-clock`): real
//! time for the CLI, a hand-driven clock for tests, and one clock can be shared by the client and
//! the simulator.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asc_clock::Sleep;
pub use asc_clock::{Clock, SystemClock};

/// "Now" as the simulator stores it: milliseconds since the Unix epoch (0 before it).
pub(crate) fn now_millis(clock: &dyn Clock) -> i64 {
    match clock.now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Real time plus an offset that tests move forward with [`ManualClock::advance`], so processing
/// and expiry can be driven without sleeping. Clones share the offset.
#[derive(Clone, Default)]
pub struct ManualClock {
    offset_millis: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves this clock (and every clone) forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        let offset = u64::try_from(self.offset_millis.load(Ordering::SeqCst)).unwrap_or(0);
        let now = SystemTime::now();
        now.checked_add(Duration::from_millis(offset)).unwrap_or(now)
    }

    /// Sleeping moves the clock instead of waiting, as the client's test clock does.
    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("offset_millis", &self.offset_millis.load(Ordering::SeqCst))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_and_every_clone() {
        let clock = ManualClock::new();
        let copy = clock.clone();
        let before = now_millis(&clock);
        clock.advance(Duration::from_secs(3600));
        let after = now_millis(&copy);
        assert!(after - before >= 3_600_000, "{before} -> {after}");
        assert!(after - before < 3_600_000 + 60_000, "{before} -> {after}");
    }

    #[test]
    fn the_system_clock_reads_real_time() {
        let real = now_millis(&SystemClock);
        let direct = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
        )
        .unwrap_or(0);
        assert!((direct - real).abs() < 60_000);
    }
}
