//! An injectable clock and sleeper, so token expiry, retry and poll timing are testable without real
//! sleeps. Its own crate because the App Store Connect simulator (`asc-sim`, which the product does
//! not contain) implements the same [`Clock`], and tests drive the client and the simulator with one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Wall-clock time and sleeping, injected everywhere time matters.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: `SystemTime::now` and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: sleeping returns at once and advances the time by the slept duration.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl ManualClock {
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
            slept: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Moves the time forward without sleeping.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }

    /// Every sleep asked for so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.now.lock().map(|n| *n).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        if let Ok(mut s) = self.slept.lock() {
            s.push(duration);
        }
        Box::pin(tokio::task::yield_now())
    }
}

/// The shared handle the client and engine hold.
pub type SharedClock = Arc<dyn Clock>;
