//! Replay: the upload and distribution flows run against a loopback server that answers with the
//! bodies real App Store Connect servers sent (tests/fixtures/recorded/asc). Substituted: ids,
//! bundle id, versions, file name and size, and URLs (the API host and the part URL point at the
//! loopback server); `links.next` is dropped (a recording holds one page). Nothing else changes:
//! Apple's `null`s, its undocumented attributes, its sparse answers and its 409 stay as recorded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::support::asc::{Reply, Req, Server, engine_clients, serve};
use crate::support::recorded::get;
use asc_publish::asc::clock::ManualClock;
use asc_publish::outcome::{GroupResult, Outcome, Status, UploadMode};
use asc_publish::publish::distribution::{self, Distribution, Target};
use asc_publish::publish::progress::ProgressMode;
use asc_publish::publish::{UploadOptions, UploadRequest, run_upload};
use serde_json::{Value, json};

const BUNDLE: &str = "com.example.app";
/// fastlane's recorded app id (the first app of testflight/apps.json).
const APP: &str = "123456789";
/// eas-cli's recorded upload and file ids.
const UPLOAD: &str = "fdf9c476-aaa4-4ead-b91c-6e3cc3a47805";
const FILE: &str = "5b110930-f947-4998-a129-5926ffcedde5";
/// eas-cli's recorded part is 359 bytes: the file is that size, so offset and length stay.
const SIZE: usize = 359;

/// Every string naming Apple's API host now names `base`.
fn rehost(v: &mut Value, base: &str) {
    match v {
        Value::String(s) => {
            for host in [
                "https://api.appstoreconnect.apple.com",
                "https://appstoreconnect.apple.com/iris",
            ] {
                if let Some(rest) = s.strip_prefix(host) {
                    *s = format!("{base}{rest}");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rehost(i, base)),
        Value::Object(map) => map.values_mut().for_each(|i| rehost(i, base)),
        _ => {}
    }
}

fn recorded(name: &str, base: &str) -> Value {
    let mut v = get(name);
    rehost(&mut v, base);
    if let Some(links) = v.get_mut("links").and_then(Value::as_object_mut) {
        links.remove("next");
    }
    v
}

#[derive(Default)]
struct Scenario {
    /// Answer POST /v1/buildUploads with the recorded 409 DUPLICATE.
    duplicate: bool,
    /// Set once the upload was reserved: from then on the build list holds build 42.
    reserved: AtomicBool,
    writes: Mutex<Vec<String>>,
}

fn handler(base: Arc<Mutex<String>>, sc: Arc<Scenario>) -> crate::support::asc::Handler {
    Arc::new(move |r: &Req| {
        let base = base.lock().unwrap().clone();
        let rec = |name: &str| recorded(name, &base);
        if r.method != "GET" {
            sc.writes.lock().unwrap().push(format!("{} {}", r.method, r.path));
        }
        let segs: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        match (r.method.as_str(), segs.as_slice()) {
            ("GET", ["v1", "apps"]) => {
                let mut v = rec("apps/fastlane-apps.json");
                v["data"][0]["attributes"]["bundleId"] = json!(BUNDLE);
                Reply::Json(200, v)
            }
            ("GET", ["v1", "apps", APP, "buildUploads"]) => {
                Reply::Json(200, rec("buildUploads/fastlane-build_uploads.json"))
            }
            ("GET", ["v1", "builds"]) => {
                let mut v = rec("builds/fastlane-builds.json");
                if sc.duplicate {
                    v["data"][0]["attributes"]["version"] = json!("2.0.53.700");
                    v["data"][1]["attributes"]["version"] = json!("2.0.53.690");
                } else if sc.reserved.load(Ordering::SeqCst) {
                    v["data"][0]["attributes"]["version"] = json!("42");
                }
                Reply::Json(200, v)
            }
            ("GET", ["v1", "builds", id]) => {
                let mut v = rec("builds/fastlane-build.json");
                v["data"]["id"] = json!(id);
                v["data"]["attributes"]["version"] = json!("42");
                Reply::Json(200, v)
            }
            ("POST", ["v1", "buildUploads"]) if sc.duplicate => {
                Reply::Json(409, rec("errors/codemagic-altool-409-duplicate.json"))
            }
            ("POST", ["v1", "buildUploads"]) => {
                sc.reserved.store(true, Ordering::SeqCst);
                let mut v = rec("buildUploads/eas-post-buildUploads-200.json");
                v["data"]["attributes"]["cfBundleShortVersionString"] = json!("1.0");
                v["data"]["attributes"]["cfBundleVersion"] = json!("42");
                Reply::Json(201, v)
            }
            ("GET", ["v1", "buildUploads", UPLOAD]) => {
                Reply::Json(200, rec("buildUploads/eas-get-buildUploads-200-sparse.json"))
            }
            ("POST", ["v1", "buildUploadFiles"]) => {
                let mut v = rec("buildUploadFiles/eas-post-buildUploadFiles-201.json");
                v["data"]["attributes"]["uploadOperations"][0]["url"] = json!(format!("{base}/part/1"));
                Reply::Json(201, v)
            }
            ("PUT", ["part", "1"]) => Reply::Status(200, vec![("ETag".into(), "\"tag\"".into())], String::new()),
            ("PATCH", ["v1", "buildUploadFiles", FILE]) => {
                Reply::Json(200, rec("buildUploadFiles/eas-patch-buildUploadFiles-200.json"))
            }
            ("GET", ["v1", "apps", APP, "betaGroups"]) | ("GET", ["v1", "betaGroups"]) => {
                Reply::Json(200, rec("betaGroups/fastlane-beta_groups.json"))
            }
            ("POST", ["v1", "builds", _, "relationships", "betaGroups"]) => Reply::Status(204, vec![], String::new()),
            ("GET", ["v1", "builds", _, "betaBuildLocalizations"]) => Reply::Json(
                200,
                rec("betaBuildLocalizations/fastlane-beta_build_localizations.json"),
            ),
            ("PATCH", ["v1", "betaBuildLocalizations", id]) => {
                let mut v = rec("betaBuildLocalizations/fastlane-beta_build_localization.json");
                v["data"]["id"] = json!(id);
                Reply::Json(200, v)
            }
            _ => Reply::Json(404, rec("errors/codemagic-404.json")),
        }
    })
}

struct Replay {
    server: Server,
    scenario: Arc<Scenario>,
    client: asc_publish::asc::AscClient,
    parts: reqwest::Client,
    req: UploadRequest,
    _dir: tempfile::TempDir,
}

async fn replay(duplicate: bool) -> Replay {
    // eas-cli's part URL expires 2026-02-06; its upload was created 2026-01-30T01:31:03-08:00.
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_769_765_500));
    let base = Arc::new(Mutex::new(String::new()));
    let scenario = Arc::new(Scenario {
        duplicate,
        ..Scenario::default()
    });
    let server = serve(handler(base.clone(), scenario.clone())).await;
    *base.lock().unwrap() = server.url();
    let (client, parts) = engine_clients(&server.url(), &clock, Duration::from_secs(20), Duration::from_secs(20));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.ipa");
    std::fs::write(&path, vec![7u8; SIZE]).unwrap();
    let req = UploadRequest {
        ipa_path: path,
        file_name: "app.ipa".into(),
        file_size: SIZE as u64,
        bundle_id: BUNDLE.into(),
        short_version: "1.0".into(),
        version: "42".into(),
        platform: "IOS".into(),
        uses_non_exempt_encryption: Some(false),
    };
    Replay {
        server,
        scenario,
        client,
        parts,
        req,
        _dir: dir,
    }
}

fn options() -> UploadOptions {
    UploadOptions {
        concurrency: 2,
        poll_interval: Duration::from_secs(5),
        progress: ProgressMode::Silent,
        events: asc_publish::publish::events::Events::none(),
        ..UploadOptions::default()
    }
}

#[tokio::test]
async fn upload_and_distribution_succeed_against_recorded_answers() {
    let r = replay(false).await;
    let mut outcome = Outcome::new();
    run_upload(&r.client, &r.parts, &r.req, &options(), &mut outcome)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{} — {:?}",
                e.message(),
                r.server
                    .requests()
                    .iter()
                    .map(|q| format!("{} {}?{}", q.method, q.path, q.raw_query))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(outcome.status, Status::Success);
    assert_eq!(outcome.upload_mode, Some(UploadMode::New));
    assert_eq!(outcome.app_id.as_deref(), Some(APP));
    assert_eq!(outcome.upload_id.as_deref(), Some(UPLOAD));
    assert_eq!(outcome.processing_state.as_deref(), Some("VALID"));
    // fastlane's recorded build 123456789 is the first of the list; it became build 42.
    assert_eq!(outcome.build_id.as_deref(), Some("123456789"));
    assert_eq!(r.server.count("PUT", "/part/1"), 1);
    // The upload never named its build (eas-cli's recording: `build.data: null`): the build was
    // looked up by version and number, on the upload's platform only.
    let lookups: Vec<String> = r
        .server
        .requests()
        .into_iter()
        .filter(|q| q.method == "GET" && q.path == "/v1/builds" && q.raw_query.contains("filter%5Bversion%5D=42"))
        .map(|q| q.raw_query)
        .collect();
    assert!(!lookups.is_empty());
    assert!(
        lookups
            .iter()
            .all(|q| q.contains("filter%5BpreReleaseVersion.platform%5D=IOS")),
        "{lookups:?}"
    );
    let commit = r
        .server
        .requests()
        .into_iter()
        .find(|q| q.method == "PATCH")
        .unwrap()
        .json();
    assert_eq!(commit["data"]["attributes"]["uploaded"], true);

    let d = Distribution {
        groups: vec!["Testing Group".into()],
        what_to_test: vec![("en-GB".into(), "Try the new login".into())],
        expire_previous: true,
        events: asc_publish::publish::events::Events::none(),
        ..Distribution::default()
    };
    let target = Target {
        app_id: APP.into(),
        build_id: "123456789".into(),
        short_version: Some("1.0".into()),
        platform: Some("IOS".into()),
        uses_non_exempt_encryption: Some(false),
    };
    distribution::distribute(&r.client, &target, &d, &mut outcome)
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(outcome.groups.len(), 1);
    assert_ne!(outcome.groups[0].result, GroupResult::Failed, "{:?}", outcome.groups);
    assert_eq!(outcome.what_to_test, ["en-GB"]);
    // fastlane's builds list names no train: nothing is expired on a guess.
    assert!(outcome.expired_builds.is_empty());
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("did not say which platform")),
        "{:?}",
        outcome.warnings
    );
    let writes = r.scenario.writes.lock().unwrap().clone();
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("PATCH /v1/betaBuildLocalizations/987654321")),
        "{writes:?}"
    );
    assert!(!writes.iter().any(|w| w.starts_with("PATCH /v1/builds/")), "{writes:?}");
}

#[tokio::test]
async fn apples_recorded_duplicate_409_names_the_number_to_exceed() {
    let r = replay(true).await;
    let mut outcome = Outcome::new();
    let e = run_upload(&r.client, &r.parts, &r.req, &options(), &mut outcome)
        .await
        .unwrap_err();
    outcome.fail(&e);
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("higher than 2.0.53.731"), "{}", e.message());
    let hint = e.hint().unwrap();
    assert!(hint.contains("2.0.53.731") && hint.contains("2.0.53.732"), "{hint}");
    let recorded = serde_json::to_value(&outcome).unwrap();
    assert!(recorded["error"]["message"].as_str().unwrap().contains("2.0.53.731"));
    assert!(recorded["error"]["hint"].as_str().unwrap().contains("2.0.53.732"));
    assert_eq!(r.server.count("PUT", "/"), 0);
}
