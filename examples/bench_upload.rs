//! Upload benchmark (issue #3): `asc-publish upload` of a 1 GiB IPA to the simulator, next to the
//! raw limit — the same kind of reservation's parts PUT 8 at a time by a minimal client (each part
//! read whole into memory, then sent) in the same run — plus the peak RSS of uploading 2 GiB and
//! the number of App Store Connect requests a full run makes.
//!
//! Targets: throughput ≥ 0.9× the raw limit; peak RSS ≤ 64 MiB for 2 GiB.
//!
//! The throughput compared is the part PUTs (the `upload` stage), as the raw client only PUTs.
//! asc-publish also hashes the whole file for the commit, on a low-priority thread; the time the
//! commit then still waited for it (the `checksum` stage) is printed beside it, with the PUTs plus
//! that wait as a second ratio, so nothing the real run does is left out.
//!
//! The peak RSS is read through a small launcher process: Linux carries a parent's resident set
//! into a spawned child's `ru_maxrss` (the high-water mark survives exec), so spawning the upload
//! straight from this process, which hosts the simulator, would report the simulator's memory.
//!
//!     cargo run --release --example bench_upload [-- --size-mib 1024 --rss-size-mib 2048]

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, SimHandle, Simulator};
use serde_json::{Value, json};

const CONCURRENCY: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(LAUNCHER) {
        launcher(args.get(2..).unwrap_or_default());
    }
    if args.get(1).map(String::as_str) == Some(RAW_CLIENT) {
        raw_client(args.get(2..).unwrap_or_default());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    runtime.block_on(bench());
}

async fn bench() {
    let mut size_mib = 1024u64;
    let mut rss_size_mib = 2048u64;
    let mut rounds = 5usize;
    let mut base: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--size-mib" => size_mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(size_mib),
            "--rss-size-mib" => rss_size_mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(rss_size_mib),
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds).max(1),
            "--dir" => base = args.next().map(PathBuf::from),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    let exe = release_binary();
    // Files and simulator storage in RAM when a tmpfs has room for them (the IPAs plus what the
    // simulator stores, with a margin), so disk writeback is not measured.
    let needed = (size_mib + 2 * rss_size_mib + size_mib) << 20;
    let base = base.unwrap_or_else(|| {
        let shm = PathBuf::from("/dev/shm");
        if free_bytes(&shm).is_some_and(|free| free > needed + (1 << 30)) {
            shm
        } else {
            std::env::temp_dir()
        }
    });
    let dir = tempfile::tempdir_in(&base).unwrap_or_else(|e| fail(&format!("temp dir in {}: {e}", base.display())));
    let _ = WORKDIR.set(dir.path().to_path_buf());
    eprintln!("working in {}", dir.path().display());

    eprintln!("writing a {size_mib} MiB sample IPA…");
    let ipa = sample(dir.path(), "bench.ipa", "1", size_mib << 20);

    // Each round runs the minimal client and asc-publish on a fresh simulator, taking turns at
    // going first, so a machine whose speed drifts shows in both columns; medians are compared.
    let mut columns: [Vec<f64>; 6] = Default::default();
    let mut requests = 0;
    for round in 1..=rounds {
        let sim_dir = dir.path().join(format!("sim{round}"));
        let sim = start_sim(&sim_dir).await;
        let (raw, (ours, outcome, ours_usage)) = if round % 2 == 1 {
            let raw = run_raw(&sim, &ipa, "101");
            (raw, run_upload(&exe, &sim, &ipa))
        } else {
            let ours = run_upload(&exe, &sim, &ipa);
            (run_raw(&sim, &ipa, "101"), ours)
        };
        sim.shutdown().await;
        let _ = std::fs::remove_dir_all(&sim_dir);
        let checksum_ms = stage_millis(&outcome, "checksum");
        eprintln!(
            "round {round}: raw {:.1} MiB/s ({:.2} s CPU), asc-publish PUTs {:.1} MiB/s ({:.2}x), then {checksum_ms} ms for the MD5 ({:.2} s CPU for the whole run)",
            raw.0,
            raw.1.cpu_s,
            ours.put_mibs,
            ours.put_mibs / raw.0,
            ours_usage.cpu_s
        );
        requests = outcome.get("requests").and_then(Value::as_u64).unwrap_or(0);
        for (column, value) in columns.iter_mut().zip([
            raw.0,
            ours.put_mibs,
            ours.with_checksum_mibs,
            checksum_ms as f64,
            raw.1.cpu_s,
            ours_usage.cpu_s,
        ]) {
            column.push(value);
        }
    }
    let [raw, put, with, checksum_ms, raw_cpu, ours_cpu] = columns.map(|c| median(&c));

    eprintln!("writing a {rss_size_mib} MiB sample IPA…");
    let big = sample(dir.path(), "big.ipa", "2", rss_size_mib << 20);
    let sim = start_sim(&dir.path().join("sim-rss")).await;
    let (_, big_outcome, big_usage) = run_upload(&exe, &sim, &big);
    let rss_mib = big_usage.rss_mib;
    sim.shutdown().await;

    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    let size = std::fs::metadata(&ipa).map(|m| m.len()).unwrap_or(0);
    println!(
        "upload of {:.0} MiB to the simulator, {CONCURRENCY} parts at a time, median of {rounds} rounds",
        mib(size)
    );
    println!("  raw limit (minimal client):            {raw:>8.1} MiB/s");
    println!(
        "  asc-publish part PUTs (upload stage):  {put:>8.1} MiB/s  ({:.2}x raw)",
        put / raw
    );
    println!(
        "  then waited {checksum_ms:.0} ms for the whole-file MD5; PUTs + that wait: {with:.1} MiB/s ({:.2}x raw)",
        with / raw
    );
    println!(
        "  CPU time: raw client {raw_cpu:.2} s; asc-publish {ours_cpu:.2} s for the whole run (validation, the MD5 of every byte, commit, wait)"
    );
    println!("  App Store Connect API requests in a full run (preflight → VALID): {requests}");
    println!(
        "peak RSS of `asc-publish upload` for {:.0} MiB: {:.1} MiB (status {})",
        mib(std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0)),
        rss_mib,
        big_outcome.get("status").and_then(Value::as_str).unwrap_or("?")
    );
    let ok = put >= 0.9 * raw && rss_mib <= 64.0;
    println!(
        "targets: throughput >= 0.9x raw, RSS <= 64 MiB: {}",
        if ok { "PASS" } else { "MISS" }
    );
    // process::exit skips destructors: remove the gigabytes (in RAM, on a tmpfs) by hand.
    drop(dir);
    std::process::exit(if ok { 0 } else { 1 });
}

/// The benchmark's working directory, removed by `fail` too.
static WORKDIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

async fn start_sim(state_dir: &Path) -> SimHandle {
    Simulator::start(SimConfig {
        // Parts go to files, so the simulator's own memory does not grow with the upload.
        state_dir: Some(state_dir.to_path_buf()),
        processing: Processing {
            duration: Duration::from_millis(200),
            result: ProcessingResult::Valid,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| fail(&format!("simulator: {e}")))
}

/// Free bytes on the file system holding `dir`, if it can be asked.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: the path is a valid C string and statvfs fills the struct we own.
    let r = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if r != 0 {
        return None;
    }
    // SAFETY: statvfs succeeded, so the struct is initialised.
    let st = unsafe { st.assume_init() };
    // The field types differ between targets (u32 on some 32-bit ones).
    #[allow(clippy::unnecessary_cast)]
    let free = (st.f_bavail as u64).saturating_mul(st.f_frsize as u64);
    Some(free)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    if let Some(dir) = WORKDIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
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

/// The upload stage's speed, without and with the wait for the whole-file MD5 after it.
struct Speed {
    put_mibs: f64,
    with_checksum_mibs: f64,
}

/// What a measured process used.
struct Usage {
    rss_mib: f64,
    cpu_s: f64,
}

/// Runs `exe args…` through the launcher; returns its stdout and what it used.
fn measured(exe: &Path, args: &[String]) -> (String, Usage) {
    let usage_file = tempfile::NamedTempFile::new().unwrap_or_else(|e| fail(&format!("temp file: {e}")));
    let mut child = Command::new(std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string())))
        .arg(LAUNCHER)
        .arg(usage_file.path())
        .arg(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("spawn: {e}")));
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let _ = child.wait();
    let text = std::fs::read_to_string(usage_file.path()).unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().unwrap_or(f64::NAN));
    let rss_kib = fields.next().unwrap_or(f64::NAN);
    let cpu_s = fields.next().unwrap_or(f64::NAN);
    (
        stdout,
        Usage {
            rss_mib: rss_kib / 1024.0,
            cpu_s,
        },
    )
}

/// Runs `asc-publish upload` through the launcher; returns its speed, the outcome and its usage.
fn run_upload(exe: &Path, sim: &SimHandle, ipa: &Path) -> (Speed, Value, Usage) {
    let args: Vec<String> = [
        "upload",
        &ipa.display().to_string(),
        "--format",
        "json",
        "--poll-interval",
        "200ms",
        "--api-url",
        &sim.api_url,
        "--key-id",
        &sim.key_id,
        "--issuer-id",
        &sim.issuer_id,
        "--private-key",
        &sim.private_key_path.display().to_string(),
        "--extra-root-ca",
        &ipa.with_extension("pem").display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    let (stdout, usage) = measured(exe, &args);
    let outcome: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| fail(&format!("outcome: {e}: {stdout}")));
    if outcome.get("status").and_then(Value::as_str) != Some("success") {
        fail(&format!("upload did not succeed: {outcome}"));
    }
    let put = stage_millis(&outcome, "upload").max(1);
    let checksum = stage_millis(&outcome, "checksum");
    let mib = outcome["bytes_sent"].as_u64().unwrap_or(0) as f64 / (1 << 20) as f64;
    let speed = Speed {
        put_mibs: mib / (put as f64 / 1000.0),
        with_checksum_mibs: mib / ((put + checksum) as f64 / 1000.0),
    };
    (speed, outcome, usage)
}

fn stage_millis(outcome: &Value, stage: &str) -> u64 {
    outcome["timings"]
        .as_array()
        .and_then(|t| t.iter().find(|s| s["stage"] == stage))
        .and_then(|s| s["millis"].as_u64())
        .unwrap_or(0)
}

const LAUNCHER: &str = "--launch-measured";

/// `bench_upload --launch-measured USAGE_FILE EXE ARGS…`: runs EXE with this (small) process's
/// stdout, waits for it and writes its peak RSS in KiB and its CPU seconds (user + system) to
/// USAGE_FILE. Exits with its status.
fn launcher(args: &[String]) -> ! {
    let [usage_file, exe, rest @ ..] = args else {
        fail("usage: --launch-measured USAGE_FILE EXE ARGS…")
    };
    let child = Command::new(exe)
        .args(rest)
        .spawn()
        .unwrap_or_else(|e| fail(&format!("spawn {exe}: {e}")));
    let (code, rss_kib, cpu_s) = wait_with_usage(child);
    std::fs::write(usage_file, format!("{rss_kib} {cpu_s}\n")).unwrap_or_else(|e| fail(&e.to_string()));
    std::process::exit(code)
}

/// Waits for the child and reads its exit code, peak resident set size in KiB and CPU seconds
/// (wait4's rusage).
fn wait_with_usage(mut child: std::process::Child) -> (i32, libc::c_long, f64) {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 writes a full rusage into the buffer we own; the pid is our child.
    let r = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    if r != pid {
        let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(2);
        return (code, -1, f64::NAN);
    }
    // SAFETY: wait4 succeeded, so the struct is initialised.
    let usage = unsafe { usage.assume_init() };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        2
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    (code, usage.ru_maxrss, cpu) // KiB on Linux
}

const RAW_CLIENT: &str = "--raw-client";

/// Runs the minimal client as its own process, as asc-publish runs, so neither shares the
/// simulator's process and runtime; returns its MiB/s and usage.
fn run_raw(sim: &SimHandle, ipa: &Path, build_number: &str) -> (f64, Usage) {
    let me = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    let args = [
        RAW_CLIENT.to_string(),
        sim.api_url.clone(),
        sim.key_id.clone(),
        sim.issuer_id.clone(),
        sim.private_key_path.display().to_string(),
        ipa.display().to_string(),
        build_number.to_string(),
    ];
    let (stdout, usage) = measured(&me, &args);
    let mibs = stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| fail("the raw client printed no figure"));
    (mibs, usage)
}

/// `bench_upload --raw-client API_URL KEY_ID ISSUER_ID KEY_PATH IPA BUILD_NUMBER`: prints MiB/s.
fn raw_client(args: &[String]) -> ! {
    let [api_url, key_id, issuer_id, key_path, ipa, build_number] = args else {
        fail("usage: --raw-client API_URL KEY_ID ISSUER_ID KEY_PATH IPA BUILD_NUMBER")
    };
    let key_pem = std::fs::read_to_string(key_path).unwrap_or_else(|e| fail(&format!("{key_path}: {e}")));
    let token = token(key_id, issuer_id, &key_pem);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    let mibs = runtime.block_on(raw_put(api_url, &token, Path::new(ipa), build_number));
    println!("{mibs}");
    std::process::exit(0)
}

/// The minimal client: reserve a file for a new build number, then PUT every part (read whole
/// into memory first) 8 at a time with exactly its request headers. Returns MiB/s of the PUTs.
async fn raw_put(api_url: &str, token: &str, ipa: &Path, build_number: &str) -> f64 {
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{api_url}{path}");
    let size = std::fs::metadata(ipa).map(|m| m.len()).unwrap_or(0);
    let upload: Value = http
        .post(api("/v1/buildUploads"))
        .bearer_auth(token)
        .json(&json!({ "data": { "type": "buildUploads",
            "attributes": { "cfBundleShortVersionString": "9.9.9", "cfBundleVersion": build_number, "platform": "IOS" },
            "relationships": { "app": { "data": { "type": "apps", "id": asc_sim::DEFAULT_APP_ID } } } } }))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| fail(&format!("raw reserve: {e}")))
        .json()
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
    let file: Value = http
        .post(api("/v1/buildUploadFiles"))
        .bearer_auth(token)
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

fn token(key_id: &str, issuer_id: &str, key_pem: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key_id.to_string());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(key_pem.as_bytes()).unwrap_or_else(|e| fail(&format!("key: {e}")));
    let claims = json!({ "iss": issuer_id, "iat": now, "exp": now + 1200, "aud": "appstoreconnect-v1" });
    jsonwebtoken::encode(&header, &claims, &key).unwrap_or_else(|e| fail(&format!("token: {e}")))
}
