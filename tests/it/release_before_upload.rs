//! `upload --release`, `upload --dry-run --release` and `preflight --release` check the App Store
//! release before anything is uploaded: a version Apple would refuse (missing metadata, another
//! submission with App Review) stops the run before a build upload is reserved, and the plan
//! shows the release as a step.

use std::time::Duration;

use asc_publish::Error;
use asc_publish::outcome::Outcome;
use asc_publish::sample::app::SampleApp;
use asc_sim::{AppStoreScene, MissingMetadata};

use crate::support::distribute::World;
use crate::support::release::release_scene;

fn fast() -> AppStoreScene {
    AppStoreScene {
        review_time: Duration::from_millis(300),
        ..AppStoreScene::default()
    }
}

/// Writes to the build-upload endpoints (the build-number check reads them): any of them means an
/// upload was reserved or sent.
fn upload_requests(w: &World) -> Vec<String> {
    w.sent()
        .iter()
        .filter(|s| s.method != "GET")
        .filter(|s| s.path.contains("buildUploads") || s.path.contains("buildUploadFiles"))
        .map(|s| format!("{} {}", s.method, s.path))
        .collect()
}

fn release_step(o: &Outcome) -> &asc_publish::outcome::PlanStep {
    o.plan
        .iter()
        .find(|s| s.step == "release")
        .unwrap_or_else(|| panic!("no release step in the plan: {:?}", o.plan))
}

fn refusal(r: &Result<(), Error>) -> &Error {
    let e = r.as_ref().expect_err("refused");
    assert_eq!(e.exit_code(), 4, "{}", e.message());
    e
}

#[tokio::test]
async fn missing_screenshots_stop_upload_release_before_any_upload() {
    let w = World::start(release_scene(AppStoreScene {
        missing: vec![MissingMetadata::Screenshots],
        ..fast()
    }))
    .await;
    // Version 1.0.0 exists: the release of a new 1.0.0 build meets the same version as
    // `release` of an existing one, so both runs must give the same refusal.
    let ipa = w.ipa("1.0.0", "50");
    let (r, o) = w
        .upload(
            &ipa,
            &["--uses-non-exempt-encryption", "false", "--release", "--whats-new", "x"],
        )
        .await;
    let e = refusal(&r);
    assert!(
        e.message().contains("en-US: Screenshots (appScreenshotSets)"),
        "{}",
        e.message()
    );
    let uploads = upload_requests(&w);
    assert!(
        uploads.is_empty(),
        "an upload was reserved before the refusal: {uploads:?}"
    );
    assert!(w.writes().is_empty(), "writes: {:?}", w.writes());
    let rel = o.release.expect("the missing fields are on the outcome");
    assert_eq!(rel.missing, ["en-US: Screenshots (appScreenshotSets)"]);
    assert_eq!(rel.version_string.as_deref(), Some("1.0.0"));
    w.assert_conformant();

    let build = w.build_id("40").await;
    let (r2, _) = w.release(&["--build-id", &build, "--whats-new", "x"]).await;
    let e2 = refusal(&r2);
    assert_eq!(e.message(), e2.message(), "the same refusal as `release`");
    assert_eq!(e.hint(), e2.hint());
}

#[tokio::test]
async fn dry_run_and_preflight_show_the_release_step_failed() {
    let w = World::start(release_scene(AppStoreScene {
        missing: vec![MissingMetadata::Keywords, MissingMetadata::ReviewContact],
        ..fast()
    }))
    .await;
    let ipa = w.ipa("1.1.0", "50");
    let flags = ["--uses-non-exempt-encryption", "false", "--release", "--whats-new", "x"];
    let mut dry = vec!["--dry-run"];
    dry.extend(flags);
    let (r, o) = w.upload(&ipa, &dry).await;
    let e = refusal(&r);
    let step = release_step(&o);
    assert!(!step.ok, "{step:?}");
    assert_eq!(step.exit_code, Some(4));
    for field in [
        "en-US: Keywords (appStoreVersionLocalizations.keywords)",
        "App Review Information: Phone number (appStoreReviewDetails.contactPhone)",
    ] {
        assert!(step.detail.contains(field), "{field} in {}", step.detail);
        assert!(e.message().contains(field), "{field} in {}", e.message());
    }
    assert!(
        step.fix.as_deref().unwrap_or("").contains("App Store Connect"),
        "{step:?}"
    );
    // The rest of the plan is still made: the upload itself would be fine.
    assert!(o.plan.iter().any(|s| s.step == "upload" && s.ok), "{:?}", o.plan);

    let (r, o) = w.preflight(&ipa, &flags).await;
    refusal(&r);
    assert!(!release_step(&o).ok, "{:?}", o.plan);
    assert!(upload_requests(&w).is_empty(), "{:?}", upload_requests(&w));
    assert!(w.writes().is_empty(), "writes: {:?}", w.writes());
    w.assert_conformant();
}

#[tokio::test]
async fn a_submission_in_flight_refuses_upload_release_unless_cancel_pending() {
    let w = World::start(release_scene(AppStoreScene {
        in_flight: Some("IN_REVIEW".into()),
        ..fast()
    }))
    .await;
    let ipa = w.ipa("1.1.0", "50");
    let flags = ["--uses-non-exempt-encryption", "false", "--release", "--whats-new", "x"];
    let (r, _) = w.upload(&ipa, &flags).await;
    let e = refusal(&r);
    assert!(e.message().contains("IN_REVIEW, version 0.9.1"), "{}", e.message());
    assert!(e.hint().unwrap_or("").contains("--cancel-pending"));
    assert!(upload_requests(&w).is_empty(), "{:?}", upload_requests(&w));
    assert!(w.writes().is_empty(), "writes: {:?}", w.writes());

    let mut dry = vec!["--dry-run", "--cancel-pending"];
    dry.extend(flags);
    let (r, o) = w.upload(&ipa, &dry).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let step = release_step(&o);
    assert!(step.ok && step.detail.contains("cancel 1 submission"), "{step:?}");
    assert!(w.writes().is_empty(), "a dry run cancels nothing: {:?}", w.writes());

    let mut go = vec!["--cancel-pending"];
    go.extend(flags);
    let (r, o) = w.upload(&ipa, &go).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let rel = o.release.expect("released");
    assert_eq!(rel.canceled_submissions.len(), 1);
    assert_eq!(rel.version_string.as_deref(), Some("1.1.0"));
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    w.assert_conformant();
}

#[tokio::test]
async fn with_everything_present_the_step_passes_and_the_release_follows_the_upload() {
    let w = World::start(release_scene(fast())).await;
    let ipa = w.ipa("1.1.0", "50");
    let flags = [
        "--uses-non-exempt-encryption",
        "false",
        "--release",
        "--whats-new",
        "New things.",
    ];
    let mut dry = vec!["--dry-run"];
    dry.extend(flags);
    let (r, o) = w.upload(&ipa, &dry).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let step = release_step(&o);
    assert!(step.ok, "{step:?}");
    assert!(step.detail.contains("1.1.0"), "{step:?}");
    assert!(
        o.release.is_none(),
        "nothing missing, nothing released: {:?}",
        o.release
    );
    assert!(w.writes().is_empty(), "writes: {:?}", w.writes());

    let (r, o) = w.upload(&ipa, &flags).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    assert!(!upload_requests(&w).is_empty());
    let rel = o.release.clone().expect("released");
    assert_eq!(rel.version_string.as_deref(), Some("1.1.0"));
    assert_eq!(rel.submission_state.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert!(rel.missing.is_empty(), "{:?}", rel.missing);
    // The CI outputs carry the release.
    let outputs = asc_publish::ci::outputs::outputs(&asc_publish::report::RunView::from(&o));
    let output = |n: &str| outputs.iter().find(|x| x.name == n).map(|x| x.value.clone());
    assert_eq!(output("review-submission-state").as_deref(), Some("WAITING_FOR_REVIEW"));
    assert_eq!(output("review-submission-id"), rel.submission_id.clone());
    assert_eq!(output("release-version-state"), rel.version_state.clone());
    assert!(rel.submission_id.is_some());

    // A re-run of the same file: the version is with App Review with this very build (known
    // before the upload by its number), which is no refusal.
    let mut dry = vec!["--dry-run"];
    dry.extend(flags);
    let (r, o) = w.upload(&ipa, &dry).await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    let step = release_step(&o);
    assert!(
        step.ok && step.detail.contains("already WAITING_FOR_REVIEW"),
        "{step:?}"
    );
    let other = w.ipa("1.1.0", "51");
    let (r, o) = w.upload(&other, &dry).await;
    let e = refusal(&r);
    assert!(!release_step(&o).ok, "{:?}", o.plan);
    assert!(e.message().contains("with another build"), "{}", e.message());
    w.assert_conformant();
}

#[tokio::test]
async fn unanswered_export_compliance_is_said_before_the_upload() {
    let w = World::start(release_scene(fast())).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Unanswered.ipa");
    let built = SampleApp {
        short_version: "1.1.0".into(),
        version: "50".into(),
        uses_non_exempt_encryption: None,
        ..SampleApp::default()
    }
    .write_to(&path)
    .unwrap();
    let ca = dir.path().join("root.pem");
    std::fs::write(&ca, built.root_pem()).unwrap();
    let ipa = (path, ca);
    let (r, o) = w.upload(&ipa, &["--dry-run", "--release", "--whats-new", "x"]).await;
    refusal(&r);
    let step = release_step(&o);
    assert!(
        step.detail
            .contains("Build 50: Export compliance (builds.usesNonExemptEncryption"),
        "{step:?}"
    );
    let (r, _) = w.upload(&ipa, &["--release", "--whats-new", "x"]).await;
    refusal(&r);
    assert!(upload_requests(&w).is_empty(), "{:?}", upload_requests(&w));

    let (r, o) = w
        .upload(
            &ipa,
            &[
                "--dry-run",
                "--release",
                "--whats-new",
                "x",
                "--uses-non-exempt-encryption",
                "false",
            ],
        )
        .await;
    r.unwrap_or_else(|e| panic!("{}", e.message()));
    assert!(release_step(&o).ok, "{:?}", o.plan);
}
