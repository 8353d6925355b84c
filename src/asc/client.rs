//! The transport: authenticated JSON:API requests with retries for reads, no blind replay of
//! writes, 401 → re-mint once, pagination that stays on the API host, and request accounting.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::{Host, Url};

use crate::asc::auth::TokenSource;
use crate::asc::clock::SharedClock;
use crate::asc::error::{ApiError, AscError, sanitize};
use crate::asc::model::ListDocument;
use crate::asc::retry::{RateLimit, RetryPolicy, is_retryable_status, parse_rate_limit, parse_retry_after};

/// Apple's production endpoint.
pub const DEFAULT_API_URL: &str = "https://api.appstoreconnect.apple.com";
/// Pages followed at most on one list (200 items each: far more than any app has uploads).
pub const MAX_PAGES: usize = 50;
const USER_AGENT: &str = concat!("asc-publish/", env!("CARGO_PKG_VERSION"));

/// How to build a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub api_url: String,
    pub retry: RetryPolicy,
    /// Per-request timeout for API calls.
    pub request_timeout: Duration,
    /// Log each request, its status and the remaining rate-limit budget on stderr.
    pub verbose: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            api_url: DEFAULT_API_URL.to_string(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(120),
            verbose: false,
        }
    }
}

/// Counters for the outcome and verbose output.
#[derive(Debug, Default)]
pub struct RequestStats {
    requests: AtomicU64,
    rate_limit: Mutex<Option<RateLimit>>,
}

impl RequestStats {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// The last `X-Rate-Limit` seen.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit.lock().ok().and_then(|r| *r)
    }
}

/// Validates the API base URL: https anywhere, plain http only to this machine.
pub fn parse_api_url(s: &str) -> Result<Url, AscError> {
    let bad = |reason: &str| AscError::BadUrl {
        url: sanitize(s),
        reason: reason.to_string(),
    };
    let url = Url::parse(s.trim()).map_err(|e| bad(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials in the URL are not supported"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(bad(
            "plain http is only allowed to this machine (127.0.0.0/8, ::1, localhost); the API token would travel \
             unencrypted otherwise — use https",
        )),
        _ => Err(bad("the scheme must be https")),
    }
}

/// Whether the URL's host is loopback.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Builds the API's reqwest client.
pub fn build_http(timeout: Option<Duration>, extra_root_ca: Option<&Path>) -> Result<reqwest::Client, AscError> {
    http_builder(
        timeout,
        extra_root_ca,
        reqwest::Client::builder().user_agent(USER_AGENT),
    )
}

/// Builds the client for pre-signed part uploads: no token, no User-Agent, nothing but what each
/// operation asks for (reqwest itself adds `Accept: */*` and the transport adds `Host`).
pub fn build_parts_http(timeout: Option<Duration>, extra_root_ca: Option<&Path>) -> Result<reqwest::Client, AscError> {
    http_builder(timeout, extra_root_ca, reqwest::Client::builder())
}

fn http_builder(
    timeout: Option<Duration>,
    extra_root_ca: Option<&Path>,
    b: reqwest::ClientBuilder,
) -> Result<reqwest::Client, AscError> {
    let mut b = b
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    if let Some(path) = extra_root_ca {
        let pem = std::fs::read(path)
            .map_err(|e| AscError::Setup(format!("cannot read --extra-root-ca {}: {e}", path.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            AscError::Setup(format!(
                "--extra-root-ca {} is not PEM certificates: {e}",
                path.display()
            ))
        })?;
        b = b.tls_certs_merge(certs);
    }
    b.build().map_err(|e| AscError::Setup(e.to_string()))
}

/// One response: status and body (headers were consumed into stats).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
    pub retry_after: Option<Duration>,
}

/// The App Store Connect client.
#[derive(Debug, Clone)]
pub struct AscClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    tokens: TokenSource,
    clock: SharedClock,
    policy: RetryPolicy,
    stats: Arc<RequestStats>,
    verbose: bool,
}

enum Attempt {
    Done(Response),
    /// The request never reached the server (connect failure): safe to retry any method.
    NotSent(String),
    /// Sent, no usable answer (timeout, reset, truncated body).
    Lost(String),
}

impl AscClient {
    pub fn new(
        config: &ClientConfig,
        tokens: TokenSource,
        clock: SharedClock,
        http: reqwest::Client,
    ) -> Result<AscClient, AscError> {
        let base = parse_api_url(&config.api_url)?;
        Ok(AscClient {
            inner: Arc::new(Inner {
                http,
                base,
                tokens,
                clock,
                policy: config.retry,
                stats: Arc::new(RequestStats::default()),
                verbose: config.verbose,
            }),
        })
    }

    pub fn stats(&self) -> Arc<RequestStats> {
        self.inner.stats.clone()
    }

    pub fn clock(&self) -> SharedClock {
        self.inner.clock.clone()
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.inner.tokens
    }

    pub fn verbose(&self) -> bool {
        self.inner.verbose
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// `path` ("/v1/apps") plus query pairs, on the API host.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, AscError> {
        let base = self.inner.base.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}{path}")).map_err(|e| AscError::BadUrl {
            url: sanitize(path),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn same_origin(&self, url: &Url) -> bool {
        let b = &self.inner.base;
        url.scheme() == b.scheme()
            && url.host_str() == b.host_str()
            && url.port_or_known_default() == b.port_or_known_default()
    }

    /// GET and decode, retried on 429/5xx/network errors.
    pub async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T, AscError> {
        let r = self.idempotent(Method::GET, url.clone()).await?;
        decode(&r.body, "GET", url.path())
    }

    /// GET every page of a list, following `links.next` (same host only, bounded).
    pub async fn get_all<T: DeserializeOwned>(&self, url: Url) -> Result<Vec<T>, AscError> {
        Ok(self.get_all_included(url).await?.0)
    }

    /// Like [`get_all`](Self::get_all), also returning every page's `included` resources.
    pub async fn get_all_included<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<(Vec<T>, Vec<serde_json::Value>), AscError> {
        let mut out = Vec::new();
        let mut included = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let doc: ListDocument<T> = self.get(url.clone()).await?;
            out.extend(doc.data);
            included.extend(doc.included);
            if let Some(n) = doc.links.and_then(|l| l.next) {
                let n = Url::parse(&n).map_err(|_| AscError::Decode {
                    method: "GET".into(),
                    path: url.path().to_string(),
                    message: "links.next is not a URL".into(),
                })?;
                if !self.same_origin(&n) {
                    return Err(AscError::Decode {
                        method: "GET".into(),
                        path: url.path().to_string(),
                        message: format!(
                            "links.next points off the API host ({}); refusing to send the token there",
                            sanitize(n.host_str().unwrap_or("?"))
                        ),
                    });
                }
                if pages >= MAX_PAGES {
                    self.log(&format!("{}: stopped after {MAX_PAGES} pages", url.path()));
                    break;
                }
                next = Some(n);
            }
        }
        Ok((out, included))
    }

    /// A write (POST/PATCH/DELETE) sent once. Retried only when it provably was not applied
    /// (connect failure, 429, 401 with a fresh token); a lost answer is [`AscError::Ambiguous`].
    pub async fn mutate(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, AscError> {
        let start = self.inner.clock.now();
        let policy = self.inner.policy;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let name = method.as_str().to_string();
            let path = url.path().to_string();
            let can_retry = attempt < policy.max_attempts
                && self.inner.clock.now().duration_since(start).unwrap_or_default() < policy.max_total;
            match self.send_authed(method.clone(), url.clone(), body).await? {
                Attempt::Done(r) if (200..300).contains(&r.status) => return Ok(r),
                Attempt::Done(r) if r.status == 429 && can_retry => {
                    let d = policy.delay(attempt, r.retry_after);
                    self.inner.clock.sleep(d).await;
                }
                Attempt::Done(r) if r.status >= 500 || r.status == 408 => {
                    let api = ApiError::from_body(r.status, &name, &path, &r.body);
                    return Err(AscError::Ambiguous {
                        method: name,
                        path,
                        message: api.to_string(),
                    });
                }
                Attempt::Done(r) => return Err(ApiError::from_body(r.status, &name, &path, &r.body).into()),
                Attempt::NotSent(m) if can_retry => {
                    self.log(&format!("{name} {path}: {m}; not sent, retrying"));
                    self.inner.clock.sleep(policy.delay(attempt, None)).await;
                }
                Attempt::NotSent(m) => {
                    return Err(AscError::Exhausted {
                        method: name,
                        path,
                        attempts: attempt,
                        last: m,
                    });
                }
                Attempt::Lost(m) => {
                    return Err(AscError::Ambiguous {
                        method: name,
                        path,
                        message: m,
                    });
                }
            }
        }
    }

    /// POST/PATCH and decode the answer.
    pub async fn mutate_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &serde_json::Value,
    ) -> Result<T, AscError> {
        let name = method.as_str().to_string();
        let r = self.mutate(method, url.clone(), Some(body)).await?;
        decode(&r.body, &name, url.path())
    }

    async fn idempotent(&self, method: Method, url: Url) -> Result<Response, AscError> {
        let start = self.inner.clock.now();
        let policy = self.inner.policy;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let can_retry = attempt < policy.max_attempts
                && self.inner.clock.now().duration_since(start).unwrap_or_default() < policy.max_total;
            let (why, retry_after) = match self.send_authed(method.clone(), url.clone(), None).await? {
                Attempt::Done(r) if (200..300).contains(&r.status) => return Ok(r),
                Attempt::Done(r) if is_retryable_status(r.status) && can_retry => {
                    (format!("HTTP {}", r.status), r.retry_after)
                }
                Attempt::Done(r) => {
                    return Err(ApiError::from_body(r.status, method.as_str(), url.path(), &r.body).into());
                }
                Attempt::NotSent(m) | Attempt::Lost(m) if can_retry => (m, None),
                Attempt::NotSent(m) | Attempt::Lost(m) => {
                    return Err(AscError::Exhausted {
                        method: method.as_str().into(),
                        path: url.path().into(),
                        attempts: attempt,
                        last: m,
                    });
                }
            };
            let d = policy.delay(attempt, retry_after);
            self.log(&format!(
                "{} {}: {why}; retry {attempt} in {:.1}s",
                method,
                url.path(),
                d.as_secs_f64()
            ));
            self.inner.clock.sleep(d).await;
        }
    }

    /// One request with the current token; a 401 re-mints and sends once more (a 401 was not
    /// applied, so this is safe for writes too).
    async fn send_authed(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Attempt, AscError> {
        let token = self.inner.tokens.token()?;
        let first = self
            .send_once(method.clone(), url.clone(), body, token.value.expose())
            .await;
        match first {
            Attempt::Done(r) if r.status == 401 => {
                self.log(&format!(
                    "{} {}: 401, minting a new token and retrying once",
                    method,
                    url.path()
                ));
                self.inner.tokens.invalidate(token.generation);
                let token = self.inner.tokens.token()?;
                Ok(self.send_once(method, url, body, token.value.expose()).await)
            }
            other => Ok(other),
        }
    }

    async fn send_once(&self, method: Method, url: Url, body: Option<&serde_json::Value>, token: &str) -> Attempt {
        self.inner.stats.count();
        let mut req = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(token)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_string());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Attempt::NotSent(describe(&e)),
            Err(e) => return Attempt::Lost(describe(&e)),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(rl) = headers
            .get("x-rate-limit")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_rate_limit)
        {
            if let Ok(mut slot) = self.inner.stats.rate_limit.lock() {
                *slot = Some(rl);
            }
        }
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.inner.clock.now()));
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Lost(describe(&e)),
        };
        if self.inner.verbose {
            let rl = self
                .inner
                .stats
                .rate_limit()
                .map(|r| {
                    format!(
                        " (rate limit: {} of {} left this hour)",
                        r.remaining.map_or("?".into(), |v| v.to_string()),
                        r.limit.map_or("?".into(), |v| v.to_string())
                    )
                })
                .unwrap_or_default();
            let q = url.query().map(|q| format!("?{}", sanitize(q))).unwrap_or_default();
            crate::output::eprintln_redacted!("  {} {}{} → {}{}", method, url.path(), q, status, rl);
        }
        Attempt::Done(Response {
            status,
            body,
            retry_after,
        })
    }

    fn log(&self, line: &str) {
        if self.inner.verbose {
            crate::output::eprintln_redacted!("  {}", sanitize(line));
        }
    }
}

/// A reqwest error with its cause chain, without the URL (pre-signed URLs carry signatures).
pub fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "connection failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&sanitize(&s.to_string()));
        src = s.source();
    }
    msg
}

fn decode<T: DeserializeOwned>(body: &[u8], method: &str, path: &str) -> Result<T, AscError> {
    serde_json::from_slice(body).map_err(|e| AscError::Decode {
        method: method.to_string(),
        path: path.to_string(),
        message: sanitize(&e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        assert!(parse_api_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_api_url("http://127.1.2.3").is_ok());
        assert!(parse_api_url("http://[::1]:9").is_ok());
        assert!(parse_api_url("http://localhost:9").is_ok());
        assert!(parse_api_url("https://api.appstoreconnect.apple.com").is_ok());
        let e = parse_api_url("http://example.com").unwrap_err();
        assert!(e.to_string().contains("only allowed to this machine"));
        assert!(parse_api_url("ftp://127.0.0.1").is_err());
    }
}
