//! Shared by the IPA integration tests: hand-made zips (for what no well-behaved zip writer
//! produces: lying sizes, bad CRCs, overlapping entries, absurd counts) and temp-file helpers.

use std::io::Write;
use std::path::PathBuf;

use asc_publish::sample::ipa::IpaBuilder;

/// One entry of a hand-made zip.
#[derive(Clone)]
pub struct Raw {
    pub name: Vec<u8>,
    /// The bytes stored in the archive (compressed when `method` is 8).
    pub data: Vec<u8>,
    pub method: u16,
    pub crc: u32,
    /// Declared uncompressed size.
    pub size: u32,
    pub mode: u32,
    /// Point the central directory at the local header of this earlier entry instead of our own.
    pub share_header_of: Option<usize>,
}

pub fn crc(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

impl Raw {
    pub fn stored(name: &str, data: &[u8]) -> Raw {
        Raw {
            name: name.as_bytes().to_vec(),
            data: data.to_vec(),
            method: 0,
            crc: crc(data),
            size: data.len() as u32,
            mode: 0o100644,
            share_header_of: None,
        }
    }

    pub fn deflated(name: &str, data: &[u8]) -> Raw {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).expect("deflate");
        Raw {
            data: enc.finish().expect("deflate"),
            method: 8,
            ..Raw::stored(name, data)
        }
    }

    /// `len` zero bytes, deflated, without holding them uncompressed.
    pub fn deflated_zeros(name: &str, len: usize) -> Raw {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1 << 20];
        let mut c = flate2::Crc::new();
        let mut left = len;
        while left > 0 {
            let n = left.min(chunk.len());
            enc.write_all(&chunk[..n]).expect("deflate");
            c.update(&chunk[..n]);
            left -= n;
        }
        Raw {
            name: name.as_bytes().to_vec(),
            data: enc.finish().expect("deflate"),
            method: 8,
            crc: c.sum(),
            size: len as u32,
            mode: 0o100644,
            share_header_of: None,
        }
    }
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Writes the entries as a zip, exactly as described (no validation).
pub fn zip(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, 0);
        u16le(&mut out, e.method);
        u16le(&mut out, 0);
        u16le(&mut out, 0x21);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.data.len() as u32);
        u32le(&mut out, e.size);
        u16le(&mut out, e.name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.data);
    }
    let cd_start = out.len() as u32;
    for (i, e) in entries.iter().enumerate() {
        let offset = offsets[e.share_header_of.unwrap_or(i)];
        u32le(&mut out, 0x0201_4b50);
        u16le(&mut out, 0x031E);
        u16le(&mut out, 20);
        u16le(&mut out, 0);
        u16le(&mut out, e.method);
        u16le(&mut out, 0);
        u16le(&mut out, 0x21);
        u32le(&mut out, e.crc);
        u32le(&mut out, e.data.len() as u32);
        u32le(&mut out, e.size);
        u16le(&mut out, e.name.len() as u16);
        u16le(&mut out, 0);
        u16le(&mut out, 0);
        u16le(&mut out, 0);
        u16le(&mut out, 0);
        u32le(&mut out, e.mode << 16);
        u32le(&mut out, offset);
        out.extend_from_slice(&e.name);
    }
    let cd_len = out.len() as u32 - cd_start;
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, entries.len() as u16);
    u16le(&mut out, entries.len() as u16);
    u32le(&mut out, cd_len);
    u32le(&mut out, cd_start);
    u16le(&mut out, 0);
    out
}

/// An empty zip whose zip64 end record declares `count` entries.
pub fn zip64_declaring(count: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let eocd64_at = out.len() as u64;
    u32le(&mut out, 0x0606_4b50);
    out.extend_from_slice(&44u64.to_le_bytes());
    u16le(&mut out, 45);
    u16le(&mut out, 45);
    u32le(&mut out, 0);
    u32le(&mut out, 0);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    u32le(&mut out, 0x0706_4b50);
    u32le(&mut out, 0);
    out.extend_from_slice(&eocd64_at.to_le_bytes());
    u32le(&mut out, 1);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, 0xFFFF);
    u16le(&mut out, 0xFFFF);
    u32le(&mut out, 0xFFFF_FFFF);
    u32le(&mut out, 0xFFFF_FFFF);
    u16le(&mut out, 0);
    out
}

/// A temp directory holding one file; the directory lives as long as the value.
pub struct TempIpa {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn write_bytes(bytes: &[u8]) -> TempIpa {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("App.ipa");
    std::fs::write(&path, bytes).expect("write");
    TempIpa { _dir: dir, path }
}

pub fn write_ipa(builder: IpaBuilder) -> TempIpa {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("App.ipa");
    builder.write_to(&path).expect("write IPA");
    TempIpa { _dir: dir, path }
}

/// A minimal valid app as raw entries: an XML Info.plist and an executable.
pub fn minimal_app() -> Vec<Raw> {
    let info = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>com.example.raw</string>
<key>CFBundleExecutable</key><string>Raw</string></dict></plist>"#;
    vec![
        Raw::deflated("Payload/Raw.app/Info.plist", info),
        Raw::stored("Payload/Raw.app/Raw", b"not a mach-o"),
    ]
}
