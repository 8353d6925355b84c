//! dist/install.sh driven through bash with PATH shims: a good checksum installs, a tampered
//! checksum fails with `::error`, and an unknown platform or empty manifest falls back to cargo.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::Digest as _;

const TARGET: &str = "x86_64-unknown-linux-musl";
const URL: &str = "https://github.com/example/asc-publish/releases/download/v9.9.9/asc-publish-v9.9.9-x86_64-unknown-linux-musl.tar.gz";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn write_exe(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// An action checkout with the real install.sh, a release archive served by a `curl` shim, and a
/// `cargo` shim that records its arguments.
fn fixture(manifest_line: Option<&str>) -> Fixture {
    let f = Fixture {
        dir: tempfile::tempdir().unwrap(),
    };
    for d in ["action/dist", "shims", "assets/pkg/asc-publish-v9.9.9", "runner-temp"] {
        fs::create_dir_all(f.p(d)).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/install.sh");
    fs::copy(script, f.p("action/dist/install.sh")).unwrap();
    fs::write(f.p("action/Cargo.toml"), "[package]\n").unwrap();
    let mut manifest = String::from("# header comment\n");
    if let Some(line) = manifest_line {
        manifest.push_str(line);
        manifest.push('\n');
    }
    fs::write(f.p("action/dist/manifest.txt"), manifest).unwrap();

    write_exe(
        &f.p("assets/pkg/asc-publish-v9.9.9/asc-publish"),
        "#!/bin/sh\necho asc-publish 9.9.9\n",
    );
    let archive = f.p(&format!("assets/asc-publish-v9.9.9-{TARGET}.tar.gz"));
    let st = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(f.p("assets/pkg"))
        .arg("asc-publish-v9.9.9")
        .status()
        .unwrap();
    assert!(st.success());

    // curl shim: record the arguments, copy the asset named like the URL's last segment.
    write_exe(
        &f.p("shims/curl"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\nout=''\nurl=''\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n    -o) out=\"$2\"; shift ;;\n    https://*) url=\"$1\" ;;\n  esac\n  shift\ndone\ncp \"{assets}/${{url##*/}}\" \"$out\"\n",
            log = f.p("curl.log").display(),
            assets = f.p("assets").display()
        ),
    );
    write_exe(
        &f.p("shims/cargo"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built\\n' > \"$root/bin/asc-publish\"\nchmod +x \"$root/bin/asc-publish\"\n",
            log = f.p("cargo.log").display()
        ),
    );
    f
}

fn sha256_of(path: &Path) -> String {
    let digest = sha2::Sha256::digest(fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(f: &Fixture, os: &str, arch: &str, extra: &[(&str, &str)]) -> Output {
    let path = format!("{}:/usr/bin:/bin", f.p("shims").display());
    let mut cmd = Command::new("bash");
    cmd.arg(f.p("action/dist/install.sh"))
        .env_clear()
        .env("PATH", path)
        .env("HOME", f.p(""))
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn good_checksum_installs_the_prebuilt_binary() {
    // The archive is built per fixture (mtimes differ), so pin this fixture's own hash.
    let f = fixture(None);
    let sha = sha256_of(&f.p(&format!("assets/asc-publish-v9.9.9-{TARGET}.tar.gz")));
    fs::write(f.p("action/dist/manifest.txt"), format!("# c\n{TARGET} {sha} {URL}\n")).unwrap();

    let out = run(&f, "Linux", "X64", &[]);
    assert!(
        out.status.success(),
        "stdout:{}\nstderr:{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let bin = f.p("runner-temp/asc-publish/bin/asc-publish");
    let ran = Command::new(&bin).output().unwrap();
    assert_eq!(text(&ran.stdout), "asc-publish 9.9.9\n");
    let curl = fs::read_to_string(f.p("curl.log")).unwrap();
    assert!(curl.contains("--proto =https --tlsv1.2 -fsSL --retry 5"), "{curl}");
    assert!(curl.contains(URL));
    let gh_path = fs::read_to_string(f.p("github_path")).unwrap();
    assert_eq!(gh_path.trim(), f.p("runner-temp/asc-publish/bin").display().to_string());
    let gh_out = fs::read_to_string(f.p("github_output")).unwrap();
    assert!(gh_out.starts_with("bin="));
    assert!(!f.p("cargo.log").exists(), "no source build");
    assert!(text(&out.stdout).contains("::group::Install asc-publish (x86_64-unknown-linux-musl)"));
}

#[test]
fn tampered_checksum_fails_with_an_error_annotation() {
    let f = fixture(Some(&format!("{TARGET} {} {URL}", "a".repeat(64))));
    let out = run(&f, "Linux", "X64", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("::error title=asc-publish install::sha256 mismatch"),
        "{stdout}"
    );
    assert!(!f.p("runner-temp/asc-publish/bin/asc-publish").exists());
    assert!(!f.p("github_path").exists());
    assert!(
        !f.p("cargo.log").exists(),
        "a tampered download must not fall back silently"
    );
}

#[test]
fn unknown_platform_builds_from_source_with_cargo() {
    let f = fixture(Some(&format!("{TARGET} {} {URL}", "a".repeat(64))));
    let out = run(&f, "Windows", "X64", &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let cargo = fs::read_to_string(f.p("cargo.log")).unwrap();
    assert_eq!(
        cargo.trim(),
        format!(
            "install --locked --root {} --path {}",
            f.p("runner-temp/asc-publish").display(),
            f.p("action").display()
        )
    );
    assert!(!f.p("curl.log").exists());
    assert!(f.p("runner-temp/asc-publish/bin/asc-publish").exists());
}

#[test]
fn empty_manifest_or_explicit_request_builds_from_source() {
    let f = fixture(None);
    assert!(run(&f, "macOS", "ARM64", &[]).status.success());
    assert!(fs::read_to_string(f.p("cargo.log")).unwrap().contains("--path"));

    let f = fixture(Some(&format!("{TARGET} {} {URL}", "a".repeat(64))));
    assert!(
        run(&f, "Linux", "X64", &[("INPUT_BUILD_FROM_SOURCE", "true")])
            .status
            .success()
    );
    assert!(!f.p("curl.log").exists());
    assert!(f.p("cargo.log").exists());
}

#[test]
fn a_version_the_manifest_does_not_pin_comes_from_crates_io() {
    let f = fixture(Some(&format!("{TARGET} {} {URL}", "a".repeat(64))));
    let out = run(&f, "Linux", "X64", &[("INPUT_VERSION", "v1.2.3")]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let cargo = fs::read_to_string(f.p("cargo.log")).unwrap();
    assert!(cargo.trim().ends_with("--version 1.2.3 asc-publish"), "{cargo}");
    assert!(!f.p("curl.log").exists());
}

#[test]
fn without_a_source_tree_the_fallback_installs_from_crates_io() {
    let f = fixture(None);
    fs::remove_file(f.p("action/Cargo.toml")).unwrap();
    assert!(run(&f, "Linux", "X64", &[]).status.success());
    let cargo = fs::read_to_string(f.p("cargo.log")).unwrap();
    assert!(
        cargo.trim().ends_with(
            "--root {} asc-publish"
                .replace("{}", &f.p("runner-temp/asc-publish").display().to_string())
                .as_str()
        ),
        "{cargo}"
    );
}

#[test]
fn no_cargo_and_no_binary_is_a_clear_error() {
    let f = fixture(None);
    fs::remove_file(f.p("shims/cargo")).unwrap();
    // Hide any real cargo: PATH holds only the shims and system dirs without cargo.
    let out = run(&f, "Plan9", "mips", &[]);
    if Path::new("/usr/bin/cargo").exists() || Path::new("/bin/cargo").exists() {
        return;
    }
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("cargo is not installed"),
        "{}",
        text(&out.stdout)
    );
}
