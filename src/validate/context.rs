//! What every rule gets: the inspection, access to archive entries, the clock, and the options.

use std::time::SystemTime;

use crate::ipa::Inspection;
use crate::profile::TrustStore;

/// Read access to the IPA's entries, without extracting. Implemented by the archive reader and by
/// in-memory maps in tests.
pub trait EntrySource {
    /// Every entry name, in central-directory order (directories end with `/`).
    fn names(&self) -> Vec<String>;
    /// Whether an entry with exactly this name exists.
    fn contains(&self, name: &str) -> bool;
    /// Reads an entry whole, refusing (with an error) entries whose uncompressed size exceeds `limit`.
    fn read(&self, name: &str, limit: u64) -> std::io::Result<Vec<u8>>;
    /// Streams an entry through `sink` in chunks (bounded memory whatever its size); returns the
    /// number of bytes streamed.
    fn stream(&self, name: &str, sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64>;
}

pub struct RuleContext<'a> {
    pub ipa: &'a Inspection,
    pub entries: &'a dyn EntrySource,
    /// "Now", for expiry and dated rules (the SDK floor); injected so tests are stable.
    pub now: SystemTime,
    /// Roots that profiles and code signatures must chain to (Apple's, plus any extra roots the
    /// caller trusts on purpose, e.g. the demo's own CA).
    pub trust: &'a TrustStore,
    /// `--deep`: verify code-signature seals, may read the whole archive.
    pub deep: bool,
}
