//! Tests for the CI publishing dispatcher (no network: no token, or no PR).

use std::path::PathBuf;

use super::*;
use crate::ci::detect::{BitriseContext, GitHubContext, GitLabContext};
use crate::report::sample;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    crate::runtime::build(crate::runtime::Threads::CurrentThread)
        .unwrap_or_else(|e| panic!("{e}"))
        .block_on(f)
}

fn github_ctx(dir: &std::path::Path, pr: Option<u64>) -> CiContext {
    CiContext::GitHub(GitHubContext {
        repository: Some("o/r".into()),
        api_url: "http://127.0.0.1:9".into(),
        server_url: "https://github.com".into(),
        run_id: Some("1".into()),
        event_name: Some("pull_request".into()),
        event_path: None,
        pr_number: pr,
        head_sha: Some("h".into()),
        sha: Some("m".into()),
        output_path: Some(dir.join("out")),
        summary_path: Some(dir.join("summary.md")),
    })
}

#[test]
fn report_modes_parse() {
    assert_eq!("auto".parse(), Ok(ReportMode::Auto));
    assert_eq!("github".parse(), Ok(ReportMode::GitHub));
    assert_eq!("none".parse(), Ok(ReportMode::None));
    assert!("slack".parse::<ReportMode>().is_err());
}

#[test]
fn github_writes_outputs_summary_and_annotations() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ctx = github_ctx(dir.path(), Some(4));
    let p =
        block_on(publish(&ctx, &EnvMap::new(), &sample::view(), ReportMode::Auto)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        p.log
            .starts_with("::group::asc-publish: 3 finding(s)\n::error file=Payload/Demo.app/Info.plist")
    );
    let outputs = std::fs::read_to_string(dir.path().join("out")).unwrap_or_default();
    assert!(outputs.contains("build-id<<ghadelimiter_"));
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_default();
    assert!(summary.starts_with("<!-- asc-publish:com.example.demo -->"));
    assert_eq!(p.warnings.len(), 1, "no token on a PR: {:?}", p.warnings);
    assert!(
        p.log
            .contains("::warning title=asc-publish report::asc-publish did not comment")
    );
    assert!(p.forge.is_none());
}

#[test]
fn github_none_mode_writes_outputs_only() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ctx = github_ctx(dir.path(), None);
    let p =
        block_on(publish(&ctx, &EnvMap::new(), &sample::view(), ReportMode::None)).unwrap_or_else(|e| panic!("{e}"));
    assert!(dir.path().join("out").exists());
    assert!(!dir.path().join("summary.md").exists());
    assert!(p.warnings.is_empty());
}

#[test]
fn github_unwritable_output_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ctx = github_ctx(&dir.path().join("missing/dir"), None);
    assert!(block_on(publish(&ctx, &EnvMap::new(), &sample::view(), ReportMode::Auto)).is_err());
}

#[test]
fn gitlab_writes_dotenv_and_explains_the_job_token() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dotenv: PathBuf = dir.path().join("asc.env");
    let env: EnvMap = [
        ("ASC_PUBLISH_DOTENV".to_string(), dotenv.display().to_string()),
        ("CI_JOB_TOKEN".to_string(), "job".to_string()),
    ]
    .into_iter()
    .collect();
    let ctx = CiContext::GitLab(GitLabContext {
        api_v4_url: Some("http://127.0.0.1:9/api/v4".into()),
        project_id: Some("1".into()),
        mr_iid: Some(2),
        job_url: None,
        commit_sha: None,
    });
    let p = block_on(publish(&ctx, &env, &sample::view(), ReportMode::Auto)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        std::fs::read_to_string(&dotenv)
            .unwrap_or_default()
            .contains("ASC_BUILD_ID=bld-1")
    );
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings
            .iter()
            .all(|w| w.contains("CI_JOB_TOKEN can only read notes"))
    );
}

#[test]
fn bitrise_without_envman_warns_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let env: EnvMap = [("PATH".to_string(), "/nonexistent".to_string())].into_iter().collect();
    let ctx = CiContext::Bitrise(BitriseContext {
        pull_request: None,
        build_url: None,
        deploy_dir: Some(dir.path().to_path_buf()),
    });
    let p = block_on(publish(&ctx, &env, &sample::view(), ReportMode::Auto)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.warnings.len(), 1);
    assert!(dir.path().join(bitrise::REPORT_FILE).exists());
}

#[test]
fn local_does_nothing() {
    let p = block_on(publish(
        &CiContext::Local,
        &EnvMap::new(),
        &sample::view(),
        ReportMode::Auto,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.log.is_empty() && p.warnings.is_empty());
}
