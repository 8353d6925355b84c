//! The code signature of a sample slice: the SuperBlob with its CodeDirectories (SHA-256, and
//! SHA-1 first when asked), requirements, entitlements and CMS blob, hashing the bytes written.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{MH_EXECUTE, PAGE, SignatureSpec, align};

fn entitlements_blob(sig: &SignatureSpec) -> Option<Vec<u8>> {
    let dict = sig.entitlements.as_ref()?;
    let mut xml = Vec::new();
    plist::to_writer_xml(&mut xml, dict).ok()?;
    Some(blob(0xfade_7171, &xml))
}

fn blob(magic: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(payload.len() + 8);
    b.extend_from_slice(&magic.to_be_bytes());
    b.extend_from_slice(&(payload.len() as u32 + 8).to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// An empty requirement set.
fn requirements_blob() -> Vec<u8> {
    blob(0xfade_0c01, &0u32.to_be_bytes())
}

const N_SPECIAL: usize = 5;

fn cd_size(sig: &SignatureSpec, code_limit: usize, hash_size: usize) -> usize {
    let team = sig.team_id.as_ref().map_or(0, |t| t.len() + 1);
    88 + sig.identifier.len() + 1 + team + (N_SPECIAL + code_limit.div_ceil(PAGE)) * hash_size
}

pub(super) fn signature_size(sig: &SignatureSpec, code_limit: usize, cms_reserve: usize) -> usize {
    let cds = if sig.sha1_primary {
        cd_size(sig, code_limit, 20) + cd_size(sig, code_limit, 32)
    } else {
        cd_size(sig, code_limit, 32)
    };
    let ent = entitlements_blob(sig).map_or(0, |b| b.len());
    let blobs = 4 + usize::from(sig.sha1_primary) + usize::from(ent > 0);
    let cms = match &sig.cms {
        // Measure on a same-length stand-in: the real CodeDirectory needs this size first.
        Some(f) if cms_reserve == 0 => f(&vec![0u8; cds.min(1 << 20)]).len() + 512,
        Some(_) => cms_reserve,
        None => 0,
    };
    align(12 + 8 * blobs + cds + requirements_blob().len() + ent + 8 + cms, 16)
}

fn hash(kind: u8, data: &[u8]) -> Vec<u8> {
    if kind == 1 {
        Sha1::digest(data).to_vec()
    } else {
        Sha256::digest(data).to_vec()
    }
}

fn code_directory(
    sig: &SignatureSpec,
    image: &[u8],
    hash_type: u8,
    text_size: usize,
    specials: &[Option<&[u8]>; N_SPECIAL],
    exec: bool,
) -> Vec<u8> {
    let hash_size = if hash_type == 1 { 20 } else { 32 };
    let n_code = image.len().div_ceil(PAGE);
    let ident_off = 88;
    let team_off = ident_off + sig.identifier.len() + 1;
    let hash_off = team_off + sig.team_id.as_ref().map_or(0, |t| t.len() + 1) + N_SPECIAL * hash_size;
    let total = cd_size(sig, image.len(), hash_size);
    let mut cd = Vec::with_capacity(total);
    let flags = if sig.cms.is_none() { 0x2 } else { 0 };
    for v in [
        0xfade_0c02,
        total as u32,
        0x20400,
        flags,
        hash_off as u32,
        ident_off as u32,
        N_SPECIAL as u32,
        n_code as u32,
        image.len() as u32,
    ] {
        cd.extend_from_slice(&v.to_be_bytes());
    }
    cd.extend_from_slice(&[hash_size as u8, hash_type, 0, 12]);
    let team = if sig.team_id.is_some() { team_off as u32 } else { 0 };
    for v in [0u32, 0, team, 0] {
        cd.extend_from_slice(&v.to_be_bytes());
    }
    for v in [0u64, 0, text_size as u64, u64::from(exec)] {
        cd.extend_from_slice(&v.to_be_bytes());
    }
    cd.extend_from_slice(sig.identifier.as_bytes());
    cd.push(0);
    if let Some(t) = &sig.team_id {
        cd.extend_from_slice(t.as_bytes());
        cd.push(0);
    }
    // Special slots are stored from −N up to −1.
    for data in specials.iter().rev() {
        match data {
            Some(d) => cd.extend_from_slice(&hash(hash_type, d)),
            None => cd.extend(std::iter::repeat_n(0u8, hash_size)),
        }
    }
    for page in image.chunks(PAGE) {
        cd.extend_from_slice(&hash(hash_type, page));
    }
    cd
}

pub(super) fn superblob(sig: &SignatureSpec, image: &[u8], text_size: usize) -> Vec<u8> {
    let req = requirements_blob();
    let ent = entitlements_blob(sig);
    let specials: [Option<&[u8]>; N_SPECIAL] = [
        sig.info_plist.as_deref(),
        Some(&req),
        sig.code_resources.as_deref(),
        None,
        ent.as_deref(),
    ];
    let exec = image.get(12..16) == Some(&MH_EXECUTE.to_le_bytes()[..]);
    let mut blobs: Vec<(u32, Vec<u8>)> = Vec::new();
    let primary = code_directory(
        sig,
        image,
        if sig.sha1_primary { 1 } else { 2 },
        text_size,
        &specials,
        exec,
    );
    let cms = sig.cms.as_ref().map(|f| f(&primary)).unwrap_or_default();
    blobs.push((0, primary));
    blobs.push((2, req.clone()));
    if let Some(e) = &ent {
        blobs.push((5, e.clone()));
    }
    if sig.sha1_primary {
        blobs.push((0x1000, code_directory(sig, image, 2, text_size, &specials, exec)));
    }
    blobs.push((0x10000, blob(0xfade_0b01, &cms)));
    let header = 12 + 8 * blobs.len();
    let total = header + blobs.iter().map(|(_, b)| b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    for v in [0xfade_0cc0, total as u32, blobs.len() as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut off = header;
    for (slot, b) in &blobs {
        out.extend_from_slice(&slot.to_be_bytes());
        out.extend_from_slice(&(off as u32).to_be_bytes());
        off += b.len();
    }
    for (_, b) in blobs {
        out.extend_from_slice(&b);
    }
    out
}
