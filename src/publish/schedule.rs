//! The one poll schedule, shared by every wait on Apple (processing, a review submission): the
//! interval grows ×1.5 per poll up to a cap, a heartbeat line goes out at least every
//! [`HEARTBEAT`], and no sleep runs past the timeout or the next heartbeat. One type, so the
//! waits cannot drift apart in backoff or heartbeat.

use std::time::{Duration, SystemTime};

use crate::asc::clock::SharedClock;
use crate::publish::events::{Event, Events};

/// How often a waiting run says it is still waiting: under a minute apart even with a slow poll
/// request in between (CI users and their log watchdogs expect a line at least every 60 s).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(45);

/// A wait in progress: when it started, the next interval, the last heartbeat.
#[derive(Debug)]
pub struct Poller {
    clock: SharedClock,
    start: SystemTime,
    timeout: Duration,
    interval: Duration,
    cap: Duration,
    last_heartbeat: Duration,
}

impl Poller {
    /// Starts the wait now. `interval` is the first pause; the intervals grow to `max_interval`
    /// (never below the first).
    pub fn start(clock: SharedClock, timeout: Duration, interval: Duration, max_interval: Duration) -> Poller {
        Poller {
            start: clock.now(),
            clock,
            timeout,
            interval,
            cap: max_interval.max(interval),
            last_heartbeat: Duration::ZERO,
        }
    }

    /// Time since the wait started.
    pub fn waited(&self) -> Duration {
        self.clock.now().duration_since(self.start).unwrap_or_default()
    }

    /// The time waited, once it has reached the timeout.
    pub fn timed_out(&self) -> Option<Duration> {
        let waited = self.waited();
        (waited >= self.timeout).then_some(waited)
    }

    /// Between two polls: the heartbeat (`line` of the time waited) when due, the sleep, and the
    /// next, longer interval.
    pub async fn pause(&mut self, events: &Events, line: impl FnOnce(Duration) -> String) {
        let waited = self.waited();
        // A line at least a minute apart in CI logs, so a long wait visibly is one and not a hang.
        if heartbeat_due(waited, self.last_heartbeat) {
            // Kept in step when quiet too: the sleep below is capped at the next heartbeat.
            self.last_heartbeat = waited;
            events.send(Event::Heartbeat(line(waited)));
        }
        self.clock
            .sleep(next_sleep(self.interval, waited, self.timeout, self.last_heartbeat))
            .await;
        self.interval =
            Duration::try_from_secs_f64(self.interval.as_secs_f64() * 1.5).map_or(self.cap, |d| d.min(self.cap));
    }
}

pub(crate) fn heartbeat_due(waited: Duration, last_heartbeat: Duration) -> bool {
    waited.saturating_sub(last_heartbeat) >= HEARTBEAT
}

/// How long to sleep before the next poll: the poll interval, but never past the timeout or the
/// next heartbeat.
pub(crate) fn next_sleep(
    interval: Duration,
    waited: Duration,
    timeout: Duration,
    last_heartbeat: Duration,
) -> Duration {
    let to_heartbeat = (last_heartbeat + HEARTBEAT).saturating_sub(waited);
    interval
        .min(timeout.saturating_sub(waited))
        .min(to_heartbeat)
        .max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::asc::clock::ManualClock;
    use crate::publish::events::Recorder;

    /// The wait loop's schedule with real poll intervals (5 s growing ×1.5 to 30 s) and polls that
    /// take `poll` each: heartbeat lines are never more than a minute apart.
    fn gaps(poll: Duration, timeout: Duration) -> Vec<Duration> {
        let (mut waited, mut last, mut interval) = (Duration::ZERO, Duration::ZERO, Duration::from_secs(5));
        let mut lines = vec![Duration::ZERO];
        while waited < timeout {
            waited += poll;
            if heartbeat_due(waited, last) {
                last = waited;
                lines.push(waited);
            }
            waited += next_sleep(interval, waited, timeout, last);
            interval = (interval.mul_f64(1.5)).min(Duration::from_secs(30));
        }
        lines.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[test]
    fn heartbeat_lines_are_at_most_a_minute_apart() {
        for poll in [Duration::ZERO, Duration::from_millis(300), Duration::from_secs(10)] {
            let g = gaps(poll, Duration::from_secs(30 * 60));
            assert!(g.len() > 25, "{poll:?}: {g:?}");
            assert!(g.iter().all(|d| *d <= Duration::from_secs(60)), "{poll:?}: {g:?}");
        }
    }

    /// The poller itself on a virtual clock: sleeps grow ×1.5 to the cap, are cut at the next
    /// heartbeat and at the timeout, and each heartbeat line carries the time waited.
    #[test]
    fn the_poller_backs_off_to_its_cap_beats_the_heart_and_stops_at_the_timeout() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let rec = Arc::new(Recorder::default());
        let events = Events::to(rec.clone());
        let secs = Duration::from_secs;
        let mut p = Poller::start(Arc::new(clock.clone()), secs(100), secs(10), secs(20));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            while p.timed_out().is_none() {
                p.pause(&events, |w| format!("waited {}", w.as_secs())).await;
            }
        });
        // 10, 15, then the cap 20 (not 22.5) up to the heartbeat at 45 s; 20, 20, then cut to 5
        // for the next heartbeat at 90 s, and to 10 for the timeout at 100 s.
        assert_eq!(clock.sleeps(), [10, 15, 20, 20, 20, 5, 10].map(secs));
        assert_eq!(p.timed_out(), Some(secs(100)));
        let lines: Vec<Event> = rec.events();
        assert_eq!(
            lines,
            [
                Event::Heartbeat("waited 45".into()),
                Event::Heartbeat("waited 90".into())
            ]
        );
    }
}
