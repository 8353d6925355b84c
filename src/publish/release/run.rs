//! The release runs as commands start them: `release` (find the build, answer export compliance
//! when asked, release, and wait for App Review when asked), `upload --release` (the same for the
//! build the upload just produced), and `release status`. Each is an edge: the stage fills a
//! [`Released`] and the outcome gets it once, also when the stage stopped on an error.

use std::time::Duration;

use crate::asc::AscClient;
use crate::asc::app_store_submissions::SubmissionState;
use crate::error::Error;
use crate::outcome::{Outcome, Status};
use crate::publish::UploadRequest;
use crate::publish::distribution::lookup::answer_export_compliance;
use crate::publish::processing::WaitConfig;
use crate::publish::release::target::{self, BuildRef};
use crate::publish::release::wait::{self, WaitFor};
use crate::publish::release::{self, Release, ReleaseError, Released, Target};

/// How a release is made, shared by `release` and `upload --release`.
#[derive(Debug, Clone)]
pub struct Submission {
    pub release: Release,
    /// `--wait-for-review`: how long to wait for App Review's verdict.
    pub review_timeout: Option<Duration>,
    /// First interval between polls (of processing, then of the review submission).
    pub poll_interval: Duration,
}

/// `release`: which build, and what to do before releasing it.
#[derive(Debug, Clone)]
pub struct ReleaseBuild {
    pub build: BuildRef,
    /// The export-compliance answer for a build that has none yet.
    pub uses_non_exempt_encryption: Option<bool>,
    /// How long to wait for an upload's processing (`--from-upload-id`).
    pub processing_timeout: Duration,
}

/// Finds the build, answers export compliance if asked, releases, and waits if asked.
pub async fn release_build(
    client: &AscClient,
    b: &ReleaseBuild,
    s: &Submission,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let mut done = Released::default();
    let r = release_found_build(client, b, s, &mut done).await;
    done.record_in(outcome);
    r
}

async fn release_found_build(
    client: &AscClient,
    b: &ReleaseBuild,
    s: &Submission,
    done: &mut Released,
) -> Result<(), Error> {
    let wait_cfg = WaitConfig {
        timeout: b.processing_timeout,
        interval: s.poll_interval,
        max_interval: Duration::from_secs(30),
        uses_non_exempt_encryption: b.uses_non_exempt_encryption,
        events: s.release.events.clone(),
    };
    let mut target = target::resolve(client, &b.build, &wait_cfg, done).await?;
    if target.uses_non_exempt_encryption.is_none() {
        if let Some(uses) = b.uses_non_exempt_encryption {
            answer_export_compliance(client, &target.build_id, uses).await?;
            target.uses_non_exempt_encryption = Some(uses);
            done.uses_non_exempt_encryption = Some(uses);
        }
    }
    done.app_store_connect_url = Some(format!(
        "https://appstoreconnect.apple.com/apps/{}/distribution",
        target.app_id
    ));
    let r = release_and_wait(client, &target, s, done).await;
    done.requests = Some(client.stats().requests());
    r
}

/// `upload --release`: once the new build is VALID (export compliance handled by the upload),
/// releases it. Without a VALID build (`--no-wait`, a rejection) the run says how to release
/// later instead.
pub async fn after_upload(
    client: &AscClient,
    s: &Submission,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let valid = outcome.status == Status::Success && outcome.processing_state.as_deref() == Some("VALID");
    let (Some(app_id), Some(build_id), true) = (outcome.app_id.clone(), outcome.build_id.clone(), valid) else {
        let why = not_released(outcome);
        outcome.warnings.push(why);
        return Ok(());
    };
    let target = Target {
        app_id,
        build_id,
        build_number: Some(req.version.clone()),
        version_string: req.short_version.clone(),
        platform: req.platform.clone(),
        uses_non_exempt_encryption: outcome.uses_non_exempt_encryption,
    };
    let mut done = Released::default();
    let r = release_and_wait(client, &target, s, &mut done).await;
    done.requests = Some(client.stats().requests());
    done.record_in(outcome);
    r
}

/// Why the upload's build was not released, and how to release it later.
fn not_released(outcome: &Outcome) -> String {
    let later = match &outcome.upload_id {
        Some(id) => format!("run `asc-publish release --from-upload-id {id}` with the same release flags"),
        None => "run `asc-publish release` with the same release flags".to_string(),
    };
    format!("App Store release not done: the build is not processed yet; {later}")
}

/// The release, then the wait for App Review's verdict when asked.
async fn release_and_wait(
    client: &AscClient,
    target: &Target,
    s: &Submission,
    done: &mut Released,
) -> Result<(), Error> {
    release::release(client, target, &s.release, done).await?;
    let Some(timeout) = s.review_timeout else {
        return Ok(());
    };
    let Some(id) = done.release.as_ref().and_then(|r| r.submission_id.clone()) else {
        return Ok(());
    };
    let cfg = WaitFor {
        timeout,
        interval: s.poll_interval,
        events: s.release.events.clone(),
    };
    let verdict = wait::until(
        client,
        &id,
        |s| {
            !matches!(
                s,
                SubmissionState::WaitingForReview
                    | SubmissionState::InReview
                    | SubmissionState::ReadyForReview
                    | SubmissionState::Canceling
                    | SubmissionState::Completing
            )
        },
        &cfg,
        "App Review is reviewing the version",
    )
    .await?;
    let version = target.version_string.clone();
    let status = release::status::read(client, &target.app_id, &target.platform, Some(&version)).await?;
    if let Some(rel) = done.release.as_mut() {
        rel.submission_state = Some(verdict.to_string());
        rel.version_state = status.version_state;
    }
    if verdict == SubmissionState::UnresolvedIssues {
        done.status = Some(Status::Rejected);
        return Err(ReleaseError::Rejected { version, id }.into());
    }
    Ok(())
}

/// Which app `release status` reads.
#[derive(Debug, Clone)]
pub enum AppRef {
    Id(String),
    BundleId(String),
}

/// `release status`: the App Store version's and its review submission's states (read-only).
pub async fn status(
    client: &AscClient,
    app: &AppRef,
    platform: &str,
    version: Option<&str>,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let mut done = Released::default();
    let r = read_status(client, app, platform, version, &mut done).await;
    done.record_in(outcome);
    r
}

async fn read_status(
    client: &AscClient,
    app: &AppRef,
    platform: &str,
    version: Option<&str>,
    done: &mut Released,
) -> Result<(), Error> {
    let app_id = match app {
        AppRef::Id(a) => a.clone(),
        AppRef::BundleId(b) => crate::publish::preflight::find_app(client, b).await?,
    };
    done.app_id = Some(app_id.clone());
    done.platform = Some(platform.to_string());
    done.release = Some(release::status::read(client, &app_id, platform, version).await?);
    done.status = Some(Status::Success);
    Ok(())
}
