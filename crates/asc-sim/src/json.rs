//! Response building: Apple's JSON:API documents for each resource, error documents, dates,
//! and cursor pagination.

use base64::Engine as _;
use serde_json::{Value, json};

use super::keys;
use super::state::{App, BUILD_LIFETIME_MS, Build, PreReleaseVersion, Store, URL_LIFETIME_MS, Upload, UploadFile};

/// Formats epoch milliseconds like Apple: `2025-10-16T09:11:42.878+00:00`.
pub(crate) fn date(ms: i64) -> String {
    let nanos = i128::from(ms).saturating_mul(1_000_000);
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+00:00");
    dt.format(&fmt).unwrap_or_default()
}

/// One error as Apple reports it (an entry of `ErrorResponse.errors`); boxed so `Result`s stay
/// small.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(Box<ErrorBody>);

#[derive(Debug, Clone)]
pub(crate) struct ErrorBody {
    pub status: u16,
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    pub source: Option<Source>,
    pub meta: Option<Value>,
    /// Further errors answered in the same document (Apple lists one per problem).
    pub more: Vec<ApiError>,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    Pointer(String),
    Parameter(String),
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, title: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorBody {
            status,
            code,
            title: title.into(),
            detail: detail.into(),
            source: None,
            meta: None,
            more: Vec::new(),
        }))
    }

    /// Adds another error to the same answer (the HTTP status stays this one's).
    pub fn and(mut self, other: ApiError) -> Self {
        self.0.more.push(other);
        self
    }

    pub fn status(&self) -> u16 {
        self.0.status
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.0.source = Some(Source::Pointer(pointer.into()));
        self
    }

    pub fn parameter(mut self, parameter: impl Into<String>) -> Self {
        self.0.source = Some(Source::Parameter(parameter.into()));
        self
    }

    pub fn meta(mut self, meta: Value) -> Self {
        self.0.meta = Some(meta);
        self
    }

    pub fn not_authorized() -> Self {
        ApiError::new(
            401,
            "NOT_AUTHORIZED",
            "Authentication credentials are missing or invalid.",
            "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens",
        )
    }

    pub fn rate_limited() -> Self {
        ApiError::new(
            429,
            "RATE_LIMIT_EXCEEDED",
            "The request rate limit has been reached.",
            "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
        )
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ApiError::new(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            format!("There is no resource of type '{kind}' with id '{id}'"),
        )
    }

    pub fn path_not_found() -> Self {
        ApiError::new(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            "The path provided does not match a defined resource type.",
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        ApiError::new(
            405,
            "METHOD_NOT_ALLOWED",
            "The request method is not valid for the resource path.",
            format!("The request method '{method}' is not valid for the resource path."),
        )
    }

    pub fn bad_param(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::new(
            400,
            "PARAMETER_ERROR.INVALID",
            "A parameter has an invalid value",
            detail,
        )
        .parameter(parameter)
    }

    pub fn state(detail: impl Into<String>) -> Self {
        ApiError::new(
            409,
            "STATE_ERROR",
            "The request cannot be fulfilled because of the state of another resource.",
            detail,
        )
    }

    pub fn to_json(&self) -> Value {
        let mut errors = vec![self.entry()];
        errors.extend(self.0.more.iter().map(ApiError::entry));
        json!({ "errors": errors })
    }

    fn entry(&self) -> Value {
        let mut e = json!({
            "id": keys::uuid(),
            "status": self.0.status.to_string(),
            "code": self.0.code,
            "title": self.0.title,
            "detail": self.0.detail,
        });
        match &self.0.source {
            Some(Source::Pointer(p)) => e["source"] = json!({ "pointer": p }),
            Some(Source::Parameter(p)) => e["source"] = json!({ "parameter": p }),
            None => {}
        }
        if let Some(meta) = &self.0.meta {
            e["meta"] = meta.clone();
        }
        e
    }
}

fn rel(kind: &str, id: Option<&str>) -> Value {
    match id {
        Some(id) => json!({ "data": { "type": kind, "id": id } }),
        None => json!({ "data": null }),
    }
}

pub(crate) fn rel_links(base: &str, kind: &str, id: &str, name: &str) -> Value {
    json!({
        "self": format!("{base}/v1/{kind}/{id}/relationships/{name}"),
        "related": format!("{base}/v1/{kind}/{id}/{name}"),
    })
}

pub(crate) fn app(base: &str, a: &App) -> Value {
    json!({
        "type": "apps",
        "id": a.id,
        "attributes": {
            "name": a.name,
            "bundleId": a.bundle_id,
            "sku": a.sku,
            "primaryLocale": "en-US",
            "isOrEverWasMadeForKids": false,
            "contentRightsDeclaration": "DOES_NOT_USE_THIRD_PARTY_CONTENT",
        },
        "relationships": {
            "builds": { "links": rel_links(base, "apps", &a.id, "builds") },
            "preReleaseVersions": { "links": rel_links(base, "apps", &a.id, "preReleaseVersions") },
        },
        "links": { "self": format!("{base}/v1/apps/{}", a.id) },
    })
}

pub(crate) fn upload(base: &str, u: &Upload) -> Value {
    let file = |t: &str| u.files.get(t).map(String::as_str);
    json!({
        "type": "buildUploads",
        "id": u.id,
        "attributes": {
            "cfBundleShortVersionString": u.short_version,
            "cfBundleVersion": u.version,
            "createdDate": date(u.created),
            "uploadedDate": u.uploaded.map(date),
            "platform": u.platform,
            "state": {
                "errors": u.errors,
                "warnings": u.warnings,
                "infos": u.infos,
                "state": u.state.as_str(),
            },
        },
        "relationships": {
            "build": rel("builds", u.build_id.as_deref()),
            "assetFile": rel("buildUploadFiles", file("ASSET")),
            "assetDescriptionFile": rel("buildUploadFiles", file("ASSET_DESCRIPTION")),
            "assetSpiFile": rel("buildUploadFiles", file("ASSET_SPI")),
            "buildUploadFiles": { "links": rel_links(base, "buildUploads", &u.id, "buildUploadFiles") },
        },
        "links": { "self": format!("{base}/v1/buildUploads/{}", u.id) },
    })
}

/// The pre-signed URL of one part, on this server.
pub(crate) fn part_url(base: &str, f: &UploadFile, number: u64) -> String {
    format!(
        "{base}/storage/{}/{number}?partNumber={number}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        f.id, f.token
    )
}

pub(crate) fn upload_file(base: &str, f: &UploadFile) -> Value {
    let complete = f.state == super::state::AssetState::Complete;
    let operations = if complete {
        Value::Null
    } else {
        f.parts
            .iter()
            .map(|p| {
                json!({
                    "method": "PUT",
                    "url": part_url(base, f, p.number),
                    "length": p.length,
                    "offset": p.offset,
                    "requestHeaders": [{ "name": "Content-Type", "value": "application/octet-stream" }],
                    "expiration": date(f.created.saturating_add(URL_LIFETIME_MS)),
                    "partNumber": p.number,
                    "entityTag": f.received.get(&p.number).map(|r| format!("\"{}\"", r.md5)),
                })
            })
            .collect()
    };
    let checksums = match &f.checksums {
        Some(c) => json!({
            "file": c.file_md5.as_ref().map(|h| json!({ "hash": h, "algorithm": "MD5" })),
            "composite": { "hash": c.composite_md5, "algorithm": "MD5" },
        }),
        None => json!({ "file": null, "composite": null }),
    };
    json!({
        "type": "buildUploadFiles",
        "id": f.id,
        "attributes": {
            "assetDeliveryState": { "errors": [], "warnings": [], "state": f.state.as_str() },
            // Apple answers the token from the reservation on (recorded by eas-cli), not only once complete.
            "assetToken": format!("PurpleSource/v4/{}/{}", &f.upload_id, f.file_name),
            "assetType": f.asset_type,
            "fileName": f.file_name,
            "fileSize": f.file_size,
            "sourceFileChecksums": checksums,
            "uploadOperations": operations,
            "uti": f.uti,
        },
        "links": { "self": format!("{base}/v1/buildUploadFiles/{}", f.id) },
    })
}

pub(crate) fn build(base: &str, b: &Build) -> Value {
    json!({
        "type": "builds",
        "id": b.id,
        "attributes": {
            "version": b.version,
            "uploadedDate": date(b.uploaded),
            "expirationDate": date(b.uploaded.saturating_add(BUILD_LIFETIME_MS)),
            "expired": b.expired,
            "minOsVersion": b.min_os_version,
            "lsMinimumSystemVersion": null,
            "computedMinMacOsVersion": null,
            "computedMinVisionOsVersion": null,
            "iconAssetToken": null,
            "processingState": b.processing_state,
            "buildAudienceType": "APP_STORE_ELIGIBLE",
            "usesNonExemptEncryption": b.uses_non_exempt_encryption,
        },
        "relationships": {
            "app": { "links": rel_links(base, "builds", &b.id, "app"), "data": { "type": "apps", "id": b.app_id } },
            "preReleaseVersion": {
                "links": rel_links(base, "builds", &b.id, "preReleaseVersion"),
                "data": { "type": "preReleaseVersions", "id": b.pre_release_version_id },
            },
            "buildBetaDetail": {
                "links": rel_links(base, "builds", &b.id, "buildBetaDetail"),
                "data": { "type": "buildBetaDetails", "id": b.beta_detail_id },
            },
            "buildUpload": { "data": { "type": "buildUploads", "id": b.upload_id } },
            "betaGroups": { "links": rel_links(base, "builds", &b.id, "betaGroups") },
            "individualTesters": { "links": rel_links(base, "builds", &b.id, "individualTesters") },
            "betaBuildLocalizations": { "links": rel_links(base, "builds", &b.id, "betaBuildLocalizations") },
            "betaAppReviewSubmission": { "links": rel_links(base, "builds", &b.id, "betaAppReviewSubmission") },
        },
        "links": { "self": format!("{base}/v1/builds/{}", b.id) },
    })
}

/// The build's beta detail; its states follow from the build, its groups and its beta review
/// submission (see `Store::beta_states`).
pub(crate) fn beta_detail(base: &str, store: &Store, b: &Build) -> Value {
    let (internal, external) = store.beta_states(b);
    json!({
        "type": "buildBetaDetails",
        "id": b.beta_detail_id,
        "attributes": {
            "autoNotifyEnabled": b.auto_notify,
            "internalBuildState": internal,
            "externalBuildState": external,
        },
        "relationships": {
            "build": {
                "links": rel_links(base, "buildBetaDetails", &b.beta_detail_id, "build"),
                "data": { "type": "builds", "id": b.id },
            },
        },
        "links": { "self": format!("{base}/v1/buildBetaDetails/{}", b.beta_detail_id) },
    })
}

pub(crate) fn pre_release_version(base: &str, p: &PreReleaseVersion) -> Value {
    json!({
        "type": "preReleaseVersions",
        "id": p.id,
        "attributes": { "version": p.version, "platform": p.platform },
        "relationships": {
            "app": { "links": rel_links(base, "preReleaseVersions", &p.id, "app"), "data": { "type": "apps", "id": p.app_id } },
            "builds": { "links": rel_links(base, "preReleaseVersions", &p.id, "builds") },
        },
        "links": { "self": format!("{base}/v1/preReleaseVersions/{}", p.id) },
    })
}

/// The resources a build can `include`, rendered.
pub(crate) fn build_includes(base: &str, store: &Store, b: &Build, include: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for name in include {
        match name.as_str() {
            "buildBetaDetail" => out.push(beta_detail(base, store, b)),
            "preReleaseVersion" => {
                if let Some(p) = store.pre_release_versions.get(&b.pre_release_version_id) {
                    out.push(pre_release_version(base, p));
                }
            }
            "app" => {
                if let Some(a) = store.app(&b.app_id) {
                    out.push(app(base, a));
                }
            }
            "buildUpload" => {
                if let Some(u) = store.uploads.get(&b.upload_id) {
                    out.push(upload(base, u));
                }
            }
            other => out.extend(super::json_beta::build_includes(base, store, b, other)),
        }
    }
    out
}

/// A build as a list or document entry: like [`build`], with `relationships.*.data` filled in for
/// the to-many relationships the request includes (JSON:API linkage).
pub(crate) fn build_in(base: &str, store: &Store, b: &Build, include: &[String]) -> Value {
    let mut v = build(base, b);
    for name in include {
        if let Some(data) = super::json_beta::build_linkage(store, b, name) {
            v["relationships"][name.as_str()]["data"] = data;
        }
    }
    v
}

/// Appends `items` to `included` unless already there (JSON:API: each resource once).
pub(crate) fn push_unique(included: &mut Vec<Value>, items: Vec<Value>) {
    for item in items {
        if !included
            .iter()
            .any(|i| i["type"] == item["type"] && i["id"] == item["id"])
        {
            included.push(item);
        }
    }
}

pub(crate) fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"offset\":{offset}}}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    usize::try_from(v.get("offset")?.as_u64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_look_like_apples() {
        assert_eq!(date(1_700_000_000_123), "2023-11-14T22:13:20.123+00:00");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor("e30"), None);
    }
}
