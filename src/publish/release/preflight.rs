//! The read-only half of a release: which version to use, what it lacks, what else is with App
//! Review. Nothing here writes.

use crate::asc::AscClient;
use crate::asc::app_store_submissions::{SubmissionRecord, SubmissionState, submissions};
use crate::asc::app_store_versions::{VersionRecord, versions};
use crate::asc::builds;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::publish::release::{Release, ReleaseError, Target, metadata};

/// What the writes will work on.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The version with the build's version string, when it exists and is editable.
    pub exact: Option<VersionRecord>,
    /// Otherwise the platform's open version, renamed to the version string.
    pub rename: Option<VersionRecord>,
    /// Submissions with App Review to cancel first (`--cancel-pending`).
    pub cancel: Vec<SubmissionRecord>,
    /// The app's draft submission (READY_FOR_REVIEW), reused.
    pub draft: Option<SubmissionRecord>,
    /// The version is already with App Review or beyond, with this build: nothing to do.
    pub submitted: Option<VersionRecord>,
}

/// The build the release attaches: its id once it exists, its number (CFBundleVersion) while the
/// upload that makes it has not started yet.
#[derive(Debug, Clone, Copy)]
pub enum BuildKey<'a> {
    Id(&'a str),
    Number(&'a str),
}

/// Where a release goes: the app's version for a version string and platform, and the build.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub app_id: &'a str,
    pub version_string: &'a str,
    pub platform: &'a str,
    pub build: BuildKey<'a>,
    /// The export-compliance answer the build has (or will have once processed).
    pub uses_non_exempt_encryption: Option<bool>,
}

/// Reads everything and decides; any gap or conflict is an error before a single write. The gaps
/// also land in `missing`, for the outcome.
pub async fn check(client: &AscClient, target: &Target, r: &Release, missing: &mut Vec<String>) -> Result<Plan, Error> {
    let dest = Destination {
        app_id: &target.app_id,
        version_string: &target.version_string,
        platform: &target.platform,
        build: BuildKey::Id(&target.build_id),
        uses_non_exempt_encryption: target.uses_non_exempt_encryption,
    };
    let label = target.build_number.as_deref().unwrap_or(&target.build_id);
    check_destination(client, &dest, label, r, missing).await
}

/// The same checks for a build not uploaded yet (`upload --release`, `preflight --release`): a
/// refusal here is the one the release would meet after the upload and processing, said first.
pub async fn before_upload(
    client: &AscClient,
    dest: &Destination<'_>,
    r: &Release,
    missing: &mut Vec<String>,
) -> Result<Plan, Error> {
    let label = match dest.build {
        BuildKey::Id(id) | BuildKey::Number(id) => id,
    };
    check_destination(client, dest, label, r, missing).await
}

async fn check_destination(
    client: &AscClient,
    dest: &Destination<'_>,
    label: &str,
    r: &Release,
    missing: &mut Vec<String>,
) -> Result<Plan, Error> {
    let plan = version_plan(client, dest, r, missing).await?;
    if plan.submitted.is_some() {
        return Ok(plan);
    }
    if dest.uses_non_exempt_encryption.is_none() {
        missing.push(format!(
            "Build {label}: Export compliance (builds.usesNonExemptEncryption; pass --uses-non-exempt-encryption)"
        ));
    }
    if !missing.is_empty() {
        return Err(ReleaseError::Incomplete {
            missing: missing.clone(),
        }
        .into());
    }
    Ok(plan)
}

/// Whether the version's build is the one being released.
async fn same_build(client: &AscClient, attached: Option<&str>, build: BuildKey<'_>) -> Result<bool, Error> {
    let Some(attached) = attached else {
        return Ok(false);
    };
    Ok(match build {
        BuildKey::Id(id) => attached == id,
        // Before the upload only a re-run of an uploaded build can match: compare its number.
        BuildKey::Number(n) => builds::get(client, attached).await?.number.as_deref() == Some(n),
    })
}

/// The build-independent half: the version, other submissions, and what the version lacks (into
/// `missing`, without refusing yet).
async fn version_plan(
    client: &AscClient,
    dest: &Destination<'_>,
    r: &Release,
    missing: &mut Vec<String>,
) -> Result<Plan, Error> {
    let all = versions(client, dest.app_id, dest.platform).await?;
    let mut plan = Plan::default();
    let exact = all.iter().find(|v| v.version_string == dest.version_string).cloned();
    if let Some(v) = &exact {
        if !v.editable() {
            if same_build(client, v.build_id.as_deref(), dest.build).await? {
                plan.submitted = Some(v.clone());
                return Ok(plan);
            }
            let build = v.build_id.as_deref().unwrap_or("none");
            return Err(Error::from(ReleaseError::VersionTaken {
                version: dest.version_string.to_string(),
                platform: dest.platform.to_string(),
                state: v.state_or_unknown().to_string(),
                other_build: sanitize(build),
            }));
        }
    }
    let subs = submissions(client, dest.app_id, dest.platform).await?;
    let in_flight: Vec<SubmissionRecord> = subs.iter().filter(|s| s.state.in_flight()).cloned().collect();
    plan.draft = subs
        .iter()
        .find(|s| s.state == SubmissionState::ReadyForReview)
        .cloned();
    if let Some(s) = in_flight.first() {
        if !r.cancel_pending {
            let version = s
                .version_id
                .as_deref()
                .and_then(|id| all.iter().find(|v| v.id == id))
                .map_or("?".to_string(), |v| v.version_string.clone());
            return Err(ReleaseError::SubmissionInFlight {
                id: sanitize(&s.id),
                state: s.state.to_string(),
                version,
                platform: dest.platform.to_string(),
            }
            .into());
        }
        plan.cancel = in_flight.clone();
    }
    // After a cancellation the cancelled version is editable again: it is the one to rename.
    let cancelled_version = in_flight
        .iter()
        .filter_map(|s| s.version_id.as_deref())
        .find_map(|id| all.iter().find(|v| v.id == id));
    if exact.is_none() {
        plan.rename = all
            .iter()
            .find(|v| v.editable())
            .or(cancelled_version.filter(|_| r.cancel_pending))
            .cloned();
    }
    plan.exact = exact;
    let source = plan
        .exact
        .clone()
        .or_else(|| plan.rename.clone())
        .or_else(|| all.first().cloned())
        .ok_or_else(|| Error::from(ReleaseError::NoVersion))?;
    let copies = plan.exact.is_none() && plan.rename.is_none();
    // An update (the app is on the store already) needs What's New; the version being submitted
    // itself does not count, the one a new version copies from does.
    let submitting = plan.exact.as_ref().or(plan.rename.as_ref()).map(|v| v.id.as_str());
    let update = all.iter().any(|v| v.is_live() && Some(v.id.as_str()) != submitting);
    let given: Vec<String> = r.whats_new.iter().map(|(l, _)| l.clone()).collect();
    *missing = metadata::missing(client, &source, copies, update, &given).await?;
    Ok(plan)
}
