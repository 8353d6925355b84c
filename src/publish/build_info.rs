//! What `builds list` and `builds status` show, read from App Store Connect: Apple's build,
//! upload and included records turned into rows and states in our terms.

use serde::Serialize;
use serde_json::Value;

use crate::asc::AscClient;
use crate::asc::endpoints::{build_uploads, builds};
use crate::asc::error::sanitize;
use crate::asc::model::{Build, BuildUpload, Document, ListDocument};
use crate::error::Error;
use crate::outcome::Message;
use crate::publish::distribution::DistributionError;

/// One row of `builds list`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildRow {
    pub id: String,
    pub version: Option<String>,
    pub build_number: Option<String>,
    /// The version train's platform (`IOS`, `MAC_OS`, `TV_OS`, `VISION_OS`).
    pub platform: Option<String>,
    pub uploaded: Option<String>,
    pub processing_state: Option<String>,
    pub internal_state: Option<String>,
    pub external_state: Option<String>,
    pub expired: bool,
    pub groups: Vec<String>,
}

fn find_included<'a>(included: &'a [Value], kind: &str, id: &str) -> Option<&'a Value> {
    included.iter().find(|i| i["type"] == kind && i["id"] == id)
}

fn str_of(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(sanitize)
}

fn to_many(b: &Build, name: &str) -> Vec<String> {
    b.relationships
        .as_ref()
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("data"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|l| l["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn state_text<T: Serialize>(v: &Option<T>) -> Option<String> {
    v.as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The app's builds, newest first, with their TestFlight states and groups.
pub async fn list(
    client: &AscClient,
    app_id: &str,
    version: Option<&str>,
    platform: Option<&str>,
    limit: u16,
) -> Result<Vec<BuildRow>, Error> {
    let limit = limit.to_string();
    let mut q = vec![
        ("filter[app]", app_id),
        ("filter[processingState]", "PROCESSING,FAILED,INVALID,VALID"),
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
    let url = builds::list(client, &q)?;
    let doc: ListDocument<Build> = client.get(url).await?;
    let mut rows = Vec::new();
    for b in &doc.data {
        let attrs = b.attributes.as_ref();
        let train = b
            .related_id("preReleaseVersion")
            .and_then(|id| find_included(&doc.included, "preReleaseVersions", id));
        let version = train.and_then(|p| str_of(p, "/attributes/version"));
        let platform = train.and_then(|p| str_of(p, "/attributes/platform"));
        let detail = b
            .related_id("buildBetaDetail")
            .and_then(|id| find_included(&doc.included, "buildBetaDetails", id));
        let groups = to_many(b, "betaGroups")
            .iter()
            .map(|id| {
                find_included(&doc.included, "betaGroups", id)
                    .and_then(|g| str_of(g, "/attributes/name"))
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        rows.push(BuildRow {
            id: b.id.clone(),
            version,
            build_number: attrs.and_then(|a| a.version.as_deref()).map(sanitize),
            platform,
            uploaded: attrs.and_then(|a| a.uploaded_date.as_deref()).map(sanitize),
            processing_state: attrs.and_then(|a| state_text(&a.processing_state)),
            internal_state: detail.and_then(|d| str_of(d, "/attributes/internalBuildState")),
            external_state: detail.and_then(|d| str_of(d, "/attributes/externalBuildState")),
            expired: attrs.and_then(|a| a.expired).unwrap_or(false),
            groups,
        });
    }
    Ok(rows)
}

/// What `builds status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `upload` or `build`: which kind of id was given.
    pub kind: String,
    pub upload_id: Option<String>,
    pub build_id: Option<String>,
    pub version: Option<String>,
    pub build_number: Option<String>,
    pub upload_state: Option<String>,
    pub processing_state: Option<String>,
    pub expired: Option<bool>,
    pub messages: Vec<Message>,
}

fn upload_messages(u: &BuildUpload) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(st) = u.attributes.as_ref().and_then(|a| a.state.as_ref()) {
        for (level, list) in [("error", &st.errors), ("warning", &st.warnings), ("info", &st.infos)] {
            for d in list.iter().flatten() {
                out.push(crate::publish::processing::message(level, d));
            }
        }
    }
    out
}

/// Tries the id as an upload, then as a build; neither → exit 4.
pub async fn status(client: &AscClient, id: &str) -> Result<Status, Error> {
    let url = build_uploads::one(client, id, &[("include", "build")])?;
    let (upload, kind) = match client.get::<Document<BuildUpload>>(url).await {
        Ok(doc) => (Some(doc.data), "upload"),
        Err(e) if e.is_not_found() => (None, "build"),
        Err(e) => return Err(e.into()),
    };
    let build_id = match &upload {
        Some(u) => u.related_id("build").map(str::to_string),
        None => Some(id.to_string()),
    };
    let mut build = None;
    if let Some(b) = &build_id {
        let url = builds::one(client, b, &[("include", "buildUpload")])?;
        match client.get::<Document<Build>>(url).await {
            Ok(doc) => build = Some(doc.data),
            Err(e) if e.is_not_found() && upload.is_none() => {
                return Err(DistributionError::NotFound(format!(
                    "'{}' is neither an upload id nor a build id of this account",
                    sanitize(id)
                ))
                .into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    // A build id: its upload (when linked) carries Apple's messages.
    let upload = match (upload, build.as_ref().and_then(|b| b.related_id("buildUpload"))) {
        (Some(u), _) => Some(u),
        (None, Some(uid)) => {
            let url = build_uploads::one(client, uid, &[])?;
            client.get::<Document<BuildUpload>>(url).await.ok().map(|d| d.data)
        }
        (None, None) => None,
    };
    let ua = upload.as_ref().and_then(|u| u.attributes.as_ref());
    let ba = build.as_ref().and_then(|b| b.attributes.as_ref());
    Ok(Status {
        kind: kind.into(),
        upload_id: upload.as_ref().map(|u| u.id.clone()),
        build_id: build.as_ref().map(|b| b.id.clone()),
        version: ua
            .and_then(|a| a.cf_bundle_short_version_string.as_deref())
            .map(sanitize),
        build_number: ua
            .and_then(|a| a.cf_bundle_version.as_deref())
            .or(ba.and_then(|a| a.version.as_deref()))
            .map(sanitize),
        upload_state: ua
            .and_then(|a| a.state.as_ref())
            .and_then(|s| state_text(&Some(s.state))),
        processing_state: ba.and_then(|a| state_text(&a.processing_state)),
        expired: ba.and_then(|a| a.expired),
        messages: upload.as_ref().map(upload_messages).unwrap_or_default(),
    })
}
