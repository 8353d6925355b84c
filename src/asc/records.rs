//! What App Store Connect answers, in our terms: the records and states the typed operations
//! return. No JSON:API envelope, no relationships, no `attributes`: those stay in `model`.
//! The states keep their serde form (Apple's spelling) because reports print them that way, and
//! each has an `Unknown` fallback so a new value from Apple never breaks decoding.

use serde::{Deserialize, Deserializer, Serialize};

/// A field that may be absent or `null`: both read as the type's default.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuildUploadState {
    AwaitingUpload,
    Processing,
    Failed,
    Complete,
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetDeliveryState {
    AwaitingUpload,
    UploadComplete,
    Complete,
    Failed,
    #[default]
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessingState {
    Processing,
    Failed,
    Invalid,
    Valid,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BetaState {
    Processing,
    ProcessingException,
    MissingExportCompliance,
    ReadyForBetaTesting,
    InBetaTesting,
    Expired,
    InExportComplianceReview,
    ReadyForBetaSubmission,
    WaitingForBetaReview,
    InBetaReview,
    BetaRejected,
    BetaApproved,
    NotApplicable,
    #[serde(other)]
    Unknown,
}

/// `{code, description}` in upload states: Apple's processing messages, ITMS codes included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDetail {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A header Apple asks a part upload to carry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PartHeader {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
}

/// One pre-signed part upload, as Apple hands it out (every field may be missing; the upload
/// engine validates them). Deserializable because the Apple ID flow reads the same shape.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartUpload {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default, rename = "requestHeaders")]
    pub headers: Option<Vec<PartHeader>>,
    #[serde(default)]
    pub expiration: Option<String>,
    #[serde(default)]
    pub part_number: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Checksum {
    #[serde(default, deserialize_with = "nullable")]
    pub hash: String,
    #[serde(default, deserialize_with = "nullable")]
    pub algorithm: String,
}

/// An upload's processing state with Apple's messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadStatus {
    pub state: BuildUploadState,
    pub errors: Vec<StateDetail>,
    pub warnings: Vec<StateDetail>,
    pub infos: Vec<StateDetail>,
}

/// A reservation for one binary (`buildUploads`).
#[derive(Debug, Clone, Default)]
pub struct BuildUploadRecord {
    pub id: String,
    pub short_version: Option<String>,
    /// CFBundleVersion, the build number.
    pub build_number: Option<String>,
    pub platform: Option<String>,
    pub status: Option<UploadStatus>,
    pub app_id: Option<String>,
    /// The build Apple made of it, once linked.
    pub build_id: Option<String>,
}

impl BuildUploadRecord {
    /// The state, `Unknown` when Apple did not say.
    pub fn state(&self) -> BuildUploadState {
        self.status.as_ref().map_or(BuildUploadState::Unknown, |s| s.state)
    }
}

/// The fields of a new upload reservation.
#[derive(Debug, Clone, Copy)]
pub struct NewBuildUpload<'a> {
    pub app_id: &'a str,
    pub short_version: &'a str,
    pub build_number: &'a str,
    pub platform: &'a str,
}

/// The fields of a new upload file.
#[derive(Debug, Clone, Copy)]
pub struct NewUploadFile<'a> {
    pub upload_id: &'a str,
    pub file_name: &'a str,
    pub file_size: u64,
    pub uti: &'a str,
}

/// A file's delivery state with Apple's messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryStatus {
    pub state: AssetDeliveryState,
    pub errors: Vec<StateDetail>,
    pub warnings: Vec<StateDetail>,
}

/// One file of an upload (`buildUploadFiles`) and where its parts go.
#[derive(Debug, Clone, Default)]
pub struct UploadFileRecord {
    pub id: String,
    pub delivery: Option<DeliveryStatus>,
    pub asset_type: Option<String>,
    pub file_name: Option<String>,
    pub file_size: Option<u64>,
    /// The whole-file checksum Apple kept (only when the committing client sent one).
    pub file_checksum: Option<Checksum>,
    /// `None` when Apple sent no operations (a committed file).
    pub operations: Option<Vec<PartUpload>>,
}

/// The version train (preReleaseVersion) a build belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Train {
    pub version: Option<String>,
    pub platform: Option<String>,
}

/// A build (`builds`).
#[derive(Debug, Clone, Default)]
pub struct BuildRecord {
    pub id: String,
    /// CFBundleVersion, the build number (Apple's `version`).
    pub number: Option<String>,
    pub uploaded_date: Option<String>,
    pub expired: Option<bool>,
    pub processing_state: Option<ProcessingState>,
    pub uses_non_exempt_encryption: Option<bool>,
    pub app_id: Option<String>,
    pub upload_id: Option<String>,
    /// Its train, when asked for and Apple included it.
    pub train: Option<Train>,
}

/// A build as `builds list` shows it: the build, its train, beta states and groups.
#[derive(Debug, Clone, Default)]
pub struct BuildListing {
    pub build: BuildRecord,
    pub train: Option<Train>,
    pub internal_state: Option<String>,
    pub external_state: Option<String>,
    /// The build's groups: id and, when Apple included it, name.
    pub groups: Vec<(String, Option<String>)>,
}

/// An app record.
#[derive(Debug, Clone, Default)]
pub struct AppRecord {
    pub id: String,
    pub name: Option<String>,
    pub bundle_id: Option<String>,
}

/// The app's beta review contact and sign-in details.
#[derive(Debug, Clone, Default)]
pub struct ReviewDetail {
    pub contact_first_name: Option<String>,
    pub contact_last_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub demo_account_required: Option<bool>,
    pub demo_account_name: Option<String>,
}

/// One "Test Information" localization of the app.
#[derive(Debug, Clone, Default)]
pub struct BetaAppInfo {
    pub description: Option<String>,
    pub feedback_email: Option<String>,
}

/// A beta app review submission.
#[derive(Debug, Clone, Default)]
pub struct ReviewSubmission {
    pub id: String,
    pub state: Option<String>,
}

/// A TestFlight group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BetaGroupRecord {
    pub id: String,
    pub name: Option<String>,
    pub is_internal: Option<bool>,
    /// An internal group that gets every build by itself.
    pub has_access_to_all_builds: Option<bool>,
}

/// A TestFlight tester.
#[derive(Debug, Clone, Default)]
pub struct TesterRecord {
    pub id: String,
    pub email: Option<String>,
}

/// A build's "What to Test" text in one locale.
#[derive(Debug, Clone, Default)]
pub struct WhatToTestRecord {
    pub id: String,
    pub locale: Option<String>,
}
