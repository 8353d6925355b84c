//! Fuzz target: a whole IPA (zip central directory, entry streams, bundle tree, Info.plists) through
//! `inspect` and every validation rule, including `--deep`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::SystemTime;

use asc_publish::profile::TrustStore;
use asc_publish::validate::{Options, validate};
use libfuzzer_sys::fuzz_target;

/// The archive reader works on files (positional reads), so each input is written to one
/// scratch file that lives as long as the fuzzer.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fuzz.ipa");
        (dir, path)
    });
    path
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let trust = TrustStore::apple();
    if let Ok(inspected) = asc_publish::ipa::inspect(path, &trust) {
        let options = Options { strict: false, deep: true };
        let _ = validate(&inspected, &trust, &options, SystemTime::UNIX_EPOCH);
    }
});
