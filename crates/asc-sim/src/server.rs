//! The HTTP side: a hyper 1 server on loopback, the request pipeline every API call goes through
//! (JWT, rate limit, latency, `X-Rate-Limit`, request log), and the handle tests hold.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::auth::KeyRing;
use super::clock::Clock;
use super::faults::{FaultState, HOURLY_LIMIT};
use super::json::ApiError;
use super::routes::{self, Reply};
use super::state::Store;
use super::{Processing, SimConfig, SimError, keys, storage};

/// API request bodies are small JSON documents; anything larger is refused.
const MAX_API_BODY: usize = 1024 * 1024;

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The status answered; 0 when the connection was closed without a response.
    pub status: u16,
    pub has_authorization: bool,
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultState>,
    pub requests: Mutex<Vec<RequestRecord>>,
    /// Part bytes when there is no state directory, by (file id, part number).
    pub mem_parts: Mutex<HashMap<(String, u64), Bytes>>,
    pub shuffle: Mutex<fastrand::Rng>,
    pub state_dir: Option<PathBuf>,
    pub base_url: String,
    pub clock: Arc<dyn Clock>,
    pub processing: Processing,
    pub keys: KeyRing,
    pub verbose: bool,
    /// ITMS codes processing attaches as warnings to VALID builds.
    pub processing_warnings: Vec<String>,
    /// The Apple ID sign-in side (`--apple-id`).
    pub content_delivery: super::content_delivery::ContentDelivery,
}

/// Locks a mutex, recovering the data if a previous holder panicked (the simulator must keep
/// answering; a poisoned lock only means some request died halfway).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn now_millis(&self) -> i64 {
        super::clock::now_millis(self.clock.as_ref())
    }

    /// Saves the store when a state directory is used; a failure is logged, not fatal.
    pub fn persist(&self, store: &Store) {
        if let Some(dir) = &self.state_dir {
            if let Err(e) = store.save(dir) {
                eprintln!("sim: cannot save state in {}: {e}", dir.display());
            }
        }
    }

    /// Locks the store after moving processing forward to now.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = lock(&self.store);
        if store.advance(self.now_millis()) {
            self.persist(&store);
        }
        store
    }
}

/// A running simulator. Dropping it without [`SimHandle::shutdown`] leaves the server running
/// until the runtime ends.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash); paths start with `/v1/`.
    pub api_url: String,
    pub local_addr: SocketAddr,
    pub key_id: String,
    pub issuer_id: String,
    /// PKCS#8 PEM of the generated P-256 key the simulator trusts.
    pub private_key_pem: String,
    /// The same PEM as a file (`AuthKey_<KEYID>.p8`).
    pub private_key_path: PathBuf,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _key_dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("api_url", &self.api_url)
            .field("key_id", &self.key_id)
            .field("issuer_id", &self.issuer_id)
            .field("private_key_pem", &"<redacted>")
            .field("private_key_path", &self.private_key_path)
            .finish()
    }
}

impl SimHandle {
    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.requests).clone()
    }

    /// The whole state as JSON (apps, uploads, files, builds, pre-release versions, and the
    /// TestFlight records under `beta`), after
    /// moving processing forward to now.
    pub fn snapshot(&self) -> Value {
        let store = self.shared.store();
        serde_json::to_value(&*store).unwrap_or(Value::Null)
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub(crate) async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    let (store, own, key_path, key_dir) = match &config.state_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| SimError::StateDir {
                path: dir.clone(),
                source,
            })?;
            let (own, path) = keys::load_or_generate(dir)?;
            (Store::load(dir)?.unwrap_or_default(), own, path, None)
        }
        None => {
            let tmp = tempfile::tempdir().map_err(|source| SimError::StateDir {
                path: std::env::temp_dir(),
                source,
            })?;
            let own = keys::generate()?;
            let path = tmp.path().join(keys::key_file_name(&own.key_id));
            keys::write_private(&path, &own.private_pem).map_err(|source| SimError::StateDir {
                path: tmp.path().to_path_buf(),
                source,
            })?;
            (Store::default(), own, path, Some(tmp))
        }
    };
    let mut store = store;
    if config.apps.is_empty() {
        store.seed_app(super::DEFAULT_BUNDLE_ID, super::DEFAULT_APP_ID);
    }
    for (bundle, app_id) in &config.apps {
        store.seed_app(bundle, app_id);
    }
    let first_app = config
        .apps
        .first()
        .and_then(|(bundle, _)| store.apps.iter().find(|a| &a.bundle_id == bundle))
        .or_else(|| store.apps.first())
        .map(|a| a.id.clone())
        .unwrap_or_else(|| super::DEFAULT_APP_ID.to_owned());
    store.seed_testflight(
        &config.testflight,
        &first_app,
        super::clock::now_millis(config.clock.as_ref()),
    )?;
    store.seed_app_store(&config.app_store, super::clock::now_millis(config.clock.as_ref()));
    let mut ring = KeyRing::new(&own.key_id, &own.issuer_id, &own.public_pem).map_err(SimError::KeyGeneration)?;
    for (kid, pem) in &config.trusted_keys {
        let public = keys::trusted_public_pem(kid, pem)?;
        ring.add(kid, &public).map_err(|reason| SimError::BadTrustedKey {
            key_id: kid.clone(),
            reason,
        })?;
    }

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.listen,
        source,
    })?;
    let host = if local_addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        local_addr.ip().to_string()
    };
    let api_url = format!("http://{host}:{}", local_addr.port());

    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        faults: Mutex::new(FaultState::new(config.faults.clone())),
        requests: Mutex::new(Vec::new()),
        mem_parts: Mutex::new(HashMap::new()),
        shuffle: Mutex::new(fastrand::Rng::with_seed(config.faults.seed.wrapping_add(1))),
        state_dir: config.state_dir.clone(),
        base_url: api_url.clone(),
        clock: config.clock.clone(),
        processing: config.processing.clone(),
        keys: ring,
        verbose: config.verbose,
        processing_warnings: config.testflight.processing_warnings.clone(),
        content_delivery: super::content_delivery::ContentDelivery::new(config.apple_ids.clone()),
    });
    shared.persist(&lock(&shared.store));

    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared.clone(), stop_rx));
    Ok(SimHandle {
        api_url,
        local_addr,
        key_id: own.key_id.clone(),
        issuer_id: own.issuer_id.clone(),
        private_key_pem: own.private_pem.clone(),
        private_key_path: key_path,
        shared,
        stop,
        task,
        _key_dir: key_dir,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { serve(shared, req).await }
                    });
                    // Errors here are client disconnects or the deliberate dropped commit.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// The deliberate "connection closed without a response" of `--drop-commit-response`.
#[derive(Debug)]
pub(crate) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("response dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

pub(crate) type HttpResponse = Response<Full<Bytes>>;

async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Result<HttpResponse, Dropped> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let has_authorization = req.headers().contains_key(hyper::header::AUTHORIZATION);
    let latency = lock(&shared.faults).faults().latency;

    let outcome = if req.uri().path().starts_with("/storage/") {
        Ok(storage::put(&shared, req).await)
    } else if super::content_delivery::handles(req.uri().path()) {
        super::content_delivery::handle(&shared, req).await
    } else {
        api(&shared, req).await
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let status = outcome.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
    if shared.verbose {
        // Never the query: part URLs carry their signature there.
        let bare = path.split('?').next().unwrap_or("");
        match status {
            0 => eprintln!("sim: {method} {bare} -> connection closed without a response"),
            _ => eprintln!("sim: {method} {bare} -> {status}"),
        }
    }
    lock(&shared.requests).push(RequestRecord {
        method,
        path,
        status,
        has_authorization,
    });
    outcome
}

async fn api(shared: &Arc<Shared>, req: Request<Incoming>) -> Result<HttpResponse, Dropped> {
    if !req.uri().path().starts_with("/v1/") {
        let rem = lock(&shared.faults).remaining();
        return Ok(error_response(&ApiError::path_not_found(), Some(rem)));
    }
    let auth = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let now_secs = shared.now_millis().div_euclid(1000);
    let max_age = lock(&shared.faults).faults().token_max_age;
    if let Err(refusal) = shared.keys.verify(auth, now_secs, max_age) {
        if shared.verbose {
            eprintln!(
                "sim: token refused for {} {}: {}",
                req.method(),
                req.uri().path(),
                refusal.0
            );
        }
        let rem = lock(&shared.faults).remaining();
        return Ok(error_response(&ApiError::not_authorized(), Some(rem)));
    }
    let decision = lock(&shared.faults).rate();
    if decision.limited {
        let mut resp = error_response(&ApiError::rate_limited(), Some(decision.remaining));
        resp.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
        return Ok(resp);
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_API_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let err = ApiError::new(
                413,
                "ENTITY_ERROR",
                "The request entity is too large",
                "The request body could not be read or exceeds 1 MiB.",
            );
            return Ok(error_response(&err, Some(decision.remaining)));
        }
    };
    let reply = routes::dispatch(shared, &parts.method, &parts.uri, body).await;
    let reply = match reply {
        Ok(r) => r,
        Err(e) => return Ok(error_response(&e, Some(decision.remaining))),
    };
    let mut resp = match reply {
        Reply::Json(status, doc) => json_response(status, &doc),
        Reply::Empty(status) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
            r
        }
        Reply::Drop => return Err(Dropped),
    };
    add_rate_header(&mut resp, decision.remaining);
    Ok(resp)
}

fn add_rate_header(resp: &mut HttpResponse, remaining: u64) {
    let value = format!("user-hour-lim:{HOURLY_LIMIT};user-hour-rem:{remaining};");
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert("x-rate-limit", v);
    }
}

pub(crate) fn json_response(status: u16, doc: &Value) -> HttpResponse {
    let body = serde_json::to_vec(&without_nulls(doc)).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Apple's live API sends unset values as `null` (`uploadedDate`, `relationships.build.data`), but
/// its OpenAPI description declares none of those properties nullable, and none is both required
/// and nullable. Omitting them is the only form the description accepts, so the simulator (whose
/// answers must pass a validating proxy loaded with that description) leaves them out; the client
/// reads absent and `null` alike.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn error_response(err: &ApiError, remaining: Option<u64>) -> HttpResponse {
    let mut r = json_response(err.status(), &err.to_json());
    if let Some(rem) = remaining {
        add_rate_header(&mut r, rem);
    }
    r
}
