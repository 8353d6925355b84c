//! What processing reads from a committed IPA, like Apple's: the main app's bundle id (a mismatch
//! with the app record fails processing with 90054) and its minimum OS version (shown on the
//! build). Anything that is not a readable IPA is left alone: tests upload arbitrary bytes.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use bytes::Bytes;

/// Info.plist files larger than this are not read.
const MAX_PLIST: u64 = 4 * 1024 * 1024;

/// Where one part's bytes are.
pub(crate) enum PartBytes {
    Memory(Bytes),
    File(PathBuf),
}

/// Facts from `Payload/*.app/Info.plist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpaFacts {
    pub bundle_id: Option<String>,
    pub min_os_version: Option<String>,
}

/// Reads the facts; `None` when the bytes are not an IPA with a main app Info.plist.
/// Blocking: call from `spawn_blocking`.
pub(crate) fn read_facts(parts: Vec<(PartBytes, u64)>) -> Option<IpaFacts> {
    let mut reader = Chain::new(parts);
    let mut magic = [0u8; 4];
    let is_pkg = reader.read_exact(&mut magic).is_ok() && xar_read::is_xar(&magic);
    reader.seek(SeekFrom::Start(0)).ok()?;
    let buf = if is_pkg {
        // A macOS .pkg: the payload is streamed only until the app's Info.plist.
        let mut xar = xar_read::Xar::open(reader, xar_read::Limits::default()).ok()?;
        xar_read::app::find_info_plist(&mut xar, MAX_PLIST).ok()??.bytes
    } else {
        let mut archive = zip::ZipArchive::new(reader).ok()?;
        let name = archive
            .file_names()
            .filter_map(Result::ok)
            .find(|n| is_main_info_plist(n))?
            .into_owned();
        let entry = archive.by_name(&name).ok()?;
        if entry.size() > MAX_PLIST {
            return None;
        }
        let mut buf = Vec::new();
        entry.take(MAX_PLIST).read_to_end(&mut buf).ok()?;
        buf
    };
    // An uploaded IPA is untrusted: the same nesting guard as the client's reader, so a hostile
    // upload cannot overflow the simulator's stack when the parsed value is dropped.
    let dict = plist_guard::parse_dict(&buf).ok()?;
    let get = |k: &str| dict.get(k).and_then(plist::Value::as_string).map(str::to_owned);
    Some(IpaFacts {
        bundle_id: get("CFBundleIdentifier"),
        min_os_version: get("MinimumOSVersion").or_else(|| get("LSMinimumSystemVersion")),
    })
}

/// `Payload/<Name>.app/Info.plist`, exactly (not a nested bundle's).
fn is_main_info_plist(name: &str) -> bool {
    let mut parts = name.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("Payload"), Some(app), Some("Info.plist"), None) if app.ends_with(".app") && app.len() > 4
    )
}

/// The parts, in order, read as one file.
struct Chain {
    parts: Vec<(PartBytes, u64)>,
    total: u64,
    pos: u64,
    open: Option<(usize, std::fs::File)>,
}

impl Chain {
    fn new(parts: Vec<(PartBytes, u64)>) -> Self {
        let total = parts.iter().map(|(_, len)| *len).fold(0u64, u64::saturating_add);
        Chain {
            parts,
            total,
            pos: 0,
            open: None,
        }
    }

    /// The part holding `pos` and the offset inside it.
    fn locate(&self) -> Option<(usize, u64)> {
        let mut start = 0u64;
        for (i, (_, len)) in self.parts.iter().enumerate() {
            if self.pos < start.saturating_add(*len) {
                return Some((i, self.pos - start));
            }
            start = start.saturating_add(*len);
        }
        None
    }
}

impl Read for Chain {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((index, inner)) = self.locate() else {
            return Ok(0);
        };
        let Some((part, len)) = self.parts.get(index) else {
            return Ok(0);
        };
        let want = usize::try_from(len.saturating_sub(inner))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = match part {
            PartBytes::Memory(bytes) => {
                let from = usize::try_from(inner).unwrap_or(usize::MAX);
                let src = bytes.get(from..from.saturating_add(want)).unwrap_or(&[]);
                let dst = buf.get_mut(..src.len()).unwrap_or(&mut []);
                dst.copy_from_slice(src);
                src.len()
            }
            PartBytes::File(path) => {
                if self.open.as_ref().is_none_or(|(i, _)| *i != index) {
                    self.open = Some((index, std::fs::File::open(path)?));
                }
                let Some((_, file)) = self.open.as_mut() else {
                    return Ok(0);
                };
                file.seek(SeekFrom::Start(inner))?;
                let dst = buf.get_mut(..want).unwrap_or(&mut []);
                file.read(dst)?
            }
        };
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for Chain {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.total.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target =
            target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start"))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn ipa(bundle_id: &str) -> Vec<u8> {
        let mut plist = Vec::new();
        let mut dict = plist::Dictionary::new();
        dict.insert("CFBundleIdentifier".into(), bundle_id.into());
        dict.insert("MinimumOSVersion".into(), "17.0".into());
        plist::Value::Dictionary(dict).to_writer_xml(&mut plist).unwrap();
        zipped(&plist)
    }

    fn zipped(plist: &[u8]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("Payload/Demo.app/Frameworks/X.framework/Info.plist", opts)
            .unwrap();
        zip.write_all(b"not this one").unwrap();
        zip.start_file("Payload/Demo.app/Info.plist", opts).unwrap();
        zip.write_all(plist).unwrap();
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn reads_the_main_info_plist_across_parts() {
        let bytes = ipa("com.example.demo");
        let (a, b) = bytes.split_at(bytes.len() / 3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2");
        std::fs::write(&path, b).unwrap();
        let parts = vec![
            (PartBytes::Memory(Bytes::copy_from_slice(a)), a.len() as u64),
            (PartBytes::File(path), b.len() as u64),
        ];
        let facts = read_facts(parts).unwrap();
        assert_eq!(facts.bundle_id.as_deref(), Some("com.example.demo"));
        assert_eq!(facts.min_os_version.as_deref(), Some("17.0"));
    }

    #[test]
    fn other_bytes_are_not_an_ipa() {
        let parts = vec![(PartBytes::Memory(Bytes::from_static(b"hello")), 5)];
        assert_eq!(read_facts(parts), None);
        assert!(!is_main_info_plist("Payload/.app/Info.plist"));
        assert!(!is_main_info_plist("Payload/A.app/PlugIns/B.appex/Info.plist"));
    }

    #[test]
    fn a_deeply_nested_info_plist_is_not_read() {
        // 250k levels overflowed the test thread's stack when the parsed value was dropped.
        let depth = 250_000;
        let mut plist = b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>CFBundleIdentifier</key><string>a.b</string><key>X</key>".to_vec();
        plist.extend("<array>".repeat(depth).as_bytes());
        plist.extend("</array>".repeat(depth).as_bytes());
        plist.extend(b"</dict></plist>");
        let bytes = zipped(&plist);
        let len = bytes.len() as u64;
        assert_eq!(read_facts(vec![(PartBytes::Memory(Bytes::from(bytes)), len)]), None);
    }
}
