//! Synthesised provisioning profiles: the same plist keys and CMS shape as Apple's, signed by the
//! test PKI (or left unsigned), plus a helper that tampers with a signed one.

use std::time::{Duration, SystemTime};

use plist::{Dictionary, Value};

use super::pki::{PkiError, TestPki};
use crate::profile::ProfileKind;

/// Everything a profile says. Start from [`ProfileBuilder::new`] or [`ProfileBuilder::for_pki`]
/// and adjust the public fields.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    pub kind: ProfileKind,
    pub team_id: String,
    pub team_name: String,
    /// `TEAM.com.example.demo`, or a wildcard `TEAM.*` / `TEAM.com.example.*`.
    pub app_id: String,
    pub name: String,
    pub uuid: String,
    pub created: SystemTime,
    pub expires: SystemTime,
    /// Merged over the defaults the kind implies (application-identifier, team-identifier,
    /// get-task-allow, keychain-access-groups, beta-reports-active).
    pub entitlements: Dictionary,
    /// DER certificates for `DeveloperCertificates`.
    pub developer_certificates: Vec<Vec<u8>>,
    /// How many (synthetic) UDIDs `ProvisionedDevices` lists; 0 leaves the key out.
    pub devices: usize,
    pub provisions_all_devices: bool,
    /// `Platform`, `["iOS"]` by default.
    pub platforms: Vec<String>,
}

impl ProfileBuilder {
    /// A profile of `kind` with the device keys that kind implies, valid for a year from now.
    pub fn new(kind: ProfileKind, team_id: &str, app_id: &str) -> ProfileBuilder {
        let now = SystemTime::now();
        ProfileBuilder {
            kind,
            team_id: team_id.to_string(),
            team_name: super::pki::SAMPLE_TEAM_NAME.to_string(),
            app_id: app_id.to_string(),
            name: format!("asc-publish sample {}", kind.label()),
            uuid: random_uuid(),
            created: now - Duration::from_secs(86_400),
            expires: now + Duration::from_secs(365 * 86_400),
            entitlements: Dictionary::new(),
            developer_certificates: Vec::new(),
            devices: match kind {
                ProfileKind::AdHoc | ProfileKind::Development => 3,
                ProfileKind::AppStore | ProfileKind::Enterprise => 0,
            },
            provisions_all_devices: kind == ProfileKind::Enterprise,
            platforms: vec!["iOS".to_string()],
        }
    }

    /// A profile for `bundle_id` in the PKI's team, naming the PKI's distribution certificate (its
    /// development certificate for development profiles).
    pub fn for_pki(kind: ProfileKind, pki: &TestPki, bundle_id: &str) -> ProfileBuilder {
        let mut b = ProfileBuilder::new(kind, &pki.team_id, &format!("{}.{bundle_id}", pki.team_id));
        b.team_name = pki.team_name.clone();
        let cert = if kind == ProfileKind::Development {
            &pki.development
        } else {
            &pki.distribution
        };
        b.developer_certificates = vec![cert.der().to_vec()];
        b
    }

    /// The profile's top-level dictionary.
    pub fn dictionary(&self) -> Dictionary {
        let mut ents = Dictionary::new();
        ents.insert("application-identifier".into(), Value::String(self.app_id.clone()));
        ents.insert(
            "com.apple.developer.team-identifier".into(),
            Value::String(self.team_id.clone()),
        );
        ents.insert(
            "get-task-allow".into(),
            Value::Boolean(self.kind == ProfileKind::Development),
        );
        ents.insert(
            "keychain-access-groups".into(),
            Value::Array(vec![Value::String(format!("{}.*", self.team_id))]),
        );
        if self.kind == ProfileKind::AppStore {
            ents.insert("beta-reports-active".into(), Value::Boolean(true));
        }
        for (k, v) in &self.entitlements {
            ents.insert(k.clone(), v.clone());
        }

        let mut d = Dictionary::new();
        d.insert("AppIDName".into(), Value::String(format!("{} App ID", self.name)));
        d.insert(
            "ApplicationIdentifierPrefix".into(),
            Value::Array(vec![Value::String(self.team_id.clone())]),
        );
        d.insert("CreationDate".into(), Value::Date(self.created.into()));
        d.insert(
            "Platform".into(),
            Value::Array(self.platforms.iter().cloned().map(Value::String).collect()),
        );
        d.insert("IsXcodeManaged".into(), Value::Boolean(false));
        d.insert(
            "DeveloperCertificates".into(),
            Value::Array(self.developer_certificates.iter().cloned().map(Value::Data).collect()),
        );
        d.insert("Entitlements".into(), Value::Dictionary(ents));
        d.insert("ExpirationDate".into(), Value::Date(self.expires.into()));
        d.insert("Name".into(), Value::String(self.name.clone()));
        if self.devices > 0 {
            // Obviously synthetic UDIDs: a fixed prefix and a counter.
            let udids = (0..self.devices)
                .map(|i| Value::String(format!("00000000-ASCPUBLISH{i:06}")))
                .collect();
            d.insert("ProvisionedDevices".into(), Value::Array(udids));
        }
        if self.provisions_all_devices {
            d.insert("ProvisionsAllDevices".into(), Value::Boolean(true));
        }
        d.insert(
            "TeamIdentifier".into(),
            Value::Array(vec![Value::String(self.team_id.clone())]),
        );
        d.insert("TeamName".into(), Value::String(self.team_name.clone()));
        let ttl = self.expires.duration_since(self.created).unwrap_or_default().as_secs() / 86_400;
        d.insert("TimeToLive".into(), Value::Integer(ttl.into()));
        d.insert("UUID".into(), Value::String(self.uuid.clone()));
        d.insert("Version".into(), Value::Integer(1.into()));
        d
    }

    /// The profile as a bare XML plist (what some tools ship: decodes as unsigned).
    pub fn build_unsigned(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing a plist of strings, data, dates and numbers into a Vec cannot fail.
        let _ = plist::to_writer_xml(&mut out, &Value::Dictionary(self.dictionary()));
        out
    }

    /// The profile as Apple ships it: a DER CMS SignedData around the XML plist, signed by the
    /// PKI's profile-signing certificate.
    pub fn build_signed(&self, pki: &TestPki) -> Result<Vec<u8>, PkiError> {
        pki.sign_cms(&self.build_unsigned(), false)
    }
}

/// A copy of a signed profile whose content was changed after signing (the case of one letter in
/// the `Name` value flipped), so it still parses but its signature no longer matches. `None` when
/// there is no `Name` string to change.
pub fn tamper(signed: &[u8]) -> Option<Vec<u8>> {
    let key = b"<key>Name</key>";
    let key_at = find(signed, key, 0)?;
    let string_at = find(signed, b"<string>", key_at + key.len())? + b"<string>".len();
    let mut out = signed.to_vec();
    let byte = out
        .iter_mut()
        .skip(string_at)
        .take(64)
        .find(|b| b.is_ascii_alphabetic())?;
    *byte ^= 0x20;
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn random_uuid() -> String {
    let hex = |n: usize| (0..n).map(|_| format!("{:X}", fastrand::u8(0..16))).collect::<String>();
    format!("{}-{}-4{}-{}-{}", hex(8), hex(4), hex(3), hex(4), hex(12))
}
