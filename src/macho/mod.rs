//! Mach-O executables (thin or fat) and their embedded code signatures: the parsed model.
//!
//! Hand-written rather than `object`/`goblin`: we need only headers, a dozen load commands and the
//! code-signature SuperBlob (which neither crate decodes), and the reader must stream forward over a
//! compressed zip entry instead of mapping the whole file. A strict reader of a few hundred lines,
//! with a cap on every count and length read from the file, keeps that fully under our control.
//!
//! [`parse`] asks its [`RangeReader`] for ranges in increasing offset order: the fat header, then
//! for each slice its header and load commands, then that slice's signature blob. It never reads
//! code pages (`--deep` verification streams them separately, see [`crate::validate::deep`]).

mod cms_signer;
mod parse;
mod signature;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use cms_signer::{Signer, signer_from_cms};
pub use parse::arch_name;
pub use parse::parse;
pub use signature::{
    CodeDirectory, CodeSignature, HashType, Hasher, SLOT_ENTITLEMENTS, SLOT_INFO_PLIST, SLOT_REQUIREMENTS,
    SLOT_RESOURCES,
};

use crate::error::{Error, ErrorKind};

/// Random access to an executable's bytes without loading it whole. Callers of [`parse`] should
/// expect ranges to be asked for in increasing offset order (a zip entry can only stream forward).
pub trait RangeReader {
    /// Total length of the executable.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads exactly `len` bytes at `offset` (fewer only at end of file).
    fn read_range(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
}

impl RangeReader for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_range(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(<[u8]>::len(self));
        let end = start.saturating_add(len).min(<[u8]>::len(self));
        Ok(self.get(start..end).unwrap_or_default().to_vec())
    }
}

/// A parsed executable: one slice for a thin file, one per architecture for a fat one.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    /// Whether the file is a fat (universal) binary.
    pub fat: bool,
    pub slices: Vec<Slice>,
    /// File-level problems found while parsing (slices skipped, bad fat entries); slice-level ones
    /// are on each [`Slice`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One architecture's Mach-O image.
#[derive(Debug, Clone, Serialize)]
pub struct Slice {
    /// `arm64`, `arm64e`, `armv7`, `armv7s`, `x86_64`, `i386`, … or `unknown(<cputype>)`.
    pub arch: String,
    pub cputype: u32,
    pub cpusubtype: u32,
    /// Where the slice starts in the file, and its length.
    pub offset: u64,
    pub size: u64,
    pub is_64_bit: bool,
    pub filetype: FileType,
    pub flags: u32,
    /// From `LC_BUILD_VERSION`, or the older `LC_VERSION_MIN_*` commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildVersion>,
    /// `LC_ENCRYPTION_INFO(_64)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<EncryptionInfo>,
    pub segments: Vec<Segment>,
    /// An `__LLVM` segment (or an `__LLVM` section anywhere): embedded bitcode.
    pub has_bitcode: bool,
    /// `LC_LOAD_DYLIB` and friends, in load-command order.
    pub dylibs: Vec<String>,
    /// `LC_CODE_SIGNATURE`'s location, relative to the slice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_signature_location: Option<SignatureLocation>,
    /// The decoded signature; `None` when there is no `LC_CODE_SIGNATURE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<CodeSignature>,
    /// What could not be read in this slice (truncated commands, bad blobs, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl Slice {
    /// The `__TEXT` segment, whose file range bounds the encrypted range.
    pub fn text_segment(&self) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == "__TEXT")
    }

    /// Whether this is a 64-bit ARM slice (what the App Store requires).
    pub fn is_arm64(&self) -> bool {
        self.arch == "arm64" || self.arch == "arm64e"
    }
}

/// `mach_header.filetype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Object,
    Execute,
    FvmLib,
    Core,
    Preload,
    Dylib,
    Dylinker,
    Bundle,
    DylibStub,
    Dsym,
    KextBundle,
    Fileset,
    Other(u32),
}

impl FileType {
    pub fn from_raw(v: u32) -> FileType {
        match v {
            1 => FileType::Object,
            2 => FileType::Execute,
            3 => FileType::FvmLib,
            4 => FileType::Core,
            5 => FileType::Preload,
            6 => FileType::Dylib,
            7 => FileType::Dylinker,
            8 => FileType::Bundle,
            9 => FileType::DylibStub,
            10 => FileType::Dsym,
            11 => FileType::KextBundle,
            12 => FileType::Fileset,
            n => FileType::Other(n),
        }
    }

    pub fn raw(self) -> u32 {
        match self {
            FileType::Object => 1,
            FileType::Execute => 2,
            FileType::FvmLib => 3,
            FileType::Core => 4,
            FileType::Preload => 5,
            FileType::Dylib => 6,
            FileType::Dylinker => 7,
            FileType::Bundle => 8,
            FileType::DylibStub => 9,
            FileType::Dsym => 10,
            FileType::KextBundle => 11,
            FileType::Fileset => 12,
            FileType::Other(n) => n,
        }
    }

    /// The name Apple's messages use (`MH_EXECUTE` → `EXECUTE`).
    pub fn name(self) -> String {
        let s = match self {
            FileType::Object => "OBJECT",
            FileType::Execute => "EXECUTE",
            FileType::FvmLib => "FVMLIB",
            FileType::Core => "CORE",
            FileType::Preload => "PRELOAD",
            FileType::Dylib => "DYLIB",
            FileType::Dylinker => "DYLINKER",
            FileType::Bundle => "BUNDLE",
            FileType::DylibStub => "DYLIB_STUB",
            FileType::Dsym => "DSYM",
            FileType::KextBundle => "KEXT_BUNDLE",
            FileType::Fileset => "FILESET",
            FileType::Other(n) => return format!("UNKNOWN({n})"),
        };
        s.to_string()
    }
}

impl Serialize for FileType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// Target platform and versions of a slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildVersion {
    /// `LC_BUILD_VERSION.platform` (2 iOS, 6 Mac Catalyst, 7 iOS Simulator, …); 2 for
    /// `LC_VERSION_MIN_IPHONEOS`.
    pub platform: u32,
    pub platform_name: String,
    /// Minimum OS, e.g. `15.0` or `16.4.1`.
    pub minos: String,
    pub sdk: String,
    /// Which load command it came from: `LC_BUILD_VERSION` or `LC_VERSION_MIN_IPHONEOS` etc.
    pub source: &'static str,
}

impl BuildVersion {
    /// Platforms the App Store does not accept inside an iOS/tvOS/visionOS app.
    pub fn is_simulator_or_catalyst(&self) -> bool {
        matches!(self.platform, 6 | 7 | 8 | 9 | 12)
    }
}

/// Name of a `PLATFORM_*` value of `LC_BUILD_VERSION`.
pub fn platform_name(platform: u32) -> String {
    let s = match platform {
        1 => "macOS",
        2 => "iOS",
        3 => "tvOS",
        4 => "watchOS",
        5 => "bridgeOS",
        6 => "Mac Catalyst",
        7 => "iOS Simulator",
        8 => "tvOS Simulator",
        9 => "watchOS Simulator",
        10 => "DriverKit",
        11 => "visionOS",
        12 => "visionOS Simulator",
        n => return format!("unknown({n})"),
    };
    s.to_string()
}

/// Formats a packed `xxxx.yy.zz` version as `15.0` or `16.4.1`.
pub fn format_version(v: u32) -> String {
    let (major, minor, patch) = (v >> 16, (v >> 8) & 0xff, v & 0xff);
    if patch == 0 {
        format!("{major}.{minor}")
    } else {
        format!("{major}.{minor}.{patch}")
    }
}

/// `LC_ENCRYPTION_INFO(_64)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EncryptionInfo {
    pub cryptoff: u32,
    pub cryptsize: u32,
    /// 0 = not encrypted (what an upload must have).
    pub cryptid: u32,
}

/// A segment's name and ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub name: String,
    pub vmaddr: u64,
    pub vmsize: u64,
    pub fileoff: u64,
    pub filesize: u64,
}

/// `LC_CODE_SIGNATURE`: where the SuperBlob sits, relative to the slice start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignatureLocation {
    pub dataoff: u32,
    pub datasize: u32,
}

impl Binary {
    /// Architecture names of every slice, e.g. `["arm64"]`.
    pub fn architectures(&self) -> Vec<String> {
        self.slices.iter().map(|s| s.arch.clone()).collect()
    }

    /// Common name of the certificate that signed the code, if the signature carries one.
    pub fn signing_identity(&self) -> Option<String> {
        self.slices
            .iter()
            .filter_map(|s| s.signature.as_ref()?.signer.as_ref()?.common_name.clone())
            .next()
    }

    /// Every problem recorded while parsing, file-level first, each prefixed with its slice.
    pub fn all_problems(&self) -> Vec<String> {
        let mut out = self.problems.clone();
        for s in &self.slices {
            out.extend(s.problems.iter().map(|p| format!("{}: {p}", s.arch)));
        }
        out
    }
}

/// Parses an executable already in memory (tests, loose dylibs under `--deep`).
pub fn parse_bytes(bytes: &[u8]) -> Result<Binary, MachOError> {
    let mut r: &[u8] = bytes;
    parse(&mut r)
}

/// Why an executable could not be parsed at all. Problems inside a readable file are recorded on
/// the [`Binary`] instead.
#[derive(Debug, thiserror::Error)]
pub enum MachOError {
    #[error("not a Mach-O file")]
    NotMachO,
    #[error("the file is empty")]
    Empty,
    #[error("the file is truncated: {0}")]
    Truncated(String),
    #[error("the fat header declares {0} architectures (at most 16 are read)")]
    TooManySlices(u32),
    #[error("no readable architecture slice: {0}")]
    NoSlices(String),
    #[error("I/O error reading the executable: {0}")]
    Io(#[from] std::io::Error),
    /// The signature's entitlements nest past `plist_guard::MAX_DEPTH`: crafted, not damaged.
    #[error(
        "the code signature's entitlements nest arrays and dictionaries more than {limit} levels deep; refusing to parse them"
    )]
    TooDeep { limit: usize },
}

impl From<MachOError> for Error {
    fn from(e: MachOError) -> Self {
        let (kind, hint) = match &e {
            MachOError::Io(_) => (
                ErrorKind::Usage,
                "the archive could not be read; check that the .ipa is complete",
            ),
            MachOError::TooDeep { .. } => (
                ErrorKind::Usage,
                "real entitlements nest a few levels; this executable was damaged or crafted. Rebuild and re-export the app",
            ),
            _ => (
                ErrorKind::Rejected,
                "the bundle executable must be a Mach-O file built for arm64 by Xcode; rebuild and re-export the app",
            ),
        };
        Error::new(kind, format!("invalid executable: {e}"))
            .with_hint(hint)
            .with_source(e)
    }
}
