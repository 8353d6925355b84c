//! TestFlight distribution end to end against the simulator, in-process: `upload` with
//! distribution flags, the split `upload --no-wait` then `distribute --upload-id`, and
//! `distribute` by version/build number, with every request checked against the OpenAPI subset.

use crate::support::distribute::{Refusal, World, scene};
use asc_publish::outcome::{GroupKind, GroupResult, Status};
use serde_json::Value;

const DEMO: &str = "6450000001";

async fn group_id(w: &World, name: &str) -> String {
    let v = w
        .get(&format!("/v1/betaGroups?filter[app]={DEMO}&filter[name]={name}"))
        .await;
    v["data"][0]["id"].as_str().unwrap().to_string()
}

async fn groups_of(w: &World, build: &str) -> Vec<String> {
    let v = w.get(&format!("/v1/betaGroups?filter[builds]={build}")).await;
    let mut names: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["attributes"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn upload_distributes_with_a_partial_group_failure_visible() {
    let w = World::start(scene(|_| {})).await;
    let public = group_id(&w, "Public").await;
    w.refusals.lock().unwrap().push(Refusal {
        method: "POST".into(),
        path_suffix: "/relationships/betaGroups".into(),
        body_contains: public.clone(),
        status: 422,
        code: "STATE_ERROR.ENTITY_STATE_INVALID".into(),
    });
    let ipa = w.ipa("1.0.0", "5");
    let (r, outcome) = w
        .upload(&ipa, &["--groups", "qa,Everyone,Public", "--format", "json"])
        .await;
    let err = r.expect_err("one group failed");
    assert_eq!(err.exit_code(), 4, "{err:?}");
    assert!(err.message().contains("1 of 3"), "{}", err.message());
    assert!(err.message().contains("Public"));
    let got: Vec<(&str, GroupKind, GroupResult)> = outcome
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.kind, g.result))
        .collect();
    assert_eq!(
        got,
        [
            ("QA", GroupKind::Internal, GroupResult::Added),
            ("Everyone", GroupKind::InternalAll, GroupResult::Skipped),
            ("Public", GroupKind::External, GroupResult::Failed),
        ]
    );
    assert!(outcome.groups[2].message.as_deref().unwrap().contains("STATE_ERROR"));
    let build = outcome.build_id.clone().unwrap();
    assert_eq!(groups_of(&w, &build).await, ["Everyone", "QA"]);
    // The outcome serialises the per-group results.
    let doc = serde_json::to_value(&outcome).unwrap();
    assert_eq!(doc["groups"][1]["kind"], "internal-all");
    assert_eq!(doc["groups"][1]["result"], "skipped");
    w.assert_conformant();
}

#[tokio::test]
async fn no_wait_upload_then_distribute_by_upload_id() {
    let w = World::start(scene(|_| {})).await;
    let ipa = w.ipa("1.0.0", "6");
    let (r, outcome) = w.upload(&ipa, &["--no-wait", "--groups", "QA"]).await;
    r.unwrap();
    assert_eq!(outcome.status, Status::Uploaded);
    assert!(outcome.groups.is_empty());
    let upload_id = outcome.upload_id.clone().unwrap();
    assert!(
        outcome
            .warnings
            .iter()
            .any(|m| m.contains(&format!("distribute --upload-id {upload_id}"))),
        "{:?}",
        outcome.warnings
    );

    let (r, d) = w
        .distribute(&[
            "--upload-id",
            &upload_id,
            "--groups",
            "QA",
            "--what-to-test",
            "Try the new login",
            "--notify",
            "--uses-non-exempt-encryption",
            "false",
        ])
        .await;
    r.unwrap();
    assert_eq!(d.status, Status::Success);
    assert_eq!(d.processing_state.as_deref(), Some("VALID"));
    assert_eq!(d.groups[0].result, GroupResult::Added);
    assert_eq!(d.what_to_test, ["en-US"]);
    assert_eq!(d.notified.as_deref(), Some("sent"));
    let build = d.build_id.clone().unwrap();
    assert_eq!(groups_of(&w, &build).await, ["Everyone", "QA"]);
    let detail = w.get(&format!("/v1/builds/{build}/buildBetaDetail")).await;
    assert_eq!(detail["data"]["attributes"]["internalBuildState"], "IN_BETA_TESTING");

    // Re-running is idempotent: the group is reported as already there.
    let (r, again) = w.distribute(&["--upload-id", &upload_id, "--groups", "qa"]).await;
    r.unwrap();
    assert_eq!(again.groups[0].result, GroupResult::Already);
    w.assert_conformant();
}

async fn whats_new(w: &World, build: &str) -> Vec<(String, String)> {
    let v = w.get(&format!("/v1/builds/{build}/betaBuildLocalizations")).await;
    let mut out: Vec<(String, String)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["attributes"]["locale"].as_str().unwrap().to_string(),
                l["attributes"]["whatsNew"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn what_to_test_upserts_truncates_and_takes_per_locale_json() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=41".parse().unwrap()])).await;
    let by_version = [
        "--version",
        "1.0.0",
        "--build-number",
        "41",
        "--bundle-id",
        "com.example.demo",
    ];
    let mut args = by_version.to_vec();
    args.extend(["--what-to-test", "first"]);
    let (r, _) = w.distribute(&args).await;
    r.unwrap();
    let build = w.build_id("41").await;
    assert_eq!(
        whats_new(&w, &build).await,
        [("en-US".to_string(), "first".to_string())]
    );

    // Same locale again: updated (PATCH), not duplicated; over 4000 bytes (2100 characters, 4200
    // bytes): truncated on a character boundary; emoji removed.
    let long = format!("🚀 {}", "ü".repeat(2100));
    let mut args = by_version.to_vec();
    args.extend(["--what-to-test", &long]);
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    assert!(o.warnings.iter().any(|m| m.contains("truncated")), "{:?}", o.warnings);
    assert!(o.warnings.iter().any(|m| m.contains("emoji")), "{:?}", o.warnings);
    let notes = whats_new(&w, &build).await;
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].1.len() <= 4000 && notes[0].1.len() > 3990,
        "{} bytes",
        notes[0].1.len()
    );
    assert!(notes[0].1.starts_with(" ü") && !notes[0].1.contains('🚀'));
    assert!(notes[0].1.ends_with('…'));
    assert!(
        w.writes()
            .iter()
            .any(|s| s.method == "PATCH" && s.path.starts_with("/v1/betaBuildLocalizations/"))
    );

    // Per-locale JSON, and a file for the plain form with --locale.
    let json = w.dir.path().join("notes.json");
    std::fs::write(&json, r#"{"en-US": "english", "de-DE": "deutsch"}"#).unwrap();
    let mut args = by_version.to_vec();
    let p = json.to_str().unwrap().to_string();
    args.extend(["--what-to-test-json", &p]);
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    let mut locales = o.what_to_test.clone();
    locales.sort();
    assert_eq!(locales, ["de-DE", "en-US"]);
    let file = w.dir.path().join("fr.txt");
    std::fs::write(&file, "français").unwrap();
    let f = file.to_str().unwrap().to_string();
    let mut args = by_version.to_vec();
    args.extend(["--what-to-test-file", &f, "--locale", "fr-FR"]);
    w.distribute(&args).await.0.unwrap();
    assert_eq!(
        whats_new(&w, &build).await,
        [
            ("de-DE".to_string(), "deutsch".to_string()),
            ("en-US".to_string(), "english".to_string()),
            ("fr-FR".to_string(), "français".to_string()),
        ]
    );
    // A broken JSON file is a usage error before any write.
    std::fs::write(&json, "[1]").unwrap();
    let before = w.writes().len();
    let mut args = by_version.to_vec();
    args.extend(["--what-to-test-json", &p]);
    assert_eq!(w.distribute(&args).await.0.unwrap_err().exit_code(), 2);
    assert_eq!(w.writes().len(), before);
    w.assert_conformant();
}

#[tokio::test]
async fn notify_counts_auto_notify_as_success() {
    let w = World::start(scene(|tf| {
        tf.auto_notify = true;
        tf.builds = vec!["1.0.0=41".parse().unwrap()];
    }))
    .await;
    let build = w.build_id("41").await;
    let (r, o) = w.distribute(&["--build-id", &build, "--notify"]).await;
    r.unwrap();
    assert_eq!(o.notified.as_deref(), Some("auto"));
    assert!(
        w.sent()
            .iter()
            .any(|s| s.path == "/v1/buildBetaNotifications" && s.status == 409)
    );
    w.assert_conformant();
}

#[tokio::test]
async fn testers_are_added_and_unknown_emails_named() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=41".parse().unwrap()])).await;
    let build = w.build_id("41").await;
    let (r, o) = w
        .distribute(&["--build-id", &build, "--testers", "qa@example.com,JANE.doe@example.com"])
        .await;
    r.unwrap();
    assert_eq!(o.testers, ["qa@example.com", "JANE.doe@example.com"]);
    let v = w.get(&format!("/v1/builds/{build}/individualTesters")).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2);

    let before = w.writes().len();
    let (r, _) = w
        .distribute(&[
            "--build-id",
            &build,
            "--testers",
            "qa@example.com,nobody@example.com",
            "--groups",
            "QA",
        ])
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("nobody@example.com"), "{}", e.message());
    assert!(!e.message().contains("qa@example.com"));
    assert_eq!(w.writes().len(), before, "nothing written when a lookup fails");
    w.assert_conformant();
}

#[tokio::test]
async fn unknown_group_names_the_existing_ones() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=41".parse().unwrap()])).await;
    let build = w.build_id("41").await;
    let (r, _) = w.distribute(&["--build-id", &build, "--groups", "QA,Beta Crew"]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    for name in [
        "'Beta Crew'",
        "QA (internal)",
        "Everyone (internal, all builds)",
        "Public (external)",
    ] {
        assert!(e.message().contains(name), "{name}: {}", e.message());
    }
    assert!(w.writes().is_empty());
    // By id works too.
    let qa = group_id(&w, "QA").await;
    let (r, o) = w.distribute(&["--build-id", &build, "--groups", &qa]).await;
    r.unwrap();
    assert_eq!(o.groups[0].name, "QA");
    w.assert_conformant();
}

#[tokio::test]
async fn beta_review_submission_complete_existing_and_missing() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=41".parse().unwrap()])).await;
    let build = w.build_id("41").await;
    let args = [
        "--build-id",
        build.as_str(),
        "--what-to-test",
        "Everything",
        "--submit-beta-review",
        "--groups",
        "Public",
    ];
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    assert_eq!(o.beta_review.as_deref(), Some("WAITING_FOR_REVIEW"));
    assert_eq!(o.groups[0].result, GroupResult::Added);
    // Review is submitted before the external group is added.
    let writes: Vec<String> = w.writes().iter().map(|s| s.path.clone()).collect();
    let review = writes.iter().position(|p| p == "/v1/betaAppReviewSubmissions").unwrap();
    let group = writes
        .iter()
        .position(|p| p.ends_with("/relationships/betaGroups"))
        .unwrap();
    assert!(review < group, "{writes:?}");
    // An existing submission is not an error.
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    assert_eq!(o.beta_review.as_deref(), Some("WAITING_FOR_REVIEW"));
    w.assert_conformant();

    let w = World::start(scene(|tf| {
        tf.beta_review_details = false;
        tf.builds = vec!["1.0.0=41".parse().unwrap()];
    }))
    .await;
    let build = w.build_id("41").await;
    let (r, _) = w.distribute(&["--build-id", &build, "--submit-beta-review"]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    for field in [
        "Beta App Description",
        "feedbackEmail",
        "contactFirstName",
        "contactPhone",
        "contactEmail",
    ] {
        assert!(e.message().contains(field), "{field}: {}", e.message());
    }
    assert!(e.hint().unwrap().contains("Test Information"));
    assert!(w.writes().is_empty());
    w.assert_conformant();
}

#[tokio::test]
async fn export_compliance_is_required_for_testing_and_answered_on_request() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=43:no-compliance".parse().unwrap()])).await;
    let build = w.build_id("43").await;
    let (r, _) = w.distribute(&["--build-id", &build, "--groups", "QA"]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.hint().unwrap().contains("--uses-non-exempt-encryption"));
    let (r, o) = w
        .distribute(&[
            "--build-id",
            &build,
            "--groups",
            "Public",
            "--uses-non-exempt-encryption",
            "false",
        ])
        .await;
    r.unwrap();
    assert_eq!(o.uses_non_exempt_encryption, Some(false));
    assert_eq!(o.groups[0].result, GroupResult::Added);
    w.assert_conformant();
}

#[tokio::test]
async fn expire_previous_expires_older_builds_of_the_version_only() {
    let w = World::start(scene(|tf| {
        tf.builds = ["1.0.0=40", "1.0.0=41", "1.1.0=50"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    }))
    .await;
    let (b40, b41, b50) = (w.build_id("40").await, w.build_id("41").await, w.build_id("50").await);
    let (r, o) = w
        .distribute(&[
            "--version",
            "1.0.0",
            "--build-number",
            "41",
            "--app-id",
            DEMO,
            "--expire-previous",
        ])
        .await;
    r.unwrap();
    assert_eq!(o.expired_builds, std::slice::from_ref(&b40));
    let expired = |v: Value| v["data"]["attributes"]["expired"].as_bool().unwrap();
    assert!(expired(w.get(&format!("/v1/builds/{b40}")).await));
    assert!(!expired(w.get(&format!("/v1/builds/{b41}")).await));
    assert!(!expired(w.get(&format!("/v1/builds/{b50}")).await));
    // Distributing an expired build is refused.
    let (r, _) = w.distribute(&["--build-id", &b40, "--groups", "QA"]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("expired"), "{}", e.message());
    // An unknown build id is exit 4.
    let (r, _) = w.distribute(&["--build-id", "nope", "--groups", "QA"]).await;
    assert_eq!(r.unwrap_err().exit_code(), 4);
    w.assert_conformant();
}

#[tokio::test]
async fn a_build_still_processing_is_waited_for_up_to_the_timeout() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.1.0=45:processing".parse().unwrap()])).await;
    let (r, _) = w
        .distribute(&[
            "--version",
            "1.1.0",
            "--build-number",
            "45",
            "--app-id",
            DEMO,
            "--groups",
            "QA",
            "--timeout",
            "300ms",
        ])
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 5, "{e:?}");
    assert!(e.message().contains("still processing"), "{}", e.message());
    let polls = w
        .sent()
        .iter()
        .filter(|s| s.method == "GET" && s.path.starts_with("/v1/builds/"))
        .count();
    assert!(polls >= 2, "{polls}");
    assert!(w.writes().is_empty());
    // Unknown upload id and unknown version are exit 4.
    assert_eq!(
        w.distribute(&["--upload-id", "nope"]).await.0.unwrap_err().exit_code(),
        4
    );
    let (r, _) = w
        .distribute(&["--version", "9.9", "--build-number", "1", "--app-id", DEMO])
        .await;
    assert_eq!(r.unwrap_err().exit_code(), 4);
    w.assert_conformant();
}
