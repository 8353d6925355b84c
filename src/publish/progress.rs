//! Upload progress on stderr: a bar on a terminal, throttled lines in CI logs (at most every 10 s
//! or 10 %), and one final line with size, time and throughput.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Bar,
    Lines,
    Silent,
}

impl ProgressMode {
    /// A bar when stderr is a terminal, lines otherwise.
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        }
    }
}

/// Decides when a CI progress line is due: every `interval` or every `step_pct` percent.
#[derive(Debug, Clone)]
pub struct LineThrottle {
    interval: Duration,
    step_pct: u64,
    last_at: Option<Duration>,
    last_pct: u64,
}

impl LineThrottle {
    pub fn new(interval: Duration, step_pct: u64) -> Self {
        LineThrottle {
            interval,
            step_pct: step_pct.max(1),
            last_at: None,
            last_pct: 0,
        }
    }

    /// `elapsed` since the start, bytes done of `total`. True when a line should be printed now.
    pub fn due(&mut self, elapsed: Duration, done: u64, total: u64) -> bool {
        let pct = percent(done, total);
        let time_due = match self.last_at {
            None => elapsed >= self.interval,
            Some(at) => elapsed.saturating_sub(at) >= self.interval,
        };
        let pct_due = pct >= self.last_pct + self.step_pct && pct < 100;
        if time_due || pct_due {
            self.last_at = Some(elapsed);
            self.last_pct = pct - pct % self.step_pct;
            true
        } else {
            false
        }
    }
}

fn percent(done: u64, total: u64) -> u64 {
    if total == 0 {
        100
    } else {
        ((done as u128 * 100) / total as u128).min(100) as u64
    }
}

/// Bytes for people: KiB below 1 MiB, MiB with one decimal above.
pub fn mib(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// The progress reporter shared by the part uploads.
#[derive(Debug)]
pub struct Progress {
    mode: ProgressMode,
    total: u64,
    done: AtomicU64,
    started: Instant,
    throttle: Mutex<LineThrottle>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(mode: ProgressMode, total: u64) -> Self {
        let bar = (mode == ProgressMode::Bar).then(|| {
            let b = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "  uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        Progress {
            mode,
            total,
            done: AtomicU64::new(0),
            started: Instant::now(),
            throttle: Mutex::new(LineThrottle::new(Duration::from_secs(10), 10)),
            bar,
        }
    }

    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Bytes handed to the network.
    pub fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        match self.mode {
            ProgressMode::Bar => {
                if let Some(b) = &self.bar {
                    b.set_position(done);
                }
            }
            ProgressMode::Lines => {
                let elapsed = self.started.elapsed();
                let due = self
                    .throttle
                    .lock()
                    .map(|mut t| t.due(elapsed, done, self.total))
                    .unwrap_or(false);
                if due {
                    crate::output::eprintln_redacted!("  {}", self.line(done, elapsed));
                }
            }
            ProgressMode::Silent => {}
        }
    }

    /// Bytes of a failed part attempt that will be sent again.
    pub fn rewind(&self, n: u64) {
        let _ = self
            .done
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| Some(d.saturating_sub(n)));
        if let Some(b) = &self.bar {
            b.set_position(self.done());
        }
    }

    fn line(&self, done: u64, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64().max(0.001);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 && done < self.total {
            format!(
                ", ETA {}",
                super::duration::format_duration(
                    Duration::try_from_secs_f64((self.total - done) as f64 / rate).unwrap_or(Duration::MAX)
                )
            )
        } else {
            String::new()
        };
        format!(
            "uploaded {} of {} ({}%), {:.1} MB/s{}",
            mib(done),
            mib(self.total),
            percent(done, self.total),
            rate / 1_000_000.0,
            eta
        )
    }

    /// Clears the bar and prints the summary line.
    pub fn finish(&self) -> Duration {
        let elapsed = self.started.elapsed();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if self.mode != ProgressMode::Silent {
            let secs = elapsed.as_secs_f64().max(0.001);
            crate::output::eprintln_redacted!(
                "  uploaded {} in {} ({:.1} MB/s)",
                mib(self.total),
                super::duration::format_duration(elapsed),
                self.total as f64 / secs / 1_000_000.0
            );
        }
        elapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(mib(49_425), "48.3 KiB");
        assert_eq!(mib(12_000_000), "11.4 MiB");
    }

    #[test]
    fn throttle_every_ten_percent_or_ten_seconds() {
        let mut t = LineThrottle::new(Duration::from_secs(10), 10);
        let total = 1000;
        assert!(!t.due(Duration::from_secs(1), 50, total));
        assert!(t.due(Duration::from_secs(2), 100, total)); // 10 %
        assert!(!t.due(Duration::from_secs(3), 150, total));
        assert!(t.due(Duration::from_secs(3), 230, total)); // 23 % crosses 20 %
        assert!(!t.due(Duration::from_secs(5), 260, total));
        assert!(t.due(Duration::from_secs(14), 270, total)); // 10 s since the last line
        assert!(!t.due(Duration::from_secs(15), 280, total));
        // Many tiny updates never produce more than one line per step.
        let mut t = LineThrottle::new(Duration::from_secs(10), 10);
        let lines = (0..=1000)
            .filter(|i| t.due(Duration::from_millis(*i), *i, total))
            .count();
        assert_eq!(lines, 9);
    }
}
