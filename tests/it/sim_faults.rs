//! Faults and verdicts: failed part PUTs, processing failures (90725, INVALID), and the dropped
//! commit response.

use std::time::Duration;

use crate::support::{Api, bytes, id, str_at};
use asc_sim::{DEFAULT_APP_ID, Processing, ProcessingResult, SimConfig};
use serde_json::json;

#[tokio::test]
async fn failed_parts_follow_the_seed_and_retries_succeed() {
    async fn run(seed: u64) -> (Vec<u16>, u16) {
        let api = Api::start(SimConfig {
            faults: asc_sim::Faults {
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
            let s = crate::support::put_op(&api.http, &op, &data).await.status().as_u16();
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
        faults: asc_sim::Faults {
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

/// A minimal IPA: just the main app's Info.plist.
fn tiny_ipa(bundle_id: &str) -> Vec<u8> {
    use std::io::Write;
    let mut dict = plist::Dictionary::new();
    dict.insert("CFBundleIdentifier".into(), bundle_id.into());
    dict.insert("CFBundleShortVersionString".into(), "1.0".into());
    dict.insert("CFBundleVersion".into(), "1".into());
    dict.insert("MinimumOSVersion".into(), "17.2".into());
    let mut plist = Vec::new();
    plist::Value::Dictionary(dict).to_writer_binary(&mut plist).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file("Payload/Demo.app/Info.plist", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&plist).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

async fn upload_bytes(api: &Api, version: &str, data: &[u8]) -> String {
    let upload_id = id(&api.create_upload(DEFAULT_APP_ID, "1.0", version).await);
    let reserved = api.reserve(&upload_id, data.len() as u64).await;
    assert!(api.put_all(&reserved.body, data).await.iter().all(|s| *s == 200));
    assert_eq!(api.commit(&id(&reserved), None).await.status, 200);
    upload_id
}

#[tokio::test]
async fn processing_looks_inside_the_ipa() {
    let api = Api::start(SimConfig {
        processing: Processing {
            duration: Duration::ZERO,
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await;
    let ok = upload_bytes(&api, "1", &tiny_ipa("com.example.demo")).await;
    let done = api.wait_processed(&ok).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "COMPLETE");
    assert_eq!(str_at(&done.body, "/included/0/attributes/minOsVersion"), "17.2");

    let other = upload_bytes(&api, "2", &tiny_ipa("com.example.someone-else")).await;
    let done = api.wait_processed(&other).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "FAILED");
    assert_eq!(done.body["data"]["attributes"]["state"]["errors"][0]["code"], "90054");
    assert!(str_at(&done.body, "/data/attributes/state/errors/0/description").ends_with("(90054)"));
    api.sim.shutdown().await;
}
