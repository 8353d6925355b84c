//! The upload flow end to end over real HTTP: apps, build uploads, reservations, part PUTs,
//! commit, processing, builds and export compliance, with every body checked against Apple's
//! OpenAPI subset.

mod support;

use std::sync::Arc;
use std::time::Duration;

use asc_publish::sim::{DEFAULT_APP_ID, ManualClock, Processing, ProcessingResult, SimConfig};
use md5::{Digest, Md5};
use serde_json::{Value, json};
use support::{Api, bytes, id, md5_upper};

const PART: usize = 5 * 1024 * 1024;

fn config(clock: &ManualClock, duration: Duration, result: ProcessingResult) -> SimConfig {
    SimConfig {
        clock: Arc::new(clock.clone()),
        processing: Processing { duration, result },
        ..SimConfig::default()
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {v}"))
}

#[tokio::test]
async fn happy_path_through_every_state_machine() {
    let clock = ManualClock::new();
    let api = Api::start(config(&clock, Duration::from_secs(2), ProcessingResult::Valid)).await;

    // App lookup, plain and quoted like altool.
    let apps = api.get("/v1/apps?filter[bundleId]=com.example.demo").await;
    assert_eq!(apps.status, 200);
    assert_eq!(str_at(&apps.body, "/data/0/id"), DEFAULT_APP_ID);
    let quoted = api.get("/v1/apps?filter[bundleId]=%22com.example.demo%22").await;
    assert_eq!(quoted.body["data"].as_array().unwrap().len(), 1);
    let none = api.get("/v1/apps?filter[bundleId]=com.example.other").await;
    assert_eq!(none.body["data"], json!([]));
    assert_eq!(api.get(&format!("/v1/apps/{DEFAULT_APP_ID}")).await.status, 200);

    // Create: AWAITING_UPLOAD, no uploadedDate, no build.
    let created = api.create_upload(DEFAULT_APP_ID, "1.0", "7").await;
    assert_eq!(created.status, 201);
    let upload_id = id(&created);
    assert_eq!(str_at(&created.body, "/data/attributes/state/state"), "AWAITING_UPLOAD");
    assert!(created.body.pointer("/data/attributes/uploadedDate").unwrap().is_null());
    assert!(
        created
            .body
            .pointer("/data/attributes/createdDate")
            .unwrap()
            .is_string()
    );
    assert!(
        created
            .body
            .pointer("/data/relationships/build/data")
            .unwrap()
            .is_null()
    );

    // Reserve: 5 MiB parts, the last one the remainder.
    let data = bytes(2 * PART + 1234);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    assert_eq!(reserved.status, 201);
    let file_id = id(&reserved);
    let attrs = &reserved.body["data"]["attributes"];
    assert_eq!(attrs["assetDeliveryState"]["state"], "AWAITING_UPLOAD");
    assert_eq!(attrs["sourceFileChecksums"], json!({ "file": null, "composite": null }));
    let mut ops = attrs["uploadOperations"].as_array().unwrap().clone();
    ops.sort_by_key(|o| o["partNumber"].as_u64());
    let shape: Vec<(u64, u64, u64)> = ops
        .iter()
        .map(|o| {
            (
                o["partNumber"].as_u64().unwrap(),
                o["offset"].as_u64().unwrap(),
                o["length"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (1, 0, PART as u64),
            (2, PART as u64, PART as u64),
            (3, 2 * PART as u64, 1234)
        ]
    );
    for op in &ops {
        assert_eq!(op["method"], "PUT");
        assert!(str_at(op, "/url").starts_with(&format!("{}/storage/", api.sim.api_url)));
        assert_eq!(
            op["requestHeaders"],
            json!([{ "name": "Content-Type", "value": "application/octet-stream" }])
        );
        assert!(op["entityTag"].is_null());
        assert!(op["expiration"].is_string());
    }
    let upload = api.get(&format!("/v1/buildUploads/{upload_id}")).await;
    assert_eq!(str_at(&upload.body, "/data/relationships/assetFile/data/id"), file_id);

    // Parts: 200 with the part MD5 as ETag, no Authorization sent.
    for op in &ops {
        let resp = support::put_op(&api.http, op, &data).await;
        assert_eq!(resp.status(), 200);
        let (off, len) = (
            op["offset"].as_u64().unwrap() as usize,
            op["length"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            resp.headers()["etag"].to_str().unwrap(),
            format!("\"{}\"", md5_upper(&data[off..off + len]))
        );
    }
    let after_puts = api.get(&format!("/v1/buildUploadFiles/{file_id}")).await;
    let tags: Vec<&Value> = after_puts.body["data"]["attributes"]["uploadOperations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["entityTag"])
        .collect();
    assert!(
        tags.iter().all(|t| t.is_string()),
        "entity tags are filled after the PUTs"
    );

    // Commit with the whole-file MD5: COMPLETE, operations gone, checksums filled.
    let file_md5 = md5_upper(&data);
    let committed = api
        .commit(
            &file_id,
            Some(json!({ "file": { "hash": file_md5.to_lowercase(), "algorithm": "MD5" } })),
        )
        .await;
    assert_eq!(committed.status, 200, "{}", committed.body);
    let attrs = &committed.body["data"]["attributes"];
    assert_eq!(attrs["assetDeliveryState"]["state"], "COMPLETE");
    assert!(attrs["uploadOperations"].is_null());
    assert_eq!(
        attrs["sourceFileChecksums"]["file"],
        json!({ "hash": file_md5, "algorithm": "MD5" })
    );
    let mut composite = Md5::new();
    for chunk in data.chunks(PART) {
        composite.update(Md5::digest(chunk));
    }
    let expected_composite = format!(
        "{}-3",
        composite
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    );
    assert_eq!(
        attrs["sourceFileChecksums"]["composite"],
        json!({ "hash": expected_composite, "algorithm": "MD5" })
    );

    // PROCESSING, uploadedDate set, no build yet; a processing upload cannot be deleted.
    let processing = api.get(&format!("/v1/buildUploads/{upload_id}?include=build")).await;
    assert_eq!(str_at(&processing.body, "/data/attributes/state/state"), "PROCESSING");
    assert!(
        processing
            .body
            .pointer("/data/attributes/uploadedDate")
            .unwrap()
            .is_string()
    );
    assert!(
        processing
            .body
            .pointer("/data/relationships/build/data")
            .unwrap()
            .is_null()
    );
    let del = api.call("DELETE", &format!("/v1/buildUploads/{upload_id}"), None).await;
    assert_eq!((del.status, del.code()), (409, "STATE_ERROR"));

    // Halfway: the build exists, still PROCESSING, and /v1/builds hides it by default.
    clock.advance(Duration::from_millis(1100));
    let halfway = api.get(&format!("/v1/buildUploads/{upload_id}?include=build")).await;
    assert_eq!(str_at(&halfway.body, "/data/attributes/state/state"), "PROCESSING");
    let build_id = str_at(&halfway.body, "/data/relationships/build/data/id").to_owned();
    assert_eq!(
        str_at(&halfway.body, "/included/0/attributes/processingState"),
        "PROCESSING"
    );
    let listed = api.get(&format!("/v1/builds?filter[app]={DEFAULT_APP_ID}")).await;
    assert_eq!(
        listed.body["data"],
        json!([]),
        "without filter[processingState] only VALID builds are listed"
    );
    let listed = api
        .get(&format!("/v1/builds?filter[app]={DEFAULT_APP_ID}&filter[processingState]=PROCESSING,FAILED,INVALID,VALID&filter[version]=7&filter[preReleaseVersion.version]=1.0&sort=-uploadedDate&limit=1&include=buildBetaDetail,preReleaseVersion"))
        .await;
    assert_eq!(str_at(&listed.body, "/data/0/id"), build_id);
    assert_eq!(listed.body["included"].as_array().unwrap().len(), 2);

    // Done: upload COMPLETE, build VALID, beta detail waiting for export compliance.
    clock.advance(Duration::from_secs(1));
    let done = api.get(&format!("/v1/buildUploads/{upload_id}?include=build")).await;
    assert_eq!(str_at(&done.body, "/data/attributes/state/state"), "COMPLETE");
    assert_eq!(str_at(&done.body, "/included/0/attributes/processingState"), "VALID");
    let build = api
        .get(&format!(
            "/v1/builds/{build_id}?include=buildBetaDetail,preReleaseVersion"
        ))
        .await;
    let b = &build.body["data"]["attributes"];
    assert_eq!(
        (b["version"].as_str(), b["expired"].as_bool()),
        (Some("7"), Some(false))
    );
    assert!(b["usesNonExemptEncryption"].is_null());
    assert!(b["expirationDate"].is_string() && b["minOsVersion"].is_string());
    assert_eq!(
        str_at(&build.body, "/data/relationships/buildUpload/data/id"),
        upload_id
    );
    let included = build.body["included"].as_array().unwrap();
    let detail = included.iter().find(|i| i["type"] == "buildBetaDetails").unwrap();
    assert_eq!(detail["attributes"]["internalBuildState"], "MISSING_EXPORT_COMPLIANCE");
    assert_eq!(detail["attributes"]["externalBuildState"], "MISSING_EXPORT_COMPLIANCE");
    let prv = included.iter().find(|i| i["type"] == "preReleaseVersions").unwrap();
    assert_eq!(prv["attributes"], json!({ "version": "1.0", "platform": "IOS" }));

    let trains = api
        .get(&format!(
            "/v1/preReleaseVersions?filter[app]={DEFAULT_APP_ID}&filter[version]=1.0&filter[platform]=IOS"
        ))
        .await;
    assert_eq!(str_at(&trains.body, "/data/0/id"), str_at(prv, "/id"));
    assert_eq!(
        api.get(&format!("/v1/builds?filter[app]={DEFAULT_APP_ID}")).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Export compliance moves the beta states.
    let patch =
        json!({ "data": { "type": "builds", "id": build_id, "attributes": { "usesNonExemptEncryption": false } } });
    let patched = api.call("PATCH", &format!("/v1/builds/{build_id}"), Some(patch)).await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["data"]["attributes"]["usesNonExemptEncryption"], false);
    let detail = api.get(&format!("/v1/builds/{build_id}/buildBetaDetail")).await;
    assert_eq!(
        detail.body["data"]["attributes"]["internalBuildState"],
        "READY_FOR_BETA_TESTING"
    );
    assert_eq!(
        detail.body["data"]["attributes"]["externalBuildState"],
        "READY_FOR_BETA_SUBMISSION"
    );
    assert_eq!(detail.body["data"]["attributes"]["autoNotifyEnabled"], false);

    // Expire: EXPIRED beta states; cannot be undone.
    let expire = json!({ "data": { "type": "builds", "id": build_id, "attributes": { "expired": true } } });
    assert_eq!(
        api.call("PATCH", &format!("/v1/builds/{build_id}"), Some(expire))
            .await
            .status,
        200
    );
    let detail = api.get(&format!("/v1/builds/{build_id}/buildBetaDetail")).await;
    assert_eq!(detail.body["data"]["attributes"]["internalBuildState"], "EXPIRED");
    let revive = json!({ "data": { "type": "builds", "id": build_id, "attributes": { "expired": false } } });
    assert_eq!(
        api.call("PATCH", &format!("/v1/builds/{build_id}"), Some(revive))
            .await
            .status,
        409
    );

    // The per-app list finds the upload by build number.
    let found = api.get(&format!("/v1/apps/{DEFAULT_APP_ID}/buildUploads?filter[cfBundleShortVersionString]=1.0&filter[cfBundleVersion]=7&filter[platform]=IOS&filter[state]=COMPLETE&include=build")).await;
    assert_eq!(str_at(&found.body, "/data/0/id"), upload_id);
    assert_eq!(found.body["meta"]["paging"]["total"], 1);
    let files = api.get(&format!("/v1/buildUploads/{upload_id}/buildUploadFiles")).await;
    assert_eq!(str_at(&files.body, "/data/0/id"), file_id);

    // The request log: storage PUTs never carried Authorization, API calls always did.
    let log = api.sim.requests();
    assert!(
        log.iter()
            .filter(|r| r.path.starts_with("/storage/"))
            .all(|r| !r.has_authorization && r.status == 200)
    );
    assert!(
        log.iter()
            .filter(|r| r.path.starts_with("/v1/"))
            .all(|r| r.has_authorization)
    );
    let snap = api.sim.snapshot();
    assert_eq!(snap["uploads"][&upload_id]["state"], "COMPLETE");
    api.sim.shutdown().await;
}

#[tokio::test]
async fn upload_operations_are_shuffled_and_cover_the_file() {
    let api = Api::start(SimConfig::default()).await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
    let size = 12 * PART as u64 + 5;
    let reserved = api.reserve(&upload_id, size).await;
    let ops = reserved.body["data"]["attributes"]["uploadOperations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ops.len(), 13);
    let numbers: Vec<u64> = ops.iter().map(|o| o["partNumber"].as_u64().unwrap()).collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_ne!(numbers, sorted, "parts are listed in shuffled order, like Apple's");
    let mut by_offset: Vec<(u64, u64)> = ops
        .iter()
        .map(|o| (o["offset"].as_u64().unwrap(), o["length"].as_u64().unwrap()))
        .collect();
    by_offset.sort_unstable();
    let mut next = 0;
    for (offset, length) in by_offset {
        assert_eq!(offset, next);
        next += length;
    }
    assert_eq!(next, size);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn duplicate_build_numbers_conflict_like_apple() {
    let api = Api::start(SimConfig::default()).await;
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.0", "7").await.status, 201);
    // Still AWAITING_UPLOAD, and already taken.
    let dup = api.create_upload(DEFAULT_APP_ID, "1.0", "7").await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE");
    assert_eq!(dup.body["errors"][0]["status"], "409");
    assert_eq!(
        dup.body["errors"][0]["source"],
        json!({ "pointer": "/data/attributes/cfBundleVersion" })
    );
    assert_eq!(dup.body["errors"][0]["meta"]["previousBundleVersion"], "7");
    assert_eq!(
        dup.body["errors"][0]["title"],
        "The provided entity includes an attribute with a value that has already been used"
    );
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.0", "10").await.status, 201);
    let dup = api.create_upload(DEFAULT_APP_ID, "1.0", "7").await;
    assert_eq!(dup.body["errors"][0]["meta"]["previousBundleVersion"], "10");
    // Another version train is free to reuse the number.
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "1.1", "7").await.status, 201);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn deleting_an_abandoned_reservation_frees_its_build_number() {
    let api = Api::start(SimConfig::default()).await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "2.0", "3").await);
    api.reserve(&upload_id, 10).await;
    let del = api.call("DELETE", &format!("/v1/buildUploads/{upload_id}"), None).await;
    assert_eq!(del.status, 204);
    assert_eq!(api.get(&format!("/v1/buildUploads/{upload_id}")).await.status, 404);
    assert_eq!(api.create_upload(DEFAULT_APP_ID, "2.0", "3").await.status, 201);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_routes_and_parameters() {
    let api = Api::start(SimConfig::default()).await;
    for path in [
        "/v1/buildUploads/nope",
        "/v1/buildUploadFiles/nope",
        "/v1/builds/nope",
        "/v1/apps/1",
        "/v1/apps/1/buildUploads",
        "/v1/builds/nope/buildBetaDetail",
    ] {
        let a = api.get(path).await;
        assert_eq!((a.status, a.code()), (404, "NOT_FOUND"), "{path}");
        assert!(a.body["errors"][0]["detail"].as_str().unwrap().contains("nope") || path.contains("apps"));
    }
    let a = api
        .get(&format!("/v1/apps/{DEFAULT_APP_ID}/buildUploads?limit=500"))
        .await;
    assert_eq!((a.status, a.code()), (400, "PARAMETER_ERROR.INVALID"));
    assert_eq!(a.body["errors"][0]["source"], json!({ "parameter": "limit" }));
    let a = api
        .get(&format!(
            "/v1/apps/{DEFAULT_APP_ID}/buildUploads?filter[platform]=ANDROID"
        ))
        .await;
    assert_eq!(a.status, 400);
    let a = api.get("/v1/builds?filter[processingState]=DONE").await;
    assert_eq!(a.status, 400);
    let a = api.get("/v1/builds?filter[colour]=red").await;
    assert_eq!(
        (a.status, a.body["errors"][0]["source"]["parameter"].as_str()),
        (400, Some("filter[colour]"))
    );
    let a = api.get("/v1/builds?cursor=garbage").await;
    assert_eq!(a.status, 400);

    // Routes outside the spec: still Apple's error document.
    let spec = &api.spec;
    let http = &api.http;
    let token = api.token();
    for (method, path, status) in [
        ("GET", "/v1/nothing", 404),
        ("PUT", "/v1/buildUploads/x", 405),
        ("GET", "/elsewhere", 404),
    ] {
        let resp = http
            .request(method.parse().unwrap(), format!("{}{path}", api.sim.api_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert!(resp.headers().contains_key("x-rate-limit"));
        let body: Value = resp.json().await.unwrap();
        spec.validate_named("ErrorResponse", &body, support::openapi::Mode::Response)
            .unwrap();
    }
    api.sim.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_are_entity_errors() {
    let api = Api::start(SimConfig::default()).await;
    let token = api.token();
    let post = |body: Value| api.raw("POST", "/v1/buildUploads", Some(body), Some(&token));

    let mut wrong_type = support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    wrong_type["data"]["type"] = json!("builds");
    let a = post(wrong_type).await;
    assert_eq!(
        (a.status, a.body["errors"][0]["source"]["pointer"].as_str()),
        (409, Some("/data/type"))
    );

    let mut missing = support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    missing["data"]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("cfBundleVersion");
    let a = post(missing).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.ATTRIBUTE.REQUIRED"));
    assert_eq!(
        a.body["errors"][0]["source"]["pointer"],
        "/data/attributes/cfBundleVersion"
    );

    let mut number = support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    number["data"]["attributes"]["cfBundleVersion"] = json!(1);
    assert_eq!(post(number).await.code(), "ENTITY_ERROR.ATTRIBUTE.INVALID");

    let mut platform = support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    platform["data"]["attributes"]["platform"] = json!("ANDROID");
    assert_eq!(post(platform).await.status, 409);

    let a = post(support::upload_body("999", "1.0", "1")).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.RELATIONSHIP.INVALID"));

    let mut extra = support::upload_body(DEFAULT_APP_ID, "1.0", "1");
    extra["data"]["attributes"]["sourceFileChecksum"] = json!("abc");
    assert_eq!(post(extra).await.code(), "ENTITY_ERROR.ATTRIBUTE.UNKNOWN");

    let a = api
        .raw("POST", "/v1/buildUploads", Some(json!("not json:api")), Some(&token))
        .await;
    assert_eq!(a.status, 409);

    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
    let mut zero = support::file_body(&upload_id, 1);
    zero["data"]["attributes"]["fileSize"] = json!(0);
    let a = api.raw("POST", "/v1/buildUploadFiles", Some(zero), Some(&token)).await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"));
    let a = api
        .raw(
            "POST",
            "/v1/buildUploadFiles",
            Some(support::file_body("nope", 1)),
            Some(&token),
        )
        .await;
    assert_eq!(a.code(), "ENTITY_ERROR.RELATIONSHIP.INVALID");
    api.sim.shutdown().await;
}

#[tokio::test]
async fn storage_refuses_what_s3_refuses_and_commit_needs_every_part() {
    let api = Api::start(SimConfig::default()).await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
    let data = bytes(PART + 100);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    let file_id = id(&reserved);
    let ops = reserved.body["data"]["attributes"]["uploadOperations"]
        .as_array()
        .unwrap()
        .clone();
    let small = ops.iter().find(|o| o["length"] == 100).unwrap().clone();
    let big = ops.iter().find(|o| o["length"] == PART as u64).unwrap().clone();
    let url = str_at(&small, "/url").to_owned();

    // The ASC bearer token must not go to storage.
    let r = api
        .http
        .put(&url)
        .bearer_auth(api.token())
        .body(data[PART..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("<Code>InvalidArgument</Code>"));
    // A tampered signature.
    let forged = url.replace("X-Amz-Signature=", "X-Amz-Signature=00");
    assert_eq!(
        api.http
            .put(&forged)
            .body(data[PART..].to_vec())
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Wrong length.
    let r = api.http.put(&url).body(vec![0u8; 99]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = api.http.put(&url).body(vec![0u8; 101]).send().await.unwrap();
    assert_eq!(r.status(), 400);

    // Only the small part arrives: the commit names the missing one.
    assert_eq!(support::put_op(&api.http, &small, &data).await.status(), 200);
    let a = api.commit(&file_id, None).await;
    assert_eq!((a.status, a.code()), (409, "STATE_ERROR"));
    assert!(
        str_at(&a.body, "/errors/0/detail").contains("part numbers 1"),
        "{}",
        a.body
    );
    assert_eq!(
        api.get(&format!("/v1/buildUploads/{upload_id}")).await.body["data"]["attributes"]["state"]["state"],
        "AWAITING_UPLOAD"
    );

    // A wrong checksum is refused; the right one passes (SHA-256 this time).
    assert_eq!(support::put_op(&api.http, &big, &data).await.status(), 200);
    let a = api
        .commit(&file_id, Some(json!({ "file": { "hash": "00", "algorithm": "MD5" } })))
        .await;
    assert_eq!((a.status, a.code()), (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"));
    use sha2::Digest as _;
    let sha: String = sha2::Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    let a = api
        .commit(
            &file_id,
            Some(json!({ "file": { "hash": sha, "algorithm": "SHA_256" } })),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Committed: the part URLs are dead and a second commit is a state error.
    assert_eq!(
        api.http
            .put(&url)
            .body(data[PART..].to_vec())
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(api.commit(&file_id, None).await.code(), "STATE_ERROR");
    api.sim.shutdown().await;
}

#[tokio::test]
async fn failed_parts_follow_the_seed_and_retries_succeed() {
    async fn run(seed: u64) -> (Vec<u16>, u16) {
        let api = Api::start(SimConfig {
            faults: asc_publish::sim::Faults {
                fail_part_rate: 0.5,
                seed,
                ..Default::default()
            },
            ..SimConfig::default()
        })
        .await;
        let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
        let data = bytes(3000);
        let reserved = api.reserve(&upload_id, data.len() as u64).await;
        let op = reserved.body["data"]["attributes"]["uploadOperations"][0].clone();
        let mut statuses = Vec::new();
        for _ in 0..50 {
            let s = support::put_op(&api.http, &op, &data).await.status().as_u16();
            statuses.push(s);
            if s == 200 && statuses.len() >= 6 {
                break;
            }
        }
        let commit = api.commit(&id(&reserved), None).await.status;
        api.sim.shutdown().await;
        (statuses, commit)
    }
    let (a, commit) = run(11).await;
    assert!(a.iter().any(|s| *s == 503 || *s == 500), "{a:?}");
    assert!(a.iter().all(|s| [200, 500, 503].contains(s)));
    assert_eq!(commit, 200);
    assert_eq!(run(11).await.0, a, "same seed, same failures");
}

#[tokio::test]
async fn processing_failed_90725_and_invalid() {
    let api = Api::start(SimConfig {
        processing: Processing {
            duration: Duration::ZERO,
            result: ProcessingResult::Failed("90725".into()),
        },
        ..SimConfig::default()
    })
    .await;
    let upload_id = upload_one(&api, "4").await;
    let done = api.wait_processed(&upload_id).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "FAILED");
    let err = &done.body["data"]["attributes"]["state"]["errors"][0];
    assert_eq!(err["code"], "90725");
    assert!(str_at(err, "/description").starts_with("SDK version issue"));
    assert!(str_at(err, "/description").ends_with("(90725)"));
    assert!(done.body["data"]["relationships"]["build"]["data"].is_null());
    let all = api
        .get("/v1/builds?filter[processingState]=PROCESSING,FAILED,INVALID,VALID")
        .await;
    assert_eq!(all.body["data"], json!([]));
    api.sim.shutdown().await;

    let api = Api::start(SimConfig {
        processing: Processing {
            duration: Duration::ZERO,
            result: ProcessingResult::Invalid,
        },
        ..SimConfig::default()
    })
    .await;
    let upload_id = upload_one(&api, "5").await;
    let done = api.wait_processed(&upload_id).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "FAILED");
    assert!(
        !done.body["data"]["attributes"]["state"]["errors"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let build_id = str_at(&done.body, "/data/relationships/build/data/id");
    let build = api.get(&format!("/v1/builds/{build_id}")).await;
    assert_eq!(build.body["data"]["attributes"]["processingState"], "INVALID");
    let detail = api.get(&format!("/v1/builds/{build_id}/buildBetaDetail")).await;
    assert_eq!(
        detail.body["data"]["attributes"]["internalBuildState"],
        "PROCESSING_EXCEPTION"
    );
    api.sim.shutdown().await;
}

/// Creates, uploads and commits a 1 KiB build; returns the upload id.
async fn upload_one(api: &Api, version: &str) -> String {
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", version).await);
    let data = bytes(1024);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    assert!(api.put_all(&reserved.body, &data).await.iter().all(|s| *s == 200));
    assert_eq!(api.commit(&id(&reserved), None).await.status, 200);
    upload_id
}

#[tokio::test]
async fn dropped_commit_response_is_applied_anyway() {
    let api = Api::start(SimConfig {
        faults: asc_publish::sim::Faults {
            drop_commit_response: true,
            ..Default::default()
        },
        processing: Processing {
            duration: Duration::from_secs(60),
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "9").await);
    let data = bytes(2048);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    let file_id = id(&reserved);
    api.put_all(&reserved.body, &data).await;
    let body = json!({ "data": { "type": "buildUploadFiles", "id": file_id, "attributes": { "uploaded": true } } });
    let result = api
        .http
        .patch(format!("{}/v1/buildUploadFiles/{file_id}", api.sim.api_url))
        .bearer_auth(api.token())
        .json(&body)
        .send()
        .await;
    assert!(result.is_err(), "the connection closes without a response");
    // The commit was applied: the client must reconcile with a GET, not replay.
    let file = api.get(&format!("/v1/buildUploadFiles/{file_id}")).await;
    assert_eq!(
        file.body["data"]["attributes"]["assetDeliveryState"]["state"],
        "COMPLETE"
    );
    let upload = api.get(&format!("/v1/buildUploads/{upload_id}")).await;
    assert_eq!(upload.body["data"]["attributes"]["state"]["state"], "PROCESSING");
    assert!(api.sim.requests().iter().any(|r| r.method == "PATCH" && r.status == 0));
    assert_eq!(
        api.commit(&file_id, None).await.code(),
        "STATE_ERROR",
        "a replay is refused"
    );
    api.sim.shutdown().await;
}

#[tokio::test]
async fn lists_paginate_with_links_next() {
    let api = Api::start(SimConfig::default()).await;
    for v in ["1", "2", "3", "4", "10"] {
        api.create_upload(DEFAULT_APP_ID, "1.0", v).await;
    }
    let mut path = format!("/v1/apps/{DEFAULT_APP_ID}/buildUploads?sort=-cfBundleVersion&limit=2");
    let mut versions = Vec::new();
    let mut pages = 0;
    loop {
        let page = api.get(&path).await;
        pages += 1;
        assert_eq!(page.body["meta"]["paging"]["total"], 5);
        assert_eq!(page.body["meta"]["paging"]["limit"], 2);
        for item in page.body["data"].as_array().unwrap() {
            versions.push(str_at(item, "/attributes/cfBundleVersion").to_owned());
        }
        match page.body["links"]["next"].as_str() {
            Some(next) => {
                assert!(page.body["meta"]["paging"]["nextCursor"].is_string());
                path = next
                    .strip_prefix(&api.sim.api_url)
                    .expect("absolute link to this server")
                    .to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(versions, ["10", "4", "3", "2", "1"]);
    api.sim.shutdown().await;
}
