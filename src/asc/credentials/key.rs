//! Reading the private key: a path, PEM text or base64 of it, down to the P-256 key in its DER;
//! every problem described in words, nothing read from the value ever quoted.

use std::path::Path;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;

use super::CredentialError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum KeyForm {
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
pub(super) fn load_key(source: &str, form: KeyForm, value: &str) -> Result<EcdsaKeyPair, CredentialError> {
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
