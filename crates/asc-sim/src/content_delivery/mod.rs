//! The content-delivery service an Apple ID upload talks to (`asc-publish sim --apple-id`):
//! the JSON-RPC sign-in on `/WebObjects/MZLabelService.woa/json/*` and the provider REST resources
//! on `/MZContentDeliveryService/iris/provider/{ProviderPublicId}/v1/*`, backed by the same build
//! uploads, part storage and processing as the public API (so such a build also appears there).
//!
//! Answer shapes follow the recorded ones in tests/fixtures/recorded/appleid (see SOURCES.md there);
//! tests/it/appleid_recorded.rs fails on a field that differs. Answers chosen where none is recorded:
//! - a wrong Apple ID or password: HTTP 200, JSON-RPC `result` `{"Success":false,"ErrorMessage":"Unable to authenticate."}`
//!   (the field ios-uploader reads; the words of altool's recorded refusal);
//! - an unknown bundle id in `lookupSoftwareForBundleId`: `result`
//!   `{"Success":false,"ErrorMessage":"No suitable application records were found. Verify your bundle identifier '…' is correct."}`;
//! - a signed call with a missing or wrong session digest, or an unknown session: HTTP 401 with a
//!   JSON-RPC `error` `{"code":-20003,"message":"Authentication failed: …"}`;
//! - provider REST without the DS token cookie (`myacinfo`): 401 `NOT_AUTHORIZED`; an app or build of
//!   another provider: 404 `NOT_FOUND`;
//! - `buildDeliveryFiles` registered again for a build nothing was delivered to replaces the earlier
//!   file of that asset type (what resuming an interrupted upload needs).

mod provider;
mod rpc;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::body::Incoming;
use md5::{Digest, Md5};

use super::json::ApiError;
use super::server::{Dropped, HttpResponse, Shared, json_response, lock};

/// Path prefix of the JSON-RPC services.
pub(crate) const RPC_PREFIX: &str = "/WebObjects/MZLabelService.woa/json/";
/// Path prefix of the provider REST resources.
pub(crate) const PROVIDER_PREFIX: &str = "/MZContentDeliveryService/iris/provider/";
/// The DS token cookie's name.
pub(crate) const COOKIE_NAME: &str = "myacinfo";
const MAX_BODY: usize = 1024 * 1024;

/// Sign-in state: accounts, sessions, DS tokens, and the checksums clients declared per file.
#[derive(Default)]
pub(crate) struct ContentDelivery {
    /// (email, app-specific password).
    accounts: Vec<(String, String)>,
    /// Session id → shared secret.
    sessions: Mutex<HashMap<String, String>>,
    /// DS tokens issued.
    tokens: Mutex<Vec<String>>,
    /// File id → the MD5 declared at reservation (checked at commit).
    declared_md5: Mutex<HashMap<String, String>>,
}

impl ContentDelivery {
    pub(crate) fn new(accounts: Vec<(String, String)>) -> Self {
        ContentDelivery {
            accounts,
            ..ContentDelivery::default()
        }
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        self.accounts
            .iter()
            .any(|(u, p)| u.eq_ignore_ascii_case(user) && p == password)
    }

    fn has_token(&self, token: &str) -> bool {
        lock(&self.tokens).iter().any(|t| t == token)
    }
}

/// A JSON answer that keeps its `null`s. The public API's answers drop them (its OpenAPI description
/// declares none nullable); this service has no such description, and the recorded answers carry
/// `null` (a new build's `processingState`, a complete file's `uploadOperations`).
pub(crate) fn recorded_response(status: u16, doc: &serde_json::Value) -> HttpResponse {
    let body = serde_json::to_vec(doc).unwrap_or_default();
    let mut r = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Whether a path belongs to the content-delivery service.
pub(crate) fn handles(path: &str) -> bool {
    path.starts_with(RPC_PREFIX) || path.starts_with(PROVIDER_PREFIX)
}

/// The provider public id of an app: stable, UUID-shaped, derived from the app id.
pub(crate) fn provider_of(app_id: &str) -> String {
    let h = hex::encode(Md5::digest(format!("provider:{app_id}").as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )
}

pub(crate) async fn handle(shared: &Arc<Shared>, req: Request<Incoming>) -> Result<HttpResponse, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = ApiError::new(
                413,
                "ENTITY_ERROR",
                "The request entity is too large",
                "The body exceeds 1 MiB.",
            );
            return Ok(json_response(413, &e.to_json()));
        }
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with(RPC_PREFIX) {
        return Ok(rpc::handle(shared, &parts, &path, &body));
    }
    provider::handle(shared, &parts, body).await
}
