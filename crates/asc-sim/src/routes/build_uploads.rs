//! `buildUploads`: create (with Apple's duplicate check), read, list per app, delete.

use serde_json::{Value, json};

use super::{Reply, Req, attributes, body_data, enum_attr, page, relationship_id, string_attr, unknown_related};
use crate::json::{self, ApiError};
use crate::keys;
use crate::state::{Store, Upload, UploadState, compare_versions};
use crate::storage;

pub(crate) const PLATFORMS: &[&str] = &["IOS", "MAC_OS", "TV_OS", "VISION_OS"];
const STATES: &[&str] = &["AWAITING_UPLOAD", "PROCESSING", "FAILED", "COMPLETE"];
const INCLUDES: &[&str] = &["build", "assetFile", "assetDescriptionFile", "assetSpiFile"];

fn includes(req: &Req<'_>, store: &Store, u: &Upload, include: &[String], out: &mut Vec<Value>) {
    let mut items = Vec::new();
    for name in include {
        match name.as_str() {
            "build" => {
                if let Some(b) = u.build_id.as_ref().and_then(|id| store.builds.get(id)) {
                    items.push(json::build(req.base(), b));
                }
            }
            other => {
                let asset = match other {
                    "assetFile" => "ASSET",
                    "assetDescriptionFile" => "ASSET_DESCRIPTION",
                    _ => "ASSET_SPI",
                };
                if let Some(f) = u.files.get(asset).and_then(|id| store.files.get(id)) {
                    items.push(json::upload_file(req.base(), f));
                }
            }
        }
    }
    json::push_unique(out, items);
}

pub(super) fn list_for_app(req: &Req<'_>, app_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[
        "filter[cfBundleShortVersionString]",
        "filter[cfBundleVersion]",
        "filter[platform]",
        "filter[state]",
        "sort",
        "limit",
        "cursor",
        "include",
    ])?;
    let include = req.query.include(INCLUDES)?;
    let platforms = req.query.enum_list("filter[platform]", PLATFORMS)?;
    let states = req.query.enum_list("filter[state]", STATES)?;
    let shorts = req.query.list("filter[cfBundleShortVersionString]");
    let versions = req.query.list("filter[cfBundleVersion]");
    let sort = req.query.get("sort").unwrap_or("");
    if ![
        "",
        "cfBundleVersion",
        "-cfBundleVersion",
        "uploadedDate",
        "-uploadedDate",
    ]
    .contains(&sort)
    {
        return Err(ApiError::bad_param(
            "sort",
            format!("'{sort}' is not a valid sort field"),
        ));
    }
    let store = req.shared.store();
    if store.app(app_id).is_none() {
        return Err(ApiError::not_found("apps", app_id));
    }
    let mut uploads: Vec<&Upload> = store
        .uploads
        .values()
        .filter(|u| u.app_id == app_id)
        .filter(|u| platforms.as_ref().is_none_or(|l| l.contains(&u.platform)))
        .filter(|u| states.as_ref().is_none_or(|l| l.iter().any(|s| s == u.state.as_str())))
        .filter(|u| shorts.as_ref().is_none_or(|l| l.contains(&u.short_version)))
        .filter(|u| versions.as_ref().is_none_or(|l| l.contains(&u.version)))
        .collect();
    uploads.sort_by_key(|u| u.seq);
    match sort {
        "cfBundleVersion" => uploads.sort_by(|a, b| compare_versions(&a.version, &b.version)),
        "-cfBundleVersion" => uploads.sort_by(|a, b| compare_versions(&b.version, &a.version)),
        "uploadedDate" => uploads.sort_by_key(|u| u.uploaded.unwrap_or(i64::MAX)),
        "-uploadedDate" => uploads.sort_by_key(|u| std::cmp::Reverse(u.uploaded.unwrap_or(i64::MIN))),
        _ => {}
    }
    let mut included = Vec::new();
    for u in &uploads {
        includes(req, &store, u, &include, &mut included);
    }
    let items = uploads.iter().map(|u| json::upload(req.base(), u)).collect();
    page(req, items, included)
}

pub(super) fn create(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "buildUploads")?;
    let attrs = attributes(
        &data,
        "buildUploads",
        &["cfBundleShortVersionString", "cfBundleVersion", "platform"],
    )?;
    let short_version = string_attr(&attrs, "cfBundleShortVersionString")?;
    let version = string_attr(&attrs, "cfBundleVersion")?;
    let platform = enum_attr(&attrs, "platform", PLATFORMS)?;
    let app_id = relationship_id(&data, "app", "apps")?;

    let mut store = req.shared.store();
    if store.app(&app_id).is_none() {
        return Err(unknown_related("app", "apps", &app_id));
    }
    if store
        .duplicate_of(&app_id, &platform, &short_version, &version)
        .is_some()
    {
        let previous = store
            .highest_version(&app_id, &platform, &short_version)
            .unwrap_or_else(|| version.clone());
        return Err(ApiError::new(
            409,
            "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
            "The provided entity includes an attribute with a value that has already been used",
            "The bundle version must be higher than the previously uploaded version.",
        )
        .pointer("/data/attributes/cfBundleVersion")
        .meta(json!({ "previousBundleVersion": previous })));
    }
    let seq = store.next_seq();
    let upload = Upload {
        id: keys::uuid(),
        seq,
        app_id,
        short_version,
        version,
        platform,
        created: req.shared.now_millis(),
        uploaded: None,
        state: UploadState::AwaitingUpload,
        errors: Vec::new(),
        warnings: Vec::new(),
        infos: Vec::new(),
        build_id: None,
        files: Default::default(),
        plan: None,
        min_os_version: None,
    };
    let doc = json!({
        "data": json::upload(req.base(), &upload),
        "links": { "self": format!("{}/v1/buildUploads/{}", req.base(), upload.id) },
    });
    store.uploads.insert(upload.id.clone(), upload);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["include"])?;
    let include = req.query.include(INCLUDES)?;
    let store = req.shared.store();
    let u = store
        .uploads
        .get(id)
        .ok_or_else(|| ApiError::not_found("buildUploads", id))?;
    let mut included = Vec::new();
    includes(req, &store, u, &include, &mut included);
    let mut doc = json!({ "data": json::upload(req.base(), u), "links": { "self": req.self_link() } });
    if !included.is_empty() {
        doc["included"] = Value::Array(included);
    }
    Ok(Reply::Json(200, doc))
}

pub(super) async fn delete(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let file_ids: Vec<String> = {
        let mut store = req.shared.store();
        let u = store
            .uploads
            .get(id)
            .ok_or_else(|| ApiError::not_found("buildUploads", id))?;
        if u.state != UploadState::AwaitingUpload {
            return Err(ApiError::state(format!(
                "The build upload is in state {} and can no longer be deleted; only uploads awaiting upload can be deleted.",
                u.state.as_str()
            )));
        }
        let files: Vec<String> = u.files.values().cloned().collect();
        store.uploads.remove(id);
        for f in &files {
            store.files.remove(f);
        }
        req.shared.persist(&store);
        files
    };
    for f in file_ids {
        storage::discard(req.shared, &f).await;
    }
    Ok(Reply::Empty(204))
}
