//! App Store release resources: versions, their localizations, review details and phased
//! release, and review submissions with their items.

use url::Url;

use super::{Query, at, seg};
use crate::asc::{AscClient, AscError};

/// The App Store versions of an app (GET, filtered by platform and version string).
pub fn versions_of_app(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/appStoreVersions", seg(app_id)), q)
}

/// The version collection (POST creates one).
pub fn versions(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/appStoreVersions", &[])
}

/// One version (GET, PATCH).
pub fn version(c: &AscClient, id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/appStoreVersions/{}", seg(id)), q)
}

/// The version's link to its build (PATCH attaches one).
pub fn version_build_link(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/appStoreVersions/{}/relationships/build", seg(id)), &[])
}

/// The localizations of a version (description, keywords, What's New, …).
pub fn localizations_of_version(c: &AscClient, id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(
        c,
        &format!("/v1/appStoreVersions/{}/appStoreVersionLocalizations", seg(id)),
        q,
    )
}

/// The localization collection (POST creates one).
pub fn localizations(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/appStoreVersionLocalizations", &[])
}

/// One localization (PATCH).
pub fn localization(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/appStoreVersionLocalizations/{}", seg(id)), &[])
}

/// The screenshot sets of a localization.
pub fn screenshot_sets(c: &AscClient, localization_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(
        c,
        &format!(
            "/v1/appStoreVersionLocalizations/{}/appScreenshotSets",
            seg(localization_id)
        ),
        q,
    )
}

/// The App Review contact details of a version.
pub fn review_detail_of_version(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(
        c,
        &format!("/v1/appStoreVersions/{}/appStoreReviewDetail", seg(id)),
        &[],
    )
}

/// The phased release of a version (GET).
pub fn phased_release_of_version(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(
        c,
        &format!("/v1/appStoreVersions/{}/appStoreVersionPhasedRelease", seg(id)),
        &[],
    )
}

/// The phased release collection (POST turns it on for a version).
pub fn phased_releases(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/appStoreVersionPhasedReleases", &[])
}

/// One phased release (DELETE turns it off).
pub fn phased_release(c: &AscClient, id: &str) -> Result<Url, AscError> {
    at(c, &format!("/v1/appStoreVersionPhasedReleases/{}", seg(id)), &[])
}

/// The review submissions of an app (GET, filtered by platform and state).
pub fn submissions_of_app(c: &AscClient, app_id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/apps/{}/reviewSubmissions", seg(app_id)), q)
}

/// Review submissions (GET needs filter[app]; POST opens one).
pub fn review_submissions(c: &AscClient, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, "/v1/reviewSubmissions", q)
}

/// One review submission (GET; PATCH submits or cancels).
pub fn review_submission(c: &AscClient, id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/reviewSubmissions/{}", seg(id)), q)
}

/// The items of a review submission.
pub fn items_of_submission(c: &AscClient, id: &str, q: &Query<'_>) -> Result<Url, AscError> {
    at(c, &format!("/v1/reviewSubmissions/{}/items", seg(id)), q)
}

/// The review submission item collection (POST adds a version to a submission).
pub fn review_submission_items(c: &AscClient) -> Result<Url, AscError> {
    at(c, "/v1/reviewSubmissionItems", &[])
}
