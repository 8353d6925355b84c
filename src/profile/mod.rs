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
}

/// The roots a profile's signature must chain to: Apple Root CA, plus any extra roots a caller
/// trusts on purpose (the demo's and tests' own CA).
#[derive(Debug, Clone, Default)]
pub struct TrustStore {}

impl TrustStore {
    pub fn apple() -> Self {
        TrustStore {}
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
