//! Where the API key comes from (flags, then the environment names users already have) and what is
//! wrong with it when it is unusable. The key itself never leaves a [`Secret`].

use std::fmt;

use aws_lc_rs::signature::EcdsaKeyPair;

use crate::error::{Error, ErrorKind};

mod key;
pub use crate::env::Env;
use key::{KeyForm, load_key};

/// Every environment variable read for credentials and the API endpoint, in one place.
pub mod env_names {
    /// Our key id (the 10-character id shown in Users and Access → Integrations).
    pub const ASC_KEY_ID: &str = "ASC_KEY_ID";
    /// Our issuer id (UUID above the key list). Absent: the key is an individual key (`sub: user`).
    pub const ASC_ISSUER_ID: &str = "ASC_ISSUER_ID";
    /// Our private key: a path to the `.p8`, its PEM text, or base64 of the PEM (detected).
    pub const ASC_PRIVATE_KEY: &str = "ASC_PRIVATE_KEY";
    /// Our private key as base64 of the PEM.
    pub const ASC_PRIVATE_KEY_B64: &str = "ASC_PRIVATE_KEY_B64";
    /// Our private key as a path to the `.p8` file.
    pub const ASC_PRIVATE_KEY_PATH: &str = "ASC_PRIVATE_KEY_PATH";
    /// The API base URL (tests and the simulator).
    pub const ASC_API_URL: &str = "ASC_API_URL";
    /// GitLab's App Store Connect integration and fastlane: key id.
    pub const FASTLANE_KEY_ID: &str = "APP_STORE_CONNECT_API_KEY_KEY_ID";
    /// GitLab's integration and fastlane: issuer id.
    pub const FASTLANE_ISSUER_ID: &str = "APP_STORE_CONNECT_API_KEY_ISSUER_ID";
    /// GitLab's integration and fastlane: key content (PEM, or base64 when the flag below is true).
    pub const FASTLANE_KEY: &str = "APP_STORE_CONNECT_API_KEY_KEY";
    /// GitLab's integration and fastlane: whether [`FASTLANE_KEY`] is base64.
    pub const FASTLANE_KEY_IS_BASE64: &str = "APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64";
    /// Codemagic: key id.
    pub const CODEMAGIC_KEY_ID: &str = "APP_STORE_CONNECT_KEY_IDENTIFIER";
    /// Codemagic: issuer id.
    pub const CODEMAGIC_ISSUER_ID: &str = "APP_STORE_CONNECT_ISSUER_ID";
    /// Codemagic: private key (PEM text, or a path, detected).
    pub const CODEMAGIC_PRIVATE_KEY: &str = "APP_STORE_CONNECT_PRIVATE_KEY";

    /// Key id sources, in priority order.
    pub const KEY_ID: &[&str] = &[ASC_KEY_ID, FASTLANE_KEY_ID, CODEMAGIC_KEY_ID];
    /// Issuer id sources, in priority order.
    pub const ISSUER_ID: &[&str] = &[ASC_ISSUER_ID, FASTLANE_ISSUER_ID, CODEMAGIC_ISSUER_ID];
    /// Private key sources, in priority order.
    pub const PRIVATE_KEY: &[&str] = &[
        ASC_PRIVATE_KEY,
        ASC_PRIVATE_KEY_B64,
        ASC_PRIVATE_KEY_PATH,
        FASTLANE_KEY,
        CODEMAGIC_PRIVATE_KEY,
    ];
}

/// A value that must never be printed. `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret value, for the one place that needs it (signing, the Authorization header).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Credentials given on the command line.
#[derive(Debug, Clone, Default)]
pub struct CredentialFlags {
    pub key_id: Option<String>,
    pub issuer_id: Option<String>,
    pub private_key: Option<Secret<String>>,
}

/// Why credentials are unusable; always names the flag or variable that was read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no App Store Connect API key id: set --key-id or one of {}", env_names::KEY_ID.join(", "))]
    MissingKeyId,
    #[error("no App Store Connect private key: set --private-key or one of {}", env_names::PRIVATE_KEY.join(", "))]
    MissingKey,
    #[error("{source_name}: {problem}")]
    BadKey { source_name: String, problem: String },
    #[error("{source_name}: {problem}")]
    BadValue { source_name: String, problem: String },
}

impl From<CredentialError> for Error {
    fn from(e: CredentialError) -> Self {
        let hint = match &e {
            CredentialError::MissingKeyId | CredentialError::MissingKey => {
                "create an API key in App Store Connect → Users and Access → Integrations and pass its key id, \
                 issuer id and the .p8 file (path, PEM text or base64 of it)"
            }
            _ => {
                "pass the .p8 file downloaded from App Store Connect: a path, its PEM text \
                  (-----BEGIN PRIVATE KEY-----) or base64 of that text"
            }
        };
        Error::new(ErrorKind::Auth, e.to_string())
            .with_hint(hint)
            .with_source(e)
    }
}

/// A usable API key: id, issuer (None for an individual key) and the parsed P-256 signing key.
pub struct Credentials {
    pub key_id: String,
    /// `None` means an individual key: the token carries `sub: "user"` instead of `iss`.
    pub issuer_id: Option<String>,
    pub(crate) key: EcdsaKeyPair,
    /// Which flag or variable the key came from (never the key).
    pub key_source: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .field("issuer_id", &self.issuer_id)
            .field("key", &"[redacted]")
            .field("key_source", &self.key_source)
            .finish()
    }
}

impl Credentials {
    /// Resolves credentials: flags first, then our variables, then fastlane/GitLab's, then Codemagic's.
    pub fn resolve(flags: &CredentialFlags, env: &Env) -> Result<Credentials, CredentialError> {
        let env = &crate::asc::fastlane_key::with_key_files(env)?;
        let (key_id_src, key_id) = match flags.key_id.as_deref().filter(|v| !v.trim().is_empty()) {
            Some(v) => ("--key-id", v.trim().to_string()),
            None => env
                .first(env_names::KEY_ID)
                .map(|(n, v)| (n, v.trim().to_string()))
                .ok_or(CredentialError::MissingKeyId)?,
        };
        check_id(key_id_src, &key_id)?;
        let issuer = match flags.issuer_id.as_deref().filter(|v| !v.trim().is_empty()) {
            Some(v) => Some(("--issuer-id", v.trim().to_string())),
            None => env.first(env_names::ISSUER_ID).map(|(n, v)| (n, v.trim().to_string())),
        };
        if let Some((src, v)) = &issuer {
            check_id(src, v)?;
        }
        let (key_source, form, value) = match flags.private_key.as_ref().filter(|v| !v.expose().trim().is_empty()) {
            Some(v) => ("--private-key", KeyForm::Detect, v.expose().as_str()),
            None => {
                let (name, v) = env.first(env_names::PRIVATE_KEY).ok_or(CredentialError::MissingKey)?;
                let form = match name {
                    env_names::ASC_PRIVATE_KEY_B64 => KeyForm::Base64,
                    env_names::ASC_PRIVATE_KEY_PATH => KeyForm::Path,
                    env_names::FASTLANE_KEY
                        if env
                            .get(env_names::FASTLANE_KEY_IS_BASE64)
                            .is_some_and(|b| b.trim().eq_ignore_ascii_case("true") || b.trim() == "1") =>
                    {
                        KeyForm::Base64
                    }
                    _ => KeyForm::Detect,
                };
                (name, form, v)
            }
        };
        let key = load_key(key_source, form, value)?;
        Ok(Credentials {
            key_id,
            issuer_id: issuer.map(|(_, v)| v),
            key,
            key_source: key_source.to_string(),
        })
    }
}

fn check_id(source: &str, v: &str) -> Result<(), CredentialError> {
    // Ids are 10 characters or a 36-character UUID; anything longer may be a line of the key
    // pasted in the wrong place, which is why the value itself is never quoted.
    if v.len() > 40 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(CredentialError::BadValue {
            source_name: source.to_string(),
            problem: "contains whitespace or control characters, or is too long; expected an id like \
                      2X9R4HXF34 or a UUID"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2".to_string());
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
    }

    #[test]
    fn missing_key_id_names_the_variables() {
        let e = Credentials::resolve(&CredentialFlags::default(), &Env::default()).unwrap_err();
        assert!(e.to_string().contains("ASC_KEY_ID"));
        assert!(e.to_string().contains("APP_STORE_CONNECT_KEY_IDENTIFIER"));
    }

    #[test]
    fn a_key_line_pasted_as_an_id_is_refused_without_quoting_it() {
        let line = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYOWBVIs4XZidkg4u";
        let env = Env::from_pairs([("ASC_KEY_ID", line), ("ASC_PRIVATE_KEY", "x")]);
        let e = Credentials::resolve(&CredentialFlags::default(), &env).unwrap_err();
        assert!(e.to_string().starts_with("ASC_KEY_ID:"), "{e}");
        assert!(!e.to_string().contains("MIGHAgEA"), "{e}");
    }

    #[test]
    fn a_malformed_begin_line_is_described_never_quoted() {
        let pem = "-----BEGIN PRIVATE KEY----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n";
        let env = Env::from_pairs([("ASC_KEY_ID", "ABC"), ("ASC_PRIVATE_KEY", pem)]);
        let e = Credentials::resolve(&CredentialFlags::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the BEGIN line is malformed"), "{e}");
        assert!(!e.contains("MIGHAgEA"), "{e}");
    }

    #[test]
    fn garbage_key_names_the_source() {
        let env = Env::from_pairs([("ASC_KEY_ID", "ABC123"), ("ASC_PRIVATE_KEY", "not a key!")]);
        let e = Credentials::resolve(&CredentialFlags::default(), &env).unwrap_err();
        assert!(e.to_string().starts_with("ASC_PRIVATE_KEY:"), "{e}");
        let err: Error = e.into();
        assert_eq!(err.exit_code(), 3);
    }
}
