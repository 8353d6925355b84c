//! `asc-publish release` against the simulator: the whole submission, an idempotent re-run,
//! `--cancel-pending`, `--wait-for-review` (approved and rejected), `release status`, and every
//! preflight refusal with the proof that no mutating request reached App Store Connect. Every
//! request goes through a proxy that checks it against Apple's OpenAPI.

use std::time::Duration;

use asc_sim::{AppStoreScene, MissingMetadata, ReviewVerdict};

use crate::support::distribute::World;
use crate::support::release::release_scene;

fn fast() -> AppStoreScene {
    AppStoreScene {
        review_time: Duration::from_millis(300),
        ..AppStoreScene::default()
    }
}

/// A refused run: its exit code, its message, and that nothing but GETs was sent.
fn refused(w: &World, r: &Result<(), asc_publish::Error>, code: i32) -> String {
    let e = r.as_ref().expect_err("refused");
    assert_eq!(e.exit_code(), code, "{}", e.message());
    let writes = w.writes();
    assert!(writes.is_empty(), "mutating requests were sent: {writes:?}");
    w.assert_conformant();
    format!("{} / {}", e.message(), e.hint().unwrap_or(""))
}

#[tokio::test]
async fn a_build_is_submitted_and_a_rerun_sends_nothing() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("40").await;
    let (r, o) = w
        .release(&[
            "--build-id",
            &build,
            "--whats-new",
            "Faster sync.",
            "--release-type",
            "manual",
            "--phased-release",
            "on",
        ])
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let rel = o.release.clone().unwrap();
    assert_eq!(rel.version_string.as_deref(), Some("1.0.0"));
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert_eq!(rel.version_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert_eq!(rel.release_type.as_deref(), Some("MANUAL"));
    assert_eq!(rel.phased_release, Some(true));
    assert_eq!(rel.whats_new, ["en-US"]);
    let kinds: Vec<String> = w.writes().iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert!(kinds.iter().any(|k| k == "POST /v1/appStoreVersions"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k == "POST /v1/reviewSubmissionItems"), "{kinds:?}");
    assert!(
        kinds.last().unwrap().starts_with("PATCH /v1/reviewSubmissions/"),
        "{kinds:?}"
    );
    w.assert_conformant();

    let before = w.writes().len();
    let (again, o2) = w.release(&["--build-id", &build, "--whats-new", "Faster sync."]).await;
    again.unwrap();
    assert_eq!(w.writes().len(), before, "a re-run writes nothing");
    assert_eq!(o2.release.unwrap().version_state.as_deref(), Some("WAITING_FOR_REVIEW"));

    let (s, status) = w
        .release_status(&["--app-id", "6450000001", "--version", "1.0.0"])
        .await;
    s.unwrap();
    let st = status.release.unwrap();
    assert_eq!(st.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert_eq!(st.release_type.as_deref(), Some("MANUAL"));
}

#[tokio::test]
async fn missing_metadata_is_named_and_nothing_is_sent() {
    let w = World::start(release_scene(AppStoreScene {
        missing: vec![
            MissingMetadata::Screenshots,
            MissingMetadata::Description,
            MissingMetadata::ReviewContact,
            MissingMetadata::Copyright,
        ],
        ..fast()
    }))
    .await;
    let build = w.build_id("40").await;
    let (r, o) = w.release(&["--build-id", &build, "--whats-new", "x"]).await;
    let text = refused(&w, &r, 4);
    for field in [
        "en-US: Screenshots (appScreenshotSets)",
        "en-US: Description (appStoreVersionLocalizations.description)",
        "App Review Information: Phone number (appStoreReviewDetails.contactPhone)",
        "General: Copyright (appStoreVersions.copyright)",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    assert!(o.release.unwrap().missing.len() >= 7);
}

#[tokio::test]
async fn an_update_without_whats_new_is_refused() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("40").await;
    let (r, _) = w.release(&["--build-id", &build]).await;
    let text = refused(&w, &r, 4);
    assert!(text.contains("en-US: What's New in This Version"), "{text}");
}

#[tokio::test]
async fn unanswered_export_compliance_is_refused() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("41").await;
    let (r, _) = w.release(&["--build-id", &build, "--whats-new", "x"]).await;
    let text = refused(&w, &r, 4);
    assert!(
        text.contains("Export compliance (builds.usesNonExemptEncryption"),
        "{text}"
    );
}

#[tokio::test]
async fn an_invalid_build_is_refused() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("42").await;
    let (r, _) = w.release(&["--build-id", &build, "--whats-new", "x"]).await;
    let text = refused(&w, &r, 4);
    assert!(text.contains("INVALID"), "{text}");
}

#[tokio::test]
async fn a_bad_release_date_is_a_usage_error_before_any_request() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("40").await;
    for args in [
        vec!["--release-type", "scheduled"],
        vec!["--release-type", "scheduled", "--release-date", "2001-01-01T00:00:00Z"],
        vec!["--release-type", "scheduled", "--release-date", "tomorrow"],
        vec!["--release-date", "2099-01-01T00:00:00Z"],
    ] {
        let mut all = vec!["--build-id", build.as_str(), "--whats-new", "x"];
        all.extend(args.iter().copied());
        let (r, _) = w.release(&all).await;
        refused(&w, &r, 2);
    }
    assert!(w.sent().is_empty(), "{:?}", w.sent());
}

#[tokio::test]
async fn a_submission_in_flight_is_named_then_cancelled_when_asked() {
    let w = World::start(release_scene(AppStoreScene {
        in_flight: Some("WAITING_FOR_REVIEW".into()),
        ..fast()
    }))
    .await;
    let build = w.build_id("40").await;
    let (r, _) = w.release(&["--build-id", &build, "--whats-new", "x"]).await;
    let text = refused(&w, &r, 4);
    assert!(text.contains("WAITING_FOR_REVIEW, version 0.9.1"), "{text}");
    assert!(text.contains("--cancel-pending"), "{text}");

    let (r, o) = w
        .release(&["--build-id", &build, "--whats-new", "x", "--cancel-pending"])
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let rel = o.release.unwrap();
    assert_eq!(rel.canceled_submissions.len(), 1);
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    // The cancelled 0.9.1 became 1.0.0: no second open version.
    let kinds: Vec<String> = w.writes().iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert!(!kinds.iter().any(|k| k == "POST /v1/appStoreVersions"), "{kinds:?}");
    w.assert_conformant();
}

#[tokio::test]
async fn waiting_for_review_ends_with_apples_verdict() {
    let w = World::start(release_scene(fast())).await;
    let build = w.build_id("40").await;
    let (r, o) = w
        .release(&["--build-id", &build, "--whats-new", "x", "--wait-for-review"])
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let rel = o.release.unwrap();
    assert_eq!(rel.submission_state.as_deref(), Some("COMPLETE"));
    assert_eq!(rel.version_state.as_deref(), Some("READY_FOR_DISTRIBUTION"));

    let w = World::start(release_scene(AppStoreScene {
        verdict: ReviewVerdict::Reject,
        ..fast()
    }))
    .await;
    let build = w.build_id("40").await;
    let (r, _) = w
        .release(&["--build-id", &build, "--whats-new", "x", "--wait-for-review"])
        .await;
    assert_eq!(r.err().unwrap().exit_code(), 1);
}

#[tokio::test]
async fn upload_release_chains_the_submission_after_processing() {
    let w = World::start(release_scene(fast())).await;
    let ipa = w.ipa("1.1.0", "50");
    let (r, o) = w
        .upload(
            &ipa,
            &[
                "--uses-non-exempt-encryption",
                "false",
                "--release",
                "--whats-new",
                "New things.",
            ],
        )
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let rel = o.release.clone().expect("released");
    assert_eq!(rel.version_string.as_deref(), Some("1.1.0"));
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert!(
        o.app_store_connect_url.as_deref().unwrap_or("").contains("testflight"),
        "upload keeps its TestFlight link: {:?}",
        o.app_store_connect_url
    );
    w.assert_conformant();

    let ipa = w.ipa("1.2.0", "51");
    let (r, o) = w.upload(&ipa, &["--no-wait", "--release", "--whats-new", "x"]).await;
    r.unwrap();
    assert!(o.release.is_none());
    assert!(
        o.warnings.iter().any(|w| w.contains("release --from-upload-id")),
        "{:?}",
        o.warnings
    );
}

/// The binary itself: `--format json` prints one outcome document with the error and each missing
/// field, exits 4, and never prints the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_a_refusal_as_json_with_exit_4() {
    let w = World::start(release_scene(AppStoreScene {
        missing: vec![MissingMetadata::Keywords],
        ..fast()
    }))
    .await;
    let build = w.build_id("40").await;
    let mut args: Vec<String> = [
        "release",
        "--build-id",
        &build,
        "--whats-new",
        "x",
        "--format",
        "json",
        "--report",
        "none",
    ]
    .map(String::from)
    .to_vec();
    args.extend(w.conn());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .args(&args)
            .env_remove("ASC_KEY_ID")
            .env_remove("ASC_PRIVATE_KEY")
            .env_remove("ASC_API_URL")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("BITRISE_IO")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(doc["exit_code"], 4, "{doc}");
    assert_eq!(doc["error"]["exit_code"], 4, "{doc}");
    assert_eq!(
        doc["release"]["missing"][0], "en-US: Keywords (appStoreVersionLocalizations.keywords)",
        "{doc}"
    );
    assert!(stderr.contains("--whats-new") || stderr.contains("fix:"), "{stderr}");
    let key = std::fs::read_to_string(&w.sim.private_key_path).unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!stdout.contains(body) && !stderr.contains(body), "the key was printed");
    assert!(w.writes().is_empty());
}

#[tokio::test]
async fn a_version_with_app_review_and_another_build_is_refused() {
    let w = World::start(release_scene(fast())).await;
    let first = w.build_id("40").await;
    let (r, _) = w.release(&["--build-id", &first, "--whats-new", "x"]).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let before = w.writes().len();
    let other = w.build_id("43").await;
    let (r, _) = w.release(&["--build-id", &other, "--whats-new", "x"]).await;
    let e = r.expect_err("refused");
    assert_eq!(e.exit_code(), 4, "{}", e.message());
    assert!(e.message().contains(&first), "{}", e.message());
    assert!(e.hint().unwrap().contains("new version string"));
    assert_eq!(w.writes().len(), before, "nothing sent");
}

#[tokio::test]
async fn by_version_and_number_with_whats_new_per_locale() {
    let w = World::start(release_scene(fast())).await;
    let by_version = |notes: &std::path::Path| {
        vec![
            "--bundle-id".to_string(),
            "com.example.demo".into(),
            "--version".into(),
            "1.0.0".into(),
            "--build-number".into(),
            "40".into(),
            "--whats-new-json".into(),
            notes.to_str().unwrap().into(),
        ]
    };
    // A locale the version lacks would be created with What's New only: App Review refuses that.
    let two = w.dir.path().join("two.json");
    std::fs::write(&two, r#"{"en-US": "Faster sync.", "de-DE": "Schneller."}"#).unwrap();
    let args = by_version(&two);
    let (r, _) = w.release(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let text = refused(&w, &r, 4);
    assert!(text.contains("de-DE: Description"), "{text}");
    assert!(text.contains("de-DE: Screenshots"), "{text}");
    assert!(!text.contains("en-US:"), "{text}");

    let one = w.dir.path().join("one.json");
    std::fs::write(&one, r#"{"en-US": "Faster sync."}"#).unwrap();
    let args = by_version(&one);
    let (r, o) = w.release(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(o.build_number.as_deref(), Some("40"));
    let rel = o.release.unwrap();
    assert_eq!(rel.whats_new, ["en-US"]);
    let v = rel.version_id.unwrap();
    let locs = w
        .get(&format!("/v1/appStoreVersions/{v}/appStoreVersionLocalizations"))
        .await;
    assert_eq!(locs["data"][0]["attributes"]["whatsNew"], "Faster sync.");
    w.assert_conformant();

    let bad = w.dir.path().join("bad.json");
    std::fs::write(&bad, "[1]").unwrap();
    let (r, _) = w
        .release(&["--build-id", "x", "--whats-new-json", bad.to_str().unwrap()])
        .await;
    let e = r.expect_err("refused");
    assert_eq!(e.exit_code(), 2);
    assert!(e.message().contains("--whats-new-json"), "{}", e.message());
}

#[tokio::test]
async fn a_later_job_releases_what_an_earlier_one_uploaded() {
    let w = World::start(release_scene(fast())).await;
    let ipa = w.ipa("1.1.0", "60");
    let (r, uploaded) = w
        .upload(&ipa, &["--no-wait", "--uses-non-exempt-encryption", "false"])
        .await;
    r.unwrap();
    let upload_id = uploaded.upload_id.unwrap();
    let (r, o) = w
        .release(&[
            "--from-upload-id",
            &upload_id,
            "--whats-new",
            "x",
            "--uses-non-exempt-encryption",
            "false",
        ])
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(o.processing_state.as_deref(), Some("VALID"));
    let rel = o.release.unwrap();
    assert_eq!(rel.version_string.as_deref(), Some("1.1.0"));
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
}
