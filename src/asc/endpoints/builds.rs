//! `builds` and their relationships.

use url::Url;

use super::{Query, at, seg};
use crate::asc::{AscClient, AscError};

/// GET the build list.
pub fn list(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/builds", q)
}

/// One build (GET, PATCH).
pub fn one(c: &AscClient, build_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/builds/{}", seg(build_id)), q)
}

/// The "What to Test" localizations of a build.
pub fn beta_build_localizations(c: &AscClient, build_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/builds/{}/betaBuildLocalizations", seg(build_id)), q)
}

/// The build's link to beta groups (POST adds groups).
pub fn beta_groups_link(c: &AscClient, build_id: &str) -> Result<Url, AscError> {
    at(
        c,
        &format!("/v1/builds/{}/relationships/betaGroups", seg(build_id)),
        &[],
    )
}

/// The build's link to individual testers (POST adds testers).
pub fn individual_testers_link(c: &AscClient, build_id: &str) -> Result<Url, AscError> {
    at(
        c,
        &format!("/v1/builds/{}/relationships/individualTesters", seg(build_id)),
        &[],
    )
}
