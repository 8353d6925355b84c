//! A small stateful fake of the App Store Connect upload flow, for the engine tests: apps,
//! buildUploads, buildUploadFiles with pre-signed part URLs on the same loopback server, builds,
//! JWT checks against an injected clock, and scripted faults.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use asc_publish::asc::Clock;
use asc_publish::asc::clock::ManualClock;
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Reply, Req, json};

#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub app: String,
    pub short: String,
    pub version: String,
    pub platform: String,
    pub state: String,
    pub build: Option<String>,
    pub polls: usize,
}

#[derive(Debug, Clone)]
pub struct File {
    pub id: String,
    pub upload: String,
    pub name: String,
    pub size: u64,
    pub parts: BTreeMap<u64, (u64, u64)>,
    pub received: BTreeMap<u64, String>,
    pub md5: Option<String>,
    pub state: String,
    pub expiration: String,
}

#[derive(Debug, Clone)]
pub struct Build {
    pub id: String,
    pub app: String,
    pub short: String,
    pub version: String,
    pub state: String,
    pub polls: usize,
    pub encryption: Option<bool>,
}

#[derive(Debug, Default)]
pub struct Faults {
    /// Apply the next POST /v1/buildUploads, then drop the connection.
    pub drop_create_upload: bool,
    pub drop_create_file: bool,
    /// Apply the next commit PATCH, then drop the connection.
    pub drop_commit: bool,
    /// Answer POST /v1/buildUploads with 409 DUPLICATE (as if another job just took the number).
    pub force_duplicate: bool,
    /// Drop the next commit PATCH without applying it.
    pub drop_commit_unapplied: bool,
    /// Part number → (status, times) to answer instead of accepting.
    pub fail_part: BTreeMap<u64, (u16, usize)>,
    /// Polls of the upload before it leaves PROCESSING.
    pub upload_polls: usize,
    /// Polls of the build before it leaves PROCESSING.
    pub build_polls: usize,
    /// Processing rejects the upload with these `(code, description)`.
    pub reject: Vec<(String, String)>,
    pub build_verdict: Option<String>,
    /// The upload record lags its build: the build is linked at once and reaches its verdict, while
    /// the upload says PROCESSING until that verdict has been read (then FAILED with `reject`, or
    /// COMPLETE).
    pub upload_lags: bool,
}

#[derive(Debug, Default)]
pub struct State {
    pub apps: Vec<(String, String)>,
    pub uploads: Vec<Upload>,
    pub files: Vec<File>,
    pub builds: Vec<Build>,
    pub part_size: u64,
    pub next_id: usize,
    pub faults: Faults,
    /// Tokens seen, in order.
    pub tokens: Vec<String>,
    pub rejected_tokens: usize,
}

#[derive(Clone)]
pub struct Fake {
    pub state: Arc<Mutex<State>>,
    pub clock: ManualClock,
}

impl Fake {
    pub fn new(clock: ManualClock) -> Fake {
        let st = State {
            apps: vec![("app1".into(), "com.example.app".into())],
            part_size: 1024 * 1024,
            ..State::default()
        };
        Fake {
            state: Arc::new(Mutex::new(st)),
            clock,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn handler(&self) -> super::Handler {
        let me = self.clone();
        Arc::new(move |r: &Req| me.handle(r))
    }

    fn handle(&self, r: &Req) -> Reply {
        if r.path.starts_with("/storage/") {
            return self.put_part(r);
        }
        if let Some(reply) = self.check_token(r) {
            return reply;
        }
        let mut st = self.state.lock().unwrap();
        let host = r.header("host").unwrap_or("127.0.0.1").to_string();
        let seg: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        match (r.method.as_str(), seg.as_slice()) {
            ("GET", ["v1", "apps"]) => {
                let want = r.query.get("filter[bundleId]").cloned().unwrap_or_default();
                let data: Vec<Value> = st
                    .apps
                    .iter()
                    .filter(|(_, b)| *b == want)
                    .map(|(id, b)| json!({"type": "apps", "id": id, "attributes": {"bundleId": b}}))
                    .collect();
                json(200, json!({"data": data, "links": {}}))
            }
            ("GET", ["v1", "apps", app, "buildUploads"]) => {
                let q = &r.query;
                let data: Vec<Value> = st
                    .uploads
                    .iter()
                    .filter(|u| u.app == *app)
                    .filter(|u| {
                        q.get("filter[cfBundleShortVersionString]")
                            .is_none_or(|v| *v == u.short)
                    })
                    .filter(|u| q.get("filter[cfBundleVersion]").is_none_or(|v| *v == u.version))
                    .map(upload_json)
                    .collect();
                json(200, json!({"data": data}))
            }
            ("GET", ["v1", "builds"]) => {
                let q = &r.query;
                let data: Vec<Value> = st
                    .builds
                    .iter()
                    .filter(|b| q.get("filter[app]").is_none_or(|v| *v == b.app))
                    .filter(|b| q.get("filter[preReleaseVersion.version]").is_none_or(|v| *v == b.short))
                    .filter(|b| q.get("filter[version]").is_none_or(|v| *v == b.version))
                    .map(build_json)
                    .collect();
                json(200, json!({"data": data}))
            }
            ("POST", ["v1", "buildUploads"]) => {
                let body = r.json();
                let a = &body["data"]["attributes"];
                let short = a["cfBundleShortVersionString"].as_str().unwrap_or("").to_string();
                let version = a["cfBundleVersion"].as_str().unwrap_or("").to_string();
                let dup = st.faults.force_duplicate
                    || st
                        .uploads
                        .iter()
                        .any(|u| u.short == short && u.version == version && u.state != "FAILED")
                    || st.builds.iter().any(|b| b.short == short && b.version == version);
                if dup {
                    return json(
                        409,
                        json!({"errors":[{"status":"409","code":"ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE","title":"The provided entity includes an attribute with a value that has already been used","detail":"The bundle version must be higher than the previously uploaded version.","source":{"pointer":"/data/attributes/cfBundleVersion"}}]}),
                    );
                }
                st.next_id += 1;
                let u = Upload {
                    id: format!("up{}", st.next_id),
                    app: body["data"]["relationships"]["app"]["data"]["id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    short,
                    version,
                    platform: a["platform"].as_str().unwrap_or("").to_string(),
                    state: "AWAITING_UPLOAD".into(),
                    build: None,
                    polls: 0,
                };
                let doc = json!({"data": upload_json(&u)});
                st.uploads.push(u);
                if std::mem::take(&mut st.faults.drop_create_upload) {
                    return Reply::Drop;
                }
                json(201, doc)
            }
            ("POST", ["v1", "buildUploadFiles"]) => {
                let body = r.json();
                let a = &body["data"]["attributes"];
                let size = a["fileSize"].as_u64().unwrap_or(0);
                st.next_id += 1;
                let id = format!("file{}", st.next_id);
                let mut parts = BTreeMap::new();
                let mut off = 0;
                let mut n = 1;
                while off < size {
                    let len = st.part_size.min(size - off);
                    parts.insert(n, (off, len));
                    off += len;
                    n += 1;
                }
                let f = File {
                    id: id.clone(),
                    upload: body["data"]["relationships"]["buildUpload"]["data"]["id"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    name: a["fileName"].as_str().unwrap_or("").to_string(),
                    size,
                    parts,
                    received: BTreeMap::new(),
                    md5: None,
                    state: "AWAITING_UPLOAD".into(),
                    expiration: "2099-01-01T00:00:00Z".into(),
                };
                let doc = json!({"data": file_json(&f, &host)});
                st.files.push(f);
                if std::mem::take(&mut st.faults.drop_create_file) {
                    return Reply::Drop;
                }
                json(201, doc)
            }
            ("GET", ["v1", "buildUploads", id, "buildUploadFiles"]) => {
                let data: Vec<Value> = st
                    .files
                    .iter()
                    .filter(|f| f.upload == *id)
                    .map(|f| file_json(f, &host))
                    .collect();
                json(200, json!({"data": data}))
            }
            ("GET", ["v1", "buildUploadFiles", id]) => match st.files.iter().find(|f| f.id == *id) {
                Some(f) => json(200, json!({"data": file_json(f, &host)})),
                None => not_found(),
            },
            ("PATCH", ["v1", "buildUploadFiles", id]) => {
                if std::mem::take(&mut st.faults.drop_commit_unapplied) {
                    return Reply::Drop;
                }
                let id = id.to_string();
                let body = r.json();
                let Some(f) = st.files.iter_mut().find(|f| f.id == id) else {
                    return not_found();
                };
                if f.received.len() != f.parts.len() {
                    return json(
                        409,
                        json!({"errors":[{"status":"409","code":"STATE_ERROR","title":"parts missing"}]}),
                    );
                }
                f.md5 = body["data"]["attributes"]["sourceFileChecksums"]["file"]["hash"]
                    .as_str()
                    .map(str::to_string);
                f.state = "COMPLETE".into();
                let upload = f.upload.clone();
                let doc = json!({"data": file_json(f, &host)});
                if let Some(u) = st.uploads.iter_mut().find(|u| u.id == upload) {
                    u.state = "PROCESSING".into();
                }
                if std::mem::take(&mut st.faults.drop_commit) {
                    return Reply::Drop;
                }
                json(200, doc)
            }
            ("DELETE", ["v1", "buildUploads", id]) => {
                let id = id.to_string();
                st.uploads.retain(|u| u.id != id);
                Reply::Status(204, vec![], String::new())
            }
            ("GET", ["v1", "buildUploads", id]) => {
                let id = id.to_string();
                let upload_polls = st.faults.upload_polls;
                let reject = st.faults.reject.clone();
                let build_polls = st.faults.build_polls;
                let Some(idx) = st.uploads.iter().position(|u| u.id == id) else {
                    return not_found();
                };
                let mut new_build = None;
                let verdict_seen = st.builds.iter().any(|b| b.state != "PROCESSING");
                if st.faults.upload_lags {
                    let u = &mut st.uploads[idx];
                    if u.state == "PROCESSING" && u.build.is_none() {
                        new_build = Some((u.app.clone(), u.short.clone(), u.version.clone()));
                    } else if u.state == "PROCESSING" && verdict_seen {
                        u.state = if reject.is_empty() { "COMPLETE" } else { "FAILED" }.into();
                    }
                } else {
                    let u = &mut st.uploads[idx];
                    if u.state == "PROCESSING" {
                        u.polls += 1;
                        if u.polls > upload_polls {
                            if reject.is_empty() {
                                u.state = "COMPLETE".into();
                                new_build = Some((u.app.clone(), u.short.clone(), u.version.clone()));
                            } else {
                                u.state = "FAILED".into();
                            }
                        }
                    }
                }
                if let Some((app, short, version)) = new_build {
                    st.next_id += 1;
                    let bid = format!("build{}", st.next_id);
                    st.builds.push(Build {
                        id: bid.clone(),
                        app,
                        short,
                        version,
                        state: "PROCESSING".into(),
                        polls: build_polls,
                        encryption: None,
                    });
                    st.uploads[idx].build = Some(bid);
                }
                let mut doc = upload_json(&st.uploads[idx]);
                if st.uploads[idx].state == "FAILED" {
                    let errs: Vec<Value> = reject
                        .iter()
                        .map(|(c, d)| json!({"code": c, "description": d}))
                        .collect();
                    doc["attributes"]["state"]["errors"] = json!(errs);
                }
                json(200, json!({"data": doc}))
            }
            ("GET", ["v1", "builds", id]) => {
                let id = id.to_string();
                let verdict = st.faults.build_verdict.clone().unwrap_or_else(|| "VALID".into());
                let Some(b) = st.builds.iter_mut().find(|b| b.id == id) else {
                    return not_found();
                };
                if b.state == "PROCESSING" {
                    if b.polls == 0 {
                        b.state = verdict;
                    } else {
                        b.polls -= 1;
                    }
                }
                json(200, json!({"data": build_json(b)}))
            }
            ("PATCH", ["v1", "builds", id]) => {
                let id = id.to_string();
                let body = r.json();
                let Some(b) = st.builds.iter_mut().find(|b| b.id == id) else {
                    return not_found();
                };
                b.encryption = body["data"]["attributes"]["usesNonExemptEncryption"].as_bool();
                json(200, json!({"data": build_json(b)}))
            }
            _ => not_found(),
        }
    }

    /// 401 for a missing, malformed or expired token (by the injected clock).
    fn check_token(&self, r: &Req) -> Option<Reply> {
        let token = r.header("authorization")?.strip_prefix("Bearer ")?.to_string();
        let claims = token
            .split('.')
            .nth(1)
            .and_then(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|c| serde_json::from_slice::<Value>(&c).ok());
        let now = self
            .clock
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let ok = claims.as_ref().is_some_and(|c| {
            c["aud"] == "appstoreconnect-v1" && c["exp"].as_u64().is_some_and(|e| e > now && e - now <= 1200)
        });
        let mut st = self.state.lock().unwrap();
        st.tokens.push(token);
        if ok {
            None
        } else {
            st.rejected_tokens += 1;
            Some(json(
                401,
                json!({"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid."}]}),
            ))
        }
    }

    fn put_part(&self, r: &Req) -> Reply {
        if r.header("authorization").is_some() {
            return Reply::Status(403, vec![], "Authorization must not be sent to storage".into());
        }
        let seg: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        let (Some(file), Some(n)) = (seg.get(1), seg.get(2).and_then(|n| n.parse::<u64>().ok())) else {
            return Reply::Status(404, vec![], String::new());
        };
        let mut st = self.state.lock().unwrap();
        if let Some((status, times)) = st.faults.fail_part.get_mut(&n) {
            if *times > 0 {
                *times -= 1;
                return Reply::Status(*status, vec![], "<Error>injected</Error>".into());
            }
        }
        let Some(f) = st.files.iter_mut().find(|f| f.id == *file) else {
            return Reply::Status(404, vec![], String::new());
        };
        let Some((_, len)) = f.parts.get(&n).copied() else {
            return Reply::Status(404, vec![], String::new());
        };
        if r.body_len != len || r.header("content-length") != Some(len.to_string().as_str()) {
            return Reply::Status(400, vec![], format!("expected {len} bytes, got {}", r.body_len));
        }
        f.received.insert(n, r.body_md5.clone());
        Reply::Status(200, vec![("etag".into(), format!("\"{}\"", r.body_md5))], String::new())
    }
}

fn not_found() -> Reply {
    json(
        404,
        json!({"errors":[{"status":"404","code":"NOT_FOUND","title":"The specified resource does not exist"}]}),
    )
}

pub fn upload_json(u: &Upload) -> Value {
    json!({"type": "buildUploads", "id": u.id,
        "attributes": {"cfBundleShortVersionString": u.short, "cfBundleVersion": u.version, "platform": u.platform,
            "state": {"state": u.state, "errors": [], "warnings": [], "infos": []}},
        "relationships": {"build": {"data": u.build.as_ref().map(|b| json!({"type": "builds", "id": b}))}}})
}

pub fn build_json(b: &Build) -> Value {
    json!({"type": "builds", "id": b.id, "attributes": {"version": b.version, "processingState": b.state,
        "usesNonExemptEncryption": b.encryption}})
}

pub fn file_json(f: &File, host: &str) -> Value {
    // Operations are listed in reverse, as Apple lists them in arbitrary order.
    let ops: Vec<Value> = f
        .parts
        .iter()
        .rev()
        .map(|(n, (off, len))| {
            json!({"method": "PUT", "url": format!("http://{host}/storage/{}/{n}?X-Amz-Signature=abc", f.id),
                "offset": off, "length": len, "partNumber": n, "expiration": f.expiration,
                "requestHeaders": [{"name": "Content-Type", "value": "application/octet-stream"}]})
        })
        .collect();
    let awaiting = f.state == "AWAITING_UPLOAD";
    json!({"type": "buildUploadFiles", "id": f.id, "attributes": {
        "assetType": "ASSET", "fileName": f.name, "fileSize": f.size, "uti": "com.apple.ipa",
        "assetDeliveryState": {"state": f.state, "errors": [], "warnings": []},
        "sourceFileChecksums": {"file": f.md5.as_ref().map(|h| json!({"hash": h, "algorithm": "MD5"})), "composite": null},
        "uploadOperations": if awaiting { json!(ops) } else { Value::Null }}})
}
