//! Runs each CI wrapper the way its CI does, with the real `asc-publish` (installed by the wrapper
//! from a local fake release of the test binary) against the in-process simulator:
//! - the GitHub Action: action.yml's composite steps, `${{ inputs.* }}` and
//!   `${{ steps.*.outputs.* }}` evaluated into each step's `env:`, its `run:` written to a file and
//!   started with the step's `shell:` line, a fresh GITHUB_OUTPUT per step;
//! - the GitLab component: the packaged template's spec defaults and `$[[ inputs.* ]]`
//!   interpolated into the parsed job (as GitLab does, after YAML parsing), job variables expanded
//!   unless `expand: false`, the `script:` run by bash with `set -eo pipefail` in CI_PROJECT_DIR;
//! - the Bitrise step: the packaged step directory cloned (git::) or copied (path::) on its own,
//!   step.yml's input defaults merged, `is_expand` inputs expanded like envman, `bash step.sh`.
//!
//! Only what cannot be reached otherwise is faked: `envman` (records exports) and, for GitLab,
//! the source of the fetched files (a file:// mirror of the release commit).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::Digest as _;
use yaml_rust2::{Yaml, YamlLoader};

/// The crate version: the fake release is of this version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The release target of this machine, as dist/install.sh maps it.
pub fn host_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

/// `RUNNER_OS` / `RUNNER_ARCH` of this machine, in GitHub's names.
pub fn runner_platform() -> (&'static str, &'static str) {
    let os = if cfg!(target_os = "macos") { "macOS" } else { "Linux" };
    let arch = if cfg!(target_arch = "aarch64") { "ARM64" } else { "X64" };
    (os, arch)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A release archive of the test binary (built once per test process) and its sha256.
pub fn release_archive() -> &'static (PathBuf, String) {
    static ARCHIVE: OnceLock<(PathBuf, String)> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fake-release-{}", std::process::id()));
        let name = format!("asc-publish-v{VERSION}-{}", host_target());
        let pkg = dir.join("pkg").join(&name);
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_asc-publish"), pkg.join("asc-publish")).unwrap();
        let archive = dir.join(format!("{name}.tar.gz"));
        let st = Command::new("tar")
            .env("GZIP", "-1")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.join("pkg"))
            .arg(&name)
            .status()
            .unwrap();
        assert!(st.success());
        let sha = sha256_hex(&std::fs::read(&archive).unwrap());
        (archive, sha)
    })
}

/// A dist/manifest.txt pinning the fake release for this machine's target.
pub fn fake_manifest() -> String {
    let (archive, sha) = release_archive();
    format!(
        "# fake release for the wrapper tests\nversion {VERSION}\nsource https://github.com/asc-publish/asc-publish {}\n{} {sha} file://{}\n",
        "0".repeat(40),
        host_target(),
        archive.display()
    )
}

pub fn copy_file(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

/// Output of one wrapper run.
#[derive(Debug, Default)]
pub struct WrapperRun {
    pub code: i32,
    /// stdout and stderr of every step, in order.
    pub log: String,
    /// The wrapper's outputs (action outputs, dotenv, envman exports).
    pub outputs: Vec<(String, String)>,
}

fn run_capture(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), log)
}

fn yaml_str(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

fn key(s: &str) -> Yaml {
    Yaml::String(s.to_string())
}

fn load_yaml(path: &Path) -> Vec<Yaml> {
    YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// The action checkout as the runner lays it out: action.yml and dist/, with `manifest` as
/// dist/manifest.txt.
pub fn action_checkout(dir: &Path, manifest: &str) -> PathBuf {
    let action = dir.join("action");
    copy_file(&repo().join("action.yml"), &action.join("action.yml"));
    for f in ["install.sh", "run.sh"] {
        copy_file(&repo().join("dist").join(f), &action.join("dist").join(f));
    }
    std::fs::write(action.join("dist/manifest.txt"), manifest).unwrap();
    action
}

/// Replaces every `${{ expr }}` with `eval(expr)`.
fn github_expand(s: &str, eval: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("closed expression") + i;
        out.push_str(&eval(rest[i + 3..end].trim()));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Runs the composite action in `action` with `inputs` on a runner whose job environment is
/// `job_env` (GITHUB_* included by the caller). `work` holds the step files.
pub fn run_action(action: &Path, inputs: &[(&str, &str)], job_env: &[(String, String)], work: &Path) -> WrapperRun {
    let doc = &load_yaml(&action.join("action.yml"))[0];
    let given: BTreeMap<&str, &str> = inputs.iter().copied().collect();
    let declared = doc["inputs"].as_hash().expect("inputs");
    for name in given.keys() {
        assert!(declared.contains_key(&key(name)), "action.yml declares no input {name}");
    }
    let token = job_env
        .iter()
        .find(|(k, _)| k == "GITHUB_TOKEN")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut step_outputs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut run = WrapperRun::default();
    let input_value = |name: &str, outputs: &BTreeMap<String, Vec<(String, String)>>| -> String {
        let _ = outputs;
        match given.get(name) {
            Some(v) => v.to_string(),
            None => {
                let d = yaml_str(&doc["inputs"][name]["default"]).unwrap_or_default();
                github_expand(&d, &|e| {
                    if e == "github.token" {
                        token.clone()
                    } else {
                        String::new()
                    }
                })
            }
        }
    };
    for (n, step) in doc["runs"]["steps"].as_vec().expect("steps").iter().enumerate() {
        let id = step["id"].as_str().unwrap_or("step").to_string();
        let eval = |e: &str| -> String {
            if let Some(name) = e.strip_prefix("inputs.") {
                input_value(name, &step_outputs)
            } else if let Some(rest) = e.strip_prefix("steps.") {
                let (sid, out) = rest.split_once(".outputs.").expect("steps.X.outputs.Y");
                super::get(step_outputs.get(sid).map(Vec::as_slice).unwrap_or(&[]), out).to_string()
            } else if e == "github.token" {
                token.clone()
            } else {
                panic!("unsupported expression {e}")
            }
        };
        let mut env: Vec<(String, String)> = job_env.to_vec();
        env.push(("GITHUB_ACTION_PATH".into(), action.to_string_lossy().into_owned()));
        let output = work.join(format!("step{n}.output"));
        std::fs::write(&output, "").unwrap();
        env.push(("GITHUB_OUTPUT".into(), output.to_string_lossy().into_owned()));
        if let Some(h) = step["env"].as_hash() {
            for (k, v) in h {
                env.push((
                    k.as_str().unwrap().to_string(),
                    github_expand(&yaml_str(v).unwrap(), &eval),
                ));
            }
        }
        let script = work.join(format!("step{n}.sh"));
        std::fs::write(&script, step["run"].as_str().expect("run")).unwrap();
        let shell = step["shell"].as_str().expect("shell");
        let words: Vec<String> = shell
            .split_whitespace()
            .map(|w| {
                if w == "{0}" {
                    script.to_string_lossy().into_owned()
                } else {
                    w.to_string()
                }
            })
            .collect();
        let mut cmd = Command::new(&words[0]);
        cmd.args(&words[1..]).env_clear().envs(env).current_dir(work);
        let (code, log) = run_capture(&mut cmd);
        run.log.push_str(&log);
        step_outputs.insert(
            id,
            super::parse_github_output(&std::fs::read_to_string(&output).unwrap()),
        );
        run.code = code;
        if code != 0 {
            break;
        }
    }
    if let Some(outs) = doc["outputs"].as_hash() {
        for (k, v) in outs {
            let value = github_expand(v["value"].as_str().unwrap(), &|e| {
                let rest = e.strip_prefix("steps.").expect("steps.X.outputs.Y");
                let (sid, out) = rest.split_once(".outputs.").unwrap();
                super::get(step_outputs.get(sid).map(Vec::as_slice).unwrap_or(&[]), out).to_string()
            });
            run.outputs.push((k.as_str().unwrap().to_string(), value));
        }
    }
    run
}

// ---------------------------------------------------------------------------------------------
// Packaging (GitLab component project, Bitrise step directory)

/// A fake release commit id.
pub const COMMIT: &str = "1111111111111111111111111111111111111111";

/// scripts/package-ci.sh run on this checkout with `manifest` as the released manifest; returns
/// (gitlab-component, bitrise-step) and a file:// mirror serving `<commit>/dist/<file>`.
pub fn package(dir: &Path, manifest: &str) -> (PathBuf, PathBuf, String) {
    let manifest_path = dir.join("released-manifest.txt");
    std::fs::write(&manifest_path, manifest).unwrap();
    let out = dir.join("packaged");
    let st = Command::new("bash")
        .arg(repo().join("scripts/package-ci.sh"))
        .arg(&out)
        .arg(COMMIT)
        .arg(&manifest_path)
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let mirror = dir.join("mirror");
    for f in ["install.sh", "run.sh"] {
        copy_file(&repo().join("dist").join(f), &mirror.join(COMMIT).join("dist").join(f));
    }
    std::fs::write(mirror.join(COMMIT).join("dist/manifest.txt"), manifest).unwrap();
    (
        out.join("gitlab-component"),
        out.join("bitrise-step"),
        format!("file://{}", mirror.display()),
    )
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

fn interpolate_gitlab(y: &Yaml, inputs: &BTreeMap<String, String>) -> Yaml {
    match y {
        Yaml::String(s) => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("$[[") {
                out.push_str(&rest[..i]);
                let end = rest[i..].find("]]").expect("closed $[[") + i;
                let expr = rest[i + 3..end].trim();
                let name = expr.strip_prefix("inputs.").expect("inputs.X");
                out.push_str(inputs.get(name).unwrap_or_else(|| panic!("no input {name}")));
                rest = &rest[end + 2..];
            }
            out.push_str(rest);
            Yaml::String(out)
        }
        Yaml::Hash(h) => Yaml::Hash(
            h.iter()
                .map(|(k, v)| (interpolate_gitlab(k, inputs), interpolate_gitlab(v, inputs)))
                .collect(),
        ),
        Yaml::Array(a) => Yaml::Array(a.iter().map(|v| interpolate_gitlab(v, inputs)).collect()),
        other => other.clone(),
    }
}

/// GitLab's variable expansion (`$VAR`, `${VAR}`), for variables without `expand: false`.
fn gitlab_expand(s: &str, env: &[(String, String)]) -> String {
    let lookup = |n: &str| super::get(env, n).to_string();
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && i + 1 < chars.len() {
            if chars[i + 1] == '{' {
                if let Some(end) = chars[i + 2..].iter().position(|c| *c == '}') {
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    out.push_str(&lookup(&name));
                    i += end + 3;
                    continue;
                }
            } else if chars[i + 1].is_ascii_alphabetic() || chars[i + 1] == '_' {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                out.push_str(&lookup(&name));
                i += 1 + name.chars().count();
                continue;
            } else if chars[i + 1] == '$' {
                out.push('$');
                i += 2;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Includes the component at `template` with `inputs` in a pipeline whose CI/CD variables are
/// `job_env`; runs the one job it defines in `project` (CI_PROJECT_DIR).
pub fn run_gitlab(
    template: &Path,
    inputs: &[(&str, &str)],
    job_env: &[(String, String)],
    project: &Path,
) -> WrapperRun {
    let docs = load_yaml(template);
    assert_eq!(docs.len(), 2, "a spec header and the jobs");
    let spec = docs[0]["spec"]["inputs"].as_hash().expect("spec.inputs");
    let mut values = BTreeMap::new();
    for (k, v) in spec {
        let name = k.as_str().unwrap().to_string();
        if let Some(d) = yaml_str(&v["default"]) {
            values.insert(name.clone(), d);
        }
    }
    for (k, v) in inputs {
        assert!(spec.contains_key(&key(k)), "the component declares no input {k}");
        if let Some(options) = spec[&key(k)]["options"].as_vec() {
            assert!(
                options.iter().any(|o| yaml_str(o).as_deref() == Some(v)),
                "GitLab rejects {k}={v}: not one of its options"
            );
        }
        values.insert(k.to_string(), v.to_string());
    }
    for (k, _) in spec {
        assert!(
            values.contains_key(k.as_str().unwrap()),
            "required input {k:?} not given"
        );
    }
    let jobs = interpolate_gitlab(&docs[1], &values);
    let (_, job) = jobs.as_hash().unwrap().iter().next().expect("one job");
    std::fs::create_dir_all(project).unwrap();
    let mut env: Vec<(String, String)> = job_env.to_vec();
    env.push(("CI_PROJECT_DIR".into(), project.to_string_lossy().into_owned()));
    for (k, v) in job["variables"].as_hash().expect("variables") {
        let name = k.as_str().unwrap().to_string();
        let (value, expand) = match v {
            Yaml::Hash(_) => (
                yaml_str(&v["value"]).expect("variables must be strings"),
                v["expand"].as_bool().unwrap_or(true),
            ),
            other => (yaml_str(other).expect("variables must be strings"), true),
        };
        let value = if expand { gitlab_expand(&value, &env) } else { value };
        env.push((name, value));
    }
    let lines: Vec<String> = job["script"]
        .as_vec()
        .expect("script")
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", &lines.join("\n")])
        .env_clear()
        .envs(env)
        .current_dir(project);
    let (code, log) = run_capture(&mut cmd);
    let dotenv = std::fs::read_to_string(project.join("asc-publish.env")).unwrap_or_default();
    WrapperRun {
        code,
        log,
        outputs: dotenv
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Bitrise

/// How stepman gets the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSource {
    /// `git::<repo>@<tag>`: a clone of a repository whose root is the step.
    Git,
    /// `path::<dir>`: a copy of that directory alone.
    Path,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_tree(&p, &to.join(e.file_name()));
        } else {
            copy_file(&p, &to.join(e.file_name()));
            let mode = std::fs::metadata(&p).unwrap().permissions();
            std::fs::set_permissions(to.join(e.file_name()), mode).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Activates the packaged step from `packaged` as stepman would, into `work`.
pub fn activate_step(packaged: &Path, source: StepSource, work: &Path) -> PathBuf {
    let dest = work.join("step");
    match source {
        StepSource::Path => copy_tree(packaged, &dest),
        StepSource::Git => {
            let origin = work.join("step-origin");
            copy_tree(packaged, &origin);
            git(&origin, &["init", "-q"]);
            git(&origin, &["add", "-A"]);
            git(&origin, &["commit", "-qm", "step"]);
            git(&origin, &["tag", &format!("bitrise-step-{VERSION}")]);
            let url = format!("file://{}", origin.display());
            let tag = format!("bitrise-step-{VERSION}");
            git(work, &["clone", "-q", "--depth", "1", "--branch", &tag, &url, "step"]);
        }
    }
    assert!(dest.join("step.yml").is_file(), "step.yml is not at the step's root");
    dest
}

/// Runs the activated step with `inputs` (step.yml defaults for the rest) in a build whose
/// environment is `build_env`. `envman` in `bin` records exports to `envman.log`.
pub fn run_bitrise(step: &Path, inputs: &[(&str, &str)], build_env: &[(String, String)], work: &Path) -> WrapperRun {
    let doc = &load_yaml(&step.join("step.yml"))[0];
    let entry = doc["toolkit"]["bash"]["entry_file"]
        .as_str()
        .expect("toolkit.bash.entry_file");
    let mut env: Vec<(String, String)> = build_env.to_vec();
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = work.join("envman.log");
    std::fs::write(&log, "").unwrap();
    let envman = bin.join("envman");
    std::fs::write(
        &envman,
        format!(
            "#!/bin/sh\n[ \"$1\" = add ] || exit 3\nprintf '%s=%s\\n' \"$3\" \"$5\" >> '{}'\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&envman, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
    let given: BTreeMap<&str, &str> = inputs.iter().copied().collect();
    let declared: Vec<String> = doc["inputs"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i.as_hash()
                .unwrap()
                .keys()
                .filter_map(|k| k.as_str())
                .filter(|k| *k != "opts")
        })
        .map(str::to_string)
        .collect();
    for k in given.keys() {
        assert!(declared.iter().any(|d| d == k), "step.yml declares no input {k}");
    }
    for item in doc["inputs"].as_vec().unwrap() {
        let h = item.as_hash().unwrap();
        let (name, default) = h.iter().find(|(k, _)| k.as_str() != Some("opts")).unwrap();
        let name = name.as_str().unwrap();
        let expand = item["opts"]["is_expand"].as_bool().unwrap_or(true);
        let raw = given
            .get(name)
            .map(|s| s.to_string())
            .unwrap_or_else(|| yaml_str(default).unwrap_or_default());
        let value = if expand { gitlab_expand(&raw, &env) } else { raw };
        env.push((name.to_string(), value));
    }
    let mut cmd = Command::new("bash");
    cmd.arg(step.join(entry)).env_clear().envs(env).current_dir(work);
    let (code, out) = run_capture(&mut cmd);
    WrapperRun {
        code,
        log: out,
        outputs: std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}
