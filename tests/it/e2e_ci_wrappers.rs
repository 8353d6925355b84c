//! The three CI wrappers end to end, each run as its CI runs it (see
//! e2e_ci_support/wrappers.rs), installing the real binary from a local fake release and
//! publishing to the simulator. Every input is set, with values that start with `-`, hold
//! newlines, commas, quotes, `$` and non-ASCII; the simulator's state must show the build in the
//! right groups with the exact What to Test, and the job environment's endpoint variables (as an
//! earlier step writing GITHUB_ENV would set them) must be ignored.

#![cfg(unix)]

use crate::support::e2e_ci::scene::*;
use crate::support::e2e_ci::wrappers::*;
use crate::support::e2e_ci::{get, kv, shown};
use asc_publish::sample::app::SampleApp;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_action_with_every_input() {
    let s = scene().await;
    let action = action_checkout(s.dir.path(), &fake_manifest());
    let (os, arch) = runner_platform();
    let summary = s.path("summary.md");
    let mut env = s.hostile_env();
    env.extend([
        kv("GITHUB_ACTIONS", "true"),
        kv("GITHUB_REPOSITORY", "octo/app"),
        kv("GITHUB_EVENT_NAME", "push"),
        kv("GITHUB_STEP_SUMMARY", summary.to_string_lossy()),
        kv("GITHUB_TOKEN", "ghs_e2e"),
        kv("RUNNER_OS", os),
        kv("RUNNER_ARCH", arch),
        kv("RUNNER_TEMP", s.path("runner-temp").to_string_lossy()),
    ]);
    std::fs::create_dir_all(s.path("runner-temp")).unwrap();
    let key = s.api.sim.private_key_pem.clone();
    let mut inputs = common_inputs(&s, "de-DE");
    inputs.extend([
        ("api-key-id", s.api.sim.key_id.as_str()),
        ("api-issuer-id", s.api.sim.issuer_id.as_str()),
        ("api-private-key", key.as_str()),
        ("report", "none"),
    ]);
    let work = s.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let inputs = owned(&inputs);
    let run = tokio::task::spawn_blocking(move || run_action(&action, &borrowed(&inputs), &env, &work))
        .await
        .unwrap();
    assert_ok(&run, &key);
    assert!(run.log.contains("::add-mask::"), "the key is masked first");
    assert_eq!(get(&run.outputs, "processing-state"), "VALID", "{:?}", run.outputs);
    assert_eq!(get(&run.outputs, "app-id"), APP);
    let groups: Value = serde_json::from_str(get(&run.outputs, "groups")).unwrap();
    assert_eq!(groups.as_array().map(Vec::len), Some(3), "{groups}");
    s.assert_published(get(&run.outputs, "build-id"), "de-DE").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_component_with_every_input_and_a_fastlane_key_file() {
    let s = scene().await;
    let (component, _, mirror) = package(s.dir.path(), &fake_manifest());
    let key_json = s.path("fastlane-key.json");
    let key = s.api.sim.private_key_pem.clone();
    std::fs::write(
        &key_json,
        json!({"key_id": s.api.sim.key_id, "issuer_id": s.api.sim.issuer_id, "key": key, "in_house": false})
            .to_string(),
    )
    .unwrap();
    let mut env = s.hostile_env();
    env.extend([
        kv("GITLAB_CI", "true"),
        kv("CI_JOB_URL", "https://gitlab.example.com/octo/app/-/jobs/1"),
        // A File-type CI/CD variable holds the path of a file with the value.
        kv("APP_STORE_CONNECT_API_KEY_PATH", key_json.to_string_lossy()),
        kv("PRICE", "EXPANDED"),
    ]);
    let mut inputs = common_inputs(&s, "en-GB");
    inputs.extend([("source", mirror.as_str()), ("report", "none")]);
    let project = s.path("project");
    let template = component.join("templates/asc-publish.yml");
    // The `include: remote` integrity value published next to the template is its SRI hash.
    use base64::Engine as _;
    use sha2::Digest as _;
    let sri = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(std::fs::read(&template).unwrap()));
    let published = std::fs::read_to_string(component.join("templates/asc-publish.yml.integrity")).unwrap();
    assert_eq!(published.trim(), format!("sha256-{sri}"));
    let text = std::fs::read_to_string(&template).unwrap();
    assert!(!text.contains("@@"), "placeholders left in the packaged template");
    assert!(text.contains(COMMIT), "the template pins the release commit");
    let inputs = owned(&inputs);
    let run = tokio::task::spawn_blocking(move || run_gitlab(&template, &borrowed(&inputs), &env, &project))
        .await
        .unwrap();
    assert_ok(&run, &key);
    for section in [
        "asc_publish_install",
        "asc_publish_validate",
        "asc_publish_upload",
        "asc_publish_processing",
        "asc_publish_distribute",
    ] {
        assert!(
            run.log.contains(&format!(":{section}")),
            "no {section} section: {}",
            run.log
        );
        assert!(run.log.contains("section_end:"), "{}", run.log);
    }
    assert_eq!(get(&run.outputs, "ASC_PROCESSING_STATE"), "VALID", "{:?}", run.outputs);
    s.assert_published(get(&run.outputs, "ASC_BUILD_ID"), "en-GB").await;
}

/// Apple ID sign-in through the action: the password input (with `$` and quotes) reaches the
/// binary unexpanded, is masked first and is never shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_action_with_an_apple_id() {
    const PASSWORD: &str = "pw-$HOME-'q'\"-1234";
    let s = scene_with(|c| c.apple_ids = vec![("dev@example.com".into(), PASSWORD.into())]).await;
    let url = s.api.sim.api_url.clone();
    let run = run_github(
        &s,
        &[
            ("ipa-path", &s.ipa),
            ("apple-id", "dev@example.com"),
            ("apple-id-password", PASSWORD),
            ("content-delivery-url", &url),
            ("api-url", &url),
            ("extra-root-ca", &s.root_ca),
            ("report", "none"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(run.log.contains(&format!("::add-mask::{PASSWORD}")), "{}", run.log);
    assert!(!shown(&run.log).contains(PASSWORD), "{}", run.log);
    assert_eq!(get(&run.outputs, "processing-state"), "VALID", "{:?}", run.outputs);
    assert!(s.evil_log.lock().unwrap().is_empty());
}

/// `dry-run: true` checks everything and sends nothing: no build appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_action_dry_run_uploads_nothing() {
    let s = scene().await;
    let key = s.api.sim.private_key_pem.clone();
    let mut inputs = common_inputs(&s, "en-US");
    inputs.retain(|(k, _)| *k != "dry-run");
    inputs.extend([
        ("dry-run", "true"),
        ("api-key-id", s.api.sim.key_id.as_str()),
        ("api-issuer-id", s.api.sim.issuer_id.as_str()),
        ("api-private-key", key.as_str()),
        ("report", "none"),
    ]);
    let run = run_github(&s, &inputs).await;
    assert_ok(&run, &key);
    let builds = s.api.get(&format!("/v1/builds?filter[app]={APP}")).await;
    assert_eq!(builds.body["data"], json!([]), "a dry run created a build");
}

/// `validation: strict` stops an IPA with only warnings (no ITSAppUsesNonExemptEncryption) before
/// anything is sent; `normal` uploads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_validation_stops_on_warnings() {
    let s = scene().await;
    let ipa = s.path("NoCompliance.ipa");
    let built = SampleApp {
        uses_non_exempt_encryption: None,
        ..SampleApp::default()
    }
    .write_to(&ipa)
    .unwrap();
    // Each sample has its own test root.
    let root = s.path("no-compliance-root.pem");
    std::fs::write(&root, built.root_pem()).unwrap();
    let root = root.to_string_lossy().into_owned();
    let ipa = ipa.to_string_lossy().into_owned();
    let key = s.api.sim.private_key_pem.clone();
    let url = s.api.sim.api_url.clone();
    let inputs = |validation: &'static str| -> Vec<(String, String)> {
        owned(&[
            ("ipa-path", ipa.as_str()),
            ("validation", validation),
            ("uses-non-exempt-encryption", "false"),
            ("api-key-id", s.api.sim.key_id.as_str()),
            ("api-issuer-id", s.api.sim.issuer_id.as_str()),
            ("api-private-key", key.as_str()),
            ("api-url", url.as_str()),
            ("extra-root-ca", root.as_str()),
            ("report", "none"),
        ])
    };
    let strict = run_github(&s, &borrowed(&inputs("strict"))).await;
    assert_eq!(strict.code, 1, "{}", strict.log);
    assert!(
        strict.log.contains("with --strict: nothing was uploaded"),
        "{}",
        strict.log
    );
    assert!(get(&strict.outputs, "upload-id").is_empty());
    let normal = run_github(&s, &borrowed(&inputs("normal"))).await;
    assert_ok(&normal, &key);
    assert!(!get(&normal.outputs, "upload-id").is_empty());
}

/// The component checks what it fetches: a mirror serving a changed dist/run.sh stops the job
/// before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_component_refuses_fetched_files_that_do_not_match_its_pins() {
    let s = scene().await;
    let (component, _, mirror) = package(s.dir.path(), &fake_manifest());
    let run_sh = std::path::PathBuf::from(mirror.trim_start_matches("file://"))
        .join(COMMIT)
        .join("dist/run.sh");
    let mut text = std::fs::read_to_string(&run_sh).unwrap();
    text.push_str("\necho pwned\n");
    std::fs::write(&run_sh, text).unwrap();
    let mut env = s.hostile_env();
    env.push(kv("GITLAB_CI", "true"));
    let inputs = owned(&[("ipa-path", s.ipa.as_str()), ("source", mirror.as_str())]);
    let project = s.path("project");
    let template = component.join("templates/asc-publish.yml");
    let run = tokio::task::spawn_blocking(move || run_gitlab(&template, &borrowed(&inputs), &env, &project))
        .await
        .unwrap();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains("do not match the sha256 this component pins"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("pwned"));
}

/// `release: true` through the GitHub Action (the shared core every wrapper runs): the build goes
/// to App Review after processing, with What's New verbatim (a `$`, a newline and a flag-looking
/// line stay text) and the release settings applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_action_releases_to_app_review() {
    const WHATS_NEW: &str = "- Faster $HOME sync\n--release-type=scheduled";
    let s = scene().await;
    let key = s.api.sim.private_key_pem.clone();
    let mut inputs = common_inputs(&s, "en-US");
    inputs.extend([
        ("release", "true"),
        ("whats-new", WHATS_NEW),
        ("release-type", "manual"),
        ("phased-release", "true"),
        ("api-key-id", s.api.sim.key_id.as_str()),
        ("api-issuer-id", s.api.sim.issuer_id.as_str()),
        ("api-private-key", key.as_str()),
        ("report", "none"),
    ]);
    let run = run_github(&s, &inputs).await;
    assert_ok(&run, &key);
    let versions = s
        .api
        .get(&format!(
            "/v1/apps/{APP}/appStoreVersions?filter[versionString]=1.0.0&include=appStoreVersionPhasedRelease"
        ))
        .await;
    let v = &versions.body["data"][0];
    assert_eq!(
        v["attributes"]["appVersionState"], "WAITING_FOR_REVIEW",
        "{}",
        versions.body
    );
    assert_eq!(v["attributes"]["releaseType"], "MANUAL");
    assert_eq!(versions.body["included"][0]["type"], "appStoreVersionPhasedReleases");
    let id = v["id"].as_str().unwrap();
    let locs = s
        .api
        .get(&format!("/v1/appStoreVersions/{id}/appStoreVersionLocalizations"))
        .await;
    assert_eq!(locs.body["data"][0]["attributes"]["whatsNew"], WHATS_NEW);
}
