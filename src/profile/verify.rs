//! The signature verdict on a profile: is it really Apple's, unchanged since signing?

use serde::Serialize;

use super::certificate::Cert;
use super::chain::TrustStore;
use super::cms::SignedData;

/// What we could establish about who signed a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureVerdict {
    /// Signature valid, chain ends at Apple Root CA, signer is Apple's own profile-signing identity.
    AppleSigned { signer: String },
    /// Signature valid, chain ends at an extra root the caller chose to trust (e.g. the demo CA).
    TrustedExtraRoot { signer: String, root: String },
    /// The signature is intact but the signer is not trusted.
    Untrusted { signer: String, reason: String },
    /// The signature does not verify (content changed after signing, wrong key, unsupported algorithm).
    Invalid { reason: String },
    /// A bare plist with no CMS around it.
    Unsigned,
}

impl SignatureVerdict {
    /// Signed by Apple or by a root the caller trusts.
    pub fn is_trusted(&self) -> bool {
        matches!(
            self,
            SignatureVerdict::AppleSigned { .. } | SignatureVerdict::TrustedExtraRoot { .. }
        )
    }

    pub fn is_apple(&self) -> bool {
        matches!(self, SignatureVerdict::AppleSigned { .. })
    }

    /// One line for humans.
    pub fn describe(&self) -> String {
        match self {
            SignatureVerdict::AppleSigned { signer } => format!("signed by Apple ({signer})"),
            SignatureVerdict::TrustedExtraRoot { signer, root } => {
                format!("signed by \"{signer}\", trusted through the extra root \"{root}\" (NOT Apple)")
            }
            SignatureVerdict::Untrusted { signer, reason } => {
                format!("not signed by Apple: signed by \"{signer}\", {reason}")
            }
            SignatureVerdict::Invalid { reason } => format!("signature invalid: {reason}"),
            SignatureVerdict::Unsigned => "unsigned (a bare plist with no signature)".into(),
        }
    }
}

/// Verifies a parsed profile envelope against `trust`.
pub fn verdict(signed: &SignedData, trust: &TrustStore) -> SignatureVerdict {
    let signer = match signed.verify(None) {
        Ok(s) => s,
        Err(reason) => return SignatureVerdict::Invalid { reason },
    };
    let cert = match Cert::parse(&signer.certificate) {
        Ok(c) => c,
        Err(reason) => return SignatureVerdict::Invalid { reason },
    };
    let name = cert.display_name();
    match trust.chain(&signer.certificate, &signer.others) {
        Ok(info) if info.apple => {
            // A developer's own certificate also chains to Apple Root CA (through WWDR); only
            // Apple's profile-signing identity, issued to Apple Inc. itself, may sign profiles.
            let apple_owned = cert.organization().as_deref() == Some("Apple Inc.") && !name.contains(':');
            if apple_owned {
                SignatureVerdict::AppleSigned { signer: name }
            } else {
                SignatureVerdict::Untrusted {
                    reason: "this certificate chains to Apple Root CA but belongs to a developer, not to Apple's \
                             profile-signing service"
                        .into(),
                    signer: name,
                }
            }
        }
        Ok(info) => SignatureVerdict::TrustedExtraRoot {
            signer: name,
            root: info.root,
        },
        Err(reason) => SignatureVerdict::Untrusted { signer: name, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{ProfileKind, cms};
    use crate::sample::pki::TestPki;
    use crate::sample::profile::ProfileBuilder;

    #[test]
    fn a_developer_certificate_chaining_to_apple_cannot_sign_profiles() {
        let pki = TestPki::generate().unwrap();
        let trust = TrustStore::pretend_apple_root(pki.root_der());
        let content = ProfileBuilder::for_pki(ProfileKind::AppStore, &pki, "com.example.demo").build_unsigned();
        let blob = pki.distribution.sign_cms(&content, false).unwrap();
        match verdict(&cms::parse(&blob).unwrap(), &trust) {
            SignatureVerdict::Untrusted { signer, reason } => {
                assert!(signer.starts_with("Apple Distribution:"));
                assert!(reason.contains("belongs to a developer"), "{reason}");
            }
            other => panic!("expected untrusted, got {other:?}"),
        }
    }
}
