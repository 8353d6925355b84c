//! Mutation test: thousands of deterministic corruptions of a valid sample IPA (byte flips,
//! truncations, insertions, overwritten size fields). Inspect and validate must never panic and
//! must always finish. `ASC_MUTATION_ITERATIONS`, `ASC_MUTATION_SEED` and `ASC_MUTATION_BASE` (an
//! IPA to corrupt instead of the sample, e.g. the real fixture) run other campaigns locally.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant, SystemTime};

use asc_publish::ipa::{PlistFormat, inspect};
use asc_publish::profile::TrustStore;
use asc_publish::sample::ipa::{BundleSpec, Entry, IpaBuilder, Method};
use asc_publish::validate::{Options, validate};

const ITERATIONS: usize = 2_500;
const SEED: u64 = 0x1BA_C0DE;

fn sample() -> Vec<u8> {
    IpaBuilder::new()
        .map_app(|a| {
            a.info_format(PlistFormat::Binary)
                .file("Frameworks/libswiftCore.dylib", b"\xcf\xfa\xed\xfe".to_vec())
        })
        .extension(BundleSpec::extension("Share", "com.example.demo.share"))
        .framework(BundleSpec::framework("Kit", "com.example.kit").info_format(PlistFormat::Binary))
        .watch_app(BundleSpec::watch_app(
            "Watch",
            "com.example.demo.watchkitapp",
            "com.example.demo",
        ))
        .entry(Entry::bytes("SwiftSupport/iphoneos/libswiftCore.dylib", "x").method(Method::Stored))
        .to_bytes()
        .expect("sample IPA")
}

/// Values that tend to break size and offset arithmetic.
const INTERESTING: &[u32] = &[
    0,
    1,
    0x7F,
    0xFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

fn mutate(rng: &mut fastrand::Rng, original: &[u8]) -> (Vec<u8>, String) {
    let mut bytes = original.to_vec();
    let len = bytes.len();
    // Half the mutations land in the last quarter: the central directory and end records.
    let pos = |rng: &mut fastrand::Rng| {
        if rng.bool() {
            rng.usize(len * 3 / 4..len)
        } else {
            rng.usize(..len)
        }
    };
    let what = match rng.u8(..5) {
        0 => {
            let n = rng.usize(1..=8);
            for _ in 0..n {
                let at = pos(rng);
                bytes[at] ^= 1 << rng.u8(..8);
            }
            format!("flip {n} bits")
        }
        1 => {
            let at = rng.usize(..len);
            bytes.truncate(at);
            format!("truncate at {at}")
        }
        2 => {
            let at = pos(rng);
            let n = rng.usize(1..64);
            let junk: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
            bytes.splice(at..at, junk);
            format!("insert {n} bytes at {at}")
        }
        3 => {
            let at = pos(rng).min(len.saturating_sub(4));
            let value = INTERESTING[rng.usize(..INTERESTING.len())];
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
            format!("write {value:#x} at {at}")
        }
        _ => {
            let at = pos(rng);
            let end = (at + rng.usize(1..256)).min(len);
            bytes.drain(at..end);
            format!("delete {at}..{end}")
        }
    };
    (bytes, what)
}

#[test]
fn corrupted_ipas_never_panic_or_hang() {
    let original = match std::env::var_os("ASC_MUTATION_BASE") {
        Some(path) => std::fs::read(path).expect("read ASC_MUTATION_BASE"),
        None => sample(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("Mutant.ipa");
    let trust = TrustStore::apple();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env("ASC_MUTATION_SEED").unwrap_or(SEED);
    let iterations = env("ASC_MUTATION_ITERATIONS").map_or(ITERATIONS, |n| n as usize);
    let mut rng = fastrand::Rng::with_seed(seed);
    let started = Instant::now();
    let (mut readable, mut findings) = (0usize, 0usize);
    for i in 0..iterations {
        let (bytes, what) = mutate(&mut rng, &original);
        std::fs::write(&path, &bytes).expect("write mutant");
        let one = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let Ok(inspected) = inspect(&path, &trust) else {
                return None;
            };
            let options = Options {
                deep: i % 10 == 0,
                ..Options::default()
            };
            Some(validate(&inspected, &trust, &options, SystemTime::now()).findings.len())
        }));
        match outcome {
            Ok(Some(n)) => {
                readable += 1;
                findings += n;
            }
            Ok(None) => {}
            Err(_) => panic!("iteration {i} (seed {seed}): {what} made inspect/validate panic"),
        }
        assert!(
            one.elapsed() < Duration::from_secs(5),
            "iteration {i} (seed {seed}): {what} took {:?}",
            one.elapsed()
        );
    }
    // Most mutants stay readable zips: the rules really ran over them.
    assert!(readable > iterations / 4, "only {readable} mutants were readable");
    assert!(findings > 0);
    assert!(
        started.elapsed() < Duration::from_secs(120) || iterations > ITERATIONS,
        "took {:?}",
        started.elapsed()
    );
}
