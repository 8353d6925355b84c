//! `asc-publish distribute`: TestFlight distribution of an existing build (by upload id, build id,
//! or version + build number), waiting for its processing first when needed.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::asc::AscClient;
use crate::asc::clock::{SharedClock, SystemClock};
use crate::asc::credentials::Env;
use crate::cli::connection_args::ConnectionArgs;
use crate::cli::distribution_args::DistributionArgs;
use crate::error::{Error, ErrorKind};
use crate::outcome::{GroupResult, Outcome, Status};
use crate::output::Format;
use crate::publish::distribution::lookup::{self, BuildFacts};
use crate::publish::distribution::{self, DistributionError, Target};
use crate::publish::duration::parse_duration;
use crate::publish::preflight::{BuildQuery, builds_of, find_app};
use crate::publish::processing::{self, WaitConfig};

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

pub fn run(args: DistributeArgs) -> Result<i32, Error> {
    let env = Env::from_process();
    let mut outcome = Outcome::new();
    let result = crate::runtime::block_on(async {
        let (client, _) = crate::cli::connection_args::connect(&args.connection, &env, Arc::new(SystemClock))?;
        run_with(&client, &args, &mut outcome).await
    })
    .and_then(|r| r);
    finish(result, outcome, &args)
}

/// Renders the outcome and publishes it to the CI system (see [`conclude`]).
pub fn finish(result: Result<(), Error>, outcome: Outcome, args: &DistributeArgs) -> Result<i32, Error> {
    let mut secrets = args.report.tokens();
    secrets.extend(args.connection.private_key.as_ref().map(|k| k.expose().as_str()));
    crate::cli::reporting::conclude(result, outcome, args.format, render, &args.report, &secrets)
}

/// The distribution part of an outcome, as text or one JSON document.
pub fn render(outcome: &Outcome, format: Format) {
    match format {
        Format::Json => match serde_json::to_string_pretty(outcome) {
            Ok(s) => println!("{s}"),
            Err(e) => crate::output::eprintln_redacted!("error: cannot serialise the outcome: {e}"),
        },
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

/// Finds the build, waits for it, answers export compliance if asked, then distributes.
pub async fn run_with(client: &AscClient, args: &DistributeArgs, outcome: &mut Outcome) -> Result<(), Error> {
    let quiet = args.format == Format::Json;
    let d = args.distribution.to_distribution(quiet)?;
    let build_id = if let Some(upload_id) = &args.upload_id {
        let upload = lookup::upload_facts(client, upload_id)
            .await
            .map_err(|e| not_found_as(e, &format!("no build upload with id {upload_id}")))?;
        outcome.upload_id = Some(upload_id.clone());
        outcome.version = upload.short_version;
        outcome.build_number = upload.build_number;
        outcome.platform = upload.platform;
        outcome.app_id = args.app_id.clone().or(upload.app_id);
        let cfg = WaitConfig {
            timeout: args.timeout,
            interval: args.poll_interval,
            max_interval: Duration::from_secs(30),
            uses_non_exempt_encryption: args.uses_non_exempt_encryption,
            quiet,
        };
        processing::wait(client, upload_id, &cfg, outcome).await?;
        outcome
            .build_id
            .clone()
            .ok_or_else(|| DistributionError::NotFound(format!("upload {upload_id} has no build yet")))?
    } else if let Some(b) = &args.build_id {
        b.clone()
    } else if let (Some(v), Some(n)) = (&args.version, &args.build_number) {
        let app_id = match (&args.app_id, &args.bundle_id) {
            (Some(a), _) => a.clone(),
            (None, Some(b)) => find_app(client, b).await?,
            (None, None) => {
                return Err(Error::usage("--version/--build-number need --app-id or --bundle-id"));
            }
        };
        let (id, platform) = find_build(client, &app_id, v, n, args.platform.as_deref()).await?;
        outcome.platform = platform;
        id
    } else {
        return Err(
            Error::usage("say which build: --upload-id, --build-id, or --version with --build-number")
                .with_hint("`asc-publish builds list` shows the ids"),
        );
    };
    let build = wait_for_build(client, &build_id, args, quiet).await?;
    outcome.build_id = Some(build_id.clone());
    outcome.processing_state = Some(build.processing.clone());
    if !build.valid || build.expired {
        let state = if build.expired {
            "expired".to_string()
        } else {
            build.processing.clone()
        };
        return Err(DistributionError::NotDistributable { build_id, state }.into());
    }
    let app_id = build
        .app_id
        .clone()
        .or_else(|| outcome.app_id.clone())
        .or_else(|| args.app_id.clone())
        .ok_or_else(|| DistributionError::NotFound(format!("build {build_id} names no app")))?;
    outcome.app_id = Some(app_id.clone());
    let mut encryption = build.uses_non_exempt_encryption;
    if encryption.is_none() {
        if let Some(uses) = args.uses_non_exempt_encryption {
            lookup::answer_export_compliance(client, &build_id, uses).await?;
            encryption = Some(uses);
        }
    }
    outcome.uses_non_exempt_encryption = encryption;
    let short_version = outcome.version.clone().or_else(|| build.train_version.clone());
    outcome.version = short_version.clone();
    // The train Apple linked the build to is the truth; the upload's platform is the fallback.
    let platform = build.train_platform.clone().or_else(|| outcome.platform.clone());
    outcome.platform = platform.clone();
    outcome.app_store_connect_url = Some(format!(
        "https://appstoreconnect.apple.com/apps/{app_id}/testflight/ios"
    ));
    let target = Target {
        app_id,
        build_id,
        short_version,
        platform,
        uses_non_exempt_encryption: encryption,
    };
    let r = distribution::distribute(client, &target, &d, outcome).await;
    outcome.requests = client.stats().requests();
    if r.is_ok() {
        outcome.status = Status::Success;
    }
    r
}

fn not_found_as(e: crate::asc::AscError, message: &str) -> Error {
    if e.is_not_found() {
        DistributionError::NotFound(message.to_string()).into()
    } else {
        e.into()
    }
}

/// The build for (version, build number[, platform]) of an app, in any processing state, with the
/// platform of its train. One number on several platforms needs `--platform` to pick one.
async fn find_build(
    client: &AscClient,
    app_id: &str,
    version: &str,
    number: &str,
    platform: Option<&str>,
) -> Result<(String, Option<String>), Error> {
    let found = builds_of(
        client,
        BuildQuery {
            app_id,
            short_version: version,
            platform,
            number: Some(number),
            unexpired_only: false,
        },
    )
    .await?;
    let mut platforms: Vec<&str> = found.iter().filter_map(|t| t.platform.as_deref()).collect();
    platforms.sort_unstable();
    platforms.dedup();
    if found.len() > 1 && platforms.len() > 1 {
        return Err(Error::usage(format!(
            "build {version} ({number}) exists on several platforms ({})",
            platforms.join(", ")
        ))
        .with_hint("pass --platform to say which one"));
    }
    let first = found.into_iter().next().ok_or_else(|| {
        let on = platform.map(|p| format!(" on {p}")).unwrap_or_default();
        Error::from(DistributionError::NotFound(format!(
            "no build {version} ({number}){on} for app {app_id}"
        )))
    })?;
    Ok((first.build.id, first.platform.or(platform.map(str::to_string))))
}

/// GETs the build (with its app), polling while it is PROCESSING.
async fn wait_for_build(
    client: &AscClient,
    build_id: &str,
    args: &DistributeArgs,
    quiet: bool,
) -> Result<BuildFacts, Error> {
    let clock: SharedClock = client.clock();
    let start = clock.now();
    let mut interval = args.poll_interval;
    loop {
        let build = lookup::build_facts(client, build_id)
            .await
            .map_err(|e| not_found_as(e, &format!("no build with id {build_id}")))?;
        if !build.processing_now {
            return Ok(build);
        }
        let waited = clock.now().duration_since(start).unwrap_or_default();
        if waited >= args.timeout {
            return Err(Error::new(
                ErrorKind::Transient,
                format!(
                    "build {build_id} is still processing after {}",
                    crate::publish::duration::format_duration(waited)
                ),
            )
            .with_hint("raise --timeout, or re-run distribute later"));
        }
        if !quiet {
            crate::output::eprintln_redacted!("  build {build_id}: PROCESSING");
        }
        // Never a busy loop (a 0s interval) and never past the deadline by more than one poll.
        clock.sleep(interval.max(Duration::from_millis(100))).await;
        let cap = Duration::from_secs(30);
        interval = interval.checked_mul(3).map_or(cap, |d| (d / 2).min(cap));
    }
}

/// `upload`'s distribution step: once the new build is VALID (and export compliance handled by
/// the engine), distributes it as the flags ask. With `--no-wait` there is no VALID build yet:
/// the run says how to distribute later instead.
pub async fn after_upload(
    client: &AscClient,
    args: &crate::cli::upload::UploadArgs,
    req: &crate::publish::UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let d = args.distribution.to_distribution(false)?;
    if d.is_empty() {
        return Ok(());
    }
    let (Some(app_id), Some(build_id)) = (outcome.app_id.clone(), outcome.build_id.clone()) else {
        return no_distribution(outcome);
    };
    if outcome.status != Status::Success || outcome.processing_state.as_deref() != Some("VALID") {
        return no_distribution(outcome);
    }
    let target = Target {
        app_id,
        build_id,
        short_version: Some(req.short_version.clone()),
        platform: Some(req.platform.clone()),
        uses_non_exempt_encryption: outcome.uses_non_exempt_encryption,
    };
    let r = distribution::distribute(client, &target, &d, outcome).await;
    outcome.requests = client.stats().requests();
    r
}

fn no_distribution(outcome: &mut Outcome) -> Result<(), Error> {
    let later = match &outcome.upload_id {
        Some(id) => format!("run `asc-publish distribute --upload-id {id}` with the same distribution flags"),
        None => "run `asc-publish distribute` with the same distribution flags".to_string(),
    };
    outcome.warnings.push(format!(
        "TestFlight distribution not done: the build is not processed yet; {later}"
    ));
    Ok(())
}
