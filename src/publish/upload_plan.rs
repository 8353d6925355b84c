//! The plan of an upload, reads only: every server-side check `upload` makes (credentials, app
//! record, build number, groups, testers, review information, rate-limit budget) as steps, the
//! first problem as the error `upload` would fail with. `preflight` and `upload --dry-run` both
//! run it; the build-number step is the upload engine's own check ([`check_number`]). With
//! `--release`, the release's own read-only checks are a step too ([`release_ready`]).

use crate::asc::AscClient;
use crate::error::{Error, ErrorKind};
use crate::outcome::{Outcome, ReleaseOutcome, Status};
use crate::publish::UploadRequest;
use crate::publish::checksum::FileMd5;
use crate::publish::distribution::Distribution;
use crate::publish::distribution::plan::{self, ok, problem};
use crate::publish::preflight::{Plan, Verdict, check_app, check_number, find_app};
use crate::publish::progress::mib;
use crate::publish::release::Release;
use crate::publish::release::preflight::{self as release_preflight, BuildKey, Destination};

/// What the run was asked to do, as far as the plan is concerned.
#[derive(Debug, Clone, Default)]
pub struct PlanSettings {
    /// `--app-id`: checked against the IPA's bundle id; looked up by bundle id when absent.
    pub app_id: Option<String>,
    pub no_wait: bool,
    /// The export compliance answer given as a flag (Info.plist's is in the request).
    pub uses_non_exempt_encryption: Option<bool>,
    pub distribution: Distribution,
    /// `--release`: the App Store release that follows processing, checked now.
    pub release: Option<Release>,
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
    if let Some(r) = &s.release {
        let step = if s.no_wait {
            ok(
                "release",
                "not done with --no-wait: run `asc-publish release --from-upload-id …` once processed",
            )
        } else {
            match release_checks(client, &app_id, uses, req, r, outcome).await {
                Ok(detail) => ok("release", detail),
                Err(e) => problem("release", &e),
            }
        };
        outcome.plan.push(step);
    }
    Ok(())
}

/// `upload --release`, before anything is reserved: the release's checks that do not need the
/// build (the version, its metadata and App Review details, export compliance, other submissions
/// with App Review), so a refusal comes in seconds rather than after the upload and processing.
pub async fn release_ready(
    client: &AscClient,
    app_id: Option<&str>,
    uses_non_exempt_encryption: Option<bool>,
    req: &UploadRequest,
    r: &Release,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let app_id = match app_id {
        Some(id) => check_app(client, id, &req.bundle_id).await?,
        None => find_app(client, &req.bundle_id).await?,
    };
    let uses = uses_non_exempt_encryption.or(req.uses_non_exempt_encryption);
    release_checks(client, &app_id, uses, req, r, outcome).await.map(|_| ())
}

/// The release preflight for the build `req` will become; what it would do, or its refusal (each
/// missing field also on the outcome, as `release` puts them).
async fn release_checks(
    client: &AscClient,
    app_id: &str,
    uses: Option<bool>,
    req: &UploadRequest,
    r: &Release,
    outcome: &mut Outcome,
) -> Result<String, Error> {
    let dest = Destination {
        app_id,
        version_string: &req.short_version,
        platform: &req.platform,
        build: BuildKey::Number(&req.version),
        uses_non_exempt_encryption: uses,
    };
    let mut missing = Vec::new();
    let checked = release_preflight::before_upload(client, &dest, r, &mut missing).await;
    if !missing.is_empty() {
        outcome.release = Some(ReleaseOutcome {
            version_string: Some(req.short_version.clone()),
            platform: Some(req.platform.clone()),
            missing,
            ..ReleaseOutcome::default()
        });
    }
    let plan = checked?;
    let v = &req.short_version;
    let mut detail = if let Some(done) = &plan.submitted {
        format!(
            "App Store version {v} is already {} with this build: nothing to submit",
            done.state_or_unknown()
        )
    } else if plan.exact.is_some() {
        format!("submit App Store version {v} for review")
    } else if let Some(open) = &plan.rename {
        format!(
            "rename the open App Store version {} to {v}, then submit it for review",
            open.version_string
        )
    } else {
        format!("create App Store version {v}, then submit it for review")
    };
    if !plan.cancel.is_empty() {
        detail.push_str(&format!(
            "; first cancel {} submission(s) with App Review (--cancel-pending)",
            plan.cancel.len()
        ));
    }
    Ok(detail)
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
