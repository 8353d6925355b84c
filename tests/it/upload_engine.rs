//! The upload engine end to end against a stateful fake App Store Connect on loopback: parts,
//! headers, retries, reconciliation of lost writes, preflight refusals, re-runs, processing
//! verdicts, timeouts and token re-minting during long waits.

use std::time::{Duration, SystemTime};

use crate::support::asc::fake::Fake;
use crate::support::asc::*;
use asc_publish::asc::AscClient;
use asc_publish::asc::clock::ManualClock;
use asc_publish::outcome::{Outcome, Status, UploadMode};
use asc_publish::publish::progress::ProgressMode;
use asc_publish::publish::{UploadOptions, UploadRequest, run_upload};
use md5::Digest;

struct Setup {
    server: Server,
    fake: Fake,
    clock: ManualClock,
    client: AscClient,
    parts: reqwest::Client,
    req: UploadRequest,
    _dir: tempfile::TempDir,
    data: Vec<u8>,
}

async fn setup(size: usize) -> Setup {
    let clock = ManualClock::new(SystemTime::now());
    let fake = Fake::new(clock.clone());
    let server = serve(fake.handler()).await;
    let (client, parts) = engine_clients(&server.url(), &clock, Duration::from_secs(20), Duration::from_secs(20));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("App.ipa");
    let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let req = UploadRequest {
        ipa_path: path,
        file_name: "App.ipa".into(),
        file_size: size as u64,
        bundle_id: "com.example.app".into(),
        short_version: "1.0".into(),
        version: "42".into(),
        platform: "IOS".into(),
        uses_non_exempt_encryption: Some(false),
    };
    Setup {
        server,
        fake,
        clock,
        client,
        parts,
        req,
        _dir: dir,
        data,
    }
}

fn opts() -> UploadOptions {
    UploadOptions {
        concurrency: 3,
        poll_interval: Duration::from_secs(5),
        progress: ProgressMode::Silent,
        events: asc_publish::publish::events::Events::none(),
        ..UploadOptions::default()
    }
}

impl Setup {
    async fn run(&self, opts: &UploadOptions) -> (Outcome, Result<(), asc_publish::Error>) {
        let mut outcome = Outcome::new();
        let r = run_upload(&self.client, &self.parts, &self.req, opts, &mut outcome).await;
        if let Err(e) = &r {
            outcome.fail(e);
        }
        (outcome, r)
    }

    fn md5(&self) -> String {
        md5::Md5::digest(&self.data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[tokio::test]
async fn uploads_parts_with_exactly_their_headers_commits_md5_and_waits_for_valid() {
    let s = setup(2 * 1024 * 1024 + 12345).await;
    s.fake.with(|st| {
        st.faults.upload_polls = 2;
        st.faults.build_polls = 2;
    });
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert_eq!(outcome.status, Status::Success);
    assert_eq!(outcome.upload_mode, Some(UploadMode::New));
    assert_eq!(outcome.app_id.as_deref(), Some("app1"));
    assert!(outcome.build_id.is_some());
    assert_eq!(outcome.processing_state.as_deref(), Some("VALID"));
    assert_eq!(outcome.bytes_sent, s.req.file_size);
    assert_eq!(outcome.md5.as_deref(), Some(s.md5().as_str()));

    let puts: Vec<Req> = s.server.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 3);
    for p in &puts {
        let names: Vec<&str> = p.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert!(p.header("authorization").is_none());
        assert_eq!(p.header("content-type"), Some("application/octet-stream"));
        assert_eq!(p.header("content-length"), Some(p.body_len.to_string().as_str()));
        // Only the operation's headers, Content-Length, and what the transport always adds.
        for n in &names {
            assert!(
                ["content-type", "content-length", "host", "accept"].contains(n),
                "unexpected header {n}"
            );
        }
        let n: usize = p.path.rsplit('/').next().unwrap().parse().unwrap();
        let off = (n - 1) * 1024 * 1024;
        let end = (off + 1024 * 1024).min(s.data.len());
        let want: String = md5::Md5::digest(&s.data[off..end])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(p.body_md5, want, "part {n} carries its byte range");
    }
    let commit = s
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH" && r.path.starts_with("/v1/buildUploadFiles/"))
        .unwrap();
    let body = commit.json();
    assert_eq!(body["data"]["attributes"]["uploaded"], true);
    assert_eq!(
        body["data"]["attributes"]["sourceFileChecksums"]["file"]["hash"],
        s.md5()
    );
    assert_eq!(
        body["data"]["attributes"]["sourceFileChecksums"]["file"]["algorithm"],
        "MD5"
    );
    // Export compliance answered from Info.plist's value.
    assert_eq!(s.fake.with(|st| st.builds[0].encryption), Some(false));
    assert_eq!(outcome.uses_non_exempt_encryption, Some(false));
    let create = s
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/buildUploadFiles" && r.method == "POST")
        .unwrap();
    let a = &create.json()["data"]["attributes"];
    assert_eq!(
        (a["assetType"].as_str(), a["uti"].as_str(), a["fileName"].as_str()),
        (Some("ASSET"), Some("com.apple.ipa"), Some("App.ipa"))
    );
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["status"], "success");
    // The parts, then the wait for the background MD5, then the commit, in that order.
    let stages: Vec<&str> = json["timings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["stage"].as_str())
        .collect();
    let at = |name: &str| stages.iter().position(|s| *s == name);
    assert!(
        at("upload") < at("checksum") && at("checksum") < at("commit") && at("upload").is_some(),
        "{stages:?}"
    );
    assert_eq!(outcome.md5.as_deref(), Some(s.md5().as_str()));
}

#[tokio::test]
async fn a_failing_part_is_retried_alone() {
    let s = setup(3 * 1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.fail_part.insert(2, (503, 2));
    });
    let (outcome, r) = s.run(&UploadOptions { wait: false, ..opts() }).await;
    r.unwrap();
    assert_eq!(outcome.status, Status::Uploaded);
    assert_eq!(s.server.count("PUT", "/storage/"), 5);
    assert_eq!(outcome.bytes_sent, s.req.file_size);
}

#[tokio::test]
async fn a_part_failing_for_good_stops_with_exit_5_and_a_rerun_resumes() {
    let s = setup(2 * 1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.fail_part.insert(1, (503, 100));
    });
    let (outcome, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 5);
    assert!(e.message().contains("part 1"), "{}", e.message());
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(s.server.count("PATCH", "/v1/buildUploadFiles"), 0, "never committed");

    // The killed job's reservation is resumed, not duplicated.
    s.fake.with(|st| st.faults.fail_part.clear());
    let posts_before = s.server.count("POST", "/v1/buildUploads");
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert_eq!(outcome.upload_mode, Some(UploadMode::Resumed));
    assert_eq!(s.server.count("POST", "/v1/buildUploads"), posts_before);
    assert_eq!(outcome.status, Status::Success);
}

#[tokio::test]
async fn a_lost_create_is_reconciled_by_listing_not_replayed() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.drop_create_upload = true);
    let (outcome, r) = s.run(&UploadOptions { wait: false, ..opts() }).await;
    r.unwrap();
    assert_eq!(s.server.count("POST", "/v1/buildUploads"), 1);
    assert_eq!(s.fake.with(|st| st.uploads.len()), 1);
    assert_eq!(outcome.status, Status::Uploaded);
}

#[tokio::test]
async fn a_lost_file_reservation_is_reconciled() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.drop_create_file = true);
    let (_, r) = s.run(&UploadOptions { wait: false, ..opts() }).await;
    r.unwrap();
    assert_eq!(s.server.count("POST", "/v1/buildUploadFiles"), 1);
}

#[tokio::test]
async fn a_lost_commit_is_reconciled_by_reading_not_replayed() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.drop_commit = true);
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert_eq!(s.server.count("PATCH", "/v1/buildUploadFiles"), 1);
    assert_eq!(outcome.status, Status::Success);
}

#[tokio::test]
async fn a_used_build_number_is_refused_before_any_byte_is_sent() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| {
        for v in ["40", "42", "43"] {
            st.builds.push(crate::support::asc::fake::Build {
                id: format!("b{v}"),
                app: "app1".into(),
                short: "1.0".into(),
                version: v.into(),
                state: "VALID".into(),
                polls: 0,
                encryption: Some(false),
            });
        }
    });
    let (outcome, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    let hint = e.hint().unwrap();
    assert!(hint.contains("43") && hint.contains("44"), "{hint}");
    assert_eq!(s.server.count("POST", "/"), 0);
    assert_eq!(s.server.count("PUT", "/"), 0);
    assert_eq!(outcome.exit_code, 4);
    assert_eq!(serde_json::to_value(&outcome).unwrap()["error"]["kind"], "conflict");
}

#[tokio::test]
async fn a_rerun_with_the_same_file_reports_the_existing_upload() {
    let s = setup(1024 * 1024 + 7).await;
    let (_, r) = s.run(&opts()).await;
    r.unwrap();
    let (puts, posts) = (s.server.count("PUT", "/"), s.server.count("POST", "/"));
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert_eq!(outcome.upload_mode, Some(UploadMode::AlreadyUploaded));
    assert_eq!(outcome.status, Status::Success);
    assert_eq!((s.server.count("PUT", "/"), s.server.count("POST", "/")), (puts, posts));

    // A different file under the same build number is a conflict.
    std::fs::write(&s.req.ipa_path, vec![1u8; s.data.len()]).unwrap();
    let (_, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("different file"));
}

#[tokio::test]
async fn apple_rejection_exits_1_with_itms_codes() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.reject = vec![(
            "90725".into(),
            "SDK version issue. This app was built with the iOS 17.5 SDK. (90725)".into(),
        )];
    });
    let (outcome, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert_eq!(outcome.status, Status::Rejected);
    assert_eq!(outcome.apple_messages[0].code.as_deref(), Some("ITMS-90725"));
    assert!(e.message().contains("90725"));

    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.build_verdict = Some("INVALID".into()));
    let (outcome, r) = s.run(&opts()).await;
    assert_eq!(r.unwrap_err().exit_code(), 1);
    assert_eq!(outcome.processing_state.as_deref(), Some("INVALID"));
}

#[tokio::test]
async fn waiting_times_out_with_exit_5() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.upload_polls = 1_000_000);
    let o = UploadOptions {
        timeout: Duration::from_secs(120),
        ..opts()
    };
    let (outcome, r) = s.run(&o).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 5);
    assert!(e.message().contains("timed out"));
    assert_eq!(outcome.upload_state.as_deref(), Some("PROCESSING"));
    // Backoff: 5 s growing to the 30 s cap, never past the deadline.
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps[0], Duration::from_secs(5));
    assert!(sleeps.iter().all(|d| *d <= Duration::from_secs(30)));
    assert!(sleeps.len() < 20);
}

#[tokio::test]
async fn tokens_are_reminted_during_a_long_wait() {
    let s = setup(1024 * 1024).await;
    // ~1 h of processing at the 30 s poll cap.
    s.fake.with(|st| st.faults.upload_polls = 120);
    let (outcome, r) = s
        .run(&UploadOptions {
            timeout: Duration::from_secs(7200),
            ..opts()
        })
        .await;
    r.unwrap();
    assert_eq!(outcome.status, Status::Success);
    let (distinct, rejected) = s.fake.with(|st| {
        let mut t = st.tokens.clone();
        t.dedup();
        (t.len(), st.rejected_tokens)
    });
    assert_eq!(rejected, 0, "no request ever carried an expired token");
    assert!(distinct >= 6, "tokens were re-minted ({distinct})");
}

#[tokio::test]
async fn an_unknown_bundle_id_asks_to_create_the_app_record() {
    let s = setup(1024).await;
    s.fake.with(|st| st.apps.clear());
    let (_, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.hint().unwrap().contains("com.example.app"));
    assert!(e.hint().unwrap().contains("create the app record"));
}

#[tokio::test]
async fn without_an_encryption_answer_the_outcome_warns() {
    let mut s = setup(1024).await;
    s.req.uses_non_exempt_encryption = None;
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert!(
        outcome.warnings.iter().any(|w| w.contains("export compliance")),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(s.server.count("PATCH", "/v1/builds/"), 0);
}

#[tokio::test]
async fn a_commit_lost_before_it_was_applied_is_sent_again_once_reading_proved_it() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.drop_commit_unapplied = true);
    let (outcome, r) = s.run(&UploadOptions { wait: false, ..opts() }).await;
    r.unwrap();
    assert_eq!(s.server.count("PATCH", "/v1/buildUploadFiles"), 2);
    // Between the two PATCHes the file and the upload were read back.
    let methods: Vec<String> = s
        .server
        .requests()
        .iter()
        .skip_while(|r| r.method != "PATCH")
        .take(4)
        .map(|r| format!("{} {}", r.method, r.path.split('/').nth(2).unwrap_or("")))
        .collect();
    assert_eq!(
        methods,
        [
            "PATCH buildUploadFiles",
            "GET buildUploadFiles",
            "GET buildUploads",
            "PATCH buildUploadFiles"
        ]
    );
    assert_eq!(outcome.status, Status::Uploaded);
}

#[tokio::test]
async fn an_interrupted_reservation_with_expired_urls_is_deleted_and_replaced() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.fail_part.insert(1, (400, 1));
    });
    let (_, r) = s.run(&opts()).await;
    assert_eq!(r.unwrap_err().exit_code(), 5);
    s.fake.with(|st| st.files[0].expiration = "2001-01-01T00:00:00Z".into());
    let (outcome, r) = s.run(&opts()).await;
    r.unwrap();
    assert_eq!(outcome.upload_mode, Some(UploadMode::New));
    assert_eq!(s.server.count("DELETE", "/v1/buildUploads/"), 1);
    assert_eq!(s.server.count("POST", "/v1/buildUploads"), 2);
    assert!(outcome.warnings.iter().any(|w| w.contains("abandoned")));
}

#[tokio::test]
async fn a_build_number_whose_upload_failed_processing_is_refused_up_front() {
    let s = setup(1024).await;
    s.fake.with(|st| {
        st.uploads.push(crate::support::asc::fake::Upload {
            id: "old".into(),
            app: "app1".into(),
            short: "1.0".into(),
            version: "42".into(),
            platform: "IOS".into(),
            state: "FAILED".into(),
            build: None,
            polls: 0,
        })
    });
    let (_, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("failed processing"), "{}", e.message());
    assert!(e.hint().unwrap().contains("43"));
    assert_eq!(s.server.count("POST", "/"), 0);
}

#[tokio::test]
async fn a_409_duplicate_from_apple_is_a_conflict_in_apples_words() {
    let s = setup(1024).await;
    s.fake.with(|st| st.faults.force_duplicate = true);
    let (outcome, r) = s.run(&opts()).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(
        e.message().contains("The bundle version must be higher"),
        "{}",
        e.message()
    );
    assert_eq!(s.server.count("POST", "/v1/buildUploads"), 1);
    assert!(outcome.requests >= 4);
}

#[tokio::test]
async fn a_build_rejected_before_its_upload_record_says_so_still_reports_apples_reasons() {
    // The build turns INVALID while the upload record still says PROCESSING; Apple's reasons are
    // on the upload, so the engine reads it once more instead of failing without them.
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.upload_lags = true;
        st.faults.build_verdict = Some("INVALID".into());
        st.faults.reject = vec![("90683".into(), "Missing purpose string in Info.plist (90683)".into())];
    });
    let (outcome, r) = s.run(&opts()).await;
    assert_eq!(r.unwrap_err().exit_code(), 1);
    assert_eq!(outcome.processing_state.as_deref(), Some("INVALID"));
    assert_eq!(outcome.upload_state.as_deref(), Some("FAILED"));
    assert_eq!(outcome.apple_messages[0].code.as_deref(), Some("ITMS-90683"));

    // And a VALID build ahead of its upload record: the outcome ends with the upload COMPLETE.
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| st.faults.upload_lags = true);
    let (outcome, r) = s.run(&opts()).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(outcome.processing_state.as_deref(), Some("VALID"));
    assert_eq!(outcome.upload_state.as_deref(), Some("COMPLETE"));
}

/// The engine says what it does through its events, in order, and prints nothing itself: the
/// states Apple reports, each once, and the steps between them.
#[tokio::test]
async fn the_engine_reports_through_events() {
    use asc_publish::publish::events::{Event, Events, Recorder};
    let s = setup(300_000).await;
    s.fake.with(|st| {
        st.faults.upload_polls = 2;
        st.faults.build_polls = 2;
    });
    let rec = std::sync::Arc::new(Recorder::default());
    let (outcome, r) = s
        .run(&UploadOptions {
            events: Events::to(rec.clone()),
            ..opts()
        })
        .await;
    r.unwrap();
    let events = rec.events();
    let pos = |e: &Event| {
        events
            .iter()
            .position(|x| x == e)
            .unwrap_or_else(|| panic!("{e:?} in {events:#?}"))
    };
    let build = outcome.build_id.clone().unwrap();
    let committed = events
        .iter()
        .position(|e| matches!(e, Event::Step(s) if s.starts_with("upload committed")))
        .expect("committed");
    let waiting = pos(&Event::Step(
        "waiting for App Store Connect to process the build".into(),
    ));
    let complete = pos(&Event::State {
        of: "upload".into(),
        state: "COMPLETE".into(),
    });
    let valid = pos(&Event::State {
        of: format!("build {build}"),
        state: "VALID".into(),
    });
    assert!(
        committed < waiting && waiting < complete && complete < valid,
        "{events:#?}"
    );
    let states = events.iter().filter(|e| matches!(e, Event::State { .. })).count();
    let distinct: std::collections::HashSet<String> = events
        .iter()
        .filter(|e| matches!(e, Event::State { .. }))
        .filter_map(Event::line)
        .collect();
    assert_eq!(states, distinct.len(), "a state said twice: {events:#?}");
}

/// The engine's result is a value: `upload` hands back what it established (also when Apple
/// rejects the build), and the outcome `run_upload` fills in is exactly that value recorded.
#[tokio::test]
async fn the_upload_stage_returns_its_result_as_a_value() {
    let s = setup(1024 * 1024).await;
    s.fake.with(|st| {
        st.faults.reject = vec![("90725".into(), "SDK version issue. (90725)".into())];
    });
    let (up, r) = asc_publish::publish::upload(&s.client, &s.parts, &s.req, &opts()).await;
    assert_eq!(r.unwrap_err().exit_code(), 1);
    assert_eq!(up.upload_mode, Some(UploadMode::New));
    assert_eq!(up.status, Some(Status::Rejected));
    assert_eq!(up.bytes_sent, Some(s.req.file_size));
    assert_eq!(up.md5.as_deref(), Some(s.md5().as_str()));
    let stages: Vec<&str> = up.timings.iter().map(|(stage, _)| *stage).collect();
    assert_eq!(stages, ["preflight", "upload", "checksum", "commit", "processing"]);
    let processed = up.processed.clone().expect("the stage waited");
    assert_eq!(processed.apple_messages[0].code.as_deref(), Some("ITMS-90725"));
    assert!(up.requests > 0);

    let mut outcome = Outcome::new();
    s.req.record_in(&mut outcome);
    up.clone().record_in(&mut outcome);
    assert_eq!(outcome.status, Status::Rejected);
    assert_eq!(outcome.upload_id, up.upload_id);
    assert_eq!(outcome.bytes_sent, s.req.file_size);
    assert_eq!(outcome.apple_messages, processed.apple_messages);
    assert_eq!(outcome.timings.len(), 5);
}
