//! The GitLab reporter against a loopback mock of the merge request notes API: methods, paths,
//! the PRIVATE-TOKEN header, the sticky note, and graceful degradation when the token cannot write.

mod forge_mock;

use std::sync::{Arc, Mutex};

use asc_publish::forge::gitlab_mr::{self, GitLabTarget};
use asc_publish::forge::{CommentAction, Token};
use forge_mock::{Handler, mock, view};
use serde_json::{Value, json};

/// A stateful fake of GitLab's merge request notes.
fn gitlab_handler(notes: Arc<Mutex<Vec<(u64, String)>>>, forbidden: bool) -> Handler {
    Arc::new(move |req, _| {
        if forbidden {
            return (403, vec![], json!({"message": "403 Forbidden"}).to_string());
        }
        let mut notes = notes.lock().unwrap();
        let path = req.uri.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", "/api/v4/projects/99/merge_requests/7/notes") => {
                let items: Vec<Value> = notes.iter().map(|(id, b)| json!({"id": id, "body": b})).collect();
                (
                    200,
                    vec![("x-next-page".into(), String::new())],
                    Value::Array(items).to_string(),
                )
            }
            ("POST", "/api/v4/projects/99/merge_requests/7/notes") => {
                let id = 300 + notes.len() as u64;
                notes.push((id, req.json()["body"].as_str().unwrap_or_default().to_string()));
                (201, vec![], json!({"id": id}).to_string())
            }
            ("PUT", p) if p.starts_with("/api/v4/projects/99/merge_requests/7/notes/") => {
                let id: u64 = p.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap_or(0);
                match notes.iter_mut().find(|(i, _)| *i == id) {
                    Some(n) => {
                        n.1 = req.json()["body"].as_str().unwrap_or_default().to_string();
                        (200, vec![], json!({"id": id}).to_string())
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
    let notes = Arc::new(Mutex::new(vec![(1, "unrelated".to_string())]));
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
            ("PUT", "/api/v4/projects/99/merge_requests/7/notes/301"),
        ]
    );
    for r in &log {
        assert_eq!(r.header("private-token"), Some("glpat-test"));
        assert_eq!(r.header("authorization"), None);
    }
    assert_eq!(log[1].header("content-type"), Some("application/json"));
    assert!(
        log[3].json()["body"]
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
