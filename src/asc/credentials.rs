//! Where the API key comes from (flags, then the environment names users already have) and what is
//! wrong with it when it is unusable. The key itself never leaves a [`Secret`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;

use crate::error::{Error, ErrorKind};

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

/// The environment, injected so resolution is hermetic in tests.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, Secret<String>>,
}

impl Env {
    /// The process environment (only the names we read, so nothing else is copied around).
    pub fn from_process() -> Self {
        let mut names: Vec<&str> = Vec::new();
        names.extend(env_names::KEY_ID);
        names.extend(env_names::ISSUER_ID);
        names.extend(env_names::PRIVATE_KEY);
        names.push(env_names::FASTLANE_KEY_IS_BASE64);
        names.push(env_names::ASC_API_URL);
        names.extend(crate::asc::fastlane_key::ENV_NAMES);
        let mut env = Env::default();
        for name in names {
            if let Ok(v) = std::env::var(name) {
                env.set(name, v);
            }
        }
        env
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut env = Env::default();
        for (k, v) in pairs {
            env.set(k, v);
        }
        env
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_string(), Secret(value.into()));
    }

    /// A non-empty value (CI systems often export unset secrets as empty strings).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.expose().as_str())
            .filter(|v| !v.trim().is_empty())
    }

    fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
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

#[derive(Debug, Clone, Copy, PartialEq)]
enum KeyForm {
    Detect,
    Base64,
    Path,
}

const MAX_KEY_FILE: u64 = 64 * 1024;

fn bad(source: &str, problem: impl Into<String>) -> CredentialError {
    CredentialError::BadKey {
        source_name: source.to_string(),
        problem: problem.into(),
    }
}

/// Turns a flag/variable value into a P-256 key pair, detecting path, PEM or base64.
///
/// Nothing read from the value is ever put into an error: a problem is described in words (a
/// malformed header once made the "label" run to the END line and the error print the key).
fn load_key(source: &str, form: KeyForm, value: &str) -> Result<EcdsaKeyPair, CredentialError> {
    let trimmed = value.trim();
    if let Some(problem) = looks_like_an_id(trimmed) {
        return Err(bad(source, problem));
    }
    match form {
        KeyForm::Path => {
            let text = read_key_file(source, Path::new(trimmed))?;
            parse_key_text(source, &text, true)
        }
        KeyForm::Base64 => {
            let decoded = decode_b64(trimmed)
                .ok_or_else(|| bad(source, "is not valid base64 (expected base64 of the .p8 file)"))?;
            parse_key_bytes(source, &decoded)
        }
        KeyForm::Detect => {
            if !trimmed.contains('\n') && trimmed.len() < 4096 {
                let path = Path::new(trimmed);
                if path.is_dir() {
                    return Err(bad(source, "is a directory, not the .p8 key file"));
                }
                if path.is_file() {
                    let text = read_key_file(source, path)?;
                    return parse_key_text(source, &text, true);
                }
            }
            if looks_like_pem(trimmed) {
                return parse_key_text(source, trimmed, false);
            }
            if let Some(decoded) = decode_b64(trimmed) {
                return parse_key_bytes(source, &decoded);
            }
            if trimmed.ends_with(".p8") || trimmed.contains('/') || trimmed.contains('\\') {
                return Err(bad(source, "looks like a file path, but no such file exists"));
            }
            Err(bad(
                source,
                "is neither a path to a .p8 file, nor PEM text, nor base64 of PEM",
            ))
        }
    }
}

/// PEM, or something meant to be: armour dashes or a BEGIN/END word.
fn looks_like_pem(s: &str) -> bool {
    s.contains("-----") || s.contains("BEGIN ") || s.contains("END PRIVATE")
}

/// The key id or the issuer id pasted where the key belongs.
fn looks_like_an_id(s: &str) -> Option<&'static str> {
    if s.len() == 10 && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return Some(
            "looks like a key ID (10 letters and digits), not the private key: pass the .p8 file \
             (a path, its PEM text or base64 of it) here and the key ID as the key id",
        );
    }
    let uuid = s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid {
        return Some("looks like an issuer ID (a UUID), not the private key: pass the .p8 file here");
    }
    None
}

fn read_key_file(source: &str, path: &Path) -> Result<String, CredentialError> {
    let meta = std::fs::metadata(path).map_err(|e| bad(source, format!("cannot read the key file: {}", e.kind())))?;
    if meta.is_dir() {
        return Err(bad(source, "is a directory, not the .p8 key file"));
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(bad(source, "the key file is too large to be a .p8 key"));
    }
    let bytes = std::fs::read(path).map_err(|e| bad(source, format!("cannot read the key file: {}", e.kind())))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(source, "the key file is empty"));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(_) => Err(bad(source, "the key file is not text (expected a PEM .p8 file)")),
    }
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&compact))
        .ok()
}

/// Base64-decoded bytes: PEM text, or DER of the key itself.
fn parse_key_bytes(source: &str, bytes: &[u8]) -> Result<EcdsaKeyPair, CredentialError> {
    match std::str::from_utf8(bytes) {
        Ok(text) if looks_like_pem(text) => parse_key_text(source, text, false),
        _ => parse_der(source, bytes),
    }
}

const FIVE_DASHES: &str = "five dashes on each side: -----BEGIN PRIVATE KEY-----";

/// One armour line's label: `BEGIN`/`END` at `at`, exactly five dashes before it, a label of
/// capitals, digits and spaces, exactly five dashes after. `None` when malformed. Returns the
/// label and the offset just after the closing dashes.
fn armour(text: &str, at: usize, word: &str) -> Option<(String, usize)> {
    let before = text.get(..at)?;
    let dashes = before.len() - before.trim_end_matches('-').len();
    if dashes != 5 {
        return None;
    }
    let rest = text.get(at + word.len()..)?.strip_prefix(' ')?;
    let label_len = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' '))
        .unwrap_or(rest.len());
    let label = rest.get(..label_len)?;
    let after = rest.get(label_len..)?;
    let closing = after.len() - after.trim_start_matches('-').len();
    if closing != 5 || label.trim().is_empty() || label.len() > 64 || label != label.trim() {
        return None;
    }
    let end = text.len() - after.len() + closing;
    Some((label.to_string(), end))
}

fn parse_key_text(source: &str, text: &str, from_file: bool) -> Result<EcdsaKeyPair, CredentialError> {
    let what = if from_file { "the key file" } else { "the value" };
    // Keys pasted into CI variables often arrive with literal "\n" (or "\r\n") instead of newlines.
    let text = text.replace("\\r", "").replace("\\n", "\n");
    parse_pem_block(source, what, &text, 0)
}

fn parse_pem_block(source: &str, what: &str, text: &str, depth: u8) -> Result<EcdsaKeyPair, CredentialError> {
    let Some(begin) = text.find("BEGIN") else {
        return Err(bad(source, format!("{what} is not PEM (no -----BEGIN line)")));
    };
    let (label, body_start) = armour(text, begin, "BEGIN").ok_or_else(|| {
        bad(
            source,
            format!("{what}: the BEGIN line is malformed; it must read -----BEGIN PRIVATE KEY----- ({FIVE_DASHES})"),
        )
    })?;
    match label.as_str() {
        "PRIVATE KEY" | "EC PRIVATE KEY" => {}
        "ENCRYPTED PRIVATE KEY" => {
            return Err(bad(
                source,
                "is an encrypted private key; export it unencrypted (the .p8 from Apple is)",
            ));
        }
        "RSA PRIVATE KEY" => {
            return Err(bad(
                source,
                "is an RSA key (PKCS#1); App Store Connect needs an EC P-256 key: the .p8 downloaded from \
                 Users and Access → Integrations",
            ));
        }
        "OPENSSH PRIVATE KEY" => {
            return Err(bad(
                source,
                "is an OpenSSH key; App Store Connect needs the EC P-256 .p8 key downloaded from App Store Connect",
            ));
        }
        // `openssl ecparam -genkey` writes the curve before the key.
        "EC PARAMETERS" if depth == 0 => {
            let rest = text.get(body_start..).unwrap_or_default();
            let next = rest.find("-----END EC PARAMETERS-----").map(|i| i + 27).unwrap_or(0);
            return parse_pem_block(source, what, rest.get(next..).unwrap_or_default(), 1);
        }
        "PUBLIC KEY" | "CERTIFICATE" => {
            return Err(bad(
                source,
                format!("is a {}, not the private key", label.to_lowercase()),
            ));
        }
        _ => {
            return Err(bad(
                source,
                "is a PEM block of another kind; expected -----BEGIN PRIVATE KEY-----",
            ));
        }
    }
    let rest = text.get(body_start..).unwrap_or_default();
    // Base64 never contains '-', so the first "-END" is the END line.
    let Some(end_word) = rest.find("-END").map(|i| i + 1) else {
        return Err(bad(
            source,
            format!("{what} is PEM without an -----END line (truncated?)"),
        ));
    };
    match armour(rest, end_word, "END") {
        Some((end_label, _)) if end_label == label => {}
        _ => {
            return Err(bad(
                source,
                format!(
                    "{what}: the END line is malformed or does not match the BEGIN line; it must read \
                     -----END {label}-----"
                ),
            ));
        }
    }
    let body_end = rest.get(..end_word).map_or(0, |b| b.trim_end_matches('-').len());
    let body = rest.get(..body_end).unwrap_or_default();
    if body.contains("Proc-Type:") || body.contains("DEK-Info:") {
        return Err(bad(
            source,
            "is an encrypted (password-protected) key; export it unencrypted (the .p8 from Apple is)",
        ));
    }
    if body.trim().is_empty() {
        return Err(bad(
            source,
            format!("{what}: there is nothing between the BEGIN and END lines"),
        ));
    }
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace();
    if !body.chars().all(is_b64) {
        return Err(bad(
            source,
            format!("{what}: the text between the BEGIN and END lines is not base64 (damaged or edited key?)"),
        ));
    }
    let der = decode_b64(body).ok_or_else(|| {
        bad(
            source,
            format!("{what}: the text between the BEGIN and END lines is not valid base64 (characters missing?)"),
        )
    })?;
    parse_der(source, &der)
}

/// OIDs (DER-encoded, with tag and length) that tell what kind of key a DER blob is.
const OID_RSA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether a DER SEQUENCE claims more bytes than there are (a cut-off key).
fn truncated_der(der: &[u8]) -> bool {
    let declared = match der {
        [0x30, l, ..] if *l < 0x80 => usize::from(*l) + 2,
        [0x30, 0x81, l, ..] => usize::from(*l) + 3,
        [0x30, 0x82, a, b, ..] => (usize::from(*a) << 8 | usize::from(*b)) + 4,
        _ => return false,
    };
    declared > der.len()
}

fn parse_der(source: &str, der: &[u8]) -> Result<EcdsaKeyPair, CredentialError> {
    if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
        .or_else(|_| EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, der))
    {
        return Ok(k);
    }
    let problem = if der.is_empty() {
        "is empty"
    } else if truncated_der(der) {
        "is cut short (truncated key?): copy the whole .p8 file"
    } else if contains(der, OID_RSA) {
        "is an RSA key; App Store Connect needs an EC P-256 key: the .p8 downloaded from Users and Access → \
         Integrations"
    } else if contains(der, OID_ED25519) {
        "is an Ed25519 key; App Store Connect needs an EC P-256 key (.p8)"
    } else if contains(der, OID_EC) && !contains(der, OID_P256) {
        "is not a P-256 (prime256v1) key: it is an EC key on another curve; App Store Connect keys (.p8) are P-256"
    } else if der.first() == Some(&0x30) && !contains(der, OID_EC) && contains(der, OID_P256) {
        "is a SEC1 (\"EC PRIVATE KEY\") key that cannot be read; convert it with \
         `openssl pkcs8 -topk8 -nocrypt -in key.pem -out AuthKey.p8`"
    } else {
        "is not a P-256 (prime256v1) EC private key (neither PEM text nor a DER key); App Store Connect keys (.p8) are"
    };
    Err(bad(source, problem))
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
