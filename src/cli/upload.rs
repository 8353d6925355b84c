//! `asc-publish upload`: arguments, IPA inspection and validation, then the upload engine; renders
//! the outcome (text, or one JSON document) and maps it to the exit code.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;

use crate::asc::clock::{SharedClock, SystemClock};
use crate::asc::credentials::Env;
use crate::cli::connection_args::ConnectionArgs;
use crate::cli::reporting::ReportArgs;
use crate::error::{Error, ErrorKind};
use crate::outcome::{Outcome, Status};
use crate::output::Format;
use crate::publish::connection::Connection;
use crate::publish::duration::{format_duration, parse_duration};
use crate::publish::events::Events;
use crate::publish::progress::{ProgressMode, mib};
use crate::publish::{UploadOptions, UploadRequest};

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Path to the .ipa file, or a macOS .pkg (uploaded as MAC_OS).
    pub ipa: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// App Store Connect app id (Apple ID of the app); looked up by bundle id when omitted.
    #[arg(long, value_name = "ID", env = "ASC_APP_ID")]
    pub app_id: Option<String>,
    /// Parts uploaded at the same time.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Return once the upload is committed, without waiting for processing.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for processing (e.g. 90s, 20m, 1h).
    #[arg(long, value_name = "DUR", default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// First processing poll interval (grows to 30 s).
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub poll_interval: Duration,
    /// Upload without local validation (the IPA is still read for bundle id, versions and platform).
    #[arg(long)]
    pub skip_validation: bool,
    /// Validation warnings stop the upload too (as `validate --strict`).
    #[arg(long, conflicts_with = "skip_validation")]
    pub strict: bool,
    /// Export compliance answer; overrides Info.plist's ITSAppUsesNonExemptEncryption.
    #[arg(long, value_name = "true|false")]
    pub uses_non_exempt_encryption: Option<bool>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Also trust this root certificate (PEM) when validating provisioning profiles and code
    /// signatures, besides Apple's (as `validate --extra-root-ca`). Meant for the simulator's
    /// sample IPAs and for tests.
    #[arg(long, value_name = "FILE", env = "ASC_EXTRA_ROOT_CA")]
    pub extra_root_ca: Option<PathBuf>,
    /// Run every server-side check and print the plan, sending nothing (as `preflight`).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub distribution: crate::cli::distribution_args::DistributionArgs,
    /// Once the build is VALID, submit it to App Store review (as `asc-publish release`). Its
    /// checks (version metadata, App Review details, other submissions) run before the upload:
    /// a refusal exits 4 with nothing uploaded.
    #[arg(long)]
    pub release: bool,
    #[command(flatten)]
    pub release_settings: crate::cli::release::ReleaseSettingsArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Sign in with an Apple ID and an app-specific password instead of an API key.
    #[command(flatten)]
    pub apple_id: crate::cli::appleid_args::AppleIdArgs,
}

pub fn run(args: UploadArgs, env: &Env) -> Result<i32, Error> {
    let mut outcome = Outcome::new();
    let result = crate::runtime::block_on(run_with(&args, env, Arc::new(SystemClock), &mut outcome)).and_then(|r| r);
    finish(result, outcome, &args, env)
}

/// Secret values given as flags (the environment's are found by the reporter itself).
fn secrets(args: &UploadArgs) -> Vec<&str> {
    let mut s = args.report.tokens();
    s.extend(args.connection.private_key.as_ref().map(|k| k.expose().as_str()));
    s
}

/// Renders the outcome and publishes it to the CI system (see [`conclude`]).
fn finish(result: Result<(), Error>, outcome: Outcome, args: &UploadArgs, env: &Env) -> Result<i32, Error> {
    crate::cli::reporting::conclude(result, outcome, args.format, render, &args.report, &secrets(args), env)
}

fn render(outcome: &Outcome, format: Format) {
    // Only a dry run has a plan; its text is the plan.
    if format == Format::Text && !outcome.plan.is_empty() {
        return render_plan(outcome, format);
    }
    match format {
        Format::Json => crate::cli::render::print_outcome_json(outcome),
        Format::Text => {
            let (Some(v), Some(b)) = (&outcome.version, &outcome.build_number) else {
                return;
            };
            let what = match outcome.status {
                Status::Success => "processed and VALID",
                Status::Uploaded => "uploaded (not waiting for processing)",
                Status::Rejected => "REJECTED by App Store Connect",
                Status::Failed => "not finished",
            };
            println!("{} {v} ({b}): {what}", outcome.bundle_id.as_deref().unwrap_or("app"));
            if let Some(id) = &outcome.upload_id {
                println!("  upload id: {id}");
            }
            if let Some(id) = &outcome.build_id {
                println!("  build id:  {id}");
            }
            for m in &outcome.apple_messages {
                println!(
                    "  Apple {}: {}{}",
                    m.level,
                    m.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
                    m.description
                );
            }
            for w in &outcome.warnings {
                println!("  warning: {w}");
            }
            crate::cli::release::render_release_lines(outcome);
            if outcome.bytes_sent > 0 {
                println!(
                    "  sent {} in {} requests to App Store Connect",
                    mib(outcome.bytes_sent),
                    outcome.requests
                );
            }
            if let Some(url) = &outcome.app_store_connect_url {
                println!("  {url}");
            }
        }
    }
}

/// The plan as text (stdout) or, in JSON, the outcome document with its `plan`; redacted here,
/// as `preflight` and `upload --dry-run` both print through it.
pub fn render_plan(outcome: &Outcome, format: Format) {
    let outcome = &crate::cli::reporting::redacted(outcome, &[]);
    match format {
        Format::Json => crate::cli::render::print_outcome_json(outcome),
        Format::Text => {
            println!("plan:");
            for (i, s) in outcome.plan.iter().enumerate() {
                let mark = if s.ok { "" } else { "PROBLEM " };
                println!("  {}. {mark}{}: {}", i + 1, s.step, s.detail);
                if let Some(f) = &s.fix {
                    println!("     fix: {f}");
                }
            }
        }
    }
}

/// The arguments as the plan's settings (`preflight`, `upload --dry-run`).
pub fn plan_settings(args: &UploadArgs) -> Result<crate::publish::upload_plan::PlanSettings, Error> {
    Ok(crate::publish::upload_plan::PlanSettings {
        app_id: args.app_id.clone(),
        no_wait: args.no_wait,
        uses_non_exempt_encryption: args.uses_non_exempt_encryption,
        distribution: args.distribution.to_distribution(true)?,
        release: args
            .release
            .then(|| args.release_settings.to_release(Events::default()))
            .transpose()?,
    })
}

/// Everything after argument parsing, with the environment and clock injected. Configuration
/// (credentials, API URL) is checked first, then the IPA, then the network is used.
pub async fn run_with(args: &UploadArgs, env: &Env, clock: SharedClock, outcome: &mut Outcome) -> Result<(), Error> {
    if args.apple_id.apple_id.is_some() {
        return upload_with_apple_id(args, env, clock, outcome).await;
    }
    let started = clock.now();
    let conn = connect(args, env, clock.clone())?;
    let events = crate::report::terminal::events(false, env);
    let stage = events.stage("asc_publish_validate", "Inspect and validate the IPA");
    let (req, _) = read_ipa(args, outcome)?;
    drop(stage);
    let r = upload_with(&conn, args, &req, &events, outcome).await;
    outcome.time("total", clock.now().duration_since(started).unwrap_or_default());
    if r.is_ok() && outcome.status == Status::Success && args.format == Format::Text {
        crate::output::eprintln_redacted!(
            "done in {}",
            format_duration(clock.now().duration_since(started).unwrap_or_default())
        );
    }
    r
}

/// `upload --apple-id`: its checks, the IPA, then the upload; what it learnt is put on the outcome
/// here, once.
async fn upload_with_apple_id(
    args: &UploadArgs,
    env: &Env,
    clock: SharedClock,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let started = clock.now();
    let settings = crate::cli::appleid_args::upload_settings(args);
    let events = crate::report::terminal::events(false, env);
    let r = async {
        let prepared = crate::appleid::prepare(&settings, env, &events, &|w| {
            crate::ci::endpoints::print_warnings_in(env, w)
        })?;
        outcome.warnings.extend(prepared.warnings.iter().cloned());
        let stage = events.stage("asc_publish_validate", "Inspect and validate the IPA");
        let (req, inspected) = read_ipa(args, outcome)?;
        drop(stage);
        req.record_in(outcome);
        let _stage = events.stage("asc_publish_upload", "Upload to App Store Connect");
        let mut up = crate::appleid::Uploaded::default();
        let r = crate::appleid::upload(&settings, &prepared, &req, &inspected, clock.clone(), &events, &mut up).await;
        up.record_in(outcome);
        r
    }
    .await;
    outcome.time("total", clock.now().duration_since(started).unwrap_or_default());
    r
}

/// Inspects (and unless skipped, validates) the IPA into an [`UploadRequest`].
/// Inspects and (unless skipped) validates the IPA; both upload paths (API key and Apple ID) start
/// here. The identity goes into the outcome first, so a rejected run still reports what it was.
pub fn read_ipa(
    args: &UploadArgs,
    outcome: &mut Outcome,
) -> Result<(UploadRequest, crate::ipa::model::Inspection), Error> {
    let t = SystemTime::now();
    let trust = crate::cli::inspect::trust_store(args.extra_root_ca.as_deref())?;
    let inspected = crate::subject::Subject::open(&args.ipa, &trust)?;
    let app = &inspected.inspection().app;
    outcome.bundle_id = app.bundle_id.clone();
    outcome.version = app.short_version.clone();
    outcome.build_number = app.version.clone();
    outcome.platform = Some(app.platform.as_api_str().to_string());
    if !args.skip_validation {
        let options = crate::validate::Options {
            strict: args.strict,
            ..crate::validate::Options::default()
        };
        let report = inspected.validate(&trust, &options, SystemTime::now());
        // The same report `validate` prints, on stderr: stdout carries the outcome.
        crate::output::eprint_redacted(&crate::cli::validate::render_text(
            inspected.inspection(),
            &report,
            &options,
        ));
        for f in report.findings.iter().filter(|f| !f.is_error()) {
            outcome.warnings.push(format!("{}: {}", f.code, f.message));
        }
        outcome.findings = report.findings.clone();
        if !report.passed(options.strict) {
            outcome.status = Status::Rejected;
            outcome.time("validate", t.elapsed().unwrap_or_default());
            let what = if report.errors() > 0 {
                format!("{} validation error(s)", report.errors())
            } else {
                format!("{} validation warning(s) with --strict", report.warnings())
            };
            return Err(Error::new(ErrorKind::Rejected, format!("{what}: nothing was uploaded"))
                .with_hint("fix the errors above (or pass --skip-validation to upload anyway)"));
        }
    }
    outcome.time("validate", t.elapsed().unwrap_or_default());
    let app = &inspected.inspection().app;
    let missing = |what: &str| {
        Error::usage(format!("the IPA's main app has no {what} in its Info.plist"))
            .with_hint("re-export the IPA from Xcode")
    };
    let file_name = args
        .ipa
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "app.ipa".into());
    let file_size = std::fs::metadata(&args.ipa)?.len();
    let req = UploadRequest {
        ipa_path: args.ipa.clone(),
        file_name,
        file_size,
        bundle_id: app.bundle_id.clone().ok_or_else(|| missing("CFBundleIdentifier"))?,
        short_version: app
            .short_version
            .clone()
            .ok_or_else(|| missing("CFBundleShortVersionString"))?,
        version: app.version.clone().ok_or_else(|| missing("CFBundleVersion"))?,
        platform: app.platform.as_api_str().to_string(),
        uses_non_exempt_encryption: app.uses_non_exempt_encryption,
    };
    Ok((req, inspected.inspection().clone()))
}

/// Resolves credentials and the API URL into the API and part-upload clients.
pub fn connect(args: &UploadArgs, env: &Env, clock: SharedClock) -> Result<Connection, Error> {
    crate::cli::connection_args::connect(&args.connection, env, clock)
}

/// Converts the arguments and runs the plan (`--dry-run`) or the pipeline's upload flow. Public
/// so tests can drive the command without an IPA reader.
pub async fn upload_with(
    conn: &Connection,
    args: &UploadArgs,
    req: &UploadRequest,
    events: &Events,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    if args.dry_run {
        let r = match plan_settings(args) {
            Ok(settings) => crate::publish::upload_plan::plan_upload(&conn.api, &settings, req, outcome).await,
            Err(e) => Err(e),
        };
        if args.format == Format::Text {
            // The text summary describes an upload; nothing was uploaded (the plan is rendered).
            outcome.version = None;
        }
        return r;
    }
    let opts = UploadOptions {
        app_id: args.app_id.clone(),
        concurrency: usize::from(args.concurrency),
        wait: !args.no_wait,
        timeout: args.timeout,
        poll_interval: args.poll_interval,
        uses_non_exempt_encryption: args.uses_non_exempt_encryption,
        progress: ProgressMode::detect(),
        verbose: args.connection.verbose > 0,
        events: events.clone(),
        ..UploadOptions::default()
    };
    let submission = if args.release {
        Some(
            args.release_settings
                .to_submission(events.clone(), args.poll_interval)?,
        )
    } else {
        None
    };
    // The release's refusals (metadata, review details, another submission with App Review) do
    // not depend on the build: said now, before a reservation, not after the upload and processing.
    if let Some(s) = submission.as_ref().filter(|_| !args.no_wait) {
        let _stage = events.stage("asc_publish_release_check", "Check the App Store release");
        crate::publish::upload_plan::release_ready(
            &conn.api,
            args.app_id.as_deref(),
            args.uses_non_exempt_encryption,
            req,
            &s.release,
            outcome,
        )
        .await?;
    }
    let distribution = args.distribution.to_distribution(false);
    crate::publish::flow::upload_and_distribute(conn, &opts, distribution, req, outcome).await?;
    let Some(s) = submission else {
        return Ok(());
    };
    crate::publish::release::run::after_upload(&conn.api, &s, req, outcome).await
}
