//! The provider REST resources of the content-delivery service (JSON:API under
//! `/MZContentDeliveryService/iris/provider/{ProviderPublicId}/v1/`), authenticated by the DS
//! token cookie: builds and buildDeliveryFiles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::appleid::AppleIdError;
use crate::appleid::session::USER_AGENT;
use crate::asc::PartUpload as UploadOperation;
use crate::asc::client::describe;
use crate::asc::credentials::Secret;
use crate::asc::endpoints::seg;
use crate::asc::error::sanitize;

/// Attempts for reads (GET) on network errors and 5xx.
const READ_ATTEMPTS: u32 = 4;
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A `builds` record as the content-delivery service shows it. Recorded answers (altool 15.4, 16.4,
/// 26.0; tests/fixtures/recorded/appleid) carry `version`, `uploadedDate`, `processingState`,
/// `processingErrors` and `buildProcessingState`, nothing else: in particular not the version train
/// (CFBundleShortVersionString), so a record cannot tell whether a build number is used in *this*
/// train. Only Apple's answer to `POST builds` can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderBuild {
    pub id: String,
    /// `version`: the build number (CFBundleVersion).
    pub version: Option<String>,
    pub uploaded_date: Option<String>,
    /// `processingState`, the verdict: `null` on a new record nothing was delivered to yet, then
    /// PROCESSING, and finally VALID, INVALID or FAILED.
    pub processing_state: Option<String>,
    /// `buildProcessingState.state`: the delivery's progress in the Build Uploads shape
    /// (PROCESSING, COMPLETE, FAILED); not the verdict.
    pub delivery_state: Option<String>,
    /// (level, code, description) from `buildProcessingState`, else from `processingErrors`.
    pub messages: Vec<(String, Option<String>, String)>,
}

impl ProviderBuild {
    /// Reads one `builds` resource object (the `data` of a document). A field of the wrong type is
    /// an error, so a changed answer is noticed rather than read as "unknown".
    pub fn from_resource(v: &Value) -> Result<ProviderBuild, AppleIdError> {
        let r: wire::Resource<wire::BuildAttributes> = serde_json::from_value(v.clone())
            .map_err(|e| AppleIdError::Protocol(format!("unexpected builds record: {e}")))?;
        let a = r.attributes.unwrap_or_default();
        let bps = a.build_processing_state.unwrap_or_default();
        let mut messages = Vec::new();
        for (list, level) in [(&bps.errors, "error"), (&bps.warnings, "warning"), (&bps.infos, "info")] {
            for m in list.iter().flatten() {
                messages.push((
                    level.to_string(),
                    m.code.clone(),
                    sanitize(m.description.as_deref().unwrap_or("")),
                ));
            }
        }
        if !messages.iter().any(|m| m.0 == "error") {
            for m in a.processing_errors.iter().flatten() {
                messages.push((
                    "error".to_string(),
                    m.code.clone(),
                    sanitize(m.description.as_deref().unwrap_or("")),
                ));
            }
        }
        Ok(ProviderBuild {
            id: r.id,
            version: a.version,
            uploaded_date: a.uploaded_date,
            processing_state: a.processing_state,
            delivery_state: bps.state,
            messages,
        })
    }

    /// Reads a document whose `data` is one `builds` record.
    pub fn from_document(doc: &Value) -> Result<ProviderBuild, AppleIdError> {
        ProviderBuild::from_resource(
            doc.get("data")
                .ok_or_else(|| AppleIdError::Protocol("the build answer has no data".into()))?,
        )
    }
}

/// A `buildDeliveryFiles` record.
#[derive(Debug, Clone)]
pub struct DeliveryFile {
    pub id: String,
    /// `assetDeliveryState.state`: AWAITING_UPLOAD, COMPLETE, FAILED.
    pub state: Option<String>,
    /// `null` once the file is complete.
    pub operations: Vec<UploadOperation>,
}

impl DeliveryFile {
    /// Reads a document whose `data` is one `buildDeliveryFiles` record.
    pub fn from_document(doc: &Value) -> Result<DeliveryFile, AppleIdError> {
        let d = doc
            .get("data")
            .ok_or_else(|| AppleIdError::Protocol("the delivery file answer has no data".into()))?;
        let r: wire::Resource<wire::DeliveryFileAttributes> = serde_json::from_value(d.clone())
            .map_err(|e| AppleIdError::Protocol(format!("unexpected buildDeliveryFiles record: {e}")))?;
        let a = r.attributes.unwrap_or_default();
        Ok(DeliveryFile {
            id: r.id,
            state: a.asset_delivery_state.and_then(|s| s.state),
            operations: a.upload_operations.unwrap_or_default(),
        })
    }
}

/// The recorded wire shapes, every field optional (Apple sends `null` for most of them at some point).
mod wire {
    use serde::Deserialize;

    use crate::asc::PartUpload as UploadOperation;

    #[derive(Deserialize)]
    pub struct Resource<A> {
        pub id: String,
        pub attributes: Option<A>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct BuildAttributes {
        pub version: Option<String>,
        pub uploaded_date: Option<String>,
        pub processing_state: Option<String>,
        pub processing_errors: Option<Vec<StateMessage>>,
        pub build_processing_state: Option<BuildProcessingState>,
    }

    #[derive(Deserialize, Default)]
    pub struct BuildProcessingState {
        pub errors: Option<Vec<StateMessage>>,
        pub warnings: Option<Vec<StateMessage>>,
        pub infos: Option<Vec<StateMessage>>,
        pub state: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct StateMessage {
        pub code: Option<String>,
        pub description: Option<String>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct DeliveryFileAttributes {
        #[serde(rename = "assetType")]
        pub _asset_type: Option<String>,
        #[serde(rename = "fileSize")]
        pub _file_size: Option<u64>,
        #[serde(rename = "fileName")]
        pub _file_name: Option<String>,
        #[serde(rename = "sourceFileChecksum")]
        pub _source_file_checksum: Option<String>,
        #[serde(rename = "sequentialChecksum")]
        pub _sequential_checksum: Option<String>,
        #[serde(rename = "assetToken")]
        pub _asset_token: Option<String>,
        pub upload_operations: Option<Vec<UploadOperation>>,
        #[serde(rename = "uti")]
        pub _uti: Option<String>,
        pub asset_delivery_state: Option<AssetDeliveryState>,
    }

    #[derive(Deserialize)]
    pub struct AssetDeliveryState {
        pub state: Option<String>,
    }
}

/// The answer of a failed call, kept typed for the callers that react to it (409 duplicate).
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: u16,
    pub code: Option<String>,
    pub detail: String,
    /// `meta.previousBundleVersion` of a 409 on a used build number: the number the new build must
    /// exceed (altool 26.0's recorded 409).
    pub previous_bundle_version: Option<String>,
}

impl ApiFailure {
    /// Reads the first entry of a JSON:API error document.
    pub fn from_document(status: u16, doc: &Value) -> ApiFailure {
        let e = doc.pointer("/errors/0");
        let s = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str);
        ApiFailure {
            status,
            code: s("code").map(str::to_string),
            detail: s("detail")
                .or_else(|| s("title"))
                .map(sanitize)
                .unwrap_or_else(|| format!("HTTP {status}")),
            previous_bundle_version: e
                .and_then(|e| e.pointer("/meta/previousBundleVersion"))
                .and_then(Value::as_str)
                .map(sanitize),
        }
    }

    /// Apple's "this build number is used" answer to `POST builds`.
    pub fn is_duplicate(&self) -> bool {
        self.status == 409
            && self
                .code
                .as_deref()
                .is_some_and(|c| c.starts_with("ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"))
    }
}

pub enum CallError {
    /// The server answered with an error document.
    Api(ApiFailure),
    /// No (complete) answer: the request may or may not have taken effect.
    Lost(String),
    Other(AppleIdError),
}

impl From<CallError> for AppleIdError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Api(a) if a.status == 401 || a.status == 403 => AppleIdError::SignIn(format!(
                "the content-delivery service refused the session (HTTP {}): {}",
                a.status, a.detail
            )),
            CallError::Api(a) => AppleIdError::Http {
                status: a.status,
                message: a.detail,
            },
            CallError::Lost(m) => AppleIdError::Network(m),
            CallError::Other(e) => e,
        }
    }
}

pub struct Provider {
    http: reqwest::Client,
    base: Url,
    cookie: Secret<String>,
    /// Where each call and retry is told (`Events::none()` unless verbose).
    log: crate::publish::events::Events,
    pub requests: AtomicU64,
}

impl Provider {
    pub fn new(
        http: &reqwest::Client,
        host: &Url,
        provider_public_id: &str,
        cookie: Secret<String>,
        log: crate::publish::events::Events,
    ) -> Result<Provider, AppleIdError> {
        let seg: String = url::form_urlencoded::byte_serialize(provider_public_id.as_bytes()).collect();
        let base = host
            .join(&format!("/MZContentDeliveryService/iris/provider/{seg}/v1/"))
            .map_err(|_| AppleIdError::BadUrl("cannot build the provider URL".into()))?;
        Ok(Provider {
            http: http.clone(),
            base,
            cookie,
            log,
            requests: AtomicU64::new(0),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, AppleIdError> {
        let mut u = self
            .base
            .join(path)
            .map_err(|_| AppleIdError::BadUrl(format!("cannot build the URL for {path}")))?;
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        Ok(u)
    }

    async fn send(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Value, CallError> {
        let reads = method == Method::GET;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut rb = self
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::USER_AGENT, USER_AGENT)
                .header(reqwest::header::COOKIE, self.cookie.expose().as_str())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                rb = rb.json(b);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let retry = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    self.log.send(crate::publish::events::Event::Detail(format!(
                        "  {method} {} -> {status}",
                        url.path()
                    )));
                    let bytes = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) if reads && attempt < READ_ATTEMPTS => {
                            self.pause(attempt, &describe(&e)).await;
                            continue;
                        }
                        Err(e) => return Err(CallError::Lost(describe(&e))),
                    };
                    if bytes.len() > MAX_BODY {
                        return Err(CallError::Other(AppleIdError::Protocol("answer too large".into())));
                    }
                    let doc: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    if (200..300).contains(&status) {
                        return Ok(doc);
                    }
                    if (status >= 500 || status == 429) && attempt < READ_ATTEMPTS && reads {
                        format!("HTTP {status}")
                    } else if status >= 500 && !reads {
                        return Err(CallError::Lost(format!("HTTP {status}")));
                    } else {
                        return Err(CallError::Api(ApiFailure::from_document(status, &doc)));
                    }
                }
                Err(e) if reads && attempt < READ_ATTEMPTS => describe(&e),
                Err(e) => return Err(CallError::Lost(describe(&e))),
            };
            self.pause(attempt, &retry).await;
        }
    }

    async fn pause(&self, attempt: u32, why: &str) {
        self.log
            .send(crate::publish::events::Event::Detail(format!("  {why}; retrying")));
        tokio::time::sleep(Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)))).await;
    }

    /// `GET builds?filter[app]=…&filter[version]=…`: the records of this build number, in every
    /// version train (the answer does not say which). The query is ios-uploader's; no `limit`.
    pub async fn builds(&self, app: &str, version: &str) -> Result<Vec<ProviderBuild>, AppleIdError> {
        let q = [("filter[app]", app), ("filter[version]", version)];
        let doc = self.send(Method::GET, self.url("builds", &q)?, None).await?;
        let mut all = Vec::new();
        for item in doc.get("data").and_then(Value::as_array).into_iter().flatten() {
            all.push(ProviderBuild::from_resource(item)?);
        }
        // A server that ignored the filter must not make us match another build.
        Ok(all
            .into_iter()
            .filter(|b| b.version.as_deref().is_none_or(|x| x == version))
            .collect())
    }

    pub async fn build(&self, id: &str) -> Result<ProviderBuild, AppleIdError> {
        let doc = self
            .send(Method::GET, self.url(&format!("builds/{}", seg(id)), &[])?, None)
            .await?;
        ProviderBuild::from_document(&doc)
    }

    /// `POST builds`.
    pub async fn create_build(
        &self,
        app: &str,
        short: &str,
        version: &str,
        platform: &str,
    ) -> Result<ProviderBuild, CallError> {
        let body = json!({ "data": {
            "type": "builds",
            "attributes": { "cfBundleShortVersionString": short, "cfBundleVersion": version, "platform": platform },
            "relationships": { "app": { "data": { "type": "apps", "id": app } } },
        }});
        let url = self.url("builds", &[]).map_err(CallError::Other)?;
        let doc = self.send(Method::POST, url, Some(&body)).await?;
        ProviderBuild::from_document(&doc).map_err(CallError::Other)
    }

    /// `POST buildDeliveryFiles`: reserves one file and returns its upload operations.
    pub async fn create_file(
        &self,
        build: &str,
        asset_type: &str,
        name: &str,
        size: u64,
        md5: &str,
        uti: &str,
    ) -> Result<DeliveryFile, AppleIdError> {
        let body = json!({ "data": {
            "type": "buildDeliveryFiles",
            "attributes": {
                "assetType": asset_type, "fileName": name, "fileSize": size,
                "sourceFileChecksum": md5, "uti": uti,
            },
            "relationships": { "build": { "data": { "type": "builds", "id": build } } },
        }});
        let doc = self
            .send(Method::POST, self.url("buildDeliveryFiles", &[])?, Some(&body))
            .await?;
        DeliveryFile::from_document(&doc)
    }

    pub async fn file(&self, id: &str) -> Result<DeliveryFile, AppleIdError> {
        let doc = self
            .send(
                Method::GET,
                self.url(&format!("buildDeliveryFiles/{}", seg(id)), &[])?,
                None,
            )
            .await?;
        DeliveryFile::from_document(&doc)
    }

    /// `PATCH buildDeliveryFiles/{id}` with `uploaded: true`. A lost answer is reconciled by
    /// reading the file back: COMPLETE means the commit took. Returns whether it was reconciled.
    pub async fn commit_file(&self, id: &str) -> Result<bool, AppleIdError> {
        let body = json!({ "data": { "type": "buildDeliveryFiles", "id": id, "attributes": { "uploaded": true } } });
        let url = self.url(&format!("buildDeliveryFiles/{}", seg(id)), &[])?;
        for round in 0..3 {
            match self.send(Method::PATCH, url.clone(), Some(&body)).await {
                Ok(_) => return Ok(round > 0),
                Err(CallError::Lost(m)) => {
                    self.log.send(crate::publish::events::Event::Detail(format!(
                        "  commit answer lost ({m}); reading the file back"
                    )));
                    let f = self.file(id).await?;
                    if f.state.as_deref() == Some("COMPLETE") {
                        return Ok(true);
                    }
                }
                Err(CallError::Api(a)) if a.status == 409 && round > 0 => {
                    // "already committed" after a lost answer: confirm by reading.
                    if self.file(id).await?.state.as_deref() == Some("COMPLETE") {
                        return Ok(true);
                    }
                    return Err(CallError::Api(a).into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppleIdError::Network(
            "the commit of a delivery file was never confirmed".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_is_processing_state_not_the_delivery_state() {
        // buildProcessingState has the Build Uploads shape: its state ends COMPLETE, never VALID.
        let doc = json!({"data": {"type": "builds", "id": "b1", "attributes": {
            "version": "7", "uploadedDate": "2025-10-16T02:11:44-07:00",
            "processingState": "INVALID", "processingErrors": [],
            "buildProcessingState": {"errors": [{"code": "90725", "description": "SDK version issue."}],
                "warnings": [], "infos": [], "state": "COMPLETE"}}}});
        let b = ProviderBuild::from_document(&doc).unwrap();
        assert_eq!(b.processing_state.as_deref(), Some("INVALID"));
        assert_eq!(b.delivery_state.as_deref(), Some("COMPLETE"));
        assert_eq!(b.version.as_deref(), Some("7"));
        assert_eq!(
            b.messages,
            vec![(
                "error".to_string(),
                Some("90725".to_string()),
                "SDK version issue.".to_string()
            )]
        );
    }

    #[test]
    fn a_new_record_has_no_verdict_and_a_mistyped_field_is_an_error() {
        let new = json!({"data": {"type": "builds", "id": "b1", "attributes": {
            "version": "7", "uploadedDate": null, "processingState": null,
            "processingErrors": null, "buildProcessingState": null}}});
        let b = ProviderBuild::from_document(&new).unwrap();
        assert_eq!(
            (b.processing_state, b.uploaded_date, b.delivery_state),
            (None, None, None)
        );
        let odd = json!({"data": {"id": "b1", "attributes": {"version": 7}}});
        assert!(ProviderBuild::from_document(&odd).is_err());
    }

    #[test]
    fn a_409_names_the_number_to_exceed() {
        let doc = json!({"errors": [{"status": "409", "code": "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
            "detail": "The bundle version must be higher than the previously uploaded version.",
            "meta": {"previousBundleVersion": "2.0.53.731"}}]});
        let f = ApiFailure::from_document(409, &doc);
        assert!(f.is_duplicate());
        assert_eq!(f.previous_bundle_version.as_deref(), Some("2.0.53.731"));
    }
}
