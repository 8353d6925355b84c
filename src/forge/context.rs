//! Where a pull/merge request report goes: the run's GitHub or GitLab facts, which `ci::detect`
//! reads from the environment.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubContext {
    /// `owner/repo`.
    pub repository: Option<String>,
    /// REST base, `GITHUB_API_URL` (GitHub Enterprise: `https://host/api/v3`).
    pub api_url: String,
    pub server_url: String,
    pub run_id: Option<String>,
    pub event_name: Option<String>,
    pub event_path: Option<PathBuf>,
    /// The pull request this run belongs to (`pull_request.number`, or `issue.number` of a PR comment).
    pub pr_number: Option<u64>,
    /// The PR's head commit (`pull_request.head.sha`); `GITHUB_SHA` is the test merge commit.
    pub head_sha: Option<String>,
    /// `GITHUB_SHA`, for check runs outside pull requests.
    pub sha: Option<String>,
    pub output_path: Option<PathBuf>,
    pub summary_path: Option<PathBuf>,
}

impl GitHubContext {
    pub fn owner_repo(&self) -> Option<(&str, &str)> {
        let (o, r) = self.repository.as_deref()?.split_once('/')?;
        (!o.is_empty() && !r.is_empty()).then_some((o, r))
    }

    /// The commit a check run belongs on: the PR head if there is one, else `GITHUB_SHA`.
    pub fn check_sha(&self) -> Option<&str> {
        self.head_sha.as_deref().or(self.sha.as_deref())
    }

    /// Link to this workflow run.
    pub fn run_url(&self) -> Option<String> {
        Some(format!(
            "{}/{}/actions/runs/{}",
            self.server_url.trim_end_matches('/'),
            self.repository.as_deref()?,
            self.run_id.as_deref()?
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabContext {
    /// `CI_API_V4_URL` (ends in `/api/v4`).
    pub api_v4_url: Option<String>,
    pub project_id: Option<String>,
    /// Only set in merge-request pipelines.
    pub mr_iid: Option<u64>,
    pub job_url: Option<String>,
    pub commit_sha: Option<String>,
}
