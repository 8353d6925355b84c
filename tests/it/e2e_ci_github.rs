//! The binary on a fake GitHub Actions runner (GITHUB_* environment, a pull_request payload,
//! GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, a loopback GitHub API) against the in-process
//! simulator: masks first, annotations, outputs, the job summary, the sticky comment and the
//! check run on the PR head, for successful and failed runs alike.

use std::sync::{Arc, Mutex};

use crate::support::e2e_ci::*;
use crate::support::forge_mock::{Handler, Req, mock};
use asc_publish::sample::app::SampleApp;
use asc_sim::ProcessingResult;
use serde_json::{Value, json};

#[derive(Default)]
struct Gh {
    comments: Vec<(u64, String)>,
    check_runs: Vec<Value>,
    forbidden: bool,
}

fn github(state: Arc<Mutex<Gh>>) -> Handler {
    Arc::new(move |req: &Req, _base: &str| {
        let mut st = state.lock().unwrap();
        if st.forbidden {
            let body = json!({"message": "Resource not accessible by integration"});
            return (403, vec![], body.to_string());
        }
        let path = req.uri.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", "/repos/octo/app/issues/17/comments") => {
                // As GitHub lists them: comments made with GITHUB_TOKEN are github-actions[bot]'s.
                let bot = json!({"id": 41_898_282, "login": "github-actions[bot]", "type": "Bot"});
                let items: Vec<Value> = st
                    .comments
                    .iter()
                    .map(|(id, b)| json!({"id": id, "body": b, "user": bot}))
                    .collect();
                (200, vec![], Value::Array(items).to_string())
            }
            // An Actions GITHUB_TOKEN cannot read /user.
            ("GET", "/user") => (
                403,
                vec![],
                json!({"message": "Resource not accessible by integration"}).to_string(),
            ),
            ("POST", "/repos/octo/app/issues/17/comments") => {
                let id = 5000 + st.comments.len() as u64;
                st.comments
                    .push((id, req.json()["body"].as_str().unwrap_or("").to_string()));
                (201, vec![], json!({"id": id}).to_string())
            }
            ("PATCH", p) if p.starts_with("/repos/octo/app/issues/comments/") => {
                let id: u64 = p.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let body = req.json()["body"].as_str().unwrap_or("").to_string();
                match st.comments.iter_mut().find(|(i, _)| *i == id) {
                    Some(c) => {
                        c.1 = body;
                        (200, vec![], json!({"id": id}).to_string())
                    }
                    None => (404, vec![], json!({"message": "Not Found"}).to_string()),
                }
            }
            ("POST", "/repos/octo/app/check-runs") => {
                st.check_runs.push(req.json());
                (201, vec![], json!({"id": 900}).to_string())
            }
            ("PATCH", "/repos/octo/app/check-runs/900") => (200, vec![], json!({"id": 900}).to_string()),
            _ => (405, vec![], json!({"message": "no such route in the mock"}).to_string()),
        }
    })
}

struct Runner {
    env: Vec<(String, String)>,
    output: std::path::PathBuf,
    summary: std::path::PathBuf,
}

/// A fresh GitHub runner environment for one step.
fn runner(world: &World, api: &str, step: &str) -> Runner {
    let event = world.path("event.json");
    std::fs::write(
        &event,
        json!({"pull_request": {"number": 17, "head": {"sha": "headsha1"}}}).to_string(),
    )
    .unwrap();
    let output = world.path(&format!("{step}.output"));
    let summary = world.path(&format!("{step}.summary.md"));
    let env = vec![
        kv("GITHUB_ACTIONS", "true"),
        kv("GITHUB_REPOSITORY", "octo/app"),
        kv("GITHUB_API_URL", api),
        kv("GITHUB_SERVER_URL", "https://github.com"),
        kv("GITHUB_RUN_ID", "42"),
        kv("GITHUB_SHA", "merge999"),
        kv("GITHUB_EVENT_NAME", "pull_request"),
        kv("GITHUB_EVENT_PATH", event.to_string_lossy()),
        kv("GITHUB_OUTPUT", output.to_string_lossy()),
        kv("GITHUB_STEP_SUMMARY", summary.to_string_lossy()),
        kv("GITHUB_TOKEN", "ghs_e2etoken"),
    ];
    Runner { env, output, summary }
}

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The run's own key never leaves the process: not on stdout/stderr, not in any file written,
/// not in any request to the GitHub mock.
fn assert_key_kept(world: &World, run: &Run, log: &[Req]) {
    assert_no_key("stdout", &run.stdout, &world.key_pem);
    assert_no_key("stderr", &shown(&run.stderr), &world.key_pem);
    for (path, text) in all_files(world.dir.path()) {
        assert_no_key(&path.to_string_lossy(), &text, &world.key_pem);
    }
    for r in log {
        assert_no_key(&r.uri, &r.body, &world.key_pem);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_build_reports_everywhere_and_the_comment_is_sticky() {
    let world = World::start(ProcessingResult::Valid).await;
    let state = Arc::new(Mutex::new(Gh::default()));
    let (api, log) = mock(github(state.clone())).await;

    let first = runner(&world, &api, "one");
    let json_path = world.path("outcome.json");
    let run = world
        .upload(&["--output-json", json_path.to_str().unwrap()], &first.env)
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Masks come before anything else, one per key line and the token (not the public armour).
    let first_lines: Vec<&str> = run.stderr.lines().take(key_lines(&world.key_pem).len() + 1).collect();
    assert!(
        first_lines.iter().all(|l| l.starts_with("::add-mask::")),
        "{first_lines:?}"
    );
    assert!(run.stderr.contains("::add-mask::ghs_e2etoken\n"));
    assert!(!run.stdout.contains("::add-mask::"));

    let outputs = parse_github_output(&read(&first.output));
    for name in [
        "upload-id",
        "build-id",
        "app-id",
        "version",
        "build-number",
        "processing-state",
        "asc-url",
        "testflight-url",
    ] {
        assert!(!get(&outputs, name).is_empty(), "{name} is empty: {outputs:?}");
    }
    assert_eq!(get(&outputs, "version"), "1.0.0");
    assert_eq!(get(&outputs, "build-number"), "1");
    assert_eq!(get(&outputs, "processing-state"), "VALID");
    assert_eq!(get(&outputs, "app-id"), asc_sim::DEFAULT_APP_ID);
    assert!(get(&outputs, "asc-url").ends_with(get(&outputs, "build-id")));
    assert_eq!(get(&outputs, "groups"), "");

    let summary = read(&first.summary);
    assert!(summary.contains("### TestFlight: **Published**"), "{summary}");
    assert!(summary.contains("<!-- asc-publish:com.example.demo -->"));
    assert!(summary.contains("```mermaid") && summary.contains("gantt"), "{summary}");
    assert!(
        summary.contains("Validate") && summary.contains("Processing"),
        "{summary}"
    );

    {
        let st = state.lock().unwrap();
        assert_eq!(st.comments.len(), 1);
        assert!(st.comments[0].1.contains("**Published**"));
        assert_eq!(st.check_runs.len(), 1);
        assert_eq!(st.check_runs[0]["head_sha"], "headsha1");
        assert_eq!(st.check_runs[0]["conclusion"], "success");
    }
    let requests = log.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer ghs_e2etoken"))
    );

    let saved: Value = serde_json::from_str(&read(&json_path)).unwrap();
    assert_eq!(saved["status"], "success");
    assert_eq!(saved["build_id"], get(&outputs, "build-id"));
    assert!(saved["testflight_url"].as_str().unwrap().contains("/testflight/ios"));

    // A second run on the same PR updates the one comment. The same build number is already
    // uploaded, so this run is a different outcome with the same app.
    let second = runner(&world, &api, "two");
    let run2 = world.upload(&[], &second.env).await;
    let st = state.lock().unwrap();
    assert_eq!(st.comments.len(), 1, "{}", run2.stderr);
    let methods: Vec<(String, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.method.clone(), r.uri.split('?').next().unwrap_or("").to_string()))
        .collect();
    assert!(
        methods.contains(&("PATCH".into(), "/repos/octo/app/issues/comments/5000".into())),
        "{methods:?}"
    );
    assert_eq!(st.check_runs.len(), 2);
    drop(st);
    assert_key_kept(&world, &run, &log.lock().unwrap());
    assert_key_kept(&world, &run2, &log.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_still_write_summary_outputs_and_annotations() {
    let world = World::start(ProcessingResult::Valid).await;
    // Trust another sample's root: the IPA's signature and profile no longer chain to it.
    let other = world.path("other.ipa");
    let other_root = world.path("other-root.pem");
    std::fs::write(&other_root, SampleApp::default().write_to(&other).unwrap().root_pem()).unwrap();
    let state = Arc::new(Mutex::new(Gh::default()));
    let (api, log) = mock(github(state.clone())).await;
    let r = runner(&world, &api, "val");
    let mut env = r.env.clone();
    env.push(kv("ASC_EXTRA_ROOT_CA", other_root.to_string_lossy()));
    let run = world.upload(&["--format", "json"], &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is still one JSON document");
    assert_eq!(doc["status"], "rejected");

    assert!(run.stderr.contains("::group::asc-publish:"), "{}", run.stderr);
    assert!(run.stderr.contains("::error "), "{}", run.stderr);
    let summary = read(&r.summary);
    assert!(summary.contains("**Rejected by validation**"), "{summary}");
    assert!(summary.contains("| ITMS-") || summary.contains("| ASC-"), "{summary}");
    // Every output is written (empty where the run did not get that far).
    let outputs = parse_github_output(&read(&r.output));
    assert_eq!(outputs.len(), asc_publish::ci::outputs::NAMES.len(), "{outputs:?}");
    assert_eq!(get(&outputs, "upload-id"), "");
    assert_eq!(state.lock().unwrap().check_runs[0]["conclusion"], "failure");
    assert_key_kept(&world, &run, &log.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_fails_with_exit_3_and_still_reports() {
    let world = World::start(ProcessingResult::Valid).await;
    let state = Arc::new(Mutex::new(Gh::default()));
    let (api, log) = mock(github(state.clone())).await;
    let r = runner(&world, &api, "auth");
    let wrong = foreign_key();
    let mut env = r.env.clone();
    env.push(kv("ASC_PRIVATE_KEY", &wrong));
    let run = world.upload(&[], &env).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    for l in key_lines(&wrong) {
        assert!(run.stderr.contains(&format!("::add-mask::{l}\n")), "{l} not masked");
    }
    let summary = read(&r.summary);
    assert!(summary.contains("**Failed**"), "{summary}");
    assert!(summary.contains("stopped at Upload"), "{summary}");
    let outputs = parse_github_output(&read(&r.output));
    assert_eq!(get(&outputs, "build-number"), "1");
    assert_eq!(get(&outputs, "build-id"), "");
    assert_eq!(state.lock().unwrap().comments.len(), 1);
    assert_no_key("stderr", &shown(&run.stderr), &wrong);
    assert_no_key("stdout", &run.stdout, &wrong);
    for (path, text) in all_files(world.dir.path()) {
        assert_no_key(&path.to_string_lossy(), &text, &wrong);
    }
    assert_key_kept(&world, &run, &log.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apple_rejection_is_reported_with_apples_errors() {
    let world = World::start(ProcessingResult::Invalid).await;
    let state = Arc::new(Mutex::new(Gh::default()));
    let (api, _log) = mock(github(state.clone())).await;
    let r = runner(&world, &api, "invalid");
    let run = world.upload(&[], &r.env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = read(&r.summary);
    assert!(summary.contains("**Rejected by Apple**"), "{summary}");
    let outputs = parse_github_output(&read(&r.output));
    assert_eq!(get(&outputs, "processing-state"), "INVALID");
    assert!(!get(&outputs, "build-id").is_empty());
    assert!(run.stderr.contains("::error title=App Store Connect"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_token_is_one_warning_and_the_exit_code_is_unchanged() {
    let world = World::start(ProcessingResult::Valid).await;
    let state = Arc::new(Mutex::new(Gh {
        forbidden: true,
        ..Gh::default()
    }));
    let (api, _log) = mock(github(state)).await;
    let r = runner(&world, &api, "ro");
    let run = world.upload(&[], &r.env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("::warning title=asc-publish report::") || l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("403"), "{}", warnings[0]);
    assert!(read(&r.summary).contains("**Published**"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_none_writes_outputs_but_no_summary_or_comment() {
    let world = World::start(ProcessingResult::Valid).await;
    let state = Arc::new(Mutex::new(Gh::default()));
    let (api, log) = mock(github(state)).await;
    let r = runner(&world, &api, "none");
    let run = world.upload(&["--report", "none"], &r.env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!get(&parse_github_output(&read(&r.output)), "build-id").is_empty());
    assert!(!r.summary.exists());
    assert!(log.lock().unwrap().is_empty());
}
