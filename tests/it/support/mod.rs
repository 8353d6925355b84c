//! What the integration tests share. Here: start the simulator in-process, mint Apple-style JWTs,
//! and send requests whose bodies and answers are checked against Apple's OpenAPI subset. Below:
//! one module per harness (`asc` a scripted App Store Connect, `distribute` the commands
//! in-process behind an OpenAPI-checking proxy, `e2e`/`e2e_ci` the real binary as a CI job runs
//! it, `forge_mock` GitHub/GitLab, `ipa`/`rezip` archives, `recorded` Apple's recorded answers).

pub mod asc;
pub mod distribute;
pub mod e2e;
pub mod e2e_ci;
pub mod file_change;
pub mod forge_mock;
pub mod ipa;
pub mod openapi;
pub mod own_process;
pub mod process;
pub mod recorded;
pub mod release;
pub mod rezip;
pub mod testflight;

use std::time::{SystemTime, UNIX_EPOCH};

use asc_sim::{SimConfig, SimHandle, Simulator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use openapi::{Mode, Spec};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Signs `claims` with ES256 under `kid`.
pub fn mint(private_pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).expect("EC key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// Team-key claims, valid for 10 minutes.
pub fn team_claims(issuer: &str) -> Value {
    let now = now();
    json!({ "iss": issuer, "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1" })
}

/// One answer: status, headers, parsed JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `errors[0].code` of an error answer.
    pub fn code(&self) -> &str {
        self.body
            .pointer("/errors/0/code")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// A running simulator plus a client that validates everything against the spec.
pub struct Api {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub spec: Spec,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}

impl Api {
    pub async fn start(config: SimConfig) -> Api {
        let sim = Simulator::start(config).await.expect("simulator starts");
        Api {
            sim,
            http: client(),
            spec: Spec::load(),
        }
    }

    pub fn token(&self) -> String {
        mint(
            &self.sim.private_key_pem,
            &self.sim.key_id,
            &team_claims(&self.sim.issuer_id),
        )
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None).await
    }

    /// Sends with a fresh valid token; validates the request body (strictly) and the answer.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        if let Some(b) = &body {
            let schema = self
                .spec
                .request_schema(method, path)
                .unwrap_or_else(|| panic!("{method} {path} takes no body in the spec"));
            if let Err(errs) = self.spec.validate(&schema, b, Mode::Request) {
                panic!(
                    "request body for {method} {path} does not conform:\n{}",
                    errs.join("\n")
                );
            }
        }
        self.raw(method, path, body, Some(&self.token())).await
    }

    /// Sends without validating the request (for deliberately bad bodies or tokens); the answer
    /// is still validated.
    pub async fn raw(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> Answer {
        let url = format!("{}{path}", self.sim.api_url);
        let mut req = self.http.request(method.parse().expect("method"), &url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = &body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("request sent");
        let answer = read(resp).await;
        self.conforms(method, path, &answer);
        answer
    }

    /// Panics unless the answer is documented for the operation and its body matches the schema.
    pub fn conforms(&self, method: &str, path: &str, answer: &Answer) {
        let schema = match self.spec.response_schema(method, path, answer.status) {
            Ok(s) => s,
            Err(_) if undocumented_but_deliberate(method, path, answer.status) => {
                Some(openapi::Spec::named("ErrorResponse"))
            }
            Err(e) => panic!("{e}; body: {}", answer.body),
        };
        match schema {
            Some(schema) => {
                if let Err(errs) = self.spec.validate(&schema, &answer.body, Mode::Response) {
                    panic!(
                        "{method} {path} -> {}: body does not conform:\n{}\nbody: {:#}",
                        answer.status,
                        errs.join("\n"),
                        answer.body
                    );
                }
            }
            None => assert!(
                answer.body.is_null(),
                "{method} {path}: expected no body, got {}",
                answer.body
            ),
        }
    }

    /// Creates an upload for `version` (build number) of 1.0 on the default app.
    pub async fn create_upload(&self, app_id: &str, short: &str, version: &str) -> Answer {
        self.call("POST", "/v1/buildUploads", Some(upload_body(app_id, short, version)))
            .await
    }

    pub async fn reserve(&self, upload_id: &str, size: u64) -> Answer {
        self.call("POST", "/v1/buildUploadFiles", Some(file_body(upload_id, size)))
            .await
    }

    /// PUTs every operation of a reservation with the right slice of `bytes`; returns statuses.
    pub async fn put_all(&self, reservation: &Value, bytes: &[u8]) -> Vec<u16> {
        let ops = reservation
            .pointer("/data/attributes/uploadOperations")
            .and_then(Value::as_array)
            .expect("operations")
            .clone();
        let mut statuses = Vec::new();
        for op in ops {
            statuses.push(put_op(&self.http, &op, bytes).await.status().as_u16());
        }
        statuses
    }

    pub async fn commit(&self, file_id: &str, checksums: Option<Value>) -> Answer {
        let mut attrs = json!({ "uploaded": true });
        if let Some(c) = checksums {
            attrs["sourceFileChecksums"] = c;
        }
        let body = json!({ "data": { "type": "buildUploadFiles", "id": file_id, "attributes": attrs } });
        self.call("PATCH", &format!("/v1/buildUploadFiles/{file_id}"), Some(body))
            .await
    }

    /// Polls the upload until it leaves PROCESSING (bounded).
    pub async fn wait_processed(&self, upload_id: &str) -> Answer {
        for _ in 0..200 {
            let a = self.get(&format!("/v1/buildUploads/{upload_id}?include=build")).await;
            let state = a
                .body
                .pointer("/data/attributes/state/state")
                .and_then(Value::as_str)
                .unwrap_or("");
            if state != "PROCESSING" && state != "AWAITING_UPLOAD" {
                return a;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("upload {upload_id} never finished processing");
    }
}

/// Error statuses the simulator answers although the spec does not list them for the operation:
/// deleting an upload that left AWAITING_UPLOAD is a 409 STATE_ERROR (the spec lists only
/// 400/401/403/404/429 for that DELETE).
fn undocumented_but_deliberate(method: &str, path: &str, status: u16) -> bool {
    method == "DELETE" && path.starts_with("/v1/buildUploads/") && status == 409
}

/// PUTs one upload operation the way a client should: its method, URL, headers, exact bytes.
pub async fn put_op(http: &reqwest::Client, op: &Value, bytes: &[u8]) -> reqwest::Response {
    let offset = op["offset"].as_u64().expect("offset") as usize;
    let length = op["length"].as_u64().expect("length") as usize;
    let mut req = http.put(op["url"].as_str().expect("url"));
    for h in op["requestHeaders"].as_array().expect("headers") {
        req = req.header(h["name"].as_str().unwrap(), h["value"].as_str().unwrap());
    }
    req.body(bytes[offset..offset + length].to_vec())
        .send()
        .await
        .expect("put sent")
}

pub async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Answer { status, headers, body }
}

pub fn upload_body(app_id: &str, short: &str, version: &str) -> Value {
    json!({ "data": {
        "type": "buildUploads",
        "attributes": { "cfBundleShortVersionString": short, "cfBundleVersion": version, "platform": "IOS" },
        "relationships": { "app": { "data": { "type": "apps", "id": app_id } } },
    } })
}

pub fn file_body(upload_id: &str, size: u64) -> Value {
    json!({ "data": {
        "type": "buildUploadFiles",
        "attributes": { "assetType": "ASSET", "fileName": "Demo.ipa", "fileSize": size, "uti": "com.apple.ipa" },
        "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": upload_id } } },
    } })
}

/// Deterministic test bytes.
pub fn bytes(len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(len as u64);
    (0..len).map(|_| rng.u8(..)).collect()
}

pub fn md5_upper(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data).iter().map(|b| format!("{b:02X}")).collect()
}

pub fn id(answer: &Answer) -> String {
    answer
        .body
        .pointer("/data/id")
        .and_then(Value::as_str)
        .expect("data.id")
        .to_owned()
}

/// The string at a JSON pointer, or a panic naming it.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}
