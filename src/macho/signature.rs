//! The embedded code signature: SuperBlob, CodeDirectories, entitlements and the CMS blob.

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384};

use super::MachOError;
use super::cms_signer::{Signer, signer_from_cms};

pub(crate) const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
pub(crate) const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
pub(crate) const CSMAGIC_REQUIREMENTS: u32 = 0xfade_0c01;
pub(crate) const CSMAGIC_EMBEDDED_ENTITLEMENTS: u32 = 0xfade_7171;
pub(crate) const CSMAGIC_EMBEDDED_DER_ENTITLEMENTS: u32 = 0xfade_7172;
pub(crate) const CSMAGIC_BLOBWRAPPER: u32 = 0xfade_0b01;

pub(crate) const CSSLOT_CODEDIRECTORY: u32 = 0;
pub(crate) const CSSLOT_REQUIREMENTS: u32 = 2;
pub(crate) const CSSLOT_ENTITLEMENTS: u32 = 5;
pub(crate) const CSSLOT_DER_ENTITLEMENTS: u32 = 7;
pub(crate) const CSSLOT_ALTERNATE_CODEDIRECTORIES: u32 = 0x1000;
pub(crate) const CSSLOT_SIGNATURESLOT: u32 = 0x10000;

/// Special slot numbers (stored as negative indexes before the code slots).
pub const SLOT_INFO_PLIST: u32 = 1;
pub const SLOT_REQUIREMENTS: u32 = 2;
pub const SLOT_RESOURCES: u32 = 3;
pub const SLOT_ENTITLEMENTS: u32 = 5;

const MAX_BLOBS: u32 = 64;
const MAX_CMS: usize = 1 << 20;
const MAX_ENTITLEMENTS: usize = 1 << 20;
const MAX_SPECIAL_SLOTS: u32 = 64;

/// A CodeDirectory's hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashType {
    Sha1,
    Sha256,
    /// SHA-256 truncated to 20 bytes.
    Sha256Truncated,
    Sha384,
    Unknown(u8),
}

impl HashType {
    pub fn from_raw(v: u8) -> HashType {
        match v {
            1 => HashType::Sha1,
            2 => HashType::Sha256,
            3 => HashType::Sha256Truncated,
            4 => HashType::Sha384,
            n => HashType::Unknown(n),
        }
    }

    /// Digest length in a hash slot.
    pub fn size(self) -> Option<usize> {
        match self {
            HashType::Sha1 | HashType::Sha256Truncated => Some(20),
            HashType::Sha256 => Some(32),
            HashType::Sha384 => Some(48),
            HashType::Unknown(_) => None,
        }
    }

    /// Hashes `data` as this CodeDirectory's slots store it (truncated where the type says so).
    pub fn digest(self, data: &[u8]) -> Option<Vec<u8>> {
        let mut h = Hasher::new(self)?;
        h.update(data);
        Some(h.finish())
    }
}

/// An incremental hash of one of the CodeDirectory algorithms, for streaming code pages.
pub enum Hasher {
    Sha1(Sha1),
    Sha256(Sha256, usize),
    Sha384(Sha384),
}

impl Hasher {
    pub fn new(t: HashType) -> Option<Hasher> {
        match t {
            HashType::Sha1 => Some(Hasher::Sha1(Sha1::new())),
            HashType::Sha256 => Some(Hasher::Sha256(Sha256::new(), 32)),
            HashType::Sha256Truncated => Some(Hasher::Sha256(Sha256::new(), 20)),
            HashType::Sha384 => Some(Hasher::Sha384(Sha384::new())),
            HashType::Unknown(_) => None,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h, _) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h, n) => h.finalize().iter().take(n).copied().collect(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
        }
    }
}

/// A decoded CodeDirectory.
#[derive(Debug, Clone, Serialize)]
pub struct CodeDirectory {
    /// SuperBlob slot: 0 for the primary, 0x1000.. for alternates.
    pub slot: u32,
    pub version: u32,
    pub flags: u32,
    pub hash_type: HashType,
    pub identifier: String,
    /// Present from version 0x20200.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    pub n_code_slots: u32,
    pub n_special_slots: u32,
    /// Bytes of the slice covered by code slots.
    pub code_limit: u64,
    /// Bytes per code page; 0 means the whole range is one page.
    pub page_size: u64,
    /// Hex of the hash of this CodeDirectory (truncated to 20 bytes): what `CodeResources` records
    /// for nested code.
    pub cdhash: String,
    /// Special slot hashes, index 0 = slot −1 (Info.plist), 1 = −2 (requirements), …
    #[serde(skip)]
    pub special_slots: Vec<Vec<u8>>,
    /// Code slot hashes, `hash_size` bytes each, back to back.
    #[serde(skip)]
    pub code_slots: Vec<u8>,
}

impl CodeDirectory {
    /// The stored hash of special slot `-n` (e.g. [`SLOT_INFO_PLIST`]), if the directory has it.
    pub fn special_slot(&self, n: u32) -> Option<&[u8]> {
        self.special_slots
            .get(usize::try_from(n).ok()?.checked_sub(1)?)
            .map(Vec::as_slice)
    }

    /// The stored hash of code page `i`.
    pub fn code_slot(&self, i: usize) -> Option<&[u8]> {
        let size = self.hash_type.size()?;
        self.code_slots
            .get(i.checked_mul(size)?..i.checked_add(1)?.checked_mul(size)?)
    }

    /// Whether a special slot holds all zeroes (codesign's "absent").
    pub fn special_slot_is_empty(&self, n: u32) -> bool {
        self.special_slot(n).is_none_or(|h| h.iter().all(|&b| b == 0))
    }
}

/// A decoded embedded signature.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSignature {
    /// The primary directory first, then alternates in slot order.
    pub code_directories: Vec<CodeDirectory>,
    /// XML entitlements (`0xfade7171`), parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<plist::Dictionary>,
    /// Whether DER entitlements (`0xfade7172`) are present (not decoded).
    pub has_der_entitlements: bool,
    /// Size of the CMS blob's payload; 0 for ad-hoc signatures (empty or missing CMS).
    pub cms_size: usize,
    /// The certificate that signed the CMS, when it could be found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// The raw blobs special slots seal, kept to recompute their hashes.
    #[serde(skip)]
    pub entitlements_blob: Option<Vec<u8>>,
    #[serde(skip)]
    pub requirements_blob: Option<Vec<u8>>,
}

impl CodeSignature {
    /// Ad-hoc (or unsigned CMS): nothing identifies a signer.
    pub fn is_adhoc(&self) -> bool {
        self.cms_size == 0
    }

    /// The primary CodeDirectory (slot 0), else the first one found.
    pub fn code_directory(&self) -> Option<&CodeDirectory> {
        self.code_directories
            .iter()
            .find(|c| c.slot == 0)
            .or(self.code_directories.first())
    }

    pub fn identifier(&self) -> Option<&str> {
        self.code_directory().map(|c| c.identifier.as_str())
    }

    pub fn team_id(&self) -> Option<&str> {
        self.code_directories.iter().find_map(|c| c.team_id.as_deref())
    }
}

fn be32(buf: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(buf.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

fn be64(buf: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_be_bytes(buf.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

fn c_string(buf: &[u8], off: usize) -> Option<String> {
    let raw = buf.get(off..)?;
    let end = raw.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(raw.get(..end)?).into_owned())
}

/// Decodes a SuperBlob; returns what could be read and the problems found. Only hostile
/// entitlements (nested past `plist_guard::MAX_DEPTH`) are an error: the whole file is refused.
pub(crate) fn parse_signature(buf: &[u8]) -> Result<(Option<CodeSignature>, Vec<String>), MachOError> {
    let mut too_deep = None;
    let parsed = parse_superblob(buf, &mut too_deep);
    match too_deep {
        Some(limit) => Err(MachOError::TooDeep { limit }),
        None => Ok(parsed),
    }
}

fn parse_superblob(buf: &[u8], too_deep: &mut Option<usize>) -> (Option<CodeSignature>, Vec<String>) {
    let mut problems = Vec::new();
    let (Some(magic), Some(length), Some(count)) = (be32(buf, 0), be32(buf, 4), be32(buf, 8)) else {
        problems.push("the code signature is shorter than a SuperBlob header".into());
        return (None, problems);
    };
    if magic != CSMAGIC_EMBEDDED_SIGNATURE {
        problems.push(format!(
            "the code signature has magic {magic:#x}, not an embedded-signature SuperBlob"
        ));
        return (None, problems);
    }
    let Some(sb) = buf.get(..length as usize) else {
        problems.push(format!(
            "the SuperBlob claims {length} bytes, only {} are present",
            buf.len()
        ));
        return (None, problems);
    };
    if count > MAX_BLOBS {
        problems.push(format!(
            "the SuperBlob lists {count} blobs (at most {MAX_BLOBS} are read)"
        ));
    }
    let mut sig = CodeSignature {
        code_directories: Vec::new(),
        entitlements: None,
        has_der_entitlements: false,
        cms_size: 0,
        signer: None,
        entitlements_blob: None,
        requirements_blob: None,
    };
    for i in 0..count.min(MAX_BLOBS) as usize {
        let (Some(slot), Some(off)) = (be32(sb, 12 + i * 8), be32(sb, 16 + i * 8)) else {
            problems.push(format!("blob index entry {i} lies outside the SuperBlob"));
            break;
        };
        let off = off as usize;
        let (Some(bmagic), Some(blen)) = (be32(sb, off), be32(sb, off + 4)) else {
            problems.push(format!("blob in slot {slot:#x} starts outside the SuperBlob"));
            continue;
        };
        let Some(blob) = (blen >= 8)
            .then(|| off.checked_add(blen as usize).and_then(|end| sb.get(off..end)))
            .flatten()
        else {
            problems.push(format!(
                "blob in slot {slot:#x} has length {blen}, outside the SuperBlob"
            ));
            continue;
        };
        let payload = blob.get(8..).unwrap_or_default();
        match (slot, bmagic) {
            (CSSLOT_CODEDIRECTORY, CSMAGIC_CODEDIRECTORY) => push_cd(&mut sig, &mut problems, slot, blob),
            (s, CSMAGIC_CODEDIRECTORY)
                if (CSSLOT_ALTERNATE_CODEDIRECTORIES..CSSLOT_ALTERNATE_CODEDIRECTORIES + 5).contains(&s) =>
            {
                push_cd(&mut sig, &mut problems, slot, blob)
            }
            (CSSLOT_REQUIREMENTS, CSMAGIC_REQUIREMENTS) => sig.requirements_blob = Some(blob.to_vec()),
            (CSSLOT_ENTITLEMENTS, CSMAGIC_EMBEDDED_ENTITLEMENTS) => {
                if payload.len() > MAX_ENTITLEMENTS {
                    problems.push("the entitlements blob is larger than 1 MiB; not read".into());
                    continue;
                }
                sig.entitlements_blob = Some(blob.to_vec());
                match plist_guard::parse_dict(payload) {
                    Ok(d) => sig.entitlements = Some(d),
                    Err(plist_guard::PlistError::TooDeep { limit }) => *too_deep = Some(limit),
                    Err(e) => problems.push(format!("the signature's entitlements are not a valid plist: {e}")),
                }
            }
            (CSSLOT_DER_ENTITLEMENTS, CSMAGIC_EMBEDDED_DER_ENTITLEMENTS) => sig.has_der_entitlements = true,
            (CSSLOT_SIGNATURESLOT, CSMAGIC_BLOBWRAPPER) => {
                sig.cms_size = payload.len();
                if payload.is_empty() {
                    continue;
                }
                if payload.len() > MAX_CMS {
                    problems.push("the CMS signature is larger than 1 MiB; not read".into());
                    continue;
                }
                match signer_from_cms(payload) {
                    Ok(s) => sig.signer = Some(s),
                    Err(e) => problems.push(format!("the CMS signature could not be decoded: {e}")),
                }
            }
            (s, m) => {
                if matches!(
                    m,
                    CSMAGIC_CODEDIRECTORY | CSMAGIC_BLOBWRAPPER | CSMAGIC_EMBEDDED_ENTITLEMENTS
                ) {
                    problems.push(format!("blob with magic {m:#x} sits in unexpected slot {s:#x}"));
                }
            }
        }
    }
    sig.code_directories.sort_by_key(|c| c.slot);
    if sig.code_directories.is_empty() {
        problems.push("the code signature has no CodeDirectory".into());
    }
    (Some(sig), problems)
}

fn push_cd(sig: &mut CodeSignature, problems: &mut Vec<String>, slot: u32, blob: &[u8]) {
    match parse_code_directory(slot, blob) {
        Ok(cd) => sig.code_directories.push(cd),
        Err(e) => problems.push(format!("CodeDirectory in slot {slot:#x}: {e}")),
    }
}

/// Decodes one CodeDirectory blob (magic and length included).
pub(crate) fn parse_code_directory(slot: u32, cd: &[u8]) -> Result<CodeDirectory, String> {
    let f = |k: usize| be32(cd, k).ok_or_else(|| "header truncated".to_string());
    let version = f(8)?;
    let flags = f(12)?;
    let hash_offset = f(16)? as usize;
    let ident_offset = f(20)? as usize;
    let n_special_slots = f(24)?;
    let n_code_slots = f(28)?;
    let code_limit32 = f(32)?;
    let (hash_size, hash_type_raw, page_log) = match cd.get(36..40) {
        Some(&[size, ty, _platform, page]) => (size, ty, page),
        _ => return Err("header truncated".into()),
    };
    let hash_type = HashType::from_raw(hash_type_raw);
    let size = hash_type
        .size()
        .ok_or_else(|| format!("unknown hash type {hash_type_raw}"))?;
    if size != hash_size as usize {
        return Err(format!(
            "hash size {hash_size} does not match hash type {hash_type_raw}"
        ));
    }
    if n_special_slots > MAX_SPECIAL_SLOTS {
        return Err(format!("{n_special_slots} special slots"));
    }
    let identifier = c_string(cd, ident_offset).ok_or("identifier outside the directory")?;
    let team_id = if version >= 0x20200 {
        match be32(cd, 48) {
            Some(0) | None => None,
            Some(off) => Some(c_string(cd, off as usize).ok_or("team identifier outside the directory")?),
        }
    } else {
        None
    };
    let code_limit = match (version >= 0x20300).then(|| be64(cd, 56)).flatten() {
        Some(l) if l != 0 => l,
        _ => u64::from(code_limit32),
    };
    if page_log >= 32 {
        return Err(format!("page size 2^{page_log}"));
    }
    let page_size = if page_log == 0 { 0 } else { 1u64 << page_log };

    let specials_len = (n_special_slots as usize) * size;
    let special_start = hash_offset
        .checked_sub(specials_len)
        .ok_or("special slots before the directory start")?;
    let specials = cd
        .get(special_start..hash_offset)
        .ok_or("special slots outside the directory")?;
    // Stored in reverse: slot −n sits n hashes before hashOffset.
    let special_slots = (1..=n_special_slots as usize)
        .map(|n| {
            specials
                .get(specials_len - n * size..specials_len - (n - 1) * size)
                .unwrap_or_default()
                .to_vec()
        })
        .collect();
    let code_len = (n_code_slots as usize)
        .checked_mul(size)
        .ok_or("code slot count overflows")?;
    let code_slots = cd
        .get(hash_offset..hash_offset.checked_add(code_len).ok_or("code slots overflow")?)
        .ok_or("code slots outside the directory")?
        .to_vec();
    let cdhash = hash_type
        .digest(cd)
        .map(|h| h.iter().take(20).map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default();
    Ok(CodeDirectory {
        slot,
        version,
        flags,
        hash_type,
        identifier,
        team_id,
        n_code_slots,
        n_special_slots,
        code_limit,
        page_size,
        cdhash,
        special_slots,
        code_slots,
    })
}
