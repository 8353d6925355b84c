//! Typed operations on builds.

use reqwest::Method;
use serde_json::Value;

use super::endpoints::builds;
use super::model::{self, Build, Document, ListDocument, request};
use super::records::{BuildListing, BuildRecord};
use super::testflight::request as beta_request;
use super::{AscClient, AscError};

/// Every processing state: Apple's build list leaves some out unless asked.
const ALL_STATES: &str = "PROCESSING,FAILED,INVALID,VALID";

/// Which builds of an app [`find`] asks for.
#[derive(Debug, Clone, Copy)]
pub struct BuildFilter<'a> {
    pub app_id: &'a str,
    pub short_version: &'a str,
    pub platform: Option<&'a str>,
    /// One CFBundleVersion, else every build of the version.
    pub number: Option<&'a str>,
    pub unexpired_only: bool,
}

/// The builds of a version (Apple's filters), each with its train when Apple included it.
pub async fn find(c: &AscClient, f: &BuildFilter<'_>) -> Result<Vec<BuildRecord>, AscError> {
    let mut params = vec![
        ("filter[app]", f.app_id),
        ("filter[preReleaseVersion.version]", f.short_version),
        ("filter[processingState]", ALL_STATES),
        ("include", "preReleaseVersion"),
        ("limit", "200"),
    ];
    if let Some(p) = f.platform {
        params.push(("filter[preReleaseVersion.platform]", p));
    }
    if let Some(n) = f.number {
        params.push(("filter[version]", n));
    }
    if f.unexpired_only {
        params.push(("filter[expired]", "false"));
    }
    let url = builds::list(c, &params)?;
    let (found, included) = c.get_all_included::<Build>(url).await?;
    Ok(found.into_iter().map(|b| model::build_record(b, &included)).collect())
}

/// The builds of a version on a platform, without their trains.
pub async fn of_version(
    c: &AscClient,
    app_id: &str,
    short_version: &str,
    platform: &str,
) -> Result<Vec<BuildRecord>, AscError> {
    let url = builds::list(
        c,
        &[
            ("filter[app]", app_id),
            ("filter[preReleaseVersion.version]", short_version),
            ("filter[preReleaseVersion.platform]", platform),
            ("filter[processingState]", ALL_STATES),
            ("limit", "200"),
        ],
    )?;
    let found: Vec<Build> = c.get_all(url).await?;
    Ok(found.into_iter().map(|b| model::build_with_train(b, None)).collect())
}

/// One page of the app's builds, newest first, with train, beta states and group names.
pub async fn list(
    c: &AscClient,
    app_id: &str,
    version: Option<&str>,
    platform: Option<&str>,
    limit: u16,
) -> Result<Vec<BuildListing>, AscError> {
    let limit = limit.to_string();
    let mut q = vec![
        ("filter[app]", app_id),
        ("filter[processingState]", ALL_STATES),
        ("sort", "-uploadedDate"),
        ("include", "preReleaseVersion,buildBetaDetail,betaGroups"),
        ("limit", limit.as_str()),
    ];
    if let Some(v) = version {
        q.push(("filter[preReleaseVersion.version]", v));
    }
    if let Some(p) = platform {
        q.push(("filter[preReleaseVersion.platform]", p));
    }
    let url = builds::list(c, &q)?;
    let doc: ListDocument<Build> = c.get(url).await?;
    let included = &doc.included;
    let text = |v: &Value, pointer: &str| v.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::with_capacity(doc.data.len());
    for b in doc.data {
        let detail = b
            .related_id("buildBetaDetail")
            .and_then(|id| model::find_included(included, "buildBetaDetails", id));
        let groups = to_many(&b, "betaGroups")
            .into_iter()
            .map(|id| {
                let name = model::find_included(included, "betaGroups", &id).and_then(|g| text(g, "/attributes/name"));
                (id, name)
            })
            .collect();
        let internal_state = detail.and_then(|d| text(d, "/attributes/internalBuildState"));
        let external_state = detail.and_then(|d| text(d, "/attributes/externalBuildState"));
        let build = model::build_record(b, included);
        out.push(BuildListing {
            train: build.train.clone(),
            build,
            internal_state,
            external_state,
            groups,
        });
    }
    Ok(out)
}

/// The ids of a to-many relationship.
fn to_many(b: &Build, name: &str) -> Vec<String> {
    b.relationships
        .as_ref()
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("data"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|l| l["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// One build.
pub async fn get(c: &AscClient, build_id: &str) -> Result<BuildRecord, AscError> {
    let url = builds::one(c, build_id, &[])?;
    let doc: Document<Build> = c.get(url).await?;
    Ok(model::build_with_train(doc.data, None))
}

/// One build with the link to its upload.
pub async fn get_with_upload(c: &AscClient, build_id: &str) -> Result<BuildRecord, AscError> {
    let url = builds::one(c, build_id, &[("include", "buildUpload")])?;
    let doc: Document<Build> = c.get(url).await?;
    Ok(model::build_with_train(doc.data, None))
}

/// One build with its app and train. The train is the linked one, or (when Apple names no link)
/// the first one included.
pub async fn get_with_train(c: &AscClient, build_id: &str) -> Result<BuildRecord, AscError> {
    let url = builds::one(c, build_id, &[("include", "app,preReleaseVersion")])?;
    let doc: Document<Build> = c.get(url).await?;
    let linked = doc.data.related_id("preReleaseVersion");
    let train = doc
        .included
        .iter()
        .filter(|i| i["type"] == "preReleaseVersions")
        .find(|i| linked.is_none_or(|id| i["id"] == id))
        .map(model::train_of);
    Ok(model::build_with_train(doc.data, train))
}

/// Answers the export-compliance question (`usesNonExemptEncryption`).
pub async fn set_encryption(c: &AscClient, build_id: &str, uses: bool) -> Result<(), AscError> {
    let url = builds::one(c, build_id, &[])?;
    c.mutate(Method::PATCH, url, Some(&request::set_encryption(build_id, uses)))
        .await?;
    Ok(())
}

/// Expires a build (`expired: true`).
pub async fn expire(c: &AscClient, build_id: &str) -> Result<(), AscError> {
    let url = builds::one(c, build_id, &[])?;
    c.mutate(Method::PATCH, url, Some(&beta_request::expire_build(build_id)))
        .await?;
    Ok(())
}
