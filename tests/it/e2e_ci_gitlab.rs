//! The binary in a fake GitLab merge request pipeline (CI_* environment, a loopback notes API, the
//! dotenv report file) against the in-process simulator.

use std::sync::{Arc, Mutex};

use crate::support::e2e_ci::*;
use crate::support::forge_mock::{Handler, mock};
use asc_sim::ProcessingResult;
use serde_json::{Value, json};

fn gitlab(notes: Arc<Mutex<Vec<(u64, String)>>>, forbidden: bool) -> Handler {
    Arc::new(move |req, _| {
        if forbidden {
            return (403, vec![], json!({"message": "403 Forbidden"}).to_string());
        }
        let mut notes = notes.lock().unwrap();
        let path = req.uri.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", "/api/v4/projects/99/merge_requests/7/notes") => {
                // Every note here was posted by the token's user (the project token's bot).
                let bot = json!({"id": 42, "username": "project_99_bot_1", "name": "asc-publish"});
                let items: Vec<Value> = notes
                    .iter()
                    .map(|(id, b)| json!({"id": id, "body": b, "author": bot}))
                    .collect();
                (200, vec![], Value::Array(items).to_string())
            }
            ("GET", "/api/v4/user") => (
                200,
                vec![],
                json!({"id": 42, "username": "project_99_bot_1", "name": "asc-publish", "bot": true}).to_string(),
            ),
            ("POST", "/api/v4/projects/99/merge_requests/7/notes") => {
                let id = 300 + notes.len() as u64;
                notes.push((id, req.json()["body"].as_str().unwrap_or("").to_string()));
                (201, vec![], json!({"id": id}).to_string())
            }
            ("PUT", p) if p.starts_with("/api/v4/projects/99/merge_requests/7/notes/") => {
                let id: u64 = p.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                match notes.iter_mut().find(|(i, _)| *i == id) {
                    Some(n) => {
                        n.1 = req.json()["body"].as_str().unwrap_or("").to_string();
                        (200, vec![], json!({"id": id}).to_string())
                    }
                    None => (404, vec![], json!({"message": "404 Not found"}).to_string()),
                }
            }
            _ => (405, vec![], "{}".into()),
        }
    })
}

fn pipeline(world: &World, api: &str, dotenv: &std::path::Path) -> Vec<(String, String)> {
    vec![
        kv("GITLAB_CI", "true"),
        kv("CI_API_V4_URL", format!("{api}/api/v4")),
        kv("CI_PROJECT_ID", "99"),
        kv("CI_MERGE_REQUEST_IID", "7"),
        kv("CI_JOB_URL", "https://gitlab.example.com/octo/app/-/jobs/1"),
        kv("GITLAB_TOKEN", "glpat-e2etoken"),
        kv("ASC_PUBLISH_DOTENV", dotenv.to_string_lossy()),
    ]
    .into_iter()
    .chain(std::iter::once(kv("HOME", world.dir.path().to_string_lossy())))
    .collect()
}

fn dotenv_map(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotenv_and_a_sticky_merge_request_note() {
    let world = World::start(ProcessingResult::Valid).await;
    let notes = Arc::new(Mutex::new(vec![(1, "unrelated".to_string())]));
    let (api, log) = mock(gitlab(notes.clone(), false)).await;
    let dotenv = world.path("asc.env");

    let run = world.upload(&[], &pipeline(&world, &api, &dotenv)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let vars = dotenv_map(&dotenv);
    assert!(!get(&vars, "ASC_BUILD_ID").is_empty(), "{vars:?}");
    assert!(!get(&vars, "ASC_UPLOAD_ID").is_empty());
    assert_eq!(get(&vars, "ASC_VERSION"), "1.0.0");
    assert_eq!(get(&vars, "ASC_PROCESSING_STATE"), "VALID");
    assert!(get(&vars, "ASC_TESTFLIGHT_URL").starts_with("https://appstoreconnect.apple.com/apps/"));
    assert!(
        !run.stderr.contains("::add-mask::"),
        "no GitHub commands outside GitHub"
    );
    {
        let n = notes.lock().unwrap();
        assert_eq!(n.len(), 2);
        assert!(
            n[1].1.contains("**Published**") && n[1].1.contains("gantt"),
            "{}",
            n[1].1
        );
    }

    let run2 = world.upload(&[], &pipeline(&world, &api, &dotenv)).await;
    assert_eq!(notes.lock().unwrap().len(), 2, "{}", run2.stderr);
    let log = log.lock().unwrap().clone();
    assert!(log.iter().any(|r| r.method == "PUT" && r.uri.ends_with("/notes/301")));
    assert!(log.iter().all(|r| r.header("private-token") == Some("glpat-e2etoken")
        || r.header("authorization") == Some("Bearer glpat-e2etoken")));
    for r in &log {
        assert_no_key(&r.uri, &r.body, &world.key_pem);
    }
    for (p, text) in all_files(world.dir.path()) {
        assert_no_key(&p.to_string_lossy(), &text, &world.key_pem);
    }
    assert_no_key("stderr", &run.stderr, &world.key_pem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_still_writes_the_dotenv_and_a_forbidden_token_is_one_warning() {
    let world = World::start(ProcessingResult::Valid).await;
    let (api, _log) = mock(gitlab(Arc::new(Mutex::new(Vec::new())), true)).await;
    let dotenv = world.path("asc.env");
    let mut env = pipeline(&world, &api, &dotenv);
    env.push(kv("ASC_PRIVATE_KEY", foreign_key()));
    let run = world.upload(&[], &env).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(dotenv.exists(), "the dotenv report is written for failed runs too");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        // The simulator is not an Apple host: that warning is not the report's.
        .filter(|l| l.starts_with("warning: ") && !l.contains("not an Apple host") && !l.contains("custom root"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("403"), "{}", warnings[0]);
}
