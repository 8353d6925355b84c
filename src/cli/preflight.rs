//! `asc-publish preflight <ipa>` and `upload --dry-run`: every server-side check upload makes
//! (credentials, app record, build number, groups, testers, review information, rate-limit
//! budget) with reads only, then the plan of what upload would do; the exit code is the one
//! upload would fail with.

use std::sync::Arc;
use std::time::SystemTime;

use clap::Args;

use crate::asc::AscClient;
use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::cli::upload::UploadArgs;
use crate::error::{Error, ErrorKind, ExitCode};
use crate::outcome::{Outcome, Status};
use crate::output::Format;
use crate::publish::UploadRequest;
use crate::publish::distribution::plan::{self, ok, problem};
use crate::publish::error::PublishError;
use crate::publish::number_check::{NumberCheck, NumberState, check_build_number};
use crate::publish::preflight::{check_app, find_app, next_build_number};
use crate::publish::progress::mib;

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub upload: UploadArgs,
}

pub fn run(args: PreflightArgs) -> Result<i32, Error> {
    let env = Env::from_process();
    let mut outcome = Outcome::new();
    let format = args.upload.format;
    let result = crate::runtime::block_on(run_with(&args, &env, &mut outcome)).and_then(|r| r);
    match result {
        Ok(()) => {
            outcome.exit_code = ExitCode::Success.code();
            render_plan(&outcome, format);
            Ok(ExitCode::Success.code())
        }
        Err(e) => {
            outcome.fail(&e);
            render_plan(&outcome, format);
            if format == Format::Json {
                crate::output::eprintln_redacted!("error: {}", e.message());
                if let Some(h) = e.hint() {
                    crate::output::eprintln_redacted!("  fix: {}", h);
                }
                Ok(e.exit_code())
            } else {
                Err(e)
            }
        }
    }
}

/// Connects, reads the IPA, then checks and plans. Public so tests drive it in-process.
pub async fn run_with(args: &PreflightArgs, env: &Env, outcome: &mut Outcome) -> Result<(), Error> {
    let (client, _) = crate::cli::upload::connect(&args.upload, env, Arc::new(SystemClock))?;
    let req = read_request(&args.upload, outcome)?;
    plan_upload(&client, &args.upload, &req, outcome).await
}

/// The plan as text (stdout) or, in JSON, the outcome document with its `plan`; redacted here,
/// as `preflight` and `upload --dry-run` both print through it.
pub fn render_plan(outcome: &Outcome, format: Format) {
    let outcome = &crate::cli::reporting::redacted(outcome, &[]);
    match format {
        Format::Json => match serde_json::to_string_pretty(outcome) {
            Ok(s) => println!("{s}"),
            Err(e) => crate::output::eprintln_redacted!("error: cannot serialise the outcome: {e}"),
        },
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

/// Reads (and unless skipped, validates) the IPA the way upload does, without printing the report
/// twice: findings go into the outcome and the plan.
fn read_request(args: &UploadArgs, outcome: &mut Outcome) -> Result<UploadRequest, Error> {
    let trust = crate::cli::inspect::trust_store(args.extra_root_ca.as_deref())?;
    let inspected = crate::pkg::Subject::open(&args.ipa, &trust)?;
    if !args.skip_validation {
        let options = crate::validate::Options::default();
        let report = inspected.validate(&trust, &options, SystemTime::now());
        crate::output::eprint_redacted(&crate::cli::validate::render_text(
            inspected.inspection(),
            &report,
            &options,
        ));
        outcome.findings = report.findings.clone();
        if report.errors() > 0 {
            let e = Error::new(
                ErrorKind::Rejected,
                format!("{} validation error(s): upload would send nothing", report.errors()),
            )
            .with_hint("fix the errors above (or pass --skip-validation)");
            outcome.plan.push(problem("local validation", &e));
            outcome.status = Status::Rejected;
            return Err(e);
        }
        outcome.plan.push(ok("local validation", "passed"));
    }
    let app = &inspected.inspection().app;
    let missing = |what: &str| Error::usage(format!("the IPA's main app has no {what} in its Info.plist"));
    Ok(UploadRequest {
        ipa_path: args.ipa.clone(),
        file_name: args
            .ipa
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "app.ipa".into()),
        file_size: std::fs::metadata(&args.ipa)?.len(),
        bundle_id: app.bundle_id.clone().ok_or_else(|| missing("CFBundleIdentifier"))?,
        short_version: app
            .short_version
            .clone()
            .ok_or_else(|| missing("CFBundleShortVersionString"))?,
        version: app.version.clone().ok_or_else(|| missing("CFBundleVersion"))?,
        platform: app.platform.as_api_str().to_string(),
        uses_non_exempt_encryption: app.uses_non_exempt_encryption,
    })
}

/// The server-side checks and the plan, reads only. `Err` is the first problem, as upload would
/// meet it; every problem is in `outcome.plan`.
pub async fn plan_upload(
    client: &AscClient,
    args: &UploadArgs,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    req.record_in(outcome);
    let r = checks(client, args, req, outcome).await;
    outcome.requests = client.stats().requests();
    if let Some(rl) = client.stats().rate_limit() {
        outcome.plan.push(ok(
            "rate limit",
            format!(
                "{} of {} requests left this hour",
                rl.remaining.map_or("?".into(), |v| v.to_string()),
                rl.limit.map_or("?".into(), |v| v.to_string())
            ),
        ));
    }
    r?;
    match outcome.plan.iter().find(|s| !s.ok) {
        Some(p) => {
            let e = Error::new(p.kind.unwrap_or(ErrorKind::Usage), p.detail.clone());
            Err(match &p.fix {
                Some(f) => e.with_hint(f.clone()),
                None => e,
            })
        }
        None => {
            outcome.status = Status::Success;
            Ok(())
        }
    }
}

async fn checks(
    client: &AscClient,
    args: &UploadArgs,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    // Credentials and the app record: the first GET is also the credential check.
    let app = match &args.app_id {
        Some(id) => check_app(client, id, &req.bundle_id).await,
        None => find_app(client, &req.bundle_id).await,
    };
    let app_id = match app {
        Ok(id) => id,
        Err(e) => {
            let step = if e.kind() == ErrorKind::Auth {
                "credentials"
            } else {
                "app record"
            };
            outcome.plan.push(problem(step, &e));
            return Ok(());
        }
    };
    outcome.app_id = Some(app_id.clone());
    outcome.plan.push(ok("credentials", "accepted by App Store Connect"));
    outcome
        .plan
        .push(ok("app record", format!("{} is app {app_id}", req.bundle_id)));
    build_number(client, &app_id, req, outcome).await?;
    if args.no_wait {
        outcome.plan.push(ok("wait", "return once committed (--no-wait)"));
    } else {
        outcome.plan.push(ok("wait", "wait for Apple's processing verdict"));
        let uses = args.uses_non_exempt_encryption.or(req.uses_non_exempt_encryption);
        outcome.plan.push(match uses {
            Some(u) => ok("export compliance", format!("answer usesNonExemptEncryption = {u}")),
            None => ok(
                "export compliance",
                "unanswered: the build will wait in App Store Connect for it",
            ),
        });
    }
    let d = args.distribution.to_distribution(true)?;
    if !d.is_empty() {
        if args.no_wait {
            outcome.plan.push(ok(
                "distribution",
                "not done with --no-wait: run `asc-publish distribute --upload-id …` once processed",
            ));
        } else {
            let uses = args.uses_non_exempt_encryption.or(req.uses_non_exempt_encryption);
            plan::check(client, &app_id, &d, uses, &mut outcome.plan).await;
        }
    }
    Ok(())
}

/// Read-only build-number check (upload's own preflight may also delete abandoned reservations).
async fn build_number(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let NumberCheck { state, highest } = check_build_number(client, app_id, req).await?;
    let used = |detail: &str| -> Error {
        PublishError::BuildNumberUsed {
            version: req.short_version.clone(),
            build: req.version.clone(),
            next: highest.as_deref().map(next_build_number),
            highest: highest.clone(),
            detail: detail.to_string(),
        }
        .into()
    };
    let step = match state {
        NumberState::Interrupted => ok(
            "upload",
            "an interrupted reservation for this build exists: resume it or replace it, then upload",
        ),
        NumberState::Failed => problem("build number", &used(" and failed processing")),
        // The same file re-run is no conflict: upload skips to waiting.
        NumberState::SameFile => ok(
            "upload",
            "this file was already uploaded: nothing to send, upload would wait for it",
        ),
        NumberState::Used => problem("build number", &used("")),
        NumberState::Free => ok(
            "upload",
            format!(
                "reserve {} ({}) and send {} in parts",
                req.short_version,
                req.version,
                mib(req.file_size)
            ),
        ),
    };
    outcome.plan.push(step);
    Ok(())
}
