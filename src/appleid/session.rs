//! The content-delivery sign-in: JSON-RPC 2.0 calls to `MZITunesSoftwareService`
//! (`authenticateForSession`, then `generateAppleConnectToken` and `lookupSoftwareForBundleId`
//! signed with the session digest headers).

use std::time::Duration;

use md5::{Digest, Md5};
use serde_json::{Value, json};
use url::Url;

use crate::appleid::AppleIdError;
use crate::appleid::credentials::AppleIdCredentials;
use crate::asc::client::describe;
use crate::asc::credentials::Secret;
use crate::asc::error::sanitize;
use crate::publish::events::{Event, Events};

/// Transporter's user agent; the service expects a Transporter client.
pub const USER_AGENT: &str = "iTMSTransporter/4.2.0";
/// The JSON-RPC endpoint every call of the current protocol goes to.
pub const SOFTWARE_SERVICE: &str = "/WebObjects/MZLabelService.woa/json/MZITunesSoftwareService";
/// Attempts per call on network errors and 5xx (the calls are reads or idempotent sign-ins).
const ATTEMPTS: u32 = 3;
/// Largest JSON-RPC answer read.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// `hex(MD5(sessionId ‖ MD5raw(body) ‖ requestId ‖ sharedSecret))`.
pub fn session_digest(session_id: &str, body: &[u8], request_id: &str, shared_secret: &str) -> String {
    let body_md5 = Md5::digest(body);
    let mut h = Md5::new();
    h.update(session_id.as_bytes());
    h.update(body_md5);
    h.update(request_id.as_bytes());
    h.update(shared_secret.as_bytes());
    crate::hex::lower(&h.finalize())
}

/// A request id like Transporter's: a timestamp plus a counter, unique within the session.
fn request_id(n: u64) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}-{:03}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        n % 1000
    )
}

/// The DS token the provider REST calls carry as a cookie.
#[derive(Debug, Clone)]
pub struct DsToken {
    pub cookie_name: String,
    pub token: Secret<String>,
}

impl DsToken {
    pub fn cookie(&self) -> Secret<String> {
        Secret::new(format!("{}={}", self.cookie_name, self.token.expose()))
    }
}

/// What `lookupSoftwareForBundleId` tells about the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareInfo {
    pub provider_public_id: String,
    /// The app's Apple ID (the App Store Connect app id).
    pub apple_id: String,
    pub name: Option<String>,
}

/// A signed-in session.
pub struct Session {
    http: reqwest::Client,
    endpoint: Url,
    session_id: String,
    shared_secret: Secret<String>,
    counter: std::sync::atomic::AtomicU64,
    pub requests: std::sync::atomic::AtomicU64,
    /// Where each call and retry is told (`Events::none()` unless verbose).
    log: Events,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &self.endpoint.as_str())
            .finish()
    }
}

/// Removes the password from any text a server sends back, in case it echoes the request.
pub fn redact(text: &str, creds: &AppleIdCredentials) -> String {
    let pw = creds.password.expose();
    let text = if pw.len() >= 4 {
        text.replace(pw.as_str(), "[redacted]")
    } else {
        text.to_string()
    };
    sanitize(&text)
}

/// Why a JSON-RPC call was refused: `result.ErrorMessage` next to `Success: false` (the field
/// ios-uploader reads, and Transporter prints), or a JSON-RPC `error`. `None` when the call
/// succeeded.
pub fn rpc_failure(doc: &Value) -> Option<String> {
    if let Some(e) = doc.get("error").filter(|e| !e.is_null()) {
        let msg = e.get("message").and_then(Value::as_str).unwrap_or("unknown error");
        return Some(match e.get("code").and_then(Value::as_i64) {
            Some(c) => format!("{msg} ({c})"),
            None => msg.to_string(),
        });
    }
    let r = doc.get("result")?;
    let message = r
        .get("ErrorMessage")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let failed = r.get("Success").and_then(Value::as_bool) == Some(false);
    match (failed, message) {
        (_, Some(m)) => Some(m.to_string()),
        (true, None) => Some("the request failed and Apple gave no reason".to_string()),
        (false, None) => None,
    }
}

/// `authenticateForSession`'s `SessionId` and `SharedSecret`.
pub fn session_of(doc: &Value) -> Result<(String, String), AppleIdError> {
    if let Some(msg) = rpc_failure(doc) {
        return Err(AppleIdError::SignIn(msg));
    }
    let r = doc.get("result").unwrap_or(&Value::Null);
    match (
        r.get("SessionId").and_then(Value::as_str),
        r.get("SharedSecret").and_then(Value::as_str),
    ) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok((id.to_string(), secret.to_string())),
        _ => Err(AppleIdError::Protocol(
            "authenticateForSession answered without SessionId/SharedSecret".into(),
        )),
    }
}

impl SoftwareInfo {
    /// Reads `lookupSoftwareForBundleId`'s answer: `ProviderPublicId` and the first of
    /// `Attributes` (`AppleID`, `Application`), as recorded from altool 15.4.
    pub fn from_response(doc: &Value, bundle_id: &str) -> Result<SoftwareInfo, AppleIdError> {
        let not_found = |detail: String| AppleIdError::AppNotFound {
            bundle_id: bundle_id.to_string(),
            detail,
        };
        if let Some(msg) = rpc_failure(doc) {
            return Err(not_found(msg));
        }
        let r = doc.get("result").unwrap_or(&Value::Null);
        let attrs = r.pointer("/Attributes/0");
        let apple_id = attrs.and_then(|a| a.get("AppleID")).and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        });
        let provider = r.get("ProviderPublicId").and_then(Value::as_str);
        match (provider, apple_id) {
            (Some(p), Some(a)) if !p.is_empty() && !a.is_empty() => Ok(SoftwareInfo {
                provider_public_id: p.to_string(),
                apple_id: a,
                name: attrs
                    .and_then(|a| a.get("Application"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }),
            _ => Err(not_found("the lookup returned no app".into())),
        }
    }
}

impl Session {
    /// `authenticateForSession`; a refused password is [`AppleIdError::SignIn`].
    pub async fn sign_in(
        http: &reqwest::Client,
        base: &Url,
        creds: &AppleIdCredentials,
        log: Events,
    ) -> Result<Session, AppleIdError> {
        let endpoint = base
            .join(SOFTWARE_SERVICE)
            .map_err(|_| AppleIdError::BadUrl("cannot build the sign-in URL".into()))?;
        let mut s = Session {
            http: http.clone(),
            endpoint,
            session_id: String::new(),
            shared_secret: Secret::new(String::new()),
            counter: Default::default(),
            requests: Default::default(),
            log,
        };
        let params = json!({ "Username": creds.apple_id, "Password": creds.password.expose() });
        let doc = s.call("authenticateForSession", params, false, creds).await?;
        let (id, secret) = session_of(&doc).map_err(|e| match e {
            AppleIdError::SignIn(msg) => AppleIdError::SignIn(redact(&msg, creds)),
            other => other,
        })?;
        // Session credentials learnt at run time: masked and redacted like the password.
        crate::output::protect(&id);
        crate::output::protect(&secret);
        s.session_id = id;
        s.shared_secret = Secret::new(secret);
        Ok(s)
    }

    /// `generateAppleConnectToken`: the DS token for the provider REST calls.
    pub async fn apple_connect_token(&self, creds: &AppleIdCredentials) -> Result<DsToken, AppleIdError> {
        let params = json!({ "Username": creds.apple_id, "Password": creds.password.expose() });
        let doc = self.call("generateAppleConnectToken", params, true, creds).await?;
        if let Some(msg) = rpc_failure(&doc) {
            return Err(AppleIdError::SignIn(redact(&msg, creds)));
        }
        let r = doc.get("result").cloned().unwrap_or(Value::Null);
        match (
            r.get("DSToken").and_then(Value::as_str),
            r.get("DSTokenCookieName").and_then(Value::as_str),
        ) {
            (Some(t), Some(n))
                if !t.is_empty()
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_graphic() && b != b'=' && b != b';') =>
            {
                crate::output::protect(t);
                Ok(DsToken {
                    cookie_name: n.to_string(),
                    token: Secret::new(t.to_string()),
                })
            }
            _ => Err(AppleIdError::Protocol(
                "generateAppleConnectToken answered without a usable DSToken/DSTokenCookieName".into(),
            )),
        }
    }

    /// `lookupSoftwareForBundleId`: the provider and the app's Apple ID.
    pub async fn lookup(&self, bundle_id: &str, creds: &AppleIdCredentials) -> Result<SoftwareInfo, AppleIdError> {
        let doc = self
            .call(
                "lookupSoftwareForBundleId",
                json!({ "BundleId": bundle_id }),
                true,
                creds,
            )
            .await?;
        SoftwareInfo::from_response(&doc, bundle_id).map_err(|e| match e {
            AppleIdError::AppNotFound { bundle_id, detail } => AppleIdError::AppNotFound {
                bundle_id,
                detail: redact(&detail, creds),
            },
            other => other,
        })
    }

    async fn call(
        &self,
        method: &str,
        params: Value,
        signed: bool,
        creds: &AppleIdCredentials,
    ) -> Result<Value, AppleIdError> {
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = request_id(n);
        let body = serde_json::to_vec(&json!({ "jsonrpc": "2.0", "method": method, "id": id, "params": params }))
            .map_err(|e| AppleIdError::Protocol(e.to_string()))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut rb = self
                .http
                .post(self.endpoint.clone())
                .header(reqwest::header::USER_AGENT, USER_AGENT)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if signed {
                let digest = session_digest(&self.session_id, &body, &id, self.shared_secret.expose());
                rb = rb
                    .header("x-request-id", &id)
                    .header("x-session-id", &self.session_id)
                    .header("x-session-version", "2")
                    .header("x-session-digest", digest);
            }
            self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let result = rb.send().await;
            let retry = match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    self.log.send(Event::Detail(format!(
                        "  POST {} ({method}) -> {status}",
                        self.endpoint.path()
                    )));
                    if status >= 500 && attempt < ATTEMPTS {
                        format!("HTTP {status}")
                    } else if status == 401 || status == 403 {
                        return Err(AppleIdError::SignIn(format!("{method} was refused with HTTP {status}")));
                    } else if !(200..300).contains(&status) {
                        return Err(AppleIdError::Http {
                            status,
                            message: format!("{method} failed"),
                        });
                    } else {
                        let bytes = resp.bytes().await.map_err(|e| AppleIdError::Network(describe(&e)))?;
                        if bytes.len() > MAX_BODY {
                            return Err(AppleIdError::Protocol(format!(
                                "{method} answered with a too large body"
                            )));
                        }
                        return serde_json::from_slice(&bytes)
                            .map_err(|_| AppleIdError::Protocol(format!("{method} did not answer with JSON")));
                    }
                }
                Err(e) if attempt < ATTEMPTS => describe(&e),
                Err(e) => return Err(AppleIdError::Network(redact(&describe(&e), creds))),
            };
            self.log.send(Event::Detail(format!("  {method}: {retry}; retrying")));
            tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_md5_over_id_body_md5_request_and_secret() {
        // Computed independently: md5("S" ‖ md5raw("{}") ‖ "R" ‖ "K").
        let mut h = Md5::new();
        h.update(b"S");
        h.update(Md5::digest(b"{}"));
        h.update(b"R");
        h.update(b"K");
        let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(session_digest("S", b"{}", "R", "K"), want);
        assert_ne!(session_digest("S", b"{ }", "R", "K"), want);
    }

    #[test]
    fn a_refusal_is_read_from_error_message() {
        // The field ios-uploader reads; the old reader looked only at `Errors`/`ErrorCode`.
        let doc = json!({"result": {"Success": false, "ErrorMessage": "Unable to authenticate."}});
        assert_eq!(rpc_failure(&doc).as_deref(), Some("Unable to authenticate."));
        assert!(matches!(session_of(&doc), Err(AppleIdError::SignIn(m)) if m == "Unable to authenticate."));
        assert!(rpc_failure(&json!({"result": {"Success": false}})).is_some());
        assert!(rpc_failure(&json!({"error": {"code": -32601, "message": "no"}})).is_some());
        let ok = json!({"result": {"Success": true, "SessionId": "a", "SharedSecret": "b"}});
        assert!(rpc_failure(&ok).is_none());
        assert_eq!(session_of(&ok).unwrap(), ("a".to_string(), "b".to_string()));
    }
}
