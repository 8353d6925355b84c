//! Failures of the upload flow that are not plain API errors, each with the fix for the user.

use crate::error::{Error, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("no app with bundle id {bundle_id} in this App Store Connect account")]
    AppNotFound { bundle_id: String },
    #[error("app {app_id} has bundle id {app_bundle_id}, but the IPA's bundle id is {ipa_bundle_id}")]
    AppBundleMismatch {
        app_id: String,
        app_bundle_id: String,
        ipa_bundle_id: String,
    },
    #[error("build {version} ({build}) was already uploaded to App Store Connect{detail}")]
    BuildNumberUsed {
        version: String,
        build: String,
        highest: Option<String>,
        next: Option<String>,
        detail: String,
    },
    #[error("App Store Connect's upload reservation is unusable: {0}")]
    BadReservation(String),
    #[error("uploading part {part} failed: {message}")]
    PartFailed { part: u64, message: String, expired: bool },
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("App Store Connect rejected the build: {0}")]
    Rejected(String),
    #[error("timed out after {waited} waiting for App Store Connect ({stage})")]
    Timeout { waited: String, stage: String },
    #[error("App Store Connect did not confirm the upload: {0}")]
    CommitNotConfirmed(String),
    #[error("{path} changed while it was being uploaded ({detail}); the upload was not committed")]
    FileChanged { path: String, detail: String },
}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        let (kind, hint): (ErrorKind, Option<String>) = match &e {
            PublishError::AppNotFound { bundle_id } => (
                ErrorKind::Conflict,
                Some(format!(
                    "create the app record in App Store Connect first (Apps → + → New App, bundle id {bundle_id}), \
                     or pass --app-id; also check that the API key has access to this app"
                )),
            ),
            PublishError::AppBundleMismatch { ipa_bundle_id, .. } => (
                ErrorKind::Conflict,
                Some(format!(
                    "pass the app id of the app with bundle id {ipa_bundle_id} (or leave --app-id / ASC_APP_ID \
                     empty to look it up); Apple would fail processing with ITMS-90054 after the whole upload"
                )),
            ),
            PublishError::BuildNumberUsed { next, highest, .. } => (
                ErrorKind::Conflict,
                Some(match (next, highest) {
                    (Some(n), Some(h)) => format!(
                        "increase CFBundleVersion: the highest build number in use is {h}; the next free one is {n}"
                    ),
                    _ => "increase CFBundleVersion (the build number) and build again".to_string(),
                }),
            ),
            PublishError::BadReservation(_) => (ErrorKind::Transient, Some("re-run the upload".into())),
            PublishError::PartFailed { expired: true, .. } => (
                ErrorKind::Transient,
                Some("the upload URLs expired; re-run and a new reservation will be made".into()),
            ),
            PublishError::PartFailed { .. } => (
                ErrorKind::Transient,
                Some("re-run the upload; the interrupted reservation is resumed".into()),
            ),
            PublishError::Io { .. } => (ErrorKind::Usage, None),
            PublishError::Rejected(_) => (
                ErrorKind::Rejected,
                Some("fix the problems Apple listed above, increase the build number and upload again".into()),
            ),
            PublishError::Timeout { .. } => (
                ErrorKind::Transient,
                Some("the build may still finish processing; raise --timeout or check App Store Connect".into()),
            ),
            PublishError::CommitNotConfirmed(_) => (ErrorKind::Transient, Some("re-run the upload".into())),
            PublishError::FileChanged { .. } => (
                ErrorKind::Usage,
                Some(
                    "make sure no other step writes, replaces or touches the IPA while asc-publish uploads it, \
                     then run the upload again (the reservation is resumed)"
                        .into(),
                ),
            ),
        };
        let err = Error::new(kind, e.to_string()).with_source(e);
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}
