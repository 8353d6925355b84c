//! The end of every run: `--report`, `--output-json` and the forge tokens, masking secrets on
//! GitHub before anything else is printed, and handing the outcome to every CI destination.
//!
//! Workflow commands (masks, annotations) go to stderr: stdout belongs to the command's own output
//! (one JSON document with `--format json`), and the Actions runner reads commands on both streams.
//! Nothing here changes a run's exit code: every failure becomes one warning line.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::Args;

use crate::asc::credentials::{Secret, env_names};
use crate::ci::publish::{ReportMode, publish};
use crate::ci::{CiContext, EnvMap, detect};
use crate::outcome::Outcome;
use crate::report::RunView;

/// A key file or payload bigger than this is not something we mask or read.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// `--report`: which system's reports to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportTarget {
    /// The detected CI system's reports (job summary, PR/MR comment, check run, deploy-dir report).
    #[default]
    Auto,
    /// GitHub's reports, when running on GitHub Actions.
    Github,
    /// GitLab's merge request note, when running on GitLab CI.
    Gitlab,
    /// The Markdown report in BITRISE_DEPLOY_DIR, when running on Bitrise.
    Bitrise,
    /// No summary, comment or check run; step outputs are still written.
    None,
}

/// Reporting flags shared by the commands that end a run (`upload`, `report`, and `distribute`).
#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// Where to publish the report: auto (the detected CI system), github, gitlab, bitrise (only
    /// on that system), or none. Step outputs (GITHUB_OUTPUT, dotenv, envman) are always written.
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = ReportTarget::Auto)]
    pub report: ReportTarget,
    /// Also write the outcome as one JSON document to FILE (also on failure).
    #[arg(long, value_name = "FILE")]
    pub output_json: Option<PathBuf>,
    /// Token for the pull request comment and check run (needs pull-requests: write, checks: write).
    #[arg(long, value_name = "TOKEN", env = "GITHUB_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub github_token: Option<Secret<String>>,
    /// Token for the merge request note (api scope; CI_JOB_TOKEN cannot write notes). GITLAB_TOKEN
    /// is read when ASC_GITLAB_TOKEN is not set.
    #[arg(long, value_name = "TOKEN", env = "ASC_GITLAB_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub gitlab_token: Option<Secret<String>>,
}

impl ReportArgs {
    /// The tokens given to us, for masking.
    pub fn tokens(&self) -> Vec<&str> {
        [&self.github_token, &self.gitlab_token]
            .into_iter()
            .flatten()
            .map(|s| s.expose().as_str())
            .collect()
    }
}

fn parse_secret(s: &str) -> Result<Secret<String>, String> {
    Ok(Secret::new(s.to_string()))
}

/// Environment variables whose values are secrets (besides the key variables): forge tokens and
/// the app-specific password's default variables (`--password-env` names another one).
const SECRET_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "ASC_GITLAB_TOKEN",
    "ASC_APP_SPECIFIC_PASSWORD",
    "FASTLANE_APPLE_APPLICATION_SPECIFIC_PASSWORD",
];

/// Every secret we know of: `explicit` ones (flag values), the key and token variables, the
/// contents of a key given as a path, and the decoded form of a base64 key.
fn known_secrets(env: &EnvMap, explicit: &[&str]) -> Vec<String> {
    let mut raw: Vec<String> = explicit.iter().map(|s| s.to_string()).collect();
    for name in env_names::PRIVATE_KEY.iter().chain(SECRET_VARS) {
        if let Some(v) = env.get(name) {
            raw.push(v.to_string());
        }
    }
    let mut all = Vec::new();
    for value in raw {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        // A key given as a path: its contents are the secret.
        if !value.contains('\n') && value.len() < 4096 {
            if let Some(text) = read_small(Path::new(&value)) {
                all.push(text);
                continue;
            }
        }
        // A key given as base64 of the PEM: the PEM lines are secret too.
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(value.replace(['\n', '\r', ' '], "")) {
            if let Ok(text) = String::from_utf8(bytes) {
                if text.contains("PRIVATE KEY") {
                    all.push(text);
                }
            }
        }
        all.push(value);
    }
    all
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SECRET_FILE {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_SECRET_FILE)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

/// The one place a run's secrets are protected, called by `cli::run` before any command that
/// reads a secret does anything: every secret from `flag_secrets`, the key and token variables
/// and the variables named in `secret_vars` (`--password-env`) is masked on GitHub Actions (on
/// stderr, before anything else is printed) and redacted from everything rendered afterwards.
pub fn protect_secrets(env: &EnvMap, flag_secrets: &[&str], secret_vars: &[&str]) -> String {
    let (secrets, github) = secrets_to_protect(env, flag_secrets, secret_vars);
    let masker = github.then_some(crate::ci::github::mask_command as crate::output::Masker);
    secrets.iter().map(|s| crate::output::protect_with(s, masker)).collect()
}

/// What [`protect_secrets`] protects, and whether it masks them (on GitHub Actions only).
fn secrets_to_protect(env: &EnvMap, flag_secrets: &[&str], secret_vars: &[&str]) -> (Vec<String>, bool) {
    let github = matches!(detect(env), CiContext::GitHub(_));
    let mut explicit: Vec<&str> = flag_secrets.to_vec();
    explicit.extend(secret_vars.iter().filter_map(|n| env.get(n)));
    (known_secrets(env, &explicit), github)
}

/// A copy of `outcome` with every known secret (and `extra`) redacted from every field: the one
/// redaction every renderer (text, JSON, summary, outputs, comments, `--output-json`) sees.
pub fn redacted(outcome: &Outcome, extra: &[&str]) -> Outcome {
    // Fails closed: an outcome that cannot be redacted is shown by its status only.
    let status_only = || {
        let mut o = Outcome::new();
        o.status = outcome.status;
        o.exit_code = outcome.exit_code;
        o.warnings
            .push("asc-publish could not redact the outcome, so only its status is shown".into());
        o
    };
    let Ok(mut v) = serde_json::to_value(outcome) else {
        return status_only();
    };
    let secrets: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    redact(&mut v, &secrets);
    serde_json::from_value(v).unwrap_or_else(|_| status_only())
}

/// The mode for `ci::publish`, and a warning when `--report` names a system we are not on.
fn mode_for(target: ReportTarget, ctx: &CiContext) -> (ReportMode, Option<String>) {
    let on = match (target, ctx) {
        (ReportTarget::Auto, _) => return (ReportMode::Auto, None),
        (ReportTarget::None, _) => return (ReportMode::None, None),
        (ReportTarget::Github, CiContext::GitHub(_))
        | (ReportTarget::Gitlab, CiContext::GitLab(_))
        | (ReportTarget::Bitrise, CiContext::Bitrise(_)) => true,
        _ => false,
    };
    if on {
        return (ReportMode::Auto, None);
    }
    let name = match target {
        ReportTarget::Github => "GitHub Actions",
        ReportTarget::Gitlab => "GitLab CI",
        _ => "Bitrise",
    };
    (
        ReportMode::None,
        Some(format!(
            "asc-publish published no report: --report names {name}, but this run is not on it."
        )),
    )
}

/// Replaces every part of `secrets` and every protected secret (see [`crate::output::protect`])
/// in every string of `value` with `***`.
fn redact(value: &mut serde_json::Value, secrets: &[String]) {
    let mut parts: Vec<String> = secrets.iter().flat_map(|s| crate::output::secret_parts(s)).collect();
    parts.extend(crate::output::secret_parts_known());
    parts.sort();
    parts.dedup();
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    crate::output::redact_json_parts(value, &parts);
}

/// What [`finish_run_with`] did: workflow commands to print, and warning lines.
#[derive(Debug, Default)]
pub struct Finished {
    pub log: String,
    pub warnings: Vec<String>,
}

/// [`finish_run`] with the environment injected and nothing printed.
pub async fn finish_run_with(
    outcome: &Outcome,
    args: &ReportArgs,
    secrets_to_mask: &[&str],
    mut env: EnvMap,
) -> Finished {
    if let Some(t) = &args.github_token {
        env.set("GITHUB_TOKEN", t.expose().clone());
    }
    if let Some(t) = &args.gitlab_token {
        env.set("ASC_GITLAB_TOKEN", t.expose().clone());
    }
    let mut explicit: Vec<&str> = secrets_to_mask.to_vec();
    explicit.extend(args.tokens());
    let secrets = known_secrets(&env, &explicit);

    let mut done = Finished::default();
    let mut outcome = outcome.clone();
    let view = RunView::from(&outcome);
    if outcome.testflight_url.is_none() {
        outcome.testflight_url = view.testflight_url();
    }
    let view = match serde_json::to_value(&view) {
        Ok(mut v) => {
            redact(&mut v, &secrets);
            serde_json::from_value(v).unwrap_or(view)
        }
        Err(_) => view,
    };

    if let Some(path) = &args.output_json {
        if let Err(w) = write_json(path, &outcome, &secrets) {
            done.warnings.push(w);
        }
    }

    let ctx = detect(&env);
    let (mode, warning) = mode_for(args.report, &ctx);
    done.warnings.extend(warning);
    match publish(&ctx, &env, &view, mode).await {
        Ok(p) => {
            done.log = p.log;
            // `publish` already turned its warnings into `::warning` lines on GitHub; the plain
            // lines are printed by the caller everywhere else.
            if !matches!(ctx, CiContext::GitHub(_)) {
                done.warnings.extend(p.warnings);
            }
        }
        Err(e) => done
            .warnings
            .push(format!("asc-publish could not write the CI outputs: {e}")),
    }
    done
}

fn write_json(path: &Path, outcome: &Outcome, secrets: &[String]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("asc-publish could not write {}: {e}", path.display());
    let mut doc = serde_json::to_value(outcome).map_err(|e| fail(&e))?;
    redact(&mut doc, secrets);
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| fail(&e))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| fail(&e))
}

/// Ends a run, the same way for every command: records the error in the outcome, renders the
/// outcome (text, or the one JSON document), publishes it to the CI system, and maps it to the exit
/// code. Reporting problems are warnings, never the exit code. In JSON mode the error is printed
/// here (stdout carries the outcome); in text mode it is returned for the edge to render once.
pub fn conclude(
    result: Result<(), crate::Error>,
    mut outcome: Outcome,
    format: crate::output::Format,
    render: impl Fn(&Outcome, crate::output::Format),
    report: &ReportArgs,
    secrets: &[&str],
    env: &EnvMap,
) -> Result<i32, crate::Error> {
    let publish = |outcome: &Outcome| {
        for w in finish_run(outcome, report, secrets, env) {
            crate::output::eprintln_redacted!("warning: {}", &w);
        }
    };
    match result {
        Ok(()) => {
            outcome.exit_code = crate::ExitCode::Success.code();
            let outcome = redacted(&outcome, secrets);
            render(&outcome, format);
            publish(&outcome);
            Ok(crate::ExitCode::Success.code())
        }
        Err(e) => {
            outcome.fail(&e);
            let outcome = redacted(&outcome, secrets);
            if format == crate::output::Format::Json {
                crate::cli::render_error_beside_outcome(&e);
            }
            render(&outcome, format);
            publish(&outcome);
            if format == crate::output::Format::Json {
                Ok(e.exit_code())
            } else {
                Err(e)
            }
        }
    }
}

/// The one call at the end of a run: detects the CI system, publishes outputs, annotations and
/// reports, writes `--output-json`, and returns warning lines for the caller to print (they never
/// change the exit code). Workflow commands are printed here, on stderr.
pub fn finish_run(outcome: &Outcome, args: &ReportArgs, secrets_to_mask: &[&str], env: &EnvMap) -> Vec<String> {
    let env = env.clone();
    // A scoped thread with its own runtime: callers may be inside a runtime or not.
    let finished = std::thread::scope(|s| {
        s.spawn(|| {
            crate::runtime::build(crate::runtime::Threads::CurrentThread)
                .map(|rt| rt.block_on(finish_run_with(outcome, args, secrets_to_mask, env)))
                .map_err(|e| format!("asc-publish could not publish the report: {e}"))
        })
        .join()
    });
    match finished {
        Ok(Ok(done)) => {
            if !done.log.is_empty() {
                crate::output::eprint_redacted(&done.log);
            }
            done.warnings
        }
        Ok(Err(w)) => vec![w],
        Err(_) => vec!["asc-publish could not publish the report: the reporter stopped unexpectedly".into()],
    }
}

#[cfg(test)]
#[path = "reporting_tests.rs"]
mod tests;
