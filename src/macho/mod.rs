//! Mach-O executables (thin or fat) and their embedded code signatures.
//!
//! STUB: the interface other modules build against; the parser is being written.

use serde::Serialize;

/// Random access to an executable's bytes without loading it whole. Callers of [`parse`] should
/// expect ranges to be asked for in increasing offset order (a zip entry can only stream forward).
pub trait RangeReader {
    /// Total length of the executable.
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads exactly `len` bytes at `offset` (fewer only at end of file).
    fn read_range(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
}

impl RangeReader for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_range(&mut self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(<[u8]>::len(self));
        let end = start.saturating_add(len).min(<[u8]>::len(self));
        Ok(self[start..end].to_vec())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    pub slices: Vec<Slice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Slice {
    pub arch: String,
}

impl Binary {
    /// Architecture names of every slice, e.g. `["arm64"]`.
    pub fn architectures(&self) -> Vec<String> {
        self.slices.iter().map(|s| s.arch.clone()).collect()
    }

    /// Common name of the certificate that signed the code, if the signature carries one.
    pub fn signing_identity(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MachOError {
    #[error("not a Mach-O file")]
    NotMachO,
    #[error("I/O error reading the executable: {0}")]
    Io(#[from] std::io::Error),
}

pub fn parse(_reader: &mut dyn RangeReader) -> Result<Binary, MachOError> {
    Err(MachOError::NotMachO)
}
