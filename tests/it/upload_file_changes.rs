//! Issue 10: an IPA that changes while it is uploaded is never committed. The real binary uploads
//! to the simulator slowed down (latency on every response); as soon as the file has been
//! reserved, the test rewrites it in place (same size), appends to it, or replaces it with
//! another file. Each time: exit 2, a message saying the file changed, the outcome written, and
//! no commit (`PATCH /v1/buildUploadFiles/…`) reached the simulator.

use std::time::Duration;

use crate::support::e2e::{World, quick_processing, wait_until};
use crate::support::file_change::{Change, change};
use asc_publish::sample::app::SampleApp;
use asc_sim::{Faults, SimConfig};

async fn upload_while_changing(how: Change) {
    let w = World::start(SimConfig {
        processing: quick_processing(),
        faults: Faults {
            latency: Duration::from_millis(400),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    // Several 5 MiB parts, so the upload is still going when the file changes.
    let ipa = w.ipa(
        "Demo.ipa",
        SampleApp {
            padding: 12 << 20,
            ..SampleApp::default()
        },
    );
    let out_json = w.dir.path().join("outcome.json");
    let mut args = w.upload_args(&ipa, &["--output-json"]);
    args.push(out_json.display().to_string());
    let run = {
        let w = &w;
        let running = w.run(args);
        let changer = async {
            let reserved = wait_until(Duration::from_secs(60), || w.count("POST", "/v1/buildUploadFiles") > 0).await;
            assert!(reserved, "the upload reached the reservation: {:?}", w.requests());
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
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_json).expect("outcome written")).unwrap();
    for o in [&run.outcome(), &written] {
        assert_eq!(o["status"], "failed", "{how:?}: {o}");
        assert_eq!(o["exit_code"], 2);
        assert!(o["error"]["message"].as_str().unwrap_or("").contains("Demo.ipa"), "{o}");
    }
    assert_eq!(
        w.count("PATCH", "/v1/buildUploadFiles"),
        0,
        "{how:?}: nothing may be committed: {:?}",
        w.requests()
    );
    assert_eq!(w.records("builds"), 0, "{how:?}");
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
