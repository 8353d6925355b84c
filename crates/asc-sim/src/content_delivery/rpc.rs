//! The JSON-RPC side: `authenticateForSession`, `generateAppleConnectToken` and
//! `lookupSoftwareForBundleId` on `MZITunesSoftwareService`, with session digest checks.

use std::sync::Arc;

use hyper::http::request::Parts;
use md5::{Digest, Md5};
use serde_json::{Value, json};

use super::{COOKIE_NAME, RPC_PREFIX, provider_of};
use crate::keys;
use crate::server::{HttpResponse, Shared, json_response, lock};

/// The refusal of a wrong Apple ID or password.
pub(crate) const BAD_LOGIN: &str = "Unable to authenticate.";

fn result(id: &Value, r: Value) -> HttpResponse {
    json_response(200, &json!({ "jsonrpc": "2.0", "id": id, "result": r }))
}

fn rpc_error(status: u16, id: &Value, code: i64, message: &str) -> HttpResponse {
    json_response(
        status,
        &json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }),
    )
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// `hex(MD5(sessionId ‖ MD5raw(body) ‖ requestId ‖ sharedSecret))`.
pub(crate) fn digest(session_id: &str, body: &[u8], request_id: &str, secret: &str) -> String {
    let mut h = Md5::new();
    h.update(session_id.as_bytes());
    h.update(Md5::digest(body));
    h.update(request_id.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// Checks the session headers of a signed call.
fn verify(shared: &Shared, parts: &Parts, body: &[u8]) -> Result<(), &'static str> {
    let (Some(sid), Some(rid), Some(given)) = (
        header(parts, "x-session-id"),
        header(parts, "x-request-id"),
        header(parts, "x-session-digest"),
    ) else {
        return Err("missing session headers");
    };
    if header(parts, "x-session-version") != Some("2") {
        return Err("unsupported session version");
    }
    let secret = lock(&shared.content_delivery.sessions).get(sid).cloned();
    let Some(secret) = secret else {
        return Err("unknown session");
    };
    if !digest(sid, body, rid, &secret).eq_ignore_ascii_case(given) {
        return Err("invalid session digest");
    }
    Ok(())
}

pub(super) fn handle(shared: &Arc<Shared>, parts: &Parts, path: &str, body: &[u8]) -> HttpResponse {
    let service = path.strip_prefix(RPC_PREFIX).unwrap_or("");
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return rpc_error(400, &Value::Null, -32700, "Parse error");
    };
    let id = doc.get("id").cloned().unwrap_or(Value::Null);
    if parts.method != hyper::Method::POST || service != "MZITunesSoftwareService" {
        return rpc_error(404, &id, -32601, "Method not found");
    }
    let method = doc.get("method").and_then(Value::as_str).unwrap_or("");
    let params = doc.get("params").cloned().unwrap_or(Value::Null);
    let p = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let cd = &shared.content_delivery;
    // `ErrorMessage` is what clients read (ios-uploader); the words are altool's recorded refusal.
    let bad_login = || result(&id, json!({ "Success": false, "ErrorMessage": BAD_LOGIN }));
    match method {
        "authenticateForSession" => {
            if !cd.password_ok(&p("Username"), &p("Password")) {
                return bad_login();
            }
            let sid = keys::signature_token();
            let secret = keys::signature_token();
            lock(&cd.sessions).insert(sid.clone(), secret.clone());
            result(
                &id,
                json!({ "Success": true, "SessionId": sid, "SharedSecret": secret }),
            )
        }
        "generateAppleConnectToken" | "lookupSoftwareForBundleId" => {
            if let Err(why) = verify(shared, parts, body) {
                if shared.verbose {
                    eprintln!("sim: {method} refused: {why}");
                }
                return rpc_error(401, &id, -20003, &format!("Authentication failed: {why}."));
            }
            if method == "generateAppleConnectToken" {
                if !cd.password_ok(&p("Username"), &p("Password")) {
                    return bad_login();
                }
                let token = keys::signature_token();
                lock(&cd.tokens).push(token.clone());
                return result(
                    &id,
                    json!({ "Success": true, "DSToken": token, "DSTokenCookieName": COOKIE_NAME }),
                );
            }
            let bundle = p("BundleId");
            let store = shared.store();
            match store.apps.iter().find(|a| a.bundle_id == bundle) {
                Some(app) => result(
                    &id,
                    json!({
                        "Success": true,
                        "ProviderPublicId": provider_of(&app.id),
                        "Attributes": [{
                            "AppleID": app.id,
                            "Application": app.name,
                            "ExistingBundleIdentifier": app.bundle_id,
                            "Type": "iOS App",
                        }],
                    }),
                ),
                None => result(
                    &id,
                    json!({
                        "Success": false,
                        "ErrorMessage": format!("No suitable application records were found. Verify your bundle identifier '{bundle}' is correct."),
                    }),
                ),
            }
        }
        _ => rpc_error(200, &id, -32601, "Method not found"),
    }
}
