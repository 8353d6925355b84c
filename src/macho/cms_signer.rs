//! The signer of a code signature's CMS blob: which certificate, its names, and its chain.
//!
//! Apple's `codesign` writes the CMS in BER with indefinite lengths, which the `der` crate refuses;
//! [`ber_to_der`] rewrites those lengths as definite ones before decoding with `cms`.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::name::Name;

const OID_CN: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_OU: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_O: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_SIGNED_DATA: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// Levels of nesting accepted; deeper is refused (real CMS nests about 10 levels, and each level
/// is one recursion).
pub(crate) const MAX_DEPTH: usize = 64;
/// At most this many certificates are looked at.
const MAX_CERTS: usize = 32;

/// The certificate that signed a code signature. Never serialises certificate bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    /// Subject CN, e.g. `Apple Distribution: Example Ltd (ABCDE12345)`.
    pub common_name: Option<String>,
    /// Subject OU: the team identifier on Apple-issued certificates.
    pub team_id: Option<String>,
    /// Subject O.
    pub organization: Option<String>,
    /// Issuer CN, e.g. `Apple Worldwide Developer Relations Certification Authority`.
    pub issuer_common_name: Option<String>,
    /// Hex serial number.
    pub serial: String,
    /// DER of the signer certificate.
    #[serde(skip)]
    pub certificate_der: Vec<u8>,
    /// DER of the other certificates in the CMS (the chain towards the root).
    #[serde(skip)]
    pub intermediates: Vec<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("malformed BER: {0}")]
    Ber(&'static str),
    #[error("{0}")]
    Der(#[from] der::Error),
    #[error("the CMS is not SignedData")]
    NotSignedData,
    #[error("the CMS carries no certificate")]
    NoCertificate,
}

/// Finds the signer certificate of a CMS SignedData (BER or DER): the one matching the first
/// SignerInfo's issuer and serial (or subject key identifier), else the first certificate that
/// issued no other certificate in the set (the leaf).
pub fn signer_from_cms(cms: &[u8]) -> Result<Signer, CmsError> {
    let der = ber_to_der(cms)?;
    let ci = ContentInfo::from_der(&der)?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(CmsError::NotSignedData);
    }
    let sd: SignedData = ci.content.decode_as()?;
    let certs: Vec<Certificate> = sd
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c.clone()),
                    CertificateChoices::Other(_) => None,
                })
                .take(MAX_CERTS)
                .collect()
        })
        .unwrap_or_default();
    if certs.is_empty() {
        return Err(CmsError::NoCertificate);
    }
    let by_sid = sd.signer_infos.0.iter().next().and_then(|si| {
        certs.iter().position(|c| match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.tbs_certificate.issuer == ias.issuer && c.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => c
                .tbs_certificate
                .extensions
                .iter()
                .flatten()
                .any(|e| e.extn_id == const_oid_ski() && e.extn_value.as_bytes().ends_with(ski.0.as_bytes())),
        })
    });
    let leaf = by_sid
        .or_else(|| {
            certs.iter().position(|c| {
                !certs
                    .iter()
                    .any(|o| o.tbs_certificate.issuer == c.tbs_certificate.subject && o != c)
            })
        })
        .unwrap_or(0);
    let mut der_certs = Vec::new();
    for c in &certs {
        der_certs.push(c.to_der()?);
    }
    let cert = certs.get(leaf).ok_or(CmsError::NoCertificate)?;
    let tbs = &cert.tbs_certificate;
    Ok(Signer {
        common_name: name_attr(&tbs.subject, OID_CN),
        team_id: name_attr(&tbs.subject, OID_OU),
        organization: name_attr(&tbs.subject, OID_O),
        issuer_common_name: name_attr(&tbs.issuer, OID_CN),
        serial: tbs
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        certificate_der: der_certs.get(leaf).cloned().unwrap_or_default(),
        intermediates: der_certs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != leaf)
            .map(|(_, d)| d)
            .collect(),
    })
}

fn const_oid_ski() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.14")
}

/// The first value of attribute `oid` in a distinguished name, as text.
pub fn name_attr(name: &Name, oid: der::asn1::ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|a| a.oid == oid)
        .and_then(|a| {
            let v = &a.value;
            v.decode_as::<Utf8StringRef>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| v.decode_as::<PrintableStringRef>().map(|s| s.as_str().to_string()))
                .or_else(|_| v.decode_as::<Ia5StringRef>().map(|s| s.as_str().to_string()))
                .or_else(|_| v.decode_as::<TeletexStringRef>().map(|s| s.as_str().to_string()))
                .ok()
        })
}

/// Rewrites BER indefinite lengths as DER definite lengths (everything else is copied as is).
pub fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, CmsError> {
    let mut out = Vec::with_capacity(input.len());
    let used = convert_one(input, &mut out, 0)?;
    if used != input.len() && input.get(used..).is_some_and(|rest| rest.iter().any(|&b| b != 0)) {
        return Err(CmsError::Ber("trailing bytes after the CMS"));
    }
    Ok(out)
}

/// Converts the TLV at the start of `input`, appending to `out`; returns the bytes consumed.
fn convert_one(input: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<usize, CmsError> {
    // `depth` counts the elements around this one, so MAX_DEPTH levels in all are accepted.
    if depth >= MAX_DEPTH {
        return Err(CmsError::Ber("nested too deeply"));
    }
    let first = *input.first().ok_or(CmsError::Ber("truncated tag"))?;
    let constructed = first & 0x20 != 0;
    let mut pos = 1;
    if first & 0x1f == 0x1f {
        loop {
            let b = *input.get(pos).ok_or(CmsError::Ber("truncated tag"))?;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
            if pos > 6 {
                return Err(CmsError::Ber("tag number too long"));
            }
        }
    }
    let tag = input.get(..pos).ok_or(CmsError::Ber("truncated tag"))?;
    let len_byte = *input.get(pos).ok_or(CmsError::Ber("truncated length"))?;
    pos += 1;
    if len_byte == 0x80 {
        if !constructed {
            return Err(CmsError::Ber("indefinite length on a primitive value"));
        }
        let mut content = Vec::new();
        loop {
            let rest = input.get(pos..).ok_or(CmsError::Ber("truncated content"))?;
            if rest.starts_with(&[0, 0]) {
                pos += 2;
                break;
            }
            pos += convert_one(rest, &mut content, depth + 1)?;
        }
        write_tlv(out, tag, &content);
        return Ok(pos);
    }
    let len = if len_byte & 0x80 == 0 {
        usize::from(len_byte)
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 4 {
            return Err(CmsError::Ber("length too long"));
        }
        let bytes = input.get(pos..pos + n).ok_or(CmsError::Ber("truncated length"))?;
        pos += n;
        bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let end = pos.checked_add(len).ok_or(CmsError::Ber("length overflows"))?;
    let body = input
        .get(pos..end)
        .ok_or(CmsError::Ber("content shorter than its length"))?;
    if constructed {
        let mut content = Vec::with_capacity(body.len());
        let mut p = 0;
        while p < body.len() {
            p += convert_one(body.get(p..).unwrap_or_default(), &mut content, depth + 1)?;
        }
        write_tlv(out, tag, &content);
    } else {
        write_tlv(out, tag, body);
    }
    Ok(end)
}

fn write_tlv(out: &mut Vec<u8>, tag: &[u8], content: &[u8]) {
    out.extend_from_slice(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
}
