//! What `distribute` needs to know about an upload or a build before distributing it, read from
//! App Store Connect and handed over in our terms.

pub use crate::asc::ProcessingState;
use crate::asc::error::sanitize;
use crate::asc::{AscClient, AscError, build_uploads, builds};

/// An upload's version, number, platform and app, as Apple recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadFacts {
    pub short_version: Option<String>,
    pub build_number: Option<String>,
    pub platform: Option<String>,
    pub app_id: Option<String>,
}

pub async fn upload_facts(client: &AscClient, upload_id: &str) -> Result<UploadFacts, AscError> {
    let u = build_uploads::get(client, upload_id, false).await?;
    Ok(UploadFacts {
        short_version: u.short_version,
        build_number: u.build_number,
        platform: u.platform,
        app_id: u.app_id,
    })
}

/// A build's state and what it is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildFacts {
    /// Apple's processing state (`Unknown` when not said).
    pub state: ProcessingState,
    pub expired: bool,
    pub app_id: Option<String>,
    pub uses_non_exempt_encryption: Option<bool>,
    /// The version and platform of the train (preReleaseVersion) Apple linked the build to.
    pub train_version: Option<String>,
    pub train_platform: Option<String>,
}

/// GETs the build with its app and train.
pub async fn build_facts(client: &AscClient, build_id: &str) -> Result<BuildFacts, AscError> {
    let b = builds::get_with_train(client, build_id).await?;
    let train = b.train.unwrap_or_default();
    Ok(BuildFacts {
        state: b.processing_state.unwrap_or(ProcessingState::Unknown),
        expired: b.expired == Some(true),
        app_id: b.app_id,
        uses_non_exempt_encryption: b.uses_non_exempt_encryption,
        train_version: train.version.as_deref().map(sanitize),
        train_platform: train.platform.as_deref().map(sanitize),
    })
}

/// Answers the export-compliance question of a build.
pub async fn answer_export_compliance(client: &AscClient, build_id: &str, uses: bool) -> Result<(), AscError> {
    builds::set_encryption(client, build_id, uses).await
}
