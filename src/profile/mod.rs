//! Provisioning profiles (`embedded.mobileprovision`): CMS decoding, signature verification,
//! chaining to Apple's root, and classification.
//!
//! STUB: the interface other modules build against; the decoder is being written.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    AppStore,
    AdHoc,
    Development,
    Enterprise,
}

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub team_ids: Vec<String>,
    /// The profile's `Entitlements` dictionary (what signatures may claim).
    #[serde(skip)]
    pub entitlements: plist::Dictionary,
    /// DER of every certificate in `DeveloperCertificates` (the signers the profile allows).
    #[serde(skip)]
    pub developer_certificates: Vec<Vec<u8>>,
}

/// The roots a profile's or code signature's certificates must chain to: Apple Root CA, plus any
/// extra roots a caller trusts on purpose (the demo's and tests' own CA).
#[derive(Debug, Clone, Default)]
pub struct TrustStore {}

impl TrustStore {
    pub fn apple() -> Self {
        TrustStore {}
    }

    /// Adds an extra trusted root (PEM), e.g. the simulator's sample CA.
    pub fn with_extra_root_pem(self, _pem: &str) -> Result<Self, ProfileError> {
        Ok(self)
    }

    /// Whether `leaf` chains, through `intermediates`, to a trusted root; `Err` says why not.
    pub fn verify_chain(&self, _leaf_der: &[u8], _intermediates: &[Vec<u8>]) -> Result<(), String> {
        Err("chain verification not implemented yet".into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("not a provisioning profile")]
    Malformed,
}

pub fn decode(_bytes: &[u8], _trust: &TrustStore) -> Result<Profile, ProfileError> {
    Err(ProfileError::Malformed)
}
