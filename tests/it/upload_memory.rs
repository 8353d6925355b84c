//! Memory stays bounded however large the IPA: a sparse 300 MiB file is streamed through the part
//! engine to a counting loopback server while the process's peak RSS (VmHWM) is watched.
//! (Run alone in its own process, so no other test's memory counts.)

use std::time::{Duration, SystemTime};

use crate::support::asc::fake::Fake;
use crate::support::asc::*;
use crate::support::own_process::own_process;
use asc_publish::asc::clock::ManualClock;
use asc_publish::outcome::{Outcome, Status};
use asc_publish::publish::progress::ProgressMode;
use asc_publish::publish::{UploadOptions, UploadRequest, run_upload};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_streamed_with_bounded_memory() {
    if !own_process(module_path!(), "a_large_file_is_streamed_with_bounded_memory") {
        return;
    }
    const SIZE: u64 = 300 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Big.ipa");
    std::fs::File::create(&path).unwrap().set_len(SIZE).unwrap();

    let clock = ManualClock::new(SystemTime::now());
    let fake = Fake::new(clock.clone());
    fake.with(|st| st.part_size = 5 * 1024 * 1024);
    let server = serve(fake.handler()).await;
    let (client, parts) = engine_clients(&server.url(), &clock, Duration::from_secs(60), Duration::from_secs(120));
    let req = UploadRequest {
        ipa_path: path,
        file_name: "Big.ipa".into(),
        file_size: SIZE,
        bundle_id: "com.example.app".into(),
        short_version: "1.0".into(),
        version: "7".into(),
        platform: "IOS".into(),
        uses_non_exempt_encryption: Some(false),
    };
    let opts = UploadOptions {
        concurrency: 8,
        wait: false,
        progress: ProgressMode::Silent,
        events: asc_publish::publish::events::Events::none(),
        ..UploadOptions::default()
    };
    let before = vm_hwm_kib().expect("VmHWM readable on Linux");
    let mut outcome = Outcome::new();
    run_upload(&client, &parts, &req, &opts, &mut outcome).await.unwrap();
    let after = vm_hwm_kib().unwrap();
    assert_eq!(outcome.status, Status::Uploaded);
    assert_eq!(outcome.bytes_sent, SIZE);
    let total: u64 = server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.body_len)
        .sum();
    assert_eq!(total, SIZE);
    // MD5 of 300 MiB of zeros.
    assert_eq!(outcome.md5.as_deref(), Some("0d97a9cd8bbd7ce75a2a76bb06258915"));
    let grew_mib = after.saturating_sub(before) / 1024;
    eprintln!("VmHWM before {before} KiB, after {after} KiB (+{grew_mib} MiB)");
    // Buffering whole parts would cost 8 × 5 MiB = 40 MiB or more; streaming costs a few chunks.
    assert!(grew_mib < 32, "peak RSS grew by {grew_mib} MiB while uploading 300 MiB");
}
