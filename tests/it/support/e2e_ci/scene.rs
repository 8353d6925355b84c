//! The scene every wrapper test runs in: the simulator with TestFlight groups whose names are
//! hostile (a leading `-`, `$`, non-ASCII), a signed sample IPA, an attacker's endpoint set in the
//! job environment that must get nothing, the hostile input values, and the checks on the
//! simulator's state after a run. Used by the e2e_ci_wrappers* tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, TestFlightConfig};
use serde_json::json;

use crate::support::Api;
use crate::support::e2e_ci::wrappers::*;
use crate::support::e2e_ci::{assert_no_key, kv, shown};
use crate::support::forge_mock::{Req, mock};

pub const APP: &str = "6450000001";
/// A Markdown list (first line starts with `-`), a line that looks like a flag, `$` forms a shell
/// or GitLab would expand, quotes, a comma, non-ASCII.
pub const WHAT_TO_TEST: &str =
    "- Fixed login\n--groups=Hijack\n- Price: $5 (was ${PRICE}, $HOME), \"quoted\" & 'single'\n- Ünïcödé ✓ 日本語";
/// Names as users type them: a leading `-`, a `$`, non-ASCII, commas and newlines as separators.
pub const GROUPS: &str = "-nightly, QA\nBêta $crew ";
pub const GROUP_NAMES: [&str; 3] = ["-nightly", "QA", "Bêta $crew"];

pub struct Scene {
    pub api: Api,
    pub dir: tempfile::TempDir,
    pub ipa: String,
    pub root_ca: String,
    /// A server standing for an attacker's endpoint: set in the job environment, must get nothing.
    pub evil: String,
    pub evil_log: Arc<Mutex<Vec<Req>>>,
}

pub async fn scene() -> Scene {
    scene_with(|_| {}).await
}

pub async fn scene_with(tweak: impl FnOnce(&mut SimConfig)) -> Scene {
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
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// What an earlier step could have put in the job environment.
    pub fn hostile_env(&self) -> Vec<(String, String)> {
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
    pub async fn assert_published(&self, build_id: &str, locale: &str) {
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
pub fn common_inputs<'a>(s: &'a Scene, locale: &'a str) -> Vec<(&'a str, &'a str)> {
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

pub fn owned(inputs: &[(&str, &str)]) -> Vec<(String, String)> {
    inputs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn borrowed(inputs: &[(String, String)]) -> Vec<(&str, &str)> {
    inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

pub fn snake(inputs: &[(&str, &str)]) -> Vec<(String, String)> {
    inputs
        .iter()
        .map(|(k, v)| (k.replace('-', "_"), v.to_string()))
        .collect()
}

pub fn assert_ok(run: &WrapperRun, key_pem: &str) {
    assert_eq!(run.code, 0, "{}", run.log);
    assert_no_key("log", &shown(&run.log), key_pem);
}

/// A GitHub runner environment for the action in `s`'s scratch directory.
pub fn github_env(s: &Scene) -> Vec<(String, String)> {
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

pub async fn run_github(s: &Scene, inputs: &[(&str, &str)]) -> WrapperRun {
    let action = action_checkout(s.dir.path(), &fake_manifest());
    let env = github_env(s);
    let work = s.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let inputs = owned(inputs);
    tokio::task::spawn_blocking(move || run_action(&action, &borrowed(&inputs), &env, &work))
        .await
        .unwrap()
}
