//! Test support: a programmable loopback HTTP server (hyper) that records requests, streams
//! bodies without keeping them, and can drop a connection; plus P-256 test keys.

pub mod fake;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use md5::Digest;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body_len: u64,
    pub body_md5: String,
    /// The body when it is small (≤ 1 MiB); large bodies are only counted and hashed.
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What to answer.
pub enum Reply {
    Json(u16, serde_json::Value),
    Status(u16, Vec<(String, String)>, String),
    /// Read the request, then close the connection without answering.
    Drop,
}

pub fn json(status: u16, v: serde_json::Value) -> Reply {
    Reply::Json(status, v)
}

pub type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Req>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(handler: Handler) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Vec<Req>>> = Arc::default();
    let log2 = log.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let handler = handler.clone();
                    let log = log.clone();
                    async move {
                        let (parts, mut body) = req.into_parts();
                        let small = parts
                            .headers
                            .get("content-length")
                            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                            .is_none_or(|l| l <= 1 << 20);
                        let mut len = 0u64;
                        let mut h = md5::Md5::new();
                        let mut kept = Vec::new();
                        while let Some(frame) = body.frame().await {
                            let frame = frame.map_err(|e| std::io::Error::other(e.to_string()))?;
                            if let Ok(data) = frame.into_data() {
                                len += data.len() as u64;
                                h.update(&data);
                                if small && kept.len() + data.len() <= 1 << 20 {
                                    kept.extend_from_slice(&data);
                                }
                            }
                        }
                        let raw_query = parts.uri.query().unwrap_or("").to_string();
                        let query = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
                        let r = Req {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query,
                            raw_query,
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect(),
                            body_len: len,
                            body_md5: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
                            body: Bytes::from(kept),
                        };
                        log.lock().unwrap().push(r.clone());
                        match handler(&r) {
                            Reply::Drop => Err(std::io::Error::other("dropped on purpose")),
                            Reply::Json(status, v) => Ok(hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .header("x-rate-limit", "user-hour-lim:3600;user-hour-rem:3500;")
                                .body(Full::new(Bytes::from(v.to_string())))
                                .unwrap()),
                            Reply::Status(status, headers, body) => {
                                let mut b = hyper::Response::builder().status(status);
                                for (n, v) in headers {
                                    b = b.header(n, v);
                                }
                                Ok(b.body(Full::new(Bytes::from(body))).unwrap())
                            }
                        }
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    Server { addr, log, task }
}

/// A fresh P-256 key: (PKCS#8 PEM, SEC1 PEM, public key bytes).
/// The clients the upload engine takes, for a server at `url`: the API client with a team test key
/// (`KEY1`, issuer `iss`) on `clock`, and the token-free client for the part PUTs.
pub fn engine_clients(
    url: &str,
    clock: &asc_publish::asc::clock::ManualClock,
    api_timeout: std::time::Duration,
    parts_timeout: std::time::Duration,
) -> (asc_publish::asc::AscClient, reqwest::Client) {
    use asc_publish::asc::{AscClient, ClientConfig, CredentialFlags, Credentials, Env, TokenSource};
    let (pem, _, _) = test_key();
    let env = Env::from_pairs([
        ("ASC_KEY_ID", "KEY1"),
        ("ASC_ISSUER_ID", "iss"),
        ("ASC_PRIVATE_KEY", pem.as_str()),
    ]);
    let creds = Credentials::resolve(&CredentialFlags::default(), &env).unwrap();
    let shared: Arc<dyn asc_publish::asc::Clock> = Arc::new(clock.clone());
    let config = ClientConfig {
        api_url: url.to_string(),
        ..ClientConfig::default()
    };
    let http = asc_publish::asc::client::build_http(Some(api_timeout), None).unwrap();
    let client = AscClient::new(&config, TokenSource::new(creds, shared.clone()), shared, http).unwrap();
    let parts = asc_publish::asc::client::build_parts_http(Some(parts_timeout), None).unwrap();
    (client, parts)
}

pub fn test_key() -> (String, String, Vec<u8>) {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let sec1 = pair.private_key().as_der().unwrap();
    (
        pem("PRIVATE KEY", pkcs8.as_ref()),
        pem("EC PRIVATE KEY", sec1.as_ref()),
        pair.public_key().as_ref().to_vec(),
    )
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The base64 body of a PEM (what must never be printed).
pub fn key_material(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(|l| l[..20].to_string())
        .collect()
}

/// Decodes a JWT's header and claims (no verification) and verifies its ES256 signature.
pub fn decode_jwt(token: &str, public_key: &[u8]) -> (serde_json::Value, serde_json::Value) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut it = token.split('.');
    let (h, c, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let sig = b64.decode(s).unwrap();
    assert_eq!(sig.len(), 64, "ES256 signatures are raw R||S");
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED, public_key)
        .verify(format!("{h}.{c}").as_bytes(), &sig)
        .expect("signature verifies");
    (
        serde_json::from_slice(&b64.decode(h).unwrap()).unwrap(),
        serde_json::from_slice(&b64.decode(c).unwrap()).unwrap(),
    )
}

pub fn bearer(r: &Req) -> String {
    r.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_string()
}
