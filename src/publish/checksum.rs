//! The whole-file MD5 the commit carries. It is hashed on its own thread from the start of the
//! run, on CPU time nothing else wants, until someone asks for the answer; from then on at normal
//! priority. The part uploads are the critical path (they hold connections and pre-signed URLs);
//! the hash is needed only at the commit. On a real network the hash is done long before the last
//! part. On a machine whose CPU the upload saturates, the parts get the CPU first and the commit
//! waits for the rest: the outcome records that wait as the `checksum` stage.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest;
use tokio::sync::watch;

use crate::publish::error::PublishError;

type Answer = Option<Result<String, String>>;

/// A running (or finished) MD5 of one file. Dropping it stops the hashing.
pub struct FileMd5 {
    path: PathBuf,
    answer: watch::Receiver<Answer>,
    cancel: Arc<AtomicBool>,
    urgent: Arc<AtomicBool>,
}

impl FileMd5 {
    /// Starts hashing `path` in the background, behind everything else for the CPU.
    pub fn start(path: &Path) -> FileMd5 {
        FileMd5::spawn(path, true)
    }

    fn spawn(path: &Path, background: bool) -> FileMd5 {
        let (tx, rx) = watch::channel::<Answer>(None);
        let cancel = Arc::new(AtomicBool::new(false));
        let urgent = Arc::new(AtomicBool::new(!background));
        let job = {
            let (path, cancel, urgent) = (path.to_path_buf(), cancel.clone(), urgent.clone());
            move || {
                let r = hash(&path, &cancel, &urgent).map_err(|e| e.to_string());
                let _ = tx.send(Some(r));
            }
        };
        let answer = match std::thread::Builder::new().name("md5".into()).spawn(job) {
            Ok(_) => rx,
            // No thread to spare: the answer is the error, reported where the checksum is needed.
            Err(e) => watch::channel::<Answer>(Some(Err(format!("cannot start the checksum thread: {e}")))).1,
        };
        FileMd5 {
            path: path.to_path_buf(),
            answer,
            cancel,
            urgent,
        }
    }

    /// A checksum the caller already has (tests drive the engine with one).
    pub fn known(path: &Path, md5: String) -> FileMd5 {
        let (_tx, rx) = watch::channel::<Answer>(Some(Ok(md5)));
        FileMd5 {
            path: path.to_path_buf(),
            answer: rx,
            cancel: Arc::new(AtomicBool::new(false)),
            urgent: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The lowercase hex MD5, waiting for the hash to finish (at normal priority from now on).
    pub async fn get(&self) -> Result<String, PublishError> {
        self.urgent.store(true, Ordering::Relaxed);
        let mut rx = self.answer.clone();
        let io = |message: String| PublishError::Io {
            path: self.path.display().to_string(),
            message,
        };
        let answer = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| io("the checksum thread stopped without an answer".into()))?
            .clone();
        match answer {
            Some(Ok(md5)) => Ok(md5),
            Some(Err(message)) => Err(io(message)),
            None => Err(io("the checksum thread stopped without an answer".into())),
        }
    }
}

impl Drop for FileMd5 {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// The MD5 of a file, hashed now (for callers that need it before anything else can happen).
pub async fn md5_file(path: &Path) -> Result<String, PublishError> {
    FileMd5::spawn(path, false).get().await
}

fn hash(path: &Path, cancel: &AtomicBool, urgent: &AtomicBool) -> std::io::Result<String> {
    let mut idle = !urgent.load(Ordering::Relaxed) && idle_priority(true);
    let mut f = std::fs::File::open(path)?;
    let mut h = md5::Md5::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        if idle && urgent.load(Ordering::Relaxed) {
            idle = !idle_priority(false);
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(crate::hex::lower(&h.finalize()))
}

/// Puts this thread in (or takes it out of) Linux's SCHED_IDLE class: it then runs only on a core
/// nothing else wants, and is preempted at once when something does. The class is per thread, and
/// an unprivileged thread may leave it again for SCHED_OTHER at its unchanged nice value, so
/// once the answer is wanted the hash competes normally and cannot starve behind a busy machine.
/// Returns whether the switch happened.
///
/// Measured with `examples/bench_upload` (1 GiB, simulator on the same 2 cores): hashing at
/// normal priority alongside the parts, they ran at about 0.6x the minimal client; at nice 10,
/// 0.80x; idle until wanted, 0.96-1.04x, with the commit then waiting ~1.4 s for the hash. The
/// total CPU is the same; this keeps it off the transfer.
#[cfg(target_os = "linux")]
fn idle_priority(idle: bool) -> bool {
    let policy = if idle { libc::SCHED_IDLE } else { libc::SCHED_OTHER };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` lives across the call, which only reads it; pid 0 is the calling thread.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn idle_priority(_idle: bool) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod priority_tests {
    #[test]
    fn a_thread_can_go_idle_and_come_back() {
        let policies = std::thread::spawn(|| {
            // SAFETY: reads this thread's policy.
            let before = unsafe { libc::sched_getscheduler(0) };
            let went = super::idle_priority(true);
            // SAFETY: as above.
            let during = unsafe { libc::sched_getscheduler(0) };
            let back = super::idle_priority(false);
            // SAFETY: as above.
            let after = unsafe { libc::sched_getscheduler(0) };
            (before, went, during, back, after)
        })
        .join()
        .unwrap_or_else(|_| panic!("thread"));
        assert_eq!(
            policies,
            (libc::SCHED_OTHER, true, libc::SCHED_IDLE, true, libc::SCHED_OTHER)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_the_whole_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f.bin");
        // Larger than the read buffer, so the loop runs more than once.
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap_or_else(|e| panic!("{e}"));
        let expected = crate::hex::lower(&md5::Md5::digest(&data));
        let running = FileMd5::start(&path);
        assert_eq!(running.get().await.ok(), Some(expected.clone()));
        // Asking twice gives the same answer.
        assert_eq!(running.get().await.ok(), Some(expected));
        assert_eq!(
            FileMd5::known(&path, "abc".into()).get().await.ok().as_deref(),
            Some("abc")
        );
    }

    #[tokio::test]
    async fn a_missing_file_is_an_io_error_naming_it() {
        let running = FileMd5::start(Path::new("/nonexistent/asc-publish/x.ipa"));
        match running.get().await {
            Err(PublishError::Io { path, .. }) => assert!(path.ends_with("x.ipa")),
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }
}
