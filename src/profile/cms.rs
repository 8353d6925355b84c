//! CMS `SignedData` (RFC 5652): parse the envelope and verify the signer's signature ourselves.
//!
//! Used for provisioning profiles (content encapsulated) and, through [`SignedData::verify`] with
//! detached content, for code signatures (the CodeDirectory is signed detached). Trust in the signer
//! is a separate question answered by [`TrustStore`](super::TrustStore).

use std::time::SystemTime;

use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::time::Time;

use super::certificate::Cert;
use super::crypto::Digest;
use super::der::{self as raw, DerError, Tlv};

pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    #[error("malformed ASN.1: {0}")]
    Der(#[from] DerError),
    #[error("not CMS SignedData (content type {0})")]
    NotSignedData(String),
    #[error("malformed SignedData: {0}")]
    Field(String),
}

/// A parsed `SignedData`: the content, the certificates it carries and its signers.
#[derive(Debug, Clone)]
pub struct SignedData {
    /// `eContentType` (id-data for profiles and code signatures).
    pub content_type: ObjectIdentifier,
    /// The encapsulated content; `None` when the signature is detached.
    pub content: Option<Vec<u8>>,
    /// DER of every X.509 certificate in `certificates`, in order.
    pub certificates: Vec<Vec<u8>>,
    signers: Vec<Signer>,
}

#[derive(Debug, Clone)]
struct Signer {
    info: SignerInfo,
    /// The signed attributes as sent, re-tagged as the `SET OF` the signature covers.
    signed_attrs: Option<Vec<u8>>,
}

/// A signer whose signature verified: who it is and what it signed with.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    /// DER of the signer's certificate (taken from the CMS certificates).
    pub certificate: Vec<u8>,
    /// The other certificates the CMS carries (candidates for the chain).
    pub others: Vec<Vec<u8>>,
    pub digest: Digest,
    /// The `signingTime` signed attribute, when present.
    pub signing_time: Option<SystemTime>,
}

fn field(msg: impl Into<String>) -> CmsError {
    CmsError::Field(msg.into())
}

fn oid_of(tlv: &Tlv<'_>) -> Result<ObjectIdentifier, CmsError> {
    let tlv = tlv.expect(raw::OID, "OBJECT IDENTIFIER")?;
    ObjectIdentifier::from_der(tlv.raw).map_err(|e| field(format!("bad OID: {e}")))
}

/// Parses `ContentInfo { signedData }`. Outer layers may use BER indefinite lengths; certificates
/// and signer infos must be DER.
pub fn parse(bytes: &[u8]) -> Result<SignedData, CmsError> {
    let (content_info, _trailing) = raw::read(bytes)?;
    let ci = content_info.expect(raw::SEQUENCE, "ContentInfo SEQUENCE")?.children()?;
    let [ci_type, ci_content, ..] = ci.as_slice() else {
        return Err(field("ContentInfo has no content"));
    };
    let ci_type = oid_of(ci_type)?;
    if ci_type != OID_SIGNED_DATA {
        return Err(CmsError::NotSignedData(ci_type.to_string()));
    }
    let sd = ci_content.expect(raw::CTX0, "[0] content")?.children()?;
    let sd = sd.first().ok_or_else(|| field("empty [0] content"))?;
    let parts = sd.expect(raw::SEQUENCE, "SignedData SEQUENCE")?.children()?;
    let mut parts = parts.iter().peekable();

    parts
        .next()
        .ok_or_else(|| field("no version"))?
        .expect(raw::INTEGER, "version INTEGER")?;
    parts
        .next()
        .ok_or_else(|| field("no digestAlgorithms"))?
        .expect(raw::SET, "digestAlgorithms SET")?;

    let encap = parts
        .next()
        .ok_or_else(|| field("no encapContentInfo"))?
        .expect(raw::SEQUENCE, "encapContentInfo SEQUENCE")?
        .children()?;
    let content_type = oid_of(encap.first().ok_or_else(|| field("no eContentType"))?)?;
    let content = match encap.get(1) {
        None => None,
        Some(explicit) => {
            let inner = explicit.expect(raw::CTX0, "[0] eContent")?.children()?;
            let octets = inner.first().ok_or_else(|| field("empty eContent"))?.octets()?;
            Some(octets.into_owned())
        }
    };

    let mut certificates = Vec::new();
    if let Some(certs) = parts.next_if(|t| t.tag == raw::CTX0) {
        for cert in certs.children()? {
            // Other CertificateChoices (attribute certificates, …) never sign profiles or code.
            if cert.tag == raw::SEQUENCE {
                certificates.push(cert.raw.to_vec());
            }
        }
    }
    let _crls = parts.next_if(|t| t.tag == raw::CTX1);

    let signer_set = parts
        .next()
        .ok_or_else(|| field("no signerInfos"))?
        .expect(raw::SET, "signerInfos SET")?;
    let mut signers = Vec::new();
    for signer in signer_set.children()? {
        let info = SignerInfo::from_der(signer.raw).map_err(|e| field(format!("SignerInfo: {e}")))?;
        let attrs = signer
            .children()?
            .into_iter()
            .find(|t| t.tag == raw::CTX0)
            .map(|t| {
                if t.indefinite {
                    Err(field("signed attributes use an indefinite length (not DER)"))
                } else {
                    Ok(raw::reframe(raw::SET, t.content))
                }
            })
            .transpose()?;
        signers.push(Signer {
            info,
            signed_attrs: attrs,
        });
    }
    Ok(SignedData {
        content_type,
        content,
        certificates,
        signers,
    })
}

impl SignedData {
    /// Verifies the first signer's signature: the `messageDigest` attribute equals the digest of the
    /// content (encapsulated, or `detached` when given), and the signature over the signed
    /// attributes verifies with the signer certificate's key. `Err` says what does not match.
    pub fn verify(&self, detached: Option<&[u8]>) -> Result<VerifiedSigner, String> {
        let signer = self.signers.first().ok_or("the CMS has no signer")?;
        let content = detached
            .or(self.content.as_deref())
            .ok_or("the CMS signature is detached and no content was given")?;
        let digest = Digest::from_oid(&signer.info.digest_alg.oid)
            .ok_or_else(|| format!("unsupported digest algorithm {}", signer.info.digest_alg.oid))?;
        let cert = self.signer_certificate(&signer.info)?;
        let signature = signer.info.signature.as_bytes();
        let sig_alg = &signer.info.signature_algorithm.oid;
        let spki = &cert.cert.tbs_certificate.subject_public_key_info;

        let mut signing_time = None;
        match (&signer.signed_attrs, &signer.info.signed_attrs) {
            (Some(attrs_der), Some(attrs)) => {
                let mut message_digest = None;
                for attr in attrs.iter() {
                    let Some(value) = attr.values.iter().next() else {
                        continue;
                    };
                    if attr.oid == OID_MESSAGE_DIGEST {
                        let octets = value
                            .decode_as::<OctetString>()
                            .map_err(|e| format!("messageDigest attribute is malformed: {e}"))?;
                        message_digest = Some(octets.as_bytes().to_vec());
                    } else if attr.oid == OID_CONTENT_TYPE {
                        let ty = value
                            .decode_as::<ObjectIdentifier>()
                            .map_err(|e| format!("contentType attribute is malformed: {e}"))?;
                        if ty != self.content_type {
                            return Err(format!(
                                "the signed contentType ({ty}) differs from the content's ({})",
                                self.content_type
                            ));
                        }
                    } else if attr.oid == OID_SIGNING_TIME {
                        signing_time = value
                            .to_der()
                            .ok()
                            .and_then(|d| Time::from_der(&d).ok())
                            .map(|t| t.to_system_time());
                    }
                }
                let expected = message_digest.ok_or("the signed attributes have no messageDigest")?;
                if expected != digest.compute(content) {
                    return Err(format!(
                        "the content does not match its signature (its {} digest differs from the signed \
                         messageDigest): it was changed after signing",
                        digest.name()
                    ));
                }
                super::crypto::verify(spki, sig_alg, Some(digest), attrs_der, signature)
                    .map_err(|e| format!("signed attributes: {e}"))?;
            }
            _ => super::crypto::verify(spki, sig_alg, Some(digest), content, signature)
                .map_err(|e| format!("the content does not match its signature: {e}"))?,
        }
        Ok(VerifiedSigner {
            certificate: cert.der.clone(),
            others: self.certificates.iter().filter(|c| **c != cert.der).cloned().collect(),
            digest,
            signing_time,
        })
    }

    /// The certificate the signer identifies itself by, among those the CMS carries.
    fn signer_certificate(&self, info: &SignerInfo) -> Result<Cert, String> {
        let certs = self.certificates.iter().filter_map(|d| Cert::parse(d).ok());
        let found = match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => certs.into_iter().find(|c| {
                c.cert.tbs_certificate.serial_number == ias.serial_number && c.cert.tbs_certificate.issuer == ias.issuer
            }),
            SignerIdentifier::SubjectKeyIdentifier(ski) => certs.into_iter().find(|c| {
                c.cert
                    .tbs_certificate
                    .extensions
                    .iter()
                    .flatten()
                    .filter(|e| e.extn_id == OID_SUBJECT_KEY_ID)
                    .any(|e| OctetString::from_der(e.extn_value.as_bytes()).is_ok_and(|k| k == ski.0))
            }),
        };
        found.ok_or_else(|| "the signer's certificate is not among the certificates in the CMS".to_string())
    }
}
