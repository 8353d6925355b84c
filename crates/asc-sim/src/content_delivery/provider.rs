//! The provider REST resources (`builds`, `buildDeliveryFiles`) behind the DS token cookie. Writes
//! are handed to the public API's handlers (`buildUploads`, `buildUploadFiles`), so duplicate
//! checks, part planning and storage, commit checks and processing are the same machinery.

use std::sync::Arc;

use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, Uri};
use serde_json::{Value, json};

use super::{COOKIE_NAME, PROVIDER_PREFIX, provider_of, recorded_response};
use crate::json::{self, ApiError};
use crate::routes::{self, Reply};
use crate::server::{Dropped, HttpResponse, Shared, lock};
use crate::state::{AssetState, Store, Upload, UploadFile, UploadState};

fn error(e: &ApiError) -> HttpResponse {
    recorded_response(e.status(), &e.to_json())
}

fn cookie_token(parts: &Parts) -> Option<String> {
    let raw = parts.headers.get(hyper::header::COOKIE)?.to_str().ok()?;
    raw.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE_NAME).then(|| v.to_string())
    })
}

/// `processingState`, the verdict: `null` while nothing was delivered, then PROCESSING, VALID,
/// INVALID or FAILED.
fn processing_state(store: &Store, u: &Upload) -> Value {
    let build_state = u
        .build_id
        .as_ref()
        .and_then(|id| store.builds.get(id))
        .map(|b| b.processing_state.clone());
    match u.state {
        UploadState::AwaitingUpload => Value::Null,
        UploadState::Processing => json!("PROCESSING"),
        UploadState::Complete => json!(build_state.unwrap_or_else(|| "VALID".into())),
        UploadState::Failed => match build_state.as_deref() {
            Some("INVALID") => json!("INVALID"),
            _ => json!("FAILED"),
        },
    }
}

fn links(base: &str, provider: &str, kind: &str, id: &str, rel: &str) -> Value {
    let me = format!("{base}{PROVIDER_PREFIX}{provider}/v1/{kind}/{id}");
    json!({ "links": { "self": format!("{me}/relationships/{rel}"), "related": format!("{me}/{rel}") } })
}

/// A `builds` record with exactly the fields the recorded answers carry (altool 15.4/16.4/26.0,
/// tests/fixtures/recorded/appleid): a new record has every state field `null`; once the IPA is
/// committed, `buildProcessingState` has the Build Uploads shape (its `state` ends COMPLETE or
/// FAILED) and `processingState` carries the verdict.
fn build_doc(base: &str, provider: &str, store: &Store, u: &Upload) -> Value {
    let delivered = u.state != UploadState::AwaitingUpload;
    let messages = |list: &[crate::state::StateDetail]| -> Value {
        list.iter()
            .map(|d| json!({ "code": d.code, "description": d.description }))
            .collect()
    };
    let mut relationships = serde_json::Map::new();
    for rel in [
        "app",
        "buildDeliveryFiles",
        "deliveryNotifications",
        "buildAssetDescription",
        "buildAsset",
        "buildAssetSpi",
    ] {
        relationships.insert(rel.into(), links(base, provider, "builds", &u.id, rel));
    }
    json!({
        "type": "builds",
        "id": u.id,
        "attributes": {
            "version": u.version,
            "uploadedDate": if delivered { u.uploaded.map(json::date).map(Value::from).unwrap_or(Value::Null) } else { Value::Null },
            "processingState": processing_state(store, u),
            "processingErrors": if delivered { messages(&u.errors) } else { Value::Null },
            "buildProcessingState": if delivered {
                json!({
                    "errors": messages(&u.errors),
                    "warnings": messages(&u.warnings),
                    "infos": messages(&u.infos),
                    "state": u.state.as_str(),
                })
            } else {
                Value::Null
            },
        },
        "relationships": relationships,
        "links": { "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/builds/{}", u.id) },
    })
}

/// A `buildDeliveryFiles` record with exactly the recorded fields, from the simulator's file.
fn file_doc(base: &str, provider: &str, f: &UploadFile, declared_md5: Option<&str>) -> Value {
    let complete = f.state == AssetState::Complete;
    // The public API's operations already have the recorded operation shape.
    let operations = json::upload_file(base, f)
        .pointer("/attributes/uploadOperations")
        .cloned()
        .unwrap_or(Value::Null);
    let part_size = f.parts.iter().map(|p| p.length).max().unwrap_or(0);
    // Recorded as `<md5 of the part md5s>-<parts>-<part size>` once the file is complete.
    let sequential = match (&f.checksums, complete) {
        (Some(c), true) => json!(format!("{}-{part_size}", c.composite_md5.to_ascii_lowercase())),
        _ => Value::Null,
    };
    json!({
        "type": "buildDeliveryFiles",
        "id": f.id,
        "attributes": {
            "assetType": f.asset_type,
            "fileSize": f.file_size,
            "fileName": f.file_name,
            "sourceFileChecksum": declared_md5,
            "sequentialChecksum": sequential,
            "assetToken": format!("PurpleSource/v4/{}/{}", f.upload_id, f.id),
            "uploadOperations": operations,
            "uti": f.uti,
            "assetDeliveryState": { "errors": [], "warnings": [], "state": f.state.as_str() },
        },
        "relationships": { "build": links(base, provider, "buildDeliveryFiles", &f.id, "build") },
        "links": { "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/buildDeliveryFiles/{}", f.id) },
    })
}

/// The document for one file, or 404 when the simulator no longer has it.
fn file_answer(shared: &Shared, status: u16, base: &str, provider: &str, id: &str) -> HttpResponse {
    let store = shared.store();
    let declared = lock(&shared.content_delivery.declared_md5).get(id).cloned();
    match store.files.get(id) {
        Some(f) => recorded_response(
            status,
            &json!({
                "data": file_doc(base, provider, f, declared.as_deref()),
                "links": { "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/buildDeliveryFiles/{id}") },
            }),
        ),
        None => error(&ApiError::not_found("buildDeliveryFiles", id)),
    }
}

async fn forward(
    shared: &Arc<Shared>,
    method: Method,
    path: &str,
    body: Value,
) -> Result<Result<Value, ApiError>, Dropped> {
    let uri: Uri = match path.parse() {
        Ok(u) => u,
        Err(_) => return Ok(Err(ApiError::path_not_found())),
    };
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    match routes::dispatch(shared, &method, &uri, bytes).await {
        Ok(Reply::Json(_, v)) => Ok(Ok(v)),
        Ok(Reply::Empty(_)) => Ok(Ok(Value::Null)),
        Ok(Reply::Drop) => Err(Dropped),
        Err(e) => Ok(Err(e)),
    }
}

pub(super) async fn handle(shared: &Arc<Shared>, parts: &Parts, body: Bytes) -> Result<HttpResponse, Dropped> {
    let Some(token) = cookie_token(parts).filter(|t| shared.content_delivery.has_token(t)) else {
        return Ok(error(&ApiError::not_authorized()));
    };
    let _ = token;
    let rest = parts.uri.path().strip_prefix(PROVIDER_PREFIX).unwrap_or("");
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let Some((provider, tail)) = segs.split_first() else {
        return Ok(error(&ApiError::path_not_found()));
    };
    let provider = provider.to_string();
    let base = shared.base_url.clone();
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let owns = |app_id: &str| provider_of(app_id) == provider;
    let query = parts.uri.query().unwrap_or("");
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim_matches('"').to_string())
    };
    let upload_of = |id: &str| -> Result<Upload, ApiError> {
        let store = shared.store();
        store
            .uploads
            .get(id)
            .filter(|u| owns(&u.app_id))
            .cloned()
            .ok_or_else(|| ApiError::not_found("builds", id))
    };
    match (&parts.method, tail) {
        (&Method::GET, ["v1", "builds"]) => {
            let Some(app) = param("filter[app]") else {
                return Ok(error(&ApiError::bad_param("filter[app]", "filter[app] is required")));
            };
            if !owns(&app) {
                return Ok(error(&ApiError::not_found("apps", &app)));
            }
            let version = param("filter[version]");
            let store = shared.store();
            let mut list: Vec<&Upload> = store
                .uploads
                .values()
                .filter(|u| u.app_id == app && version.as_ref().is_none_or(|v| &u.version == v))
                .collect();
            list.sort_by_key(|u| u.seq);
            let data: Vec<Value> = list.iter().map(|u| build_doc(&base, &provider, &store, u)).collect();
            let me = format!("{base}{}", parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""));
            Ok(recorded_response(
                200,
                &json!({ "data": data, "links": { "self": me } }),
            ))
        }
        (&Method::GET, ["v1", "builds", id]) => Ok(match upload_of(id) {
            Ok(u) => {
                let store = shared.store();
                let fresh = store.uploads.get(&u.id).unwrap_or(&u);
                let data = build_doc(&base, &provider, &store, fresh);
                let me = data["links"]["self"].clone();
                recorded_response(200, &json!({ "data": data, "links": { "self": me } }))
            }
            Err(e) => error(&e),
        }),
        (&Method::POST, ["v1", "builds"]) => {
            let data = doc.get("data").cloned().unwrap_or(Value::Null);
            if data.get("type").and_then(Value::as_str) != Some("builds") {
                return Ok(error(
                    &ApiError::new(
                        409,
                        "ENTITY_ERROR.INCLUDED.INVALID_TYPE",
                        "The provided entity type is invalid",
                        "The type must be 'builds'.",
                    )
                    .pointer("/data/type"),
                ));
            }
            let app = data
                .pointer("/relationships/app/data/id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !owns(app) {
                return Ok(error(&ApiError::not_found("apps", app)));
            }
            let body = json!({ "data": {
                "type": "buildUploads",
                "attributes": data.get("attributes").cloned().unwrap_or(Value::Null),
                "relationships": { "app": { "data": { "type": "apps", "id": app } } },
            }});
            match forward(shared, Method::POST, "/v1/buildUploads", body).await? {
                Ok(v) => {
                    let id = v.pointer("/data/id").and_then(Value::as_str).unwrap_or("");
                    let store = shared.store();
                    Ok(match store.uploads.get(id) {
                        Some(u) => recorded_response(
                            201,
                            &json!({
                                "data": build_doc(&base, &provider, &store, u),
                                "links": { "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/builds") },
                            }),
                        ),
                        None => error(&ApiError::path_not_found()),
                    })
                }
                Err(e) => Ok(error(&e)),
            }
        }
        (&Method::POST, ["v1", "buildDeliveryFiles"]) => {
            let data = doc.get("data").cloned().unwrap_or(Value::Null);
            let build = data
                .pointer("/relationships/build/data/id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Err(e) = upload_of(&build) {
                return Ok(error(&e));
            }
            let mut attrs = data.get("attributes").cloned().unwrap_or(json!({}));
            let declared = attrs
                .as_object_mut()
                .and_then(|o| o.remove("sourceFileChecksum"))
                .and_then(|v| v.as_str().map(str::to_string));
            if let Some(kind) = attrs.get("assetType").and_then(Value::as_str) {
                replace_unfinished(shared, &build, kind).await;
            }
            let body = json!({ "data": {
                "type": "buildUploadFiles",
                "attributes": attrs,
                "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": build } } },
            }});
            match forward(shared, Method::POST, "/v1/buildUploadFiles", body).await? {
                Ok(v) => {
                    let id = v.pointer("/data/id").and_then(Value::as_str).unwrap_or("").to_string();
                    if let Some(md5) = declared {
                        lock(&shared.content_delivery.declared_md5).insert(id.clone(), md5);
                    }
                    let mut answer = file_answer(shared, 201, &base, &provider, &id);
                    if answer.status() == 201 {
                        if let Ok(v) = hyper::header::HeaderValue::from_str(&format!(
                            "{base}{PROVIDER_PREFIX}{provider}/v1/buildDeliveryFiles/{id}"
                        )) {
                            answer.headers_mut().insert(hyper::header::LOCATION, v);
                        }
                    }
                    Ok(answer)
                }
                Err(e) => Ok(error(&e)),
            }
        }
        (&Method::GET, ["v1", "buildDeliveryFiles", id]) => Ok(match owned_file(shared, id, &owns) {
            Ok(()) => file_answer(shared, 200, &base, &provider, id),
            Err(e) => error(&e),
        }),
        (&Method::PATCH, ["v1", "buildDeliveryFiles", id]) => {
            if let Err(e) = owned_file(shared, id, &owns) {
                return Ok(error(&e));
            }
            let data = doc.get("data").cloned().unwrap_or(Value::Null);
            let mut attrs = data.get("attributes").cloned().unwrap_or(json!({}));
            let declared = lock(&shared.content_delivery.declared_md5).get(*id).cloned();
            if let (Some(md5), Some(o)) = (declared, attrs.as_object_mut()) {
                o.insert(
                    "sourceFileChecksums".into(),
                    json!({ "file": { "hash": md5, "algorithm": "MD5" } }),
                );
            }
            let body = json!({ "data": {
                "type": "buildUploadFiles",
                "id": data.get("id").cloned().unwrap_or(Value::Null),
                "attributes": attrs,
            }});
            match forward(shared, Method::PATCH, &format!("/v1/buildUploadFiles/{id}"), body).await? {
                Ok(_) => Ok(file_answer(shared, 200, &base, &provider, id)),
                Err(e) => Ok(error(&e)),
            }
        }
        _ => Ok(error(&ApiError::path_not_found())),
    }
}

/// A file of a build this provider owns, or 404.
fn owned_file(shared: &Shared, id: &str, owns: &dyn Fn(&str) -> bool) -> Result<(), ApiError> {
    let store = shared.store();
    store
        .files
        .get(id)
        .and_then(|f| store.uploads.get(&f.upload_id))
        .filter(|u| owns(&u.app_id))
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found("buildDeliveryFiles", id))
}

/// A build nothing was delivered to may register a file again (an interrupted upload resumed, as
/// ios-uploader does): the earlier file of that asset type is forgotten. Chosen here; Apple's
/// behaviour is not recorded.
async fn replace_unfinished(shared: &Arc<Shared>, build: &str, asset_type: &str) {
    let old = {
        let mut store = shared.store();
        let old = store
            .uploads
            .get_mut(build)
            .filter(|u| u.state == UploadState::AwaitingUpload)
            .and_then(|u| u.files.remove(asset_type));
        if let Some(id) = &old {
            store.files.remove(id);
            shared.persist(&store);
        }
        old
    };
    if let Some(id) = old {
        lock(&shared.content_delivery.declared_md5).remove(&id);
        crate::storage::discard(shared, &id).await;
    }
}
