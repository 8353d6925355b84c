//! Building the [`Inspection`] from an opened archive: bundle tree, Info.plists, executables,
//! profiles, app summary.
//!
//! STUB: the interface other modules build against; being written.

use std::path::Path;

use crate::ipa::Inspection;
use crate::ipa::archive::{self, Archive, IpaError};
use crate::profile::TrustStore;

/// An inspected IPA: the inspection plus the open archive, for rules that need to read entries.
#[derive(Debug)]
pub struct Inspected {
    pub inspection: Inspection,
    pub archive: Archive,
}

/// Opens and inspects an IPA without extracting it. Fails only when the file cannot be read as an
/// archive at all; everything wrong inside a readable archive is left for the rules to report.
pub fn inspect(path: &Path, _trust: &TrustStore) -> Result<Inspected, IpaError> {
    let _archive = archive::open(path)?;
    unreachable!("stub")
}
