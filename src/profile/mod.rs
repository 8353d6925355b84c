//! Provisioning profiles (`embedded.mobileprovision`): CMS decoding, signature verification,
//! chaining to Apple's root, and classification.
//!
//! [`decode`] fails only when the bytes are not a profile at all. A profile that decodes but is
//! unsigned, tampered with or signed by someone other than Apple decodes fine and carries that in
//! [`Profile::signature`], so the rules can say exactly what is wrong.
//!
//! The same machinery serves code signatures: [`cms::parse`] + [`cms::SignedData::verify`] check a
//! detached CMS signature, [`TrustStore::verify_chain`] checks the signer chains to Apple.

pub mod certificate;
mod chain;
mod classify;
pub mod cms;
mod crypto;
mod der;
mod fields;
mod verify;

use std::time::SystemTime;

use serde::Serialize;

pub use certificate::CertificateSummary;
pub use chain::{ChainInfo, TrustStore, pem_certificates};
pub use classify::ProfileKind;
pub use crypto::Digest;
pub use fields::to_json as plist_to_json;
pub use verify::SignatureVerdict;

/// Profiles are tens of kilobytes (a few hundred with thousands of devices); anything far bigger is
/// not one, and we refuse to buffer it.
pub const MAX_PROFILE_SIZE: usize = 8 * 1024 * 1024;

/// A decoded provisioning profile. Serialises (for `inspect --format json`) without UDIDs or raw
/// certificate bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    /// `Name`.
    pub name: Option<String>,
    /// `UUID`.
    pub uuid: Option<String>,
    /// `TeamIdentifier`.
    pub team_ids: Vec<String>,
    /// `TeamName`.
    pub team_name: Option<String>,
    /// `AppIDName`: the App ID's description in the portal.
    pub app_id_name: Option<String>,
    /// `ApplicationIdentifierPrefix`.
    pub app_id_prefixes: Vec<String>,
    /// `Entitlements.application-identifier`, e.g. `TEAM.com.example.app` or `TEAM.*`.
    pub application_identifier: Option<String>,
    /// `Platform`, e.g. `["iOS"]` (older profiles omit it).
    pub platforms: Vec<String>,
    /// `CreationDate`, RFC 3339.
    pub created: Option<String>,
    /// `ExpirationDate`, RFC 3339.
    pub expires: Option<String>,
    #[serde(skip)]
    pub created_at: Option<SystemTime>,
    #[serde(skip)]
    pub expires_at: Option<SystemTime>,
    /// The profile's `Entitlements` dictionary (what signatures may claim).
    #[serde(serialize_with = "fields::serialize_dictionary")]
    pub entitlements: plist::Dictionary,
    /// DER of every certificate in `DeveloperCertificates` (the signers the profile allows).
    #[serde(skip)]
    pub developer_certificates: Vec<Vec<u8>>,
    /// Summaries of `DeveloperCertificates`, in the same order.
    #[serde(rename = "developer_certificates")]
    pub certificates: Vec<CertificateSummary>,
    /// How many `ProvisionedDevices` there are (the UDIDs themselves are never kept).
    pub device_count: usize,
    /// `ProvisionsAllDevices` (enterprise / in-house).
    pub provisions_all_devices: bool,
    /// `Entitlements.get-task-allow` (debuggable: development).
    pub get_task_allow: bool,
    /// `Entitlements.beta-reports-active` (TestFlight).
    pub beta_reports_active: bool,
    /// Who signed it, and whether that holds up.
    pub signature: SignatureVerdict,
}

impl Profile {
    /// The team the profile belongs to (the first `TeamIdentifier`).
    pub fn team_id(&self) -> Option<&str> {
        self.team_ids.first().map(String::as_str)
    }

    /// Whether the profile had expired at `now` (a profile without a date counts as not expired).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Whether the profile's App ID (`TEAM.com.x`, `TEAM.com.x.*` or `TEAM.*`) covers `bundle_id`.
    pub fn app_id_matches(&self, bundle_id: &str) -> bool {
        let Some(app_id) = self.application_identifier.as_deref() else {
            return false;
        };
        let pattern = app_id.split_once('.').map_or(app_id, |(_, rest)| rest);
        match pattern.strip_suffix('*') {
            Some(prefix) => bundle_id.starts_with(prefix) && bundle_id.len() > prefix.len(),
            None => pattern == bundle_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("not a provisioning profile")]
    Malformed,
    #[error("not a provisioning profile: {size} bytes is far larger than any profile (limit {MAX_PROFILE_SIZE})")]
    TooLarge { size: usize },
    #[error("not a provisioning profile: {0}")]
    Cms(#[from] cms::CmsError),
    #[error("the profile's CMS envelope carries {0} content instead of a plist")]
    WrongContentType(String),
    #[error("the profile's CMS envelope is detached: it carries no plist")]
    NoContent,
    #[error("the profile's content is not a property list: {0}")]
    Plist(String),
    #[error("the profile's property list is not a dictionary")]
    NotADictionary,
    /// Hostile rather than damaged: the whole IPA is refused (see `plist_guard`).
    #[error(
        "the profile's property list nests arrays and dictionaries more than {limit} levels deep; refusing to parse it"
    )]
    TooDeep { limit: usize },
    #[error("cannot use the extra root certificate: {0}")]
    BadRoot(String),
}

impl From<ProfileError> for crate::Error {
    fn from(e: ProfileError) -> Self {
        let hint = match &e {
            ProfileError::BadRoot(_) => "Pass a PEM file holding the root CA certificate you mean to trust.",
            _ => {
                "Download the App Store distribution profile again from the Apple Developer portal \
                 (Certificates, Identifiers & Profiles) and re-export the IPA with it."
            }
        };
        crate::Error::usage(e.to_string()).with_hint(hint).with_source(e)
    }
}

/// Decodes `embedded.mobileprovision` bytes: a CMS SignedData around an XML plist, or (as some tools
/// produce) a bare plist, which decodes as [`SignatureVerdict::Unsigned`].
pub fn decode(bytes: &[u8], trust: &TrustStore) -> Result<Profile, ProfileError> {
    if bytes.len() > MAX_PROFILE_SIZE {
        return Err(ProfileError::TooLarge { size: bytes.len() });
    }
    if looks_like_plist(bytes) {
        let dict = parse_plist(bytes)?;
        return Ok(fields::from_dictionary(&dict, SignatureVerdict::Unsigned));
    }
    let signed = cms::parse(bytes)?;
    if signed.content_type != cms::OID_DATA {
        return Err(ProfileError::WrongContentType(signed.content_type.to_string()));
    }
    let content = signed.content.as_deref().ok_or(ProfileError::NoContent)?;
    let dict = parse_plist(content)?;
    Ok(fields::from_dictionary(&dict, verify::verdict(&signed, trust)))
}

fn looks_like_plist(bytes: &[u8]) -> bool {
    let trimmed = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = trimmed.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let head = trimmed.get(start..).unwrap_or(&[]);
    head.starts_with(b"bplist")
        || head.starts_with(b"<?xml")
        || head.starts_with(b"<plist")
        || head.starts_with(b"<!DOCTYPE")
}

fn parse_plist(bytes: &[u8]) -> Result<plist::Dictionary, ProfileError> {
    use plist_guard::{PlistError, parse_dict};
    parse_dict(bytes).map_err(|e| match e {
        PlistError::TooDeep { limit } => ProfileError::TooDeep { limit },
        PlistError::NotADictionary => ProfileError::NotADictionary,
        PlistError::Refused(m) | PlistError::Invalid(m) => ProfileError::Plist(m),
    })
}

/// A time as RFC 3339 (UTC), for JSON and messages.
pub fn rfc3339(t: SystemTime) -> Option<String> {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_id_patterns() {
        let mut p = fields::from_dictionary(&plist::Dictionary::new(), SignatureVerdict::Unsigned);
        p.application_identifier = Some("TEAM.com.x".into());
        assert!(p.app_id_matches("com.x"));
        assert!(!p.app_id_matches("com.xy"));
        p.application_identifier = Some("TEAM.com.x.*".into());
        assert!(p.app_id_matches("com.x.share"));
        assert!(!p.app_id_matches("com.x"));
        assert!(!p.app_id_matches("com.y.share"));
        p.application_identifier = Some("TEAM.*".into());
        assert!(p.app_id_matches("anything.at.all"));
        p.application_identifier = None;
        assert!(!p.app_id_matches("com.x"));
    }

    /// A profile-shaped plist whose `Extra` value is `depth - 1` nested arrays (the root
    /// dictionary is the first level).
    fn nested_profile(depth: usize) -> Vec<u8> {
        let inner = depth - 1;
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Name</key><string>n</string><key>Extra</key>{}{}</dict></plist>"#,
            "<array>".repeat(inner),
            "</array>".repeat(inner)
        )
        .into_bytes()
    }

    #[test]
    fn nesting_is_capped_bare_and_inside_the_cms() {
        let pki = crate::sample::pki::TestPki::generate().expect("test PKI");
        let trust = pki.trust_store().expect("trust");
        let limit = plist_guard::MAX_DEPTH;
        for (depth, ok) in [(limit, true), (limit + 1, false), (250_000, false)] {
            let bare = nested_profile(depth);
            let signed = pki.sign_cms(&bare, false).expect("sign");
            for (what, bytes) in [("bare", bare), ("signed", signed)] {
                match decode(&bytes, &trust) {
                    Ok(p) => {
                        assert!(ok, "{what} {depth}: decoded");
                        assert_eq!(p.name.as_deref(), Some("n"));
                    }
                    Err(ProfileError::TooDeep { limit: l }) => {
                        assert!(!ok, "{what} {depth}: refused");
                        assert_eq!(l, limit);
                    }
                    Err(e) => panic!("{what} {depth}: {e}"),
                }
            }
        }
    }

    #[test]
    fn bare_plist_is_unsigned() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Name</key><string>n</string><key>ProvisionsAllDevices</key><true/></dict></plist>"#;
        let p = decode(xml, &TrustStore::apple()).unwrap();
        assert_eq!(p.signature, SignatureVerdict::Unsigned);
        assert_eq!(p.kind, ProfileKind::Enterprise);
        assert_eq!(p.name.as_deref(), Some("n"));
    }
}
