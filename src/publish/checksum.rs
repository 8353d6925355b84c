//! The whole-file MD5 the commit carries. It is hashed on its own thread from the start of the
//! run, at a lower CPU priority than everything else: the part uploads are the critical path (they
//! hold connections and pre-signed URLs), the hash is needed only at the commit. On a real network
//! the hash is done long before the last part; on a machine whose CPU the upload saturates, the
//! parts get the CPU first and the commit waits for the rest, and the outcome records that wait
//! as the `checksum` stage.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest;
use tokio::sync::watch;

use crate::publish::error::PublishError;
use crate::publish::parts::hex;

type Answer = Option<Result<String, String>>;

/// A running (or finished) MD5 of one file. Dropping it stops the hashing.
pub struct FileMd5 {
    path: PathBuf,
    answer: watch::Receiver<Answer>,
    cancel: Arc<AtomicBool>,
}

impl FileMd5 {
    /// Starts hashing `path` in the background, behind everything else for the CPU.
    pub fn start(path: &Path) -> FileMd5 {
        FileMd5::spawn(path, true)
    }

    fn spawn(path: &Path, background: bool) -> FileMd5 {
        let (tx, rx) = watch::channel::<Answer>(None);
        let cancel = Arc::new(AtomicBool::new(false));
        let job = {
            let (path, cancel) = (path.to_path_buf(), cancel.clone());
            move || {
                if background {
                    lower_priority();
                }
                let r = hash(&path, &cancel).map_err(|e| e.to_string());
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
        }
    }

    /// A checksum already known (from preflight, or a test).
    pub fn known(path: &Path, md5: String) -> FileMd5 {
        let (_tx, rx) = watch::channel::<Answer>(Some(Ok(md5)));
        FileMd5 {
            path: path.to_path_buf(),
            answer: rx,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The lowercase hex MD5, waiting for the hash to finish.
    pub async fn get(&self) -> Result<String, PublishError> {
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

fn hash(path: &Path, cancel: &AtomicBool) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = md5::Md5::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex(&h.finalize()))
}

/// Nice 19 for this thread only (Linux keeps the nice value per thread): it then runs on CPU time
/// nothing else wants. The thread is ours and ends with the hash, so nothing else inherits it.
/// Elsewhere the hash runs at normal priority.
///
/// Measured with `examples/bench_upload` (1 GiB, simulator on the same 2 cores): at nice 19 the
/// part PUTs ran at 0.92x the minimal client and the commit then waited ~1.1 s for the hash; at
/// nice 10, 0.80x and ~0.6 s; hashing at normal priority alongside, ~0.6x. The total CPU is the
/// same either way; 19 keeps it off the transfer, which is what holds the connections.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: setpriority takes plain integers and touches no memory of ours; `who = 0` is the
    // calling thread. A failure leaves the priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
        let expected = hex(&md5::Md5::digest(&data));
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
