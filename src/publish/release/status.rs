//! `release status`: the App Store version (the given version string, else the newest) and the
//! newest review submission of an app on a platform, read-only.

use crate::asc::AscClient;
use crate::asc::app_store_submissions::submissions;
use crate::asc::app_store_versions::versions;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::outcome::ReleaseOutcome;

pub async fn read(
    client: &AscClient,
    app_id: &str,
    platform: &str,
    version_string: Option<&str>,
) -> Result<ReleaseOutcome, Error> {
    let all = versions(client, app_id, platform).await?;
    let v = match version_string {
        Some(s) => all.iter().find(|v| v.version_string == s),
        None => all.first(),
    };
    let mut out = ReleaseOutcome {
        platform: Some(platform.to_string()),
        version_string: version_string.map(str::to_string),
        ..ReleaseOutcome::default()
    };
    if let Some(v) = v {
        out.version_id = Some(sanitize(&v.id));
        out.version_string = Some(v.version_string.clone()).filter(|s| !s.is_empty());
        out.version_state = v.state.clone();
        out.release_type = v.release_type.clone();
        out.earliest_release_date = v.earliest_release_date.clone();
    }
    let subs = submissions(client, app_id, platform).await?;
    let mine = subs
        .iter()
        .find(|s| v.is_some_and(|v| s.version_id.as_deref() == Some(v.id.as_str())));
    if let Some(s) = mine.or(subs.first()) {
        out.submission_id = Some(sanitize(&s.id));
        out.submission_state = Some(s.state.to_string());
    }
    Ok(out)
}
