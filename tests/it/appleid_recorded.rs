//! The Apple ID backend against what Apple really sent (tests/fixtures/recorded/appleid, provenance
//! in tests/fixtures/recorded/SOURCES.md):
//! - every recorded answer parses through the client's model, to the values in it;
//! - the simulator's answers to the same calls have the same field set and nullability as the
//!   recorded ones: a field the simulator invents, leaves out, or types differently fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use asc_publish::appleid::AppleIdError;
use asc_publish::appleid::provider::{ApiFailure, DeliveryFile, ProviderBuild};
use asc_publish::appleid::session::{SoftwareInfo, rpc_failure, session_digest, session_of};
use asc_sim::{ManualClock, Processing, ProcessingResult, SimConfig, SimHandle, Simulator};
use md5::{Digest, Md5};
use serde_json::{Value, json};

const RPC: &str = "/WebObjects/MZLabelService.woa/json/MZITunesSoftwareService";
const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "pw-1234-5678";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recorded/appleid")
}

/// Every recorded file: (name, body).
fn recorded() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) == Some("json") {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            out.push((name, v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 19, "the recorded corpus is there");
    out
}

/// The recorded bodies whose name contains every one of `parts`.
fn recorded_like(parts: &[&str]) -> Vec<Value> {
    let found: Vec<Value> = recorded()
        .into_iter()
        .filter(|(n, _)| parts.iter().all(|p| n.contains(p)))
        .map(|(_, v)| v)
        .collect();
    assert!(!found.is_empty(), "no recording matches {parts:?}");
    found
}

#[test]
fn every_recorded_answer_parses_through_the_clients_model() {
    for (name, doc) in recorded() {
        let kind = name.split("__").nth(1).unwrap_or("");
        if kind.starts_with("builds_post_201") {
            let b = ProviderBuild::from_document(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(b.version.is_some(), "{name}");
            assert_eq!(b.processing_state, None, "{name}: a new record has no verdict");
            assert_eq!(b.uploaded_date, None, "{name}");
        } else if kind.starts_with("builds_get_200_processing") {
            let b = ProviderBuild::from_document(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(b.processing_state.as_deref(), Some("PROCESSING"), "{name}");
            assert_eq!(b.delivery_state.as_deref(), Some("PROCESSING"), "{name}");
            assert!(b.uploaded_date.is_some(), "{name}");
            assert!(b.messages.is_empty(), "{name}");
        } else if kind.starts_with("builds_post_409") {
            let f = ApiFailure::from_document(409, &doc);
            assert!(f.is_duplicate(), "{name}");
            assert_eq!(f.previous_bundle_version.as_deref(), Some("2.0.53.731"), "{name}");
            assert!(f.detail.contains("must be higher"), "{name}");
        } else if kind.starts_with("buildDeliveryFiles_") {
            let f = DeliveryFile::from_document(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            let complete = kind.contains("patch") || kind.contains("complete");
            let want = if complete { "COMPLETE" } else { "AWAITING_UPLOAD" };
            assert_eq!(f.state.as_deref(), Some(want), "{name}");
            assert_eq!(f.operations.is_empty(), complete, "{name}: operations until complete");
            for op in &f.operations {
                assert!(op.url.as_deref().is_some_and(|u| u.starts_with("https://")), "{name}");
                assert!(
                    op.length.is_some() && op.offset.is_some() && op.part_number.is_some(),
                    "{name}"
                );
            }
        } else if kind == "rpc_authenticateForSession.json" {
            let (id, secret) = session_of(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!id.is_empty() && !secret.is_empty());
        } else if kind == "rpc_authenticateForSession_error.json" {
            match session_of(&doc) {
                Err(AppleIdError::SignIn(m)) => assert_eq!(m, "Unable to authenticate."),
                other => panic!("{name}: {other:?}"),
            }
        } else if kind == "rpc_lookupSoftwareForBundleId.json" {
            let s = SoftwareInfo::from_response(&doc, "io.codemagic.banaan").unwrap();
            assert_eq!(s.apple_id, "1481211155");
            assert_eq!(s.provider_public_id, "7d812fe2-8abd-47ca-9d27-3ed7e62d7b6d");
            assert_eq!(s.name.as_deref(), Some("Banaan Codemagic"));
            assert!(rpc_failure(&doc).is_none());
        } else {
            panic!("{name}: a recording no check covers; add it here");
        }
    }
}

/// Each JSON path with the kinds of value seen there (`null`, `string`, …); array elements are
/// under `path[]`.
type Shape = BTreeMap<String, BTreeSet<&'static str>>;

fn shape_into(v: &Value, path: &str, out: &mut Shape) {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.entry(path.to_string()).or_default().insert(kind);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                shape_into(x, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for x in a {
                shape_into(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn shape(docs: &[Value]) -> Shape {
    let mut out = Shape::new();
    for d in docs {
        shape_into(d, "", &mut out);
    }
    out
}

/// The simulator's answer against the recordings of the same call: the same paths, and at each
/// path only kinds the recordings show (so no `null` where Apple always sends a value).
fn assert_same_shape(what: &str, sim: &Value, recorded: &[Value]) {
    let (got, want) = (shape(std::slice::from_ref(sim)), shape(recorded));
    let invented: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let mistyped: Vec<String> = got
        .iter()
        .filter_map(|(k, kinds)| {
            let w = want.get(k)?;
            (!kinds.is_subset(w)).then(|| format!("{k}: {kinds:?}, recorded {w:?}"))
        })
        .collect();
    assert!(
        invented.is_empty() && missing.is_empty() && mistyped.is_empty(),
        "{what}: invented {invented:?}, missing {missing:?}, mistyped {mistyped:?}\nsimulator: {sim:#}"
    );
}

/// The JSON-RPC answers carry many settings the simulator has no use for; it may leave those out,
/// but may not invent one or type one differently.
fn assert_no_invented_field(what: &str, sim: &Value, recorded: &[Value]) {
    let (got, want) = (shape(std::slice::from_ref(sim)), shape(recorded));
    for (k, kinds) in &got {
        let w = want
            .get(k)
            .unwrap_or_else(|| panic!("{what}: {k} is not in any recording\n{sim:#}"));
        assert!(kinds.is_subset(w), "{what}: {k} is {kinds:?}, recorded {w:?}");
    }
}

struct Client {
    http: reqwest::Client,
    sim: SimHandle,
    session: Option<(String, String)>,
}

impl Client {
    async fn rpc(&self, method: &str, params: Value) -> Value {
        let body =
            serde_json::to_vec(&json!({"jsonrpc": "2.0", "method": method, "id": "20261205-001", "params": params}))
                .unwrap();
        let mut rb = self.http.post(format!("{}{RPC}", self.sim.api_url)).body(body.clone());
        if let Some((sid, secret)) = &self.session {
            rb = rb
                .header("x-session-id", sid)
                .header("x-request-id", "req-1")
                .header("x-session-version", "2")
                .header("x-session-digest", session_digest(sid, &body, "req-1", secret));
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{method}");
        r.json().await.unwrap()
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    cookie: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = http.request(method, url).header("cookie", cookie);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn put_all(http: &reqwest::Client, file: &Value, bytes: &[u8]) {
    for op in file["data"]["attributes"]["uploadOperations"].as_array().unwrap() {
        let off = op["offset"].as_u64().unwrap() as usize;
        let len = op["length"].as_u64().unwrap() as usize;
        let mut rb = http
            .request(
                op["method"].as_str().unwrap().parse().unwrap(),
                op["url"].as_str().unwrap(),
            )
            .body(bytes[off..off + len].to_vec());
        for h in op["requestHeaders"].as_array().into_iter().flatten() {
            rb = rb.header(h["name"].as_str().unwrap(), h["value"].as_str().unwrap());
        }
        let s = rb.send().await.unwrap().status().as_u16();
        assert!((200..300).contains(&s), "part PUT answered {s}");
    }
}

fn md5_hex(b: &[u8]) -> String {
    Md5::digest(b).iter().map(|x| format!("{x:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_with_the_recorded_shapes() {
    let clock = Arc::new(ManualClock::new());
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        clock: clock.clone(),
        processing: Processing {
            duration: Duration::from_secs(60),
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut c = Client {
        http: reqwest::Client::new(),
        sim,
        session: None,
    };
    let creds = json!({"Username": EMAIL, "Password": PASSWORD});

    // JSON-RPC: a refusal has exactly the recorded-shape fields; answers invent none.
    let wrong = c
        .rpc("authenticateForSession", json!({"Username": EMAIL, "Password": "nope"}))
        .await;
    assert_same_shape(
        "refused authenticateForSession",
        &wrong["result"],
        &recorded_like(&["rpc_authenticateForSession_error"])
            .iter()
            .map(|d| d["result"].clone())
            .collect::<Vec<_>>(),
    );
    let ok = c.rpc("authenticateForSession", creds.clone()).await;
    assert_no_invented_field(
        "authenticateForSession",
        &ok,
        &recorded_like(&["xcode", "rpc_authenticateForSession"]),
    );
    c.session = Some(session_of(&ok).unwrap());
    let token = c.rpc("generateAppleConnectToken", creds).await;
    let cookie = format!(
        "{}={}",
        token["result"]["DSTokenCookieName"].as_str().unwrap(),
        token["result"]["DSToken"].as_str().unwrap()
    );
    let look = c
        .rpc(
            "lookupSoftwareForBundleId",
            json!({"BundleId": asc_sim::DEFAULT_BUNDLE_ID}),
        )
        .await;
    assert_no_invented_field(
        "lookupSoftwareForBundleId",
        &look,
        &recorded_like(&["rpc_lookupSoftwareForBundleId"]),
    );
    let unknown = c
        .rpc("lookupSoftwareForBundleId", json!({"BundleId": "com.example.none"}))
        .await;
    assert_same_shape(
        "refused lookupSoftwareForBundleId",
        &unknown["result"],
        &recorded_like(&["rpc_authenticateForSession_error"])
            .iter()
            .map(|d| d["result"].clone())
            .collect::<Vec<_>>(),
    );
    let info = SoftwareInfo::from_response(&look, asc_sim::DEFAULT_BUNDLE_ID).unwrap();
    let base = format!(
        "{}/MZContentDeliveryService/iris/provider/{}/v1",
        c.sim.api_url, info.provider_public_id
    );
    let http = c.http.clone();
    use reqwest::Method;

    // A new build record.
    let create = json!({"data": {"type": "builds",
        "attributes": {"cfBundleShortVersionString": "1.0", "cfBundleVersion": "7", "platform": "IOS"},
        "relationships": {"app": {"data": {"type": "apps", "id": info.apple_id}}}}});
    let (s, build) = call(
        &http,
        Method::POST,
        &format!("{base}/builds"),
        &cookie,
        Some(create.clone()),
    )
    .await;
    assert_eq!(s, 201);
    assert_same_shape("POST builds", &build, &recorded_like(&["builds_post_201"]));
    let build_id = build["data"]["id"].as_str().unwrap().to_string();
    let (_, listed) = call(
        &http,
        Method::GET,
        &format!("{base}/builds?filter[app]={}&filter[version]=7", info.apple_id),
        &cookie,
        None,
    )
    .await;
    // No recording of the list; its items are the same resource as a new record's.
    assert_same_shape("GET builds (item)", &listed["data"][0], &[build["data"].clone()]);

    // The description, then the IPA; each reserved, read back, put and committed.
    let description = vec![7u8; 3000];
    let ipa = vec![9u8; 6 * 1024 * 1024 + 10];
    for (kind, bytes, name) in [
        ("ASSET_DESCRIPTION", &description, "description"),
        ("ASSET", &ipa, "asset"),
    ] {
        let reserve = json!({"data": {"type": "buildDeliveryFiles",
            "attributes": {"assetType": kind, "fileName": format!("{name}.bin"), "fileSize": bytes.len(),
                "sourceFileChecksum": md5_hex(bytes),
                "uti": if kind == "ASSET" { "com.apple.ipa" } else { "com.apple.binary-property-list" }},
            "relationships": {"build": {"data": {"type": "builds", "id": build_id}}}}});
        let (s, file) = call(
            &http,
            Method::POST,
            &format!("{base}/buildDeliveryFiles"),
            &cookie,
            Some(reserve),
        )
        .await;
        assert_eq!(s, 201, "{file}");
        assert_same_shape(
            &format!("POST buildDeliveryFiles ({kind})"),
            &file,
            &recorded_like(&["buildDeliveryFiles_post_201", name]),
        );
        let id = file["data"]["id"].as_str().unwrap().to_string();
        let url = format!("{base}/buildDeliveryFiles/{id}");
        // Read back between the parts and the commit, as the recording was (parts carry entity tags).
        put_all(&http, &file, bytes).await;
        let (_, awaiting) = call(&http, Method::GET, &url, &cookie, None).await;
        assert_same_shape(
            "GET buildDeliveryFiles (awaiting)",
            &awaiting,
            &recorded_like(&["buildDeliveryFiles_get_200_awaiting"]),
        );
        let commit = json!({"data": {"type": "buildDeliveryFiles", "id": id, "attributes": {"uploaded": true}}});
        let (s, done) = call(&http, Method::PATCH, &url, &cookie, Some(commit)).await;
        assert_eq!(s, 200, "{done}");
        assert_same_shape(
            &format!("PATCH buildDeliveryFiles ({kind})"),
            &done,
            &recorded_like(&["buildDeliveryFiles_patch_200", name]),
        );
        let (_, complete) = call(&http, Method::GET, &url, &cookie, None).await;
        assert_same_shape(
            "GET buildDeliveryFiles (complete)",
            &complete,
            &recorded_like(&["buildDeliveryFiles_get_200_complete"]),
        );
    }

    // Processing: the recorded PROCESSING shape; the verdict later keeps that shape.
    let (_, processing) = call(&http, Method::GET, &format!("{base}/builds/{build_id}"), &cookie, None).await;
    assert_eq!(processing["data"]["attributes"]["processingState"], "PROCESSING");
    assert_same_shape(
        "GET builds/{id} (processing)",
        &processing,
        &recorded_like(&["builds_get_200_processing"]),
    );
    clock.advance(Duration::from_secs(120));
    let (_, valid) = call(&http, Method::GET, &format!("{base}/builds/{build_id}"), &cookie, None).await;
    let a = &valid["data"]["attributes"];
    assert_eq!(a["processingState"], "VALID", "the verdict is processingState");
    assert_eq!(
        a["buildProcessingState"]["state"], "COMPLETE",
        "buildProcessingState has the Build Uploads shape"
    );
    assert_same_shape(
        "GET builds/{id} (valid)",
        &valid,
        &recorded_like(&["builds_get_200_processing"]),
    );

    // The same build number again: the recorded 409.
    let (s, dup) = call(&http, Method::POST, &format!("{base}/builds"), &cookie, Some(create)).await;
    assert_eq!(s, 409);
    assert_same_shape("POST builds (409)", &dup, &recorded_like(&["builds_post_409"]));
    assert_eq!(dup["errors"][0]["meta"]["previousBundleVersion"], "7");
    c.sim.shutdown().await;
}
