//! dist/install.sh with a local fake release (the manifest pins an archive of the real test binary
//! by file:// URL and sha256): the right checksum installs the binary, which runs; a tampered
//! checksum, a missing archive, an unknown platform without cargo, a version this ref does not pin
//! and a source build that yields nothing all fail with a clear `::error`. The source fallback
//! builds this repository at the pinned revision (a `cargo` shim records how it is called:
//! running a real `cargo install` here would compile for minutes), is cached, and never names a
//! crate from the registry alone.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::e2e_ci::wrappers::{VERSION, fake_manifest, host_target, release_archive, repo, runner_platform};

const REV: &str = "0123456789abcdef0123456789abcdef01234567";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn manifest(&self, text: &str) {
        fs::write(self.p("action/dist/manifest.txt"), text).unwrap();
    }

    fn cargo_calls(&self) -> String {
        fs::read_to_string(self.p("cargo.log")).unwrap_or_default()
    }
}

fn write_exe(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A wrapper checkout holding only dist/ (as the GitLab job and the Bitrise step have), and a
/// `cargo` shim whose "build" is a script answering `--version`.
fn fixture(manifest: &str) -> Fixture {
    let f = Fixture {
        dir: tempfile::tempdir().unwrap(),
    };
    for d in ["action/dist", "shims", "runner-temp", "home"] {
        fs::create_dir_all(f.p(d)).unwrap();
    }
    fs::copy(repo().join("dist/install.sh"), f.p("action/dist/install.sh")).unwrap();
    f.manifest(manifest);
    write_exe(
        &f.p("shims/cargo"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\n\
             [ -n \"$CARGO_SHIM_EMPTY\" ] && exit 0\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built\\n' > \"$root/bin/asc-publish\"\nchmod +x \"$root/bin/asc-publish\"\n",
            log = f.p("cargo.log").display()
        ),
    );
    write_exe(&f.p("shims/rustc"), "#!/bin/sh\necho 'rustc 1.85.0 (abc 2025-01-01)'\n");
    f
}

fn run(f: &Fixture, os: &str, arch: &str, extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("/bin/bash");
    cmd.arg(f.p("action/dist/install.sh"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", f.p("shims").display()))
        .env("HOME", f.p("home"))
        .env("GITHUB_ACTION_PATH", f.p("action"))
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", f.p("runner-temp"))
        .env("GITHUB_PATH", f.p("github_path"))
        .env("GITHUB_OUTPUT", f.p("github_output"));
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn installed(f: &Fixture) -> PathBuf {
    f.p("runner-temp/asc-publish/bin/asc-publish")
}

fn assert_failed(f: &Fixture, out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    assert!(
        text(out).contains(&format!("::error title=asc-publish install::{message}")),
        "{}",
        text(out)
    );
    assert!(!installed(f).exists(), "nothing is installed");
    assert!(!f.p("github_path").exists(), "nothing is put on PATH");
}

#[test]
fn the_right_checksum_installs_the_release_binary() {
    let f = fixture(&fake_manifest());
    let (os, arch) = runner_platform();
    let started = std::time::Instant::now();
    let out = run(&f, os, arch, &[]);
    assert!(out.status.success(), "{}", text(&out));
    // Shown, not asserted (timings belong to benchmarks): the prebuilt path takes seconds.
    eprintln!("installed in {:?}", started.elapsed());
    let ran = Command::new(installed(&f)).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        format!("asc-publish {VERSION}")
    );
    let gh_path = fs::read_to_string(f.p("github_path")).unwrap();
    assert_eq!(gh_path.trim(), f.p("runner-temp/asc-publish/bin").display().to_string());
    assert!(fs::read_to_string(f.p("github_output")).unwrap().starts_with("bin="));
    assert!(f.cargo_calls().is_empty(), "no source build");
    assert!(text(&out).contains(&format!("Install asc-publish {VERSION} ({})", host_target())));
}

#[test]
fn a_tampered_checksum_fails_and_never_falls_back() {
    let (archive, sha) = release_archive();
    let wrong = format!("{}{}", if sha.starts_with('0') { "1" } else { "0" }, &sha[1..]);
    let f = fixture(&format!(
        "version {VERSION}\nsource https://github.com/asc-publish/asc-publish {REV}\n{} {wrong} file://{}\n",
        host_target(),
        archive.display()
    ));
    let (os, arch) = runner_platform();
    let out = run(&f, os, arch, &[]);
    assert_failed(&f, &out, "sha256 mismatch");
    assert!(
        f.cargo_calls().is_empty(),
        "a tampered download must not fall back to a build"
    );
}

#[test]
fn a_missing_archive_or_a_foreign_url_fails() {
    let (_, sha) = release_archive();
    let (os, arch) = runner_platform();
    let f = fixture(&format!(
        "version {VERSION}\n{} {sha} file:///nonexistent/a.tar.gz\n",
        host_target()
    ));
    assert_failed(&f, &run(&f, os, arch, &[]), "download failed");
    let f = fixture(&format!(
        "version {VERSION}\n{} {sha} http://example.com/a.tar.gz\n",
        host_target()
    ));
    assert_failed(&f, &run(&f, os, arch, &[]), "refusing the URL");
}

#[test]
fn an_unknown_platform_without_cargo_is_a_clear_error() {
    let f = fixture(&fake_manifest());
    fs::remove_file(f.p("shims/cargo")).unwrap();
    if Path::new("/usr/bin/cargo").exists() || Path::new("/bin/cargo").exists() {
        // A system cargo would be found on this machine's PATH: the case cannot be built here.
        return;
    }
    let out = run(&f, "Plan9", "mips", &[]);
    assert_failed(
        &f,
        &out,
        "no prebuilt binary for Plan9/mips in dist/manifest.txt and cargo is not installed",
    );
}

#[test]
fn the_source_fallback_builds_the_pinned_revision_once() {
    let f = fixture(&format!(
        "version {VERSION}\nsource https://github.com/asc-publish/asc-publish {REV}\n"
    ));
    let out = run(&f, "Plan9", "mips", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let calls = f.cargo_calls();
    let cache = f.p(&format!(
        "home/.cache/asc-publish/{VERSION}-{REV}-Plan9-mips-rust1.85.0"
    ));
    assert_eq!(
        calls.trim(),
        format!(
            "install --locked --root {} --git https://github.com/asc-publish/asc-publish --rev {REV} asc-publish",
            cache.display()
        )
    );
    assert_eq!(Command::new(installed(&f)).output().unwrap().stdout, b"built\n");
    // Cached: a second job on the same machine (or with the cache restored) does not build.
    fs::remove_dir_all(f.p("runner-temp/asc-publish")).unwrap();
    assert!(run(&f, "Plan9", "mips", &[]).status.success());
    assert_eq!(f.cargo_calls().lines().count(), 1);
    assert!(installed(&f).exists());
}

#[test]
fn no_registry_install_by_bare_name() {
    // No pinned source and no checkout to build: fail, never `cargo install asc-publish`.
    let f = fixture(&format!("version {VERSION}\n"));
    let out = run(&f, "Plan9", "mips", &[]);
    assert_failed(
        &f,
        &out,
        "no prebuilt binary for Plan9/mips and dist/manifest.txt pins no source revision",
    );
    assert!(f.cargo_calls().is_empty());
    // A version other than the pinned one is refused, not fetched from the registry.
    let f = fixture(&fake_manifest());
    let (os, arch) = runner_platform();
    let out = run(&f, os, arch, &[("INPUT_VERSION", "v9.9.9")]);
    assert_failed(
        &f,
        &out,
        &format!("this wrapper ref pins asc-publish {VERSION}, not 9.9.9"),
    );
    assert!(f.cargo_calls().is_empty());
}

#[test]
fn the_action_checkout_builds_itself_and_an_empty_build_fails() {
    let f = fixture("# no release yet\n");
    fs::write(f.p("action/Cargo.toml"), "[package]\n").unwrap();
    fs::create_dir_all(f.p("action/src")).unwrap();
    let (os, arch) = runner_platform();
    let out = run(&f, os, arch, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(f.cargo_calls().contains(&format!("--path {}", f.p("action").display())));

    let f = fixture("# no release yet\n");
    fs::write(f.p("action/Cargo.toml"), "[package]\n").unwrap();
    fs::create_dir_all(f.p("action/src")).unwrap();
    let out = run(&f, os, arch, &[("CARGO_SHIM_EMPTY", "1")]);
    assert_failed(&f, &out, "the source build produced no asc-publish binary");
}

/// The release workflow writes the manifest with scripts/write-manifest.sh: what it writes for a
/// directory of release archives is what the installer installs from.
#[test]
fn the_release_manifest_writer_and_the_installer_agree() {
    let (archive, sha) = release_archive();
    let dir = archive.parent().unwrap();
    let out = Command::new("bash")
        .arg(repo().join("scripts/write-manifest.sh"))
        .args([VERSION, "https://github.com/asc-publish/asc-publish", REV])
        .arg(format!("file://{}", dir.display()))
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let manifest = String::from_utf8(out.stdout).unwrap();
    assert!(manifest.contains(&format!("\nversion {VERSION}\n")), "{manifest}");
    assert!(manifest.contains(&format!("\nsource https://github.com/asc-publish/asc-publish {REV}\n")));
    assert!(
        manifest.contains(&format!("{} {sha} file://", host_target())),
        "{manifest}"
    );
    let f = fixture(&manifest);
    let (os, arch) = runner_platform();
    let run = run(&f, os, arch, &[]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        Command::new(installed(&f))
            .arg("--version")
            .output()
            .unwrap()
            .status
            .success()
    );

    // No archive of that version: no manifest.
    let out = Command::new("bash")
        .arg(repo().join("scripts/write-manifest.sh"))
        .args(["9.9.9", "https://github.com/asc-publish/asc-publish", REV, "file:///x"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
