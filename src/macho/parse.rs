//! Reading fat headers, Mach-O headers and load commands from a forward-streaming [`RangeReader`].

use super::signature::parse_signature;
use super::{
    Binary, BuildVersion, EncryptionInfo, FileType, MachOError, RangeReader, Segment, SignatureLocation, Slice,
    format_version, platform_name,
};

const FAT_MAGIC: u32 = 0xcafe_babe;
const FAT_MAGIC_64: u32 = 0xcafe_babf;
const MH_MAGIC: u32 = 0xfeed_face;
const MH_MAGIC_64: u32 = 0xfeed_facf;

/// At most this many fat slices are read (real files have 1 to 4).
pub(crate) const MAX_SLICES: u32 = 16;
/// Load commands larger than this are refused (real ones are a few KiB to a few hundred KiB).
pub(crate) const MAX_SIZEOFCMDS: u32 = 16 << 20;
/// At most this many dylib names and segments are kept per slice.
const MAX_NAMES: usize = 4096;
/// Signatures larger than this are not read (a 1 GiB binary has about 15 MiB of hashes).
pub(crate) const MAX_SIGNATURE: u32 = 32 << 20;

const LC_SEGMENT: u32 = 0x1;
const LC_LOAD_DYLIB: u32 = 0xc;
const LC_SEGMENT_64: u32 = 0x19;
const LC_CODE_SIGNATURE: u32 = 0x1d;
const LC_LAZY_LOAD_DYLIB: u32 = 0x20;
const LC_ENCRYPTION_INFO: u32 = 0x21;
const LC_VERSION_MIN_MACOSX: u32 = 0x24;
const LC_VERSION_MIN_IPHONEOS: u32 = 0x25;
const LC_ENCRYPTION_INFO_64: u32 = 0x2c;
const LC_VERSION_MIN_TVOS: u32 = 0x2f;
const LC_VERSION_MIN_WATCHOS: u32 = 0x30;
const LC_BUILD_VERSION: u32 = 0x32;
const LC_LOAD_WEAK_DYLIB: u32 = 0x8000_0018;
const LC_REEXPORT_DYLIB: u32 = 0x8000_001f;
const LC_LOAD_UPWARD_DYLIB: u32 = 0x8000_0023;

/// Byte order of a thin Mach-O image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

pub(crate) fn u32_at(buf: &[u8], off: usize, e: Endian) -> Option<u32> {
    let b: [u8; 4] = buf.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(match e {
        Endian::Little => u32::from_le_bytes(b),
        Endian::Big => u32::from_be_bytes(b),
    })
}

pub(crate) fn u64_at(buf: &[u8], off: usize, e: Endian) -> Option<u64> {
    let b: [u8; 8] = buf.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(match e {
        Endian::Little => u64::from_le_bytes(b),
        Endian::Big => u64::from_be_bytes(b),
    })
}

/// A fixed-size, NUL-padded name (segment and section names).
fn fixed_name(buf: &[u8], off: usize, len: usize) -> Option<String> {
    let raw = buf.get(off..off.checked_add(len)?)?;
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    Some(String::from_utf8_lossy(raw.get(..end)?).into_owned())
}

/// Reads up to this size are kept for re-reads (headers); larger ones are not copied twice.
const MAX_CACHED: usize = 64 << 10;

/// Serves re-reads of the last range from memory, so the underlying reader only ever sees
/// increasing, non-overlapping ranges while this parser reads headers piecewise.
struct Forward<'a> {
    inner: &'a mut dyn RangeReader,
    total: u64,
    cache_off: u64,
    cache: Vec<u8>,
}

impl Forward<'_> {
    fn read(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let cache_end = self.cache_off + self.cache.len() as u64;
        if offset >= self.cache_off && offset <= cache_end {
            let skip = (offset - self.cache_off) as usize;
            let mut out: Vec<u8> = self
                .cache
                .get(skip..)
                .unwrap_or_default()
                .iter()
                .take(len)
                .copied()
                .collect();
            if out.len() < len && cache_end < self.total {
                let rest = self.inner.read_range(cache_end, len - out.len())?;
                out.extend_from_slice(&rest);
            }
            self.remember(offset, &out);
            return Ok(out);
        }
        let out = self.inner.read_range(offset, len)?;
        self.remember(offset, &out);
        Ok(out)
    }

    fn remember(&mut self, offset: u64, out: &[u8]) {
        if out.len() <= MAX_CACHED {
            self.cache_off = offset;
            self.cache.clear();
            self.cache.extend_from_slice(out);
        } else {
            // Large reads (load commands, signatures) are not re-read; keep only where they ended.
            self.cache_off = offset + out.len() as u64;
            self.cache.clear();
        }
    }
}

/// Reads exactly `len` bytes or reports truncation.
fn read_exact(r: &mut Forward, offset: u64, len: usize, what: &str) -> Result<Vec<u8>, MachOError> {
    let buf = r.read(offset, len)?;
    if buf.len() < len {
        return Err(MachOError::Truncated(format!(
            "{what} at offset {offset} needs {len} bytes, only {} available",
            buf.len()
        )));
    }
    Ok(buf)
}

/// Parses an executable: thin or fat, every slice's load commands and code signature.
pub fn parse(reader: &mut dyn RangeReader) -> Result<Binary, MachOError> {
    let total = reader.len();
    if total == 0 {
        return Err(MachOError::Empty);
    }
    let mut r = Forward {
        inner: reader,
        total,
        cache_off: 0,
        cache: Vec::new(),
    };
    let head = r.read(0, 8)?;
    let magic_be = head
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or(MachOError::NotMachO)?;
    match magic_be {
        FAT_MAGIC | FAT_MAGIC_64 => parse_fat(&mut r, total, magic_be == FAT_MAGIC_64),
        MH_MAGIC | MH_MAGIC_64 | 0xcefa_edfe | 0xcffa_edfe => {
            let slice = parse_slice(&mut r, 0, total, None)?;
            Ok(Binary {
                fat: false,
                slices: vec![slice],
                problems: Vec::new(),
            })
        }
        _ => Err(MachOError::NotMachO),
    }
}

struct FatArch {
    cputype: u32,
    offset: u64,
    size: u64,
}

fn parse_fat(r: &mut Forward, total: u64, is_64: bool) -> Result<Binary, MachOError> {
    let head = read_exact(r, 0, 8, "fat header")?;
    let n = u32_at(&head, 4, Endian::Big).ok_or(MachOError::NotMachO)?;
    if n == 0 {
        return Err(MachOError::NoSlices("the fat header lists no architectures".into()));
    }
    if n > MAX_SLICES {
        // Java class files share the 0xcafebabe magic; their "count" is a class-file version.
        return Err(MachOError::TooManySlices(n));
    }
    let entry = if is_64 { 32usize } else { 20 };
    let table = read_exact(r, 8, entry * n as usize, "fat architecture table")?;
    let mut archs = Vec::new();
    for i in 0..n as usize {
        let base = i * entry;
        let field = |k: usize| u32_at(&table, base + k, Endian::Big).unwrap_or(0);
        let (offset, size) = if is_64 {
            (
                u64_at(&table, base + 8, Endian::Big).unwrap_or(0),
                u64_at(&table, base + 16, Endian::Big).unwrap_or(0),
            )
        } else {
            (u64::from(field(8)), u64::from(field(12)))
        };
        archs.push(FatArch {
            cputype: field(0),
            offset,
            size,
        });
    }
    archs.sort_by_key(|a| a.offset);

    let mut binary = Binary {
        fat: true,
        slices: Vec::new(),
        problems: Vec::new(),
    };
    let table_end = 8 + (entry * n as usize) as u64;
    let mut previous_end = table_end;
    let mut last_error = None;
    for a in archs {
        let end = a.offset.checked_add(a.size);
        let bad = match end {
            _ if a.size == 0 => Some("is empty".to_string()),
            None => Some("has an offset and size that overflow".to_string()),
            Some(e) if e > total => Some(format!("ends at {e}, past the end of the file ({total} bytes)")),
            Some(_) if a.offset < previous_end => Some(format!(
                "at offset {} overlaps the fat header or another slice",
                a.offset
            )),
            Some(_) => None,
        };
        if let Some(why) = bad {
            binary
                .problems
                .push(format!("fat slice for cputype {:#x} {why}; skipped", a.cputype));
            continue;
        }
        previous_end = end.unwrap_or(previous_end);
        match parse_slice(r, a.offset, a.size, Some(a.cputype)) {
            Ok(s) => binary.slices.push(s),
            // Unreadable input and hostile input end the parse; anything else skips the slice.
            Err(e @ (MachOError::Io(_) | MachOError::TooDeep { .. })) => return Err(e),
            Err(e) => {
                binary
                    .problems
                    .push(format!("fat slice at offset {} is unreadable: {e}", a.offset));
                last_error = Some(e.to_string());
            }
        }
    }
    if binary.slices.is_empty() {
        return Err(MachOError::NoSlices(
            last_error.unwrap_or_else(|| binary.problems.join("; ")),
        ));
    }
    Ok(binary)
}

/// Names an architecture the way `lipo -info` does.
pub fn arch_name(cputype: u32, cpusubtype: u32) -> String {
    let sub = cpusubtype & 0x00ff_ffff;
    let s = match (cputype, sub) {
        (0x0100_000c, 2) => "arm64e",
        (0x0100_000c, _) => "arm64",
        (0x0200_000c, _) => "arm64_32",
        (12, 9) => "armv7",
        (12, 11) => "armv7s",
        (12, 12) => "armv7k",
        (12, 6) => "armv6",
        (12, _) => "arm",
        (0x0100_0007, 8) => "x86_64h",
        (0x0100_0007, _) => "x86_64",
        (7, _) => "i386",
        _ => return format!("unknown({cputype})"),
    };
    s.to_string()
}

fn parse_slice(r: &mut Forward, offset: u64, size: u64, fat_cputype: Option<u32>) -> Result<Slice, MachOError> {
    let head = r.read(offset, size.min(32) as usize)?;
    let (endian, is_64) = match head.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
        Some([0xfe, 0xed, 0xfa, 0xce]) => (Endian::Big, false),
        Some([0xfe, 0xed, 0xfa, 0xcf]) => (Endian::Big, true),
        Some([0xce, 0xfa, 0xed, 0xfe]) => (Endian::Little, false),
        Some([0xcf, 0xfa, 0xed, 0xfe]) => (Endian::Little, true),
        _ => return Err(MachOError::NotMachO),
    };
    let header_size: u64 = if is_64 { 32 } else { 28 };
    if (head.len() as u64) < header_size || size < header_size {
        return Err(MachOError::Truncated("Mach-O header".into()));
    }
    let field = |k: usize| u32_at(&head, k, endian).unwrap_or(0);
    let (cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags) =
        (field(4), field(8), field(12), field(16), field(20), field(24));
    let mut slice = Slice {
        arch: arch_name(cputype, cpusubtype),
        cputype,
        cpusubtype,
        offset,
        size,
        is_64_bit: is_64,
        filetype: FileType::from_raw(filetype),
        flags,
        build: None,
        encryption: None,
        segments: Vec::new(),
        has_bitcode: false,
        dylibs: Vec::new(),
        code_signature_location: None,
        signature: None,
        problems: Vec::new(),
    };
    if let Some(ft) = fat_cputype.filter(|&c| c != cputype) {
        slice.problems.push(format!(
            "the fat header says cputype {ft:#x}, the slice header {cputype:#x}"
        ));
    }
    let room = size - header_size;
    let mut cmds_len = sizeofcmds;
    if u64::from(sizeofcmds) > room || sizeofcmds > MAX_SIZEOFCMDS {
        slice.problems.push(format!(
            "sizeofcmds {sizeofcmds} exceeds the slice ({room} bytes after the header) or the {MAX_SIZEOFCMDS}-byte cap; load commands truncated"
        ));
        cmds_len = (room.min(u64::from(MAX_SIZEOFCMDS))) as u32;
    }
    let cmds = r.read(offset + header_size, cmds_len as usize)?;
    if cmds.len() < cmds_len as usize {
        slice
            .problems
            .push("the load commands are cut short by the end of the file".into());
    }
    read_load_commands(&mut slice, &cmds, ncmds, endian);

    if let Some(loc) = slice.code_signature_location {
        read_signature(r, &mut slice, loc, header_size + u64::from(sizeofcmds))?;
    }
    Ok(slice)
}

/// Problems go on the slice; only hostile content (see [`MachOError::TooDeep`]) is an error.
fn read_signature(r: &mut Forward, slice: &mut Slice, loc: SignatureLocation, cmds_end: u64) -> Result<(), MachOError> {
    let start = u64::from(loc.dataoff);
    let end = start + u64::from(loc.datasize);
    if loc.datasize == 0 {
        slice.problems.push("LC_CODE_SIGNATURE has a zero size".into());
        return Ok(());
    }
    if end > slice.size || start < cmds_end {
        slice.problems.push(format!(
            "LC_CODE_SIGNATURE points outside the slice (bytes {start}..{end} of {})",
            slice.size
        ));
        return Ok(());
    }
    if loc.datasize > MAX_SIGNATURE {
        slice.problems.push(format!(
            "the code signature is {} bytes, more than the {MAX_SIGNATURE}-byte cap; not read",
            loc.datasize
        ));
        return Ok(());
    }
    match r.read(slice.offset + start, loc.datasize as usize) {
        Ok(bytes) if bytes.len() == loc.datasize as usize => {
            let (sig, problems) = parse_signature(&bytes)?;
            slice.signature = sig;
            slice.problems.extend(problems);
        }
        Ok(_) => slice
            .problems
            .push("the code signature is cut short by the end of the file".into()),
        Err(e) => slice
            .problems
            .push(format!("the code signature could not be read: {e}")),
    }
    Ok(())
}

fn read_load_commands(slice: &mut Slice, cmds: &[u8], ncmds: u32, e: Endian) {
    let mut pos = 0usize;
    for i in 0..ncmds {
        let (Some(cmd), Some(cmdsize)) = (u32_at(cmds, pos, e), u32_at(cmds, pos + 4, e)) else {
            slice.problems.push(format!(
                "load command {i} of {ncmds} lies past the end of the load commands"
            ));
            return;
        };
        let size = cmdsize as usize;
        let Some(body) = (if size >= 8 {
            pos.checked_add(size).and_then(|end| cmds.get(pos..end))
        } else {
            None
        }) else {
            slice
                .problems
                .push(format!("load command {i} ({cmd:#x}) has an invalid size {cmdsize}"));
            return;
        };
        read_command(slice, cmd, body, e);
        pos += size;
    }
}

fn read_command(slice: &mut Slice, cmd: u32, c: &[u8], e: Endian) {
    let f = |k: usize| u32_at(c, k, e);
    match cmd {
        LC_SEGMENT | LC_SEGMENT_64 => read_segment(slice, c, e, cmd == LC_SEGMENT_64),
        LC_LOAD_DYLIB | LC_LOAD_WEAK_DYLIB | LC_REEXPORT_DYLIB | LC_LAZY_LOAD_DYLIB | LC_LOAD_UPWARD_DYLIB => {
            let name = f(8).and_then(|off| c.get(off as usize..)).map(|raw| {
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned()
            });
            match name {
                Some(n) if slice.dylibs.len() < MAX_NAMES => slice.dylibs.push(n),
                Some(_) => {}
                None => slice
                    .problems
                    .push("a dylib load command has its name outside the command".into()),
            }
        }
        LC_CODE_SIGNATURE => match (f(8), f(12)) {
            (Some(dataoff), Some(datasize)) => {
                if slice.code_signature_location.is_some() {
                    slice
                        .problems
                        .push("more than one LC_CODE_SIGNATURE; the first is used".into());
                } else {
                    slice.code_signature_location = Some(SignatureLocation { dataoff, datasize });
                }
            }
            _ => slice.problems.push("LC_CODE_SIGNATURE is truncated".into()),
        },
        LC_ENCRYPTION_INFO | LC_ENCRYPTION_INFO_64 => match (f(8), f(12), f(16)) {
            (Some(cryptoff), Some(cryptsize), Some(cryptid)) => {
                slice.encryption = Some(EncryptionInfo {
                    cryptoff,
                    cryptsize,
                    cryptid,
                });
            }
            _ => slice.problems.push("LC_ENCRYPTION_INFO is truncated".into()),
        },
        LC_BUILD_VERSION => match (f(8), f(12), f(16)) {
            (Some(platform), Some(minos), Some(sdk)) => {
                // LC_BUILD_VERSION is authoritative when both kinds are present.
                slice.build = Some(BuildVersion {
                    platform,
                    platform_name: platform_name(platform),
                    minos: format_version(minos),
                    sdk: format_version(sdk),
                    source: "LC_BUILD_VERSION",
                });
            }
            _ => slice.problems.push("LC_BUILD_VERSION is truncated".into()),
        },
        LC_VERSION_MIN_IPHONEOS | LC_VERSION_MIN_MACOSX | LC_VERSION_MIN_TVOS | LC_VERSION_MIN_WATCHOS => {
            let (platform, source) = match cmd {
                LC_VERSION_MIN_IPHONEOS => (2, "LC_VERSION_MIN_IPHONEOS"),
                LC_VERSION_MIN_MACOSX => (1, "LC_VERSION_MIN_MACOSX"),
                LC_VERSION_MIN_TVOS => (3, "LC_VERSION_MIN_TVOS"),
                _ => (4, "LC_VERSION_MIN_WATCHOS"),
            };
            match (f(8), f(12)) {
                (Some(v), Some(sdk)) if slice.build.is_none() => {
                    slice.build = Some(BuildVersion {
                        platform,
                        platform_name: platform_name(platform),
                        minos: format_version(v),
                        sdk: format_version(sdk),
                        source,
                    });
                }
                (Some(_), Some(_)) => {}
                _ => slice.problems.push(format!("{source} is truncated")),
            }
        }
        _ => {}
    }
}

fn read_segment(slice: &mut Slice, c: &[u8], e: Endian, is_64: bool) {
    let parsed = if is_64 {
        (|| {
            Some((
                fixed_name(c, 8, 16)?,
                u64_at(c, 24, e)?,
                u64_at(c, 32, e)?,
                u64_at(c, 40, e)?,
                u64_at(c, 48, e)?,
                u32_at(c, 64, e)?,
                72usize,
                80usize,
            ))
        })()
    } else {
        (|| {
            Some((
                fixed_name(c, 8, 16)?,
                u64::from(u32_at(c, 24, e)?),
                u64::from(u32_at(c, 28, e)?),
                u64::from(u32_at(c, 32, e)?),
                u64::from(u32_at(c, 36, e)?),
                u32_at(c, 48, e)?,
                56usize,
                68usize,
            ))
        })()
    };
    let Some((name, vmaddr, vmsize, fileoff, filesize, nsects, first, sect_size)) = parsed else {
        slice.problems.push("a segment load command is truncated".into());
        return;
    };
    if name == "__LLVM" {
        slice.has_bitcode = true;
    }
    // Sections are bounded by the command itself, whatever nsects claims.
    for k in 0..nsects as usize {
        let Some(sect) = k.checked_mul(sect_size).and_then(|o| o.checked_add(first)) else {
            break;
        };
        match fixed_name(c, sect + 16, 16) {
            Some(seg) if seg == "__LLVM" => slice.has_bitcode = true,
            Some(_) => {}
            None => {
                slice.problems.push(format!(
                    "segment {name} declares {nsects} sections, more than its command holds"
                ));
                break;
            }
        }
    }
    if slice.segments.len() < MAX_NAMES {
        slice.segments.push(Segment {
            name,
            vmaddr,
            vmsize,
            fileoff,
            filesize,
        });
    }
}
