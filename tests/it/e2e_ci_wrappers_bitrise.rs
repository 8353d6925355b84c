//! The Bitrise step end to end (see e2e_ci_wrappers.rs and e2e_ci_support/wrappers.rs): the
//! packaged step activated as stepman does, `git::` (a clone of a repository whose root is the
//! step) and `path::` (a copy of the directory alone), with credentials from the project's Apple
//! Service connection served by a loopback build API in the recorded response shape.

#![cfg(unix)]

use std::sync::Arc;

use crate::support::e2e_ci::scene::*;
use crate::support::e2e_ci::wrappers::*;
use crate::support::e2e_ci::{get, kv};
use crate::support::forge_mock::{Req, mock};
use serde_json::{Value, json};

/// The Bitrise step, through the project's Apple Service connection (a loopback build API serving
/// the recorded response shape with the simulator's key).
async fn bitrise(source: StepSource) {
    let s = scene().await;
    let (_, step_pkg, _) = package(s.dir.path(), &fake_manifest());
    let mut recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo().join("tests/fixtures/bitrise-io__go-xcode__apple_developer_portal_data.apikey.json"),
        )
        .unwrap(),
    )
    .unwrap();
    recorded["key_id"] = json!(s.api.sim.key_id);
    recorded["issuer_id"] = json!(s.api.sim.issuer_id);
    recorded["private_key"] = json!(s.api.sim.private_key_pem);
    let body = recorded.to_string();
    let (build_api, build_log) = mock(Arc::new(move |req: &Req, _: &str| {
        let authorized = req
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("BUILD_API_TOKEN") && v == "tok-123");
        match (req.uri.as_str(), authorized) {
            ("/build/abc/apple_developer_portal_data.json", true) => (200, vec![], body.clone()),
            _ => (401, vec![], String::new()),
        }
    }))
    .await;
    let deploy = s.path("deploy");
    let mut env = s.hostile_env();
    env.extend([
        kv("BITRISE_IO", "true"),
        kv("BITRISE_BUILD_NUMBER", "12"),
        kv("BITRISE_BUILD_URL", format!("{build_api}/build/abc")),
        kv("BITRISE_BUILD_API_TOKEN", "tok-123"),
        kv("BITRISE_DEPLOY_DIR", deploy.to_string_lossy()),
        kv("BITRISE_IPA_PATH", &s.ipa),
        kv("PRICE", "EXPANDED"),
        kv("HOME", s.dir.path().to_string_lossy()),
        kv("TMPDIR", s.path("tmp").to_string_lossy()),
    ]);
    std::fs::create_dir_all(s.path("tmp")).unwrap();
    let inputs_owned = snake(&common_inputs(&s, "fr-FR"));
    let work = s.path("bitrise");
    std::fs::create_dir_all(&work).unwrap();
    let key = s.api.sim.private_key_pem.clone();
    let run = tokio::task::spawn_blocking(move || {
        let mut inputs: Vec<(&str, &str)> = inputs_owned
            .iter()
            .filter(|(k, _)| k != "ipa_path")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Bitrise's yes/no spelling.
        for (k, v) in inputs.iter_mut() {
            if [
                "notify",
                "expire_previous",
                "submit_beta_review",
                "dry_run",
                "wait",
                "uses_non_exempt_encryption",
            ]
            .contains(k)
            {
                *v = if *v == "true" { "yes" } else { "no" };
            }
        }
        let step = activate_step(&step_pkg, source, &work);
        run_bitrise(&step, &inputs, &env, &work)
    })
    .await
    .unwrap();
    assert_ok(&run, &key);
    // The connection's JSON (with the key) and the binary lived in a temporary directory: gone.
    let left: Vec<_> = std::fs::read_dir(s.path("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(
        run.log
            .contains("using the project's App Store Connect API key connection"),
        "{}",
        run.log
    );
    assert_eq!(build_log.lock().unwrap().len(), 1);
    assert_eq!(get(&run.outputs, "ASC_PROCESSING_STATE"), "VALID", "{:?}", run.outputs);
    s.assert_published(get(&run.outputs, "ASC_BUILD_ID"), "fr-FR").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitrise_step_as_git_step_with_the_apple_service_connection() {
    bitrise(StepSource::Git).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitrise_step_as_path_step_with_the_apple_service_connection() {
    bitrise(StepSource::Path).await;
}

/// `connection: api_key` when the build API refuses (a public app's pull request build gets 401):
/// a clear failure before anything is uploaded, not a silent fallback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitrise_required_connection_that_cannot_be_read_fails_clearly() {
    let s = scene().await;
    let (_, step_pkg, _) = package(s.dir.path(), &fake_manifest());
    let (build_api, _) = mock(Arc::new(|_: &Req, _: &str| (401, vec![], String::new()))).await;
    let mut env = s.hostile_env();
    env.extend([
        kv("BITRISE_BUILD_URL", format!("{build_api}/build/abc")),
        kv("BITRISE_BUILD_API_TOKEN", "tok-123"),
        kv("BITRISE_IPA_PATH", &s.ipa),
    ]);
    let work = s.path("bitrise");
    std::fs::create_dir_all(&work).unwrap();
    let run = tokio::task::spawn_blocking(move || {
        let step = activate_step(&step_pkg, StepSource::Path, &work);
        run_bitrise(&step, &[("connection", "api_key")], &env, &work)
    })
    .await
    .unwrap();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log
            .contains("connection is api_key but the Apple Service connection could not be read"),
        "{}",
        run.log
    );
    assert!(run.outputs.is_empty());
}

/// A project whose Apple Service connection is an Apple ID (the shape of go-xcode's
/// AppleIDConnection): the step signs in with its app-specific password, never shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitrise_step_with_an_apple_id_connection() {
    const PASSWORD: &str = "abcd-efgh-$ijk-lmnop";
    let s = scene_with(|c| c.apple_ids = vec![("dev@example.com".into(), PASSWORD.into())]).await;
    let (_, step_pkg, _) = package(s.dir.path(), &fake_manifest());
    let body = json!({
        "apple_id": "dev@example.com",
        "password": "the-account-password-never-used",
        "app_specific_password": PASSWORD,
        "connection_expiry_date": "2030-01-01T00:00:00Z",
        "session_cookies": {"https://idmsa.apple.com": []},
        "test_devices": []
    })
    .to_string();
    let (build_api, _) = mock(Arc::new(move |_: &Req, _: &str| (200, vec![], body.clone()))).await;
    let mut env = s.hostile_env();
    env.extend([
        kv("BITRISE_IO", "true"),
        kv("BITRISE_BUILD_URL", format!("{build_api}/build/abc")),
        kv("BITRISE_BUILD_API_TOKEN", "tok-123"),
        kv("BITRISE_IPA_PATH", &s.ipa),
        kv("BITRISE_DEPLOY_DIR", s.path("deploy").to_string_lossy()),
    ]);
    let work = s.path("bitrise");
    std::fs::create_dir_all(&work).unwrap();
    let inputs = owned(&[
        ("content_delivery_url", s.api.sim.api_url.as_str()),
        ("api_url", s.api.sim.api_url.as_str()),
        ("extra_root_ca", s.root_ca.as_str()),
    ]);
    let run = tokio::task::spawn_blocking(move || {
        let step = activate_step(&step_pkg, StepSource::Path, &work);
        run_bitrise(&step, &borrowed(&inputs), &env, &work)
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log.contains("using the project's Apple ID connection"),
        "{}",
        run.log
    );
    assert!(!run.log.contains(PASSWORD), "{}", run.log);
    assert_eq!(get(&run.outputs, "ASC_PROCESSING_STATE"), "VALID", "{:?}", run.outputs);
}
