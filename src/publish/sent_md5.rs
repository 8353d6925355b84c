//! The commit's MD5, computed over the bytes the part uploads actually sent.
//!
//! Hashing the file in a second read would checksum whatever the file holds at that moment; if
//! another step rewrites it during the upload, Apple receives one thing and is told the checksum
//! of another. Here every chunk a part body yields is handed over as it is read for sending.
//!
//! MD5 is sequential and the parts go out concurrently, so chunks arrive out of order:
//! - a chunk at the hash frontier goes straight into the MD5;
//! - a chunk ahead of it is kept (the same reference-counted `Bytes` the body sends, no copy)
//!   while at most [`KEEP_AHEAD`] bytes are kept; past that only its SHA-256 is kept, and when the
//!   frontier reaches it the range is read again and used only if it hashes to what was sent
//!   (otherwise the file changed under us: [`PublishError::FileChanged`]).
//!
//! Retries: an attempt that fails is replaced by the next one's bytes. The MD5 state at the start
//! of the lowest unfinished part is kept (MD5 state is a small value), so a retried part rewinds
//! to it, and the frontier never passes a part that has not succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::publish::error::PublishError;

/// Bytes read ahead of the hash frontier kept in memory; further ones are re-read and verified.
/// Two chunks: enough for the usual skew between the frontier part and the next one, while the
/// memory bound of the part engine (a few chunks per part in flight) stays what it was.
pub const KEEP_AHEAD: usize = 1 << 20;

/// A chunk read ahead of the frontier.
enum Ahead {
    Kept(Bytes),
    Digest { len: usize, sha256: [u8; 32] },
}

#[derive(Debug, Clone, Copy)]
struct PartState {
    len: u64,
    /// The attempt whose chunks count; older attempts' chunks are ignored.
    attempt: u32,
    /// Bytes the current attempt has handed over so far.
    read: u64,
    done: bool,
}

struct Inner {
    md5: Md5,
    frontier: u64,
    /// The MD5 state at `base`, the start of the lowest part that has not succeeded.
    base_md5: Md5,
    base: u64,
    parts: BTreeMap<u64, PartState>,
    ahead: BTreeMap<u64, Ahead>,
    kept: usize,
    keep_limit: usize,
    file: Option<std::fs::File>,
    /// Reused for every re-read: allocating a chunk per re-read on whichever thread happens to
    /// advance the frontier spreads them over the allocator's per-thread arenas.
    scratch: Vec<u8>,
    /// Set once the bytes sent and the file disagree; the upload must not be committed.
    changed: Option<String>,
}

/// The MD5 of what was sent, fed by the part bodies (see the module docs).
pub struct SentMd5 {
    path: PathBuf,
    inner: Mutex<Inner>,
}

impl SentMd5 {
    /// For parts at the given (offset, length) ranges, which must tile the file.
    pub fn new(path: &Path, ranges: impl IntoIterator<Item = (u64, u64)>) -> SentMd5 {
        SentMd5::with_keep_limit(path, ranges, KEEP_AHEAD)
    }

    pub fn with_keep_limit(path: &Path, ranges: impl IntoIterator<Item = (u64, u64)>, keep_limit: usize) -> SentMd5 {
        let parts = ranges
            .into_iter()
            .map(|(offset, len)| {
                (
                    offset,
                    PartState {
                        len,
                        attempt: 0,
                        read: 0,
                        done: false,
                    },
                )
            })
            .collect();
        SentMd5 {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                md5: Md5::new(),
                frontier: 0,
                base_md5: Md5::new(),
                base: 0,
                parts,
                ahead: BTreeMap::new(),
                kept: 0,
                keep_limit,
                file: None,
                scratch: Vec::new(),
                changed: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent-enough state for the checks below.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new attempt of the part at `offset` starts: whatever an earlier attempt handed over is
    /// forgotten. Returns the attempt number to pass to [`SentMd5::sent`] and [`SentMd5::done`].
    pub fn begin(&self, offset: u64) -> u32 {
        let mut g = self.lock();
        let inner = &mut *g;
        let Some(part) = inner.parts.get_mut(&offset) else {
            return 0;
        };
        part.attempt += 1;
        part.read = 0;
        part.done = false;
        let (attempt, end) = (part.attempt, offset.saturating_add(part.len));
        if inner.base == offset {
            inner.md5 = inner.base_md5.clone();
            inner.frontier = offset;
        }
        let stale: Vec<u64> = inner.ahead.range(offset..end).map(|(k, _)| *k).collect();
        for k in stale {
            if let Some(Ahead::Kept(b)) = inner.ahead.remove(&k) {
                inner.kept -= b.len();
            }
        }
        attempt
    }

    /// `chunk`, at file offset `at`, was read by attempt `attempt` of the part at `part` and is
    /// about to be sent. Costs one hash of the chunk (MD5 at the frontier, SHA-256 when it can no
    /// longer be kept); it does not read the file (only [`SentMd5::done`] moves the frontier past
    /// a part, onto chunks that may have to be read again).
    pub fn sent(&self, part: u64, attempt: u32, at: u64, chunk: &Bytes) {
        let mut g = self.lock();
        let inner = &mut *g;
        match inner.parts.get_mut(&part) {
            Some(p) if p.attempt == attempt => p.read += chunk.len() as u64,
            _ => return,
        }
        // Straight in only for the lowest unfinished part: a chunk of the next part at the
        // frontier must wait until this one succeeded (a retry would rewind past it).
        if at == inner.frontier && part == inner.base {
            inner.md5.update(chunk);
            inner.frontier += chunk.len() as u64;
            self.advance(inner);
        } else if at >= inner.frontier {
            let entry = if inner.kept + chunk.len() <= inner.keep_limit {
                inner.kept += chunk.len();
                Ahead::Kept(chunk.clone())
            } else {
                Ahead::Digest {
                    len: chunk.len(),
                    sha256: Sha256::digest(chunk).into(),
                }
            };
            inner.ahead.insert(at, entry);
        } else {
            // Behind the frontier: only a retry rewinds it, and `begin` did that first.
            inner.changed = Some(format!("bytes at offset {at} were sent twice"));
        }
    }

    /// Attempt `attempt` of the part at `part` succeeded. Call it on a blocking thread.
    pub fn done(&self, part: u64, attempt: u32) {
        let mut g = self.lock();
        let inner = &mut *g;
        match inner.parts.get_mut(&part) {
            Some(p) if p.attempt == attempt => p.done = true,
            _ => return,
        }
        self.advance(inner);
    }

    /// Moves the frontier over kept and verified chunks, and past parts that succeeded.
    fn advance(&self, inner: &mut Inner) {
        while inner.changed.is_none() {
            let end_of_base = inner.parts.get(&inner.base).map(|p| (inner.base + p.len, p.done));
            if let Some((end, done)) = end_of_base {
                if inner.frontier == end {
                    if !done {
                        return;
                    }
                    inner.base = end;
                    inner.base_md5 = inner.md5.clone();
                    continue;
                }
            }
            let at = inner.frontier;
            let Some(next) = inner.ahead.remove(&at) else { return };
            match next {
                Ahead::Kept(b) => {
                    inner.kept -= b.len();
                    inner.md5.update(&b);
                    inner.frontier += b.len() as u64;
                }
                Ahead::Digest { len, sha256 } => match self.reread(inner, at, len) {
                    Ok(()) => {
                        let again = inner.scratch.get(..len).unwrap_or_default();
                        if <[u8; 32]>::from(Sha256::digest(again)) != sha256 {
                            inner.changed = Some(format!("the {len} bytes at offset {at} differ from what was sent"));
                            return;
                        }
                        inner.md5.update(again);
                        inner.frontier += len as u64;
                    }
                    Err(e) => {
                        inner.changed = Some(format!("the bytes at offset {at} could not be read again: {e}"));
                        return;
                    }
                },
            }
        }
    }

    /// Reads `len` bytes at `at` into `inner.scratch`.
    fn reread(&self, inner: &mut Inner, at: u64, len: usize) -> std::io::Result<()> {
        if inner.scratch.len() < len {
            inner.scratch.resize(len, 0);
        }
        let file = match &inner.file {
            Some(f) => f,
            None => inner.file.insert(std::fs::File::open(&self.path)?),
        };
        let buf = inner.scratch.get_mut(..len).unwrap_or_default();
        crate::publish::parts::read_exact_into(file, buf, at)
    }

    /// The lowercase hex MD5 of everything sent, once every part succeeded; the file changed
    /// (or a part did not send all its bytes) otherwise.
    pub fn finish(&self, file_size: u64) -> Result<String, PublishError> {
        let g = self.lock();
        let changed = |detail: String| PublishError::FileChanged {
            path: self.path.display().to_string(),
            detail,
        };
        if let Some(detail) = &g.changed {
            return Err(changed(detail.clone()));
        }
        if let Some((offset, p)) = g.parts.iter().find(|(_, p)| !p.done || p.read != p.len) {
            return Err(changed(format!(
                "the part at offset {offset} sent {} of its {} bytes",
                p.read, p.len
            )));
        }
        if g.frontier != file_size {
            return Err(changed(format!(
                "only the first {} of {file_size} bytes could be checksummed",
                g.frontier
            )));
        }
        Ok(crate::hex::lower(&g.md5.clone().finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5(b: &[u8]) -> String {
        crate::hex::lower(&Md5::digest(b))
    }

    fn file(data: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f.ipa");
        std::fs::write(&path, data).unwrap_or_else(|e| panic!("{e}"));
        (dir, path)
    }

    /// Sends part (offset, len) of `data` in `chunk`-byte pieces, as one attempt.
    fn send(h: &SentMd5, data: &[u8], offset: u64, len: u64, chunk: usize) -> u32 {
        let attempt = h.begin(offset);
        let part = &data[offset as usize..(offset + len) as usize];
        for (i, c) in part.chunks(chunk).enumerate() {
            h.sent(offset, attempt, offset + (i * chunk) as u64, &Bytes::copy_from_slice(c));
        }
        attempt
    }

    #[test]
    fn out_of_order_parts_kept_or_reread_hash_like_the_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (_dir, path) = file(&data);
        let ranges = [(0, 3000), (3000, 3000), (6000, 4000)];
        for keep in [usize::MAX, 2500, 0] {
            let h = SentMd5::with_keep_limit(&path, ranges, keep);
            // The last part first, then the middle, the first last; parts finish out of order.
            let a3 = send(&h, &data, 6000, 4000, 700);
            let a2 = send(&h, &data, 3000, 3000, 700);
            h.done(3000, a2);
            let a1 = send(&h, &data, 0, 3000, 700);
            h.done(6000, a3);
            h.done(0, a1);
            assert_eq!(h.finish(data.len() as u64).ok(), Some(md5(&data)), "keep {keep}");
        }
    }

    #[test]
    fn a_retried_part_counts_only_its_last_attempt() {
        let data = vec![5u8; 6000];
        let (_dir, path) = file(&data);
        let h = SentMd5::with_keep_limit(&path, [(0, 3000), (3000, 3000)], usize::MAX);
        // The first attempt of each part sends garbage and fails (no `done`).
        let garbage = vec![9u8; 6000];
        send(&h, &garbage, 0, 3000, 1000);
        send(&h, &garbage, 3000, 3000, 1000);
        let a2 = send(&h, &data, 3000, 3000, 1000);
        let a1 = send(&h, &data, 0, 3000, 1000);
        // A late chunk of a failed attempt is ignored.
        h.sent(0, a1 - 1, 2000, &Bytes::from_static(&[1; 1000]));
        h.done(0, a1);
        h.done(3000, a2);
        assert_eq!(h.finish(6000).map_err(|e| e.to_string()), Ok(md5(&data)));
    }

    #[test]
    fn the_checksum_is_of_what_was_sent_not_of_the_file_now() {
        let data = vec![1u8; 4000];
        let (_dir, path) = file(&data);
        let h = SentMd5::new(&path, [(0, 2000), (2000, 2000)]);
        let a1 = send(&h, &data, 0, 2000, 500);
        h.done(0, a1);
        // The file changes after the first part went out; the second part sends the new bytes.
        let changed = vec![2u8; 4000];
        std::fs::write(&path, &changed).unwrap_or_else(|e| panic!("{e}"));
        let a2 = send(&h, &changed, 2000, 2000, 500);
        h.done(2000, a2);
        let sent = [&data[..2000], &changed[2000..]].concat();
        assert_eq!(h.finish(4000).ok(), Some(md5(&sent)));
        assert_ne!(md5(&sent), md5(&changed));
    }

    #[test]
    fn a_reread_that_differs_from_what_was_sent_refuses_the_commit() {
        let data = vec![3u8; 4000];
        let (_dir, path) = file(&data);
        // Nothing is kept: the second part's bytes are verified by reading them again.
        let h = SentMd5::with_keep_limit(&path, [(0, 2000), (2000, 2000)], 0);
        let a2 = send(&h, &data, 2000, 2000, 500);
        h.done(2000, a2);
        std::fs::write(&path, vec![4u8; 4000]).unwrap_or_else(|e| panic!("{e}"));
        let a1 = send(&h, &data, 0, 2000, 500);
        h.done(0, a1);
        match h.finish(4000) {
            Err(PublishError::FileChanged { detail, .. }) => assert!(detail.contains("offset 2000"), "{detail}"),
            other => panic!("expected FileChanged, got {other:?}"),
        }
    }

    #[test]
    fn a_part_that_did_not_send_everything_is_not_committed() {
        let data = vec![3u8; 4000];
        let (_dir, path) = file(&data);
        let h = SentMd5::new(&path, [(0, 4000)]);
        let a = h.begin(0);
        h.sent(0, a, 0, &Bytes::copy_from_slice(&data[..1000]));
        h.done(0, a);
        assert!(matches!(h.finish(4000), Err(PublishError::FileChanged { .. })));
    }
}
