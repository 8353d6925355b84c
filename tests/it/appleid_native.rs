//! `upload --apple-id` with the native backend, as a process against the in-process simulator's
//! content-delivery service: the whole flow, wrong password, unknown app, duplicate build number
//! refused before any part, API-key-only flags refused up front, and the password never printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, RequestRecord, SimConfig, SimHandle, Simulator};
use serde_json::Value;

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "qwer-tyui-opas-dfgh";

async fn start_sim() -> SimHandle {
    Simulator::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        processing: Processing {
            duration: Duration::from_millis(400),
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A valid sample IPA and the root to trust for it.
fn sample(dir: &Path, bundle_id: &str, version: &str) -> (PathBuf, PathBuf) {
    sample_padded(dir, bundle_id, version, 0)
}

fn sample_padded(dir: &Path, bundle_id: &str, version: &str, padding: u64) -> (PathBuf, PathBuf) {
    sample_train(dir, bundle_id, "1.0.0", version, padding)
}

/// A sample of version train `short`, build `version`.
fn sample_train(dir: &Path, bundle_id: &str, short: &str, version: &str, padding: u64) -> (PathBuf, PathBuf) {
    let ipa = dir.join(format!("Demo-{short}-{version}.ipa"));
    let app = SampleApp {
        bundle_id: bundle_id.into(),
        short_version: short.into(),
        version: version.into(),
        with_extension: false,
        padding,
        ..SampleApp::default()
    };
    let built = app.write_to(&ipa).expect("sample IPA");
    let root = dir.join("root.pem");
    std::fs::write(&root, built.root_pem()).unwrap();
    (ipa, root)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", self.stdout))
    }

    fn assert_no_password(&self) {
        assert!(
            !self.stdout.contains(PASSWORD) && !self.stderr.contains(PASSWORD),
            "password printed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Runs the binary (blocking, off the runtime that serves the simulator). PATH has no `xcrun`.
async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
            .args(&args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(env)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

fn upload_args(sim: &SimHandle, ipa: &Path, root: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "upload",
        ipa.to_str().unwrap(),
        "--apple-id",
        EMAIL,
        "--content-delivery-url",
        sim.api_url.as_str(),
        "--extra-root-ca",
        root.to_str().unwrap(),
        "--poll-interval",
        "100ms",
        "--timeout",
        "30s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn pw() -> Vec<(&'static str, String)> {
    vec![("ASC_APP_SPECIFIC_PASSWORD", PASSWORD.to_string())]
}

fn part_puts(reqs: &[RequestRecord]) -> usize {
    reqs.iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/storage/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_without_xcrun_uploads_natively_to_valid() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    // 11 MiB of padding: the IPA goes up in three 5 MiB parts.
    let (ipa, root) = sample_padded(dir.path(), "com.example.demo", "1", 11 * 1024 * 1024);
    let r = run(upload_args(&sim, &ipa, &root, &["--format", "json", "-vv"]), pw()).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    r.assert_no_password();
    let doc = r.json();
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["processing_state"], "VALID");
    assert_eq!(doc["app_id"], asc_sim::DEFAULT_APP_ID);
    assert_eq!(doc["build_number"], "1");
    assert!(doc["bytes_sent"].as_u64().unwrap() > 0);
    assert!(doc["md5"].is_string());
    assert!(r.stderr.contains("uploading"), "{}", r.stderr);
    // The run's progress, the shared processing wait's lines and, with -v, each call.
    for line in [
        "signed in as dev@example.com; app ",
        "upload committed",
        "waiting for App Store Connect to process the build",
        ": VALID\n",
        "(authenticateForSession) -> 200",
        "  GET /MZContentDeliveryService/iris/provider/",
    ] {
        assert!(r.stderr.contains(line), "{line:?} missing:\n{}", r.stderr);
    }

    let reqs = sim.requests();
    assert_eq!(
        part_puts(&reqs),
        4,
        "the description (1 part) and the IPA (3 parts) were PUT"
    );
    let patches = reqs
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/buildDeliveryFiles/") && r.status == 200)
        .count();
    assert_eq!(patches, 2, "both files committed");
    assert!(reqs.iter().all(|r| !r.path.contains(PASSWORD)));
    // The build is a real simulator build: the public API sees it too.
    let snap = sim.snapshot();
    let builds: Vec<&Value> = snap["builds"].as_object().unwrap().values().collect();
    assert_eq!(builds.len(), 1);
    assert_eq!(builds[0]["processing_state"], "VALID");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_exits_3_with_apples_reason_and_prints_no_password() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "1");
    let wrong = "zzzz-wrong-pass-word";
    let mut args = upload_args(&sim, &ipa, &root, &["-vv", "--password-env", "MY_PW"]);
    args.push("--apple-id-backend".into());
    args.push("native".into());
    let r = run(args, vec![("MY_PW", wrong.to_string())]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    // Apple's words, from `result.ErrorMessage`.
    assert!(r.stderr.contains("Unable to authenticate."), "{}", r.stderr);
    assert!(!r.stderr.contains(wrong) && !r.stdout.contains(wrong));
    assert_eq!(part_puts(&sim.requests()), 0);

    // Also in JSON mode, the error lands in the outcome without the password.
    let mut args = upload_args(&sim, &ipa, &root, &["--format", "json"]);
    args.extend(["--apple-id-backend".into(), "native".into()]);
    let r = run(args, vec![("ASC_APP_SPECIFIC_PASSWORD", wrong.to_string())]).await;
    assert_eq!(r.code, 3);
    assert_eq!(r.json()["error"]["kind"], "auth");
    assert!(!r.stdout.contains(wrong) && !r.stderr.contains(wrong));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_bundle_id_exits_4() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.unknown", "1");
    let r = run(upload_args(&sim, &ipa, &root, &["--apple-id-backend", "native"]), pw()).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("com.example.unknown"), "{}", r.stderr);
    assert!(r.stderr.contains("No suitable application records"), "{}", r.stderr);
    r.assert_no_password();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_build_number_exits_4_before_any_part_is_sent() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "5");
    let first = run(upload_args(&sim, &ipa, &root, &["--no-wait", "--format", "json"]), pw()).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["status"], "uploaded");
    // Without -v no call is told, and with --no-wait there is no processing wait.
    assert!(!first.stderr.contains(" -> 2"), "{}", first.stderr);
    assert!(
        !first.stderr.contains("waiting for App Store Connect"),
        "{}",
        first.stderr
    );
    let puts_before = part_puts(&sim.requests());
    assert!(puts_before > 0);

    let second = run(upload_args(&sim, &ipa, &root, &["-v"]), pw()).await;
    assert_eq!(second.code, 4, "{}", second.stderr);
    assert!(second.stderr.contains("already uploaded"), "{}", second.stderr);
    assert!(second.stderr.contains("next free one is 6"), "{}", second.stderr);
    second.assert_no_password();
    let reqs = sim.requests();
    assert_eq!(part_puts(&reqs), puts_before, "no part PUT for the duplicate");
    // Only Apple's answer to `POST builds` knows the version train: it was asked, and refused.
    let posts: Vec<u16> = reqs
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/v1/builds"))
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, vec![201, 409], "no build record created for the duplicate");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_only_flags_are_refused_before_anything_happens() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "1");
    let r = run(
        upload_args(
            &sim,
            &ipa,
            &root,
            &["--uses-non-exempt-encryption", "false", "--format", "json"],
        ),
        pw(),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--uses-non-exempt-encryption"), "{}", r.stderr);
    assert!(r.stderr.contains("API key"), "{}", r.stderr);
    assert_eq!(r.json()["error"]["kind"], "usage");
    assert!(sim.requests().is_empty(), "nothing was sent");

    // The TestFlight distribution flags too, all named in one message.
    let r = run(
        upload_args(
            &sim,
            &ipa,
            &root,
            &[
                "--groups",
                "QA",
                "--notify",
                "--what-to-test",
                "New",
                "--format",
                "json",
            ],
        ),
        pw(),
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    for flag in ["--groups", "--notify", "--what-to-test"] {
        assert!(r.stderr.contains(flag), "{flag}: {}", r.stderr);
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_password_names_the_variables_and_plain_http_elsewhere_is_refused() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "1");
    let r = run(upload_args(&sim, &ipa, &root, &[]), vec![]).await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("ASC_APP_SPECIFIC_PASSWORD"), "{}", r.stderr);
    assert!(r.stderr.contains("FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD"));
    let mut args = upload_args(&sim, &ipa, &root, &[]);
    let i = args.iter().position(|a| a == "--content-delivery-url").unwrap();
    args[i + 1] = "http://contentdelivery.example.com".into();
    let r = run(args, pw()).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(sim.requests().is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_parts_are_retried_and_a_lost_commit_is_confirmed_by_reading_back() {
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        processing: Processing {
            duration: Duration::from_millis(200),
            result: ProcessingResult::Valid,
        },
        faults: asc_sim::Faults {
            fail_part_rate: 0.4,
            drop_commit_response: true,
            seed: 7,
            ..asc_sim::Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample_padded(dir.path(), "com.example.demo", "2", 11 * 1024 * 1024);
    let r = run(upload_args(&sim, &ipa, &root, &["--format", "json"]), pw()).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["status"], "success");
    let reqs = sim.requests();
    assert!(
        reqs.iter().any(|r| r.path.starts_with("/storage/") && r.status >= 500),
        "a part failed and was retried"
    );
    assert!(
        reqs.iter().any(|r| r.method == "PATCH" && r.status == 0),
        "a commit answer was dropped"
    );
    assert!(
        reqs.iter()
            .any(|r| r.method == "GET" && r.path.contains("/buildDeliveryFiles/"))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_processing_verdict_exits_1() {
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        processing: Processing {
            duration: Duration::from_millis(200),
            result: ProcessingResult::Failed("90725".into()),
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "1");
    let r = run(upload_args(&sim, &ipa, &root, &["--format", "json"]), pw()).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["status"], "rejected");
    assert_eq!(doc["processing_state"], "FAILED");
    assert_eq!(doc["apple_messages"][0]["code"], "ITMS-90725");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_number_of_another_version_train_is_accepted_and_the_hint_is_apples() {
    // Apple's build records do not name their version train: only its answer to `POST builds`
    // knows whether "5" is taken in 2.0 because 1.0 has a "5".
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    for (short, build) in [("1.0", "5"), ("3.0", "9")] {
        let (ipa, root) = sample_train(dir.path(), "com.example.demo", short, build, 0);
        let r = run(upload_args(&sim, &ipa, &root, &["--no-wait"]), pw()).await;
        assert_eq!(r.code, 0, "{short} ({build}): {}", r.stderr);
    }
    let (ipa, root) = sample_train(dir.path(), "com.example.demo", "2.0", "5", 0);
    let r = run(upload_args(&sim, &ipa, &root, &["--format", "json"]), pw()).await;
    assert_eq!(r.code, 0, "2.0 (5) is free in its train: {}", r.stderr);
    assert_eq!(r.json()["status"], "success");

    // 1.0 (5) again: refused, and the next free number is Apple's `previousBundleVersion` + 1, not
    // one above every train's numbers (10).
    let (ipa, root) = sample_train(dir.path(), "com.example.demo", "1.0", "5", 0);
    let r = run(upload_args(&sim, &ipa, &root, &[]), pw()).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("next free one is 6"), "{}", r.stderr);
    sim.shutdown().await;
}

/// Signs in on the simulator's JSON-RPC service like a client: (DS cookie, provider REST base, app id).
async fn sign_in(sim: &SimHandle) -> (String, String, String) {
    use asc_publish::appleid::session::session_digest;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/WebObjects/MZLabelService.woa/json/MZITunesSoftwareService",
        sim.api_url
    );
    let mut session: Option<(String, String)> = None;
    let call = async |method: &str, params: Value, session: &Option<(String, String)>| -> Value {
        let body =
            serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "method": method, "id": "1", "params": params}))
                .unwrap();
        let mut rb = http.post(&url).body(body.clone());
        if let Some((sid, secret)) = session {
            rb = rb
                .header("x-session-id", sid)
                .header("x-request-id", "r1")
                .header("x-session-version", "2")
                .header("x-session-digest", session_digest(sid, &body, "r1", secret));
        }
        rb.send().await.unwrap().json::<Value>().await.unwrap()
    };
    let creds = serde_json::json!({"Username": EMAIL, "Password": PASSWORD});
    let ok = call("authenticateForSession", creds.clone(), &session).await;
    session = Some((
        ok["result"]["SessionId"].as_str().unwrap().into(),
        ok["result"]["SharedSecret"].as_str().unwrap().into(),
    ));
    let tok = call("generateAppleConnectToken", creds, &session).await;
    let look = call(
        "lookupSoftwareForBundleId",
        serde_json::json!({"BundleId": "com.example.demo"}),
        &session,
    )
    .await;
    let cookie = format!(
        "{}={}",
        tok["result"]["DSTokenCookieName"].as_str().unwrap(),
        tok["result"]["DSToken"].as_str().unwrap()
    );
    let base = format!(
        "{}/MZContentDeliveryService/iris/provider/{}/v1",
        sim.api_url,
        look["result"]["ProviderPublicId"].as_str().unwrap()
    );
    (
        cookie,
        base,
        look["result"]["Attributes"][0]["AppleID"].as_str().unwrap().into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_upload_is_resumed_instead_of_blocking_its_build_number() {
    let sim = start_sim().await;
    // What an upload stopped after its first calls leaves: a build record (processingState null)
    // and a reserved, never-sent asset description.
    let (cookie, base, app) = sign_in(&sim).await;
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{base}/builds"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"data": {"type": "builds",
            "attributes": {"cfBundleShortVersionString": "1.0.0", "cfBundleVersion": "4", "platform": "IOS"},
            "relationships": {"app": {"data": {"type": "apps", "id": app}}}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let build = created["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["data"]["attributes"]["processingState"], Value::Null);
    let reserved = http
        .post(format!("{base}/buildDeliveryFiles"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"data": {"type": "buildDeliveryFiles",
            "attributes": {"assetType": "ASSET_DESCRIPTION", "fileName": "AppStoreInfo.plist", "fileSize": 10,
                "sourceFileChecksum": "00000000000000000000000000000000", "uti": "com.apple.binary-property-list"},
            "relationships": {"build": {"data": {"type": "builds", "id": build}}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(reserved.status().as_u16(), 201);

    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path(), "com.example.demo", "4");
    let r = run(upload_args(&sim, &ipa, &root, &["--format", "json"]), pw()).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let doc = r.json();
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["upload_mode"], "resumed");
    assert_eq!(doc["upload_id"], build.as_str(), "the interrupted record was finished");
    assert!(r.stderr.contains("resuming build"), "{}", r.stderr);
    let posts: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path.ends_with("/v1/builds"))
        .map(|q| q.status)
        .collect();
    assert_eq!(posts, vec![201, 409], "no second record");
    sim.shutdown().await;
}
