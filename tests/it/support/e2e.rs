//! End-to-end harness: the App Store Connect simulator in-process, a valid signed sample IPA, and
//! the real `asc-publish` binary run against them as a CI job would run it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_sim::{SimConfig, SimHandle, Simulator};
use serde_json::Value;
use tempfile::TempDir;

pub struct World {
    pub sim: SimHandle,
    pub dir: TempDir,
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON outcome printed with `--format json`.
    pub fn outcome(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl World {
    pub async fn start(config: SimConfig) -> World {
        let sim = Simulator::start(config).await.expect("simulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        World { sim, dir }
    }

    /// Writes a sample IPA named `name` and records its test root.
    pub fn ipa(&self, name: &str, sample: SampleApp) -> PathBuf {
        let path = self.dir.path().join(name);
        let built = sample.write_to(&path).expect("sample IPA");
        // Every sample gets a fresh PKI; the latest root is the one that matters for the next run,
        // so runs use the root of the IPA they upload (see `args`).
        std::fs::write(path.with_extension("root-ca.pem"), built.root_pem()).expect("root");
        path
    }

    /// The upload command line for `ipa`, pointed at the simulator, with JSON output.
    pub fn upload_args(&self, ipa: &Path, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "upload".into(),
            ipa.display().to_string(),
            "--format".into(),
            "json".into(),
            "--api-url".into(),
            self.sim.api_url.clone(),
            "--key-id".into(),
            self.sim.key_id.clone(),
            "--issuer-id".into(),
            self.sim.issuer_id.clone(),
            "--private-key".into(),
            self.sim.private_key_path.display().to_string(),
            "--extra-root-ca".into(),
            ipa.with_extension("root-ca.pem").display().to_string(),
        ];
        // Defaults a test may override.
        for (flag, value) in [("--poll-interval", "100ms"), ("--timeout", "2m")] {
            if !extra.contains(&flag) {
                args.extend([flag.to_string(), value.to_string()]);
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Runs the binary to completion on a blocking thread (the simulator keeps serving).
    pub async fn run(&self, args: Vec<String>) -> Run {
        tokio::task::spawn_blocking(move || {
            let out = command(&args).output().expect("run asc-publish");
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .await
        .expect("join")
    }

    pub fn spawn(&self, args: Vec<String>) -> Child {
        command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn asc-publish")
    }

    /// Requests the simulator saw, as `METHOD path` with their status.
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        self.sim
            .requests()
            .into_iter()
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }

    /// How many part PUTs reached storage so far (any status).
    pub fn part_puts(&self) -> usize {
        self.requests()
            .iter()
            .filter(|(m, p, _)| m == "PUT" && !p.starts_with("/v1/"))
            .count()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(m, p, _)| m == method && p.starts_with(path_prefix))
            .count()
    }

    /// Number of records of one kind in the simulator's state (`uploads`, `builds`, `files`).
    pub fn records(&self, kind: &str) -> usize {
        self.sim
            .snapshot()
            .get(kind)
            .and_then(Value::as_object)
            .map_or(0, |m| m.len())
    }
}

fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
    cmd.args(args);
    // Hermetic: no credentials or API URL from the developer's environment.
    for (k, _) in std::env::vars() {
        if k.starts_with("ASC_") || k.starts_with("APP_STORE_CONNECT_") || k.starts_with("GITHUB_") || k == "CI" {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Waits until `cond` holds, checking every 20 ms, for at most `limit`.
pub async fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

pub fn quick_processing() -> asc_sim::Processing {
    asc_sim::Processing {
        duration: Duration::from_millis(300),
        result: asc_sim::ProcessingResult::Valid,
    }
}
