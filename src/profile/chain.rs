//! The trust store and chain building: a leaf certificate, through the intermediates a signature
//! carries, to Apple Root CA (or an extra root the caller trusts on purpose).
//!
//! Validity dates are deliberately not checked: real profiles and signatures outlive the
//! certificates that signed them, and Apple still accepts them; the profile's own `ExpirationDate`
//! is what the rules check.

use base64::Engine as _;

use super::ProfileError;
use super::certificate::Cert;

const APPLE_ROOT_CA_PEM: &str = include_str!("apple-root-ca.pem");

/// Chains longer than this are not real (Apple's are three deep) and could make us loop.
const MAX_CHAIN: usize = 8;
/// Candidate intermediates considered (Apple's signatures carry three certificates); a cap keeps a
/// hostile signature stuffed with look-alike issuers from costing thousands of RSA verifications.
const MAX_POOL: usize = 64;

/// The roots a profile's or code signature's certificates must chain to: Apple Root CA, plus any
/// extra roots a caller trusts on purpose (the demo's and tests' own CA).
#[derive(Debug, Clone)]
pub struct TrustStore {
    roots: Vec<Root>,
}

#[derive(Debug, Clone)]
struct Root {
    cert: Cert,
    apple: bool,
}

/// Where a verified chain ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    /// Common name of the trusted root the chain ends at.
    pub root: String,
    /// Whether that root is Apple's (as opposed to an extra root added with
    /// [`TrustStore::with_extra_root_pem`]).
    pub apple: bool,
    /// Common names from the leaf up to (and including) the root.
    pub path: Vec<String>,
}

impl Default for TrustStore {
    /// Apple's root only: the safe default.
    fn default() -> Self {
        TrustStore::apple()
    }
}

impl TrustStore {
    /// A store trusting only Apple Root CA (embedded in the binary).
    pub fn apple() -> Self {
        let roots = pem_certificates(APPLE_ROOT_CA_PEM)
            .unwrap_or_default()
            .iter()
            .filter_map(|der| Cert::parse(der).ok())
            .map(|cert| Root { cert, apple: true })
            .collect();
        TrustStore { roots }
    }

    /// Adds extra trusted roots (every CERTIFICATE block in `pem`), e.g. the simulator's sample CA.
    pub fn with_extra_root_pem(mut self, pem: &str) -> Result<Self, ProfileError> {
        let ders = pem_certificates(pem).map_err(ProfileError::BadRoot)?;
        if ders.is_empty() {
            return Err(ProfileError::BadRoot("no CERTIFICATE block found".into()));
        }
        for der in ders {
            let cert = Cert::parse(&der).map_err(ProfileError::BadRoot)?;
            self.roots.push(Root { cert, apple: false });
        }
        Ok(self)
    }

    /// Adds an extra trusted root given as DER.
    pub fn with_extra_root_der(mut self, der: &[u8]) -> Result<Self, ProfileError> {
        let cert = Cert::parse(der).map_err(ProfileError::BadRoot)?;
        self.roots.push(Root { cert, apple: false });
        Ok(self)
    }

    /// A store whose only "Apple" root is `der`: lets unit tests exercise the Apple-only paths with
    /// the test PKI.
    #[cfg(test)]
    pub(crate) fn pretend_apple_root(der: &[u8]) -> Self {
        let cert = Cert::parse(der).expect("test root parses");
        TrustStore {
            roots: vec![Root { cert, apple: true }],
        }
    }

    /// Common names of the trusted roots, Apple's first.
    pub fn root_names(&self) -> Vec<String> {
        self.roots.iter().map(|r| r.cert.display_name()).collect()
    }

    /// Whether `leaf` chains, through `intermediates`, to a trusted root; `Err` says why not.
    pub fn verify_chain(&self, leaf_der: &[u8], intermediates: &[Vec<u8>]) -> Result<(), String> {
        self.chain(leaf_der, intermediates).map(|_| ())
    }

    /// Like [`verify_chain`](Self::verify_chain), and says which root the chain ends at.
    ///
    /// `intermediates` may contain anything (the leaf itself, unrelated certificates, a copy of a
    /// root): only certificates whose signature verifies are followed, and a root is trusted only
    /// because it is in this store, never because the signature carries it.
    pub fn chain(&self, leaf_der: &[u8], intermediates: &[Vec<u8>]) -> Result<ChainInfo, String> {
        let leaf = Cert::parse(leaf_der).map_err(|e| format!("signer certificate: {e}"))?;
        let pool: Vec<Cert> = intermediates
            .iter()
            .take(MAX_POOL)
            .filter_map(|d| Cert::parse(d).ok())
            .collect();
        let mut path = vec![leaf.display_name()];
        let mut current = leaf;
        for _ in 0..MAX_CHAIN {
            if let Some(root) = self.roots.iter().find(|r| r.cert.der == current.der) {
                return Ok(self.done(root, path));
            }
            let mut last_failure = None;
            for root in self.roots.iter().filter(|r| current.issued_by_name(&r.cert)) {
                match current.verify_signed_by(&root.cert) {
                    Ok(()) => {
                        path.push(root.cert.display_name());
                        return Ok(self.done(root, path));
                    }
                    Err(e) => last_failure = Some(e),
                }
            }
            if current.is_self_issued() {
                return Err(format!(
                    "the chain ends at \"{}\", which is not a trusted root (trusted: {})",
                    current.display_name(),
                    self.root_names().join(", ")
                ));
            }
            let next = pool
                .iter()
                .filter(|c| c.der != current.der && current.issued_by_name(c))
                .find_map(|c| match current.verify_signed_by(c) {
                    Ok(()) => Some(c.clone()),
                    Err(e) => {
                        last_failure = Some(e);
                        None
                    }
                });
            match next {
                Some(issuer) => {
                    path.push(issuer.display_name());
                    current = issuer;
                }
                None => {
                    let issuer = current.issuer().to_string();
                    return Err(match last_failure {
                        Some(why) => format!(
                            "\"{}\" is not validly signed by its issuer \"{issuer}\": {why}",
                            current.display_name()
                        ),
                        None => format!(
                            "the issuer of \"{}\" (\"{issuer}\") is neither a trusted root nor among the \
                             certificates provided",
                            current.display_name()
                        ),
                    });
                }
            }
        }
        Err(format!("certificate chain is longer than {MAX_CHAIN}"))
    }

    fn done(&self, root: &Root, path: Vec<String>) -> ChainInfo {
        ChainInfo {
            root: root.cert.display_name(),
            apple: root.apple,
            path,
        }
    }
}

/// DER of every `CERTIFICATE` block in a PEM text.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let body_and_after = rest.get(start + BEGIN.len()..).unwrap_or("");
        let end = body_and_after.find(END).ok_or("a CERTIFICATE block has no END line")?;
        let body: String = body_and_after
            .get(..end)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("a CERTIFICATE block is not valid base64: {e}"))?;
        out.push(der);
        rest = body_and_after.get(end + END.len()..).unwrap_or("");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_apple_root_parses_and_is_self_signed() {
        let store = TrustStore::apple();
        assert_eq!(store.root_names(), vec!["Apple Root CA".to_string()]);
        let root = &store.roots[0].cert;
        assert!(root.is_self_issued());
        root.verify_signed_by(root).unwrap();
        let info = store.chain(&root.der, &[]).unwrap();
        assert!(info.apple);
    }

    #[test]
    fn rejects_pem_without_certificates() {
        assert!(TrustStore::apple().with_extra_root_pem("hello").is_err());
        assert!(
            TrustStore::apple()
                .with_extra_root_pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    #[test]
    fn garbage_leaf_is_an_error_not_a_panic() {
        assert!(TrustStore::apple().verify_chain(b"nope", &[b"x".to_vec()]).is_err());
    }
}
