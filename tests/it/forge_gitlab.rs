//! The GitLab reporter against a loopback mock of the merge request notes API: methods, paths,
//! the PRIVATE-TOKEN header, the sticky note, and graceful degradation when the token cannot write.

use std::sync::{Arc, Mutex};

use crate::support::forge_mock::{Handler, mock, view};
use asc_publish::forge::gitlab_mr::{self, GitLabTarget};
use asc_publish::forge::{CommentAction, Token};
use serde_json::{Value, json};

/// The user the test token belongs to (a project access token's bot user).
const TOKEN_USER: u64 = 42;

/// GitLab's `author` of a note (`UserBasic`).
fn author(id: u64) -> Value {
    json!({"id": id, "username": format!("user{id}"), "name": format!("User {id}"), "state": "active",
           "web_url": format!("https://gitlab.example.com/user{id}")})
}

/// A stateful fake of GitLab's merge request notes: (id, body, author id).
fn gitlab_handler(notes: Arc<Mutex<Vec<(u64, String, u64)>>>, forbidden: bool) -> Handler {
    Arc::new(move |req, _| {
        if forbidden {
            return (403, vec![], json!({"message": "403 Forbidden"}).to_string());
        }
        let mut notes = notes.lock().unwrap();
        let path = req.uri.split('?').next().unwrap_or("");
        let note = |id: u64, b: &str, a: u64| {
            json!({"id": id, "type": null, "body": b, "author": author(a), "system": false,
                   "noteable_type": "MergeRequest", "noteable_iid": 7, "created_at": "2026-11-01T10:00:00.000Z"})
        };
        match (req.method.as_str(), path) {
            ("GET", "/api/v4/user") => (200, vec![], author(TOKEN_USER).to_string()),
            ("GET", "/api/v4/projects/99/merge_requests/7/notes") => {
                let items: Vec<Value> = notes.iter().map(|(id, b, a)| note(*id, b, *a)).collect();
                (
                    200,
                    vec![("x-next-page".into(), String::new())],
                    Value::Array(items).to_string(),
                )
            }
            ("POST", "/api/v4/projects/99/merge_requests/7/notes") => {
                let id = 300 + notes.len() as u64;
                let body = req.json()["body"].as_str().unwrap_or_default().to_string();
                notes.push((id, body.clone(), TOKEN_USER));
                (201, vec![], note(id, &body, TOKEN_USER).to_string())
            }
            ("PUT", p) if p.starts_with("/api/v4/projects/99/merge_requests/7/notes/") => {
                let id: u64 = p.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                match notes.iter_mut().find(|(i, _, _)| *i == id) {
                    Some(n) => {
                        n.1 = req.json()["body"].as_str().unwrap_or_default().to_string();
                        (200, vec![], note(id, &n.1, n.2).to_string())
                    }
                    None => (404, vec![], json!({"message": "404 Not found"}).to_string()),
                }
            }
            _ => (405, vec![], "{}".into()),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_note_is_created_then_updated() {
    let notes = Arc::new(Mutex::new(vec![(1, "unrelated".to_string(), 7)]));
    let (base, log) = mock(gitlab_handler(notes.clone(), false)).await;
    let t = GitLabTarget {
        api_v4_url: format!("{base}/api/v4"),
        project_id: "99".into(),
        mr_iid: 7,
    };
    let token = Token::new("glpat-test");
    let first = gitlab_mr::publish(&t, &token, &view(1)).await;
    assert_eq!(
        (first.comment, first.warning),
        (Some(CommentAction::Created(301)), None)
    );
    let second = gitlab_mr::publish(&t, &token, &view(2)).await;
    assert_eq!(
        (second.comment, second.warning),
        (Some(CommentAction::Updated(301)), None)
    );

    let log = log.lock().unwrap().clone();
    let calls: Vec<(&str, &str)> = log.iter().map(|r| (r.method.as_str(), r.uri.as_str())).collect();
    assert_eq!(
        calls,
        [
            ("GET", "/api/v4/projects/99/merge_requests/7/notes?per_page=100&page=1"),
            ("POST", "/api/v4/projects/99/merge_requests/7/notes"),
            ("GET", "/api/v4/projects/99/merge_requests/7/notes?per_page=100&page=1"),
            // Whose is the marked note? (Only asked once one is found.)
            ("GET", "/api/v4/user"),
            ("PUT", "/api/v4/projects/99/merge_requests/7/notes/301"),
        ]
    );
    for r in &log {
        assert_eq!(r.header("private-token"), Some("glpat-test"));
        assert_eq!(r.header("authorization"), None);
    }
    assert_eq!(log[1].header("content-type"), Some("application/json"));
    assert!(
        log[4].json()["body"]
            .as_str()
            .unwrap_or("")
            .starts_with("<!-- asc-publish:com.example.demo -->")
    );
    assert_eq!(notes.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_forbidden_is_one_warning() {
    let (base, _log) = mock(gitlab_handler(Arc::default(), true)).await;
    let t = GitLabTarget {
        api_v4_url: format!("{base}/api/v4"),
        project_id: "99".into(),
        mr_iid: 7,
    };
    let r = gitlab_mr::publish(&t, &Token::new("glpat-test"), &view(1)).await;
    assert_eq!(r.comment, None);
    let w = r.warning.unwrap_or_default();
    assert!(w.contains("HTTP 403 403 Forbidden") && w.contains("scope `api`"), "{w}");
    assert!(!w.contains("glpat-test"));
}

/// Someone pre-posts a note starting with our marker: it is left untouched and a note of our own
/// is created; the next run updates ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_never_edits_someone_elses_note_carrying_the_marker() {
    let planted = "<!-- asc-publish:com.example.demo -->\n[Download the build](https://evil.example)".to_string();
    let notes = Arc::new(Mutex::new(vec![(5, planted.clone(), 666)]));
    let (base, _log) = mock(gitlab_handler(notes.clone(), false)).await;
    let t = GitLabTarget {
        api_v4_url: format!("{base}/api/v4"),
        project_id: "99".into(),
        mr_iid: 7,
    };
    let token = Token::new("glpat-test");
    let first = gitlab_mr::publish(&t, &token, &view(1)).await;
    assert_eq!(
        (first.comment, first.warning),
        (Some(CommentAction::Created(301)), None)
    );
    let second = gitlab_mr::publish(&t, &token, &view(2)).await;
    assert_eq!(
        (second.comment, second.warning),
        (Some(CommentAction::Updated(301)), None)
    );
    let notes = notes.lock().unwrap();
    assert_eq!(notes[0].1, planted, "the planted note was edited");
    assert_eq!(notes.len(), 2);
}
