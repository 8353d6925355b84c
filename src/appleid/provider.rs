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
use crate::asc::client::describe;
use crate::asc::credentials::Secret;
use crate::asc::error::sanitize;
use crate::asc::model::UploadOperation;

/// Attempts for reads (GET) on network errors and 5xx.
const READ_ATTEMPTS: u32 = 4;
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A `builds` record as the provider API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderBuild {
    pub id: String,
    pub short_version: Option<String>,
    pub version: Option<String>,
    /// WAITING_FOR_UPLOAD, PROCESSING, VALID, INVALID, FAILED.
    pub processing_state: Option<String>,
    /// (level, code, description) from `buildProcessingState`.
    pub messages: Vec<(String, Option<String>, String)>,
}

/// A `buildDeliveryFiles` record.
#[derive(Debug, Clone)]
pub struct DeliveryFile {
    pub id: String,
    /// AWAITING_UPLOAD, COMPLETE, FAILED.
    pub state: Option<String>,
    pub operations: Vec<UploadOperation>,
}

/// The answer of a failed call, kept typed for the callers that react to it (409 duplicate).
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: u16,
    pub code: Option<String>,
    pub detail: String,
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
    verbose: bool,
    pub requests: AtomicU64,
}

impl Provider {
    pub fn new(
        http: &reqwest::Client,
        host: &Url,
        provider_public_id: &str,
        cookie: Secret<String>,
        verbose: bool,
    ) -> Result<Provider, AppleIdError> {
        let seg: String = url::form_urlencoded::byte_serialize(provider_public_id.as_bytes()).collect();
        let base = host
            .join(&format!("/MZContentDeliveryService/iris/provider/{seg}/v1/"))
            .map_err(|_| AppleIdError::BadUrl("cannot build the provider URL".into()))?;
        Ok(Provider {
            http: http.clone(),
            base,
            cookie,
            verbose,
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
                    if self.verbose {
                        eprintln!("  {method} {} -> {status}", url.path());
                    }
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
                        let e = doc.pointer("/errors/0");
                        let code = e
                            .and_then(|e| e.get("code"))
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        let detail = e
                            .and_then(|e| e.get("detail").or_else(|| e.get("title")))
                            .and_then(Value::as_str)
                            .map(sanitize)
                            .unwrap_or_else(|| format!("HTTP {status}"));
                        return Err(CallError::Api(ApiFailure { status, code, detail }));
                    }
                }
                Err(e) if reads && attempt < READ_ATTEMPTS => describe(&e),
                Err(e) => return Err(CallError::Lost(describe(&e))),
            };
            self.pause(attempt, &retry).await;
        }
    }

    async fn pause(&self, attempt: u32, why: &str) {
        if self.verbose {
            eprintln!("  {why}; retrying");
        }
        tokio::time::sleep(Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)))).await;
    }

    /// `GET builds?filter[app]=…[&filter[version]=…]`.
    pub async fn builds(&self, app: &str, version: Option<&str>) -> Result<Vec<ProviderBuild>, AppleIdError> {
        let mut q = vec![("filter[app]", app), ("limit", "200")];
        if let Some(v) = version {
            q.push(("filter[version]", v));
        }
        let doc = self.send(Method::GET, self.url("builds", &q)?, None).await?;
        let all: Vec<ProviderBuild> = doc
            .get("data")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(parse_build).collect())
            .unwrap_or_default();
        // A server that ignored the filter must not make us match another build.
        Ok(all
            .into_iter()
            .filter(|b| version.is_none_or(|v| b.version.as_deref().is_none_or(|x| x == v)))
            .collect())
    }

    pub async fn build(&self, id: &str) -> Result<ProviderBuild, AppleIdError> {
        let doc = self
            .send(Method::GET, self.url(&format!("builds/{}", seg(id)), &[])?, None)
            .await?;
        doc.get("data")
            .and_then(parse_build)
            .ok_or_else(|| AppleIdError::Protocol("the build answer has no data".into()))
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
        doc.get("data")
            .and_then(parse_build)
            .ok_or_else(|| CallError::Other(AppleIdError::Protocol("the created build has no id".into())))
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
        parse_file(&doc).ok_or_else(|| AppleIdError::Protocol("the reserved file has no id".into()))
    }

    pub async fn file(&self, id: &str) -> Result<DeliveryFile, AppleIdError> {
        let doc = self
            .send(
                Method::GET,
                self.url(&format!("buildDeliveryFiles/{}", seg(id)), &[])?,
                None,
            )
            .await?;
        parse_file(&doc).ok_or_else(|| AppleIdError::Protocol("the file answer has no data".into()))
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
                    if self.verbose {
                        eprintln!("  commit answer lost ({m}); reading the file back");
                    }
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

fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn parse_build(v: &Value) -> Option<ProviderBuild> {
    let id = v.get("id")?.as_str()?.to_string();
    let a = v.get("attributes");
    let s = |k: &str| a.and_then(|a| a.get(k)).and_then(Value::as_str).map(str::to_string);
    let bps = a.and_then(|a| a.get("buildProcessingState"));
    let state = bps
        .and_then(|b| b.get("state"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| s("processingState"));
    let mut messages = Vec::new();
    for (key, level) in [("errors", "error"), ("warnings", "warning"), ("infos", "info")] {
        for m in bps
            .and_then(|b| b.get(key))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let code = m.get("code").and_then(Value::as_str).map(str::to_string);
            let d = m.get("description").and_then(Value::as_str).unwrap_or("");
            messages.push((level.to_string(), code, sanitize(d)));
        }
    }
    Some(ProviderBuild {
        id,
        short_version: s("cfBundleShortVersionString"),
        version: s("cfBundleVersion"),
        processing_state: state,
        messages,
    })
}

fn parse_file(doc: &Value) -> Option<DeliveryFile> {
    let d = doc.get("data")?;
    let id = d.get("id")?.as_str()?.to_string();
    let a = d.get("attributes");
    let operations = a
        .and_then(|a| a.get("uploadOperations"))
        .filter(|o| !o.is_null())
        .and_then(|o| serde_json::from_value(o.clone()).ok())
        .unwrap_or_default();
    Some(DeliveryFile {
        id,
        state: a
            .and_then(|a| a.pointer("/assetDeliveryState/state"))
            .and_then(Value::as_str)
            .map(str::to_string),
        operations,
    })
}
