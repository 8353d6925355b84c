//! The one place a tokio runtime is built. Commands are synchronous at their edge and block on one
//! future; the worker count is the only thing that differs between them.

use std::future::Future;

use tokio::runtime::{Builder, Runtime};

use crate::error::Error;

/// The worker threads of a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// One worker per core (tokio's default): the commands that upload and talk to Apple, where
    /// parts are hashed and sent in parallel.
    PerCore,
    /// A fixed number of workers: the simulator, which serves a few local connections and runs
    /// beside the commands it serves (`demo`), so it should not take a thread per core.
    Fixed(usize),
    /// No workers, only the calling thread: a short job on a thread of its own (the reporters,
    /// which may be called from inside another runtime).
    CurrentThread,
}

/// A runtime with every driver (I/O, time) enabled.
pub fn build(threads: Threads) -> Result<Runtime, Error> {
    let mut builder = match threads {
        Threads::PerCore => Builder::new_multi_thread(),
        Threads::Fixed(n) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        Threads::CurrentThread => Builder::new_current_thread(),
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the async runtime: {e}")).with_source(e))
}

/// Runs `future` to completion on a new per-core runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Error> {
    Ok(build(Threads::PerCore)?.block_on(future))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_runs_a_future_with_timers() {
        for threads in [Threads::PerCore, Threads::Fixed(2), Threads::CurrentThread] {
            let rt = build(threads).unwrap_or_else(|e| panic!("{e}"));
            let n = rt.block_on(async {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                7
            });
            assert_eq!(n, 7);
            let workers = rt.metrics().num_workers();
            match threads {
                Threads::PerCore => assert!(workers >= 1),
                Threads::Fixed(n) => assert_eq!(workers, n),
                Threads::CurrentThread => assert_eq!(workers, 1),
            }
        }
        assert_eq!(block_on(async { 3 }).ok(), Some(3));
    }
}
