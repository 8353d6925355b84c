//! plugins/bitrise/step.sh on its own (the packaged step is driven end to end in
//! e2e_ci_wrappers.rs): run from a source checkout without the packaged dist/, it says what to use
//! instead of failing somewhere later.

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_unpackaged_step_names_the_packaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let step = dir.path().join("step.sh");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/bitrise/step.sh"),
        &step,
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(&step)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("ipa_path", "App.ipa")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/package-ci.sh"), "{err}");
}
