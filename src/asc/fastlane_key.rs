//! Key files users already have, read as if their values had been set in the environment:
//! fastlane's API key JSON file (`APP_STORE_CONNECT_API_KEY_PATH`: `key_id`, `issuer_id`, `key`,
//! `is_key_content_base64`, `in_house`; Bitrise's Apple Service connection has the same shape with
//! `private_key` for `key`) and the `.p8` path fastlane's `app_store_connect_api_key` action takes
//! (`APP_STORE_CONNECT_API_KEY_KEY_FILEPATH`). Values already in the environment win.

use std::path::Path;

use serde::Deserialize;

use crate::asc::credentials::{CredentialError, Env, env_names};

/// fastlane's API key JSON file.
pub const KEY_JSON_PATH: &str = "APP_STORE_CONNECT_API_KEY_PATH";
/// fastlane's path to the `.p8` file.
pub const KEY_FILEPATH: &str = "APP_STORE_CONNECT_API_KEY_KEY_FILEPATH";
/// What [`Env::from_process`] must copy for this module.
pub const ENV_NAMES: &[&str] = &[KEY_JSON_PATH, KEY_FILEPATH];

/// A JSON key file bigger than this is not a key file.
const MAX_JSON: u64 = 64 * 1024;

#[derive(Deserialize)]
struct KeyJson {
    key_id: Option<String>,
    issuer_id: Option<String>,
    key: Option<String>,
    /// Bitrise's Apple Service connection spells `key` so.
    private_key: Option<String>,
    #[serde(default)]
    is_key_content_base64: bool,
    #[serde(default)]
    in_house: bool,
}

fn bad(source: &str, problem: impl Into<String>) -> CredentialError {
    CredentialError::BadValue {
        source_name: source.to_string(),
        problem: problem.into(),
    }
}

/// `env` with the key files' values added under the fastlane variable names where `env` has none
/// of its own; `env` unchanged when neither file variable is set.
pub fn with_key_files(env: &Env) -> Result<Env, CredentialError> {
    let mut out = env.clone();
    let has_key = || env_names::PRIVATE_KEY.iter().any(|n| env.get(n).is_some());
    if let Some(path) = env.get(KEY_JSON_PATH) {
        let k = read_json(Path::new(path.trim()))?;
        if k.in_house {
            return Err(bad(
                KEY_JSON_PATH,
                "the key is an in-house (Enterprise) key; TestFlight uploads need an App Store Connect team or individual key",
            ));
        }
        let key = k.key.or(k.private_key).filter(|s| !s.trim().is_empty());
        let key_id = k.key_id.filter(|s| !s.trim().is_empty());
        let Some(key_id) = key_id else {
            return Err(bad(KEY_JSON_PATH, "the JSON file has no \"key_id\""));
        };
        let Some(key) = key else {
            return Err(bad(KEY_JSON_PATH, "the JSON file has no \"key\" (the .p8 contents)"));
        };
        if !env_names::KEY_ID.iter().any(|n| env.get(n).is_some()) {
            out.set(env_names::FASTLANE_KEY_ID, key_id);
        }
        if let Some(issuer) = k.issuer_id.filter(|s| !s.trim().is_empty()) {
            if !env_names::ISSUER_ID.iter().any(|n| env.get(n).is_some()) {
                out.set(env_names::FASTLANE_ISSUER_ID, issuer);
            }
        }
        if !has_key() {
            out.set(env_names::FASTLANE_KEY, key);
            out.set(
                env_names::FASTLANE_KEY_IS_BASE64,
                if k.is_key_content_base64 { "true" } else { "false" },
            );
        }
    } else if let Some(path) = env.get(KEY_FILEPATH) {
        if !has_key() {
            let p = Path::new(path.trim());
            if !p.is_file() {
                return Err(bad(KEY_FILEPATH, "no such file (expected the path to AuthKey_XXXX.p8)"));
            }
            out.set(env_names::ASC_PRIVATE_KEY_PATH, path.trim());
        }
    }
    Ok(out)
}

fn read_json(path: &Path) -> Result<KeyJson, CredentialError> {
    let meta =
        std::fs::metadata(path).map_err(|e| bad(KEY_JSON_PATH, format!("cannot read the file: {}", e.kind())))?;
    if !meta.is_file() || meta.len() > MAX_JSON {
        return Err(bad(KEY_JSON_PATH, "not a fastlane API key JSON file"));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(KEY_JSON_PATH, format!("cannot read the file: {}", e.kind())))?;
    // serde's message could quote the file's text (the key): say where, never what.
    serde_json::from_str(&text).map_err(|e| {
        bad(
            KEY_JSON_PATH,
            format!(
                "not a fastlane API key JSON file (invalid JSON at line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::credentials::{CredentialFlags, Credentials};

    fn p256_pem() -> String {
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .serialize_pem()
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn resolve(pairs: &[(&str, &str)]) -> Result<Credentials, CredentialError> {
        Credentials::resolve(&CredentialFlags::default(), &Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn a_fastlane_json_file_is_a_complete_key() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::json!({"key_id": "ABCDE12345", "issuer_id": "69a6de7f-0000-47e3-e053-5b8c7c11a4d1",
            "key": p256_pem(), "in_house": false});
        let path = write(&dir, "key.json", &json.to_string());
        let c = resolve(&[(KEY_JSON_PATH, &path)]).unwrap();
        assert_eq!(c.key_id, "ABCDE12345");
        assert_eq!(c.issuer_id.as_deref(), Some("69a6de7f-0000-47e3-e053-5b8c7c11a4d1"));
    }

    #[test]
    fn base64_content_and_bitrise_private_key_spelling() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(p256_pem());
        let json = serde_json::json!({"key_id": "ABCDE12345", "key": b64, "is_key_content_base64": true});
        let path = write(&dir, "b64.json", &json.to_string());
        let c = resolve(&[(KEY_JSON_PATH, &path)]).unwrap();
        assert_eq!(c.issuer_id, None, "no issuer: an individual key");
        let json = serde_json::json!({"key_id": "ZZZZZ12345", "issuer_id": "x-1", "private_key": p256_pem()});
        let path = write(&dir, "bitrise.json", &json.to_string());
        assert_eq!(resolve(&[(KEY_JSON_PATH, &path)]).unwrap().key_id, "ZZZZZ12345");
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::json!({"key_id": "FILEKEY123", "key": p256_pem()});
        let path = write(&dir, "key.json", &json.to_string());
        let c = resolve(&[(KEY_JSON_PATH, &path), ("ASC_KEY_ID", "ENVKEY1234")]).unwrap();
        assert_eq!(c.key_id, "ENVKEY1234");
    }

    #[test]
    fn a_p8_path_from_fastlane_key_filepath() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "AuthKey_ABCDE12345.p8", &p256_pem());
        let c = resolve(&[(KEY_FILEPATH, &path), ("ASC_KEY_ID", "ABCDE12345")]).unwrap();
        assert_eq!(c.key_source, "ASC_PRIVATE_KEY_PATH");
        let e = resolve(&[(KEY_FILEPATH, "/nonexistent/AuthKey.p8"), ("ASC_KEY_ID", "ABCDE12345")]).unwrap_err();
        assert!(e.to_string().starts_with(KEY_FILEPATH), "{e}");
    }

    #[test]
    fn broken_files_name_the_variable_and_never_echo_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let pem = p256_pem();
        let body_line = pem.lines().nth(1).unwrap().to_string();
        // Invalid JSON right after the key: serde would quote it.
        let path = write(
            &dir,
            "broken.json",
            &format!("{{\"key\": \"{}\" oops", pem.replace('\n', "\\n")),
        );
        let e = resolve(&[(KEY_JSON_PATH, &path)]).unwrap_err().to_string();
        assert!(e.starts_with(KEY_JSON_PATH), "{e}");
        assert!(!e.contains(&body_line), "{e}");
        let path = write(&dir, "nokeyid.json", &serde_json::json!({"key": pem}).to_string());
        assert!(
            resolve(&[(KEY_JSON_PATH, &path)])
                .unwrap_err()
                .to_string()
                .contains("key_id")
        );
        let path = write(
            &dir,
            "inhouse.json",
            &serde_json::json!({"key_id": "A", "key": pem, "in_house": true}).to_string(),
        );
        assert!(
            resolve(&[(KEY_JSON_PATH, &path)])
                .unwrap_err()
                .to_string()
                .contains("in-house")
        );
        let e = resolve(&[(KEY_JSON_PATH, dir.path().to_str().unwrap())]).unwrap_err();
        assert!(e.to_string().contains("not a fastlane API key JSON file"), "{e}");
    }
}
