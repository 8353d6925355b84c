//! Review submissions as the release flow sees them: the app's submissions, opening one, adding a
//! version, submitting, cancelling and reading its state. JSON:API stays here.

use std::fmt;

use reqwest::Method;

use crate::asc::app_store::{ReviewSubmission, ReviewSubmissionItem, request};
use crate::asc::endpoints::app_store as ep;
use crate::asc::error::sanitize;
use crate::asc::model::Document;
use crate::asc::{AscClient, AscError};

/// Where a review submission is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmissionState {
    /// A draft: open for items, not sent.
    ReadyForReview,
    WaitingForReview,
    InReview,
    /// App Review rejected something in it.
    UnresolvedIssues,
    Canceling,
    Completing,
    Complete,
    /// A state this tool does not know (sanitized).
    Other(String),
    /// Apple sent none.
    Unknown,
}

impl SubmissionState {
    pub fn from_apple(s: Option<&str>) -> Self {
        match s {
            None => SubmissionState::Unknown,
            Some("READY_FOR_REVIEW") => SubmissionState::ReadyForReview,
            Some("WAITING_FOR_REVIEW") => SubmissionState::WaitingForReview,
            Some("IN_REVIEW") => SubmissionState::InReview,
            Some("UNRESOLVED_ISSUES") => SubmissionState::UnresolvedIssues,
            Some("CANCELING") => SubmissionState::Canceling,
            Some("COMPLETING") => SubmissionState::Completing,
            Some("COMPLETE") => SubmissionState::Complete,
            Some(other) => SubmissionState::Other(sanitize(other)),
        }
    }

    /// Apple's name, as the outcome reports it.
    pub fn as_str(&self) -> &str {
        match self {
            SubmissionState::ReadyForReview => "READY_FOR_REVIEW",
            SubmissionState::WaitingForReview => "WAITING_FOR_REVIEW",
            SubmissionState::InReview => "IN_REVIEW",
            SubmissionState::UnresolvedIssues => "UNRESOLVED_ISSUES",
            SubmissionState::Canceling => "CANCELING",
            SubmissionState::Completing => "COMPLETING",
            SubmissionState::Complete => "COMPLETE",
            SubmissionState::Other(s) => s,
            SubmissionState::Unknown => "UNKNOWN",
        }
    }

    /// With Apple: neither a draft nor finished. Apple allows one such per app and platform.
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            SubmissionState::WaitingForReview
                | SubmissionState::InReview
                | SubmissionState::UnresolvedIssues
                | SubmissionState::Canceling
        )
    }
}

impl fmt::Display for SubmissionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One review submission. `id` is kept as sent (paths escape it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRecord {
    pub id: String,
    pub state: SubmissionState,
    /// The App Store version it carries for review, when Apple names one.
    pub version_id: Option<String>,
}

impl From<&ReviewSubmission> for SubmissionRecord {
    fn from(s: &ReviewSubmission) -> Self {
        SubmissionRecord {
            id: s.id.clone(),
            state: state_of(s),
            version_id: s.related_id("appStoreVersionForReview").map(str::to_string),
        }
    }
}

fn state_of(s: &ReviewSubmission) -> SubmissionState {
    SubmissionState::from_apple(s.attributes.as_ref().and_then(|a| a.state.as_deref()))
}

/// The app's submissions on `platform`, in Apple's order (newest first).
pub async fn submissions(client: &AscClient, app_id: &str, platform: &str) -> Result<Vec<SubmissionRecord>, AscError> {
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
    let list: Vec<ReviewSubmission> = client.get_all(url).await?;
    Ok(list.iter().map(SubmissionRecord::from).collect())
}

/// Opens a draft submission for the app on `platform`; its id.
pub async fn create_submission(client: &AscClient, app_id: &str, platform: &str) -> Result<String, AscError> {
    let doc: Document<ReviewSubmission> = client
        .mutate_json(
            Method::POST,
            ep::review_submissions(client, &[])?,
            &request::create_submission(app_id, platform),
        )
        .await?;
    Ok(doc.data.id)
}

/// Whether the submission already carries the version.
pub async fn has_item(client: &AscClient, submission_id: &str, version_id: &str) -> Result<bool, AscError> {
    let url = ep::items_of_submission(client, submission_id, &[("limit", "50")])?;
    let items: Vec<ReviewSubmissionItem> = client.get_all(url).await?;
    Ok(items
        .iter()
        .any(|i| i.related_id("appStoreVersion") == Some(version_id)))
}

/// Adds the version to the submission. Apple refuses an incomplete version with a 409 whose
/// `associatedErrors` name each gap (see [`crate::asc::ApiError::associated`]).
pub async fn add_item(client: &AscClient, submission_id: &str, version_id: &str) -> Result<(), AscError> {
    client
        .mutate(
            Method::POST,
            ep::review_submission_items(client)?,
            Some(&request::add_item(submission_id, version_id)),
        )
        .await?;
    Ok(())
}

/// Sends the submission to App Review; the state Apple answers with.
pub async fn submit(client: &AscClient, submission_id: &str) -> Result<SubmissionState, AscError> {
    let doc: Document<ReviewSubmission> = client
        .mutate_json(
            Method::PATCH,
            ep::review_submission(client, submission_id, &[])?,
            &request::submit(submission_id),
        )
        .await?;
    Ok(state_of(&doc.data))
}

/// Asks Apple to cancel the submission (it passes through CANCELING).
pub async fn cancel(client: &AscClient, submission_id: &str) -> Result<(), AscError> {
    client
        .mutate(
            Method::PATCH,
            ep::review_submission(client, submission_id, &[])?,
            Some(&request::cancel(submission_id)),
        )
        .await?;
    Ok(())
}

/// The submission's state now.
pub async fn submission_state(client: &AscClient, submission_id: &str) -> Result<SubmissionState, AscError> {
    let doc: Document<ReviewSubmission> = client.get(ep::review_submission(client, submission_id, &[])?).await?;
    Ok(state_of(&doc.data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_record_names_its_version_and_a_known_state() {
        let s: ReviewSubmission = serde_json::from_str(
            r#"{"type":"reviewSubmissions","id":"s1","attributes":{"state":"IN_REVIEW"},
                "relationships":{"appStoreVersionForReview":{"data":{"type":"appStoreVersions","id":"v1"}}}}"#,
        )
        .unwrap();
        let r = SubmissionRecord::from(&s);
        assert_eq!(r.state, SubmissionState::InReview);
        assert!(r.state.in_flight());
        assert_eq!(r.version_id.as_deref(), Some("v1"));
    }

    #[test]
    fn states_round_trip_and_strange_ones_are_sanitized() {
        for name in [
            "READY_FOR_REVIEW",
            "WAITING_FOR_REVIEW",
            "IN_REVIEW",
            "UNRESOLVED_ISSUES",
            "CANCELING",
            "COMPLETING",
            "COMPLETE",
        ] {
            assert_eq!(SubmissionState::from_apple(Some(name)).as_str(), name);
        }
        let odd = SubmissionState::from_apple(Some("NEW\u{1b}[2J"));
        assert_eq!(odd, SubmissionState::Other("NEW[2J".into()));
        assert!(!odd.in_flight());
        assert_eq!(SubmissionState::from_apple(None).to_string(), "UNKNOWN");
        assert!(!SubmissionState::ReadyForReview.in_flight());
        assert!(SubmissionState::Canceling.in_flight());
    }
}
