//! `asc-publish preflight` and `upload --dry-run` against the simulator: each problem upload
//! would meet is found with reads only, with upload's exit code; the plan lists the steps.

use crate::support::distribute::{World, scene};
use asc_publish::outcome::Status;
use asc_sim::SimConfig;

#[tokio::test]
async fn all_good_prints_the_plan_and_writes_nothing() {
    let w = World::start(scene(|_| {})).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w
        .preflight(
            &ipa,
            &[
                "--groups",
                "QA,everyone,Public",
                "--testers",
                "qa@example.com",
                "--submit-beta-review",
                "--what-to-test",
                "x",
                "--notify",
            ],
        )
        .await;
    r.unwrap();
    assert_eq!(o.status, Status::Success);
    let steps: Vec<&str> = o.plan.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "local validation",
            "credentials",
            "app record",
            "upload",
            "wait",
            "export compliance",
            "what to test",
            "beta review",
            "group",
            "group",
            "group",
            "testers",
            "notify",
            "rate limit",
        ]
    );
    assert!(o.plan.iter().all(|s| s.ok));
    assert!(o.plan[9].detail.contains("skipped"), "{:?}", o.plan[9]);
    assert!(o.plan.last().unwrap().detail.contains("requests left this hour"));
    assert!(w.writes().is_empty(), "{:?}", w.writes());
    w.assert_conformant();
}

#[tokio::test]
async fn an_unaccepted_key_is_exit_3() {
    let w = World::start(scene(|_| {})).await;
    let ipa = w.ipa("1.0.0", "7");
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let key = w.dir.path().join("other.p8");
    std::fs::write(&key, other.serialize_pem()).unwrap();
    let (r, o) = w.preflight(&ipa, &["--private-key", key.to_str().unwrap()]).await;
    assert_eq!(r.unwrap_err().exit_code(), 3);
    let p = o.plan.iter().find(|s| !s.ok).unwrap();
    assert_eq!((p.step.as_str(), p.exit_code), ("credentials", Some(3)));
}

#[tokio::test]
async fn no_app_record_is_exit_4() {
    let w = World::start(SimConfig {
        apps: vec![("com.example.other".into(), "6450000002".into())],
        ..scene(|_| {})
    })
    .await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w.preflight(&ipa, &[]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("com.example.demo"), "{}", e.message());
    assert_eq!(o.plan.iter().find(|s| !s.ok).unwrap().step, "app record");
}

#[tokio::test]
async fn a_used_build_number_is_exit_4_with_the_next_free_one() {
    let w = World::start(scene(|tf| {
        tf.builds = vec!["1.0.0=7".parse().unwrap(), "1.0.0=12".parse().unwrap()]
    }))
    .await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w.preflight(&ipa, &[]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.hint().unwrap().contains("next free one is 13"), "{:?}", e.hint());
    assert_eq!(o.plan.iter().find(|s| !s.ok).unwrap().step, "build number");
    assert!(w.writes().is_empty());
}

#[tokio::test]
async fn unknown_group_and_missing_review_details_are_exit_4() {
    let w = World::start(scene(|tf| tf.beta_review_details = false)).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w
        .preflight(&ipa, &["--groups", "QA,Nope", "--submit-beta-review"])
        .await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("'Nope'"), "{}", e.message());
    let problems: Vec<&str> = o.plan.iter().filter(|s| !s.ok).map(|s| s.step.as_str()).collect();
    assert_eq!(problems, ["groups", "beta review information"]);
    let review = o.plan.iter().find(|s| s.step == "beta review information").unwrap();
    assert!(review.detail.contains("contactEmail"), "{}", review.detail);
    assert!(w.writes().is_empty());
    w.assert_conformant();
}

#[tokio::test]
async fn upload_dry_run_sends_nothing() {
    let w = World::start(scene(|_| {})).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w.upload(&ipa, &["--dry-run", "--groups", "QA"]).await;
    r.unwrap();
    assert!(o.upload_id.is_none());
    assert!(o.plan.iter().any(|s| s.step == "group"));
    assert!(w.writes().is_empty(), "{:?}", w.writes());
    let (r, _) = w.upload(&ipa, &["--dry-run", "--groups", "Nope"]).await;
    assert_eq!(r.unwrap_err().exit_code(), 4);
    assert!(w.writes().is_empty());
}

#[tokio::test]
async fn a_rerun_of_the_same_file_is_no_conflict_but_another_file_with_its_number_is() {
    let w = World::start(scene(|_| {})).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, _) = w.upload(&ipa, &["--no-wait"]).await;
    r.unwrap();
    let writes = w.writes().len();

    let (r, o) = w.preflight(&ipa, &[]).await;
    r.unwrap();
    let step = o.plan.iter().find(|s| s.step == "upload").unwrap();
    assert!(step.ok && step.detail.contains("already uploaded"), "{step:?}");

    // Same version and build number, another build of the app (freshly signed): the number is taken.
    let first = std::fs::read(&ipa.0).unwrap();
    let other = w.ipa("1.0.0", "7");
    assert_ne!(
        std::fs::read(&other.0).unwrap(),
        first,
        "the sample must differ to test this"
    );
    let (r, o) = w.preflight(&other, &[]).await;
    assert_eq!(r.unwrap_err().exit_code(), 4);
    assert_eq!(o.plan.iter().find(|s| !s.ok).unwrap().step, "build number");
    assert_eq!(w.writes().len(), writes, "preflight wrote: {:?}", w.writes());
}

/// The plan's build-number step is upload's own check: a tvOS build 1.0.0 (7) does not hold the
/// number for an iOS 1.0.0 (7), for preflight as for upload (each platform has its own train).
#[tokio::test]
async fn another_platforms_build_does_not_hold_the_number() {
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=7/TV_OS".parse().unwrap()])).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w.preflight(&ipa, &[]).await;
    r.unwrap();
    let step = o.plan.iter().find(|s| s.step == "upload").unwrap();
    assert!(step.ok && step.detail.starts_with("reserve 1.0.0 (7)"), "{step:?}");
    // The iOS number is taken once an iOS build has it.
    let w = World::start(scene(|tf| tf.builds = vec!["1.0.0=7".parse().unwrap()])).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, o) = w.preflight(&ipa, &[]).await;
    assert_eq!(r.unwrap_err().exit_code(), 4);
    assert_eq!(o.plan.iter().find(|s| !s.ok).unwrap().step, "build number");
}
