//! Re-run detection from what App Store Connect actually returns: Apple keeps
//! `sourceFileChecksums.file` only when the committing client sent one (`file: null` with only
//! `composite` otherwise, as eas-cli's recorded commit shows). The simulator's
//! `omit_file_checksum` switch answers that way.

use crate::support::distribute::{World, scene};
use asc_publish::outcome::{Status, UploadMode};
use asc_publish::sample::app::SampleApp;

#[tokio::test]
async fn a_rerun_is_recognised_without_the_file_checksum_echo() {
    let mut config = scene(|_| {});
    config.faults.omit_file_checksum = true;
    let w = World::start(config).await;
    let ipa = w.ipa("1.0.0", "7");
    let (r, first) = w.upload(&ipa, &[]).await;
    r.unwrap();
    assert_eq!(first.status, Status::Success);
    let upload = first.upload_id.clone().unwrap();
    let files = w.get(&format!("/v1/buildUploads/{upload}/buildUploadFiles")).await;
    let sums = &files["data"][0]["attributes"]["sourceFileChecksums"];
    assert!(sums.get("file").is_none_or(|f| f.is_null()), "{sums}");
    assert!(sums["composite"]["hash"].is_string(), "{sums}");

    // The same file again: nothing re-sent, the earlier upload reported, and said how it was told.
    let (r, again) = w.upload(&ipa, &[]).await;
    r.unwrap();
    assert_eq!(again.upload_mode, Some(UploadMode::AlreadyUploaded));
    assert_eq!(again.upload_id.as_deref(), Some(upload.as_str()));
    assert!(
        again
            .warnings
            .iter()
            .any(|m| m.contains("no checksum") && m.contains("name and size")),
        "{:?}",
        again.warnings
    );
    assert_eq!(
        w.writes().iter().filter(|s| s.method == "POST").count(),
        2,
        "{:?}",
        w.writes()
    );

    // `preflight` predicts the same.
    let (r, planned) = w.preflight(&ipa, &[]).await;
    r.unwrap();
    assert!(
        planned
            .plan
            .iter()
            .any(|s| s.ok && s.detail.contains("already uploaded")),
        "{:?}",
        planned.plan
    );

    // Another file under the same version and build number (another size): refused as such.
    let other = w.dir.path().join("Demo-1.0.0-7.ipa");
    let built = SampleApp {
        short_version: "1.0.0".into(),
        version: "7".into(),
        with_extension: false,
        ..SampleApp::default()
    }
    .write_to(&other)
    .unwrap();
    std::fs::write(&ipa.1, built.root_pem()).unwrap();
    let (r, _) = w.upload(&ipa, &[]).await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.message().contains("different file"), "{}", e.message());
}

#[tokio::test]
async fn the_simulator_echoes_the_file_checksum_only_when_one_was_sent() {
    let api = crate::support::Api::start(crate::support::testflight::scene()).await;
    for (version, send) in [("70", true), ("71", false)] {
        let upload = crate::support::id(
            &api.create_upload(crate::support::testflight::DEMO, "1.0.0", version)
                .await,
        );
        let data = crate::support::bytes(1000);
        let file = api.reserve(&upload, data.len() as u64).await;
        api.put_all(&file.body, &data).await;
        let sums = send
            .then(|| serde_json::json!({ "file": { "hash": crate::support::md5_upper(&data), "algorithm": "MD5" } }));
        let done = api.commit(&crate::support::id(&file), sums).await;
        let file_sum = done.body.pointer("/data/attributes/sourceFileChecksums/file/hash");
        assert_eq!(file_sum.is_some(), send, "{}", done.body);
        assert!(
            done.body
                .pointer("/data/attributes/sourceFileChecksums/composite/hash")
                .is_some()
        );
    }
}
