//! The simulator's own API key (generated, or reloaded from the state directory), trusted keys,
//! and the random ids and tokens it hands out.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use jsonwebtoken::DecodingKey;

use super::SimError;

/// The key pair the simulator generated and trusts. The private half never appears in Debug.
#[derive(Clone)]
pub(crate) struct OwnKey {
    pub key_id: String,
    pub issuer_id: String,
    pub private_pem: String,
    pub public_pem: String,
}

impl fmt::Debug for OwnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnKey")
            .field("key_id", &self.key_id)
            .field("issuer_id", &self.issuer_id)
            .field("private_pem", &"<redacted>")
            .finish()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyRecord {
    key_id: String,
    issuer_id: String,
}

const KEY_RECORD: &str = "sim-key.json";

/// File name Apple gives downloaded keys; clients look for it.
pub(crate) fn key_file_name(key_id: &str) -> String {
    format!("AuthKey_{key_id}.p8")
}

/// Reloads the key saved in `dir` (so a restarted simulator accepts the same tokens) or
/// generates one and saves it there. Returns the key and the path of its `.p8` file.
pub(crate) fn load_or_generate(dir: &Path) -> Result<(OwnKey, PathBuf), SimError> {
    let io = |source| SimError::StateDir {
        path: dir.to_path_buf(),
        source,
    };
    let record_path = dir.join(KEY_RECORD);
    if record_path.exists() {
        let text = std::fs::read_to_string(&record_path).map_err(io)?;
        let record: KeyRecord = serde_json::from_str(&text).map_err(|e| SimError::StateCorrupt {
            path: record_path.clone(),
            reason: e.to_string(),
        })?;
        let pem_path = dir.join(key_file_name(&record.key_id));
        let private_pem = std::fs::read_to_string(&pem_path).map_err(io)?;
        let pair = rcgen::KeyPair::from_pem(&private_pem).map_err(|e| SimError::StateCorrupt {
            path: pem_path.clone(),
            reason: e.to_string(),
        })?;
        let key = OwnKey {
            key_id: record.key_id,
            issuer_id: record.issuer_id,
            public_pem: pair.public_key_pem(),
            private_pem,
        };
        return Ok((key, pem_path));
    }
    let key = generate()?;
    let pem_path = dir.join(key_file_name(&key.key_id));
    write_private(&pem_path, &key.private_pem).map_err(io)?;
    let record = KeyRecord {
        key_id: key.key_id.clone(),
        issuer_id: key.issuer_id.clone(),
    };
    let text = serde_json::to_string_pretty(&record).unwrap_or_default();
    std::fs::write(&record_path, text).map_err(io)?;
    Ok((key, pem_path))
}

/// Writes a private key readable only by the owner (like a downloaded `.p8` should be).
pub(crate) fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path)?;
    f.write_all(pem.as_bytes())
}

/// A fresh P-256 key pair with an Apple-looking key id and issuer id.
pub(crate) fn generate() -> Result<OwnKey, SimError> {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| SimError::KeyGeneration(e.to_string()))?;
    Ok(OwnKey {
        key_id: key_id(),
        issuer_id: uuid(),
        private_pem: pair.serialize_pem(),
        public_pem: pair.public_key_pem(),
    })
}

/// Turns a `--trust-key` value (public PEM, private PEM, or a path to either) into a public PEM
/// the verifier accepts.
pub(crate) fn trusted_public_pem(key_id: &str, value: &str) -> Result<String, SimError> {
    let bad = |reason: String| SimError::BadTrustedKey {
        key_id: key_id.to_owned(),
        reason,
    };
    let text = if value.contains("-----BEGIN") {
        value.to_owned()
    } else {
        std::fs::read_to_string(value).map_err(|e| bad(format!("cannot read {value}: {e}")))?
    };
    let public = if text.contains("PRIVATE KEY") {
        rcgen::KeyPair::from_pem(&text)
            .map_err(|e| bad(e.to_string()))?
            .public_key_pem()
    } else {
        text
    };
    DecodingKey::from_ec_pem(public.as_bytes()).map_err(|e| bad(e.to_string()))?;
    Ok(public)
}

fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // SystemRandom only fails when the OS has no entropy source; fall back to a seeded PRNG so
    // the simulator keeps working (ids only need to be unique, not secret).
    if SystemRandom::new().fill(&mut buf).is_err() {
        let mut rng = fastrand::Rng::new();
        buf.iter_mut().for_each(|b| *b = rng.u8(..));
    }
    buf
}

/// A random RFC 4122 version-4 UUID, lowercase, as Apple uses for resource ids.
pub(crate) fn uuid() -> String {
    let mut b = random::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A 10-character key id like Apple's (`2X9R4HXF34`).
pub(crate) fn key_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    random::<10>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A random token for pre-signed part URLs.
pub(crate) fn signature_token() -> String {
    hex::encode(random::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_through_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let (a, path_a) = load_or_generate(dir.path()).unwrap();
        let (b, path_b) = load_or_generate(dir.path()).unwrap();
        assert_eq!(a.key_id, b.key_id);
        assert_eq!(a.issuer_id, b.issuer_id);
        assert_eq!(a.public_pem, b.public_pem);
        assert_eq!(path_a, path_b);
        assert!(a.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }

    #[test]
    fn trust_key_accepts_public_or_private_pem() {
        let key = generate().unwrap();
        assert!(trusted_public_pem("K", &key.public_pem).is_ok());
        assert_eq!(trusted_public_pem("K", &key.private_pem).unwrap(), key.public_pem);
        assert!(trusted_public_pem("K", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
        assert!(trusted_public_pem("K", "/nonexistent/key.pem").is_err());
    }

    #[test]
    fn ids_look_like_apples() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_eq!(key_id().len(), 10);
    }
}
