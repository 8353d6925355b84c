//! The three CI wrappers end to end, each run as its CI runs it (see
//! e2e_ci_support/wrappers.rs), installing the real binary from a local fake release and
//! publishing to the simulator. Every input is set, with values that start with `-`, hold
//! newlines, commas, quotes, `$` and non-ASCII; the simulator's state must show the build in the
//! right groups with the exact What to Test, and the job environment's endpoint variables (as an
//! earlier step writing GITHUB_ENV would set them) must be ignored.

#![cfg(unix)]

#[allow(dead_code)]
mod e2e_ci_support;
#[allow(dead_code)]
mod forge_mock;
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_publish::sim::{Processing, ProcessingResult, SimConfig, TestFlightConfig};
use e2e_ci_support::wrappers::*;
use e2e_ci_support::{assert_no_key, get, kv, shown};
use forge_mock::{Req, mock};
use serde_json::{Value, json};
use support::Api;

const APP: &str = "6450000001";
/// A Markdown list (first line starts with `-`), a line that looks like a flag, `$` forms a shell
/// or GitLab would expand, quotes, a comma, non-ASCII.
const WHAT_TO_TEST: &str =
    "- Fixed login\n--groups=Hijack\n- Price: $5 (was ${PRICE}, $HOME), \"quoted\" & 'single'\n- Ünïcödé ✓ 日本語";
/// Names as users type them: a leading `-`, a `$`, non-ASCII, commas and newlines as separators.
const GROUPS: &str = "-nightly, QA\nBêta $crew ";
const GROUP_NAMES: [&str; 3] = ["-nightly", "QA", "Bêta $crew"];

struct Scene {
    api: Api,
    dir: tempfile::TempDir,
    ipa: String,
    root_ca: String,
    /// A server standing for an attacker's endpoint: set in the job environment, must get nothing.
    evil: String,
    evil_log: Arc<Mutex<Vec<Req>>>,
}

async fn scene() -> Scene {
    scene_with(|_| {}).await
}

async fn scene_with(tweak: impl FnOnce(&mut SimConfig)) -> Scene {
    let mut config = SimConfig {
        apps: vec![("com.example.demo".into(), APP.into())],
        processing: Processing {
            duration: Duration::from_millis(200),
            result: ProcessingResult::Valid,
        },
        testflight: TestFlightConfig {
            groups: [
                "-nightly=internal",
                "QA=internal",
                "Bêta $crew=external",
                "Hijack=internal",
            ]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect(),
            testers: vec!["qa@example.com".parse().unwrap()],
            ..TestFlightConfig::default()
        },
        ..SimConfig::default()
    };
    tweak(&mut config);
    let api = Api::start(config).await;
    let dir = tempfile::tempdir().unwrap();
    let ipa = dir.path().join("My App.ipa");
    let built = SampleApp::default().write_to(&ipa).unwrap();
    let root_ca = dir.path().join("root.pem");
    std::fs::write(&root_ca, built.root_pem()).unwrap();
    let (evil, evil_log) = mock(Arc::new(|_: &Req, _: &str| (500, vec![], "{}".to_string()))).await;
    Scene {
        api,
        dir,
        ipa: ipa.to_string_lossy().into_owned(),
        root_ca: root_ca.to_string_lossy().into_owned(),
        evil,
        evil_log,
    }
}

impl Scene {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// What an earlier step could have put in the job environment.
    fn hostile_env(&self) -> Vec<(String, String)> {
        vec![
            kv("ASC_API_URL", &self.evil),
            kv("ASC_CONTENT_DELIVERY_URL", &self.evil),
            kv("ASC_TLS_ROOT_CA", "/nonexistent/evil-ca.pem"),
            kv("ASC_EXTRA_ROOT_CA", "/nonexistent/evil-root.pem"),
            kv("HOME", self.dir.path().to_string_lossy()),
            kv("PATH", "/usr/bin:/bin"),
        ]
    }

    /// The simulator's view: the build is in exactly the named groups, What to Test is exact,
    /// the tester has it; and the attacker's endpoint saw nothing.
    async fn assert_published(&self, build_id: &str, locale: &str) {
        assert!(!build_id.is_empty());
        for name in GROUP_NAMES {
            let gid = self.api.group_id(APP, name).await;
            let builds = self.api.get(&format!("/v1/betaGroups/{gid}/builds")).await;
            let ids: Vec<&str> = builds.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["id"].as_str())
                .collect();
            assert!(ids.contains(&build_id), "build {build_id} not in group {name}: {ids:?}");
        }
        let hijack = self.api.group_id(APP, "Hijack").await;
        let builds = self.api.get(&format!("/v1/betaGroups/{hijack}/builds")).await;
        assert_eq!(builds.body["data"], json!([]), "a What to Test line became a flag");
        let loc = self
            .api
            .get(&format!("/v1/builds/{build_id}/betaBuildLocalizations"))
            .await;
        let locs = loc.body["data"].as_array().unwrap();
        assert_eq!(locs.len(), 1, "{}", loc.body);
        assert_eq!(locs[0]["attributes"]["locale"], locale);
        assert_eq!(locs[0]["attributes"]["whatsNew"], WHAT_TO_TEST);
        let testers = self.api.get(&format!("/v1/builds/{build_id}/individualTesters")).await;
        let emails: Vec<&str> = testers.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["attributes"]["email"].as_str())
            .collect();
        assert_eq!(emails, ["qa@example.com"]);
        assert!(
            self.evil_log.lock().unwrap().is_empty(),
            "the job environment's endpoint was used"
        );
    }
}

/// The inputs every wrapper gets, in kebab-case (GitHub, GitLab); Bitrise spells them snake_case.
fn common_inputs<'a>(s: &'a Scene, locale: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ipa-path", s.ipa.as_str()),
        ("groups", GROUPS),
        ("testers", " qa@example.com,\n"),
        ("what-to-test", WHAT_TO_TEST),
        ("locale", locale),
        ("notify", "true"),
        ("expire-previous", "true"),
        ("submit-beta-review", "false"),
        ("uses-non-exempt-encryption", "false"),
        ("validation", "normal"),
        ("dry-run", "false"),
        ("wait", "true"),
        ("timeout", "2m"),
        ("api-url", s.api.sim.api_url.as_str()),
        ("extra-root-ca", s.root_ca.as_str()),
    ]
}

fn owned(inputs: &[(&str, &str)]) -> Vec<(String, String)> {
    inputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn borrowed(inputs: &[(String, String)]) -> Vec<(&str, &str)> {
    inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn snake(inputs: &[(&str, &str)]) -> Vec<(String, String)> {
    inputs
        .iter()
        .map(|(k, v)| (k.replace('-', "_"), v.to_string()))
        .collect()
}

fn assert_ok(run: &WrapperRun, key_pem: &str) {
    assert_eq!(run.code, 0, "{}", run.log);
    assert_no_key("log", &shown(&run.log), key_pem);
}

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
    ]);
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

/// A GitHub runner environment for the action in `s`'s scratch directory.
fn github_env(s: &Scene) -> Vec<(String, String)> {
    let (os, arch) = runner_platform();
    std::fs::create_dir_all(s.path("runner-temp")).unwrap();
    let mut env = s.hostile_env();
    env.extend([
        kv("GITHUB_ACTIONS", "true"),
        kv("GITHUB_REPOSITORY", "octo/app"),
        kv("GITHUB_EVENT_NAME", "push"),
        kv("GITHUB_STEP_SUMMARY", s.path("summary.md").to_string_lossy()),
        kv("RUNNER_OS", os),
        kv("RUNNER_ARCH", arch),
        kv("RUNNER_TEMP", s.path("runner-temp").to_string_lossy()),
    ]);
    env
}

async fn run_github(s: &Scene, inputs: &[(&str, &str)]) -> WrapperRun {
    let action = action_checkout(s.dir.path(), &fake_manifest());
    let env = github_env(s);
    let work = s.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let inputs = owned(inputs);
    tokio::task::spawn_blocking(move || run_action(&action, &borrowed(&inputs), &env, &work))
        .await
        .unwrap()
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
