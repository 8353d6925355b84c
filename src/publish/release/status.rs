//! `release status`: the App Store version (the given version string, else the newest) and the
//! newest review submission of an app on a platform, read-only.

use crate::asc::AscClient;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::outcome::ReleaseOutcome;
use crate::publish::release::preflight::{submissions, versions};
use crate::publish::release::wait::state_of;

pub async fn read(
    client: &AscClient,
    app_id: &str,
    platform: &str,
    version_string: Option<&str>,
) -> Result<ReleaseOutcome, Error> {
    let all = versions(client, app_id, platform).await?;
    let v = match version_string {
        Some(s) => all
            .iter()
            .find(|v| v.attributes.as_ref().and_then(|a| a.version_string.as_deref()) == Some(s)),
        None => all.first(),
    };
    let mut out = ReleaseOutcome {
        platform: Some(platform.to_string()),
        version_string: version_string.map(str::to_string),
        ..ReleaseOutcome::default()
    };
    if let Some(v) = v {
        let a = v.attributes.clone().unwrap_or_default();
        out.version_id = Some(sanitize(&v.id));
        out.version_string = a.version_string.as_deref().map(sanitize);
        out.version_state = v.state().map(sanitize);
        out.release_type = a.release_type.as_deref().map(sanitize);
        out.earliest_release_date = a.earliest_release_date.as_deref().map(sanitize);
    }
    let subs = submissions(client, app_id, platform).await?;
    let mine = subs
        .iter()
        .find(|s| v.is_some_and(|v| s.related_id("appStoreVersionForReview") == Some(v.id.as_str())));
    if let Some(s) = mine.or(subs.first()) {
        out.submission_id = Some(sanitize(&s.id));
        out.submission_state = Some(state_of(s));
    }
    Ok(out)
}
