//! Harness for the distribute/builds/preflight tests: the simulator in-process behind a loopback
//! proxy that checks every request the CLI sends (operation, query parameter names, body) against
//! Apple's OpenAPI subset, and drives the commands in-process.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use asc_publish::Error;
use asc_publish::asc::Env;
use asc_publish::asc::clock::SystemClock;
use asc_publish::cli::{Cli, Command as Sub};
use asc_publish::outcome::Outcome;
use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, SimHandle, Simulator, TestFlightConfig};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::support::openapi::{Mode, Spec};

/// One request the CLI sent through the proxy.
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

/// A refusal the proxy answers itself, like App Store Connect would: for `method` requests whose
/// path ends with `path_suffix` and whose body contains `body_contains`.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub method: String,
    pub path_suffix: String,
    pub body_contains: String,
    pub status: u16,
    pub code: String,
}

pub struct World {
    pub refusals: Arc<Mutex<Vec<Refusal>>>,
    pub sim: SimHandle,
    pub proxy: String,
    pub violations: Arc<Mutex<Vec<String>>>,
    pub sent: Arc<Mutex<Vec<Sent>>>,
    pub dir: tempfile::TempDir,
}

/// A scene: demo app groups QA (internal), Everyone (internal-all), Public (external); testers.
pub fn scene(tf: impl FnOnce(&mut TestFlightConfig)) -> SimConfig {
    let mut testflight = TestFlightConfig {
        groups: ["QA=internal", "Everyone=internal-all", "Public=external"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect(),
        testers: ["qa@example.com", "jane.doe@example.com"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect(),
        ..TestFlightConfig::default()
    };
    tf(&mut testflight);
    SimConfig {
        processing: Processing {
            duration: std::time::Duration::from_millis(300),
            result: ProcessingResult::Valid,
        },
        testflight,
        ..SimConfig::default()
    }
}

fn check(spec: &Spec, method: &str, path: &str, query: &str, body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(op) = spec.operation(method, path) else {
        return vec![format!("{method} {path} is not an operation of the spec")];
    };
    let names: Vec<String> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for (k, _) in url::form_urlencoded::parse(query.as_bytes()) {
        if !names.iter().any(|n| *n == k) {
            out.push(format!("{method} {path}: query parameter {k} is not in the spec"));
        }
    }
    if !body.is_empty() {
        match (spec.request_schema(method, path), serde_json::from_slice::<Value>(body)) {
            (Some(schema), Ok(v)) => {
                if let Err(errs) = spec.validate(&schema, &v, Mode::Request) {
                    out.push(format!("{method} {path}: body does not conform: {}", errs.join("; ")));
                }
            }
            (None, _) => out.push(format!("{method} {path} takes no body in the spec")),
            (_, Err(e)) => out.push(format!("{method} {path}: body is not JSON: {e}")),
        }
    }
    out
}

impl World {
    pub async fn start(config: SimConfig) -> World {
        let sim = Simulator::start(config).await.expect("simulator");
        let target = sim.api_url.clone();
        let violations = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let spec = Arc::new(Spec::load());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let refusals: Arc<Mutex<Vec<Refusal>>> = Arc::new(Mutex::new(Vec::new()));
        let (v, s, rf) = (violations.clone(), sent.clone(), refusals.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (v, s, spec, http, target, rf) = (
                    v.clone(),
                    s.clone(),
                    spec.clone(),
                    http.clone(),
                    target.clone(),
                    rf.clone(),
                );
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (v, s, spec, http, target, rf) = (
                            v.clone(),
                            s.clone(),
                            spec.clone(),
                            http.clone(),
                            target.clone(),
                            rf.clone(),
                        );
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let path = parts.uri.path().to_string();
                            let query = parts.uri.query().unwrap_or("").to_string();
                            let method = parts.method.as_str().to_string();
                            v.lock().unwrap().extend(check(&spec, &method, &path, &query, &body));
                            let refusal = rf
                                .lock()
                                .unwrap()
                                .iter()
                                .find(|r| {
                                    r.method == method
                                        && path.ends_with(&r.path_suffix)
                                        && String::from_utf8_lossy(&body).contains(&r.body_contains)
                                })
                                .cloned();
                            if let Some(r) = refusal {
                                s.lock().unwrap().push(Sent {
                                    method,
                                    path,
                                    query,
                                    status: r.status,
                                });
                                let doc = serde_json::json!({ "errors": [{ "status": r.status.to_string(), "code": r.code,
                                    "title": "The request cannot be processed.", "detail": "Refused by the test." }] });
                                let mut out = hyper::Response::new(Full::new(Bytes::from(doc.to_string())));
                                *out.status_mut() = hyper::StatusCode::from_u16(r.status).unwrap();
                                return Ok::<_, Infallible>(out);
                            }
                            let url = format!(
                                "{target}{}",
                                parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
                            );
                            let mut fwd = http.request(parts.method.clone(), url);
                            for (k, val) in parts.headers.iter() {
                                if k != "host" && k != "content-length" {
                                    fwd = fwd.header(k, val);
                                }
                            }
                            let resp = fwd.body(body.to_vec()).send().await.unwrap();
                            let status = resp.status();
                            let headers = resp.headers().clone();
                            let bytes = resp.bytes().await.unwrap_or_default();
                            s.lock().unwrap().push(Sent {
                                method,
                                path,
                                query,
                                status: status.as_u16(),
                            });
                            let mut out = hyper::Response::new(Full::new(bytes));
                            *out.status_mut() = status;
                            for (k, val) in headers.iter() {
                                if k != "content-length" && k != "transfer-encoding" && k != "connection" {
                                    out.headers_mut().insert(k, val.clone());
                                }
                            }
                            Ok::<_, Infallible>(out)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        World {
            refusals,
            sim,
            proxy,
            violations,
            sent,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Credential and API flags for the commands.
    pub fn conn(&self) -> Vec<String> {
        vec![
            "--api-url".into(),
            self.proxy.clone(),
            "--key-id".into(),
            self.sim.key_id.clone(),
            "--issuer-id".into(),
            self.sim.issuer_id.clone(),
            "--private-key".into(),
            self.sim.private_key_path.display().to_string(),
        ]
    }

    pub fn assert_conformant(&self) {
        let v = self.violations.lock().unwrap();
        assert!(
            v.is_empty(),
            "requests not conforming to the OpenAPI subset:\n{}",
            v.join("\n")
        );
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    pub fn writes(&self) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.method != "GET").collect()
    }

    /// A signed sample IPA (com.example.demo) and the root CA to trust.
    pub fn ipa(&self, short: &str, build: &str) -> (PathBuf, PathBuf) {
        let path = self.dir.path().join(format!("Demo-{short}-{build}.ipa"));
        let built = SampleApp {
            short_version: short.into(),
            version: build.into(),
            ..SampleApp::default()
        }
        .write_to(&path)
        .unwrap();
        let ca = self.dir.path().join(format!("root-{short}-{build}.pem"));
        std::fs::write(&ca, built.root_pem()).unwrap();
        (path, ca)
    }

    fn parse(&self, sub: &str, args: &[&str]) -> Cli {
        let mut argv: Vec<String> = vec!["asc-publish".into(), sub.into()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend(self.conn());
        argv.extend(["--poll-interval".into(), "100ms".into()]);
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn distribute(&self, args: &[&str]) -> (Result<(), Error>, Outcome) {
        let Sub::Distribute(a) = self.parse("distribute", args).command else {
            unreachable!()
        };
        let client = asc_publish::cli::connection_args::connect(&a.connection, &Env::default(), Arc::new(SystemClock))
            .unwrap()
            .api;
        let mut outcome = Outcome::new();
        let r = asc_publish::cli::distribute::run_with(&client, &a, &Env::default(), &mut outcome).await;
        (r, outcome)
    }

    /// `upload IPA args…` in-process, with the sample's root trusted.
    pub async fn upload(&self, ipa: &(PathBuf, PathBuf), args: &[&str]) -> (Result<(), Error>, Outcome) {
        let mut all = vec![ipa.0.to_str().unwrap(), "--extra-root-ca", ipa.1.to_str().unwrap()];
        all.extend_from_slice(args);
        let Sub::Upload(a) = self.parse("upload", &all).command else {
            unreachable!()
        };
        let mut outcome = Outcome::new();
        let r = asc_publish::cli::upload::run_with(&a, &Env::default(), Arc::new(SystemClock), &mut outcome).await;
        (r, outcome)
    }

    /// `preflight IPA args…` in-process.
    pub async fn preflight(&self, ipa: &(PathBuf, PathBuf), args: &[&str]) -> (Result<(), Error>, Outcome) {
        let mut all = vec![ipa.0.to_str().unwrap(), "--extra-root-ca", ipa.1.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut argv: Vec<String> = vec!["asc-publish".into(), "preflight".into()];
        argv.extend(all.iter().map(|s| s.to_string()));
        let mut conn = self.conn();
        if args.contains(&"--private-key") {
            // The test brings its own key.
            conn.truncate(conn.len() - 2);
        }
        argv.extend(conn);
        let Sub::Preflight(a) = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}")).command else {
            unreachable!()
        };
        let mut outcome = Outcome::new();
        let r = asc_publish::cli::preflight::run_with(&a, &Env::default(), &mut outcome).await;
        (r, outcome)
    }

    /// GET through the simulator directly (not recorded), for assertions.
    pub async fn get(&self, path: &str) -> Value {
        let token = crate::support::mint(
            &self.sim.private_key_pem,
            &self.sim.key_id,
            &crate::support::team_claims(&self.sim.issuer_id),
        );
        let r = crate::support::client()
            .get(format!("{}{path}", self.sim.api_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// The id of build number `number` of the demo app (any state).
    pub async fn build_id(&self, number: &str) -> String {
        let v = self
            .get(&format!(
                "/v1/builds?filter[app]=6450000001&filter[version]={number}&filter[processingState]=PROCESSING,FAILED,INVALID,VALID"
            ))
            .await;
        v["data"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no build {number}: {v}"))
            .to_string()
    }
}
