//! `asc-publish preflight <ipa>` and `upload --dry-run`: every server-side check upload makes
//! (credentials, app record, build number, groups, testers, review information, rate-limit
//! budget) with reads only, then the plan of what upload would do; the exit code is the one
//! upload would fail with.

use std::sync::Arc;
use std::time::SystemTime;

use clap::Args;

use crate::asc::clock::SystemClock;
use crate::asc::credentials::Env;
use crate::cli::upload::UploadArgs;
use crate::error::{Error, ErrorKind, ExitCode};
use crate::outcome::{Outcome, Status};
use crate::output::Format;
use crate::publish::UploadRequest;
use crate::publish::distribution::plan::{ok, problem};

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub upload: UploadArgs,
}

pub fn run(args: PreflightArgs, env: &Env) -> Result<i32, Error> {
    let mut outcome = Outcome::new();
    let format = args.upload.format;
    let result = crate::runtime::block_on(run_with(&args, env, &mut outcome)).and_then(|r| r);
    match result {
        Ok(()) => {
            outcome.exit_code = ExitCode::Success.code();
            crate::cli::upload::render_plan(&outcome, format);
            Ok(ExitCode::Success.code())
        }
        Err(e) => {
            outcome.fail(&e);
            crate::cli::upload::render_plan(&outcome, format);
            if format == Format::Json {
                crate::cli::render_error_beside_outcome(&e);
                Ok(e.exit_code())
            } else {
                Err(e)
            }
        }
    }
}

/// Connects, reads the IPA, then checks and plans. Public so tests drive it in-process.
pub async fn run_with(args: &PreflightArgs, env: &Env, outcome: &mut Outcome) -> Result<(), Error> {
    let client = crate::cli::upload::connect(&args.upload, env, Arc::new(SystemClock))?.api;
    let req = read_request(&args.upload, outcome)?;
    let settings = crate::cli::upload::plan_settings(&args.upload)?;
    crate::publish::upload_plan::plan_upload(&client, &settings, &req, outcome).await
}

/// Reads (and unless skipped, validates) the IPA the way upload does, without printing the report
/// twice: findings go into the outcome and the plan.
fn read_request(args: &UploadArgs, outcome: &mut Outcome) -> Result<UploadRequest, Error> {
    let trust = crate::cli::inspect::trust_store(args.extra_root_ca.as_deref())?;
    let inspected = crate::subject::Subject::open(&args.ipa, &trust)?;
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
