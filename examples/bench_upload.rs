//! Upload benchmark (issue #3): `asc-publish upload` of a 1 GiB IPA to the simulator, next to the
//! raw limit — the same kind of reservation's parts PUT 8 at a time by a minimal client (each part
//! read whole into memory, then sent) in the same run — plus the peak RSS of uploading 2 GiB and
//! the number of App Store Connect requests a full run makes.
//!
//! Targets: throughput ≥ 0.9× the raw limit; peak RSS ≤ 64 MiB for 2 GiB.
//!
//!     cargo run --release --example bench_upload [-- --size-mib 1024 --rss-size-mib 2048]

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use asc_publish::sample::app::SampleApp;
use asc_publish::sim::{Processing, ProcessingResult, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

const CONCURRENCY: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut size_mib = 1024u64;
    let mut rss_size_mib = 2048u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size-mib" => size_mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(size_mib),
            "--rss-size-mib" => rss_size_mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(rss_size_mib),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    let exe = release_binary();
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let sim = Simulator::start(SimConfig {
        // Parts go to disk, so the simulator's own memory does not grow with the upload.
        state_dir: Some(dir.path().join("sim")),
        processing: Processing {
            duration: Duration::from_millis(200),
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| fail(&format!("simulator: {e}")));

    eprintln!("writing a {size_mib} MiB sample IPA…");
    let ipa = sample(dir.path(), "bench.ipa", "1", size_mib << 20);

    // The raw limit first and last, around our upload, so a drifting machine shows in the spread.
    let raw1 = raw_put(&sim, &ipa, "101").await;
    let (ours, outcome, _) = run_upload(&exe, &sim, &ipa);
    let raw2 = raw_put(&sim, &ipa, "102").await;
    let raw = raw1.max(raw2);

    eprintln!("writing a {rss_size_mib} MiB sample IPA…");
    let big = sample(dir.path(), "big.ipa", "2", rss_size_mib << 20);
    let (_, big_outcome, rss_mib) = run_upload(&exe, &sim, &big);

    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    let size = std::fs::metadata(&ipa).map(|m| m.len()).unwrap_or(0);
    println!(
        "upload of {:.0} MiB to the simulator, {CONCURRENCY} parts at a time",
        mib(size)
    );
    println!("  raw limit (minimal client, best of 2): {:>8.1} MiB/s", raw);
    println!(
        "  asc-publish upload stage:              {:>8.1} MiB/s  ({:.2}x raw)",
        ours,
        ours / raw
    );
    println!(
        "  App Store Connect API requests in a full run (preflight → VALID): {}",
        outcome.get("requests").and_then(Value::as_u64).unwrap_or(0)
    );
    println!(
        "peak RSS of `asc-publish upload` for {:.0} MiB: {:.1} MiB (status {})",
        mib(std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0)),
        rss_mib,
        big_outcome.get("status").and_then(Value::as_str).unwrap_or("?")
    );
    let ok = ours >= 0.9 * raw && rss_mib <= 64.0;
    println!(
        "targets: throughput >= 0.9x raw, RSS <= 64 MiB: {}",
        if ok { "PASS" } else { "MISS" }
    );
    sim.shutdown().await;
    std::process::exit(if ok { 0 } else { 1 });
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

fn release_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    // target/release/examples/bench_upload → target/release/asc-publish
    let bin = exe.parent().and_then(Path::parent).map(|d| d.join("asc-publish"));
    match bin {
        Some(b) if b.exists() => b,
        _ => fail("build the binary first: cargo build --release --bin asc-publish"),
    }
}

fn sample(dir: &Path, name: &str, version: &str, size: u64) -> PathBuf {
    let path = dir.join(name);
    let app = SampleApp {
        version: version.into(),
        padding: size.saturating_sub(70_000),
        ..SampleApp::default()
    };
    let built = app.write_to(&path).unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::write(path.with_extension("pem"), built.root_pem()).unwrap_or_else(|e| fail(&e.to_string()));
    path
}

/// Runs `asc-publish upload` as a child process; returns the upload stage's MiB/s, the outcome and
/// the child's peak RSS in MiB.
fn run_upload(exe: &Path, sim: &SimHandle, ipa: &Path) -> (f64, Value, f64) {
    let mut child = Command::new(exe)
        .args([
            "upload",
            &ipa.display().to_string(),
            "--format",
            "json",
            "--poll-interval",
            "200ms",
        ])
        .args([
            "--api-url",
            &sim.api_url,
            "--key-id",
            &sim.key_id,
            "--issuer-id",
            &sim.issuer_id,
        ])
        .args(["--private-key", &sim.private_key_path.display().to_string()])
        .args(["--extra-root-ca", &ipa.with_extension("pem").display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("spawn: {e}")));
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let rss_mib = peak_rss_mib(&mut child);
    let outcome: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| fail(&format!("outcome: {e}: {stdout}")));
    if outcome.get("status").and_then(Value::as_str) != Some("success") {
        fail(&format!("upload did not succeed: {outcome}"));
    }
    let millis = outcome["timings"]
        .as_array()
        .and_then(|t| t.iter().find(|s| s["stage"] == "upload"))
        .and_then(|s| s["millis"].as_u64())
        .unwrap_or(1)
        .max(1);
    let bytes = outcome["bytes_sent"].as_u64().unwrap_or(0);
    (
        bytes as f64 / (1 << 20) as f64 / (millis as f64 / 1000.0),
        outcome,
        rss_mib,
    )
}

/// Waits for the child and reads its peak resident set size (wait4's rusage).
fn peak_rss_mib(child: &mut std::process::Child) -> f64 {
    let pid = child.id() as i32;
    let mut status = 0i32;
    let mut usage = std::mem::MaybeUninit::<Rusage>::zeroed();
    // SAFETY: wait4 writes a full rusage into the buffer we own; the pid is our child.
    let r = unsafe { wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    if r != pid {
        let _ = child.wait();
        return f64::NAN;
    }
    // SAFETY: wait4 succeeded, so the struct is initialised.
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss as f64 / 1024.0 // KiB on Linux
}

#[repr(C)]
struct Rusage {
    ru_utime: [i64; 2],
    ru_stime: [i64; 2],
    ru_maxrss: i64,
    _rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

/// The minimal client: reserve a file for a new build number, then PUT every part (read whole
/// into memory first) 8 at a time with exactly its request headers. Returns MiB/s of the PUTs.
async fn raw_put(sim: &SimHandle, ipa: &Path, build_number: &str) -> f64 {
    let http = reqwest::Client::new();
    let token = token(sim);
    let api = |path: &str| format!("{}{path}", sim.api_url);
    let size = std::fs::metadata(ipa).map(|m| m.len()).unwrap_or(0);
    let upload: Value = http
        .post(api("/v1/buildUploads"))
        .bearer_auth(&token)
        .json(&json!({ "data": { "type": "buildUploads",
            "attributes": { "cfBundleShortVersionString": "9.9.9", "cfBundleVersion": build_number, "platform": "IOS" },
            "relationships": { "app": { "data": { "type": "apps", "id": asc_publish::sim::DEFAULT_APP_ID } } } } }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| fail(&format!("raw reserve: {e}")))
        .json()
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let file: Value = http
        .post(api("/v1/buildUploadFiles"))
        .bearer_auth(&token)
        .json(&json!({ "data": { "type": "buildUploadFiles",
            "attributes": { "assetType": "ASSET", "fileName": "raw.ipa", "fileSize": size, "uti": "com.apple.ipa" },
            "relationships": { "buildUpload": { "data": { "type": "buildUploads", "id": upload["data"]["id"] } } } } }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| fail(&format!("raw file: {e}")))
        .json()
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let ops = file["data"]["attributes"]["uploadOperations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for op in ops {
        let permit = Arc::clone(&gate)
            .acquire_owned()
            .await
            .unwrap_or_else(|e| fail(&e.to_string()));
        let (http, ipa) = (http.clone(), ipa.to_path_buf());
        tasks.push(tokio::spawn(async move {
            let offset = op["offset"].as_u64().unwrap_or(0);
            let length = op["length"].as_u64().unwrap_or(0) as usize;
            let body = tokio::task::spawn_blocking(move || {
                let mut f = std::fs::File::open(ipa)?;
                f.seek(SeekFrom::Start(offset))?;
                let mut buf = vec![0u8; length];
                f.read_exact(&mut buf)?;
                Ok::<_, std::io::Error>(buf)
            })
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| fail("read part"));
            let mut req = http.put(op["url"].as_str().unwrap_or_default()).body(body);
            for h in op["requestHeaders"].as_array().into_iter().flatten() {
                req = req.header(
                    h["name"].as_str().unwrap_or_default(),
                    h["value"].as_str().unwrap_or_default(),
                );
            }
            let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            drop(permit);
            if status != 200 {
                fail(&format!("raw PUT answered {status}"));
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    size as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}

fn token(sim: &SimHandle) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(sim.key_id.clone());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(sim.private_key_pem.as_bytes())
        .unwrap_or_else(|e| fail(&format!("key: {e}")));
    let claims = json!({ "iss": sim.issuer_id, "iat": now, "exp": now + 1200, "aud": "appstoreconnect-v1" });
    jsonwebtoken::encode(&header, &claims, &key).unwrap_or_else(|e| fail(&format!("token: {e}")))
}
