//! A loopback HTTP/1 mock for the forge tests: records every request and answers through a handler.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use asc_publish::report::view::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub type Reply = (u16, Vec<(String, String)>, String);
pub type Handler = Arc<dyn Fn(&Req, &str) -> Reply + Send + Sync>;

/// A loopback HTTP/1 server that records every request and answers with `handler(req, base_url)`.
pub async fn mock(handler: Handler) -> (String, Arc<Mutex<Vec<Req>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let (log2, base2) = (log.clone(), base.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (log, handler, base) = (log2.clone(), handler.clone(), base2.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (log, handler, base) = (log.clone(), handler.clone(), base.clone());
                    async move {
                        let method = req.method().to_string();
                        let uri = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let r = Req {
                            method,
                            uri,
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        let (status, hdrs, text) = handler(&r, &base);
                        log.lock().unwrap().push(r);
                        let mut resp = hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/json");
                        for (k, v) in hdrs {
                            resp = resp.header(k, v);
                        }
                        Ok::<_, Infallible>(resp.body(Full::new(Bytes::from(text))).unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (base, log)
}

/// A rejected run with `n_findings` findings (every third an error).
pub fn view(n_findings: usize) -> RunView {
    RunView {
        app_name: "Demo".into(),
        bundle_id: "com.example.demo".into(),
        version: "1.0".into(),
        build_number: "7".into(),
        verdict: Verdict::RejectedByValidation,
        reached: Some(StageName::Validate),
        stages: vec![StageTiming {
            stage: StageName::Validate,
            start_ms: 0,
            duration_ms: 900,
            status: StageStatus::Failed,
        }],
        findings: (0..n_findings)
            .map(|i| FindingView {
                code: format!("ITMS-{:05}", 90000 + i),
                severity: if i % 3 == 0 { Level::Error } else { Level::Warning },
                path: format!("Payload/Demo.app/F{i}"),
                message: format!("problem {i}"),
                fix: "fix it".into(),
            })
            .collect(),
        ..RunView::default()
    }
}
