//! GitHub: the sticky PR comment and the check run, through octocrab.
//!
//! The comment is found by its hidden marker and updated with `PATCH
//! /repos/{o}/{r}/issues/comments/{id}` (octocrab's `update_comment` sends POST, which GitHub's
//! API description does not define). The check run is created with the first 50 annotations and
//! PATCHed with the rest, 50 at a time (the API's per-request maximum).

use std::time::Duration;

use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::{Deserialize, Serialize};

use super::context::GitHubContext;
use super::{CallError, CommentAction, ForgeReport, Token, is_sticky, one_warning};
use crate::report::view::{GroupOutcome, Level, RunView, Verdict};
use crate::report::{Annotation, annotations, markdown};

/// GitHub accepts at most this many annotations per check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Comment pages of 100 read before giving up on finding the sticky one (a PR with 1000+ comments
/// gets a new comment rather than an unbounded crawl).
pub const MAX_COMMENT_PAGES: usize = 10;
/// Name of the check run (one per app, so the bundle id is appended).
pub const CHECK_NAME: &str = "TestFlight";

const PERMISSION_HINT: &str = "Give the job `permissions: pull-requests: write` and `checks: write`; pull requests \
                               from forks only get a read-only token, so their report is in the job summary only.";

/// Where to publish: the repository, the PR and the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubTarget {
    /// REST base (`GITHUB_API_URL`); tests point it at loopback, GHES at `https://host/api/v3`.
    pub api_url: String,
    pub owner: String,
    pub repo: String,
    pub pr_number: Option<u64>,
    /// PR head commit (or the pushed commit) for the check run.
    pub head_sha: Option<String>,
    /// Link from the check run to the workflow run.
    pub details_url: Option<String>,
}

impl GitHubTarget {
    pub fn from_context(ctx: &GitHubContext) -> Option<Self> {
        let (owner, repo) = ctx.owner_repo()?;
        Some(GitHubTarget {
            api_url: ctx.api_url.clone(),
            owner: owner.to_string(),
            repo: repo.to_string(),
            pr_number: ctx.pr_number,
            head_sha: ctx.check_sha().map(str::to_string),
            details_url: ctx.run_url(),
        })
    }
}

/// What to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    pub comment: bool,
    pub check_run: bool,
}

/// Publish the sticky comment and the check run. Never fails: problems come back as one warning.
pub async fn publish(target: &GitHubTarget, token: &Token, view: &RunView, what: Publish) -> ForgeReport {
    let mut report = ForgeReport::default();
    let gh = match client(&target.api_url, token) {
        Ok(gh) => gh,
        Err(e) => {
            report.warning = one_warning(&[("GitHub client", e)], PERMISSION_HINT);
            return report;
        }
    };
    let body = markdown::render(view);
    let mut failures = Vec::new();
    if what.comment {
        if let Some(pr) = target.pr_number {
            match sticky_comment(&gh, target, pr, &markdown::marker(&view.bundle_id), &body).await {
                Ok(action) => report.comment = Some(action),
                Err(e) => failures.push(("PR comment", e)),
            }
        }
    }
    if what.check_run {
        if let Some(sha) = &target.head_sha {
            match check_run(&gh, target, sha, view, &body).await {
                Ok(id) => report.check_run_id = Some(id),
                Err(e) => failures.push(("check run", e)),
            }
        }
    }
    report.warning = one_warning(&failures, PERMISSION_HINT);
    report
}

fn client(api_url: &str, token: &Token) -> Result<Octocrab, CallError> {
    Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| CallError::Other(format!("invalid GITHUB_API_URL: {e}")))?
        .personal_token(token.expose().to_string())
        // POSTs are not idempotent (a retry could post the comment twice); reporting is best effort.
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(Duration::from_secs(15)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| CallError::Other(format!("cannot build the GitHub client: {e}")))
}

fn classify(e: octocrab::Error) -> CallError {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            if matches!(status, 401 | 403 | 404) {
                CallError::Denied {
                    status,
                    message: source.message,
                }
            } else {
                CallError::Other(format!("HTTP {status} {}", source.message))
            }
        }
        other => CallError::Other(other.to_string()),
    }
}

/// Only the fields we read; the full model is large and versioned.
#[derive(Debug, Deserialize)]
struct CommentRef {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    /// The author (`null` for a deleted account).
    #[serde(default)]
    user: Option<UserRef>,
}

/// GitHub's `simple-user`: the fields that identify an author.
#[derive(Debug, Deserialize)]
struct UserRef {
    id: u64,
    #[serde(default)]
    login: String,
    #[serde(default, rename = "type")]
    kind: String,
}

/// The login GitHub gives comments made with an Actions `GITHUB_TOKEN`.
pub const ACTIONS_BOT_LOGIN: &str = "github-actions[bot]";

/// Who the token belongs to, so only our own sticky comment is ever edited (anyone can post a
/// comment starting with the marker).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Me {
    /// A personal (or user-to-server) token: `GET /user` answers with the account.
    User(u64),
    /// An Actions `GITHUB_TOKEN` (an app installation token): `GET /user` is refused with 403,
    /// and its comments are authored by the `github-actions[bot]` Bot account.
    ActionsBot,
}

impl Me {
    fn wrote(&self, c: &CommentRef) -> bool {
        match (self, &c.user) {
            (Me::User(id), Some(u)) => u.id == *id,
            (Me::ActionsBot, Some(u)) => u.login == ACTIONS_BOT_LOGIN && u.kind == "Bot",
            (_, None) => false,
        }
    }
}

async fn whoami(gh: &Octocrab) -> Result<Me, CallError> {
    match gh.get::<UserRef, _, ()>("/user", None).await {
        Ok(u) => Ok(Me::User(u.id)),
        Err(e) => match classify(e) {
            CallError::Denied { status: 401 | 403, .. } => Ok(Me::ActionsBot),
            other => Err(other),
        },
    }
}

#[derive(Debug, Deserialize)]
struct IdOnly {
    id: u64,
}

#[derive(Serialize)]
struct BodyOnly<'a> {
    body: &'a str,
}

#[derive(Serialize)]
struct ListParams {
    per_page: u8,
}

/// Update the comment carrying `marker`, or create it.
async fn sticky_comment(
    gh: &Octocrab,
    t: &GitHubTarget,
    pr: u64,
    marker: &str,
    body: &str,
) -> Result<CommentAction, CallError> {
    let route = format!("/repos/{}/{}/issues/{pr}/comments", t.owner, t.repo);
    let mut page: octocrab::Page<CommentRef> = gh
        .get(&route, Some(&ListParams { per_page: 100 }))
        .await
        .map_err(classify)?;
    let mut existing = None;
    // Asked only when a comment carries the marker: a first run costs no extra request.
    let mut me: Option<Me> = None;
    'pages: for _ in 0..MAX_COMMENT_PAGES {
        for c in page.items.iter().filter(|c| is_sticky(c.body.as_deref(), marker)) {
            let who = match &me {
                Some(m) => m,
                None => me.insert(whoami(gh).await?),
            };
            // Someone else's comment with our marker is left alone; ours gets a new one.
            if who.wrote(c) {
                existing = Some(c.id);
                break 'pages;
            }
        }
        match gh.get_page::<CommentRef>(&page.next).await.map_err(classify)? {
            Some(next) => page = next,
            None => break,
        }
    }
    match existing {
        Some(id) => {
            let route = format!("/repos/{}/{}/issues/comments/{id}", t.owner, t.repo);
            let _: IdOnly = gh.patch(route, Some(&BodyOnly { body })).await.map_err(classify)?;
            Ok(CommentAction::Updated(id))
        }
        None => {
            let created: IdOnly = gh.post(route, Some(&BodyOnly { body })).await.map_err(classify)?;
            Ok(CommentAction::Created(created.id))
        }
    }
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CheckAnnotation {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// `notice`, `warning` or `failure`.
    pub annotation_level: &'static str,
    pub message: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct CheckOutput<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub annotations: &'a [CheckAnnotation],
}

#[derive(Debug, Serialize)]
struct CreateCheckRun<'a> {
    name: String,
    head_sha: &'a str,
    status: &'static str,
    conclusion: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details_url: Option<&'a str>,
    output: CheckOutput<'a>,
}

#[derive(Debug, Serialize)]
struct UpdateCheckRun<'a> {
    output: CheckOutput<'a>,
}

/// success when published, failure when rejected or failed, neutral when published but a group
/// could not be assigned.
pub fn conclusion(view: &RunView) -> &'static str {
    match &view.verdict {
        Verdict::Success
            if view
                .groups
                .iter()
                .any(|g| matches!(g.outcome, GroupOutcome::Failed { .. })) =>
        {
            "neutral"
        }
        Verdict::Success => "success",
        Verdict::RejectedByValidation | Verdict::RejectedByApple | Verdict::Failed { .. } => "failure",
    }
}

fn app_label(view: &RunView) -> &str {
    if view.app_name.is_empty() {
        &view.bundle_id
    } else {
        &view.app_name
    }
}

fn clip(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Annotations in the check-run shape. Paths are inside the IPA, not the repository, so GitHub
/// lists them on the check run rather than on the diff; whole-build messages use the repo root.
pub fn check_annotations(list: &[Annotation]) -> Vec<CheckAnnotation> {
    list.iter()
        .map(|a| CheckAnnotation {
            path: if a.path.is_empty() {
                ".".to_string()
            } else {
                clip(&a.path, 1000)
            },
            start_line: 1,
            end_line: 1,
            annotation_level: match a.level {
                Level::Error => "failure",
                Level::Warning => "warning",
                Level::Notice => "notice",
            },
            message: clip(&a.message, 4000),
            title: clip(&a.title, 255),
        })
        .collect()
}

/// Create the completed check run with the first batch, then append the remaining batches.
async fn check_run(
    gh: &Octocrab,
    t: &GitHubTarget,
    sha: &str,
    view: &RunView,
    summary: &str,
) -> Result<u64, CallError> {
    let all = check_annotations(&annotations(view));
    let mut batches = all.chunks(ANNOTATIONS_PER_REQUEST);
    let title = clip(
        &format!(
            "{}: {} {} ({})",
            view.verdict.word(),
            app_label(view),
            view.version,
            view.build_number
        ),
        255,
    );
    let create = CreateCheckRun {
        name: format!("{CHECK_NAME} ({})", view.bundle_id),
        head_sha: sha,
        status: "completed",
        conclusion: conclusion(view),
        details_url: t.details_url.as_deref(),
        output: CheckOutput {
            title: &title,
            summary,
            annotations: batches.next().unwrap_or_default(),
        },
    };
    let route = format!("/repos/{}/{}/check-runs", t.owner, t.repo);
    let run: IdOnly = gh.post(route, Some(&create)).await.map_err(classify)?;
    let route = format!("/repos/{}/{}/check-runs/{}", t.owner, t.repo, run.id);
    for batch in batches {
        let update = UpdateCheckRun {
            output: CheckOutput {
                title: &title,
                summary,
                annotations: batch,
            },
        };
        let _: IdOnly = gh.patch(&route, Some(&update)).await.map_err(classify)?;
    }
    Ok(run.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;
    use crate::report::view::{GroupKind, GroupResult};

    #[test]
    fn conclusions() {
        let mut v = sample::view();
        assert_eq!(conclusion(&v), "neutral");
        v.groups = vec![GroupResult {
            name: "a".into(),
            kind: GroupKind::Internal,
            outcome: GroupOutcome::Added,
        }];
        assert_eq!(conclusion(&v), "success");
        v.verdict = Verdict::RejectedByApple;
        assert_eq!(conclusion(&v), "failure");
    }

    #[test]
    fn annotation_levels_and_paths() {
        let a = check_annotations(&annotations(&sample::view()));
        assert_eq!(a.first().map(|a| a.annotation_level), Some("failure"));
        assert!(
            a.iter()
                .any(|a| a.path == "." && a.title.starts_with("App Store Connect"))
        );
    }

    #[test]
    fn target_from_context_needs_a_repository() {
        let ctx = GitHubContext {
            repository: Some("o/r".into()),
            api_url: "http://127.0.0.1:1".into(),
            server_url: "https://github.com".into(),
            run_id: Some("9".into()),
            event_name: None,
            event_path: None,
            pr_number: Some(3),
            head_sha: Some("h".into()),
            sha: Some("m".into()),
            output_path: None,
            summary_path: None,
        };
        let t = GitHubTarget::from_context(&ctx).unwrap_or_else(|| panic!("target"));
        assert_eq!(
            (t.owner.as_str(), t.repo.as_str(), t.head_sha.as_deref()),
            ("o", "r", Some("h"))
        );
        assert_eq!(t.details_url.as_deref(), Some("https://github.com/o/r/actions/runs/9"));
        assert_eq!(
            GitHubTarget::from_context(&GitHubContext {
                repository: None,
                ..ctx
            }),
            None
        );
    }
}
