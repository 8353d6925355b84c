//! A forward-only reader of the component package's payload: a cpio archive ("odc" `070707` or
//! "newc" `070701`/`070702`), usually gzip'd. Entries are handed out one at a time with a reader
//! over their data; whatever the caller does not read is skipped. Every length read from the
//! stream is checked against the caps before anything is allocated or read.

use std::io::{self, Read};

use crate::error::XarError;

/// A payload entry's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpioEntry {
    /// The path as stored, with a leading `./` or `/` removed (`Foo.app/Contents/Info.plist`).
    pub path: String,
    pub mode: u32,
    pub size: u64,
}

impl CpioEntry {
    pub fn is_file(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }
    pub fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & 0o170000 == 0o120000
    }
}

/// Caps on one payload walk.
#[derive(Debug, Clone, Copy)]
pub struct CpioLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
    pub max_name: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Odc,
    Newc,
}

pub struct Cpio<R> {
    inner: R,
    offset: u64,
    entries: u64,
    /// Data bytes (plus padding) of the current entry not yet consumed.
    pending: u64,
    pad_after: u64,
    limits: CpioLimits,
    done: bool,
}

fn bad(offset: u64, detail: impl Into<String>) -> XarError {
    XarError::BadCpio {
        offset,
        detail: detail.into(),
    }
}

fn field(bytes: &[u8], radix: u32, offset: u64) -> Result<u64, XarError> {
    let s = std::str::from_utf8(bytes).map_err(|_| bad(offset, "a header field is not ASCII"))?;
    u64::from_str_radix(s, radix).map_err(|_| bad(offset, format!("header field `{s}` is not a number")))
}

impl<R: Read> Cpio<R> {
    pub fn new(inner: R, limits: CpioLimits) -> Self {
        Cpio {
            inner,
            offset: 0,
            entries: 0,
            pending: 0,
            pad_after: 0,
            limits,
            done: false,
        }
    }

    /// Bytes of the decompressed payload consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), XarError> {
        let want = buf.len() as u64;
        if self.offset.saturating_add(want) > self.limits.max_bytes {
            return Err(XarError::PayloadTooLarge {
                limit: self.limits.max_bytes,
            });
        }
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad(self.offset, "the payload ends inside an entry")
            } else {
                XarError::Io(e)
            }
        })?;
        self.offset += want;
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Result<(), XarError> {
        if self.offset.saturating_add(n) > self.limits.max_bytes {
            return Err(XarError::PayloadTooLarge {
                limit: self.limits.max_bytes,
            });
        }
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.offset += copied;
        if copied < n {
            return Err(bad(self.offset, "the payload ends inside an entry"));
        }
        Ok(())
    }

    /// The next entry's header, skipping what is left of the previous one; `None` after the
    /// `TRAILER!!!` entry.
    pub fn next_entry(&mut self) -> Result<Option<CpioEntry>, XarError> {
        if self.done {
            return Ok(None);
        }
        let rest = self.pending + self.pad_after;
        self.pending = 0;
        self.pad_after = 0;
        self.skip(rest)?;
        if self.entries >= self.limits.max_entries {
            return Err(XarError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        let start = self.offset;
        let mut magic = [0u8; 6];
        self.read_exact(&mut magic)?;
        let format = match &magic {
            b"070707" => Format::Odc,
            b"070701" | b"070702" => Format::Newc,
            _ => return Err(bad(start, "no cpio header magic (070707 / 070701 / 070702)")),
        };
        let (mode, name_size, file_size) = match format {
            Format::Odc => {
                let mut h = [0u8; 70];
                self.read_exact(&mut h)?;
                // dev ino mode uid gid nlink rdev (6 each), mtime (11), namesize (6), filesize (11)
                (
                    field(&h[12..18], 8, start)?,
                    field(&h[53..59], 8, start)?,
                    field(&h[59..70], 8, start)?,
                )
            }
            Format::Newc => {
                let mut h = [0u8; 104];
                self.read_exact(&mut h)?;
                // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
                (
                    field(&h[8..16], 16, start)?,
                    field(&h[88..96], 16, start)?,
                    field(&h[48..56], 16, start)?,
                )
            }
        };
        let name_size = usize::try_from(name_size).unwrap_or(usize::MAX);
        if name_size == 0 || name_size > self.limits.max_name {
            return Err(bad(
                start,
                format!("name of {name_size} bytes (the limit is {})", self.limits.max_name),
            ));
        }
        let mut name = vec![0u8; name_size];
        self.read_exact(&mut name)?;
        if format == Format::Newc {
            let pad = (4 - (110 + name_size as u64) % 4) % 4;
            self.skip(pad)?;
        }
        if name.last() == Some(&0) {
            name.pop();
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "TRAILER!!!" {
            self.done = true;
            return Ok(None);
        }
        if self.offset.saturating_add(file_size) > self.limits.max_bytes {
            return Err(XarError::PayloadTooLarge {
                limit: self.limits.max_bytes,
            });
        }
        self.entries += 1;
        self.pending = file_size;
        self.pad_after = if format == Format::Newc {
            (4 - file_size % 4) % 4
        } else {
            0
        };
        let path = name.trim_start_matches("./").trim_start_matches('/').to_string();
        Ok(Some(CpioEntry {
            path,
            mode: u32::try_from(mode).unwrap_or(0),
            size: file_size,
        }))
    }

    /// A reader over the current entry's data; stops at the entry's end.
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { cpio: self }
    }
}

/// The current entry's data.
pub struct EntryData<'a, R> {
    cpio: &'a mut Cpio<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.cpio.pending).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.cpio.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the payload ends inside an entry's data",
            ));
        }
        self.cpio.pending -= n as u64;
        self.cpio.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odc(name: &str, mode: u32, data: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "070707{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:06o}{:011o}{:06o}{:011o}",
            0,
            1,
            mode,
            0,
            0,
            1,
            0,
            0,
            name.len() + 1,
            data.len()
        )
        .into_bytes();
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(data);
        out
    }

    const L: CpioLimits = CpioLimits {
        max_bytes: 1 << 20,
        max_entries: 100,
        max_name: 256,
    };

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend(odc(name, 0o100644, data));
        }
        out.extend(odc("TRAILER!!!", 0, &[]));
        out
    }

    #[test]
    fn entries_come_out_in_order_and_unread_data_is_skipped() {
        let bytes = archive(&[("./a", b"hello"), ("./b/c", b"world!")]);
        let mut cpio = Cpio::new(bytes.as_slice(), L);
        let a = cpio.next_entry().unwrap().unwrap();
        assert_eq!((a.path.as_str(), a.size, a.is_file()), ("a", 5, true));
        let b = cpio.next_entry().unwrap().unwrap();
        assert_eq!(b.path, "b/c");
        let mut data = Vec::new();
        cpio.data().read_to_end(&mut data).unwrap();
        assert_eq!(data, b"world!");
        assert_eq!(cpio.next_entry().unwrap(), None);
        assert_eq!(cpio.next_entry().unwrap(), None);
    }

    #[test]
    fn every_cap_and_damage_is_a_typed_error() {
        let bytes = archive(&[("./a", b"x"), ("./b", b"y"), ("./c", b"z")]);
        let walk = |limits: CpioLimits, bytes: &[u8]| -> Result<(), XarError> {
            let mut cpio = Cpio::new(bytes, limits);
            while cpio.next_entry()?.is_some() {}
            Ok(())
        };
        assert!(walk(L, &bytes).is_ok());
        let few = CpioLimits { max_entries: 2, ..L };
        assert!(matches!(walk(few, &bytes), Err(XarError::TooManyEntries { limit: 2 })));
        let small = CpioLimits { max_bytes: 100, ..L };
        assert!(matches!(
            walk(small, &bytes),
            Err(XarError::PayloadTooLarge { limit: 100 })
        ));
        let short_names = CpioLimits { max_name: 2, ..L };
        assert!(matches!(walk(short_names, &bytes), Err(XarError::BadCpio { .. })));
        // Truncated inside the second entry's header.
        assert!(matches!(walk(L, &bytes[..90]), Err(XarError::BadCpio { .. })));
        // Bad magic, and a size field that is not octal.
        let mut garbled = bytes.clone();
        garbled[0] = b'X';
        assert!(matches!(walk(L, &garbled), Err(XarError::BadCpio { offset: 0, .. })));
        let mut not_octal = bytes.clone();
        not_octal[70] = b'9';
        assert!(matches!(walk(L, &not_octal), Err(XarError::BadCpio { .. })));
        // A declared size past the byte cap is refused before any of it is read.
        let huge = odc("./big", 0o100644, &[]);
        let mut huge = huge.clone();
        huge[65..76].copy_from_slice(b"77777777777");
        assert!(matches!(walk(L, &huge), Err(XarError::PayloadTooLarge { .. })));
    }
}
