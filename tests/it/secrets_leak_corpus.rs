//! A corpus of broken private keys fed to the real binary (`upload`, `preflight`, `builds`,
//! `distribute`, text and JSON output) against the simulator on loopback: each is refused with exit
//! 3 and a description in words, and no 16-character run of the key's body, nor any line of it,
//! appears on stdout, stderr or in any file the run writes (GitHub outputs, job summary,
//! `--output-json`). `::add-mask::` lines are the one place a secret may be written: the runner
//! consumes them and never shows them.

use std::path::{Path, PathBuf};
use std::process::Command;

use asc_publish::sample::app::SampleApp;
use asc_sim::{SimConfig, Simulator};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
};
use base64::Engine as _;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One broken key: how it is given, and what must never be printed.
struct Case {
    name: &'static str,
    /// Environment variable (or `--private-key` when it starts with `--`) and its value.
    var: &'static str,
    value: String,
    /// The secret text: its 16-character runs and its lines must not be printed.
    secret: String,
    /// A phrase the explanation must contain (`None`: a tolerated form, refused by the server).
    expect: Option<&'static str>,
}

/// The base64 body of a PEM, without armour or line breaks.
fn body_of(pem: &str) -> String {
    pem.lines().filter(|l| !l.contains("-----")).map(str::trim).collect()
}

fn corpus(dir: &Path) -> Vec<Case> {
    let rng = SystemRandom::new();
    let p256 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("p256");
    let good = pem("PRIVATE KEY", p256.as_ref());
    let body = body_of(&good);
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, p256.as_ref()).expect("pair");
    let sec1_der = pair.private_key().as_der().expect("sec1");
    let sec1 = pem("EC PRIVATE KEY", sec1_der.as_ref());
    let mut sec1_damaged = sec1_der.as_ref().to_vec();
    // The version INTEGER (1) of ECPrivateKey, made 7: parsable as DER, refused as a key.
    if let Some(v) = sec1_damaged.windows(3).position(|w| w == [0x02, 0x01, 0x01]) {
        sec1_damaged[v + 2] = 7;
    }
    let sec1_damaged = pem("EC PRIVATE KEY", &sec1_damaged);
    let p384 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).expect("p384");
    let p384 = pem("PRIVATE KEY", p384.as_ref());
    let ed = Ed25519KeyPair::generate_pkcs8(&rng).expect("ed25519");
    let ed = pem("PRIVATE KEY", ed.as_ref());
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("rsa");
    let rsa = pem("PRIVATE KEY", rsa.as_der().expect("rsa der").as_ref());
    let garbage: Vec<u8> = (0..180u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();

    let lines: Vec<&str> = good.lines().collect();
    let with_lines = |f: &dyn Fn(&mut Vec<String>)| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        f(&mut l);
        l.join("\n") + "\n"
    };
    let first = lines.first().copied().unwrap_or_default().to_string();
    let last_i = lines.len() - 1;

    let key_dir = dir.join("keys-dir");
    std::fs::create_dir_all(&key_dir).expect("dir");
    std::fs::write(key_dir.join("AuthKey_ABCDEFGHIJ.p8"), &good).expect("key in dir");
    let empty = dir.join("empty.p8");
    std::fs::write(&empty, "").expect("empty");
    let malformed_file = dir.join("malformed.p8");
    std::fs::write(&malformed_file, good.replacen("KEY-----", "KEY----", 1)).expect("file");

    let s = |v: &str| v.to_string();
    let mut cases = vec![
        Case {
            name: "BEGIN line one dash short at the end (the reported leak)",
            var: "ASC_PRIVATE_KEY",
            value: good.replacen("KEY-----", "KEY----", 1),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "BEGIN line one dash short at the start",
            var: "ASC_PRIVATE_KEY",
            value: good.replacen("-----BEGIN", "----BEGIN", 1),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "BEGIN line without dashes",
            var: "ASC_PRIVATE_KEY",
            value: with_lines(&|l| l[0] = s("BEGIN PRIVATE KEY")),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "BEGIN line with a space before the dashes",
            var: "--private-key",
            value: with_lines(&|l| l[0] = s("-----BEGIN PRIVATE KEY -----")),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "END line one dash short",
            var: "ASC_PRIVATE_KEY",
            value: with_lines(&|l| l[last_i] = s("-----END PRIVATE KEY----")),
            secret: body.clone(),
            expect: Some("END line is malformed"),
        },
        Case {
            name: "END label does not match",
            var: "ASC_PRIVATE_KEY",
            value: with_lines(&|l| l[last_i] = s("-----END EC PRIVATE KEY-----")),
            secret: body.clone(),
            expect: Some("END line is malformed"),
        },
        Case {
            name: "no END line",
            var: "ASC_PRIVATE_KEY",
            value: with_lines(&|l| {
                l.pop();
            }),
            secret: body.clone(),
            expect: Some("-----END line"),
        },
        Case {
            name: "truncated body",
            var: "ASC_PRIVATE_KEY",
            value: format!("{first}\n{}\n-----END PRIVATE KEY-----\n", lines[1]),
            secret: body.clone(),
            expect: Some("truncated"),
        },
        Case {
            name: "a character that is not base64 in the body",
            var: "ASC_PRIVATE_KEY",
            value: with_lines(&|l| l[2].insert(10, '!')),
            secret: body.clone(),
            expect: Some("not base64"),
        },
        Case {
            name: "a line missing from the body",
            var: "APP_STORE_CONNECT_PRIVATE_KEY",
            value: with_lines(&|l| {
                l.remove(2);
            }),
            secret: body.clone(),
            expect: Some("truncated"),
        },
        Case {
            name: "wrong label",
            var: "ASC_PRIVATE_KEY",
            value: good.replace("PRIVATE KEY", "PRIVATE KEYS"),
            secret: body.clone(),
            expect: Some("another kind"),
        },
        Case {
            name: "labelled as a certificate",
            var: "ASC_PRIVATE_KEY",
            value: good.replace("PRIVATE KEY", "CERTIFICATE"),
            secret: body.clone(),
            expect: Some("certificate"),
        },
        Case {
            name: "an RSA key",
            var: "ASC_PRIVATE_KEY",
            value: rsa.clone(),
            secret: body_of(&rsa),
            expect: Some("RSA key"),
        },
        Case {
            name: "an RSA PKCS#1 block",
            var: "ASC_PRIVATE_KEY",
            value: rsa.replace("PRIVATE KEY", "RSA PRIVATE KEY"),
            secret: body_of(&rsa),
            expect: Some("RSA key"),
        },
        Case {
            name: "a P-384 key",
            var: "ASC_PRIVATE_KEY",
            value: p384.clone(),
            secret: body_of(&p384),
            expect: Some("not a P-256"),
        },
        Case {
            name: "an Ed25519 key",
            var: "ASC_PRIVATE_KEY",
            value: ed.clone(),
            secret: body_of(&ed),
            expect: Some("Ed25519"),
        },
        Case {
            name: "a damaged SEC1 EC key",
            var: "ASC_PRIVATE_KEY",
            value: sec1_damaged.clone(),
            secret: body_of(&sec1_damaged),
            expect: Some("openssl pkcs8"),
        },
        Case {
            name: "base64 of garbage",
            var: "ASC_PRIVATE_KEY_B64",
            value: b64(&garbage),
            secret: b64(&garbage),
            expect: Some("not a P-256"),
        },
        Case {
            name: "base64 of a PEM with a malformed BEGIN line",
            var: "ASC_PRIVATE_KEY_B64",
            value: b64(good.replacen("KEY-----", "KEY----", 1).as_bytes()),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "literal \\n with a malformed BEGIN line",
            var: "APP_STORE_CONNECT_API_KEY_KEY",
            value: good.replacen("KEY-----", "KEY----", 1).replace('\n', "\\n"),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "a file with a malformed BEGIN line",
            var: "ASC_PRIVATE_KEY_PATH",
            value: malformed_file.display().to_string(),
            secret: body.clone(),
            expect: Some("BEGIN line is malformed"),
        },
        Case {
            name: "a path to a directory",
            var: "ASC_PRIVATE_KEY",
            value: key_dir.display().to_string(),
            secret: body.clone(),
            expect: Some("is a directory"),
        },
        Case {
            name: "an empty file",
            var: "ASC_PRIVATE_KEY_PATH",
            value: empty.display().to_string(),
            secret: String::new(),
            expect: Some("empty"),
        },
        Case {
            name: "the key ID pasted in place of the key",
            var: "ASC_PRIVATE_KEY",
            value: "ZX9R4HXF34".into(),
            secret: "ZX9R4HXF34".into(),
            expect: Some("key ID"),
        },
        Case {
            name: "the issuer ID pasted in place of the key",
            var: "--private-key",
            value: "69a6de7f-03f1-47e3-e053-5b8c7c11a4d1".into(),
            secret: "69a6de7f-03f1-47e3-e053-5b8c7c11a4d1".into(),
            expect: Some("issuer ID"),
        },
        Case {
            name: "an encrypted key",
            var: "ASC_PRIVATE_KEY",
            value: good.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
            secret: body.clone(),
            expect: Some("encrypted"),
        },
        // Tolerated forms: read correctly, then refused by the server (the key is unknown to it).
        Case {
            name: "CRLF line endings",
            var: "ASC_PRIVATE_KEY",
            value: good.replace('\n', "\r\n"),
            secret: body.clone(),
            expect: None,
        },
        Case {
            name: "one line with spaces",
            var: "ASC_PRIVATE_KEY",
            value: good.trim().replace('\n', " "),
            secret: body.clone(),
            expect: None,
        },
        Case {
            name: "indented lines and trailing spaces",
            var: "--private-key",
            value: good.lines().map(|l| format!("    {l}  \n")).collect(),
            secret: body.clone(),
            expect: None,
        },
        Case {
            name: "a SEC1 EC key",
            var: "ASC_PRIVATE_KEY",
            value: sec1.clone(),
            secret: body_of(&sec1),
            expect: None,
        },
    ];
    cases.retain(|c| !c.value.is_empty());
    cases
}

/// Everything a secret must not leave behind: 16-character runs and whole lines (of 8+ chars).
fn leaks(secret: &str, text: &str) -> Vec<String> {
    let compact: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    let chars: Vec<char> = compact.chars().collect();
    let mut found = Vec::new();
    for w in chars.windows(16) {
        let run: String = w.iter().collect();
        if text.contains(&run) {
            found.push(run);
        }
    }
    for line in secret
        .lines()
        .map(str::trim)
        .filter(|l| l.len() >= 8 && !l.contains("-----"))
    {
        if text.contains(line) {
            found.push(line.to_string());
        }
    }
    found
}

struct Out {
    code: i32,
    text: String,
    stderr: String,
}

fn run(args: &[String], case: &Case, files: &Path, github: bool) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_asc-publish"));
    cmd.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        cmd.env("PATH", p);
    }
    cmd.env("ASC_KEY_ID", "ZX9R4HXF34")
        .env("ASC_ISSUER_ID", "69a6de7f-03f1-47e3-e053-5b8c7c11a4d1");
    let mut args = args.to_vec();
    if case.var.starts_with("--") {
        args.extend([case.var.to_string(), case.value.clone()]);
    } else {
        cmd.env(case.var, &case.value);
    }
    let outputs = files.join("github_output");
    let summary = files.join("summary.md");
    if github {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_REPOSITORY", "octo/app")
            .env("GITHUB_RUN_ID", "1");
    }
    let out = cmd.args(&args).output().expect("run asc-publish");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The runner consumes `::add-mask::` commands; they are the one place the secret must be.
    let shown: String = stderr
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut text = format!("{stdout}\n{shown}\n");
    for f in std::fs::read_dir(files).into_iter().flatten().flatten() {
        if f.path().is_file() {
            text.push_str(&std::fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    Out {
        code: out.status.code().unwrap_or(-1),
        text,
        stderr,
    }
}

fn commands(api_url: &str, ipa: &Path, root: &Path, out_json: &Path, format: &str) -> Vec<Vec<String>> {
    let common = |mut v: Vec<String>| {
        v.extend(["--format".into(), format.into(), "--api-url".into(), api_url.into()]);
        v
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let ipa = ipa.display().to_string();
    let root = root.display().to_string();
    let out_json = out_json.display().to_string();
    vec![
        common(s(&[
            "upload",
            &ipa,
            "--extra-root-ca",
            &root,
            "--output-json",
            &out_json,
            "-vv",
        ])),
        common(s(&["preflight", &ipa, "--extra-root-ca", &root, "--groups", "QA"])),
        common(s(&["builds", "list", "--bundle-id", "com.example.app", "-v"])),
        common(s(&[
            "distribute",
            "--build-id",
            "b1",
            "--groups",
            "QA",
            "--output-json",
            &out_json,
        ])),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_broken_key_is_ever_printed_by_any_command_in_any_format() {
    let sim = Simulator::start(SimConfig::default()).await.expect("simulator");
    let dir = tempfile::tempdir().expect("tmp");
    let ipa = dir.path().join("App.ipa");
    let built = SampleApp::default().write_to(&ipa).expect("sample IPA");
    let root = dir.path().join("root.pem");
    std::fs::write(&root, built.root_pem()).expect("root");
    let cases = corpus(dir.path());
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let api_url = sim.api_url.clone();

    let dir_path: PathBuf = dir.path().to_path_buf();
    let failures = tokio::task::spawn_blocking(move || {
        let mut failures = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            for (format, github) in [("text", false), ("json", true)] {
                let files = dir_path.join(format!("run-{i}-{format}"));
                std::fs::create_dir_all(&files).expect("files dir");
                let out_json = files.join("outcome.json");
                for args in commands(&api_url, &ipa, &root, &out_json, format) {
                    let out = run(&args, case, &files, github);
                    let what = format!("{} | {} --format {format}", case.name, args[0]);
                    if out.code != 3 {
                        failures.push(format!("{what}: exit {} (want 3)\n{}", out.code, out.stderr));
                    }
                    if let Some(phrase) = case.expect {
                        if !out.stderr.contains(phrase) {
                            failures.push(format!("{what}: no \"{phrase}\" in\n{}", out.stderr));
                        }
                    }
                    let found = leaks(&case.secret, &out.text);
                    if !found.is_empty() {
                        failures.push(format!("{what}: key material printed: {found:?}\n{}", out.text));
                    }
                    if format == "json" && !out.text.trim_start().starts_with('{') {
                        failures.push(format!("{what}: stdout is not a JSON document"));
                    }
                }
            }
        }
        failures
    })
    .await
    .expect("join");
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
