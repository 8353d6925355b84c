//! One version on two platforms: an iOS 1.0.0 and a tvOS 1.0.0 are separate trains in App Store
//! Connect. Looking a build up by version and number, and expiring "older builds of the version",
//! must stay on the build's own platform.

use crate::support::distribute::{World, scene};
use serde_json::Value;

const DEMO: &str = "6450000001";

/// The id of build `number` on `platform`, read from the simulator directly.
async fn build_on(w: &World, number: &str, platform: &str) -> String {
    let v = w
        .get(&format!(
            "/v1/builds?filter[app]={DEMO}&filter[version]={number}&filter[preReleaseVersion.platform]={platform}\
             &filter[processingState]=PROCESSING,FAILED,INVALID,VALID"
        ))
        .await;
    let list = v["data"].as_array().unwrap();
    assert_eq!(list.len(), 1, "build {number} on {platform}: {v}");
    list[0]["id"].as_str().unwrap().to_string()
}

async fn expired(w: &World, id: &str) -> bool {
    let v: Value = w.get(&format!("/v1/builds/{id}")).await;
    v["data"]["attributes"]["expired"].as_bool().unwrap()
}

#[tokio::test]
async fn expire_previous_leaves_another_platforms_builds_of_the_version_alone() {
    let w = World::start(scene(|tf| {
        tf.builds = ["1.0.0=39/TV_OS", "1.0.0=40", "1.0.0=41", "1.0.0=40/TV_OS"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    }))
    .await;
    let (ios40, ios41) = (build_on(&w, "40", "IOS").await, build_on(&w, "41", "IOS").await);
    let (tv39, tv40) = (build_on(&w, "39", "TV_OS").await, build_on(&w, "40", "TV_OS").await);

    // By build id: the platform comes from the build's own train.
    let (r, o) = w.distribute(&["--build-id", &ios41, "--expire-previous"]).await;
    r.unwrap();
    assert_eq!(o.platform.as_deref(), Some("IOS"));
    assert_eq!(o.expired_builds, std::slice::from_ref(&ios40));
    assert!(expired(&w, &ios40).await);
    assert!(!expired(&w, &ios41).await);
    assert!(
        !expired(&w, &tv39).await,
        "a tvOS build of 1.0.0 was expired by an iOS distribution"
    );
    assert!(
        !expired(&w, &tv40).await,
        "a tvOS build of 1.0.0 was expired by an iOS distribution"
    );

    // By version and number on tvOS: only the older tvOS build goes.
    let (r, o) = w
        .distribute(&[
            "--version",
            "1.0.0",
            "--build-number",
            "40",
            "--platform",
            "TV_OS",
            "--app-id",
            DEMO,
            "--expire-previous",
        ])
        .await;
    r.unwrap();
    assert_eq!(o.build_id.as_deref(), Some(tv40.as_str()));
    assert_eq!(o.expired_builds, std::slice::from_ref(&tv39));
    assert!(!expired(&w, &ios41).await);
    // The list asked Apple for the platform's train, and only it.
    let lists: Vec<_> = w
        .sent()
        .into_iter()
        .filter(|s| s.method == "GET" && s.path == "/v1/builds")
        .collect();
    assert!(!lists.is_empty());
    assert!(
        lists
            .iter()
            .all(|s| s.query.contains("filter%5BpreReleaseVersion.platform%5D")
                || s.query.contains("filter[preReleaseVersion.platform]")),
        "{lists:?}"
    );
    w.assert_conformant();
}

#[tokio::test]
async fn a_number_on_two_platforms_needs_platform_to_pick_one() {
    let w = World::start(scene(|tf| {
        tf.builds = ["1.0.0=50", "1.0.0=50/TV_OS"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    }))
    .await;
    let tv = build_on(&w, "50", "TV_OS").await;
    let ios = build_on(&w, "50", "IOS").await;
    let by_version = [
        "--version",
        "1.0.0",
        "--build-number",
        "50",
        "--app-id",
        DEMO,
        "--groups",
        "QA",
    ];

    let (r, _) = w.distribute(&by_version).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 2, "{}", e.message());
    assert!(
        e.message().contains("IOS") && e.message().contains("TV_OS"),
        "{}",
        e.message()
    );
    assert!(e.hint().unwrap().contains("--platform"));

    let mut args = by_version.to_vec();
    args.extend(["--platform", "TV_OS"]);
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    assert_eq!(o.build_id.as_deref(), Some(tv.as_str()));
    assert_eq!(o.platform.as_deref(), Some("TV_OS"));

    let mut args = by_version.to_vec();
    args.extend(["--platform", "IOS"]);
    let (r, o) = w.distribute(&args).await;
    r.unwrap();
    assert_eq!(o.build_id.as_deref(), Some(ios.as_str()));
    w.assert_conformant();
}
