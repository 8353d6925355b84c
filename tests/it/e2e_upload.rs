//! `asc-publish upload` end to end: the real binary, a valid signed sample IPA, and the App Store
//! Connect simulator, through every situation issue #3 names (happy path, no app record,
//! duplicate build number, failing parts, 429 bursts, a dropped commit response, processing
//! rejected, a killed job re-run, a finished upload re-run).

use std::time::Duration;

use crate::support::e2e::{World, quick_processing, wait_until};
use asc_publish::sample::app::SampleApp;
use asc_sim::{Faults, Processing, ProcessingResult, SimConfig};
use serde_json::Value;

fn config() -> SimConfig {
    SimConfig {
        processing: quick_processing(),
        ..SimConfig::default()
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_reaches_valid_with_one_json_outcome() {
    let w = World::start(config()).await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = run.outcome();
    assert_eq!(s(&o, "status"), "success");
    assert_eq!(s(&o, "processing_state"), "VALID");
    assert_eq!(s(&o, "upload_state"), "COMPLETE");
    assert_eq!(s(&o, "upload_mode"), "new");
    assert_eq!(s(&o, "version"), "1.0.0");
    assert_eq!(s(&o, "build_number"), "1");
    assert_eq!(s(&o, "app_id"), asc_sim::DEFAULT_APP_ID);
    assert!(!s(&o, "build_id").is_empty() && !s(&o, "upload_id").is_empty());
    let size = std::fs::metadata(&ipa).unwrap().len();
    assert_eq!(o["bytes_sent"].as_u64(), Some(size));
    assert_eq!(o["file_size"].as_u64(), Some(size));
    // Export compliance answered from Info.plist (the sample declares false).
    assert_eq!(o["uses_non_exempt_encryption"], Value::Bool(false));
    assert_eq!(w.records("builds"), 1);
    // The parts never saw the API token.
    assert!(
        w.sim
            .requests()
            .iter()
            .filter(|r| !r.path.starts_with("/v1/"))
            .all(|r| !r.has_authorization)
    );
    // Progress and a final throughput line on stderr (not a terminal here: plain lines).
    assert!(run.stderr.contains("MB/s"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_app_record_exits_4_before_anything_is_created() {
    let w = World::start(config()).await;
    let ipa = w.ipa(
        "Other.ipa",
        SampleApp {
            bundle_id: "com.example.unknown".into(),
            ..SampleApp::default()
        },
    );
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("com.example.unknown"), "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("app record"), "{}", run.stderr);
    assert_eq!(w.count("POST", "/v1/buildUploads"), 0);
    assert_eq!(run.outcome()["exit_code"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_id_of_another_app_exits_4_before_anything_is_created() {
    // A stale ASC_APP_ID (e.g. a previous step's output for another app) or a mistyped --app-id:
    // Apple would take the whole upload and fail processing with ITMS-90054 only afterwards.
    let w = World::start(SimConfig {
        apps: vec![
            ("com.example.demo".into(), "6450000001".into()),
            ("com.example.other".into(), "6450000002".into()),
        ],
        ..config()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    for (flag, id) in [("--app-id", "6450000002"), ("--app-id", "6450000999")] {
        let run = w.run(w.upload_args(&ipa, &[flag, id])).await;
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert_eq!(run.outcome()["exit_code"], 4);
        if id == "6450000002" {
            assert!(run.stderr.contains("com.example.other"), "{}", run.stderr);
            assert!(run.stderr.contains("ITMS-90054"), "{}", run.stderr);
        }
    }
    assert_eq!(w.count("POST", "/v1/buildUploads"), 0);
    // The right id still uploads.
    let run = w.run(w.upload_args(&ipa, &["--app-id", "6450000001"])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_build_number_is_refused_before_any_byte_with_the_next_free_one() {
    let w = World::start(config()).await;
    let first = w.ipa(
        "First.ipa",
        SampleApp {
            version: "7".into(),
            ..SampleApp::default()
        },
    );
    assert_eq!(w.run(w.upload_args(&first, &[])).await.code, 0);
    let puts = w.part_puts();
    // A different file (another PKI signed it) with the same version and build number.
    let second = w.ipa(
        "Second.ipa",
        SampleApp {
            version: "7".into(),
            ..SampleApp::default()
        },
    );
    let run = w.run(w.upload_args(&second, &[])).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains('7') && run.stderr.contains('8'),
        "names 7 in use and 8 free: {}",
        run.stderr
    );
    assert_eq!(w.part_puts(), puts, "no part was sent");
    assert_eq!(w.records("uploads"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_failing_parts_are_retried_and_the_file_arrives_whole() {
    let w = World::start(SimConfig {
        faults: Faults {
            fail_part_rate: 0.1,
            seed: 7,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    // 40 MiB: 8 parts of 5 MiB, so some fail at a 10 % rate.
    let ipa = w.ipa(
        "Big.ipa",
        SampleApp {
            padding: 40 << 20,
            ..SampleApp::default()
        },
    );
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let failed = w
        .requests()
        .iter()
        .filter(|(m, p, st)| m == "PUT" && !p.starts_with("/v1/") && *st >= 500)
        .count();
    assert!(failed > 0, "the fault fired at least once");
    assert_eq!(s(&run.outcome(), "processing_state"), "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_are_waited_out() {
    let w = World::start(SimConfig {
        faults: Faults {
            rate_limit_after: Some(4),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        w.requests().iter().any(|(_, _, st)| *st == 429),
        "the simulator did rate-limit"
    );
    assert_eq!(s(&run.outcome(), "status"), "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_commit_response_is_reconciled_not_replayed() {
    let w = World::start(SimConfig {
        faults: Faults {
            drop_commit_response: true,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let commits: Vec<_> = w
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "PATCH" && p.starts_with("/v1/buildUploadFiles/"))
        .collect();
    assert_eq!(commits.len(), 1, "the commit was sent once: {commits:?}");
    assert_eq!(commits[0].2, 0, "and its response was dropped");
    assert_eq!(s(&run.outcome(), "processing_state"), "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_failed_with_90725_exits_1_with_apples_words() {
    let w = World::start(SimConfig {
        processing: Processing {
            duration: Duration::from_millis(300),
            result: ProcessingResult::Failed("90725".into()),
        },
        ..SimConfig::default()
    })
    .await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let o = run.outcome();
    assert_eq!(s(&o, "status"), "rejected");
    let messages = o["apple_messages"].as_array().cloned().unwrap_or_default();
    assert!(
        messages
            .iter()
            .any(|m| s(m, "code").contains("90725") && s(m, "level") == "error"),
        "{messages:?}"
    );
    assert!(run.stderr.contains("90725"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_killed_mid_upload_and_rerun_makes_one_build() {
    let state = tempfile::tempdir().unwrap();
    let w = World::start(SimConfig {
        state_dir: Some(state.path().to_path_buf()),
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let ipa = w.ipa(
        "Big.ipa",
        SampleApp {
            padding: 30 << 20,
            ..SampleApp::default()
        },
    );
    let mut child = w.spawn(w.upload_args(&ipa, &["--concurrency", "1"]));
    // Kill the job once some, but not all, parts are in.
    let started = wait_until(Duration::from_secs(60), || w.part_puts() >= 2).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "the first run got as far as uploading parts");
    assert_eq!(w.count("PATCH", "/v1/buildUploadFiles/"), 0, "killed before the commit");

    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = run.outcome();
    assert_eq!(s(&o, "upload_mode"), "resumed", "{o}");
    assert_eq!(s(&o, "processing_state"), "VALID");
    assert_eq!(w.records("uploads"), 1, "no second reservation");
    assert_eq!(w.records("builds"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_of_a_finished_upload_succeeds_without_sending_again() {
    let w = World::start(config()).await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let first = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let puts = w.part_puts();
    let second = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let o = second.outcome();
    assert_eq!(s(&o, "upload_mode"), "already_uploaded");
    assert_eq!(s(&o, "build_id"), s(&first.outcome(), "build_id"));
    assert_eq!(w.part_puts(), puts, "nothing re-sent");
    assert_eq!(w.records("builds"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wait_stops_after_the_commit_and_prints_the_upload_id() {
    let w = World::start(config()).await;
    let ipa = w.ipa("Demo.ipa", SampleApp::default());
    let run = w.run(w.upload_args(&ipa, &["--no-wait"])).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let o = run.outcome();
    assert_eq!(s(&o, "status"), "uploaded");
    assert!(!s(&o, "upload_id").is_empty());
    let requests = w.requests();
    let commit = requests
        .iter()
        .position(|(m, p, _)| m == "PATCH" && p.starts_with("/v1/buildUploadFiles/"));
    assert_eq!(
        commit,
        Some(requests.len() - 1),
        "nothing after the commit: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_validation_errors_stop_the_upload_before_anything_is_sent() {
    let w = World::start(config()).await;
    let ipa = w.ipa(
        "Demo.ipa",
        SampleApp {
            version: "1.0-beta".into(),
            ..SampleApp::default()
        },
    );
    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("ITMS-90058"), "{}", run.stderr);
    assert!(w.requests().is_empty(), "no request at all: {:?}", w.requests());
    let o = run.outcome();
    assert_eq!(s(&o, "status"), "rejected");
    assert!(o["findings"].as_array().is_some_and(|f| !f.is_empty()));
}
