//! Issue 10 on the altool backend: altool reads and delivers the IPA itself, so asc-publish cannot
//! check the bytes it sends; it checks the file's identity before altool starts and after it ends.
//! A fake `xcrun` (a shell script, as in tests/appleid_altool.rs) changes the IPA while it "uploads"
//! and then reports success: the run must exit 2 and say the file changed, not report an upload.

use std::path::Path;
use std::process::Command;

use asc_publish::sample::app::SampleApp;

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "poiu-ytre-wqlk-jhgf";

/// An `xcrun` that answers `--find altool`, runs `change` on the package path (`$3`, after
/// `altool --upload-package`), and prints altool's recorded success document.
fn fake_xcrun(dir: &Path, change: &str) -> String {
    let success = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/altool/upload_success.json");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = \"--find\" ]; then echo /Applications/Xcode.app/Contents/Developer/usr/bin/altool; exit 0; fi\n\
         {change}\n\
         cat '{}'\n",
        success.display()
    );
    let path = dir.join("xcrun");
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:/usr/bin:/bin", dir.display())
}

fn upload_with(change: &str) -> (i32, serde_json::Value, String) {
    let bin = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ipa = dir.path().join("Demo.ipa");
    let built = SampleApp {
        with_extension: false,
        ..SampleApp::default()
    }
    .write_to(&ipa)
    .unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, built.root_pem()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .arg("upload")
        .arg(&ipa)
        .args(["--apple-id", EMAIL, "--extra-root-ca"])
        .arg(&root)
        .args([
            "--apple-id-backend",
            "altool",
            "--app-id",
            "6450000001",
            "--format",
            "json",
        ])
        .env_clear()
        .env("PATH", fake_xcrun(bin.path(), change))
        .env("ASC_APP_SPECIFIC_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON outcome ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), doc, stderr)
}

#[test]
fn an_ipa_that_changes_while_altool_uploads_it_exits_2() {
    for (what, change) in [
        ("appended", "printf 'appended' >> \"$3\""),
        ("deleted", "rm \"$3\""),
        ("replaced", "cp \"$3\" \"$3.new\" && mv \"$3.new\" \"$3\""),
        // Same size, new bytes.
        (
            "rewritten",
            "printf 'XXXXXXXX' | dd of=\"$3\" bs=1 seek=4096 conv=notrunc 2>/dev/null",
        ),
    ] {
        let (code, doc, stderr) = upload_with(change);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains("changed while altool was uploading it"),
            "{what}: {stderr}"
        );
        assert_eq!(doc["status"], "failed", "{what}: {doc}");
        assert_eq!(doc["exit_code"], 2, "{what}: {doc}");
        assert!(
            doc["error"]["message"].as_str().unwrap_or("").contains("Demo.ipa"),
            "{what}: {doc}"
        );
    }
}

#[test]
fn an_ipa_left_alone_is_uploaded() {
    let (code, doc, stderr) = upload_with(":");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(doc["status"], "uploaded", "{doc}");
}
