//! `asc-publish distribute`: TestFlight distribution of an existing build (by upload id, build id,
//! or version + build number), waiting for its processing first when needed.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::asc::AscClient;
use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::cli::connection_args::ConnectionArgs;
use crate::cli::distribution_args::DistributionArgs;
use crate::error::Error;
use crate::outcome::{GroupResult, Outcome};
use crate::output::Format;
use crate::publish::distribution::existing::{self, AppRef, BuildRef, ExistingBuild};
use crate::publish::duration::parse_duration;

/// Order and exit codes, shown by `distribute --help`.
pub const AFTER_HELP: &str = "\
Order: lookups (groups, testers, beta review information) before any write; then What to Test,
beta review submission, groups (internal first), testers, notification, expiring older builds.

Exit codes:
  0  every requested step done (internal groups with access to all builds are skipped, not failed)
  1  the build was rejected by Apple's processing
  2  usage error (no build named, unreadable --what-to-test-json)
  3  authentication or permission problem
  4  App Store Connect refused or cannot find something: unknown or ambiguous group, unknown tester,
     incomplete beta review information, unanswered export compliance, unknown build, or a group
     that did not get the build (the other groups' results are in the output)
  5  transient failure after retries";

#[derive(Debug, Args)]
pub struct DistributeArgs {
    /// The upload id `upload --no-wait` printed.
    #[arg(long, value_name = "ID", conflicts_with_all = ["build_id", "version"])]
    pub upload_id: Option<String>,
    /// The build id.
    #[arg(long, value_name = "ID", conflicts_with = "version")]
    pub build_id: Option<String>,
    /// CFBundleShortVersionString of the build (with --build-number and --app-id or --bundle-id).
    #[arg(long, value_name = "VERSION", requires = "build_number")]
    pub version: Option<String>,
    /// CFBundleVersion of the build.
    #[arg(long, value_name = "NUMBER", requires = "version")]
    pub build_number: Option<String>,
    /// Platform of the build (with --version), needed when the version exists on several.
    #[arg(long, value_name = "PLATFORM", requires = "version",
          value_parser = ["IOS", "MAC_OS", "TV_OS", "VISION_OS"])]
    pub platform: Option<String>,
    /// App Store Connect app id.
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// Bundle id, to find the app when --app-id is not given.
    #[arg(long, value_name = "ID")]
    pub bundle_id: Option<String>,
    /// Export compliance answer, when the build has none yet.
    #[arg(long, value_name = "true|false")]
    pub uses_non_exempt_encryption: Option<bool>,
    /// How long to wait for processing (e.g. 90s, 20m, 1h).
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
    pub distribution: DistributionArgs,
    #[command(flatten)]
    pub report: crate::cli::reporting::ReportArgs,
}

pub fn run(args: DistributeArgs, env: &Env) -> Result<i32, Error> {
    let mut outcome = Outcome::new();
    let result = crate::runtime::block_on(async {
        let client = crate::cli::connection_args::connect(&args.connection, env, Arc::new(SystemClock))?.api;
        run_with(&client, &args, env, &mut outcome).await
    })
    .and_then(|r| r);
    finish(result, outcome, &args, env)
}

/// Renders the outcome and publishes it to the CI system (see [`conclude`]).
pub fn finish(result: Result<(), Error>, outcome: Outcome, args: &DistributeArgs, env: &Env) -> Result<i32, Error> {
    let mut secrets = args.report.tokens();
    secrets.extend(args.connection.private_key.as_ref().map(|k| k.expose().as_str()));
    crate::cli::reporting::conclude(result, outcome, args.format, render, &args.report, &secrets, env)
}

/// The distribution part of an outcome, as text or one JSON document.
pub fn render(outcome: &Outcome, format: Format) {
    match format {
        Format::Json => crate::cli::render::print_outcome_json(outcome),
        Format::Text => {
            if let Some(b) = &outcome.build_id {
                println!(
                    "build {b}{}",
                    match (&outcome.version, &outcome.build_number) {
                        (Some(v), Some(n)) => format!(" ({v} ({n}))"),
                        _ => String::new(),
                    }
                );
            }
            for g in &outcome.groups {
                let r = match g.result {
                    GroupResult::Added => "added",
                    GroupResult::Already => "already there",
                    GroupResult::Skipped => "skipped",
                    GroupResult::Failed => "FAILED",
                };
                println!(
                    "  group {}: {r}{}",
                    g.name,
                    g.message.as_deref().map(|m| format!(" — {m}")).unwrap_or_default()
                );
            }
            if !outcome.what_to_test.is_empty() {
                println!("  What to Test: {}", outcome.what_to_test.join(", "));
            }
            if let Some(r) = &outcome.beta_review {
                println!("  beta app review: {r}");
            }
            if !outcome.testers.is_empty() {
                println!("  testers: {}", outcome.testers.join(", "));
            }
            if let Some(n) = &outcome.notified {
                println!("  notified: {n}");
            }
            if !outcome.expired_builds.is_empty() {
                println!("  expired builds: {}", outcome.expired_builds.join(", "));
            }
            for w in &outcome.warnings {
                println!("  warning: {w}");
            }
        }
    }
}

/// Converts the arguments and runs the pipeline's distribution of an existing build.
pub async fn run_with(
    client: &AscClient,
    args: &DistributeArgs,
    env: &Env,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let d = args.distribution.to_distribution(args.format == Format::Json)?;
    let settings = settings(args, env)?;
    existing::distribute_existing(client, &settings, &d, outcome).await
}

/// The arguments as the pipeline's settings; a missing build or app is a usage error here.
fn settings(args: &DistributeArgs, env: &Env) -> Result<ExistingBuild, Error> {
    let build = if let Some(upload_id) = &args.upload_id {
        BuildRef::Upload(upload_id.clone())
    } else if let Some(b) = &args.build_id {
        BuildRef::Build(b.clone())
    } else if let (Some(v), Some(n)) = (&args.version, &args.build_number) {
        let app = match (&args.app_id, &args.bundle_id) {
            (Some(a), _) => AppRef::Id(a.clone()),
            (None, Some(b)) => AppRef::BundleId(b.clone()),
            (None, None) => {
                return Err(Error::usage("--version/--build-number need --app-id or --bundle-id"));
            }
        };
        BuildRef::Number {
            version: v.clone(),
            number: n.clone(),
            platform: args.platform.clone(),
            app,
        }
    } else {
        return Err(
            Error::usage("say which build: --upload-id, --build-id, or --version with --build-number")
                .with_hint("`asc-publish builds list` shows the ids"),
        );
    };
    Ok(ExistingBuild {
        build,
        app_id: args.app_id.clone(),
        uses_non_exempt_encryption: args.uses_non_exempt_encryption,
        timeout: args.timeout,
        poll_interval: args.poll_interval,
        events: crate::report::terminal::events(args.format == Format::Json, env),
    })
}
