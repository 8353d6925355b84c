//! Sample builder: realistic Mach-O executables (thin or fat, with or without a code signature)
//! and the `_CodeSignature/CodeResources` seal that goes beside them.
//!
//! The bytes are laid out like ld64's output (header page, `__TEXT`, optional `__LLVM`,
//! `__LINKEDIT` ending in the signature), and the CodeDirectory hashes the bytes actually written,
//! so `--deep` verification passes on an untouched sample and fails when a byte changes.
//!
//! Sealing order for a bundle: build the nested code first (its [`primary_cdhash`] goes into the
//! parent's `CodeResources`), then the bundle's `CodeResources` over its resource files, then the
//! executable with [`SignatureSpec::info_plist`] and [`SignatureSpec::code_resources`] set to the
//! exact bytes stored in the archive.

mod code_resources;
mod signature;

use std::sync::Arc;

pub use code_resources::CodeResourcesBuilder;
use signature::{signature_size, superblob};

/// Produces the CMS blob for a CodeDirectory (its bytes are the argument). Supplied by the caller
/// so that the test PKI (or no PKI) decides who signs.
pub type CmsSigner = Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// Architectures the builder can emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Arm64,
    Arm64e,
    Armv7,
    Armv7s,
    X86_64,
    I386,
}

impl Arch {
    /// `(cputype, cpusubtype)`.
    pub fn cpu(self) -> (u32, u32) {
        match self {
            Arch::Arm64 => (0x0100_000c, 0),
            Arch::Arm64e => (0x0100_000c, 2),
            Arch::Armv7 => (12, 9),
            Arch::Armv7s => (12, 11),
            Arch::X86_64 => (0x0100_0007, 3),
            Arch::I386 => (7, 3),
        }
    }

    pub fn is_64(self) -> bool {
        matches!(self, Arch::Arm64 | Arch::Arm64e | Arch::X86_64)
    }
}

/// Mach-O file types the builder is usually asked for.
pub const MH_OBJECT: u32 = 1;
pub const MH_EXECUTE: u32 = 2;
pub const MH_DYLIB: u32 = 6;
pub const MH_BUNDLE: u32 = 8;

/// Which load command carries platform and versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCommand {
    /// `LC_BUILD_VERSION` with this platform (2 iOS, 6 Mac Catalyst, 7 iOS Simulator, …).
    Build(u32),
    /// `LC_VERSION_MIN_IPHONEOS` (pre-Xcode 10 binaries).
    MinIphoneos,
    None,
}

/// What to sign a slice with.
#[derive(Clone)]
pub struct SignatureSpec {
    pub identifier: String,
    pub team_id: Option<String>,
    /// Bytes of the bundle's Info.plist, sealed in special slot −1.
    pub info_plist: Option<Vec<u8>>,
    /// Bytes of `_CodeSignature/CodeResources`, sealed in special slot −3.
    pub code_resources: Option<Vec<u8>>,
    /// XML entitlements blob (slot 5, sealed in special slot −5).
    pub entitlements: Option<plist::Dictionary>,
    /// `None` writes an empty CMS blob (an ad-hoc signature).
    pub cms: Option<CmsSigner>,
    /// Slot 0 holds a SHA-1 CodeDirectory and slot 0x1000 the SHA-256 one, as Xcode does for
    /// older deployment targets; otherwise slot 0 is SHA-256 only.
    pub sha1_primary: bool,
}

impl SignatureSpec {
    pub fn new(identifier: &str) -> Self {
        SignatureSpec {
            identifier: identifier.to_string(),
            team_id: None,
            info_plist: None,
            code_resources: None,
            entitlements: None,
            cms: None,
            sha1_primary: false,
        }
    }

    pub fn team_id(mut self, team: &str) -> Self {
        self.team_id = Some(team.to_string());
        self
    }
    pub fn info_plist(mut self, bytes: &[u8]) -> Self {
        self.info_plist = Some(bytes.to_vec());
        self
    }
    pub fn code_resources(mut self, bytes: &[u8]) -> Self {
        self.code_resources = Some(bytes.to_vec());
        self
    }
    pub fn entitlements(mut self, e: plist::Dictionary) -> Self {
        self.entitlements = Some(e);
        self
    }
    pub fn cms(mut self, signer: CmsSigner) -> Self {
        self.cms = Some(signer);
        self
    }
}

/// The 20-byte cdhash of the first slice's primary CodeDirectory: what a parent bundle's
/// `CodeResources` records for this executable as nested code.
pub fn primary_cdhash(executable: &[u8]) -> Option<Vec<u8>> {
    let binary = crate::macho::parse_bytes(executable).ok()?;
    let hex = &binary.slices.first()?.signature.as_ref()?.code_directory()?.cdhash;
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect()
}

/// One architecture of the executable.
#[derive(Clone)]
pub struct SliceSpec {
    pub arch: Arch,
    pub filetype: u32,
    pub version_command: VersionCommand,
    pub minos: (u32, u32, u32),
    pub sdk: (u32, u32, u32),
    /// `LC_ENCRYPTION_INFO(_64)` with this cryptid; `None` omits it.
    pub cryptid: Option<u32>,
    pub bitcode: bool,
    /// 4 KiB pages of filler code in `__TEXT`.
    pub code_pages: usize,
    pub dylibs: Vec<String>,
    pub signature: Option<SignatureSpec>,
}

impl SliceSpec {
    /// An App Store–shaped iOS slice: EXECUTE, iOS 15.0 / SDK 18.2, cryptid 0, unsigned.
    pub fn new(arch: Arch) -> Self {
        SliceSpec {
            arch,
            filetype: MH_EXECUTE,
            version_command: VersionCommand::Build(2),
            minos: (15, 0, 0),
            sdk: (18, 2, 0),
            cryptid: Some(0),
            bitcode: false,
            code_pages: 2,
            dylibs: vec![
                "/System/Library/Frameworks/Foundation.framework/Foundation".into(),
                "/usr/lib/libSystem.B.dylib".into(),
            ],
            signature: None,
        }
    }

    pub fn filetype(mut self, t: u32) -> Self {
        self.filetype = t;
        self
    }
    pub fn platform(mut self, p: u32) -> Self {
        self.version_command = VersionCommand::Build(p);
        self
    }
    pub fn version_command(mut self, v: VersionCommand) -> Self {
        self.version_command = v;
        self
    }
    pub fn minos(mut self, major: u32, minor: u32, patch: u32) -> Self {
        self.minos = (major, minor, patch);
        self
    }
    pub fn sdk(mut self, major: u32, minor: u32, patch: u32) -> Self {
        self.sdk = (major, minor, patch);
        self
    }
    pub fn cryptid(mut self, c: Option<u32>) -> Self {
        self.cryptid = c;
        self
    }
    pub fn bitcode(mut self, b: bool) -> Self {
        self.bitcode = b;
        self
    }
    pub fn code_pages(mut self, n: usize) -> Self {
        self.code_pages = n;
        self
    }
    pub fn dylib(mut self, path: &str) -> Self {
        self.dylibs.push(path.to_string());
        self
    }
    pub fn signature(mut self, s: SignatureSpec) -> Self {
        self.signature = Some(s);
        self
    }
}

/// Builds an executable from slices; fat when asked or when there is more than one slice.
#[derive(Clone, Default)]
pub struct MachOBuilder {
    slices: Vec<SliceSpec>,
    fat: bool,
}

const PAGE: usize = 0x1000;
const SEGMENT_ALIGN: usize = 0x4000;

fn align(v: usize, a: usize) -> usize {
    v.div_ceil(a) * a
}

fn pack_version((a, b, c): (u32, u32, u32)) -> u32 {
    (a << 16) | ((b & 0xff) << 8) | (c & 0xff)
}

impl MachOBuilder {
    pub fn new() -> Self {
        MachOBuilder::default()
    }

    pub fn slice(mut self, s: SliceSpec) -> Self {
        self.slices.push(s);
        self
    }

    /// Forces a fat header even for a single slice.
    pub fn fat(mut self, fat: bool) -> Self {
        self.fat = fat;
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let slices: Vec<Vec<u8>> = self.slices.iter().map(build_slice).collect();
        if slices.len() == 1 && !self.fat {
            return slices.into_iter().next().unwrap_or_default();
        }
        let mut out = Vec::new();
        out.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
        out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
        let mut offset = align(8 + 20 * slices.len(), SEGMENT_ALIGN);
        let mut placed = Vec::new();
        for (spec, bytes) in self.slices.iter().zip(&slices) {
            let (cpu, sub) = spec.arch.cpu();
            for v in [cpu, sub, offset as u32, bytes.len() as u32, 14] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            placed.push(offset);
            offset = align(offset + bytes.len(), SEGMENT_ALIGN);
        }
        for (at, bytes) in placed.into_iter().zip(slices) {
            out.resize(at, 0);
            out.extend_from_slice(&bytes);
        }
        out
    }
}

/// Little-endian load-command writer that knows the word size.
struct W {
    buf: Vec<u8>,
    is_64: bool,
}

impl W {
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    fn word(&mut self, v: u64) {
        if self.is_64 {
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            self.u32(v as u32);
        }
    }
    fn name16(&mut self, s: &str) {
        let mut b = [0u8; 16];
        for (d, s) in b.iter_mut().zip(s.bytes()) {
            *d = s;
        }
        self.buf.extend_from_slice(&b);
    }
    fn segment(&mut self, name: &str, vm: (u64, u64), file: (u64, u64), section: Option<(&str, u64, u64)>) {
        let (cmd, base) = if self.is_64 { (0x19, 72) } else { (0x1, 56) };
        let sect_size = if self.is_64 { 80 } else { 68 };
        self.u32(cmd);
        self.u32(base + if section.is_some() { sect_size } else { 0 });
        self.name16(name);
        self.word(vm.0);
        self.word(vm.1);
        self.word(file.0);
        self.word(file.1);
        self.u32(5);
        self.u32(if name == "__TEXT" { 5 } else { 3 });
        self.u32(u32::from(section.is_some()));
        self.u32(0);
        if let Some((sect, addr, size)) = section {
            self.name16(sect);
            self.name16(name);
            self.word(addr);
            self.word(size);
            self.u32((addr - vm.0 + file.0) as u32);
            for _ in 0..(if self.is_64 { 7 } else { 6 }) {
                self.u32(0);
            }
        }
    }
}

fn segment_cmd_size(is_64: bool, with_section: bool) -> usize {
    match (is_64, with_section) {
        (true, false) => 72,
        (true, true) => 152,
        (false, false) => 56,
        (false, true) => 124,
    }
}

fn dylib_cmd_size(is_64: bool, name: &str) -> usize {
    align(24 + name.len() + 1, if is_64 { 8 } else { 4 })
}

fn build_slice(spec: &SliceSpec) -> Vec<u8> {
    let is_64 = spec.arch.is_64();
    let header_size = if is_64 { 32 } else { 28 };
    let execute = spec.filetype == MH_EXECUTE;
    let mut cmds_size = segment_cmd_size(is_64, true) + segment_cmd_size(is_64, false);
    if execute {
        cmds_size += segment_cmd_size(is_64, false);
    }
    if spec.bitcode {
        cmds_size += segment_cmd_size(is_64, true);
    }
    cmds_size += match spec.version_command {
        VersionCommand::Build(_) => 24,
        VersionCommand::MinIphoneos => 16,
        VersionCommand::None => 0,
    };
    if spec.cryptid.is_some() {
        cmds_size += if is_64 { 24 } else { 20 };
    }
    cmds_size += spec.dylibs.iter().map(|d| dylib_cmd_size(is_64, d)).sum::<usize>();
    if spec.signature.is_some() {
        cmds_size += 16;
    }

    let code_start = align(header_size + cmds_size, PAGE);
    let text_size = align(code_start + spec.code_pages * PAGE, SEGMENT_ALIGN);
    let llvm_size = if spec.bitcode { SEGMENT_ALIGN } else { 0 };
    let linkedit_off = text_size + llvm_size;
    let filler = 256;
    let dataoff = linkedit_off + filler;

    let mut reserve = 0usize;
    for attempt in 0.. {
        let sig_len = spec
            .signature
            .as_ref()
            .map_or(0, |s| signature_size(s, dataoff, reserve));
        let mut image = write_image(spec, cmds_size, code_start, text_size, linkedit_off, dataoff, sig_len);
        let Some(sig) = &spec.signature else {
            return image;
        };
        let blob = superblob(sig, &image, text_size);
        if blob.len() <= sig_len || attempt >= 3 {
            image.extend_from_slice(&blob);
            image.resize(dataoff + sig_len.max(blob.len()), 0);
            return image;
        }
        // The CMS came out larger than reserved (it depends on the signer): lay out again.
        reserve = blob.len().saturating_sub(sig_len.saturating_sub(reserve)) + 512;
    }
    Vec::new()
}

#[allow(clippy::too_many_arguments)]
fn write_image(
    spec: &SliceSpec,
    cmds_size: usize,
    code_start: usize,
    text_size: usize,
    linkedit_off: usize,
    dataoff: usize,
    sig_len: usize,
) -> Vec<u8> {
    let is_64 = spec.arch.is_64();
    let execute = spec.filetype == MH_EXECUTE;
    let (cpu, sub) = spec.arch.cpu();
    let mut w = W {
        buf: Vec::with_capacity(dataoff + sig_len),
        is_64,
    };
    let mut ncmds = 0u32;
    w.u32(if is_64 { 0xfeed_facf } else { 0xfeed_face });
    w.u32(cpu);
    w.u32(sub);
    w.u32(spec.filetype);
    let ncmds_at = w.buf.len();
    w.u32(0);
    w.u32(cmds_size as u32);
    w.u32(if execute { 0x0020_0085 } else { 0x0010_0085 });
    if is_64 {
        w.u32(0);
    }
    let base: u64 = match (execute, is_64) {
        (true, true) => 0x1_0000_0000,
        (true, false) => 0x4000,
        (false, _) => 0,
    };
    if execute {
        w.segment("__PAGEZERO", (0, base), (0, 0), None);
        ncmds += 1;
    }
    let code_len = (spec.code_pages * PAGE) as u64;
    w.segment(
        "__TEXT",
        (base, text_size as u64),
        (0, text_size as u64),
        Some(("__text", base + code_start as u64, code_len)),
    );
    ncmds += 1;
    let mut vm_next = base + text_size as u64;
    if spec.bitcode {
        let size = SEGMENT_ALIGN as u64;
        w.segment(
            "__LLVM",
            (vm_next, size),
            (text_size as u64, size),
            Some(("__bundle", vm_next, size)),
        );
        vm_next += size;
        ncmds += 1;
    }
    let linkedit_size = (dataoff + sig_len - linkedit_off) as u64;
    w.segment(
        "__LINKEDIT",
        (vm_next, align(linkedit_size as usize, SEGMENT_ALIGN) as u64),
        (linkedit_off as u64, linkedit_size),
        None,
    );
    ncmds += 1;
    match spec.version_command {
        VersionCommand::Build(platform) => {
            for v in [0x32, 24, platform, pack_version(spec.minos), pack_version(spec.sdk), 0] {
                w.u32(v);
            }
            ncmds += 1;
        }
        VersionCommand::MinIphoneos => {
            for v in [0x25, 16, pack_version(spec.minos), pack_version(spec.sdk)] {
                w.u32(v);
            }
            ncmds += 1;
        }
        VersionCommand::None => {}
    }
    if let Some(cryptid) = spec.cryptid {
        let cryptoff = code_start.max(PAGE) as u32;
        w.u32(if is_64 { 0x2c } else { 0x21 });
        w.u32(if is_64 { 24 } else { 20 });
        w.u32(cryptoff);
        w.u32(text_size as u32 - cryptoff);
        w.u32(cryptid);
        if is_64 {
            w.u32(0);
        }
        ncmds += 1;
    }
    for d in &spec.dylibs {
        let size = dylib_cmd_size(is_64, d);
        let start = w.buf.len();
        for v in [0xc, size as u32, 24, 2, 0x0001_0000, 0x0001_0000] {
            w.u32(v);
        }
        w.buf.extend_from_slice(d.as_bytes());
        w.buf.resize(start + size, 0);
        ncmds += 1;
    }
    if spec.signature.is_some() {
        for v in [0x1d, 16, dataoff as u32, sig_len as u32] {
            w.u32(v);
        }
        ncmds += 1;
    }
    w.buf.splice(ncmds_at..ncmds_at + 4, ncmds.to_le_bytes());
    w.buf.resize(code_start, 0);
    // Filler "code": deterministic but not constant, so page hashes differ page to page.
    let mut x = pack_version(spec.minos) ^ cpu ^ 0x9e37_79b9;
    while w.buf.len() < code_start + spec.code_pages * PAGE {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w.buf.extend_from_slice(&x.to_le_bytes());
    }
    w.buf.resize(text_size, 0);
    if spec.bitcode {
        w.buf.extend_from_slice(b"xar!");
        w.buf.resize(linkedit_off, 0);
    }
    w.buf.resize(dataoff, 0xaa);
    w.buf
}
