//! The plan of an upload, reads only: every server-side check `upload` makes (credentials, app
//! record, build number, groups, testers, review information, rate-limit budget) as steps, the
//! first problem as the error `upload` would fail with. `preflight` and `upload --dry-run` both
//! run it; the build-number step is the upload engine's own check ([`check_number`]).

use crate::asc::AscClient;
use crate::error::{Error, ErrorKind};
use crate::outcome::{Outcome, Status};
use crate::publish::UploadRequest;
use crate::publish::checksum::FileMd5;
use crate::publish::distribution::Distribution;
use crate::publish::distribution::plan::{self, ok, problem};
use crate::publish::preflight::{Plan, Verdict, check_app, check_number, find_app};
use crate::publish::progress::mib;

/// What the run was asked to do, as far as the plan is concerned.
#[derive(Debug, Clone, Default)]
pub struct PlanSettings {
    /// `--app-id`: checked against the IPA's bundle id; looked up by bundle id when absent.
    pub app_id: Option<String>,
    pub no_wait: bool,
    /// The export compliance answer given as a flag (Info.plist's is in the request).
    pub uses_non_exempt_encryption: Option<bool>,
    pub distribution: Distribution,
}

/// The server-side checks and the plan, reads only. `Err` is the first problem, as upload would
/// meet it; every problem is in `outcome.plan`.
pub async fn plan_upload(
    client: &AscClient,
    s: &PlanSettings,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    req.record_in(outcome);
    let r = checks(client, s, req, outcome).await;
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

async fn checks(client: &AscClient, s: &PlanSettings, req: &UploadRequest, outcome: &mut Outcome) -> Result<(), Error> {
    // Credentials and the app record: the first GET is also the credential check.
    let app = match &s.app_id {
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
    let step = build_number(client, &app_id, req).await?;
    outcome.plan.push(step);
    let uses = s.uses_non_exempt_encryption.or(req.uses_non_exempt_encryption);
    if s.no_wait {
        outcome.plan.push(ok("wait", "return once committed (--no-wait)"));
    } else {
        outcome.plan.push(ok("wait", "wait for Apple's processing verdict"));
        outcome.plan.push(match uses {
            Some(u) => ok("export compliance", format!("answer usesNonExemptEncryption = {u}")),
            None => ok(
                "export compliance",
                "unanswered: the build will wait in App Store Connect for it",
            ),
        });
    }
    let d = &s.distribution;
    if !d.is_empty() {
        if s.no_wait {
            outcome.plan.push(ok(
                "distribution",
                "not done with --no-wait: run `asc-publish distribute --upload-id …` once processed",
            ));
        } else {
            plan::check(client, &app_id, d, uses, &mut outcome.plan).await;
        }
    }
    Ok(())
}

/// The build-number step: the upload engine's own check, without its writes (it may also delete
/// abandoned reservations).
async fn build_number(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
) -> Result<crate::outcome::PlanStep, Error> {
    let md5 = FileMd5::on_demand(&req.ipa_path);
    // Upload's notes on what it recognised belong to an upload; the plan states its verdict.
    let mut notes = Vec::new();
    Ok(match check_number(client, app_id, req, &md5, &mut notes).await? {
        Verdict::Used(e) => problem("build number", &e.into()),
        Verdict::Go {
            plan: Plan::Resume { .. },
            ..
        } => interrupted(),
        Verdict::Go {
            plan: Plan::New, stale, ..
        } if !stale.is_empty() => interrupted(),
        // The same file re-run is no conflict: upload skips to waiting.
        Verdict::Go {
            plan: Plan::AlreadyUploaded { .. },
            ..
        } => ok(
            "upload",
            "this file was already uploaded: nothing to send, upload would wait for it",
        ),
        Verdict::Go { plan: Plan::New, .. } => ok(
            "upload",
            format!(
                "reserve {} ({}) and send {} in parts",
                req.short_version,
                req.version,
                mib(req.file_size)
            ),
        ),
    })
}

fn interrupted() -> crate::outcome::PlanStep {
    ok(
        "upload",
        "an interrupted reservation for this build exists: resume it or replace it, then upload",
    )
}
