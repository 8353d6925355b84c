//! A Mac App Store package end to end: a synthesised `.pkg` uploads through the real binary to the
//! simulator as a `MAC_OS` build (`uti` `com.apple.pkg`), the simulator reads the app's Info.plist
//! out of the package's payload when processing (a package naming another app fails with 90054),
//! and `builds list --platform MAC_OS` finds it.

use std::path::Path;

use crate::support::e2e::{World, quick_processing};
use asc_publish::sample::pkg::PkgBuilder;
use asc_sim::SimConfig;
use serde_json::Value;

/// The upload command line without the IPA sample's test root (packages carry no profile).
fn upload_args(w: &World, pkg: &Path) -> Vec<String> {
    let mut args = w.upload_args(pkg, &[]);
    let i = args.iter().position(|a| a == "--extra-root-ca").unwrap();
    args.drain(i..i + 2);
    args
}

fn sample(bundle_id: &str) -> PkgBuilder {
    PkgBuilder {
        bundle_id: bundle_id.into(),
        ..PkgBuilder::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkg_uploads_as_a_mac_os_build_and_is_processed() {
    let w = World::start(SimConfig {
        processing: quick_processing(),
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("Sample.pkg");
    sample(asc_sim::DEFAULT_BUNDLE_ID).write_to(&pkg).unwrap();

    let run = w.run(upload_args(&w, &pkg)).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let o = run.outcome();
    assert_eq!(o["platform"], "MAC_OS", "{o}");
    assert_eq!(o["processing_state"], "VALID", "{o}");
    let state = w.sim.snapshot();
    let files: Vec<&Value> = state["files"].as_object().unwrap().values().collect();
    assert_eq!(files.len(), 1, "{state}");
    assert_eq!(files[0]["uti"], "com.apple.pkg", "{state}");
    let uploads: Vec<&Value> = state["uploads"].as_object().unwrap().values().collect();
    assert_eq!(uploads[0]["platform"], "MAC_OS", "{state}");
    // Read from the package's Info.plist by the simulator's processing.
    assert_eq!(uploads[0]["min_os_version"], "13.0", "{state}");
    // App Store Connect's links point at the macOS TestFlight pages.
    let app_id = o["app_id"].as_str().unwrap();
    let build_id = o["build_id"].as_str().unwrap().to_string();
    let macos = format!("https://appstoreconnect.apple.com/apps/{app_id}/testflight/macos");
    assert_eq!(o["app_store_connect_url"], macos.as_str(), "{o}");

    // `builds list` shows the platform, and `--platform MAC_OS` finds the build.
    let mac = w.run(builds_list(&w, &pkg, Some("MAC_OS"), "json")).await;
    assert_eq!(mac.code, 0, "{}", mac.stderr);
    let rows: Value = serde_json::from_str(&mac.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], build_id.as_str());
    assert_eq!(rows[0]["platform"], "MAC_OS");
    let ios = w.run(builds_list(&w, &pkg, Some("IOS"), "json")).await;
    assert_eq!(
        serde_json::from_str::<Value>(&ios.stdout).unwrap(),
        serde_json::json!([]),
        "{}",
        ios.stdout
    );
    let text = w.run(builds_list(&w, &pkg, None, "text")).await;
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(lines[0].starts_with("VERSION  BUILD  PLATFORM"), "{}", text.stdout);
    assert!(lines[1].contains("MAC_OS"), "{}", text.stdout);
}

fn builds_list(w: &World, pkg: &Path, platform: Option<&str>, format: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "builds",
        "list",
        "--bundle-id",
        asc_sim::DEFAULT_BUNDLE_ID,
        "--format",
        format,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(p) = platform {
        args.extend(["--platform".into(), p.into()]);
    }
    let upload = upload_args(w, pkg);
    for flag in ["--api-url", "--key-id", "--issuer-id", "--private-key"] {
        let i = upload.iter().position(|a| a == flag).unwrap();
        args.extend([flag.to_string(), upload[i + 1].clone()]);
    }
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_fails_a_pkg_whose_app_names_another_bundle_id() {
    let w = World::start(SimConfig {
        processing: quick_processing(),
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("Other.pkg");
    sample("com.example.someone-else").write_to(&pkg).unwrap();
    let mut args = upload_args(&w, &pkg);
    // Straight to the demo app's record, so only processing can notice the other bundle id.
    args.extend(["--app-id".into(), asc_sim::DEFAULT_APP_ID.into()]);
    let run = w.run(args).await;
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("90054") || run.stderr.contains("90054"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}

/// The native Apple ID backend writes iOS's asset description: a macOS package is refused before
/// anything is sent, naming the two ways that work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_apple_id_backend_refuses_a_package_before_sending_anything() {
    let w = World::start(SimConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("Sample.pkg");
    sample(asc_sim::DEFAULT_BUNDLE_ID).write_to(&pkg).unwrap();
    let url = w.sim.api_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"));
        cmd.arg("upload").arg(&pkg).args([
            "--apple-id",
            "dev@example.com",
            "--apple-id-backend",
            "native",
            "--password-env",
            "PKG_TEST_APP_PASSWORD",
            "--content-delivery-url",
            &url,
        ]);
        for (k, _) in std::env::vars() {
            if k.starts_with("ASC_") || k.starts_with("APP_STORE_CONNECT_") || k.starts_with("GITHUB_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("PKG_TEST_APP_PASSWORD", "abcd-efgh-ijkl-mnop")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a macOS package"), "{stderr}");
    assert!(stderr.contains("--apple-id-backend altool"), "{stderr}");
    assert!(w.requests().is_empty(), "{:?}", w.requests());
}
