//! TestFlight resources not reached through one app or build.

use url::Url;

use super::{Query, at, seg};
use crate::asc::{AscClient, AscError};

/// The beta group collection.
pub fn groups(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/betaGroups", q)
}

/// The beta tester collection.
pub fn testers(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/betaTesters", q)
}

/// The "What to Test" collection (POST creates one).
pub fn build_localizations(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/betaBuildLocalizations", &[])
}

/// One "What to Test" localization (PATCH).
pub fn build_localization(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/betaBuildLocalizations/{}", seg(id)), &[])
}

/// Beta review submissions (GET with filters, POST submits).
pub fn review_submissions(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/betaAppReviewSubmissions", q)
}

/// Tester notifications for a build (POST).
pub fn build_notifications(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/buildBetaNotifications", &[])
}
