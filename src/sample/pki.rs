//! A throwaway test PKI shaped like Apple's (root → WWDR-like intermediate → distribution,
//! development and profile-signing certificates), and a real CMS SignedData signer.
//!
//! Everything is P-256 and generated fresh on each call. The root says "NOT APPLE" in its name on
//! purpose: profiles and signatures made here are only trusted when a caller adds this root with
//! [`TrustStore::with_extra_root_pem`]; an unmodified `validate` reports them as not Apple's.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::profile::cms::{OID_CONTENT_TYPE, OID_DATA, OID_MESSAGE_DIGEST, OID_SIGNED_DATA, OID_SIGNING_TIME};
use crate::profile::{ProfileError, TrustStore};

/// The team the samples belong to unless told otherwise (ten characters, like Apple's).
pub const SAMPLE_TEAM_ID: &str = "ABCDE12345";
pub const SAMPLE_TEAM_NAME: &str = "Example Team";
pub const ROOT_NAME: &str = "asc-publish Test Root CA (NOT APPLE)";
pub const INTERMEDIATE_NAME: &str = "asc-publish Test WWDR CA";

const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// Apple's marker extensions on developer certificates (distribution / development).
const APPLE_DISTRIBUTION_EXT: &[u64] = &[1, 2, 840, 113635, 100, 6, 1, 4];
const APPLE_DEVELOPMENT_EXT: &[u64] = &[1, 2, 840, 113635, 100, 6, 1, 2];
/// `UID` in Apple developer certificate subjects.
const OID_UID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("CMS encoding failed: {0}")]
    Encode(#[from] der::Error),
    #[error("signing failed")]
    Sign,
}

/// One certificate of the test PKI with its private key and the chain above it.
pub struct TestCert {
    der: Vec<u8>,
    /// PKCS#8 of the private key. Never printed (see the `Debug` impl).
    key_pkcs8: Vec<u8>,
    /// DER of the issuers above this certificate, nearest first (ends with the root).
    chain: Vec<Vec<u8>>,
    common_name: String,
}

impl fmt::Debug for TestCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCert")
            .field("common_name", &self.common_name)
            .field("der_len", &self.der.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl TestCert {
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// The certificates above this one, nearest first (intermediate, then root).
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// A CMS `ContentInfo{SignedData}` over `content`, signed with this certificate's key (ECDSA
    /// P-256, SHA-256), with the signed attributes contentType, messageDigest and signingTime, and
    /// this certificate plus its chain embedded. `detached` leaves the content out (what code
    /// signatures do with the CodeDirectory).
    pub fn sign_cms(&self, content: &[u8], detached: bool) -> Result<Vec<u8>, PkiError> {
        self.sign_cms_with(content, detached, Vec::new())
    }

    /// [`sign_cms`](Self::sign_cms) with extra signed attributes (e.g. Apple's CDHashes).
    pub fn sign_cms_with(&self, content: &[u8], detached: bool, extra: Vec<Attribute>) -> Result<Vec<u8>, PkiError> {
        let signer = Certificate::from_der(&self.der)?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, content);
        let mut attrs = vec![
            attribute(OID_CONTENT_TYPE, Any::encode_from(&OID_DATA)?)?,
            attribute(
                OID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest.as_ref())?)?,
            )?,
            attribute(
                OID_SIGNING_TIME,
                Any::encode_from(&x509_cert::time::Time::try_from(SystemTime::now())?)?,
            )?,
        ];
        attrs.extend(extra);
        let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(attrs)?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.key_pkcs8).map_err(|_| PkiError::Sign)?;
        let signature = key
            .sign(&SystemRandom::new(), &signed_attrs.to_der()?)
            .map_err(|_| PkiError::Sign)?;

        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: signer.tbs_certificate.issuer.clone(),
                serial_number: signer.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: algorithm(OID_SHA256),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: algorithm(OID_ECDSA_SHA256),
            signature: OctetString::new(signature.as_ref())?,
            unsigned_attrs: None,
        };
        let mut certs = vec![CertificateChoices::Certificate(signer)];
        for der in &self.chain {
            certs.push(CertificateChoices::Certificate(Certificate::from_der(der)?));
        }
        let econtent = if detached {
            None
        } else {
            Some(Any::encode_from(&OctetString::new(content)?)?)
        };
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(OID_SHA256)])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: OID_DATA,
                econtent,
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
        };
        let content_info = ContentInfo {
            content_type: OID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        };
        Ok(content_info.to_der()?)
    }
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The whole test PKI.
#[derive(Debug)]
pub struct TestPki {
    pub team_id: String,
    pub team_name: String,
    /// "asc-publish Test Root CA (NOT APPLE)", self-signed.
    pub root: TestCert,
    /// "asc-publish Test WWDR CA", issued by the root; issues everything below.
    pub intermediate: TestCert,
    /// "Apple Distribution: Example Team (TEAMID)", OU = team id: signs App Store builds.
    pub distribution: TestCert,
    /// "Apple Development: …": what a development build is signed with.
    pub development: TestCert,
    /// Signs provisioning profiles (Apple's counterpart is "Apple iPhone OS Provisioning Profile Signing").
    pub profile_signing: TestCert,
}

impl TestPki {
    /// A fresh PKI for [`SAMPLE_TEAM_ID`] / [`SAMPLE_TEAM_NAME`].
    pub fn generate() -> Result<TestPki, PkiError> {
        TestPki::generate_for_team(SAMPLE_TEAM_ID, SAMPLE_TEAM_NAME)
    }

    pub fn generate_for_team(team_id: &str, team_name: &str) -> Result<TestPki, PkiError> {
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        let window = |params: &mut CertificateParams, days: u64| {
            params.not_before = (now - day).into();
            params.not_after = (now + day * days as u32).into();
        };

        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut root_params = CertificateParams::default();
        root_params.distinguished_name = rcgen::DistinguishedName::new();
        root_params.distinguished_name.push(DnType::CommonName, ROOT_NAME);
        root_params
            .distinguished_name
            .push(DnType::OrganizationName, "asc-publish (test only)");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        window(&mut root_params, 3650);
        let root_der = root_params.self_signed(&root_key)?.der().to_vec();
        let root_issuer = Issuer::new(root_params, &root_key);

        let inter_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut inter_params = CertificateParams::default();
        inter_params.distinguished_name = rcgen::DistinguishedName::new();
        inter_params
            .distinguished_name
            .push(DnType::CommonName, INTERMEDIATE_NAME);
        inter_params
            .distinguished_name
            .push(DnType::OrganizationName, "asc-publish (test only)");
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        inter_params.use_authority_key_identifier_extension = true;
        window(&mut inter_params, 3650);
        let inter_der = inter_params.signed_by(&inter_key, &root_issuer)?.der().to_vec();
        let inter_issuer = Issuer::new(inter_params, &inter_key);
        let chain = vec![inter_der.clone(), root_der.clone()];

        let leaf = |cn: String, org: &str, ou: Option<&str>, marker: Option<&[u64]>| -> Result<TestCert, PkiError> {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
            let mut params = CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            if let Some(team) = ou {
                params
                    .distinguished_name
                    .push(DnType::CustomDnType(OID_UID.to_vec()), team);
            }
            params.distinguished_name.push(DnType::CommonName, cn.as_str());
            if let Some(team) = ou {
                params.distinguished_name.push(DnType::OrganizationalUnitName, team);
            }
            params.distinguished_name.push(DnType::OrganizationName, org);
            params.distinguished_name.push(DnType::CountryName, "US");
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
            params.use_authority_key_identifier_extension = true;
            if let Some(oid) = marker {
                let mut ext = CustomExtension::from_oid_content(oid, vec![0x05, 0x00]);
                ext.set_criticality(true);
                params.custom_extensions.push(ext);
            }
            window(&mut params, 365);
            let der = params.signed_by(&key, &inter_issuer)?.der().to_vec();
            Ok(TestCert {
                der,
                key_pkcs8: key.serialize_der(),
                chain: chain.clone(),
                common_name: cn,
            })
        };
        let distribution = leaf(
            format!("Apple Distribution: {team_name} ({team_id})"),
            team_name,
            Some(team_id),
            Some(APPLE_DISTRIBUTION_EXT),
        )?;
        let development = leaf(
            format!("Apple Development: {team_name} ({team_id})"),
            team_name,
            Some(team_id),
            Some(APPLE_DEVELOPMENT_EXT),
        )?;
        let profile_signing = leaf(
            "asc-publish Test Profile Signing (NOT APPLE)".to_string(),
            "asc-publish (test only)",
            None,
            None,
        )?;

        Ok(TestPki {
            team_id: team_id.to_string(),
            team_name: team_name.to_string(),
            root: TestCert {
                der: root_der,
                key_pkcs8: root_key.serialize_der(),
                chain: Vec::new(),
                common_name: ROOT_NAME.to_string(),
            },
            intermediate: TestCert {
                der: inter_der,
                key_pkcs8: inter_key.serialize_der(),
                chain: chain.get(1..).map(<[Vec<u8>]>::to_vec).unwrap_or_default(),
                common_name: INTERMEDIATE_NAME.to_string(),
            },
            distribution,
            development,
            profile_signing,
        })
    }

    pub fn root_der(&self) -> &[u8] {
        &self.root.der
    }

    /// The root certificate as PEM, to pass as an extra trusted root.
    pub fn root_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.root.der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// Apple's root plus this PKI's root.
    pub fn trust_store(&self) -> Result<TrustStore, ProfileError> {
        TrustStore::apple().with_extra_root_der(&self.root.der)
    }

    /// A CMS signature made by the profile-signing certificate (what provisioning profiles use).
    pub fn sign_cms(&self, content: &[u8], detached: bool) -> Result<Vec<u8>, PkiError> {
        self.profile_signing.sign_cms(content, detached)
    }
}
