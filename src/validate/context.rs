//! What every rule gets: the inspection, access to archive entries, the clock, and the options.

use std::time::SystemTime;

use crate::ipa::{EntrySource, Inspection};
use crate::profile::TrustStore;

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
