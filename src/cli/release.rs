//! `asc-publish release`: submit a processed build to App Store review (arguments → settings →
//! the flow in `publish::release` → rendering), and `release status`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::asc::AscClient;
use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::cli::connection_args::ConnectionArgs;
use crate::cli::distribution_args::localized_texts;
use crate::error::Error;
use crate::outcome::{Outcome, ReleaseOutcome};
use crate::output::Format;
use crate::publish::duration::parse_duration;
use crate::publish::events::Events;
use crate::publish::release::run::{AppRef, ReleaseBuild, Submission};
use crate::publish::release::target::BuildRef;
use crate::publish::release::{self, Release, ReleaseType};

pub const AFTER_HELP: &str = "\
Order: every check first (version metadata and App Review details, the build, other submissions
with App Review) and nothing is written when something is missing; then --cancel-pending, the
version (found, renamed or created), release type, build, What's New, phased release, and the
review submission.

Exit codes:
  0  submitted (or already with App Review with this build); with --wait-for-review: approved
  1  App Review rejected the version (--wait-for-review)
  2  usage error (no build named, bad --release-date, unreadable --whats-new-json)
  3  authentication or permission problem
  4  something is missing or in the way: each missing field is named; another submission with
     App Review (re-run with --cancel-pending); the build is not VALID; the version has another build
  5  transient failure after retries, or --wait-for-review timed out";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReleaseArgs {
    #[command(subcommand)]
    pub action: Option<ReleaseAction>,
    #[command(flatten)]
    pub submit: Box<SubmitArgs>,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseAction {
    /// The App Store version's and its review submission's states (read-only).
    Status(StatusArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The build id.
    #[arg(long, value_name = "ID", conflicts_with_all = ["from_upload_id", "version"])]
    pub build_id: Option<String>,
    /// The upload id an earlier `upload` printed (waits for its processing when needed).
    #[arg(long, value_name = "ID", conflicts_with = "version")]
    pub from_upload_id: Option<String>,
    /// CFBundleShortVersionString of the build (with --build-number and --app-id or --bundle-id).
    #[arg(long, value_name = "VERSION", requires = "build_number")]
    pub version: Option<String>,
    /// CFBundleVersion of the build.
    #[arg(long, value_name = "NUMBER", requires = "version")]
    pub build_number: Option<String>,
    /// Platform of the build (with --version).
    #[arg(long, value_name = "PLATFORM", value_parser = ["IOS", "MAC_OS", "TV_OS", "VISION_OS"])]
    pub platform: Option<String>,
    /// App Store Connect app id.
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// Bundle id, to find the app when --app-id is not given.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
}

/// How to release: shared by `release` and `upload --release`.
#[derive(Debug, Clone, Args)]
pub struct ReleaseSettingsArgs {
    /// What's New for --whats-new-locale (over 4000 UTF-8 bytes is truncated, with a warning).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["whats_new_file", "whats_new_json"])]
    pub whats_new: Option<String>,
    /// What's New for --whats-new-locale, read from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "whats_new_json")]
    pub whats_new_file: Option<PathBuf>,
    /// What's New per locale: a JSON file `{"en-US": "...", "de-DE": "..."}`.
    #[arg(long, value_name = "FILE")]
    pub whats_new_json: Option<PathBuf>,
    /// Locale of --whats-new / --whats-new-file.
    #[arg(long, value_name = "LOCALE", default_value = "en-US")]
    pub whats_new_locale: String,
    /// When the approved version goes live.
    #[arg(long, value_name = "TYPE", default_value = "after-approval",
          value_parser = ["manual", "after-approval", "scheduled"])]
    pub release_type: String,
    /// Earliest release date for --release-type scheduled (RFC 3339, e.g. 2026-03-01T08:00:00Z).
    #[arg(long, value_name = "DATE")]
    pub release_date: Option<String>,
    /// Phased release over 7 days (on) or to everyone at once (off); unset leaves it as it is.
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub phased_release: Option<String>,
    /// Cancel a submission already with App Review for this app and platform first.
    #[arg(long)]
    pub cancel_pending: bool,
    /// Wait until App Review decides (not the default: reviews take hours to days).
    #[arg(long)]
    pub wait_for_review: bool,
    /// How long --wait-for-review waits.
    #[arg(long, value_name = "DUR", default_value = "48h", value_parser = parse_duration)]
    pub review_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub settings: ReleaseSettingsArgs,
    /// Export compliance answer, when the build has none yet.
    #[arg(long, value_name = "true|false")]
    pub uses_non_exempt_encryption: Option<bool>,
    /// How long to wait for the build's processing (with --from-upload-id).
    #[arg(long, value_name = "DUR", default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub poll_interval: Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub report: crate::cli::reporting::ReportArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// App Store Connect app id.
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// Bundle id, to find the app when --app-id is not given.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    /// The version string (default: the newest version).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    #[arg(long, value_name = "PLATFORM", default_value = "IOS", value_parser = ["IOS", "MAC_OS", "TV_OS", "VISION_OS"])]
    pub platform: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

impl ReleaseArgs {
    pub fn format(&self) -> Format {
        match &self.action {
            Some(ReleaseAction::Status(s)) => s.format,
            None => self.submit.format,
        }
    }

    pub fn connection(&self) -> &ConnectionArgs {
        match &self.action {
            Some(ReleaseAction::Status(s)) => &s.connection,
            None => &self.submit.connection,
        }
    }
}

impl BuildArgs {
    pub fn build_ref(&self) -> Result<BuildRef, Error> {
        if let Some(b) = &self.build_id {
            return Ok(BuildRef::Id(b.clone()));
        }
        if let Some(u) = &self.from_upload_id {
            return Ok(BuildRef::Upload(u.clone()));
        }
        match (&self.version, &self.build_number) {
            (Some(v), Some(n)) => Ok(BuildRef::Version {
                app_id: self.app_id.clone(),
                bundle_id: self.bundle_id.clone(),
                version: v.clone(),
                number: n.clone(),
                platform: self.platform.clone(),
            }),
            _ => Err(
                Error::usage("say which build: --build-id, --from-upload-id, or --version with --build-number")
                    .with_hint("`asc-publish builds list` shows the ids"),
            ),
        }
    }
}

impl ReleaseSettingsArgs {
    /// The release and its wait for App Review, as `release` and `upload --release` make them.
    pub fn to_submission(&self, events: Events, poll_interval: Duration) -> Result<Submission, Error> {
        Ok(Submission {
            release: self.to_release(events)?,
            review_timeout: self.wait_for_review.then_some(self.review_timeout),
            poll_interval,
        })
    }

    /// The release settings, checked: a scheduled release needs a future RFC 3339 date.
    pub fn to_release(&self, events: Events) -> Result<Release, Error> {
        let whats_new = localized_texts(
            self.whats_new.as_ref(),
            self.whats_new_file.as_ref(),
            self.whats_new_json.as_ref(),
            &self.whats_new_locale,
            |e| {
                Error::usage(format!(
                    "cannot use --whats-new-json: {}",
                    e.to_string().trim_start_matches("cannot use the What to Test input: ")
                ))
                .with_hint("--whats-new-json takes a JSON object of locale → text, e.g. {\"en-US\": \"…\"}")
            },
        )?;
        let release_type = match (self.release_type.as_str(), &self.release_date) {
            ("scheduled", Some(d)) => ReleaseType::Scheduled(future_date(d)?),
            ("scheduled", None) => {
                return Err(Error::usage("--release-type scheduled needs --release-date")
                    .with_hint("e.g. --release-date 2026-03-01T08:00:00Z"));
            }
            (_, Some(_)) => {
                return Err(Error::usage("--release-date is only for --release-type scheduled"));
            }
            ("manual", None) => ReleaseType::Manual,
            _ => ReleaseType::AfterApproval,
        };
        Ok(Release {
            whats_new,
            release_type,
            phased: self.phased_release.as_deref().map(|p| p == "on"),
            cancel_pending: self.cancel_pending,
            events,
        })
    }
}

fn future_date(d: &str) -> Result<String, Error> {
    let bad = || {
        Error::usage(format!("--release-date '{d}' is not a future RFC 3339 date-time"))
            .with_hint("e.g. --release-date 2026-03-01T08:00:00Z")
    };
    let parsed = time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).map_err(|_| bad())?;
    if parsed <= time::OffsetDateTime::now_utc() {
        return Err(bad());
    }
    Ok(d.to_string())
}

pub fn run(args: ReleaseArgs) -> Result<i32, Error> {
    let env = Env::from_process();
    match &args.action {
        Some(ReleaseAction::Status(s)) => {
            let format = s.format;
            let mut outcome = Outcome::new();
            let r = crate::runtime::block_on(async {
                let conn = crate::cli::connection_args::connect(&s.connection, &env, Arc::new(SystemClock))?;
                status_with(&conn.api, s, &mut outcome).await
            })
            .and_then(|r| r);
            r?;
            render(&outcome, format);
            Ok(crate::ExitCode::Success.code())
        }
        None => {
            let a = &args.submit;
            let mut outcome = Outcome::new();
            let result = crate::runtime::block_on(async {
                let conn = crate::cli::connection_args::connect(&a.connection, &env, Arc::new(SystemClock))?;
                run_with(&conn.api, a, &mut outcome).await
            })
            .and_then(|r| r);
            let mut secrets = a.report.tokens();
            secrets.extend(a.connection.private_key.as_ref().map(|k| k.expose().as_str()));
            crate::cli::reporting::conclude(result, outcome, a.format, render, &a.report, &secrets, &env)
        }
    }
}

/// `release`: the arguments as the pipeline's settings, then [`release::run::release_build`].
pub async fn run_with(client: &AscClient, a: &SubmitArgs, outcome: &mut Outcome) -> Result<(), Error> {
    let events = crate::report::terminal::lines(a.format == Format::Json);
    let s = a.settings.to_submission(events, a.poll_interval)?;
    let b = ReleaseBuild {
        build: a.build.build_ref()?,
        uses_non_exempt_encryption: a.uses_non_exempt_encryption,
        processing_timeout: a.timeout,
    };
    release::run::release_build(client, &b, &s, outcome).await
}

/// `release status`: the arguments as the pipeline's settings, then [`release::run::status`].
pub async fn status_with(client: &AscClient, s: &StatusArgs, outcome: &mut Outcome) -> Result<(), Error> {
    let app = match (&s.app_id, &s.bundle_id) {
        (Some(a), _) => AppRef::Id(a.clone()),
        (None, Some(b)) => AppRef::BundleId(b.clone()),
        (None, None) => return Err(Error::usage("release status needs --app-id or --bundle-id")),
    };
    release::run::status(client, &app, &s.platform, s.version.as_deref(), outcome).await
}

/// The release part of an outcome, as text or one JSON document.
pub fn render(outcome: &Outcome, format: Format) {
    match format {
        Format::Json => match serde_json::to_string_pretty(outcome) {
            Ok(s) => println!("{s}"),
            Err(e) => crate::output::eprintln_redacted!("error: cannot serialise the outcome: {e}"),
        },
        Format::Text => {
            let empty = ReleaseOutcome::default();
            let r = outcome.release.as_ref().unwrap_or(&empty);
            let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            println!(
                "App Store version {} ({}): {}",
                or(&r.version_string),
                or(&r.platform),
                or(&r.version_state)
            );
            if let Some(b) = &outcome.build_id {
                println!("  build: {b}");
            }
            release_details(r);
            for w in &outcome.warnings {
                println!("  warning: {w}");
            }
        }
    }
}

/// The release lines of `upload --release`'s text summary.
pub fn render_release_lines(outcome: &Outcome) {
    if let Some(r) = &outcome.release {
        println!(
            "  App Store version {}: {}",
            r.version_string.as_deref().unwrap_or("-"),
            r.version_state.as_deref().unwrap_or("-")
        );
        release_details(r);
    }
}

fn release_details(r: &ReleaseOutcome) {
    if let Some(t) = &r.release_type {
        println!(
            "  release: {t}{}",
            r.earliest_release_date
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    if let Some(p) = r.phased_release {
        println!("  phased release: {}", if p { "on" } else { "off" });
    }
    if !r.whats_new.is_empty() {
        println!("  What's New: {}", r.whats_new.join(", "));
    }
    for c in &r.canceled_submissions {
        println!("  cancelled submission: {c}");
    }
    if let Some(id) = &r.submission_id {
        println!(
            "  review submission {id}: {}",
            r.submission_state.as_deref().unwrap_or("-")
        );
    }
    for m in &r.missing {
        println!("  missing: {m}");
    }
}
