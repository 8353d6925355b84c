//! Shared by the end-to-end CI tests: an in-process simulator, a signed sample IPA, and the
//! `asc-publish` binary run with a clean, fake CI environment.

pub mod scene;
pub mod wrappers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use asc_publish::sample::app::SampleApp;
use asc_sim::{Processing, ProcessingResult, SimConfig, SimHandle, Simulator};

/// A simulator plus everything a run needs: IPA, trust root, credentials, a scratch directory.
pub struct World {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub ipa: PathBuf,
    pub root_ca: PathBuf,
    pub key_pem: String,
}

/// Output of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl World {
    pub async fn start(result: ProcessingResult) -> World {
        let sim = Simulator::start(SimConfig {
            processing: Processing {
                duration: Duration::from_millis(300),
                result,
            },
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ipa = dir.path().join("Demo.ipa");
        let built = SampleApp::default().write_to(&ipa).unwrap();
        let root_ca = dir.path().join("root.pem");
        std::fs::write(&root_ca, built.root_pem()).unwrap();
        let key_pem = sim.private_key_pem.clone();
        World {
            sim,
            dir,
            ipa,
            root_ca,
            key_pem,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The credential and simulator environment of a run.
    pub fn base_env(&self) -> Vec<(String, String)> {
        vec![
            ("ASC_KEY_ID".into(), self.sim.key_id.clone()),
            ("ASC_ISSUER_ID".into(), self.sim.issuer_id.clone()),
            ("ASC_PRIVATE_KEY".into(), self.key_pem.clone()),
            ("ASC_API_URL".into(), self.sim.api_url.clone()),
            ("ASC_EXTRA_ROOT_CA".into(), self.root_ca.to_string_lossy().into_owned()),
        ]
    }

    /// `asc-publish upload` of the sample with `extra_env` on top of [`World::base_env`].
    pub async fn upload(&self, extra_args: &[&str], extra_env: &[(String, String)]) -> Run {
        let mut args: Vec<String> = vec![
            "upload".into(),
            self.ipa.to_string_lossy().into_owned(),
            "--poll-interval".into(),
            "100ms".into(),
            "--timeout".into(),
            "60s".into(),
        ];
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let mut env = self.base_env();
        env.extend(extra_env.iter().cloned());
        run_bin(args, env).await
    }
}

/// Runs the binary with exactly `env` (plus PATH unless given), off the async runtime so the
/// in-process servers keep answering.
pub async fn run_bin(args: Vec<String>, env: Vec<(String, String)>) -> Run {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
        cmd.args(&args).env_clear();
        if !env.iter().any(|(k, _)| k == "PATH") {
            cmd.env("PATH", "/usr/bin:/bin");
        }
        let out = cmd.envs(env).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// A valid P-256 key the simulator does not know.
pub fn foreign_key() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .serialize_pem()
}

/// The base64 body lines of a PEM key (what must never leak).
pub fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect()
}

/// Panics if any line of `pem` appears in `text`.
pub fn assert_no_key(what: &str, text: &str, pem: &str) {
    for l in key_lines(pem) {
        assert!(!text.contains(&l), "{what} contains private key material");
    }
}

/// A log without its `::add-mask::` lines: the runner consumes those and never shows them, and
/// they are the one place a secret is meant to be printed.
pub fn shown(log: &str) -> String {
    log.lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every file under `dir`, recursively, as (path, lossy text).
pub fn all_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}

/// `name<<delim\nvalue\ndelim` entries of a GITHUB_OUTPUT file, parsed as the runner does.
pub fn parse_github_output(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(head) = lines.next() {
        if let Some((name, delim)) = head.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((k, v)) = head.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub fn kv(k: &str, v: impl AsRef<str>) -> (String, String) {
    (k.to_string(), v.as_ref().to_string())
}
