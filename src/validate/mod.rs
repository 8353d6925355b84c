//! Local validation: rules keyed by Apple's ITMS codes, run over an inspected IPA.

pub mod context;
pub mod deep;
pub mod finding;
pub mod rules;

use std::time::SystemTime;

use serde::Serialize;

pub use context::{EntrySource, RuleContext};
pub use finding::{Finding, Severity};

use crate::ipa::Inspected;
use crate::profile::TrustStore;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail validation too.
    pub strict: bool,
    /// Also verify code-signature seals (reads whole entries).
    pub deep: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// Whether the IPA passes: no errors (and, with `strict`, no warnings either).
    pub fn passed(&self, strict: bool) -> bool {
        self.errors() == 0 && (!strict || self.warnings() == 0)
    }
}

/// Runs every rule over an inspected IPA. STUB: the engine is being written.
pub fn validate(_inspected: &Inspected, _trust: &TrustStore, _options: &Options, _now: SystemTime) -> Report {
    Report { findings: Vec::new() }
}
