//! The provider REST resources (`builds`, `buildDeliveryFiles`) behind the DS token cookie. Writes
//! are handed to the public API's handlers (`buildUploads`, `buildUploadFiles`), so duplicate
//! checks, part planning and storage, commit checks and processing are the same machinery.

use std::sync::Arc;

use bytes::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, Uri};
use serde_json::{Value, json};

use super::{COOKIE_NAME, PROVIDER_PREFIX, provider_of};
use crate::sim::json::{self, ApiError};
use crate::sim::routes::{self, Reply};
use crate::sim::server::{Dropped, HttpResponse, Shared, json_response, lock};
use crate::sim::state::{Store, Upload, UploadState};

fn error(e: &ApiError) -> HttpResponse {
    json_response(e.status(), &e.to_json())
}

fn cookie_token(parts: &Parts) -> Option<String> {
    let raw = parts.headers.get(hyper::header::COOKIE)?.to_str().ok()?;
    raw.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE_NAME).then(|| v.to_string())
    })
}

/// `processingState` as the provider API reports it.
fn processing_state(store: &Store, u: &Upload) -> String {
    let build_state = u
        .build_id
        .as_ref()
        .and_then(|id| store.builds.get(id))
        .map(|b| b.processing_state.clone());
    match u.state {
        UploadState::AwaitingUpload => "WAITING_FOR_UPLOAD".into(),
        UploadState::Processing => "PROCESSING".into(),
        UploadState::Complete => build_state.unwrap_or_else(|| "VALID".into()),
        UploadState::Failed => match build_state.as_deref() {
            Some("INVALID") => "INVALID".into(),
            _ => "FAILED".into(),
        },
    }
}

fn build_doc(base: &str, provider: &str, store: &Store, u: &Upload) -> Value {
    let state = processing_state(store, u);
    json!({
        "type": "builds",
        "id": u.id,
        "attributes": {
            "cfBundleShortVersionString": u.short_version,
            "cfBundleVersion": u.version,
            "platform": u.platform,
            "uploadDate": u.uploaded.map(json::date),
            "processingState": state,
            "buildProcessingState": { "errors": u.errors, "warnings": u.warnings, "infos": u.infos, "state": state },
        },
        "relationships": { "app": { "data": { "type": "apps", "id": u.app_id } } },
        "links": { "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/builds/{}", u.id) },
    })
}

/// Rewrites a `buildUploadFiles` document as `buildDeliveryFiles`.
fn file_doc(mut v: Value, base: &str, provider: &str) -> Value {
    if let Some(d) = v.get_mut("data") {
        d["type"] = json!("buildDeliveryFiles");
        let id = d.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        d["links"] = json!({ "self": format!("{base}{PROVIDER_PREFIX}{provider}/v1/buildDeliveryFiles/{id}") });
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("links");
    }
    v
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
            Ok(json_response(200, &json!({ "data": data })))
        }
        (&Method::GET, ["v1", "builds", id]) => Ok(match upload_of(id) {
            Ok(u) => {
                let store = shared.store();
                let fresh = store.uploads.get(&u.id).unwrap_or(&u);
                json_response(200, &json!({ "data": build_doc(&base, &provider, &store, fresh) }))
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
                        Some(u) => json_response(201, &json!({ "data": build_doc(&base, &provider, &store, u) })),
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
            let body = json!({ "data": {
                "type": "buildUploadFiles",
                "attributes": attrs,
                "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": build } } },
            }});
            match forward(shared, Method::POST, "/v1/buildUploadFiles", body).await? {
                Ok(v) => {
                    if let (Some(id), Some(md5)) = (v.pointer("/data/id").and_then(Value::as_str), declared) {
                        lock(&shared.content_delivery.declared_md5).insert(id.to_string(), md5);
                    }
                    Ok(json_response(201, &file_doc(v, &base, &provider)))
                }
                Err(e) => Ok(error(&e)),
            }
        }
        (&Method::GET, ["v1", "buildDeliveryFiles", id]) => {
            match forward(shared, Method::GET, &format!("/v1/buildUploadFiles/{id}"), Value::Null).await? {
                Ok(v) => Ok(json_response(200, &file_doc(v, &base, &provider))),
                Err(e) => Ok(error(&e)),
            }
        }
        (&Method::PATCH, ["v1", "buildDeliveryFiles", id]) => {
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
                Ok(v) => Ok(json_response(200, &file_doc(v, &base, &provider))),
                Err(e) => Ok(error(&e)),
            }
        }
        _ => Ok(error(&ApiError::path_not_found())),
    }
}
