//! The altool backend: drives `xcrun altool --upload-package` with the password passed as an
//! environment reference (`-p @env:VAR`, never on the command line) and turns its JSON output
//! (`success-message`/`details`, or `product-errors` with iris codes) into the outcome and typed
//! errors of the API-key path.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use url::Url;

use crate::appleid::credentials::AppleIdCredentials;
use crate::appleid::{AppleIdError, UploadSettings};
use crate::asc::credentials::Env;
use crate::asc::error::sanitize;
use crate::error::Error;
use crate::outcome::{Message, Status, UploadMode};
use crate::publish::UploadRequest;
use crate::publish::Uploaded;
use crate::publish::error::PublishError;
use crate::publish::events::{Event, Events};
use crate::publish::preflight::next_build_number;

/// Largest altool output read.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// An executable named `xcrun` on `env`'s PATH.
pub fn find_xcrun(env: &Env) -> Option<PathBuf> {
    let path = env.get("PATH")?;
    std::env::split_paths(path)
        .map(|d| d.join("xcrun"))
        .find(|p| p.is_file())
}

/// Whether `xcrun altool` exists (Xcode installed): `xcrun --find altool` succeeds.
pub fn available(env: &Env) -> bool {
    let Some(xcrun) = find_xcrun(env) else {
        return false;
    };
    std::process::Command::new(xcrun)
        .args(["--find", "altool"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// altool's `--type` for our platform names.
fn altool_type(platform: &str) -> &'static str {
    match platform {
        "MAC_OS" => "macos",
        "TV_OS" => "appletvos",
        "VISION_OS" => "visionos",
        _ => "ios",
    }
}

/// The argument list (after `xcrun`). The password is only ever `@env:NAME`.
pub fn arguments(ipa: &Path, app_apple_id: &str, req: &UploadRequest, creds: &AppleIdCredentials) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "altool".into(),
        "--upload-package".into(),
        ipa.display().to_string(),
        "--type".into(),
        altool_type(&req.platform).into(),
        "--apple-id".into(),
        app_apple_id.into(),
        "--bundle-id".into(),
        req.bundle_id.clone(),
        "--bundle-version".into(),
        req.version.clone(),
        "--bundle-short-version-string".into(),
        req.short_version.clone(),
        "-u".into(),
        creds.apple_id.clone(),
        "-p".into(),
        format!("@env:{}", creds.password_var),
    ];
    if let Some(p) = &creds.provider_public_id {
        a.push("--provider-public-id".into());
        a.push(p.clone());
    }
    a.push("--output-format".into());
    a.push("json".into());
    a
}

/// What altool reported.
#[derive(Debug, Clone, PartialEq)]
pub enum AltoolResult {
    Success {
        message: String,
        delivery_uuid: Option<String>,
        transferred: Option<String>,
    },
    Failure(Vec<ProductError>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductError {
    pub code: Option<i64>,
    pub message: String,
    pub reason: Option<String>,
    pub iris_code: Option<String>,
    pub previous_bundle_version: Option<String>,
}

/// Parses altool's JSON, skipping any text it printed before the document.
pub fn parse_output(stdout: &str) -> Option<AltoolResult> {
    let start = stdout.find('{')?;
    let doc: Value = serde_json::Deserializer::from_str(stdout.get(start..)?)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let errors = doc.get("product-errors").and_then(Value::as_array);
    if let Some(errors) = errors.filter(|e| !e.is_empty()) {
        return Some(AltoolResult::Failure(errors.iter().map(product_error).collect()));
    }
    let message = doc.get("success-message").and_then(Value::as_str)?;
    let detail = |k: &str| {
        doc.pointer(&format!("/details/{k}"))
            .and_then(Value::as_str)
            .map(sanitize)
    };
    Some(AltoolResult::Success {
        message: sanitize(message),
        delivery_uuid: detail("delivery-uuid"),
        transferred: detail("transferred"),
    })
}

fn product_error(e: &Value) -> ProductError {
    let info = e.get("user-info").or_else(|| e.get("userInfo"));
    let s = |k: &str| info.and_then(|i| i.get(k)).and_then(Value::as_str).map(sanitize);
    ProductError {
        code: e.get("code").and_then(Value::as_i64),
        message: e
            .get("message")
            .and_then(Value::as_str)
            .map(sanitize)
            .unwrap_or_else(|| "unknown error".into()),
        reason: s("NSLocalizedFailureReason"),
        iris_code: s("iris-code"),
        previous_bundle_version: s("previousBundleVersion"),
    }
}

/// Maps altool's errors to ours: duplicate → 4, sign-in → 3, no app → 4, validation → 1.
pub fn error_for(errors: &[ProductError], req: &UploadRequest, creds: &AppleIdCredentials) -> Error {
    let text = |e: &ProductError| {
        let mut t = e.message.clone();
        if let Some(r) = &e.reason {
            t = format!("{t}: {r}");
        }
        if let Some(c) = e.code {
            t = format!("{t} ({c})");
        }
        crate::appleid::session::redact(&t, creds)
    };
    let all: Vec<String> = errors.iter().map(text).collect();
    let joined = all.join("; ");
    if let Some(dup) = errors.iter().find(|e| {
        e.iris_code
            .as_deref()
            .is_some_and(|c| c.starts_with("ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"))
    }) {
        let highest = dup.previous_bundle_version.clone();
        return PublishError::BuildNumberUsed {
            version: req.short_version.clone(),
            build: req.version.clone(),
            next: highest.as_deref().map(next_build_number),
            highest,
            detail: format!(": {}", text(dup)),
        }
        .into();
    }
    let lower = joined.to_ascii_lowercase();
    let has_code = |codes: &[i64]| errors.iter().any(|e| e.code.is_some_and(|c| codes.contains(&c)));
    if has_code(&[-22938, -20101, -22020])
        || lower.contains("password")
        || lower.contains("not_authorized")
        || lower.contains("authenticat")
    {
        return AppleIdError::SignIn(joined).into();
    }
    if lower.contains("no suitable application records") || has_code(&[-19201]) {
        return AppleIdError::AppNotFound {
            bundle_id: req.bundle_id.clone(),
            detail: joined,
        }
        .into();
    }
    if errors.iter().any(|e| {
        e.iris_code
            .as_deref()
            .is_some_and(|c| c.starts_with("STATE_ERROR.VALIDATION_ERROR"))
    }) || lower.contains("itms-9")
    {
        return PublishError::Rejected(joined).into();
    }
    AppleIdError::Altool(joined).into()
}

/// Runs altool through `xcrun` ([`find_xcrun`]) and fills `up`. The app's Apple ID comes from
/// `--app-id`, or a sign-in and `lookupSoftwareForBundleId` on the content-delivery service.
pub async fn upload(
    args: &UploadSettings,
    creds: &AppleIdCredentials,
    req: &UploadRequest,
    base: &Url,
    xcrun: Option<&Path>,
    events: &Events,
    up: &mut Uploaded,
) -> Result<(), Error> {
    // altool reads and delivers the file itself, so nothing can check what it sends; the file's
    // identity is recorded now and checked before altool starts and after it ends (issue 10).
    let identity = req.identity()?;
    let app_id = match &args.app_id {
        Some(id) => id.clone(),
        None => {
            let http =
                crate::asc::client::build_http(Some(std::time::Duration::from_secs(120)), args.tls_root_ca.as_deref())?;
            let log = if args.verbose > 0 {
                events.clone()
            } else {
                Events::none()
            };
            let session = crate::appleid::session::Session::sign_in(&http, base, creds, log).await?;
            session.lookup(&req.bundle_id, creds).await?.apple_id
        }
    };
    up.app_id = Some(app_id.clone());
    up.app_store_connect_url = Some(crate::outcome::testflight_url(&app_id, Some(&req.platform)));
    let xcrun = xcrun
        .ok_or_else(|| AppleIdError::NoAltool("no xcrun on PATH".into()))?
        .to_path_buf();
    let argv = arguments(&req.ipa_path, &app_id, req, creds);
    if args.verbose > 0 {
        events.send(Event::Detail(format!(
            "  running xcrun {}",
            argv.iter().map(|a| sanitize(a)).collect::<Vec<_>>().join(" ")
        )));
    }
    identity.check(&req.ipa_path)?;
    events.step(format!(
        "uploading {} with altool",
        crate::publish::progress::mib(req.file_size)
    ));
    let t = std::time::SystemTime::now();
    let (var, password) = (creds.password_var.clone(), creds.password.clone());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(xcrun)
            .args(&argv)
            // The child reads the password from its environment; it is never an argument.
            .env(var, password.expose())
            .stdin(Stdio::null())
            .output()
    })
    .await
    .map_err(|e| AppleIdError::NoAltool(e.to_string()))?
    .map_err(|e| AppleIdError::NoAltool(e.to_string()))?;
    up.time("upload", t.elapsed().unwrap_or_default());
    let stdout = String::from_utf8_lossy(
        output
            .stdout
            .get(..MAX_OUTPUT.min(output.stdout.len()))
            .unwrap_or_default(),
    );
    if args.verbose > 1 {
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr.lines().take(200) {
            events.send(Event::Detail(format!(
                "  altool: {}",
                crate::appleid::session::redact(line, creds)
            )));
        }
    }
    let result = parse_output(&stdout);
    let changed = match identity.check(&req.ipa_path) {
        Ok(()) => None,
        Err(PublishError::FileChanged { path, detail }) => Some((path, detail)),
        // Gone or unreadable: not the file that was inspected either.
        Err(e) => Some((req.ipa_path.display().to_string(), e.to_string())),
    };
    if let Some((path, detail)) = changed {
        let delivered = matches!(result, Some(AltoolResult::Success { .. }));
        if let Some(AltoolResult::Success { delivery_uuid, .. }) = &result {
            up.upload_id = delivery_uuid.clone();
        }
        return Err(Error::new(
            crate::ErrorKind::Usage,
            format!(
                "{path} changed while altool was uploading it ({detail}); {}",
                if delivered {
                    "altool reported the delivery as complete, so App Store Connect may process a file \
                     other than the one inspected"
                } else {
                    "altool did not complete the delivery"
                }
            ),
        )
        .with_hint(
            "make sure no other step writes, replaces or touches the IPA while it is uploaded; if altool \
             delivered it, do not distribute that build: upload again with a new build number",
        ));
    }
    match result {
        Some(AltoolResult::Success {
            message,
            delivery_uuid,
            transferred,
        }) => {
            up.upload_mode = Some(UploadMode::New);
            up.upload_id = delivery_uuid;
            up.bytes_sent = Some(req.file_size);
            up.apple_messages.push(Message {
                level: "info".into(),
                code: None,
                description: match transferred {
                    Some(t) => format!("{message} ({t})"),
                    None => message,
                },
            });
            up.status = Some(Status::Uploaded);
            if args.wait {
                up.warnings.push(
                    "altool does not report Apple's processing verdict; check App Store Connect \
                     (or use --apple-id-backend native, which waits for it)"
                        .into(),
                );
            }
            events.step("upload accepted by altool");
            Ok(())
        }
        Some(AltoolResult::Failure(errors)) => {
            let e = error_for(&errors, req, creds);
            if e.kind() == crate::ErrorKind::Rejected {
                up.status = Some(Status::Rejected);
            }
            Err(e)
        }
        None => Err(AppleIdError::Altool(format!(
            "exit status {} without a JSON result",
            output.status.code().map_or("unknown".into(), |c| c.to_string())
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::credentials::Secret;

    fn creds() -> AppleIdCredentials {
        AppleIdCredentials {
            apple_id: "dev@example.com".into(),
            password: Secret::new("abcd-efgh-ijkl-mnop".into()),
            password_var: "ASC_APP_SPECIFIC_PASSWORD".into(),
            provider_public_id: Some("prov-1".into()),
        }
    }

    fn req() -> UploadRequest {
        UploadRequest {
            ipa_path: "/tmp/App.ipa".into(),
            file_name: "App.ipa".into(),
            file_size: 10,
            bundle_id: "com.example.demo".into(),
            short_version: "1.0".into(),
            version: "7".into(),
            platform: "IOS".into(),
            uses_non_exempt_encryption: None,
        }
    }

    #[test]
    fn the_password_is_an_environment_reference() {
        let a = arguments(Path::new("/tmp/App.ipa"), "6450000001", &req(), &creds());
        assert!(
            a.windows(2)
                .any(|w| w[0] == "-p" && w[1] == "@env:ASC_APP_SPECIFIC_PASSWORD")
        );
        assert!(!a.iter().any(|x| x.contains("abcd-efgh")));
        assert!(a.windows(2).any(|w| w[0] == "--provider-public-id" && w[1] == "prov-1"));
    }

    #[cfg(unix)]
    #[test]
    fn altool_is_looked_for_on_the_injected_path_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let xcrun = dir.path().join("xcrun");
        std::fs::write(&xcrun, "#!/bin/sh\nexit 0\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&xcrun, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let env = Env::from_pairs([("PATH", path.as_str())]);
        assert!(available(&env));
        assert_eq!(
            crate::appleid::BackendChoice::Auto.resolve(&env),
            crate::appleid::Backend::Altool
        );
        // Whatever the process's own PATH holds, an environment without one has no altool.
        assert!(!available(&Env::default()));
        assert_eq!(
            crate::appleid::BackendChoice::Auto.resolve(&Env::default()),
            crate::appleid::Backend::Native
        );
    }

    #[test]
    fn output_after_log_lines_is_parsed() {
        let out = "2026-01-01 log line\n{\"success-message\":\"No errors uploading 'App.ipa'\",\"details\":{\"delivery-uuid\":\"u-1\"}}";
        match parse_output(out).unwrap() {
            AltoolResult::Success { delivery_uuid, .. } => assert_eq!(delivery_uuid.as_deref(), Some("u-1")),
            other => panic!("{other:?}"),
        }
        assert!(parse_output("no json").is_none());
    }

    #[test]
    fn a_wrong_password_is_an_auth_error_without_the_password() {
        let e = error_for(
            &[ProductError {
                code: Some(-22938),
                message: "Sign in with the app-specific password you generated abcd-efgh-ijkl-mnop".into(),
                reason: None,
                iris_code: None,
                previous_bundle_version: None,
            }],
            &req(),
            &creds(),
        );
        assert_eq!(e.exit_code(), 3);
        assert!(!e.message().contains("abcd-efgh"));
    }
}
