//! The GitHub reporter against a loopback mock of the REST API: methods, paths, auth headers and
//! bodies (checked against GitHub's own API description), the sticky comment, check-run annotation
//! batching, and graceful degradation on read-only tokens.

use std::sync::{Arc, Mutex};

use crate::support::forge_mock::{Handler, Req, mock, view};
use asc_publish::forge::github_pr::{self, GitHubTarget, Publish};
use asc_publish::forge::{CommentAction, Token};
use asc_publish::report::view::*;
use serde_json::{Value, json};

/// A stateful fake of the GitHub endpoints we call.
#[derive(Default)]
struct GitHubState {
    /// id, body, author (GitHub's `simple-user`).
    comments: Vec<(u64, String, Value)>,
    /// Unrelated comments listed before ours (to exercise pagination).
    filler: usize,
    forbidden: bool,
    /// The account a personal token belongs to; `None`: the token is an Actions `GITHUB_TOKEN`,
    /// which `GET /user` refuses and whose comments are authored by `github-actions[bot]`.
    token_user: Option<Value>,
}

/// GitHub's `simple-user` (the fields GitHub always sends that a reader may use).
fn user(id: u64, login: &str, kind: &str) -> Value {
    json!({"id": id, "login": login, "type": kind, "node_id": format!("U_{id}"), "site_admin": false,
           "html_url": format!("https://github.com/{login}"), "url": format!("https://api.github.com/users/{login}")})
}

fn actions_bot() -> Value {
    user(41_898_282, "github-actions[bot]", "Bot")
}

fn comment(id: u64, body: &str, author: &Value) -> Value {
    json!({"id": id, "node_id": format!("IC_{id}"), "body": body, "user": author,
           "html_url": format!("https://github.com/octo/app/pull/17#issuecomment-{id}"),
           "issue_url": "https://api.github.com/repos/octo/app/issues/17",
           "url": format!("https://api.github.com/repos/octo/app/issues/comments/{id}"),
           "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z",
           "author_association": "NONE", "performed_via_github_app": null})
}

fn github_handler(state: Arc<Mutex<GitHubState>>) -> Handler {
    Arc::new(move |req, base| {
        let mut st = state.lock().unwrap();
        if st.forbidden {
            return (
                403,
                vec![],
                json!({"message": "Resource not accessible by integration"}).to_string(),
            );
        }
        let path = req.uri.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", "/repos/octo/app/issues/17/comments") => {
                let reviewer = user(99, "reviewer", "User");
                let mut all: Vec<Value> = (0..st.filler)
                    .map(|i| comment(1000 + i as u64, "looks good", &reviewer))
                    .collect();
                all.extend(st.comments.iter().map(|(id, b, u)| comment(*id, b, u)));
                let page: usize = req
                    .uri
                    .split(['?', '&'])
                    .find_map(|kv| kv.strip_prefix("page="))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let items: Vec<Value> = all.iter().skip((page - 1) * 100).take(100).cloned().collect();
                let mut headers = vec![];
                if all.len() > page * 100 {
                    let next = format!(
                        "<{base}/repos/octo/app/issues/17/comments?per_page=100&page={}>; rel=\"next\"",
                        page + 1
                    );
                    headers.push(("link".to_string(), next));
                }
                (200, headers, Value::Array(items).to_string())
            }
            ("GET", "/user") => match &st.token_user {
                Some(u) => (200, vec![], u.to_string()),
                None => (
                    403,
                    vec![],
                    json!({"message": "Resource not accessible by integration",
                           "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"})
                    .to_string(),
                ),
            },
            ("POST", "/repos/octo/app/issues/17/comments") => {
                let id = 5000 + st.comments.len() as u64;
                let body = req.json()["body"].as_str().unwrap_or_default().to_string();
                let author = st.token_user.clone().unwrap_or_else(actions_bot);
                st.comments.push((id, body.clone(), author.clone()));
                (201, vec![], comment(id, &body, &author).to_string())
            }
            ("POST", "/repos/octo/app/check-runs") => (201, vec![], json!({"id": 900}).to_string()),
            ("PATCH", "/repos/octo/app/check-runs/900") => (200, vec![], json!({"id": 900}).to_string()),
            ("PATCH", p) if p.starts_with("/repos/octo/app/issues/comments/") => {
                let id: u64 = p.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let body = req.json()["body"].as_str().unwrap_or_default().to_string();
                match st.comments.iter_mut().find(|(i, _, _)| *i == id) {
                    Some(c) => {
                        c.1 = body;
                        (200, vec![], comment(id, &c.1, &c.2).to_string())
                    }
                    None => (404, vec![], json!({"message": "Not Found"}).to_string()),
                }
            }
            _ => (405, vec![], json!({"message": "no such route in the mock"}).to_string()),
        }
    })
}

fn target(base: &str) -> GitHubTarget {
    GitHubTarget {
        api_url: base.to_string(),
        owner: "octo".into(),
        repo: "app".into(),
        pr_number: Some(17),
        head_sha: Some("headsha1".into()),
        details_url: Some("https://github.com/octo/app/actions/runs/1".into()),
    }
}

fn assert_github_headers(r: &Req) {
    assert_eq!(r.header("authorization"), Some("Bearer ghs_test"), "{r:?}");
    // GitHub's description declares application/json; a vnd.github Accept is rejected by validators.
    assert!(matches!(r.header("accept"), None | Some("application/json")), "{r:?}");
}

const COMMENT_ONLY: Publish = Publish {
    comment: true,
    check_run: false,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_sticky_comment_is_created_then_patched() {
    let state = Arc::new(Mutex::new(GitHubState::default()));
    let (base, log) = mock(github_handler(state.clone())).await;
    let token = Token::new("ghs_test");

    let first = github_pr::publish(&target(&base), &token, &view(2), COMMENT_ONLY).await;
    assert_eq!(first.warning, None);
    assert_eq!(first.comment, Some(CommentAction::Created(5000)));

    let mut second_view = view(2);
    second_view.verdict = Verdict::Success;
    let second = github_pr::publish(&target(&base), &token, &second_view, COMMENT_ONLY).await;
    assert_eq!(second.warning, None);
    assert_eq!(second.comment, Some(CommentAction::Updated(5000)));

    let log = log.lock().unwrap().clone();
    let calls: Vec<(String, String)> = log.iter().map(|r| (r.method.clone(), r.uri.clone())).collect();
    assert_eq!(
        calls,
        [
            ("GET".into(), "/repos/octo/app/issues/17/comments?per_page=100".into()),
            ("POST".into(), "/repos/octo/app/issues/17/comments".into()),
            ("GET".into(), "/repos/octo/app/issues/17/comments?per_page=100".into()),
            // Whose is the marked comment? (Only asked once one is found.)
            ("GET".into(), "/user".into()),
            ("PATCH".into(), "/repos/octo/app/issues/comments/5000".into()),
        ]
    );
    for r in &log {
        assert_github_headers(r);
    }
    let created = log.get(1).map(Req::json).unwrap_or_default();
    let keys: Vec<&String> = created.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    assert_eq!(keys, ["body"], "only `body` is sent");
    assert!(
        created["body"]
            .as_str()
            .unwrap_or("")
            .starts_with("<!-- asc-publish:com.example.demo -->\n")
    );
    let st = state.lock().unwrap();
    assert_eq!(st.comments.len(), 1, "one comment per app");
    assert!(st.comments[0].1.contains("**Published**"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_sticky_comment_found_on_a_later_page() {
    let state = Arc::new(Mutex::new(GitHubState {
        comments: vec![
            (
                41,
                "> quoting: <!-- asc-publish:com.example.demo -->".into(),
                actions_bot(),
            ),
            (42, "<!-- asc-publish:com.example.demo -->\nold".into(), actions_bot()),
        ],
        filler: 150,
        ..GitHubState::default()
    }));
    let (base, log) = mock(github_handler(state.clone())).await;
    let r = github_pr::publish(&target(&base), &Token::new("ghs_test"), &view(1), COMMENT_ONLY).await;
    assert_eq!(r.comment, Some(CommentAction::Updated(42)), "{r:?}");
    let log = log.lock().unwrap();
    assert_eq!(
        log.iter().filter(|r| r.method == "GET").count(),
        3,
        "two pages and /user"
    );
    assert!(log.iter().all(|r| r.method != "POST"));
    log.iter().for_each(assert_github_headers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_check_run_batches_120_annotations() {
    let state = Arc::new(Mutex::new(GitHubState::default()));
    let (base, log) = mock(github_handler(state)).await;
    let what = Publish {
        comment: false,
        check_run: true,
    };
    let r = github_pr::publish(&target(&base), &Token::new("ghs_test"), &view(120), what).await;
    assert_eq!(r.warning, None);
    assert_eq!(r.check_run_id, Some(900));

    let log = log.lock().unwrap().clone();
    let calls: Vec<(&str, &str)> = log.iter().map(|r| (r.method.as_str(), r.uri.as_str())).collect();
    assert_eq!(
        calls,
        [
            ("POST", "/repos/octo/app/check-runs"),
            ("PATCH", "/repos/octo/app/check-runs/900"),
            ("PATCH", "/repos/octo/app/check-runs/900"),
        ]
    );
    let bodies: Vec<Value> = log.iter().map(Req::json).collect();
    let counts: Vec<usize> = bodies
        .iter()
        .map(|b| b["output"]["annotations"].as_array().map(Vec::len).unwrap_or(0))
        .collect();
    assert_eq!(counts, [50, 50, 20]);

    // The create request has the shape the check-runs API requires.
    let create = &bodies[0];
    assert_eq!(create["name"], "TestFlight (com.example.demo)");
    assert_eq!(create["head_sha"], "headsha1");
    assert_eq!(create["status"], "completed");
    assert_eq!(create["conclusion"], "failure");
    assert_eq!(create["details_url"], "https://github.com/octo/app/actions/runs/1");
    assert!(
        create["output"]["title"]
            .as_str()
            .unwrap_or("")
            .starts_with("Rejected by validation")
    );
    assert!(create["output"]["summary"].as_str().unwrap_or("").len() <= 65_535);
    let first = &create["output"]["annotations"][0];
    assert_eq!(first["annotation_level"], "failure", "errors first");
    for key in ["path", "start_line", "end_line", "annotation_level", "message", "title"] {
        assert!(!first[key].is_null(), "annotation lacks {key}");
    }
    for b in &bodies[1..] {
        assert!(
            b.get("status").is_none() && b["output"]["summary"].is_string(),
            "updates append output only"
        );
    }
    // All 120 distinct annotations were sent exactly once.
    let mut titles: Vec<String> = bodies
        .iter()
        .flat_map(|b| b["output"]["annotations"].as_array().cloned().unwrap_or_default())
        .map(|a| a["title"].as_str().unwrap_or_default().to_string())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 120);
    log.iter().for_each(assert_github_headers);
}

/// Someone (another user, another app's bot) pre-posts a comment starting with our marker: it is
/// left untouched and a comment of our own is created, for an Actions token and a personal one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_never_edits_someone_elses_comment_carrying_the_marker() {
    let marker = "<!-- asc-publish:com.example.demo -->";
    let planted = format!("{marker}\n[Download the build](https://evil.example)");
    for token_user in [None, Some(user(7, "releaser", "User"))] {
        let state = Arc::new(Mutex::new(GitHubState {
            comments: vec![
                (61, planted.clone(), user(666, "mallory", "User")),
                (62, planted.clone(), user(667, "other-app[bot]", "Bot")),
                // The same login as ours but not a Bot account, or our Bot name under another id.
                (63, planted.clone(), user(668, "github-actions[bot]", "User")),
            ],
            token_user: token_user.clone(),
            ..GitHubState::default()
        }));
        let (base, _log) = mock(github_handler(state.clone())).await;
        let r = github_pr::publish(&target(&base), &Token::new("ghs_test"), &view(1), COMMENT_ONLY).await;
        assert_eq!(r.warning, None, "{token_user:?}");
        let created = match r.comment {
            Some(CommentAction::Created(id)) => id,
            other => panic!("{token_user:?}: want a new comment, got {other:?}"),
        };
        let untouched = state.lock().unwrap().comments[..3].iter().all(|c| c.1 == planted);
        assert!(untouched, "{token_user:?}: a planted comment was edited");
        // The next run finds and updates its own comment, never the planted ones.
        let again = github_pr::publish(&target(&base), &Token::new("ghs_test"), &view(2), COMMENT_ONLY).await;
        assert_eq!(again.comment, Some(CommentAction::Updated(created)), "{token_user:?}");
        let st = state.lock().unwrap();
        assert!(st.comments[..3].iter().all(|c| c.1 == planted));
        assert_eq!(st.comments.len(), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_read_only_token_is_one_warning() {
    let state = Arc::new(Mutex::new(GitHubState {
        forbidden: true,
        ..GitHubState::default()
    }));
    let (base, _log) = mock(github_handler(state)).await;
    let what = Publish {
        comment: true,
        check_run: true,
    };
    let r = github_pr::publish(&target(&base), &Token::new("ghs_test"), &view(3), what).await;
    assert_eq!(r.comment, None);
    assert_eq!(r.check_run_id, None);
    let w = r.warning.unwrap_or_default();
    assert_eq!(w.lines().count(), 1, "{w}");
    assert!(w.contains("HTTP 403 Resource not accessible by integration"), "{w}");
    assert!(w.contains("pull-requests: write") && w.contains("checks: write"), "{w}");
    assert!(!w.contains("ghs_test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_unreachable_api_is_a_warning_too() {
    // Bind then drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = github_pr::publish(
        &target(&format!("http://127.0.0.1:{port}")),
        &Token::new("t"),
        &view(1),
        COMMENT_ONLY,
    )
    .await;
    assert!(r.warning.is_some());
}

/// GitHub's own API description (a trimmed `@octokit/openapi`, see
/// tests/fixtures/github-openapi-subset.md) and a small JSON Schema checker for the keywords it uses
/// in these request bodies.
mod openapi {
    use serde_json::Value;

    pub fn spec() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/github-openapi-subset.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The operation whose path template matches `path` (`{x}` matches one segment).
    pub fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Option<&'a Value> {
        let segs: Vec<&str> = path.split('/').collect();
        spec["paths"].as_object()?.iter().find_map(|(template, ops)| {
            let t: Vec<&str> = template.split('/').collect();
            let matches = t.len() == segs.len()
                && t.iter()
                    .zip(&segs)
                    .all(|(a, b)| (a.starts_with('{') && a.ends_with('}')) || a == b);
            if matches {
                ops.get(method.to_ascii_lowercase())
            } else {
                None
            }
        })
    }

    /// Errors of `body` against the operation's JSON request schema (empty when valid).
    pub fn check_request(spec: &Value, op: &Value, body: &Value) -> Vec<String> {
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let mut errors = Vec::new();
        check(spec, schema, body, "$", &mut errors);
        errors
    }

    fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/")
                .map(|p| p.split('/').fold(spec, |node, key| &node[key]))
                .unwrap_or(&Value::Null),
            None => schema,
        }
    }

    fn type_ok(t: &str, v: &Value) -> bool {
        match t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            "null" => v.is_null(),
            _ => true,
        }
    }

    fn check(spec: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = resolve(spec, schema);
        match &schema["type"] {
            Value::String(t) if !(type_ok(t, v) || (v.is_null() && schema["nullable"] == true)) => {
                errors.push(format!("{at}: expected {t}, got {v}"));
                return;
            }
            Value::Array(ts) if !ts.iter().any(|t| t.as_str().is_some_and(|t| type_ok(t, v))) => {
                errors.push(format!("{at}: expected one of {ts:?}"));
                return;
            }
            _ => {}
        }
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(v) {
                errors.push(format!("{at}: {v} is not one of {options:?}"));
            }
        }
        if let (Some(max), Some(s)) = (schema["maxLength"].as_u64(), v.as_str()) {
            if s.chars().count() as u64 > max {
                errors.push(format!("{at}: longer than {max}"));
            }
        }
        if let Some(items) = v.as_array() {
            if let Some(max) = schema["maxItems"].as_u64() {
                if items.len() as u64 > max {
                    errors.push(format!("{at}: {} items, at most {max}", items.len()));
                }
            }
            if let Some(min) = schema["minItems"].as_u64() {
                if (items.len() as u64) < min {
                    errors.push(format!("{at}: fewer than {min} items"));
                }
            }
            for (i, item) in items.iter().enumerate() {
                check(spec, &schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
        if let Some(obj) = v.as_object() {
            for req in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !obj.contains_key(req) {
                    errors.push(format!("{at}: missing required `{req}`"));
                }
            }
            let props = schema["properties"].as_object();
            for (k, val) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(spec, s, val, &format!("{at}.{k}"), errors),
                    None if schema["additionalProperties"] == false => {
                        errors.push(format!("{at}: unknown property `{k}`"))
                    }
                    None => {}
                }
            }
        }
        let passes = |s: &Value| {
            let mut e = Vec::new();
            check(spec, s, v, at, &mut e);
            e.is_empty()
        };
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                check(spec, s, v, at, errors);
            }
        }
        if let Some(any) = schema["anyOf"].as_array() {
            if !any.iter().any(passes) {
                errors.push(format!("{at}: matches none of anyOf"));
            }
        }
        if let Some(one) = schema["oneOf"].as_array() {
            if one.iter().filter(|s| passes(s)).count() != 1 {
                errors.push(format!("{at}: does not match exactly one of oneOf"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_requests_match_githubs_api_description() {
    let spec = openapi::spec();
    let state = Arc::new(Mutex::new(GitHubState::default()));
    let (base, log) = mock(github_handler(state)).await;
    let token = Token::new("ghs_test");
    let all = Publish {
        comment: true,
        check_run: true,
    };
    let mut v = view(120);
    v.findings[0].message = "m".repeat(70_000);
    github_pr::publish(&target(&base), &token, &v, all).await;
    github_pr::publish(&target(&base), &token, &view(3), all).await;

    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.len(),
        2 + 3 + 3 + 1,
        "list+create, check run x3, list+user+patch, check run"
    );
    for r in &log {
        let path = r.uri.split('?').next().unwrap_or("");
        let op = openapi::operation(&spec, &r.method, path)
            .unwrap_or_else(|| panic!("{} {path} is not in GitHub's API description", r.method));
        if r.method != "GET" {
            let errors = openapi::check_request(&spec, op, &r.json());
            assert!(errors.is_empty(), "{} {path}: {errors:#?}", r.method);
        }
    }
    // The checker itself catches what the API rejects.
    let create = openapi::operation(&spec, "POST", "/repos/o/r/check-runs").unwrap();
    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}))
        .collect();
    let bad = json!({"name": "x", "head_sha": "s", "status": "done",
                     "output": {"title": "t", "summary": "s", "annotations": too_many}});
    let errors = openapi::check_request(&spec, create, &bad);
    assert!(errors.iter().any(|e| e.contains("status")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("51 items")), "{errors:?}");
    assert!(
        openapi::operation(&spec, "POST", "/repos/o/r/issues/comments/1").is_none(),
        "POST update is undefined"
    );
}
