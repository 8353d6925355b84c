//! The read-only half of a release: which version to use, what it lacks, what else is with App
//! Review. Nothing here writes.

use crate::asc::AscClient;
use crate::asc::app_store::{AppStoreVersion, EDITABLE_VERSION_STATES, IN_FLIGHT_STATES, ReviewSubmission};
use crate::asc::endpoints::app_store as ep;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::publish::release::{Release, ReleaseError, Target, metadata};

/// What the writes will work on.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The version with the build's version string, when it exists and is editable.
    pub exact: Option<AppStoreVersion>,
    /// Otherwise the platform's open version, renamed to the version string.
    pub rename: Option<AppStoreVersion>,
    /// Submissions with App Review to cancel first (`--cancel-pending`).
    pub cancel: Vec<ReviewSubmission>,
    /// The app's draft submission (READY_FOR_REVIEW), reused.
    pub draft: Option<ReviewSubmission>,
    /// The version is already with App Review or beyond, with this build: nothing to do.
    pub submitted: Option<AppStoreVersion>,
}

fn state(v: &AppStoreVersion) -> &str {
    v.state().unwrap_or("UNKNOWN")
}

fn string(v: &AppStoreVersion) -> &str {
    v.attributes
        .as_ref()
        .and_then(|a| a.version_string.as_deref())
        .unwrap_or("")
}

fn editable(v: &AppStoreVersion) -> bool {
    EDITABLE_VERSION_STATES.contains(&state(v))
}

/// The platform's versions, newest first.
pub async fn versions(client: &AscClient, app_id: &str, platform: &str) -> Result<Vec<AppStoreVersion>, Error> {
    let url = ep::versions_of_app(
        client,
        app_id,
        &[("filter[platform]", platform), ("include", "build"), ("limit", "200")],
    )?;
    let mut list: Vec<AppStoreVersion> = client.get_all(url).await?;
    list.sort_by(|a, b| {
        let d = |v: &AppStoreVersion| v.attributes.as_ref().and_then(|a| a.created_date.clone());
        d(b).cmp(&d(a))
    });
    Ok(list)
}

/// The app's submissions on the platform, newest first.
pub async fn submissions(client: &AscClient, app_id: &str, platform: &str) -> Result<Vec<ReviewSubmission>, Error> {
    // The app's own list rather than `/v1/reviewSubmissions?filter[app]=`: same answer, and no
    // required bracketed query parameter (which Prism's validator cannot match).
    let url = ep::submissions_of_app(
        client,
        app_id,
        &[
            ("filter[platform]", platform),
            ("include", "appStoreVersionForReview"),
            ("limit", "200"),
        ],
    )?;
    Ok(client.get_all(url).await?)
}

fn submission_state(s: &ReviewSubmission) -> &str {
    s.attributes
        .as_ref()
        .and_then(|a| a.state.as_deref())
        .unwrap_or("UNKNOWN")
}

/// Reads everything and decides; any gap or conflict is an error before a single write. The gaps
/// also land in `missing`, for the outcome.
pub async fn check(client: &AscClient, target: &Target, r: &Release, missing: &mut Vec<String>) -> Result<Plan, Error> {
    let all = versions(client, &target.app_id, &target.platform).await?;
    let mut plan = Plan::default();
    let exact = all.iter().find(|v| string(v) == target.version_string).cloned();
    if let Some(v) = &exact {
        if !editable(v) {
            let build = v.related_id("build").unwrap_or("none");
            if build == target.build_id {
                plan.submitted = Some(v.clone());
                return Ok(plan);
            }
            return Err(Error::from(ReleaseError::VersionTaken {
                version: target.version_string.clone(),
                platform: target.platform.clone(),
                state: sanitize(state(v)),
                other_build: sanitize(build),
            }));
        }
    }
    let subs = submissions(client, &target.app_id, &target.platform).await?;
    let in_flight: Vec<ReviewSubmission> = subs
        .iter()
        .filter(|s| IN_FLIGHT_STATES.contains(&submission_state(s)))
        .cloned()
        .collect();
    plan.draft = subs.iter().find(|s| submission_state(s) == "READY_FOR_REVIEW").cloned();
    if let Some(s) = in_flight.first() {
        if !r.cancel_pending {
            let version = s
                .related_id("appStoreVersionForReview")
                .and_then(|id| all.iter().find(|v| v.id == id))
                .map_or("?".to_string(), |v| sanitize(string(v)));
            return Err(ReleaseError::SubmissionInFlight {
                id: sanitize(&s.id),
                state: sanitize(submission_state(s)),
                version,
                platform: target.platform.clone(),
            }
            .into());
        }
        plan.cancel = in_flight.clone();
    }
    // After a cancellation the cancelled version is editable again: it is the one to rename.
    let cancelled_version = in_flight
        .iter()
        .filter_map(|s| s.related_id("appStoreVersionForReview"))
        .find_map(|id| all.iter().find(|v| v.id == id));
    if exact.is_none() {
        plan.rename = all
            .iter()
            .find(|v| editable(v))
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
    let update = all
        .iter()
        .any(|v| matches!(state(v), "READY_FOR_DISTRIBUTION" | "READY_FOR_SALE") && Some(v.id.as_str()) != submitting);
    let given: Vec<String> = r.whats_new.iter().map(|(l, _)| l.clone()).collect();
    *missing = metadata::missing(client, &source, copies, update, &given).await?;
    if target.uses_non_exempt_encryption.is_none() {
        missing.push(format!(
            "Build {}: Export compliance (builds.usesNonExemptEncryption; pass --uses-non-exempt-encryption)",
            target.build_number.as_deref().unwrap_or(&target.build_id)
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
