//! A minimal, bounds-checked BER/DER TLV walker for the outer CMS structure.
//!
//! Why not only `der`: the signature over signed attributes and certificates covers their bytes *as
//! sent*, so we need the exact original spans, and `der`'s `SetOf` re-sorts on decode. Apple and
//! OpenSSL also wrap content in BER indefinite lengths and constructed OCTET STRINGs at times; this
//! walker accepts those in the outer layers (depth-limited) while the leaves (certificates, signer
//! infos) are still decoded strictly with `der`/`x509-cert`/`cms`.

use std::borrow::Cow;

/// Universal tags we look for.
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const OCTET_STRING: u8 = 0x04;
pub const OCTET_STRING_CONSTRUCTED: u8 = 0x24;
pub const OID: u8 = 0x06;
pub const INTEGER: u8 = 0x02;
/// `[0]` and `[1]` constructed, context-specific.
pub const CTX0: u8 = 0xA0;
pub const CTX1: u8 = 0xA1;

/// How many levels of indefinite-length or constructed nesting are read before we give up (real
/// CMS uses a handful; recursion on each level must stay far from the stack's end). Below
/// `plist_guard::MAX_DEPTH` on purpose: DER nests much less than a plist.
pub const MAX_DEPTH: u8 = 32;

/// One element: its identifier octet, the whole encoding and the content octets.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// Header + content (+ end-of-contents octets for indefinite lengths): the element as sent.
    pub raw: &'a [u8],
    /// The content octets (for indefinite lengths, everything between the header and the EOC).
    pub content: &'a [u8],
    /// Encoded with BER's indefinite length (never valid DER).
    pub indefinite: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    #[error("truncated: an element runs past the end of the data")]
    Truncated,
    #[error("multi-byte (high) tag numbers are not used by CMS")]
    HighTag,
    #[error("length field is invalid or too large")]
    BadLength,
    #[error("nesting is too deep")]
    TooDeep,
    #[error("expected {expected}, found tag 0x{found:02x}")]
    Unexpected { expected: &'static str, found: u8 },
    #[error("missing {0}")]
    Missing(&'static str),
}

/// Reads one element from the front of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    read_at_depth(input, 0)
}

/// `depth` counts the elements this one sits inside (0 for the outermost).
fn read_at_depth(input: &[u8], depth: u8) -> Result<(Tlv<'_>, &[u8]), DerError> {
    if depth >= MAX_DEPTH {
        return Err(DerError::TooDeep);
    }
    let (&tag, after_tag) = input.split_first().ok_or(DerError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DerError::HighTag);
    }
    let (&first_len, mut after_len) = after_tag.split_first().ok_or(DerError::Truncated)?;
    let constructed = tag & 0x20 != 0;
    if first_len == 0x80 {
        // Indefinite length: only allowed on constructed encodings; children run until `00 00`.
        if !constructed {
            return Err(DerError::BadLength);
        }
        let header_len = input.len() - after_len.len();
        let mut rest = after_len;
        loop {
            if rest.starts_with(&[0, 0]) {
                let content_len = after_len.len() - rest.len();
                let total = header_len
                    .checked_add(content_len)
                    .and_then(|n| n.checked_add(2))
                    .ok_or(DerError::BadLength)?;
                let raw = input.get(..total).ok_or(DerError::Truncated)?;
                let content = after_len.get(..content_len).ok_or(DerError::Truncated)?;
                let remaining = input.get(total..).ok_or(DerError::Truncated)?;
                return Ok((
                    Tlv {
                        tag,
                        raw,
                        content,
                        indefinite: true,
                    },
                    remaining,
                ));
            }
            let (_, next) = read_at_depth(rest, depth + 1)?;
            rest = next;
        }
    }
    let len = if first_len & 0x80 == 0 {
        usize::from(first_len)
    } else {
        let count = usize::from(first_len & 0x7f);
        // Four length octets already describe 4 GiB; anything longer is hostile.
        if count == 0 || count > 4 {
            return Err(DerError::BadLength);
        }
        let (len_bytes, rest) = after_len.split_at_checked(count).ok_or(DerError::Truncated)?;
        after_len = rest;
        len_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let content = after_len.get(..len).ok_or(DerError::Truncated)?;
    let header_len = input.len() - after_len.len();
    let total = header_len.checked_add(len).ok_or(DerError::BadLength)?;
    let raw = input.get(..total).ok_or(DerError::Truncated)?;
    let remaining = input.get(total..).ok_or(DerError::Truncated)?;
    Ok((
        Tlv {
            tag,
            raw,
            content,
            indefinite: false,
        },
        remaining,
    ))
}

impl<'a> Tlv<'a> {
    /// Checks the identifier octet.
    pub fn expect(self, tag: u8, what: &'static str) -> Result<Self, DerError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(DerError::Unexpected {
                expected: what,
                found: self.tag,
            })
        }
    }

    /// The elements inside a constructed element, in order.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, DerError> {
        let mut out = Vec::new();
        let mut rest = self.content;
        while !rest.is_empty() {
            let (child, next) = read(rest)?;
            out.push(child);
            rest = next;
        }
        Ok(out)
    }

    /// The octets of an OCTET STRING, joining the segments of a BER constructed one.
    pub fn octets(&self) -> Result<Cow<'a, [u8]>, DerError> {
        self.octets_at_depth(0)
    }

    fn octets_at_depth(&self, depth: u8) -> Result<Cow<'a, [u8]>, DerError> {
        if depth >= MAX_DEPTH {
            return Err(DerError::TooDeep);
        }
        match self.tag {
            OCTET_STRING => Ok(Cow::Borrowed(self.content)),
            OCTET_STRING_CONSTRUCTED => {
                let mut joined = Vec::with_capacity(self.content.len());
                for child in self.children()? {
                    joined.extend_from_slice(&child.octets_at_depth(depth + 1)?);
                }
                Ok(Cow::Owned(joined))
            }
            found => Err(DerError::Unexpected {
                expected: "OCTET STRING",
                found,
            }),
        }
    }
}

/// Re-frames `content` under a new identifier octet with a definite DER length (used to turn the
/// `[0] IMPLICIT` signed attributes into the `SET OF` that was actually signed).
pub fn reframe(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        // Fits the short form by the branch condition.
        out.push(len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let skip = be.iter().take_while(|&&b| b == 0).count();
        let significant = be.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_definite_and_long_form() {
        let mut data = vec![0x04, 0x81, 0x80];
        data.extend(std::iter::repeat_n(7u8, 0x80));
        data.push(0xff);
        let (tlv, rest) = read(&data).unwrap();
        assert_eq!(tlv.tag, OCTET_STRING);
        assert_eq!(tlv.content.len(), 0x80);
        assert_eq!(rest, &[0xff]);
        assert_eq!(reframe(0x04, tlv.content), data[..data.len() - 1]);
    }

    #[test]
    fn reads_indefinite_and_joins_constructed_octets() {
        // [0] indefinite { OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let data = [
            0xA0, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00, 0x00,
        ];
        let (tlv, rest) = read(&data).unwrap();
        assert!(tlv.indefinite && rest.is_empty());
        let kids = tlv.children().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(&*kids[0].octets().unwrap(), b"abc");
    }

    #[test]
    fn rejects_hostile_lengths_without_panicking() {
        for data in [
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff][..],
            &[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9][..],
            &[0x30, 0x80, 0x04, 0x01][..],
            &[0x04, 0x80, 0x00, 0x00][..],
            &[0x30][..],
            &[][..],
            &[0x1f, 0x01, 0x00][..],
        ] {
            assert!(read(data).is_err(), "{data:02x?}");
        }
    }

    /// `levels` indefinite-length SEQUENCEs inside each other, closed properly.
    fn indefinite(levels: usize) -> Vec<u8> {
        let mut out = [0x30, 0x80].repeat(levels);
        out.extend([0x00, 0x00].repeat(levels));
        out
    }

    /// `levels` constructed OCTET STRINGs inside each other around "x".
    fn constructed_octets(levels: usize) -> Vec<u8> {
        let mut out = [0x24, 0x80].repeat(levels);
        out.extend_from_slice(&[0x04, 0x01, b'x']);
        out.extend([0x00, 0x00].repeat(levels));
        out
    }

    #[test]
    fn nesting_stops_at_the_limit_instead_of_exhausting_the_stack() {
        let limit = usize::from(MAX_DEPTH);
        let at_limit = indefinite(limit);
        let (tlv, rest) = read(&at_limit).expect("at the limit");
        assert!(tlv.indefinite && rest.is_empty());
        assert_eq!(read(&indefinite(limit + 1)).unwrap_err(), DerError::TooDeep);
        assert_eq!(read(&indefinite(250_000)).unwrap_err(), DerError::TooDeep);
        // A truncated hostile prefix (no end-of-contents at all) fails the same way.
        assert_eq!(read(&[0x30, 0x80].repeat(250_000)).unwrap_err(), DerError::TooDeep);

        // The leaf OCTET STRING is a level too: `limit - 1` wrappers around it are `limit` levels.
        let at_limit = constructed_octets(limit - 1);
        let (tlv, _) = read(&at_limit).expect("at the limit");
        assert_eq!(&*tlv.octets().expect("joins"), b"x");
        assert_eq!(read(&constructed_octets(limit)).unwrap_err(), DerError::TooDeep);
        assert_eq!(read(&constructed_octets(250_000)).unwrap_err(), DerError::TooDeep);
    }
}
