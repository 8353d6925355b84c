//! One X.509 certificate as the rest of the module needs it: the exact bytes that were signed, the
//! typed fields, and a printable summary (never the raw bytes).

use std::time::SystemTime;

use der::{Decode, Encode, Tag, Tagged};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::name::Name;

use super::crypto::{self, Digest};
use super::der as raw;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");

/// A decoded certificate plus the original encodings signatures are computed over.
#[derive(Debug, Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    /// The `TBSCertificate` exactly as it appears in `der`.
    tbs: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    pub fn parse(der_bytes: &[u8]) -> Result<Cert, String> {
        let (outer, rest) = raw::read(der_bytes).map_err(|e| format!("not a certificate: {e}"))?;
        if !rest.is_empty() {
            return Err("not a certificate: trailing data".into());
        }
        let outer = outer
            .expect(raw::SEQUENCE, "certificate SEQUENCE")
            .map_err(|e| format!("not a certificate: {e}"))?;
        let tbs = outer
            .children()
            .map_err(|e| format!("not a certificate: {e}"))?
            .first()
            .map(|t| t.raw.to_vec())
            .ok_or("not a certificate: empty")?;
        let cert = Certificate::from_der(der_bytes).map_err(|e| format!("not a certificate: {e}"))?;
        Ok(Cert {
            der: der_bytes.to_vec(),
            tbs,
            cert,
        })
    }

    pub fn subject(&self) -> &Name {
        &self.cert.tbs_certificate.subject
    }

    pub fn issuer(&self) -> &Name {
        &self.cert.tbs_certificate.issuer
    }

    /// Whether `self` names `other` as its issuer (compared on the DER of the names).
    pub fn issued_by_name(&self, other: &Cert) -> bool {
        match (self.issuer().to_der(), other.subject().to_der()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    pub fn is_self_issued(&self) -> bool {
        self.issued_by_name(self)
    }

    /// Verifies this certificate's signature with `issuer`'s public key.
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), String> {
        let signature = self
            .cert
            .signature
            .as_bytes()
            .ok_or("certificate signature has unused bits")?;
        crypto::verify(
            &issuer.cert.tbs_certificate.subject_public_key_info,
            &self.cert.signature_algorithm.oid,
            None,
            &self.tbs,
            signature,
        )
    }

    pub fn common_name(&self) -> Option<String> {
        name_attr(self.subject(), OID_CN)
    }

    pub fn organization(&self) -> Option<String> {
        name_attr(self.subject(), OID_O)
    }

    pub fn organizational_unit(&self) -> Option<String> {
        name_attr(self.subject(), OID_OU)
    }

    /// The common name, or the whole subject when there is none: what to call it in messages.
    pub fn display_name(&self) -> String {
        self.common_name().unwrap_or_else(|| self.subject().to_string())
    }

    pub fn not_after(&self) -> SystemTime {
        self.cert.tbs_certificate.validity.not_after.to_system_time()
    }

    pub fn summary(&self) -> CertificateSummary {
        CertificateSummary {
            subject: self.common_name(),
            team_id: self.organizational_unit(),
            serial: hex(self.cert.tbs_certificate.serial_number.as_bytes(), ""),
            sha1: hex(&Digest::Sha1.compute(&self.der), ":"),
            not_after: super::rfc3339(self.not_after()),
            error: None,
        }
    }
}

/// What `inspect` shows about a certificate: enough to recognise it in Keychain Access or the
/// developer portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    /// Subject common name, e.g. "Apple Distribution: Example Team (ABCDE12345)".
    pub subject: Option<String>,
    /// Subject organizational unit: the team id on Apple developer certificates.
    pub team_id: Option<String>,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-1 fingerprint of the DER, colon-separated hex (what Keychain Access shows).
    pub sha1: String,
    /// End of validity, RFC 3339.
    pub not_after: Option<String>,
    /// Why the certificate could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CertificateSummary {
    /// Summarises DER bytes, or says why they are not a certificate.
    pub fn of(der_bytes: &[u8]) -> CertificateSummary {
        match Cert::parse(der_bytes) {
            Ok(cert) => cert.summary(),
            Err(error) => CertificateSummary {
                subject: None,
                team_id: None,
                serial: String::new(),
                sha1: hex(&Digest::Sha1.compute(der_bytes), ":"),
                not_after: None,
                error: Some(error),
            },
        }
    }
}

fn hex(bytes: &[u8], sep: &str) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(sep)
}

/// The first value of attribute `oid` in a name, decoded from whichever string type it uses.
fn name_attr(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| {
            let bytes = atv.value.value();
            match atv.value.tag() {
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString | Tag::VisibleString => {
                    Some(String::from_utf8_lossy(bytes).into_owned())
                }
                Tag::BmpString => {
                    let units: Vec<u16> = bytes
                        .chunks_exact(2)
                        .filter_map(|c| match c {
                            [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                            _ => None,
                        })
                        .collect();
                    Some(String::from_utf16_lossy(&units))
                }
                _ => None,
            }
        })
}
