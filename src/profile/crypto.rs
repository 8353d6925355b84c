//! The digest and signature algorithms CMS and X.509 name by OID, mapped onto aws-lc-rs.
//!
//! Apple signs profiles with RSA PKCS#1 v1.5 (SHA-1 in older ones, SHA-256 in newer), code
//! signatures with RSA or ECDSA; our test CA uses ECDSA P-256. Anything else is reported by name
//! instead of being guessed at.

use aws_lc_rs::{digest, signature};
use der::asn1::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// A digest algorithm we can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Digest> {
        match *oid {
            OID_SHA1 => Some(Digest::Sha1),
            OID_SHA256 => Some(Digest::Sha256),
            OID_SHA384 => Some(Digest::Sha384),
            OID_SHA512 => Some(Digest::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "SHA-1",
            Digest::Sha256 => "SHA-256",
            Digest::Sha384 => "SHA-384",
            Digest::Sha512 => "SHA-512",
        }
    }

    pub fn compute(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Digest::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &digest::SHA256,
            Digest::Sha384 => &digest::SHA384,
            Digest::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

/// Verifies `signature` over `message` with the key in `spki`, using the algorithm named by
/// `sig_alg` (an X.509/CMS signature algorithm OID). CMS often names only the key type
/// (`rsaEncryption`, `id-ecPublicKey`); then `digest_hint` supplies the hash.
pub fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: &ObjectIdentifier,
    digest_hint: Option<Digest>,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<(), String> {
    let hash = match *sig_alg {
        OID_SHA1_RSA => Digest::Sha1,
        OID_SHA256_RSA | OID_ECDSA_SHA256 => Digest::Sha256,
        OID_SHA384_RSA | OID_ECDSA_SHA384 => Digest::Sha384,
        OID_SHA512_RSA => Digest::Sha512,
        OID_RSA | OID_EC_PUBLIC_KEY => {
            digest_hint.ok_or_else(|| format!("signature algorithm {sig_alg} without a digest algorithm"))?
        }
        _ => return Err(format!("unsupported signature algorithm {sig_alg}")),
    };
    let key_bytes = spki.subject_public_key.raw_bytes();
    let alg: &'static dyn signature::VerificationAlgorithm = match spki.algorithm.oid {
        OID_RSA => match hash {
            Digest::Sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Digest::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Digest::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        },
        OID_EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match (curve, hash) {
                (Some(OID_P256), Digest::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
                (Some(OID_P256), Digest::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
                (Some(OID_P384), Digest::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
                (Some(OID_P384), Digest::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
                (curve, hash) => {
                    return Err(format!(
                        "unsupported ECDSA curve/hash: {} with {}",
                        curve.map(|c| c.to_string()).unwrap_or_else(|| "unknown curve".into()),
                        hash.name()
                    ));
                }
            }
        }
        other => return Err(format!("unsupported public key type {other}")),
    };
    signature::UnparsedPublicKey::new(alg, key_bytes)
        .verify(message, signature_bytes)
        .map_err(|_| "the signature does not verify with the signer's public key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            Digest::Sha1.compute(b"abc"),
            [
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c,
                0xd0, 0xd8, 0x9d
            ]
        );
        assert_eq!(Digest::Sha256.compute(b"").len(), 32);
        assert_eq!(Digest::from_oid(&OID_SHA256), Some(Digest::Sha256));
    }
}
