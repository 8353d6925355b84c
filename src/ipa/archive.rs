//! The IPA as a zip archive read in place: central directory, entry metadata, bounded reads.
//!
//! Only the central directory is parsed up front (by the `zip` crate); entry data is decoded on
//! demand by [`crate::ipa::entry`]. Nothing is ever extracted to disk, so hostile names (absolute,
//! `..`, symlinks) are only ever reported, never followed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::ipa::EntrySource;
use crate::ipa::entry::{self, Compression, EntryLocation, EntryProblem, EntryRangeReader, EntryStream, ProblemLog};

/// How far the reader goes before giving up; the defaults fit every real IPA with a wide margin.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// More central-directory entries than this and the archive is refused (exit 2).
    pub max_entries: usize,
    /// The most one entry may declare (and so inflate to); bigger entries are refused when read.
    pub max_entry_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 500_000,
            // Apple's per-app limits are a few GiB; anything past this is a bomb, not an app.
            max_entry_size: 16 << 30,
        }
    }
}

/// One central-directory entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntryMeta {
    /// The name as stored (directories end with `/`); non-UTF-8 bytes are replaced (see `utf8_name`).
    pub name: String,
    /// Whether the stored name bytes were valid UTF-8.
    pub utf8_name: bool,
    pub compressed_size: u64,
    /// Declared uncompressed size.
    pub size: u64,
    pub crc32: u32,
    pub unix_mode: Option<u32>,
    pub is_dir: bool,
    pub is_symlink: bool,
    /// Offset of the local file header in the file.
    pub header_offset: u64,
    pub compression: Compression,
    pub encrypted: bool,
}

impl EntryMeta {
    fn location(&self) -> EntryLocation {
        EntryLocation {
            name: self.name.clone(),
            header_offset: self.header_offset,
            compressed_size: self.compressed_size,
            size: self.size,
            crc32: self.crc32,
            compression: self.compression,
            encrypted: self.encrypted,
        }
    }
}

/// An opened IPA.
pub struct Archive {
    pub path: PathBuf,
    file: Arc<File>,
    file_len: u64,
    /// Where the central directory starts: local data must end before it.
    central_directory_start: u64,
    entries: Vec<EntryMeta>,
    by_name: HashMap<String, usize>,
    duplicate_names: bool,
    limits: Limits,
    problems: ProblemLog,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("path", &self.path)
            .field("file_len", &self.file_len)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Why an IPA cannot be read at all (exit 2). Problems inside a readable IPA are findings instead.
#[derive(Debug, thiserror::Error)]
pub enum IpaError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable zip archive: {reason}")]
    NotZip { path: PathBuf, reason: String },
    #[error("{path} lists {count} entries, more than the {limit} an IPA may reasonably have")]
    TooManyEntries { path: PathBuf, count: u64, limit: usize },
    #[error("{path}: {entry} nests arrays and dictionaries more than {limit} levels deep; refusing to read the IPA")]
    TooDeep { path: PathBuf, entry: String, limit: usize },
}

impl From<IpaError> for Error {
    fn from(e: IpaError) -> Self {
        let hint = match &e {
            IpaError::Open { .. } => {
                "check the path to the .ipa (it is usually the output of `xcodebuild -exportArchive`)"
            }
            IpaError::NotZip { .. } => {
                "an .ipa is a zip archive; re-export it from Xcode, and make sure the CI artifact was not truncated"
            }
            IpaError::TooManyEntries { .. } => {
                "this is not an Xcode export (or it is a zip bomb); re-export the app with `xcodebuild -exportArchive`"
            }
            IpaError::TooDeep { .. } => {
                "real Info.plists, entitlements and profiles nest a few levels; this file was crafted or damaged. \
                 Re-export the app with `xcodebuild -exportArchive` and check what modifies the IPA afterwards"
            }
        };
        Error::new(ErrorKind::Usage, e.to_string())
            .with_hint(hint)
            .with_source(e)
    }
}

/// Opens an IPA with the default [`Limits`].
pub fn open(path: &Path) -> Result<Archive, IpaError> {
    open_with(path, Limits::default())
}

/// Opens an IPA: reads the central directory only.
pub fn open_with(path: &Path, limits: Limits) -> Result<Archive, IpaError> {
    let open_err = |source| IpaError::Open {
        path: path.to_path_buf(),
        source,
    };
    let not_zip = |reason: String| IpaError::NotZip {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(open_err)?;
    let meta = file.metadata().map_err(open_err)?;
    if meta.is_dir() {
        return Err(not_zip("it is a directory".into()));
    }
    let file_len = meta.len();
    if file_len == 0 {
        return Err(not_zip("the file is empty".into()));
    }
    // The zip crate allocates per declared entry; refuse absurd counts before it starts.
    if let Some(count) = crate::ipa::eocd::declared_entry_count(&file, file_len)
        && count > limits.max_entries as u64
    {
        return Err(IpaError::TooManyEntries {
            path: path.to_path_buf(),
            count,
            limit: limits.max_entries,
        });
    }
    let reader = BufReader::with_capacity(64 * 1024, file.try_clone().map_err(open_err)?);
    let zip = zip::ZipArchive::new(reader).map_err(|e| not_zip(e.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(IpaError::TooManyEntries {
            path: path.to_path_buf(),
            count: zip.len() as u64,
            limit: limits.max_entries,
        });
    }
    let mut entries = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let e = zip.by_index_data(i).map_err(|e| not_zip(e.to_string()))?;
        entries.push(entry_meta(&e));
    }
    let mut by_name = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        by_name.entry(e.name.clone()).or_insert(i);
    }
    Ok(Archive {
        path: path.to_path_buf(),
        file: Arc::new(file),
        file_len,
        central_directory_start: zip.central_directory_start(),
        // Distinct raw names can decode to one string (invalid UTF-8 replaced): count those too.
        duplicate_names: zip.has_duplicate_names() || by_name.len() < entries.len(),
        entries,
        by_name,
        limits,
        problems: ProblemLog::default(),
    })
}

fn entry_meta(e: &zip::read::ZipFileEntry<'_>) -> EntryMeta {
    let raw = e.name_raw();
    let (name, utf8_name) = match std::str::from_utf8(raw) {
        Ok(s) => (s.to_string(), true),
        Err(_) => (String::from_utf8_lossy(raw).into_owned(), false),
    };
    let unix_mode = e.unix_mode();
    let file_type = unix_mode.map(|m| m & 0o170_000);
    let compression = match e.compression() {
        zip::CompressionMethod::Stored => Compression::Stored,
        zip::CompressionMethod::Deflated => Compression::Deflated,
        #[allow(deprecated)]
        other => Compression::Other(compression_code(other)),
    };
    EntryMeta {
        is_dir: name.ends_with('/') || file_type == Some(0o040_000),
        is_symlink: file_type == Some(0o120_000),
        name,
        utf8_name,
        compressed_size: e.compressed_size(),
        size: e.size(),
        crc32: e.crc32(),
        unix_mode,
        header_offset: e.header_start(),
        compression,
        encrypted: e.encrypted(),
    }
}

#[allow(deprecated)]
fn compression_code(method: zip::CompressionMethod) -> u16 {
    match method {
        zip::CompressionMethod::Unsupported(code) => code,
        // Methods the zip crate knows but we have not enabled; the exact number only decorates
        // the message, so any non-0/8 value will do.
        _ => 0xFFFF,
    }
}

/// Two entries whose local data ranges share bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub first: String,
    pub second: String,
}

impl Archive {
    /// Every entry, in central-directory order.
    pub fn entries(&self) -> &[EntryMeta] {
        &self.entries
    }

    pub fn entry(&self, name: &str) -> Option<&EntryMeta> {
        self.by_name.get(name).and_then(|&i| self.entries.get(i))
    }

    /// Size of the .ipa on disk.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether the central directory lists one name more than once (which copy wins depends on
    /// the tool that extracts it).
    pub fn has_duplicate_names(&self) -> bool {
        self.duplicate_names
    }

    /// Problems met so far while reading entry data (CRC, inflate cap, truncation).
    pub fn problems(&self) -> Vec<EntryProblem> {
        entry::problems(&self.problems)
    }

    /// Entries whose data ranges overlap each other or the central directory. The range of an entry
    /// is taken as its local header (without the local extra field, which we do not read) plus its
    /// compressed data: a lower bound, so this never reports a well-formed archive.
    pub fn overlaps(&self) -> Vec<Overlap> {
        let mut ranges: Vec<(u64, u64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let fixed = 30u64.checked_add(e.name.len() as u64)?;
                let end = e.header_offset.checked_add(fixed)?.checked_add(e.compressed_size)?;
                Some((e.header_offset, end, i))
            })
            .collect();
        ranges.sort_unstable();
        let mut out = Vec::new();
        // Track the range reaching furthest so far, so one long entry overlapping many is caught.
        let mut reach: Option<(u64, usize)> = None;
        for &(start, end, i) in &ranges {
            if let Some((far, j)) = reach
                && start < far
                && out.len() < 1000
            {
                out.push(self.overlap(j, i));
            }
            if reach.is_none_or(|(far, _)| end > far) {
                reach = Some((end, i));
            }
            if end > self.central_directory_start && start < self.central_directory_start && out.len() < 1000 {
                out.push(Overlap {
                    first: self.name_of(i),
                    second: "(central directory)".into(),
                });
            }
        }
        out
    }

    fn overlap(&self, a: usize, b: usize) -> Overlap {
        Overlap {
            first: self.name_of(a),
            second: self.name_of(b),
        }
    }

    fn name_of(&self, i: usize) -> String {
        self.entries.get(i).map(|e| e.name.clone()).unwrap_or_default()
    }

    fn open_stream(&self, name: &str) -> io::Result<(EntryStream, u64)> {
        let meta = self.entry(name).ok_or_else(|| not_found(name))?;
        let stream = EntryStream::open(
            &self.file,
            self.file_len,
            &meta.location(),
            self.limits.max_entry_size,
            &self.problems,
        )?;
        Ok((stream, meta.size))
    }

    /// A forward-streaming [`crate::macho::RangeReader`] over one entry, for parsing executables
    /// without loading them whole.
    pub fn range_reader(&self, name: &str) -> io::Result<EntryRangeReader> {
        let meta = self.entry(name).ok_or_else(|| not_found(name))?;
        let file = Arc::clone(&self.file);
        let file_len = self.file_len;
        let loc = meta.location();
        let max = self.limits.max_entry_size;
        let log = Arc::clone(&self.problems);
        let opener = move || EntryStream::open(&file, file_len, &loc, max, &log);
        // Open once now, so an entry that cannot be decoded at all fails here (and is logged)
        // even if the parser never asks for a byte.
        let first = opener()?;
        Ok(EntryRangeReader::new(meta.size, first, Box::new(opener)))
    }

    /// Reads every file entry not yet read through to its end, so CRC and inflate problems land in
    /// [`Archive::problems`]. Used by `--deep`; costs a decompression of the rest of the archive.
    pub fn verify_all(&self) {
        let mut buf = vec![0u8; 256 * 1024];
        for e in &self.entries {
            if e.is_dir || e.is_symlink || entry::is_verified(&self.problems, &e.name) {
                continue;
            }
            // Errors are already logged by the stream; nothing else to do with them here.
            if let Ok((mut s, _)) = self.open_stream(&e.name) {
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
            }
        }
    }
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no entry named {name}"))
}

impl EntrySource for Archive {
    fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }

    fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn read(&self, name: &str, limit: u64) -> io::Result<Vec<u8>> {
        let meta = self.entry(name).ok_or_else(|| not_found(name))?;
        if meta.size > limit {
            return Err(entry::invalid(format!(
                "{name} is {} bytes, more than the {limit}-byte limit for reading it whole",
                meta.size
            )));
        }
        let (mut stream, size) = self.open_stream(name)?;
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        stream.read_to_end(&mut out)?;
        Ok(out)
    }

    fn stream(&self, name: &str, sink: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<u64> {
        let (mut stream, _) = self.open_stream(name)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            sink(buf.get(..n).unwrap_or_default())?;
            total = total.saturating_add(n as u64);
        }
    }
}
