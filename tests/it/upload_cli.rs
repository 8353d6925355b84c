//! `asc-publish upload` as a process and as a command: exit codes for configuration errors, one
//! JSON document on stdout even on failure, the key never printed, and the command's options
//! driving the engine against the fake App Store Connect.

use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use crate::support::asc::fake::Fake;
use crate::support::asc::*;
use asc_publish::asc::Env;
use asc_publish::asc::clock::ManualClock;
use asc_publish::cli::upload::{UploadArgs, connect, upload_with};
use asc_publish::cli::{Cli, Command as Sub};
use asc_publish::outcome::{Outcome, Status};
use asc_publish::publish::UploadRequest;
use clap::Parser;

fn bin(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn missing_credentials_exit_3_naming_the_variables_with_a_json_outcome() {
    let (code, stdout, stderr) = bin(&["upload", "x.ipa", "--format", "json"], &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("ASC_KEY_ID"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["exit_code"], 3);
    assert_eq!(doc["error"]["kind"], "auth");
}

#[test]
fn a_bad_key_exits_3_and_is_never_printed_at_any_verbosity() {
    let (pem, _, _) = test_key();
    // A damaged key: real key material with the middle line removed.
    let lines: Vec<&str> = pem.lines().collect();
    let damaged = [&lines[..2], &lines[3..]].concat().join("\n");
    for (name, value) in [
        ("ASC_PRIVATE_KEY", damaged.as_str()),
        ("APP_STORE_CONNECT_PRIVATE_KEY", damaged.as_str()),
    ] {
        let (code, stdout, stderr) = bin(
            &["upload", "x.ipa", "-vv", "--format", "json"],
            &[("ASC_KEY_ID", "ABC"), ("ASC_ISSUER_ID", "iss"), (name, value)],
        );
        assert_eq!(code, 3, "{name}: {stderr}");
        assert!(stderr.contains(name), "{stderr}");
        for m in key_material(&pem) {
            assert!(!stdout.contains(&m) && !stderr.contains(&m), "key material printed");
        }
    }
    // Also through the flag, in text mode.
    let (code, stdout, stderr) = bin(
        &["upload", "x.ipa", "-v", "--key-id", "ABC", "--private-key", &damaged],
        &[],
    );
    assert_eq!(code, 3);
    assert!(stderr.contains("--private-key"), "{stderr}");
    for m in key_material(&pem) {
        assert!(!stdout.contains(&m) && !stderr.contains(&m));
    }
}

#[test]
fn plain_http_to_a_remote_api_is_a_usage_error() {
    let (pem, _, _) = test_key();
    let (code, _, stderr) = bin(
        &["upload", "x.ipa", "--api-url", "http://api.example.com"],
        &[("ASC_KEY_ID", "ABC"), ("ASC_PRIVATE_KEY", pem.as_str())],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("http"), "{stderr}");
    let (code, _, stderr) = bin(&["upload", "x.ipa", "--timeout", "5 parsecs"], &[]);
    assert_eq!(code, 2, "{stderr}");
}

#[tokio::test]
async fn the_command_options_drive_the_engine() {
    let clock = ManualClock::new(SystemTime::now());
    let fake = Fake::new(clock.clone());
    fake.with(|st| st.faults.upload_polls = 1);
    let server = serve(fake.handler()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("App.ipa");
    std::fs::write(&path, vec![7u8; 300_000]).unwrap();
    let (pem, _, _) = test_key();
    let key_path = dir.path().join("AuthKey_ABC.p8");
    std::fs::write(&key_path, &pem).unwrap();
    let cli = Cli::try_parse_from([
        "asc-publish",
        "upload",
        path.to_str().unwrap(),
        "--api-url",
        &server.url(),
        "--key-id",
        "ABC",
        "--issuer-id",
        "iss",
        "--private-key",
        key_path.to_str().unwrap(),
        "--uses-non-exempt-encryption",
        "true",
        "--concurrency",
        "2",
        "--poll-interval",
        "1s",
        "--timeout",
        "10m",
        "--format",
        "json",
    ])
    .unwrap();
    let Sub::Upload(args) = cli.command else {
        panic!("upload")
    };
    let args: UploadArgs = args;
    let conn = connect(&args, &Env::default(), Arc::new(clock.clone())).unwrap();
    let req = UploadRequest {
        ipa_path: path,
        file_name: "App.ipa".into(),
        file_size: 300_000,
        bundle_id: "com.example.app".into(),
        short_version: "2.0".into(),
        version: "1".into(),
        platform: "IOS".into(),
        uses_non_exempt_encryption: Some(false),
    };
    let mut outcome = Outcome::new();
    upload_with(
        &conn,
        &args,
        &req,
        &asc_publish::publish::events::Events::none(),
        &mut outcome,
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, Status::Success);
    // The flag overrides Info.plist.
    assert_eq!(fake.with(|st| st.builds[0].encryption), Some(true));
    assert!(outcome.requests >= 8, "{}", outcome.requests);
    assert_eq!(clock.sleeps()[0], std::time::Duration::from_secs(1));
    let doc = serde_json::to_value(&outcome).unwrap();
    for key in [
        "app_id",
        "upload_id",
        "build_id",
        "version",
        "build_number",
        "upload_state",
        "processing_state",
        "apple_messages",
        "timings",
        "bytes_sent",
        "requests",
    ] {
        assert!(!doc[key].is_null(), "{key} missing in {doc}");
    }
}

#[test]
fn parsed_arguments_do_not_show_the_key_in_debug() {
    let (pem, _, _) = test_key();
    let cli = Cli::try_parse_from(["asc-publish", "upload", "x.ipa", "--private-key", pem.as_str()]).unwrap();
    let shown = format!("{cli:?}");
    for m in key_material(&pem) {
        assert!(!shown.contains(&m));
    }
    assert!(shown.contains("[redacted]"));
}
