//! `buildUploadFiles`: reserve (with shuffled 5 MiB upload operations), read, list per upload,
//! and commit (every part present, optional checksum check, parent upload to PROCESSING).

use serde_json::{Map, Value, json};

use super::{
    Reply, Req, attributes, body_data, enum_attr, invalid_attribute, page, relationship_id, string_attr,
    unknown_related,
};
use crate::json::{self, ApiError};
use crate::keys;
use crate::server::lock;
use crate::state::{AssetState, FileChecksums, ProcessingPlan, UploadFile, UploadState, plan_parts};
use crate::{ProcessingResult, inspect, storage};

const ASSET_TYPES: &[&str] = &["ASSET", "ASSET_DESCRIPTION", "ASSET_SPI"];
const UTIS: &[&str] = &[
    "com.apple.binary-property-list",
    "com.apple.ipa",
    "com.apple.pkg",
    "com.apple.xml-property-list",
    "com.pkware.zip-archive",
];
/// Largest file the simulator plans parts for (Apple's own limit is around 4 GB).
const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024 * 1024;

pub(super) fn list_for_upload(req: &Req<'_>, upload_id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&["limit", "cursor"])?;
    let store = req.shared.store();
    let upload = store
        .uploads
        .get(upload_id)
        .ok_or_else(|| ApiError::not_found("buildUploads", upload_id))?;
    let mut files: Vec<&UploadFile> = upload.files.values().filter_map(|id| store.files.get(id)).collect();
    files.sort_by_key(|f| f.seq);
    let items = files.iter().map(|f| json::upload_file(req.base(), f)).collect();
    page(req, items, Vec::new())
}

pub(super) fn get(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let store = req.shared.store();
    let f = store
        .files
        .get(id)
        .ok_or_else(|| ApiError::not_found("buildUploadFiles", id))?;
    Ok(Reply::Json(
        200,
        json!({ "data": json::upload_file(req.base(), f), "links": { "self": req.self_link() } }),
    ))
}

pub(super) fn create(req: &Req<'_>) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "buildUploadFiles")?;
    let attrs = attributes(&data, "buildUploadFiles", &["assetType", "fileName", "fileSize", "uti"])?;
    let asset_type = enum_attr(&attrs, "assetType", ASSET_TYPES)?;
    let file_name = string_attr(&attrs, "fileName")?;
    let uti = enum_attr(&attrs, "uti", UTIS)?;
    let file_size = match attrs.get("fileSize") {
        None | Some(Value::Null) => return Err(super::required("fileSize", "/data/attributes/fileSize")),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_FILE_SIZE).contains(&n) => n,
            _ => {
                return Err(invalid_attribute(
                    "fileSize",
                    format!("'fileSize' must be an integer between 1 and {MAX_FILE_SIZE}"),
                ));
            }
        },
    };
    let upload_id = relationship_id(&data, "buildUpload", "buildUploads")?;

    let mut parts = plan_parts(file_size);
    lock(&req.shared.shuffle).shuffle(&mut parts);
    let mut store = req.shared.store();
    let Some(upload) = store.uploads.get(&upload_id) else {
        return Err(unknown_related("buildUpload", "buildUploads", &upload_id));
    };
    if upload.state != UploadState::AwaitingUpload {
        return Err(ApiError::state(format!(
            "The build upload is in state {}; files can only be reserved while it awaits upload.",
            upload.state.as_str()
        )));
    }
    if upload.files.contains_key(&asset_type) {
        return Err(ApiError::state(format!(
            "A file of type {asset_type} is already reserved for this build upload."
        ))
        .pointer("/data/attributes/assetType"));
    }
    let seq = store.next_seq();
    let file = UploadFile {
        id: keys::uuid(),
        seq,
        upload_id: upload_id.clone(),
        asset_type: asset_type.clone(),
        file_name,
        file_size,
        uti,
        token: keys::signature_token(),
        created: req.shared.now_millis(),
        parts,
        received: Default::default(),
        state: AssetState::AwaitingUpload,
        checksums: None,
    };
    let doc = json!({
        "data": json::upload_file(req.base(), &file),
        "links": { "self": format!("{}/v1/buildUploadFiles/{}", req.base(), file.id) },
    });
    if let Some(u) = store.uploads.get_mut(&upload_id) {
        u.files.insert(asset_type, file.id.clone());
    }
    store.files.insert(file.id.clone(), file);
    req.shared.persist(&store);
    Ok(Reply::Json(201, doc))
}

/// The checksums a client may send at commit: (algorithm, hash) for the file, and the composite.
struct Claimed {
    file: Option<(String, String)>,
    composite: Option<String>,
}

fn claimed_checksums(attrs: &Map<String, Value>) -> Result<Claimed, ApiError> {
    let bad = || {
        invalid_attribute(
            "sourceFileChecksums",
            "'sourceFileChecksums' must be {file: {hash, algorithm}, composite: {hash, algorithm}}",
        )
    };
    let Some(c) = attrs.get("sourceFileChecksums").filter(|v| !v.is_null()) else {
        return Ok(Claimed {
            file: None,
            composite: None,
        });
    };
    let c = c.as_object().ok_or_else(bad)?;
    let file = match c.get("file").filter(|v| !v.is_null()) {
        None => None,
        Some(f) => {
            let hash = f.get("hash").and_then(Value::as_str).ok_or_else(bad)?;
            let alg = f.get("algorithm").and_then(Value::as_str).ok_or_else(bad)?;
            if alg != "MD5" && alg != "SHA_256" {
                return Err(invalid_attribute(
                    "sourceFileChecksums",
                    format!("'{alg}' is not a valid checksum algorithm; expected MD5 or SHA_256"),
                ));
            }
            Some((alg.to_owned(), hash.to_owned()))
        }
    };
    let composite = match c.get("composite").filter(|v| !v.is_null()) {
        None => None,
        Some(f) => Some(f.get("hash").and_then(Value::as_str).ok_or_else(bad)?.to_owned()),
    };
    Ok(Claimed { file, composite })
}

pub(super) async fn commit(req: &Req<'_>, id: &str) -> Result<Reply, ApiError> {
    req.query.allow_only(&[])?;
    let data = body_data(req, "buildUploadFiles")?;
    super::same_id(&data, id)?;
    let attrs = attributes(&data, "buildUploadFiles", &["uploaded", "sourceFileChecksums"])?;
    let uploaded = match attrs.get("uploaded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid_attribute("uploaded", "'uploaded' must be a boolean")),
    };
    let claimed = claimed_checksums(&attrs)?;
    let echo = claimed.file.is_some() && !lock(&req.shared.faults).faults().omit_file_checksum;

    let (parts, lengths, is_ipa) = {
        let store = req.shared.store();
        let f = store
            .files
            .get(id)
            .ok_or_else(|| ApiError::not_found("buildUploadFiles", id))?;
        if !uploaded {
            return Ok(Reply::Json(
                200,
                json!({ "data": json::upload_file(req.base(), f), "links": { "self": req.self_link() } }),
            ));
        }
        if f.state != AssetState::AwaitingUpload {
            return Err(ApiError::state("The file has already been committed."));
        }
        let missing = f.missing_parts();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(u64::to_string).collect();
            return Err(ApiError::state(format!(
                "The file cannot be committed: {} of {} parts have not been uploaded (part numbers {}).",
                missing.len(),
                f.parts.len(),
                list.join(", ")
            ))
            .meta(json!({ "missingPartNumbers": missing })));
        }
        (
            f.received.iter().map(|(n, r)| (*n, r.md5.clone())).collect::<Vec<_>>(),
            f.received.iter().map(|(n, r)| (*n, r.length)).collect::<Vec<_>>(),
            f.asset_type == "ASSET" && (f.uti == "com.apple.ipa" || f.uti == "com.apple.pkg"),
        )
    };

    let digests = storage::digest(req.shared, id, &parts).await.map_err(|e| {
        ApiError::new(
            500,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred.",
            format!("The uploaded parts could not be read: {e}"),
        )
    })?;
    if let Some((alg, hash)) = &claimed.file {
        let actual = if alg == "MD5" { &digests.md5 } else { &digests.sha256 };
        if !hash.eq_ignore_ascii_case(actual) {
            return Err(invalid_attribute(
                "sourceFileChecksums",
                format!("The {alg} checksum '{hash}' does not match the uploaded file."),
            ));
        }
    }
    if let Some(hash) = &claimed.composite {
        let bare = digests.composite.split('-').next().unwrap_or("");
        if !hash.eq_ignore_ascii_case(&digests.composite) && !hash.eq_ignore_ascii_case(bare) {
            return Err(invalid_attribute(
                "sourceFileChecksums",
                format!("The composite checksum '{hash}' does not match the uploaded parts."),
            ));
        }
    }

    // Like Apple, processing looks inside the IPA or .pkg (when it is one).
    let facts = if is_ipa {
        let sources = storage::part_sources(req.shared, id, &lengths);
        tokio::task::spawn_blocking(move || inspect::read_facts(sources))
            .await
            .ok()
            .flatten()
    } else {
        None
    };

    let now = req.shared.now_millis();
    let doc = {
        let mut store = req.shared.store();
        let f = store
            .files
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("buildUploadFiles", id))?;
        if f.state != AssetState::AwaitingUpload {
            return Err(ApiError::state("The file has already been committed."));
        }
        f.state = AssetState::Complete;
        f.checksums = Some(FileChecksums {
            file_md5: echo.then(|| digests.md5.clone()),
            composite_md5: digests.composite.clone(),
        });
        let doc = json!({ "data": json::upload_file(req.base(), f), "links": { "self": req.self_link() } });
        let (asset_type, upload_id) = (f.asset_type.clone(), f.upload_id.clone());
        if asset_type == "ASSET" {
            let result = verdict(&store, &upload_id, facts.as_ref(), &req.shared.processing.result);
            if let Some(u) = store
                .uploads
                .get_mut(&upload_id)
                .filter(|u| u.state == UploadState::AwaitingUpload)
            {
                u.state = UploadState::Processing;
                u.uploaded = Some(now);
                u.min_os_version = facts.and_then(|f| f.min_os_version);
                u.plan = Some(ProcessingPlan {
                    committed_at: now,
                    duration_ms: i64::try_from(req.shared.processing.duration.as_millis()).unwrap_or(i64::MAX),
                    warnings: req.shared.processing_warnings.clone(),
                    result,
                });
            }
        }
        req.shared.persist(&store);
        doc
    };
    storage::discard(req.shared, id).await;
    if lock(&req.shared.faults).take_commit_drop() {
        return Ok(Reply::Drop);
    }
    Ok(Reply::Json(200, doc))
}

/// The processing plan's verdict: the configured one, unless the IPA names another app (90054).
fn verdict(
    store: &crate::state::Store,
    upload_id: &str,
    facts: Option<&inspect::IpaFacts>,
    configured: &ProcessingResult,
) -> String {
    let app_bundle = store
        .uploads
        .get(upload_id)
        .and_then(|u| store.app(&u.app_id))
        .map(|a| a.bundle_id.as_str());
    let ipa_bundle = facts.and_then(|f| f.bundle_id.as_deref());
    match (ipa_bundle, app_bundle) {
        (Some(ipa), Some(app)) if ipa != app => "failed:90054".into(),
        _ => result_name(configured),
    }
}

fn result_name(r: &ProcessingResult) -> String {
    match r {
        ProcessingResult::Valid => "valid".into(),
        ProcessingResult::Invalid => "invalid".into(),
        ProcessingResult::Failed(code) => format!("failed:{code}"),
    }
}
