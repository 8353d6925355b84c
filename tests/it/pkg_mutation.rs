//! Mutation test for `.pkg` packages: deterministic corruptions (byte flips, truncations,
//! overwritten lengths) of a valid sample package, with a gzip'd and with a bare cpio payload, so
//! the TOC, the cpio walk, the app's Info.plist, executable and profile all see damaged input.
//! Inspect and validate must never panic, and a package must either open or be refused with a
//! typed error.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::SystemTime;

use asc_publish::profile::TrustStore;
use asc_publish::sample::pkg::{PayloadFormat, PkgBuilder};
use asc_publish::subject::Subject;
use asc_publish::validate::Options;

const ITERATIONS: usize = 1_500;

fn mutate(rng: &mut fastrand::Rng, base: &[u8]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    match rng.u8(0..4) {
        0 => {
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(0..bytes.len());
                bytes[i] ^= 1 << rng.u8(0..8);
            }
        }
        1 => bytes.truncate(rng.usize(0..bytes.len())),
        2 => {
            let i = rng.usize(0..bytes.len().saturating_sub(8).max(1));
            let v: u64 = [0, 1, 0xff, 0xffff_ffff, u64::MAX, 1 << 40][rng.usize(0..6)];
            let end = (i + 8).min(bytes.len());
            bytes[i..end].copy_from_slice(&v.to_be_bytes()[..end - i]);
        }
        _ => {
            // Digits in the cpio headers: sizes and name lengths.
            let i = rng.usize(0..bytes.len());
            bytes[i] = b"0177777"[rng.usize(0..7)];
        }
    }
    bytes
}

#[test]
fn corrupted_packages_never_panic() {
    let trust = TrustStore::apple();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.pkg");
    let mut rng = fastrand::Rng::with_seed(0x9C6_0DE);
    let bases = [
        PkgBuilder::new().build(),
        PkgBuilder {
            payload_format: PayloadFormat::RawOdc,
            ..PkgBuilder::new()
        }
        .build(),
    ];
    // The bare-cpio sample must itself be clean, or the mutations start from a broken package.
    std::fs::write(&path, &bases[1]).unwrap();
    let clean = Subject::open(&path, &trust).unwrap();
    assert!(
        clean
            .validate(&trust, &Options::default(), SystemTime::now())
            .findings
            .is_empty(),
        "the bare-cpio sample is not clean"
    );
    let (mut opened, mut refused) = (0, 0);
    for i in 0..ITERATIONS {
        let bytes = mutate(&mut rng, &bases[i % 2]);
        std::fs::write(&path, &bytes).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| match Subject::open(&path, &trust) {
            Ok(s) => {
                let _ = s.validate(&trust, &Options::default(), SystemTime::now());
                let _ = s.to_json_value();
                true
            }
            Err(_) => false,
        }));
        match r {
            Ok(true) => opened += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("iteration {i} of seed 0x9C6_0DE panicked"),
        }
    }
    // Both outcomes happen, so the campaign reaches past the header.
    assert!(opened > 100 && refused > 100, "opened {opened}, refused {refused}");
}
