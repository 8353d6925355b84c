//! Fuzz target: the xar reader on hostile input, two ways. An even first byte feeds the rest as a
//! whole archive (header, TOC, heap files, payload walk); an odd one wraps the rest as the bare
//! cpio payload of a valid archive, so the cpio reader is reached without a valid gzip stream.
//! Either way: no panic, no allocation beyond the caps, every payload walk ends.

#![no_main]

use std::io::{Cursor, Read, Write};

use libfuzzer_sys::fuzz_target;
use xar_read::{Flow, Limits, Xar};

/// Caps small enough that a run never allocates or walks much, whatever the input claims.
fn limits() -> Limits {
    Limits {
        max_toc_compressed: 1 << 20,
        max_toc_xml: 4 << 20,
        max_files: 1_000,
        max_elements: 20_000,
        max_depth: 64,
        max_payload_bytes: 16 << 20,
        max_payload_entries: 10_000,
        max_name: 4096,
    }
}

/// A valid archive whose only file is `x.pkg/Payload`, stored as is.
fn wrap_payload(payload: &[u8]) -> Vec<u8> {
    let toc = format!(
        "<?xml version=\"1.0\"?><xar><toc><checksum style=\"sha1\"><offset>0</offset><size>20</size></checksum>\
         <file id=\"1\"><name>x.pkg</name><type>directory</type><file id=\"2\"><name>Payload</name><type>file</type>\
         <data><length>{len}</length><offset>20</offset><size>{len}</size>\
         <encoding style=\"application/octet-stream\"/></data></file></file></toc></xar>",
        len = payload.len()
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(toc.as_bytes()).unwrap();
    let z = z.finish().unwrap();
    let mut out = b"xar!".to_vec();
    out.extend_from_slice(&28u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(z.len() as u64).to_be_bytes());
    out.extend_from_slice(&(toc.len() as u64).to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
    out.extend_from_slice(&z);
    out.extend_from_slice(&[0u8; 20]);
    out.extend_from_slice(payload);
    out
}

fn exercise(bytes: Vec<u8>) {
    let Ok(mut xar) = Xar::open(Cursor::new(bytes), limits()) else {
        return;
    };
    let xml = xar.limits().xml();
    let paths: Vec<String> = xar.toc().files.iter().map(|f| f.path.clone()).collect();
    for path in paths.iter().take(32) {
        if let Ok(bytes) = xar.read_file(path, 1 << 20) {
            let _ = xar_read::pkginfo::parse_package_info(&bytes, xml);
            let _ = xar_read::pkginfo::parse_distribution(&bytes, xml);
        }
    }
    for payload in xar.payload_paths() {
        let mut seen = 0u64;
        let _ = xar.visit_payload(&payload, |entry, data| {
            seen += 1;
            assert!(seen <= 10_000, "the entry cap was not enforced");
            if xar_read::app::is_app_info_plist(&entry.path) {
                let mut buf = Vec::new();
                data.take(1 << 20).read_to_end(&mut buf)?;
                return Ok(Flow::Stop);
            }
            Ok(Flow::Continue)
        });
    }
    let _ = xar_read::app::find_info_plist(&mut xar, 1 << 20);
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 => exercise(wrap_payload(rest)),
        Some((_, rest)) => exercise(rest.to_vec()),
        None => {}
    }
});
