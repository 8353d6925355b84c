//! Issue 10 on the Apple ID native backend: an IPA that changes while it is delivered is never
//! committed. The real binary uploads with `--apple-id` to the simulator's content-delivery
//! service slowed down (latency on every response); as soon as the IPA's delivery file has been
//! reserved (the second `POST buildDeliveryFiles`, after the asset description's), the test
//! rewrites it in place (same size), appends to it, or replaces it with another file. Each time:
//! exit 2, a message saying the file changed, the outcome written, and the IPA's delivery file is
//! never completed (only the asset description's `PATCH` reached the simulator, nothing was
//! processed).

use std::process::Command;
use std::time::Duration;

use crate::support::e2e::{Run, World, quick_processing, wait_until};
use crate::support::file_change::{Change, change};
use asc_publish::sample::app::SampleApp;
use asc_sim::{Faults, SimConfig};

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "zxcv-bnma-sdfg-hjkl";
const DELIVERY_FILES: &str = "/v1/buildDeliveryFiles";

/// Requests to the content-delivery provider resources whose path contains `resource`.
fn provider_calls(w: &World, method: &str, resource: &str) -> usize {
    w.requests()
        .iter()
        .filter(|(m, p, _)| m == method && p.starts_with("/MZContentDeliveryService/") && p.contains(resource))
        .count()
}

async fn run(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .args(&args)
            .env_clear()
            // No xcrun: `auto` picks the native backend.
            .env("PATH", "/usr/bin:/bin")
            .env("ASC_APP_SPECIFIC_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

async fn upload_while_changing(how: Change) {
    let w = World::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        processing: quick_processing(),
        faults: Faults {
            latency: Duration::from_millis(400),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    // Several 5 MiB parts, so the delivery is still going when the file changes.
    let ipa = w.ipa(
        "Demo.ipa",
        SampleApp {
            padding: 12 << 20,
            with_extension: false,
            ..SampleApp::default()
        },
    );
    let out_json = w.dir.path().join("outcome.json");
    let args: Vec<String> = [
        "upload",
        &ipa.display().to_string(),
        "--apple-id",
        EMAIL,
        "--content-delivery-url",
        &w.sim.api_url,
        "--extra-root-ca",
        &ipa.with_extension("root-ca.pem").display().to_string(),
        "--format",
        "json",
        "--poll-interval",
        "100ms",
        "--timeout",
        "2m",
        "--output-json",
        &out_json.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = {
        let w = &w;
        let running = run(args);
        let changer = async {
            // The first reservation is the asset description's, the second the IPA's.
            let reserved = wait_until(Duration::from_secs(60), || {
                provider_calls(w, "POST", DELIVERY_FILES) >= 2
            })
            .await;
            assert!(reserved, "the upload reached the IPA's reservation: {:?}", w.requests());
            change(&ipa, how);
        };
        let (run, ()) = tokio::join!(running, changer);
        run
    };

    assert_eq!(run.code, 2, "{how:?}: {}", run.stderr);
    assert!(
        run.stderr.contains("changed while it was being uploaded") && run.stderr.contains("not committed"),
        "{how:?}: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_json).expect("outcome written")).unwrap();
    for o in [&run.outcome(), &written] {
        assert_eq!(o["status"], "failed", "{how:?}: {o}");
        assert_eq!(o["exit_code"], 2);
        assert!(o["error"]["message"].as_str().unwrap_or("").contains("Demo.ipa"), "{o}");
    }
    assert_eq!(
        provider_calls(&w, "PATCH", DELIVERY_FILES),
        1,
        "{how:?}: only the asset description may be committed: {:?}",
        w.requests()
    );
    assert_eq!(w.records("builds"), 0, "{how:?}: nothing was processed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_in_place_is_not_committed() {
    upload_while_changing(Change::RewriteInPlace).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_appended_to_is_not_committed() {
    upload_while_changing(Change::Append).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_replaced_by_another_is_not_committed() {
    upload_while_changing(Change::Replace).await;
}
