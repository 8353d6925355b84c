//! plugins/bitrise/step.sh end to end with shims: it installs through dist/install.sh (here the
//! cargo fallback, shimmed), maps the step inputs to flags and key variables, and runs the binary.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn write_exe(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn step_installs_maps_inputs_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir_all(repo.join("dist")).unwrap();
    fs::create_dir_all(repo.join("plugins/bitrise")).unwrap();
    fs::create_dir_all(dir.path().join("shims")).unwrap();
    fs::copy(root.join("dist/install.sh"), repo.join("dist/install.sh")).unwrap();
    fs::write(repo.join("dist/manifest.txt"), "# no prebuilt binaries\n").unwrap();
    fs::write(repo.join("Cargo.toml"), "[package]\n").unwrap();
    fs::copy(
        root.join("plugins/bitrise/step.sh"),
        repo.join("plugins/bitrise/step.sh"),
    )
    .unwrap();

    // The cargo shim "builds" an asc-publish that records its arguments and key environment.
    let record = dir.path().join("record");
    write_exe(
        &dir.path().join("shims/cargo"),
        &format!(
            "#!/bin/sh\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"\n\
             cat > \"$root/bin/asc-publish\" <<'EOS'\n#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{rec}'\n\
             echo \"KEY_PATH=$ASC_PRIVATE_KEY_PATH KEY_ID=$ASC_KEY_ID DEPLOY=$BITRISE_DEPLOY_DIR\" >> '{rec}'\nEOS\n\
             chmod +x \"$root/bin/asc-publish\"\n",
            rec = record.display()
        ),
    );
    let out = Command::new("bash")
        .arg(repo.join("plugins/bitrise/step.sh"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().join("shims").display()))
        .env("HOME", dir.path())
        .env("ipa_path", "build/App.ipa")
        .env("api_key_id", "KEY1")
        .env("api_key_url", "file:///secrets/AuthKey_KEY1.p8")
        .env("groups", "QA | Beta testers|")
        .env("what_to_test", "New login")
        .env("wait", "no")
        .env("output_dir", "/deploy")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rec = fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = rec.lines().collect();
    assert_eq!(
        lines,
        [
            "upload",
            "build/App.ipa",
            "--format",
            "text",
            "--group",
            "QA",
            "--group",
            "Beta testers",
            "--what-to-test",
            "New login",
            "--no-wait",
            "KEY_PATH=/secrets/AuthKey_KEY1.p8 KEY_ID=KEY1 DEPLOY=/deploy",
        ]
    );
}
