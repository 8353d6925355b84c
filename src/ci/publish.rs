//! One call that publishes a run's report wherever the detected CI system wants it: annotations,
//! outputs, job summary, and the PR/MR comment and check run.
//!
//! Output files (GITHUB_OUTPUT, dotenv) failing to write is an error: later steps depend on them.
//! Everything about PR/MR reporting degrades to warning lines.

use std::str::FromStr;

use super::detect::{CiContext, EnvMap};
use super::{CiError, bitrise, github, gitlab, outputs};
use crate::forge::github_pr::{self, GitHubTarget, Publish};
use crate::forge::gitlab_mr::{self, GitLabTarget};
use crate::forge::{ForgeReport, Token};
use crate::report::{RunView, annotations, markdown};

/// `--report`: where the Markdown report goes. Outputs and annotations are written in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportMode {
    /// Job summary, PR/MR comment and check run wherever the CI system and token allow.
    #[default]
    Auto,
    /// The GitHub reports (the same as `auto` on GitHub; nothing elsewhere).
    GitHub,
    /// No summary, comment or check run.
    None,
}

impl FromStr for ReportMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ReportMode::Auto),
            "github" => Ok(ReportMode::GitHub),
            "none" => Ok(ReportMode::None),
            other => Err(format!("unknown report mode `{other}` (expected auto, github or none)")),
        }
    }
}

/// What publishing did: text for stdout (workflow commands, already escaped), warning lines, and
/// the forge result when a PR/MR was reported on.
#[derive(Debug, Default)]
pub struct Published {
    pub log: String,
    pub warnings: Vec<String>,
    pub forge: Option<ForgeReport>,
}

fn env_value<'a>(env: &'a EnvMap, key: &str) -> Option<&'a str> {
    env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Publish `view` for the CI system in `ctx`. `env` supplies tokens, `PATH` (envman) and the
/// dotenv path; nothing is read from the process environment.
pub async fn publish(ctx: &CiContext, env: &EnvMap, view: &RunView, mode: ReportMode) -> Result<Published, CiError> {
    let mut out = Published::default();
    match ctx {
        CiContext::GitHub(gh) => {
            out.log.push_str(&github::annotation_block(&annotations(view)));
            if let Some(path) = &gh.output_path {
                github::write_outputs(path, &outputs::outputs(view))?;
            }
            if mode != ReportMode::None {
                if let Some(path) = &gh.summary_path {
                    github::append_summary(path, &markdown::render(view))?;
                }
                match (GitHubTarget::from_context(gh), env_value(env, "GITHUB_TOKEN")) {
                    (Some(target), Some(token)) => {
                        let what = Publish {
                            comment: true,
                            check_run: true,
                        };
                        let report = github_pr::publish(&target, &Token::new(token), view, what).await;
                        out.warnings.extend(report.warning.clone());
                        out.forge = Some(report);
                    }
                    (Some(t), None) if t.pr_number.is_some() => out.warnings.push(
                        "asc-publish did not comment on the pull request: no GITHUB_TOKEN (the action passes \
                         `github-token`, default github.token)."
                            .to_string(),
                    ),
                    _ => {}
                }
            }
            for w in &out.warnings {
                out.log.push_str(&format!(
                    "::warning title=asc-publish report::{}\n",
                    github::escape_data(w)
                ));
            }
        }
        CiContext::GitLab(gl) => {
            let dropped = gitlab::write_dotenv(&gitlab::dotenv_path(env), view)?;
            if !dropped.is_empty() {
                out.warnings.push(format!(
                    "asc-publish left {} out of the dotenv report: GitLab limits it to 5 KB.",
                    dropped.join(", ")
                ));
            }
            if mode == ReportMode::Auto {
                if let Some(target) = GitLabTarget::from_context(gl) {
                    match gitlab_mr::token_from_env(env) {
                        Ok(token) => {
                            let report = gitlab_mr::publish(&target, &token, view).await;
                            out.warnings.extend(report.warning.clone());
                            out.forge = Some(report);
                        }
                        Err(warning) => out.warnings.push(warning),
                    }
                }
            }
        }
        CiContext::Bitrise(b) => {
            let path = env.get("PATH").unwrap_or_default();
            match bitrise::find_envman(std::ffi::OsStr::new(path)) {
                Some(envman) => bitrise::export_outputs(&envman, view)?,
                None => out
                    .warnings
                    .push("asc-publish could not export outputs: `envman` is not on PATH.".into()),
            }
            if mode == ReportMode::Auto {
                if let Some(dir) = &b.deploy_dir {
                    bitrise::write_report(dir, &markdown::render(view))?;
                }
            }
        }
        CiContext::Local => {}
    }
    Ok(out)
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
