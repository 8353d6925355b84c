//! Hex encoding of digests and random tokens, in the case each consumer expects (lowercase for
//! our own MD5s and code-signature hashes, uppercase where Apple's storage and protocol write it).

use std::fmt::Write;

pub fn lower(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn upper(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_cases_two_digits_per_byte() {
        assert_eq!(super::lower(&[0x00, 0x0f, 0xab]), "000fab");
        assert_eq!(super::upper(&[0x00, 0x0f, 0xab]), "000FAB");
        assert_eq!(super::lower(&[]), "");
    }
}
