//! What `builds list` and `builds status` show, read from App Store Connect: Apple's build,
//! upload and included records turned into rows and states in our terms.

use serde::Serialize;

use crate::asc::error::sanitize;
use crate::asc::{AscClient, BuildUploadRecord, build_uploads, builds};
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
    let listings = builds::list(client, app_id, version, platform, limit).await?;
    let mut rows = Vec::with_capacity(listings.len());
    for l in listings {
        let b = l.build;
        let train = l.train.unwrap_or_default();
        rows.push(BuildRow {
            id: b.id,
            version: train.version.as_deref().map(sanitize),
            build_number: b.number.as_deref().map(sanitize),
            platform: train.platform.as_deref().map(sanitize),
            uploaded: b.uploaded_date.as_deref().map(sanitize),
            processing_state: state_text(&b.processing_state),
            internal_state: l.internal_state.as_deref().map(sanitize),
            external_state: l.external_state.as_deref().map(sanitize),
            expired: b.expired.unwrap_or(false),
            groups: l
                .groups
                .into_iter()
                .map(|(id, name)| name.as_deref().map_or(id, sanitize))
                .collect(),
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

fn upload_messages(u: &BuildUploadRecord) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(st) = &u.status {
        for (level, list) in [("error", &st.errors), ("warning", &st.warnings), ("info", &st.infos)] {
            for d in list {
                out.push(crate::publish::processing::message(level, d));
            }
        }
    }
    out
}

/// Tries the id as an upload, then as a build; neither → exit 4.
pub async fn status(client: &AscClient, id: &str) -> Result<Status, Error> {
    let (upload, kind) = match build_uploads::get(client, id, true).await {
        Ok(u) => (Some(u), "upload"),
        Err(e) if e.is_not_found() => (None, "build"),
        Err(e) => return Err(e.into()),
    };
    let build_id = match &upload {
        Some(u) => u.build_id.clone(),
        None => Some(id.to_string()),
    };
    let mut build = None;
    if let Some(b) = &build_id {
        match builds::get_with_upload(client, b).await {
            Ok(found) => build = Some(found),
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
    let upload = match (upload, build.as_ref().and_then(|b| b.upload_id.as_deref())) {
        (Some(u), _) => Some(u),
        (None, Some(uid)) => build_uploads::get(client, uid, false).await.ok(),
        (None, None) => None,
    };
    let ua = upload.as_ref();
    let ba = build.as_ref();
    Ok(Status {
        kind: kind.into(),
        upload_id: upload.as_ref().map(|u| u.id.clone()),
        build_id: build.as_ref().map(|b| b.id.clone()),
        version: ua.and_then(|a| a.short_version.as_deref()).map(sanitize),
        build_number: ua
            .and_then(|a| a.build_number.as_deref())
            .or(ba.and_then(|a| a.number.as_deref()))
            .map(sanitize),
        upload_state: ua
            .and_then(|a| a.status.as_ref())
            .and_then(|s| state_text(&Some(s.state))),
        processing_state: ba.and_then(|a| state_text(&a.processing_state)),
        expired: ba.and_then(|a| a.expired),
        messages: upload.as_ref().map(upload_messages).unwrap_or_default(),
    })
}
