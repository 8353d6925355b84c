//! `--state-dir`: a simulator killed mid-upload and restarted continues the same reservation
//! with the same key, and part bytes live on disk, not in memory.

use std::time::Duration;

use crate::support::{Api, bytes, id};
use asc_sim::{DEFAULT_APP_ID, Processing, ProcessingResult, SimConfig};
use serde_json::Value;

const PART: usize = 5 * 1024 * 1024;

fn config(dir: &std::path::Path) -> SimConfig {
    SimConfig {
        state_dir: Some(dir.to_path_buf()),
        processing: Processing {
            duration: Duration::ZERO,
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_restarted_simulator_continues_an_awaiting_upload_reservation() {
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(PART + 4096);

    let first = Api::start(config(dir.path())).await;
    let (key_id, key_path) = (first.sim.key_id.clone(), first.sim.private_key_path.clone());
    assert!(key_path.starts_with(dir.path()));
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), first.sim.private_key_pem);
    let upload_id = id(&first.create_upload(DEFAULT_APP_ID, "3.0", "42").await);
    let reserved = first.reserve(&upload_id, data.len() as u64).await;
    let file_id = id(&reserved);
    let ops = reserved.body["data"]["attributes"]["uploadOperations"]
        .as_array()
        .unwrap()
        .clone();
    let part1 = ops.iter().find(|o| o["partNumber"] == 1).unwrap();
    assert_eq!(crate::support::put_op(&first.http, part1, &data).await.status(), 200);
    assert!(
        dir.path().join("parts").join(&file_id).join("1").is_file(),
        "part bytes are on disk"
    );
    let old_url = first.sim.api_url.clone();
    first.sim.shutdown().await;

    // Same directory: same key, same records; the job re-reads its reservation and goes on.
    let second = Api::start(config(dir.path())).await;
    assert_eq!(second.sim.key_id, key_id);
    assert_eq!(second.sim.private_key_path, key_path);
    let upload = second.get(&format!("/v1/buildUploads/{upload_id}")).await;
    assert_eq!(upload.body["data"]["attributes"]["state"]["state"], "AWAITING_UPLOAD");
    let dup = second.create_upload(DEFAULT_APP_ID, "3.0", "42").await;
    assert_eq!(
        dup.code(),
        "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
        "the reservation survived"
    );
    let files = second
        .get(&format!("/v1/buildUploads/{upload_id}/buildUploadFiles"))
        .await;
    let file = &files.body["data"][0];
    assert_eq!(file["id"], Value::from(file_id.clone()));
    let ops = file["attributes"]["uploadOperations"].as_array().unwrap();
    let part1 = ops.iter().find(|o| o["partNumber"] == 1).unwrap();
    assert!(part1["entityTag"].is_string(), "part 1 is remembered as received");
    let part2 = ops.iter().find(|o| o["partNumber"] == 2).unwrap();
    assert!(!part2["url"].as_str().unwrap().starts_with(&old_url) || old_url == second.sim.api_url);
    assert_eq!(crate::support::put_op(&second.http, part2, &data).await.status(), 200);
    let committed = second
        .commit(
            &file_id,
            Some(serde_json::json!({ "file": { "hash": crate::support::md5_upper(&data), "algorithm": "MD5" } })),
        )
        .await;
    assert_eq!(
        committed.status, 200,
        "part 1 from before the restart is read back from disk: {}",
        committed.body
    );
    let done = second.wait_processed(&upload_id).await;
    assert_eq!(done.body["data"]["attributes"]["state"]["state"], "COMPLETE");
    second.sim.shutdown().await;

    // And a third start sees the finished build.
    let third = Api::start(config(dir.path())).await;
    let builds = third
        .get(&format!("/v1/builds?filter[app]={DEFAULT_APP_ID}&filter[version]=42"))
        .await;
    assert_eq!(builds.body["data"].as_array().unwrap().len(), 1);
    third.sim.shutdown().await;
}

#[tokio::test]
async fn without_a_state_dir_nothing_survives() {
    let a = Api::start(SimConfig::default()).await;
    let key_path = a.sim.private_key_path.clone();
    assert!(key_path.is_file());
    assert!(key_path.file_name().unwrap().to_str().unwrap().starts_with("AuthKey_"));
    a.create_upload(DEFAULT_APP_ID, "1.0", "1").await;
    a.sim.shutdown().await;
    assert!(!key_path.exists(), "the temporary key file goes away with the handle");
    let b = Api::start(SimConfig::default()).await;
    assert_eq!(b.create_upload(DEFAULT_APP_ID, "1.0", "1").await.status, 201);
    b.sim.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_state_file_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let first = Api::start(config(dir.path())).await;
    first.sim.shutdown().await;
    std::fs::write(dir.path().join("state.json"), b"{ not json").unwrap();
    let err = asc_sim::Simulator::start(config(dir.path())).await.unwrap_err();
    assert!(matches!(err, asc_sim::SimError::StateCorrupt { .. }), "{err}");
    assert!(err.hint().contains("state directory"), "{}", err.hint());
    // What a user of `asc-publish sim` sees: a usage error (2) with that fix.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .args(["sim", "--state-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fix: delete the state directory"), "{stderr}");
}
