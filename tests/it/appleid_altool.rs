//! `upload --apple-id` with the altool backend, driven through a fake `xcrun` (a shell script this
//! test writes) that records its arguments and the NAMES of its environment variables and prints a
//! canned altool JSON document: the password is never an argument, the JSON becomes the outcome,
//! a duplicate build number exits 4, and `auto` picks altool when `xcrun altool` exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use asc_publish::sample::app::SampleApp;
use asc_sim::{SimConfig, Simulator};

const EMAIL: &str = "dev@example.com";
const PASSWORD: &str = "lkjh-gfds-mnbv-cxza";

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    /// An `xcrun` that answers `--find altool` and otherwise plays altool with `fixture`.
    fn new(fixture: &str, exit: i32) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let out = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/altool")
            .join(fixture);
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = \"--find\" ]; then echo /Applications/Xcode.app/Contents/Developer/usr/bin/altool; exit 0; fi\n\
             : > '{d}/args.txt'\n\
             for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{d}/args.txt'; done\n\
             env | cut -d= -f1 > '{d}/env-names.txt'\n\
             if [ -n \"$ASC_APP_SPECIFIC_PASSWORD\" ]; then echo set > '{d}/password-set.txt'; fi\n\
             echo 'altool: some log line before the JSON'\n\
             cat '{}'\n\
             exit {exit}\n",
            out.display()
        );
        let path = dir.path().join("xcrun");
        std::fs::write(&path, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Fake { dir }
    }

    fn path_var(&self) -> String {
        format!("{}:/usr/bin:/bin", self.dir.path().display())
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    fn args(&self) -> Vec<String> {
        self.read("args.txt").lines().map(str::to_string).collect()
    }
}

fn sample(dir: &Path) -> (PathBuf, PathBuf) {
    let ipa = dir.join("Demo-1.ipa");
    let app = SampleApp {
        with_extension: false,
        ..SampleApp::default()
    };
    let built = app.write_to(&ipa).unwrap();
    let root = dir.join("root.pem");
    std::fs::write(&root, built.root_pem()).unwrap();
    (ipa, root)
}

fn run(path: &str, ipa: &Path, root: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asc-publish"))
        .arg("upload")
        .arg(ipa)
        .args(["--apple-id", EMAIL, "--extra-root-ca"])
        .arg(root)
        .args(extra)
        .env_clear()
        .env("PATH", path)
        .env("ASC_APP_SPECIFIC_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pair(args: &[String], flag: &str) -> Option<String> {
    args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone())
}

#[test]
fn a_successful_altool_run_becomes_the_outcome_and_never_sees_the_password_as_an_argument() {
    let fake = Fake::new("upload_success.json", 0);
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path());
    let (code, stdout, stderr) = run(
        &fake.path_var(),
        &ipa,
        &root,
        &[
            "--apple-id-backend",
            "altool",
            "--app-id",
            "6450000001",
            "--format",
            "json",
            "-vv",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["status"], "uploaded");
    assert_eq!(doc["upload_id"], "0f4e0b1c-7d2a-4b0e-9c51-2f0d8a3b6e11");
    assert_eq!(doc["app_id"], "6450000001");
    assert!(
        doc["apple_messages"][0]["description"]
            .as_str()
            .unwrap()
            .contains("No errors uploading")
    );

    let args = fake.args();
    assert_eq!(args.first().map(String::as_str), Some("altool"));
    assert_eq!(pair(&args, "--upload-package").as_deref(), ipa.to_str());
    assert_eq!(pair(&args, "--type").as_deref(), Some("ios"));
    assert_eq!(pair(&args, "--apple-id").as_deref(), Some("6450000001"));
    assert_eq!(pair(&args, "--bundle-id").as_deref(), Some("com.example.demo"));
    assert_eq!(pair(&args, "--bundle-version").as_deref(), Some("1"));
    assert_eq!(pair(&args, "--bundle-short-version-string").as_deref(), Some("1.0.0"));
    assert_eq!(pair(&args, "-u").as_deref(), Some(EMAIL));
    assert_eq!(pair(&args, "-p").as_deref(), Some("@env:ASC_APP_SPECIFIC_PASSWORD"));
    assert_eq!(pair(&args, "--output-format").as_deref(), Some("json"));
    assert!(!fake.read("args.txt").contains(PASSWORD), "password in argv");
    assert!(
        fake.read("env-names.txt")
            .lines()
            .any(|l| l == "ASC_APP_SPECIFIC_PASSWORD")
    );
    assert_eq!(
        fake.read("password-set.txt").trim(),
        "set",
        "altool can read the password"
    );
}

#[test]
fn altools_duplicate_error_exits_4_with_the_next_free_number() {
    let fake = Fake::new("upload_duplicate.json", 1);
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path());
    let (code, stdout, stderr) = run(
        &fake.path_var(),
        &ipa,
        &root,
        &[
            "--apple-id-backend",
            "altool",
            "--app-id",
            "6450000001",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("next free one is 8"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["error"]["kind"], "conflict");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn altools_sign_in_error_exits_3() {
    let fake = Fake::new("upload_bad_password.json", 1);
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path());
    let (code, _, stderr) = run(
        &fake.path_var(),
        &ipa,
        &root,
        &["--apple-id-backend", "altool", "--app-id", "6450000001"],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("app-specific password"), "{stderr}");
}

#[test]
fn auto_picks_altool_when_xcrun_altool_exists() {
    let fake = Fake::new("upload_success.json", 0);
    let dir = tempfile::tempdir().unwrap();
    let (ipa, root) = sample(dir.path());
    let (code, _, stderr) = run(&fake.path_var(), &ipa, &root, &["--app-id", "6450000001"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!fake.args().is_empty(), "the fake altool ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_app_id_altool_gets_the_apps_apple_id_from_the_lookup() {
    let sim = Simulator::start(SimConfig {
        apple_ids: vec![(EMAIL.into(), PASSWORD.into())],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let url = sim.api_url.clone();
    let (code, stderr, args) = tokio::task::spawn_blocking(move || {
        let fake = Fake::new("upload_success.json", 0);
        let dir = tempfile::tempdir().unwrap();
        let (ipa, root) = sample(dir.path());
        let (code, _, stderr) = run(
            &fake.path_var(),
            &ipa,
            &root,
            &["--apple-id-backend", "altool", "--content-delivery-url", &url],
        );
        (code, stderr, fake.args())
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(pair(&args, "--apple-id").as_deref(), Some(asc_sim::DEFAULT_APP_ID));
    assert!(sim.requests().iter().all(|r| !r.path.starts_with("/storage/")));
    sim.shutdown().await;
}
