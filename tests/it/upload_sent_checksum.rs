//! Issue 10: the checksum the commit carries is the MD5 of the bytes the part PUTs carried, in
//! file order, whatever the file holds when the commit is made. The part engine runs against a
//! loopback server that records every PUT body; the server rewrites the file on disk between
//! parts, fails attempts so parts are retried, and parts finish out of order.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::asc::{Reply, Req, serve};
use asc_publish::asc::clock::{SharedClock, SystemClock};
use asc_publish::asc::retry::RetryPolicy;
use asc_publish::publish::events::{Event, Events, Recorder};
use asc_publish::publish::parts::{Part, PartsConfig, upload_parts};
use asc_publish::publish::progress::{Progress, ProgressMode};
use md5::Digest;
use reqwest::Method;
use reqwest::header::HeaderMap;

const PART: u64 = 300_000;

fn md5_hex(b: &[u8]) -> String {
    md5::Md5::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn parts(base: &str, size: u64) -> Vec<Part> {
    (0..size.div_ceil(PART))
        .map(|i| Part {
            number: i + 1,
            offset: i * PART,
            length: PART.min(size - i * PART),
            method: Method::PUT,
            url: format!("{base}/part/{i}").parse().unwrap(),
            headers: HeaderMap::new(),
        })
        .collect()
}

fn config(concurrency: usize) -> PartsConfig {
    PartsConfig {
        concurrency,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_total: Duration::from_secs(30),
        },
        verbose: false,
        events: Events::none(),
    }
}

/// The successful PUT bodies by part index, from the server's log.
fn received(log: &[Req], statuses: &Mutex<Vec<(String, u16)>>) -> Vec<u8> {
    let ok: Vec<usize> = statuses
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| *s == 200)
        .map(|(i, _)| i)
        .collect();
    let mut bodies: Vec<(u64, Vec<u8>)> = ok
        .iter()
        .map(|&i| {
            let r = &log[i];
            let n: u64 = r.path.rsplit('/').next().unwrap().parse().unwrap();
            (n, r.body.to_vec())
        })
        .collect();
    bodies.sort_by_key(|(n, _)| *n);
    bodies.into_iter().flat_map(|(_, b)| b).collect()
}

async fn run(path: &Path, size: u64, concurrency: usize, handler: crate::support::asc::Handler) -> (String, Vec<Req>) {
    run_with(path, size, &config(concurrency), handler).await
}

async fn run_with(
    path: &Path,
    size: u64,
    config: &PartsConfig,
    handler: crate::support::asc::Handler,
) -> (String, Vec<Req>) {
    let server = serve(handler).await;
    let clock: SharedClock = Arc::new(SystemClock);
    let report = upload_parts(
        &reqwest::Client::new(),
        path,
        parts(&server.url(), size),
        config,
        Arc::new(Progress::new(ProgressMode::Silent, size)),
        clock,
    )
    .await
    .expect("parts uploaded");
    (report.md5, server.requests())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checksum_is_of_the_bytes_put_even_when_the_file_changes_between_parts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("App.ipa");
    let original: Vec<u8> = (0..3 * PART as u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &original).unwrap();

    // One part at a time: when part 0 arrives, the server rewrites both what part 0 sent and what
    // part 1 is about to read.
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let handler: crate::support::asc::Handler = {
        let (path, statuses) = (path.clone(), statuses.clone());
        Arc::new(move |r: &Req| {
            if r.path.ends_with("/0") {
                let mut now = std::fs::read(&path).unwrap();
                now[..PART as usize].fill(0xDD);
                now[PART as usize..2 * PART as usize].fill(0xEE);
                std::fs::write(&path, now).unwrap();
            }
            statuses.lock().unwrap().push((r.path.clone(), 200));
            Reply::Status(200, Vec::new(), String::new())
        })
    };
    let (md5, log) = run(&path, original.len() as u64, 1, handler).await;

    let put = received(&log, &statuses);
    assert_eq!(put.len(), original.len());
    assert_eq!(md5, md5_hex(&put), "the checksum is of the bytes PUT");
    // Neither the file as it was nor as it is now: a re-read would have given one of these.
    assert_ne!(md5, md5_hex(&original));
    assert_ne!(md5, md5_hex(&std::fs::read(&path).unwrap()));
    assert_eq!(&put[..PART as usize], &original[..PART as usize]);
    assert!(put[PART as usize..2 * PART as usize].iter().all(|&b| b == 0xEE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_and_out_of_order_parts_hash_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("App.ipa");
    // 7 parts: more than is kept ahead of the frontier, so chunks are also re-read and verified.
    let original: Vec<u8> = (0..7 * PART as u32 - 123).map(|i| (i * 31 % 253) as u8).collect();
    std::fs::write(&path, &original).unwrap();

    // The first part's first two attempts fail after the body was sent; others go through.
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let handler: crate::support::asc::Handler = {
        let statuses = statuses.clone();
        Arc::new(move |r: &Req| {
            let mut st = statuses.lock().unwrap();
            let tries = st.iter().filter(|(p, _)| *p == r.path).count();
            let status = if r.path.ends_with("/0") && tries < 2 { 503 } else { 200 };
            st.push((r.path.clone(), status));
            Reply::Status(status, Vec::new(), String::new())
        })
    };
    let (md5, log) = run(&path, original.len() as u64, 7, handler).await;
    assert_eq!(statuses.lock().unwrap().iter().filter(|(_, s)| *s == 503).count(), 2);
    let put = received(&log, &statuses);
    assert_eq!(put, original);
    assert_eq!(md5, md5_hex(&original));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_part_is_told_as_a_verbose_event_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("App.ipa");
    std::fs::write(&path, vec![7u8; 2 * PART as usize]).unwrap();
    let tries = Arc::new(Mutex::new(0u32));
    let handler: crate::support::asc::Handler = {
        let tries = tries.clone();
        Arc::new(move |r: &Req| {
            let mut t = tries.lock().unwrap();
            let status = if r.path.ends_with("/1") && *t == 0 { 503 } else { 200 };
            if r.path.ends_with("/1") {
                *t += 1;
            }
            Reply::Status(status, Vec::new(), String::new())
        })
    };
    let rec = Arc::new(Recorder::default());
    let mut cfg = config(1);
    cfg.verbose = true;
    cfg.events = Events::to(rec.clone());
    run_with(&path, 2 * PART, &cfg, handler.clone()).await;
    let details: Vec<String> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Detail(l) => Some(l),
            _ => None,
        })
        .collect();
    assert_eq!(details.len(), 1, "{details:?}");
    assert!(details[0].starts_with("  part 2: HTTP 503"), "{details:?}");
    assert!(details[0].contains("; retry 1 in "), "{details:?}");

    // Without --verbose the retry is not told at all.
    *tries.lock().unwrap() = 0;
    let quiet = Arc::new(Recorder::default());
    let mut cfg = config(1);
    cfg.events = Events::to(quiet.clone());
    run_with(&path, 2 * PART, &cfg, handler).await;
    assert_eq!(quiet.events(), []);
}
