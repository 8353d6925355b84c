//! `apps` and what hangs off one app.

use url::Url;

use super::{Query, at, seg};
use crate::asc::{AscClient, AscError};

/// GET the app list.
pub fn list(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/apps", q)
}

/// One app.
pub fn one(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}", seg(app_id)), q)
}

/// The build uploads of an app.
pub fn build_uploads(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/buildUploads", seg(app_id)), q)
}

/// The TestFlight (beta app) localizations of an app.
pub fn beta_app_localizations(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/betaAppLocalizations", seg(app_id)), q)
}

/// The beta review contact details of an app.
pub fn beta_app_review_detail(c: &AscClient, app_id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/betaAppReviewDetail", seg(app_id)), &[])
}

/// The TestFlight groups of an app.
pub fn beta_groups(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/betaGroups", seg(app_id)), q)
}
