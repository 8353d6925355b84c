//! The upload flow end to end over real HTTP: apps, build uploads, reservations, part PUTs,
//! commit, processing, builds and export compliance, with every body checked against Apple's
//! OpenAPI subset.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{Api, bytes, id, md5_upper, str_at};
use asc_sim::{DEFAULT_APP_ID, ManualClock, Processing, ProcessingResult, SimConfig};
use md5::{Digest, Md5};
use serde_json::{Value, json};

const PART: usize = 5 * 1024 * 1024;

fn config(clock: &ManualClock, duration: Duration, result: ProcessingResult) -> SimConfig {
    SimConfig {
        clock: Arc::new(clock.clone()),
        processing: Processing { duration, result },
        ..SimConfig::default()
    }
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
    assert!(created.body.pointer("/data/attributes/uploadedDate").is_none());
    assert!(
        created
            .body
            .pointer("/data/attributes/createdDate")
            .unwrap()
            .is_string()
    );
    assert!(created.body.pointer("/data/relationships/build/data").is_none());

    // Reserve: 5 MiB parts, the last one the remainder.
    let data = bytes(2 * PART + 1234);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    assert_eq!(reserved.status, 201);
    let file_id = id(&reserved);
    let attrs = &reserved.body["data"]["attributes"];
    assert_eq!(attrs["assetDeliveryState"]["state"], "AWAITING_UPLOAD");
    assert_eq!(
        attrs["sourceFileChecksums"],
        json!({}),
        "no checksums before the commit"
    );
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
        let resp = crate::support::put_op(&api.http, op, &data).await;
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
    assert!(processing.body.pointer("/data/relationships/build/data").is_none());
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
    assert_eq!(crate::support::put_op(&api.http, &small, &data).await.status(), 200);
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
    assert_eq!(crate::support::put_op(&api.http, &big, &data).await.status(), 200);
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
async fn parts_can_arrive_concurrently_in_any_order() {
    let api = Api::start(SimConfig {
        processing: Processing {
            duration: Duration::ZERO,
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await;
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", "1").await);
    let data = bytes(3 * PART + 17);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    let ops = reserved.body["data"]["attributes"]["uploadOperations"]
        .as_array()
        .unwrap()
        .clone();
    let puts = ops.iter().map(|op| crate::support::put_op(&api.http, op, &data));
    let statuses: Vec<u16> = futures_util::future::join_all(puts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200]);
    let committed = api
        .commit(
            &id(&reserved),
            Some(json!({ "file": { "hash": md5_upper(&data), "algorithm": "MD5" } })),
        )
        .await;
    assert_eq!(committed.status, 200);
    let done = api.wait_processed(&upload_id).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "COMPLETE");
    api.sim.shutdown().await;
}
