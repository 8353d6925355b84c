//! The README's "Try a wrapper against the simulator" block, run as written (with the test binary
//! in place of target/release/asc-publish, which `cargo build --release` would produce): a user
//! following only the README gets a build processed and in the QA group.

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

fn snippet() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let after = readme
        .split_once("<!-- readme-ci-snippet -->")
        .expect("README marks the CI snippet")
        .1;
    let body = after.split_once("```sh\n").unwrap().1;
    body.split_once("\n```").unwrap().0.to_string()
}

#[test]
fn the_readme_ci_snippet_works_against_the_simulator() {
    let script = snippet();
    assert!(script.contains("bash dist/run.sh"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_asc-publish"),
        dir.path().join("target/release/asc-publish"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/run.sh"),
        dir.path().join("dist/run.sh"),
    )
    .unwrap();
    // `cargo build --release` is what the reader runs first; here the binary is already built.
    let script = script.replace("cargo build --release\n", "");
    let out = Command::new("bash")
        .args(["-e", "-c", &script])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(log.contains("processed and VALID"), "{log}");
    assert!(log.contains("group QA (internal): added"), "{log}");
}
