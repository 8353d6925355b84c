//! `asc-publish report --from outcome.json`: a saved outcome re-rendered in a later step, with the
//! same outputs and summary the run itself would have written.

use crate::support::e2e_ci::*;
use asc_sim::ProcessingResult;
use serde_json::{Value, json};

fn github_env(dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        kv("GITHUB_ACTIONS", "true"),
        kv("GITHUB_REPOSITORY", "octo/app"),
        kv("GITHUB_OUTPUT", dir.join("out").to_string_lossy()),
        kv("GITHUB_STEP_SUMMARY", dir.join("summary.md").to_string_lossy()),
    ]
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_outcome_is_published_again_on_github() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("outcome.json");
    let outcome = json!({
        "schema_version": 1,
        "status": "rejected",
        "exit_code": 1,
        "bundle_id": "com.example.demo",
        "version": "2.1",
        "build_number": "88",
        "app_id": "6450000001",
        "upload_id": "upl-9",
        "build_id": "bld-9",
        "processing_state": "INVALID",
        "findings": [{"code": "ASC-W001", "severity": "warning", "path": "Payload/Demo.app/Info.plist",
                      "message": "ITSAppUsesNonExemptEncryption is missing", "fix": "Set it"}],
        "apple_messages": [{"level": "error", "code": "ITMS-90725", "description": "SDK version issue"}],
        "timings": [{"stage": "validate", "millis": 120}, {"stage": "upload", "millis": 3000},
                    {"stage": "processing", "millis": 60000}],
        "bytes_sent": 5000000,
        "some_future_field": true
    });
    std::fs::write(&saved, outcome.to_string()).unwrap();
    let run = run_bin(
        args(&["report", "--from", saved.to_str().unwrap()]),
        github_env(dir.path()),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("**Rejected by Apple**"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("::error title=App Store Connect ITMS-90725::SDK version issue")
    );
    assert!(
        run.stderr
            .contains("::warning file=Payload/Demo.app/Info.plist,title=ASC-W001::")
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        summary.contains("**Rejected by Apple**") && summary.contains("gantt"),
        "{summary}"
    );
    assert!(summary.contains("ITMS-90725"));
    let outputs = parse_github_output(&std::fs::read_to_string(dir.path().join("out")).unwrap());
    assert_eq!(get(&outputs, "build-id"), "bld-9");
    assert_eq!(get(&outputs, "build-number"), "88");
    assert_eq!(get(&outputs, "processing-state"), "INVALID");

    let json_run = run_bin(
        args(&[
            "report",
            "--from",
            saved.to_str().unwrap(),
            "--format",
            "json",
            "--report",
            "none",
        ]),
        vec![],
    )
    .await;
    assert_eq!(json_run.code, 0, "{}", json_run.stderr);
    let doc: Value = serde_json::from_str(&json_run.stdout).unwrap();
    assert_eq!(doc["build_id"], "bld-9");
    assert_eq!(doc["findings"][0]["code"], "ASC-W001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_outcomes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let run = run_bin(args(&["report", "--from", missing.to_str().unwrap()]), vec![]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--output-json"), "{}", run.stderr);
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, b"\xff{not json").unwrap();
    let run = run_bin(args(&["report", "--from", garbage.to_str().unwrap()]), vec![]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_saved_with_output_json_reports_the_same_in_a_later_step() {
    let world = World::start(ProcessingResult::Valid).await;
    let saved = world.path("outcome.json");
    let run = world
        .upload(&["--output-json", saved.to_str().unwrap(), "--report", "none"], &[])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_no_key("outcome.json", &text, &world.key_pem);
    let later = world.path("later");
    std::fs::create_dir_all(&later).unwrap();
    let run = run_bin(args(&["report", "--from", saved.to_str().unwrap()]), github_env(&later)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outputs = parse_github_output(&std::fs::read_to_string(later.join("out")).unwrap());
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(get(&outputs, "build-id"), doc["build_id"].as_str().unwrap());
    let summary = std::fs::read_to_string(later.join("summary.md")).unwrap();
    assert!(summary.contains("**Published**"), "{summary}");
}
