//! A bounded reader of xar archives, the container of macOS flat installer packages (`.pkg`).
//!
//! It reads the header and the zlib-compressed XML table of contents, looks files up by path,
//! reads small heap files (Distribution, PackageInfo) into memory, and streams a component
//! package's `Payload` (a gzip'd cpio archive) entry by entry, so a caller can stop as soon as it
//! has what it needs. Nothing is extracted to disk. Every size, count and depth read from the file
//! is checked against [`Limits`] before it is used; every failure is a typed [`XarError`], never a
//! panic.
//!
//! Layout (big-endian): `xar!`, header size (u16), version (u16), compressed and uncompressed TOC
//! lengths (u64 each), checksum algorithm (u32); the compressed TOC follows the header, and the
//! heap follows the TOC. Offsets in the TOC are from the start of the heap.

pub mod app;
pub mod cpio;
mod error;
pub mod pkginfo;
pub mod toc;
pub mod xml;

use std::io::{self, Read, Seek, SeekFrom};

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use sha1::Digest as _;

pub use cpio::{Cpio, CpioEntry, CpioLimits};
pub use error::XarError;
pub use toc::{DataRef, Encoding, FileEntry, FileType, Signature, Toc, TocChecksum};

/// The caps every read is checked against. The defaults are far above what Xcode writes (a
/// Mac App Store package's TOC lists a dozen files and is a few KiB).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Compressed TOC bytes read from the file.
    pub max_toc_compressed: u64,
    /// Decompressed TOC (XML) bytes.
    pub max_toc_xml: u64,
    /// `<file>` entries in the TOC.
    pub max_files: usize,
    /// XML elements in any document (TOC, PackageInfo, Distribution).
    pub max_elements: usize,
    /// XML nesting depth (also bounds the `<file>` tree's depth).
    pub max_depth: usize,
    /// Decompressed payload bytes walked before giving up.
    pub max_payload_bytes: u64,
    /// Payload entries walked before giving up.
    pub max_payload_entries: u64,
    /// Bytes of one payload entry's name.
    pub max_name: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_toc_compressed: 16 << 20,
            max_toc_xml: 64 << 20,
            max_files: 10_000,
            max_elements: 200_000,
            max_depth: 64,
            max_payload_bytes: 4 << 30,
            max_payload_entries: 1_000_000,
            max_name: 4096,
        }
    }
}

impl Limits {
    pub fn xml(&self) -> xml::XmlLimits {
        xml::XmlLimits {
            max_depth: self.max_depth,
            max_elements: self.max_elements,
        }
    }

    pub fn cpio(&self) -> CpioLimits {
        CpioLimits {
            max_bytes: self.max_payload_bytes,
            max_entries: self.max_payload_entries,
            max_name: self.max_name,
        }
    }
}

/// What checking the TOC against its stored checksum found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TocIntegrity {
    /// The stored hash matches the compressed TOC.
    Verified,
    /// It does not: the TOC or the heap was changed after the package was written (a signature
    /// over the checksum no longer vouches for the contents).
    Mismatch,
    /// No `<checksum>` element, or one this reader cannot check (its style is given).
    Unchecked(String),
}

const HEADER_LEN: u64 = 28;
const MAX_HEADER_LEN: u64 = 4096;

/// An open xar archive.
pub struct Xar<R> {
    reader: R,
    file_len: u64,
    heap_start: u64,
    toc: Toc,
    integrity: TocIntegrity,
    limits: Limits,
}

impl<R> std::fmt::Debug for Xar<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xar")
            .field("file_len", &self.file_len)
            .field("heap_start", &self.heap_start)
            .field("files", &self.toc.files.len())
            .finish()
    }
}

/// Whether the bytes start like a xar archive.
pub fn is_xar(prefix: &[u8]) -> bool {
    prefix.starts_with(b"xar!")
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

impl<R: Read + Seek> Xar<R> {
    /// Reads the header and the TOC. Fails when either is damaged or over a cap.
    pub fn open(mut reader: R, limits: Limits) -> Result<Self, XarError> {
        let file_len = reader.seek(SeekFrom::End(0))?;
        reader.seek(SeekFrom::Start(0))?;
        let mut h = [0u8; HEADER_LEN as usize];
        if file_len < HEADER_LEN {
            let mut prefix = Vec::new();
            reader.read_to_end(&mut prefix)?;
            return Err(if is_xar(&prefix) {
                XarError::BadHeader(format!("the file is {file_len} bytes, shorter than the header"))
            } else {
                XarError::NotXar
            });
        }
        reader.read_exact(&mut h)?;
        if !is_xar(&h) {
            return Err(XarError::NotXar);
        }
        let header_len = u64::from(u16::from_be_bytes([h[4], h[5]]));
        let version = u16::from_be_bytes([h[6], h[7]]);
        let toc_compressed = be_u64(&h[8..16]);
        let toc_xml = be_u64(&h[16..24]);
        if !(HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len) {
            return Err(XarError::BadHeader(format!("header size {header_len}")));
        }
        if version != 1 {
            return Err(XarError::BadHeader(format!("version {version} (only 1 exists)")));
        }
        if toc_compressed > limits.max_toc_compressed {
            return Err(XarError::TocTooLarge {
                size: toc_compressed,
                limit: limits.max_toc_compressed,
            });
        }
        if toc_xml > limits.max_toc_xml {
            return Err(XarError::TocTooLarge {
                size: toc_xml,
                limit: limits.max_toc_xml,
            });
        }
        let heap_start = header_len + toc_compressed;
        if heap_start > file_len {
            return Err(XarError::BadHeader(format!(
                "the TOC ({toc_compressed} bytes after a {header_len}-byte header) runs past the end of the {file_len}-byte file"
            )));
        }
        reader.seek(SeekFrom::Start(header_len))?;
        let mut compressed = vec![0u8; toc_compressed as usize];
        reader.read_exact(&mut compressed)?;
        let mut xml_bytes = Vec::new();
        // The header's uncompressed length is only a claim: the decoder is capped on its own.
        ZlibDecoder::new(compressed.as_slice())
            .take(limits.max_toc_xml + 1)
            .read_to_end(&mut xml_bytes)
            .map_err(|e| XarError::TocCompression(e.to_string()))?;
        if xml_bytes.len() as u64 > limits.max_toc_xml {
            return Err(XarError::TocTooLarge {
                size: xml_bytes.len() as u64,
                limit: limits.max_toc_xml,
            });
        }
        let root = xml::parse(&xml_bytes, limits.xml()).map_err(|e| match e {
            xml::XmlError::TooDeep(limit) => XarError::TooDeep { limit },
            xml::XmlError::TooManyElements(_) => XarError::TooManyFiles {
                limit: limits.max_files,
            },
            xml::XmlError::Syntax(s) => XarError::TocXml(s),
        })?;
        let toc = toc::from_xml(&root, limits.max_files)?;
        drop(root);
        let mut xar = Xar {
            reader,
            file_len,
            heap_start,
            toc,
            integrity: TocIntegrity::Unchecked(String::new()),
            limits,
        };
        xar.integrity = xar.check_toc(&compressed);
        Ok(xar)
    }

    fn check_toc(&mut self, compressed: &[u8]) -> TocIntegrity {
        let Some(sum) = self.toc.checksum.clone() else {
            return TocIntegrity::Unchecked(String::new());
        };
        let expected = match sum.style.as_str() {
            "sha1" => sha1::Sha1::digest(compressed).to_vec(),
            "sha256" => sha2::Sha256::digest(compressed).to_vec(),
            other => return TocIntegrity::Unchecked(other.to_string()),
        };
        if sum.size != expected.len() as u64 {
            return TocIntegrity::Mismatch;
        }
        match self.read_heap(sum.offset, sum.size, "TOC checksum") {
            Ok(stored) if stored == expected => TocIntegrity::Verified,
            _ => TocIntegrity::Mismatch,
        }
    }

    fn heap_range(&self, path: &str, offset: u64, length: u64) -> Result<u64, XarError> {
        let start = self.heap_start.checked_add(offset);
        match start.and_then(|s| s.checked_add(length)) {
            Some(end) if end <= self.file_len => Ok(self.heap_start + offset),
            _ => Err(XarError::OutOfBounds {
                path: path.to_string(),
                offset,
                length,
                file_len: self.file_len,
            }),
        }
    }

    fn read_heap(&mut self, offset: u64, length: u64, what: &str) -> Result<Vec<u8>, XarError> {
        let start = self.heap_range(what, offset, length)?;
        if length > 1 << 20 {
            return Err(XarError::FileTooLarge {
                path: what.to_string(),
                size: length,
                limit: 1 << 20,
            });
        }
        self.reader.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; length as usize];
        self.reader.read_exact(&mut buf)?;
        Ok(buf)
    }

    pub fn toc(&self) -> &Toc {
        &self.toc
    }

    pub fn integrity(&self) -> &TocIntegrity {
        &self.integrity
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    fn data_of(&self, path: &str) -> Result<DataRef, XarError> {
        let entry = self
            .toc
            .find(path)
            .ok_or_else(|| XarError::NotFound(path.to_string()))?;
        entry
            .data
            .clone()
            .ok_or_else(|| XarError::NoData { path: path.to_string() })
    }

    /// A reader over a heap file's decoded bytes (at most its declared size).
    pub fn open_file(&mut self, path: &str) -> Result<Box<dyn Read + '_>, XarError> {
        let data = self.data_of(path)?;
        let start = self.heap_range(path, data.offset, data.length)?;
        self.reader.seek(SeekFrom::Start(start))?;
        let raw = (&mut self.reader).take(data.length);
        Ok(match data.encoding {
            Encoding::None => Box::new(raw.take(data.size)),
            Encoding::Zlib => Box::new(ZlibDecoder::new(raw).take(data.size)),
            Encoding::Other(encoding) => {
                return Err(XarError::UnsupportedEncoding {
                    path: path.to_string(),
                    encoding,
                });
            }
        })
    }

    /// Reads a heap file into memory; refuses files whose declared size exceeds `max`.
    pub fn read_file(&mut self, path: &str, max: u64) -> Result<Vec<u8>, XarError> {
        let data = self.data_of(path)?;
        if data.size > max {
            return Err(XarError::FileTooLarge {
                path: path.to_string(),
                size: data.size,
                limit: max,
            });
        }
        let mut out = Vec::new();
        let owned = path.to_string();
        self.open_file(path)?
            .read_to_end(&mut out)
            .map_err(|e| XarError::Decode {
                path: owned.clone(),
                detail: e.to_string(),
            })?;
        if (out.len() as u64) < data.size {
            return Err(XarError::Decode {
                path: owned,
                detail: format!("{} bytes decoded, {} declared", out.len(), data.size),
            });
        }
        Ok(out)
    }

    /// The `Payload` files of the component packages: `<name>.pkg/Payload` in a product archive,
    /// or a top-level `Payload` when the archive is itself a component package.
    pub fn payload_paths(&self) -> Vec<String> {
        self.toc
            .files
            .iter()
            .filter(|f| f.kind == FileType::File)
            .filter(|f| match f.path.rsplit_once('/') {
                None => f.path == "Payload",
                Some((dir, "Payload")) => !dir.contains('/') && dir.ends_with(".pkg"),
                Some(_) => false,
            })
            .map(|f| f.path.clone())
            .collect()
    }

    /// Walks a component package's payload, handing each entry and a reader over its data to
    /// `visit` until it returns [`Flow::Stop`] or the payload ends. Unread data is skipped.
    pub fn visit_payload(
        &mut self,
        path: &str,
        mut visit: impl FnMut(&CpioEntry, &mut dyn Read) -> io::Result<Flow>,
    ) -> Result<(), XarError> {
        let cpio_limits = self.limits.cpio();
        let stream = self.open_file(path)?;
        let decoded = decode_payload(stream)?;
        let mut cpio = Cpio::new(decoded, cpio_limits);
        while let Some(entry) = cpio.next_entry()? {
            let mut data = cpio.data();
            match visit(&entry, &mut data) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => break,
                Err(e) => return Err(XarError::Io(e)),
            }
        }
        Ok(())
    }
}

/// What a payload visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Picks the payload's decoder by its first bytes: gzip, or a bare cpio archive.
fn decode_payload<'a>(mut stream: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>, XarError> {
    let mut magic = Vec::with_capacity(6);
    (&mut stream).take(6).read_to_end(&mut magic)?;
    let prefix = io::Cursor::new(magic.clone());
    let whole = prefix.chain(stream);
    if magic.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(MultiGzDecoder::new(whole)));
    }
    if magic.starts_with(b"0707") {
        return Ok(Box::new(whole));
    }
    let format = if magic.starts_with(b"pbz") {
        // Apple's block compression (`compression_tool`): `pbzx` is LZMA, what macOS's own
        // installers and `pkgbuild/productbuild --compression latest` write.
        let algorithm = magic.get(3).map(|b| char::from(*b)).unwrap_or('?');
        format!(
            "Apple block compression `pbz{algorithm}` (written by `pkgbuild`/`productbuild --compression latest` and by Apple's own installers: rebuild with the default compression)"
        )
    } else if magic.starts_with(b"BZh") {
        "bzip2".to_string()
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        "xz".to_string()
    } else if magic.is_empty() {
        "empty".to_string()
    } else {
        let hex: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
        format!("an unknown format (first bytes {})", hex.join(" "))
    };
    Err(XarError::UnsupportedPayload { format })
}
