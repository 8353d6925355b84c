//! Test helpers for the Mach-O parser and the signature rules: rcgen-made signer certificates, a
//! small CMS SignedData around them, in-memory archive entries and inspection trees.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::ipa::EntrySource;
use crate::ipa::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed};
use crate::macho::Binary;
use crate::profile::{Profile, ProfileKind, TrustStore};
use crate::sample::macho::CmsSigner;
use crate::validate::{Finding, RuleContext};

/// A signer certificate (DER) issued by a throwaway CA (DER).
pub struct TestIdentity {
    pub leaf_der: Vec<u8>,
    pub ca_der: Vec<u8>,
    pub ca_pem: String,
}

/// Makes a CA and a leaf with subject CN `cn`, OU `team`.
pub fn identity(cn: &str, team: &str) -> TestIdentity {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Test Worldwide Developer Relations CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");

    let leaf_key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationalUnitName, team);
    dn.push(DnType::OrganizationName, "Example Ltd");
    params.distinguished_name = dn;
    let leaf = params.signed_by(&leaf_key, &ca).expect("leaf");
    TestIdentity {
        leaf_der: leaf.der().to_vec(),
        ca_der: ca.der().to_vec(),
        ca_pem: ca.pem(),
    }
}

fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// A detached CMS SignedData "over" `content`, carrying `[leaf, ca]` with the leaf as signer.
/// The signature value is a placeholder: the parser only identifies the signer.
pub fn cms_for(id: &TestIdentity, content: &[u8]) -> Vec<u8> {
    let leaf = Certificate::from_der(&id.leaf_der).expect("leaf");
    let ca = Certificate::from_der(&id.ca_der).expect("ca");
    let sha256 = AlgorithmIdentifierOwned {
        oid: oid("2.16.840.1.101.3.4.2.1"),
        parameters: None,
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: leaf.tbs_certificate.issuer.clone(),
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    });
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid,
        digest_alg: sha256.clone(),
        signed_attrs: None,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: oid("1.2.840.10045.4.3.2"),
            parameters: None,
        },
        signature: OctetString::new(sha2_digest(content)).expect("octets"),
        unsigned_attrs: None,
    };
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).expect("set"),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oid("1.2.840.113549.1.7.1"),
            econtent: None,
        },
        // CA first, so finding the signer has to use the SignerIdentifier.
        certificates: Some(
            CertificateSet::try_from(vec![
                CertificateChoices::Certificate(ca),
                CertificateChoices::Certificate(leaf),
            ])
            .expect("set"),
        ),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer]).expect("set"),
    };
    let ci = ContentInfo {
        content_type: oid("1.2.840.113549.1.7.2"),
        content: Any::encode_from(&sd).expect("any"),
    };
    ci.to_der().expect("der")
}

fn sha2_digest(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// A CMS closure for the builder signing as `id`.
pub fn signer_closure(id: &TestIdentity) -> CmsSigner {
    let id = TestIdentity {
        leaf_der: id.leaf_der.clone(),
        ca_der: id.ca_der.clone(),
        ca_pem: id.ca_pem.clone(),
    };
    Arc::new(move |cd: &[u8]| cms_for(&id, cd))
}

/// Archive entries held in memory.
#[derive(Default)]
pub struct MemEntries(pub BTreeMap<String, Vec<u8>>);

impl EntrySource for MemEntries {
    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
    fn read(&self, name: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let b = self
            .0
            .get(name)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))?;
        if b.len() as u64 > limit {
            return Err(std::io::Error::other("entry too large"));
        }
        Ok(b.clone())
    }
    fn stream(&self, name: &str, sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64> {
        let b = self
            .0
            .get(name)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))?;
        // Odd chunk sizes, so page boundaries fall inside chunks.
        for c in b.chunks(1000) {
            sink(c)?;
        }
        Ok(b.len() as u64)
    }
}

/// A bundle with an Info.plist carrying `id`, an executable and optionally a profile.
pub fn bundle(path: &str, kind: BundleKind, id: &str, exe: Option<Binary>, profile: Option<Profile>) -> Bundle {
    let exe_name = path
        .rsplit('/')
        .next()
        .unwrap_or("App")
        .split('.')
        .next()
        .unwrap_or("App")
        .to_string();
    let mut info = plist::Dictionary::new();
    info.insert("CFBundleIdentifier".into(), id.into());
    info.insert("CFBundleExecutable".into(), exe_name.clone().into());
    info.insert("MinimumOSVersion".into(), "15.0".into());
    Bundle {
        path: path.to_string(),
        kind,
        parent: None,
        info: Some(info),
        info_error: None,
        identifier: Some(id.to_string()),
        short_version: Some("1.0".into()),
        version: Some("1".into()),
        executable_name: Some(exe_name.clone()),
        minimum_os: Some("15.0".into()),
        executable: exe.map(|b| Located {
            path: format!("{path}/{exe_name}"),
            size: 1,
            parsed: Parsed::Ok(b),
        }),
        profile: profile.map(|p| Located {
            path: format!("{path}/embedded.mobileprovision"),
            size: 1,
            parsed: Parsed::Ok(p),
        }),
    }
}

/// An App Store profile for `team` allowing `entitlements` and the given certificates.
pub fn profile(team: &str, entitlements: plist::Dictionary, certs: Vec<Vec<u8>>) -> Profile {
    Profile {
        kind: ProfileKind::AppStore,
        name: Some("Test App Store".into()),
        uuid: Some("00000000-0000-0000-0000-000000000000".into()),
        team_ids: vec![team.to_string()],
        team_name: Some("Test Team".into()),
        app_id_name: None,
        app_id_prefixes: vec![team.to_string()],
        application_identifier: None,
        platforms: vec!["iOS".into()],
        created: None,
        expires: None,
        created_at: None,
        expires_at: None,
        entitlements,
        developer_certificates: certs,
        certificates: Vec::new(),
        device_count: 0,
        provisions_all_devices: false,
        get_task_allow: false,
        beta_reports_active: true,
        signature: crate::profile::SignatureVerdict::AppleSigned {
            signer: "Apple iPhone OS Provisioning Profile Signing".into(),
        },
    }
}

pub fn inspection(bundles: Vec<Bundle>) -> Inspection {
    Inspection {
        file: FileFacts {
            path: "Test.ipa".into(),
            file_name: "Test.ipa".into(),
            size: 0,
            uncompressed_size: 0,
            entry_count: 0,
        },
        app: AppSummary::default(),
        bundles,
    }
}

/// Runs `check` over an inspection with the given entries.
pub fn run(
    check: fn(&RuleContext, &mut Vec<Finding>),
    ipa: &Inspection,
    entries: &MemEntries,
    deep: bool,
) -> Vec<Finding> {
    run_with(check, ipa, entries, deep, &TrustStore::apple())
}

/// Runs `check` with a given trust store.
pub fn run_with(
    check: fn(&RuleContext, &mut Vec<Finding>),
    ipa: &Inspection,
    entries: &MemEntries,
    deep: bool,
    trust: &TrustStore,
) -> Vec<Finding> {
    let ctx = RuleContext {
        ipa,
        entries,
        now: SystemTime::UNIX_EPOCH,
        trust,
        deep,
    };
    let mut out = Vec::new();
    check(&ctx, &mut out);
    out
}

/// Parses bytes that must be a valid Mach-O.
pub fn parse_ok(bytes: &[u8]) -> Binary {
    let mut r: &[u8] = bytes;
    crate::macho::parse(&mut r).expect("parse")
}

/// A dictionary from key/value pairs.
pub fn dict(pairs: &[(&str, plist::Value)]) -> plist::Dictionary {
    pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect()
}
