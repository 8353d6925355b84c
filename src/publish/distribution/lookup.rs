//! What `distribute` needs to know about an upload or a build before distributing it, read from
//! App Store Connect and handed over in our terms.

use reqwest::Method;

use crate::asc::endpoints::{build_uploads, builds};
use crate::asc::error::sanitize;
pub use crate::asc::model::ProcessingState;
use crate::asc::model::{Build, BuildUpload, Document, request};
use crate::asc::{AscClient, AscError};

/// An upload's version, number, platform and app, as Apple recorded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadFacts {
    pub short_version: Option<String>,
    pub build_number: Option<String>,
    pub platform: Option<String>,
    pub app_id: Option<String>,
}

pub async fn upload_facts(client: &AscClient, upload_id: &str) -> Result<UploadFacts, AscError> {
    let url = build_uploads::one(client, upload_id, &[])?;
    let doc: Document<BuildUpload> = client.get(url).await?;
    let a = doc.data.attributes.as_ref();
    Ok(UploadFacts {
        short_version: a.and_then(|a| a.cf_bundle_short_version_string.clone()),
        build_number: a.and_then(|a| a.cf_bundle_version.clone()),
        platform: a.and_then(|a| a.platform.clone()),
        app_id: doc.data.related_id("app").map(str::to_string),
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
    let url = builds::one(client, build_id, &[("include", "app,preReleaseVersion")])?;
    let doc: Document<Build> = client.get(url).await?;
    let build = &doc.data;
    let attrs = build.attributes.as_ref();
    Ok(BuildFacts {
        state: attrs
            .and_then(|a| a.processing_state)
            .unwrap_or(ProcessingState::Unknown),
        expired: attrs.and_then(|a| a.expired) == Some(true),
        app_id: build.related_id("app").map(str::to_string),
        uses_non_exempt_encryption: attrs.and_then(|a| a.uses_non_exempt_encryption),
        train_version: pre_release_version(build, &doc.included, "version"),
        train_platform: pre_release_version(build, &doc.included, "platform"),
    })
}

/// Answers the export-compliance question of a build.
pub async fn answer_export_compliance(client: &AscClient, build_id: &str, uses: bool) -> Result<(), AscError> {
    let url = builds::one(client, build_id, &[])?;
    client
        .mutate(Method::PATCH, url, Some(&request::set_encryption(build_id, uses)))
        .await?;
    Ok(())
}

/// An attribute (`version`, `platform`) of the preReleaseVersion the build links to, from `included`.
fn pre_release_version(build: &Build, included: &[serde_json::Value], attribute: &str) -> Option<String> {
    let linked = build.related_id("preReleaseVersion");
    included
        .iter()
        .filter(|i| i["type"] == "preReleaseVersions")
        .find(|i| linked.is_none_or(|id| i["id"] == id))
        .and_then(|i| i["attributes"][attribute].as_str())
        .map(sanitize)
}
