//! Reading one zip entry's data in place: positional reads of the raw bytes, inflation capped at the
//! declared size, CRC verification, and the forward-only range reader the Mach-O parser uses.
//!
//! We decode entries ourselves (the `zip` crate only parses the central directory for us) because
//! its readers borrow the archive mutably: a reader we own can be kept open across the Mach-O
//! parser's calls, shared between rules through `&Archive`, and bounded exactly as we want.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::macho::RangeReader;

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    Stored,
    Deflated,
    /// Any other method (deflate64, bzip2, lzma, zstd…): Xcode never writes them, we do not read them.
    Other(u16),
}

/// Why an entry's data could not be read, as recorded for the archive rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The inflated bytes do not match the CRC-32 the central directory declares.
    Crc,
    /// The entry inflates past its declared size, or declares more than we are willing to inflate.
    Inflate,
    /// The data ends early, the local header is missing, or it points outside the file.
    Truncated,
    /// Encrypted, or compressed with a method we (and Xcode) do not use.
    Unsupported,
}

/// A problem met while reading an entry; the archive keeps a log of them for the archive rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryProblem {
    pub name: String,
    pub kind: ProblemKind,
    pub detail: String,
}

/// What reading entries revealed so far, shared by every stream of one archive.
#[derive(Debug, Default)]
pub(crate) struct ReadLog {
    pub problems: Vec<EntryProblem>,
    /// `(name, kind)` of every problem kept, so each is recorded once.
    seen: HashSet<(String, ProblemKind)>,
    /// Entries read through to their end with a matching CRC: `--deep` need not read them again.
    pub verified: HashSet<String>,
}

pub(crate) type ProblemLog = Arc<Mutex<ReadLog>>;

/// Upper bound on the problems kept, so a hostile archive cannot grow the log without bound.
const MAX_PROBLEMS: usize = 10_000;

fn lock(log: &ProblemLog) -> std::sync::MutexGuard<'_, ReadLog> {
    // A poisoned lock only means another thread panicked while pushing; the log is still usable.
    log.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn record(log: &ProblemLog, name: &str, kind: ProblemKind, detail: &str) {
    let mut log = lock(log);
    if log.problems.len() < MAX_PROBLEMS && log.seen.insert((name.to_string(), kind)) {
        log.problems.push(EntryProblem {
            name: name.to_string(),
            kind,
            detail: detail.to_string(),
        });
    }
}

pub(crate) fn problems(log: &ProblemLog) -> Vec<EntryProblem> {
    lock(log).problems.clone()
}

pub(crate) fn is_verified(log: &ProblemLog, name: &str) -> bool {
    lock(log).verified.contains(name)
}

/// Reads `buf.len()` bytes at most from `offset` without touching a shared file position, so any
/// number of readers can share one handle.
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// The raw (possibly compressed) bytes of one entry: `[pos, end)` of the archive file.
struct RawData {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for RawData {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

/// Where one entry lives and what it claims to be: everything needed to decode it.
#[derive(Debug, Clone)]
pub(crate) struct EntryLocation {
    pub name: String,
    pub header_offset: u64,
    pub compressed_size: u64,
    pub size: u64,
    pub crc32: u32,
    pub compression: Compression,
    pub encrypted: bool,
}

pub(crate) fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const LOCAL_HEADER_LEN: u64 = 30;

/// A decoded entry as a `Read`: yields exactly the declared number of bytes, then checks that the
/// data really ends there and that the CRC matches. Every failure is logged for the archive rules.
pub(crate) struct EntryStream {
    inner: Box<dyn Read + Send>,
    name: String,
    size: u64,
    produced: u64,
    crc: flate2::Crc,
    /// False once bytes were skipped without being hashed (stored entries seek instead).
    crc_valid: bool,
    expected_crc: u32,
    /// Stored entries can skip by moving the raw position instead of reading.
    stored: Option<RawData>,
    finished: bool,
    log: ProblemLog,
}

impl EntryStream {
    /// Opens an entry for reading; refuses entries declaring more than `max_size` bytes.
    pub fn open(
        file: &Arc<File>,
        file_len: u64,
        loc: &EntryLocation,
        max_size: u64,
        log: &ProblemLog,
    ) -> io::Result<EntryStream> {
        let fail = |kind: ProblemKind, detail: String| {
            record(log, &loc.name, kind, &detail);
            invalid(format!("{}: {detail}", loc.name))
        };
        if loc.encrypted {
            return Err(fail(ProblemKind::Unsupported, "the entry is encrypted".into()));
        }
        if loc.size > max_size {
            return Err(fail(
                ProblemKind::Inflate,
                format!(
                    "the entry declares {} bytes uncompressed, more than the {max_size}-byte limit",
                    loc.size
                ),
            ));
        }
        let mut header = [0u8; LOCAL_HEADER_LEN as usize];
        let mut raw = RawData {
            file: Arc::clone(file),
            pos: loc.header_offset,
            end: loc.header_offset.saturating_add(LOCAL_HEADER_LEN).min(file_len),
        };
        if raw.read_exact(&mut header).is_err() || u32_at(&header, 0) != Some(LOCAL_HEADER_SIG) {
            return Err(fail(ProblemKind::Truncated, "the local file header is missing".into()));
        }
        let name_len = u64::from(u16_at(&header, 26).unwrap_or(0));
        let extra_len = u64::from(u16_at(&header, 28).unwrap_or(0));
        let data_start = loc
            .header_offset
            .checked_add(LOCAL_HEADER_LEN + name_len + extra_len)
            .ok_or_else(|| fail(ProblemKind::Truncated, "the local header offset overflows".into()))?;
        let data_end = data_start
            .checked_add(loc.compressed_size)
            .filter(|end| *end <= file_len)
            .ok_or_else(|| {
                fail(
                    ProblemKind::Truncated,
                    "the entry's data runs past the end of the file".into(),
                )
            })?;
        let raw = RawData {
            file: Arc::clone(file),
            pos: data_start,
            end: data_end,
        };
        let (inner, stored): (Box<dyn Read + Send>, Option<RawData>) = match loc.compression {
            Compression::Stored => {
                if loc.compressed_size != loc.size {
                    return Err(fail(
                        ProblemKind::Truncated,
                        format!(
                            "a stored entry whose sizes disagree ({} bytes stored, {} declared)",
                            loc.compressed_size, loc.size
                        ),
                    ));
                }
                (Box::new(io::empty()), Some(raw))
            }
            Compression::Deflated => (Box::new(flate2::read::DeflateDecoder::new(raw)), None),
            Compression::Other(method) => {
                return Err(fail(
                    ProblemKind::Unsupported,
                    format!("compression method {method} is not supported (Xcode writes stored or deflate)"),
                ));
            }
        };
        Ok(EntryStream {
            inner,
            name: loc.name.clone(),
            size: loc.size,
            produced: 0,
            crc: flate2::Crc::new(),
            crc_valid: true,
            expected_crc: loc.crc32,
            stored,
            finished: false,
            log: Arc::clone(log),
        })
    }

    fn fail(&self, kind: ProblemKind, detail: String) -> io::Error {
        record(&self.log, &self.name, kind, &detail);
        invalid(format!("{}: {detail}", self.name))
    }

    /// Advances `n` bytes: free for stored entries, inflate-and-discard for deflated ones.
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = n.min(self.size.saturating_sub(self.produced));
        if let Some(raw) = self.stored.as_mut() {
            raw.pos = raw.pos.saturating_add(n);
            self.produced = self.produced.saturating_add(n);
            self.crc_valid = false;
            return Ok(());
        }
        let mut scratch = vec![0u8; 64 * 1024];
        let mut left = n;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(scratch.len());
            let got = self.read(scratch.get_mut(..want).unwrap_or_default())?;
            if got == 0 {
                break;
            }
            left -= got as u64;
        }
        Ok(())
    }

    /// Called once the declared size was produced: the data must end here and match the CRC.
    fn finish(&mut self) -> io::Result<()> {
        self.finished = true;
        if self.stored.is_none() {
            let mut probe = [0u8; 1];
            if self
                .inner
                .read(&mut probe)
                .map_err(|e| self.fail(ProblemKind::Truncated, e.to_string()))?
                > 0
            {
                return Err(self.fail(
                    ProblemKind::Inflate,
                    format!("the entry inflates past its declared size of {} bytes", self.size),
                ));
            }
        }
        if self.crc_valid && self.crc.sum() != self.expected_crc {
            return Err(self.fail(
                ProblemKind::Crc,
                format!(
                    "CRC-32 mismatch (declared {:08x}, computed {:08x})",
                    self.expected_crc,
                    self.crc.sum()
                ),
            ));
        }
        if self.crc_valid {
            lock(&self.log).verified.insert(self.name.clone());
        }
        Ok(())
    }
}

impl Read for EntryStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size.saturating_sub(self.produced);
        if left == 0 {
            if !self.finished {
                self.finish()?;
            }
            return Ok(0);
        }
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        let result = match self.stored.as_mut() {
            Some(raw) => raw.read(buf),
            None => self.inner.read(buf),
        };
        let n = result.map_err(|e| self.fail(ProblemKind::Truncated, format!("corrupt data: {e}")))?;
        if n == 0 {
            return Err(self.fail(
                ProblemKind::Truncated,
                format!("the data ends after {} of {} bytes", self.produced, self.size),
            ));
        }
        if let Some(data) = buf.get(..n) {
            self.crc.update(data);
        }
        self.produced = self.produced.saturating_add(n as u64);
        if self.produced == self.size && !self.finished {
            self.finish()?;
        }
        Ok(n)
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

/// Re-opening an entry restarts its decompression; more than this many backward jumps means the
/// caller is not reading in increasing order and would make us inflate the entry over and over.
const MAX_REOPENS: u32 = 64;

/// A [`RangeReader`] over one entry that streams forward: gaps are inflated and discarded, and a
/// backward jump re-opens the entry. Memory stays bounded by the ranges the caller asks for.
pub struct EntryRangeReader {
    opener: Box<dyn Fn() -> io::Result<EntryStream> + Send>,
    stream: Option<EntryStream>,
    pos: u64,
    len: u64,
    reopens: u32,
}

impl EntryRangeReader {
    pub(crate) fn new(len: u64, first: EntryStream, opener: Box<dyn Fn() -> io::Result<EntryStream> + Send>) -> Self {
        EntryRangeReader {
            opener,
            stream: Some(first),
            pos: 0,
            len,
            reopens: 0,
        }
    }
}

impl std::fmt::Debug for EntryRangeReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryRangeReader")
            .field("pos", &self.pos)
            .field("len", &self.len)
            .finish()
    }
}

impl RangeReader for EntryRangeReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        if offset >= self.len || len == 0 {
            return Ok(Vec::new());
        }
        let want = (len as u64).min(self.len - offset);
        if self.stream.is_none() || offset < self.pos {
            if self.stream.is_some() {
                self.reopens += 1;
                if self.reopens > MAX_REOPENS {
                    return Err(invalid("too many backward reads of one archive entry"));
                }
            }
            self.stream = Some((self.opener)()?);
            self.pos = 0;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(Vec::new());
        };
        stream.skip(offset - self.pos)?;
        self.pos = offset;
        // Grow with the data actually inflated, never with the size asked for.
        let mut out = Vec::with_capacity(usize::try_from(want).unwrap_or(0).min(1 << 20));
        let got = stream.by_ref().take(want).read_to_end(&mut out)?;
        self.pos = self.pos.saturating_add(got as u64);
        Ok(out)
    }
}
