//! tvOS and visionOS IPAs end to end: a signed sample built for the platform validates clean,
//! uploads as `TV_OS` against the simulator, and `builds list --platform` finds it on its own
//! platform's train only.

use crate::support::e2e::{World, quick_processing};
use asc_publish::ipa::Platform;
use asc_publish::sample::app::SampleApp;
use asc_sim::SimConfig;
use serde_json::Value;

fn sample(platform: Platform) -> SampleApp {
    SampleApp {
        platform,
        ..SampleApp::default()
    }
}

fn builds_list(w: &World, ipa: &std::path::Path, platform: &str) -> Vec<String> {
    let mut args: Vec<String> = ["builds", "list", "--bundle-id", asc_sim::DEFAULT_BUNDLE_ID]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--platform".into(), platform.into(), "--format".into(), "json".into()]);
    // The connection flags of the upload command line (API URL and key), without the upload's own.
    let upload = w.upload_args(ipa, &[]);
    for flag in ["--api-url", "--key-id", "--issuer-id", "--private-key"] {
        let i = upload.iter().position(|a| a == flag).unwrap();
        args.extend([flag.to_string(), upload[i + 1].clone()]);
    }
    args
}

/// The ids `builds list --platform` prints.
async fn listed(w: &World, ipa: &std::path::Path, platform: &str) -> Vec<String> {
    let run = w.run(builds_list(w, ipa, platform)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Value = serde_json::from_str(&run.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tvos_ipa_uploads_as_tv_os_and_is_listed_on_its_platform() {
    let w = World::start(SimConfig {
        processing: quick_processing(),
        ..SimConfig::default()
    })
    .await;
    let ipa = w.ipa("TV.ipa", sample(Platform::TvOs));

    let run = w.run(w.upload_args(&ipa, &[])).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let o = run.outcome();
    assert_eq!(o["platform"], "TV_OS", "{o}");
    assert_eq!(o["processing_state"], "VALID", "{o}");
    let build_id = o["build_id"].as_str().unwrap().to_string();

    assert_eq!(listed(&w, &ipa, "TV_OS").await, [build_id]);
    assert!(listed(&w, &ipa, "IOS").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tvos_and_visionos_samples_inspect_as_their_platform_and_validate_clean() {
    let w = World::start(SimConfig::default()).await;
    for (platform, api) in [(Platform::TvOs, "TV_OS"), (Platform::VisionOs, "VISION_OS")] {
        let ipa = w.ipa(&format!("{api}.ipa"), sample(platform));
        let root = ipa.with_extension("root-ca.pem").display().to_string();
        let path = ipa.display().to_string();
        let run = w
            .run(vec![
                "validate".into(),
                path.clone(),
                "--strict".into(),
                "--format".into(),
                "json".into(),
                "--extra-root-ca".into(),
                root,
            ])
            .await;
        assert_eq!(run.code, 0, "{api}: {}\n{}", run.stdout, run.stderr);
        let inspect = w
            .run(vec!["inspect".into(), path, "--format".into(), "json".into()])
            .await;
        assert_eq!(inspect.code, 0, "{}", inspect.stderr);
        let v: Value = serde_json::from_str(&inspect.stdout).unwrap();
        assert_eq!(v["app"]["platform"], api, "{v}");
    }
}
