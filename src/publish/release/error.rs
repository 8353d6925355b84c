//! Release failures that are not plain API errors, each with the fix.

use crate::error::{Error, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("the App Store version is not ready for review; missing: {}", missing.join("; "))]
    Incomplete { missing: Vec<String> },
    #[error(
        "review submission {id} ({state}, version {version}) is already with App Review for this app on {platform}"
    )]
    SubmissionInFlight {
        id: String,
        state: String,
        version: String,
        platform: String,
    },
    #[error("App Store version {version} on {platform} is {state} with another build ({other_build})")]
    VersionTaken {
        version: String,
        platform: String,
        state: String,
        other_build: String,
    },
    #[error("the app has no App Store version on any platform to take metadata from")]
    NoVersion,
    #[error("build {build_id} is {state}: only a VALID, unexpired build can be released")]
    NotReleasable { build_id: String, state: String },
    #[error("{0}")]
    NotFound(String),
    #[error("App Review rejected version {version} (review submission {id} has UNRESOLVED_ISSUES)")]
    Rejected { version: String, id: String },
    #[error("review submission {id} is still {state} after {waited}")]
    StillWaiting { id: String, state: String, waited: String },
}

impl From<ReleaseError> for Error {
    fn from(e: ReleaseError) -> Self {
        let (kind, hint): (ErrorKind, String) = match &e {
            ReleaseError::Incomplete { .. } => (
                ErrorKind::Conflict,
                "fill these in at App Store Connect → your app → the version page (and App Review Information), \
                 pass --whats-new for What's New and --uses-non-exempt-encryption for export compliance, then re-run; \
                 nothing was changed"
                    .into(),
            ),
            ReleaseError::SubmissionInFlight { .. } => (
                ErrorKind::Conflict,
                "re-run with --cancel-pending to cancel it first (it leaves App Review), or cancel it at App Store \
                 Connect → your app → App Review; nothing was changed"
                    .into(),
            ),
            ReleaseError::VersionTaken { .. } => (
                ErrorKind::Conflict,
                "a new build needs a new version string (CFBundleShortVersionString), or reject the version in \
                 App Store Connect first"
                    .into(),
            ),
            ReleaseError::NoVersion => (
                ErrorKind::Conflict,
                "create the app's first version in App Store Connect (it carries the metadata), then re-run".into(),
            ),
            ReleaseError::NotReleasable { .. } => (
                ErrorKind::Conflict,
                "release a VALID build; see `asc-publish builds status` for Apple's messages".into(),
            ),
            ReleaseError::NotFound(_) => (
                ErrorKind::Conflict,
                "check the id with `asc-publish builds list`".into(),
            ),
            ReleaseError::Rejected { .. } => (
                ErrorKind::Rejected,
                "read App Review's message in App Store Connect → your app → App Review (Resolution Center)".into(),
            ),
            ReleaseError::StillWaiting { .. } => (
                ErrorKind::Transient,
                "the submission stays with App Review; check later with `asc-publish release status`, or raise \
                 --review-timeout"
                    .into(),
            ),
        };
        Error::new(kind, e.to_string()).with_hint(hint).with_source(e)
    }
}
