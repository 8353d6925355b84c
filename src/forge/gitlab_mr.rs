//! GitLab: the sticky merge request note, through the REST API with reqwest.
//!
//! `GET …/merge_requests/{iid}/notes?per_page=100` (following `X-Next-Page`, capped), then `PUT
//! …/notes/{id}` on the note carrying the marker, else `POST …/notes`. `CI_JOB_TOKEN` can only read
//! notes, so a project access token (`GITLAB_TOKEN` / `ASC_GITLAB_TOKEN`, scope `api`) is required.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::context::GitLabContext;
use super::{CallError, CommentAction, ForgeReport, Token, is_sticky, one_warning};
use crate::env::Env;
use crate::report::{RunView, markdown};

/// Note pages of 100 read before giving up on finding the sticky one.
pub const MAX_NOTE_PAGES: u32 = 10;

const PERMISSION_HINT: &str = "Use a project access token with scope `api` (role Reporter or higher) stored as a \
                               masked, unprotected CI/CD variable GITLAB_TOKEN.";

/// The merge request to comment on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabTarget {
    /// `CI_API_V4_URL`, e.g. `https://gitlab.com/api/v4`.
    pub api_v4_url: String,
    pub project_id: String,
    pub mr_iid: u64,
}

impl GitLabTarget {
    /// `None` outside merge request pipelines.
    pub fn from_context(ctx: &GitLabContext) -> Option<Self> {
        Some(GitLabTarget {
            api_v4_url: ctx.api_v4_url.clone()?,
            project_id: ctx.project_id.clone()?,
            mr_iid: ctx.mr_iid?,
        })
    }
}

/// The token that can write notes, or the one warning line explaining why there is none.
pub fn token_from_env(env: &Env) -> Result<Token, String> {
    let get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(t) = get("ASC_GITLAB_TOKEN").or_else(|| get("GITLAB_TOKEN")) {
        return Ok(Token::new(t));
    }
    if get("CI_JOB_TOKEN").is_some() {
        return Err(format!(
            "asc-publish did not post the merge request note: CI_JOB_TOKEN can only read notes. {PERMISSION_HINT}"
        ));
    }
    Err(format!(
        "asc-publish did not post the merge request note: no GITLAB_TOKEN. {PERMISSION_HINT}"
    ))
}

#[derive(Debug, Deserialize)]
struct NoteRef {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    author: Option<UserRef>,
}

/// A note's author, and `GET /user`'s answer: the user (or the project/group access token's bot
/// user) the token belongs to.
#[derive(Debug, Deserialize)]
struct UserRef {
    id: u64,
}

#[derive(Serialize)]
struct BodyOnly<'a> {
    body: &'a str,
}

/// Create or update the sticky note. Never fails: problems come back as one warning.
pub async fn publish(target: &GitLabTarget, token: &Token, view: &RunView) -> ForgeReport {
    let body = markdown::render(view);
    let marker = markdown::marker(&view.bundle_id);
    let mut report = ForgeReport::default();
    match sticky_note(target, token, &marker, &body).await {
        Ok(action) => report.comment = Some(action),
        Err(e) => report.warning = one_warning(&[("merge request note", e)], PERMISSION_HINT),
    }
    report
}

fn notes_url(t: &GitLabTarget, note: Option<u64>) -> Result<url::Url, CallError> {
    let mut url =
        url::Url::parse(&t.api_v4_url).map_err(|e| CallError::Other(format!("invalid CI_API_V4_URL: {e}")))?;
    {
        let mut seg = url
            .path_segments_mut()
            .map_err(|()| CallError::Other("CI_API_V4_URL cannot be a base URL".to_string()))?;
        seg.pop_if_empty();
        // `push` percent-encodes, so a `group/project` path id becomes one segment.
        seg.extend([
            "projects",
            t.project_id.as_str(),
            "merge_requests",
            &t.mr_iid.to_string(),
            "notes",
        ]);
        if let Some(id) = note {
            seg.push(&id.to_string());
        }
    }
    Ok(url)
}

async fn check(resp: reqwest::Response) -> Result<reqwest::Response, CallError> {
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .map(|m| m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()))
        })
        .unwrap_or_else(|| text.chars().take(200).collect());
    if resp_is_redirect(status) {
        return Err(CallError::Other(format!(
            "HTTP {status}: a redirect to another host was not followed (the token is only sent to CI_API_V4_URL)"
        )));
    }
    if matches!(status, 401 | 403 | 404) {
        Err(CallError::Denied { status, message })
    } else {
        Err(CallError::Other(format!("HTTP {status} {message}")))
    }
}

/// An authenticated GET, its status checked.
async fn get(http: &reqwest::Client, url: url::Url, token: &Token) -> Result<reqwest::Response, CallError> {
    let resp = http
        .get(url)
        .header("PRIVATE-TOKEN", token.expose())
        .send()
        .await
        .map_err(net)?;
    check(resp).await
}

/// The id of the user the token belongs to (`GET /user`).
async fn whoami(http: &reqwest::Client, t: &GitLabTarget, token: &Token) -> Result<u64, CallError> {
    let mut url =
        url::Url::parse(&t.api_v4_url).map_err(|e| CallError::Other(format!("invalid CI_API_V4_URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| CallError::Other("CI_API_V4_URL cannot be a base URL".to_string()))?
        .pop_if_empty()
        .push("user");
    let user: UserRef = get(http, url, token).await?.json().await.map_err(net)?;
    Ok(user.id)
}

fn resp_is_redirect(status: u16) -> bool {
    (300..400).contains(&status)
}

fn net(e: reqwest::Error) -> CallError {
    // reqwest errors carry the URL, which holds no secret here (the token is a header).
    CallError::Other(e.to_string())
}

async fn sticky_note(t: &GitLabTarget, token: &Token, marker: &str, body: &str) -> Result<CommentAction, CallError> {
    let http = reqwest::Client::builder()
        .redirect(super::same_origin_redirects())
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(net)?;
    let list = notes_url(t, None)?;
    let mut existing = None;
    // Asked only when a note carries the marker: a first run costs no extra request.
    let mut me: Option<u64> = None;
    let mut page = 1u32;
    while page <= MAX_NOTE_PAGES {
        let mut url = list.clone();
        url.query_pairs_mut()
            .append_pair("per_page", "100")
            .append_pair("page", &page.to_string());
        let resp = get(&http, url, token).await?;
        let next = resp
            .headers()
            .get("x-next-page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let notes: Vec<NoteRef> = resp.json().await.map_err(net)?;
        // Only our own note is edited: anyone can post one starting with the marker.
        let mut mine = None;
        for n in notes.iter().filter(|n| is_sticky(n.body.as_deref(), marker)) {
            let me = match me {
                Some(id) => id,
                None => *me.insert(whoami(&http, t, token).await?),
            };
            if n.author.as_ref().is_some_and(|a| a.id == me) {
                mine = Some(n.id);
                break;
            }
        }
        if mine.is_some() {
            existing = mine;
            break;
        }
        match next {
            Some(n) if n > page => page = n,
            _ => break,
        }
    }
    let (req, action) = match existing {
        Some(id) => (http.put(notes_url(t, Some(id))?), CommentAction::Updated(id)),
        None => (http.post(list), CommentAction::Created(0)),
    };
    let resp = req
        .header("PRIVATE-TOKEN", token.expose())
        .json(&BodyOnly { body })
        .send()
        .await
        .map_err(net)?;
    let resp = check(resp).await?;
    match action {
        CommentAction::Created(_) => {
            let created: NoteRef = resp.json().await.map_err(net)?;
            Ok(CommentAction::Created(created.id))
        }
        updated => Ok(updated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn token_prefers_project_tokens_and_explains_the_job_token() {
        assert_eq!(
            token_from_env(&env(&[("GITLAB_TOKEN", "glpat-1")])).map(|t| t.expose().to_string()),
            Ok("glpat-1".into())
        );
        assert_eq!(
            token_from_env(&env(&[("GITLAB_TOKEN", "a"), ("ASC_GITLAB_TOKEN", "b")])).map(|t| t.expose().to_string()),
            Ok("b".into())
        );
        let w = token_from_env(&env(&[("CI_JOB_TOKEN", "job")]))
            .err()
            .unwrap_or_default();
        assert!(
            w.contains("CI_JOB_TOKEN can only read notes") && w.contains("scope `api`"),
            "{w}"
        );
        assert!(!w.contains("job\n"));
        assert!(token_from_env(&env(&[])).is_err());
    }

    #[test]
    fn urls_encode_the_project_path() {
        let t = GitLabTarget {
            api_v4_url: "https://gitlab.example.com/api/v4/".into(),
            project_id: "group/proj".into(),
            mr_iid: 7,
        };
        assert_eq!(
            notes_url(&t, Some(5)).map(|u| u.to_string()),
            Ok("https://gitlab.example.com/api/v4/projects/group%2Fproj/merge_requests/7/notes/5".into())
        );
    }
}
