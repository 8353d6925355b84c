//! The file's identity and whole-file MD5s read from disk.
//!
//! [`FileIdentity`] is recorded when an upload starts and checked before the commit: a file that
//! was rewritten, replaced or touched meanwhile is not committed. [`FileMd5`] hashes the file on
//! its own thread for callers that need a checksum before (or without) sending it: re-run
//! detection compares it with what Apple recorded. The commit's own checksum is not one of these:
//! it is computed from the bytes the parts sent (`sent_md5`).
//!
//! A [`FileMd5`] started in the background runs on CPU time nothing else wants until someone asks
//! for the answer; from then on at normal priority.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use md5::Digest;
use tokio::sync::watch;

use crate::publish::error::PublishError;

type Answer = Option<Result<String, String>>;

/// What identifies a file's content without reading it: size, modification time, and on Unix the
/// inode (a replaced file) and status-change time (which no user call can set back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    pub size: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
    #[cfg(unix)]
    changed: (i64, i64),
}

impl FileIdentity {
    pub fn of(path: &Path) -> Result<FileIdentity, PublishError> {
        let meta = std::fs::metadata(path).map_err(|e| PublishError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Ok(FileIdentity {
            size: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
            #[cfg(unix)]
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// `Ok` when `path` still is the file recorded; [`PublishError::FileChanged`] saying how it
    /// differs otherwise.
    pub fn check(&self, path: &Path) -> Result<(), PublishError> {
        let now = FileIdentity::of(path)?;
        match self.difference(&now) {
            None => Ok(()),
            Some(detail) => Err(PublishError::FileChanged {
                path: path.display().to_string(),
                detail,
            }),
        }
    }

    fn difference(&self, now: &FileIdentity) -> Option<String> {
        #[cfg(unix)]
        if self.inode != now.inode {
            return Some("it was replaced by another file".into());
        }
        if self.size != now.size {
            return Some(format!("its size went from {} to {} bytes", self.size, now.size));
        }
        if self.modified != now.modified {
            return Some("its modification time changed".into());
        }
        #[cfg(unix)]
        if self.changed != now.changed {
            return Some("its status-change time changed (it was written or its times were reset)".into());
        }
        None
    }
}

/// A running (or finished) MD5 of one file. Dropping it stops the hashing.
pub struct FileMd5 {
    path: PathBuf,
    answer: watch::Receiver<Answer>,
    cancel: Arc<AtomicBool>,
    urgent: Arc<AtomicBool>,
    /// For [`FileMd5::on_demand`]: where the answer goes once the first `get` starts the hash.
    deferred: Mutex<Option<watch::Sender<Answer>>>,
}

impl FileMd5 {
    /// Starts hashing `path` in the background, behind everything else for the CPU.
    pub fn start(path: &Path) -> FileMd5 {
        FileMd5::spawn(path, true)
    }

    /// Hashes `path` only if and when [`FileMd5::get`] is first called (most uploads never need
    /// a pre-read checksum: only a re-run that finds an earlier upload compares one).
    pub fn on_demand(path: &Path) -> FileMd5 {
        let (tx, rx) = watch::channel::<Answer>(None);
        FileMd5 {
            path: path.to_path_buf(),
            answer: rx,
            cancel: Arc::new(AtomicBool::new(false)),
            urgent: Arc::new(AtomicBool::new(true)),
            deferred: Mutex::new(Some(tx)),
        }
    }

    fn spawn(path: &Path, background: bool) -> FileMd5 {
        let (tx, rx) = watch::channel::<Answer>(None);
        let md5 = FileMd5 {
            path: path.to_path_buf(),
            answer: rx,
            cancel: Arc::new(AtomicBool::new(false)),
            urgent: Arc::new(AtomicBool::new(!background)),
            deferred: Mutex::new(None),
        };
        md5.run(tx);
        md5
    }

    fn run(&self, tx: watch::Sender<Answer>) {
        let job = {
            let (path, cancel, urgent) = (self.path.clone(), self.cancel.clone(), self.urgent.clone());
            let tx = tx.clone();
            move || {
                let r = hash(&path, &cancel, &urgent).map_err(|e| e.to_string());
                let _ = tx.send(Some(r));
            }
        };
        if let Err(e) = std::thread::Builder::new().name("md5".into()).spawn(job) {
            // No thread to spare: the answer is the error, reported where the checksum is needed.
            let _ = tx.send(Some(Err(format!("cannot start the checksum thread: {e}"))));
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
            deferred: Mutex::new(None),
        }
    }

    /// The lowercase hex MD5, waiting for the hash to finish (at normal priority from now on).
    pub async fn get(&self) -> Result<String, PublishError> {
        self.urgent.store(true, Ordering::Relaxed);
        let deferred = self.deferred.lock().ok().and_then(|mut d| d.take());
        if let Some(tx) = deferred {
            self.run(tx);
        }
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
    async fn on_demand_reads_the_file_only_when_asked() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f.bin");
        let lazy = FileMd5::on_demand(&path);
        // The file does not exist yet: a hash started now would fail.
        std::fs::write(&path, b"later").unwrap_or_else(|e| panic!("{e}"));
        let expected = crate::hex::lower(&md5::Md5::digest(b"later"));
        assert_eq!(lazy.get().await.ok(), Some(expected.clone()));
        assert_eq!(lazy.get().await.ok(), Some(expected));
    }

    #[test]
    fn identity_notices_rewrites_replacements_and_reset_times() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("App.ipa");
        std::fs::write(&path, b"0123456789").unwrap_or_else(|e| panic!("{e}"));
        let id = FileIdentity::of(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(id.check(&path).is_ok());
        let changed = |id: &FileIdentity| match id.check(&path) {
            Err(PublishError::FileChanged { detail, .. }) => detail,
            other => panic!("expected FileChanged, got {other:?}"),
        };

        // Same size, same modification time put back: only the status-change time tells.
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"9876543210").unwrap_or_else(|e| panic!("{e}"));
        let f = std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        f.set_modified(modified).unwrap_or_else(|e| panic!("{e}"));
        drop(f);
        assert!(changed(&id).contains("status-change"), "{}", changed(&id));

        let id = FileIdentity::of(&path).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, b"01234567890").unwrap_or_else(|e| panic!("{e}"));
        assert!(changed(&id).contains("size went from 10 to 11"));

        let id = FileIdentity::of(&path).unwrap_or_else(|e| panic!("{e}"));
        let other = dir.path().join("Other.ipa");
        std::fs::write(&other, b"01234567890").unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&other, &path).unwrap_or_else(|e| panic!("{e}"));
        assert!(changed(&id).contains("replaced"));
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
