//! `asc-publish demo`, the README's first command: the whole pipeline against the built-in
//! simulator, in seconds, exit 0.

use std::process::Command;

#[test]
fn the_demo_runs_the_whole_pipeline_and_exits_0() {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["demo", "--processing-seconds", "1"])
        .env_remove("ASC_KEY_ID")
        .env_remove("ASC_PRIVATE_KEY")
        .env_remove("ASC_API_URL")
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for step in [
        "$ asc-publish inspect",
        "$ asc-publish validate",
        "$ asc-publish upload",
    ] {
        assert!(stdout.contains(step), "missing {step}: {stdout}");
    }
    assert!(stdout.contains("PASSED: 0 errors, 0 warnings"), "{stdout}");
    assert!(
        stdout.contains("com.example.demo 1.0.0 (1): processed and VALID"),
        "{stdout}"
    );
    assert!(stderr.contains("export compliance answered"), "{stderr}");
    // The simulator's private key is shown only as a file name, never as key material.
    assert!(!stdout.contains("BEGIN PRIVATE KEY") && !stderr.contains("BEGIN PRIVATE KEY"));
}

#[test]
fn a_rejected_build_in_the_demo_exits_1_with_apples_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args([
            "demo",
            "--processing-seconds",
            "1",
            "--processing-result",
            "failed:90725",
        ])
        .output()
        .expect("run demo");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("90725"), "{all}");
}

#[test]
fn the_release_demo_goes_through_app_review_and_shows_the_status() {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["demo", "--processing-seconds", "1", "--release"])
        .env_remove("ASC_KEY_ID")
        .env_remove("ASC_PRIVATE_KEY")
        .env_remove("ASC_API_URL")
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("--release --whats-new"), "{stdout}");
    assert!(stdout.contains("$ asc-publish release status"), "{stdout}");
    assert!(stderr.contains("App Store version 1.0.0 created"), "{stderr}");
    assert!(
        stdout.contains("App Store version 1.0.0 (IOS): READY_FOR_DISTRIBUTION"),
        "{stdout}"
    );
    assert!(stdout.contains("COMPLETE"), "{stdout}");
}
