//! Which CI system runs us, and what each one needs, from an injected environment map.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The environment the CI edges read: the one [`Env`](crate::env::Env), so detection is a pure
/// function of its input in tests.
pub type EnvMap = crate::env::Env;

/// What the forge reporters need of a GitHub / GitLab run; detected here, owned by `forge`.
pub use crate::forge::context::{GitHubContext, GitLabContext};

/// GitHub event payloads are small; a bigger file is not a payload we should parse.
const MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiContext {
    GitHub(GitHubContext),
    GitLab(GitLabContext),
    Bitrise(BitriseContext),
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitriseContext {
    /// `BITRISE_PULL_REQUEST`: the PR number, empty outside PR builds.
    pub pull_request: Option<u64>,
    pub build_url: Option<String>,
    pub deploy_dir: Option<PathBuf>,
}

fn get(env: &EnvMap, key: &str) -> Option<String> {
    env.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn number(env: &EnvMap, key: &str) -> Option<u64> {
    get(env, key).and_then(|v| v.parse().ok())
}

/// Detect the CI system from `env`. GitHub wins over GitLab over Bitrise when several are set
/// (a GitLab runner inside a GitHub job is not a thing; a stray variable is).
pub fn detect(env: &EnvMap) -> CiContext {
    let is_true = |k: &str| get(env, k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if is_true("GITHUB_ACTIONS") {
        CiContext::GitHub(github(env))
    } else if is_true("GITLAB_CI") {
        CiContext::GitLab(GitLabContext {
            api_v4_url: get(env, "CI_API_V4_URL"),
            project_id: get(env, "CI_PROJECT_ID"),
            mr_iid: number(env, "CI_MERGE_REQUEST_IID"),
            job_url: get(env, "CI_JOB_URL"),
            commit_sha: get(env, "CI_COMMIT_SHA"),
        })
    } else if is_true("BITRISE_IO") || get(env, "BITRISE_BUILD_NUMBER").is_some() {
        CiContext::Bitrise(BitriseContext {
            pull_request: number(env, "BITRISE_PULL_REQUEST"),
            build_url: get(env, "BITRISE_BUILD_URL"),
            deploy_dir: get(env, "BITRISE_DEPLOY_DIR").map(PathBuf::from),
        })
    } else {
        CiContext::Local
    }
}

fn github(env: &EnvMap) -> GitHubContext {
    let event_path = get(env, "GITHUB_EVENT_PATH").map(PathBuf::from);
    let event = event_path.as_deref().and_then(read_event);
    let pr = event.as_ref().and_then(|e| e.get("pull_request"));
    let pr_number = pr.and_then(|p| p.get("number")).and_then(|n| n.as_u64()).or_else(|| {
        // `issue_comment` on a PR: the issue is the PR.
        let issue = event.as_ref()?.get("issue")?;
        issue.get("pull_request")?;
        issue.get("number")?.as_u64()
    });
    let head_sha = pr
        .and_then(|p| p.pointer("/head/sha"))
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    GitHubContext {
        repository: get(env, "GITHUB_REPOSITORY"),
        api_url: get(env, "GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_string()),
        server_url: get(env, "GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".to_string()),
        run_id: get(env, "GITHUB_RUN_ID"),
        event_name: get(env, "GITHUB_EVENT_NAME"),
        event_path,
        pr_number,
        head_sha,
        sha: get(env, "GITHUB_SHA"),
        output_path: get(env, "GITHUB_OUTPUT").map(PathBuf::from),
        summary_path: get(env, "GITHUB_STEP_SUMMARY").map(PathBuf::from),
    }
}

/// The event payload, or `None` when it is missing, too big or not JSON (detection never fails).
fn read_event(path: &Path) -> Option<serde_json::Value> {
    let file = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    file.take(MAX_EVENT_BYTES + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > MAX_EVENT_BYTES {
        return None;
    }
    serde_json::from_slice(&buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn local_when_nothing_is_set() {
        assert_eq!(detect(&env(&[])), CiContext::Local);
        assert_eq!(detect(&env(&[("GITHUB_ACTIONS", "false")])), CiContext::Local);
    }

    #[test]
    fn github_pull_request_reads_head_sha_from_the_payload() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let event = dir.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"pull_request":{"number":17,"head":{"sha":"abc123"}},"after":"zzz"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_SHA", "merge999"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap_or_default()),
            ("GITHUB_OUTPUT", "/tmp/out"),
            ("GITHUB_STEP_SUMMARY", "/tmp/sum"),
        ]);
        let CiContext::GitHub(gh) = detect(&e) else {
            panic!("not github")
        };
        assert_eq!(gh.pr_number, Some(17));
        assert_eq!(gh.head_sha.as_deref(), Some("abc123"));
        assert_eq!(gh.check_sha(), Some("abc123"));
        assert_eq!(gh.api_url, "https://api.github.com");
        assert_eq!(gh.owner_repo(), Some(("octo", "app")));
        assert_eq!(
            gh.run_url().as_deref(),
            Some("https://github.com/octo/app/actions/runs/42")
        );
        assert_eq!(gh.output_path.as_deref(), Some(Path::new("/tmp/out")));
        assert_eq!(gh.summary_path.as_deref(), Some(Path::new("/tmp/sum")));
    }

    #[test]
    fn github_push_has_no_pr_and_uses_github_sha() {
        let e = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3"),
            ("GITHUB_SHA", "deadbeef"),
            ("GITHUB_EVENT_PATH", "/nonexistent/event.json"),
        ]);
        let CiContext::GitHub(gh) = detect(&e) else {
            panic!("not github")
        };
        assert_eq!(gh.pr_number, None);
        assert_eq!(gh.check_sha(), Some("deadbeef"));
        assert_eq!(gh.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(gh.owner_repo(), None);
    }

    #[test]
    fn github_issue_comment_on_a_pr() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let event = dir.path().join("event.json");
        std::fs::write(&event, r#"{"issue":{"number":5,"pull_request":{"url":"u"}}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let e = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap_or_default()),
        ]);
        let CiContext::GitHub(gh) = detect(&e) else {
            panic!("not github")
        };
        assert_eq!(gh.pr_number, Some(5));
        assert_eq!(gh.head_sha, None);
    }

    #[test]
    fn gitlab_merge_request_pipeline() {
        let e = env(&[
            ("GITLAB_CI", "true"),
            ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
            ("CI_PROJECT_ID", "99"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("CI_JOB_URL", "https://gitlab.example.com/j/1"),
        ]);
        let CiContext::GitLab(gl) = detect(&e) else {
            panic!("not gitlab")
        };
        assert_eq!(gl.mr_iid, Some(7));
        assert_eq!(gl.project_id.as_deref(), Some("99"));
        assert_eq!(gl.api_v4_url.as_deref(), Some("https://gitlab.example.com/api/v4"));
    }

    #[test]
    fn bitrise_by_flag_or_build_number() {
        let e = env(&[
            ("BITRISE_BUILD_NUMBER", "12"),
            ("BITRISE_PULL_REQUEST", ""),
            ("BITRISE_DEPLOY_DIR", "/d"),
        ]);
        let CiContext::Bitrise(b) = detect(&e) else {
            panic!("not bitrise")
        };
        assert_eq!(b.pull_request, None);
        assert_eq!(b.deploy_dir.as_deref(), Some(Path::new("/d")));
        let e = env(&[("BITRISE_IO", "true"), ("BITRISE_PULL_REQUEST", "3")]);
        let CiContext::Bitrise(b) = detect(&e) else {
            panic!("not bitrise")
        };
        assert_eq!(b.pull_request, Some(3));
    }

    #[test]
    fn oversized_or_garbage_payload_is_ignored() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let event = dir.path().join("event.json");
        std::fs::write(&event, b"\xff\x00not json").unwrap_or_else(|e| panic!("{e}"));
        let e = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap_or_default()),
        ]);
        let CiContext::GitHub(gh) = detect(&e) else {
            panic!("not github")
        };
        assert_eq!(gh.pr_number, None);
    }
}
