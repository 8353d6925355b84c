//! Local validation: rules keyed by Apple's ITMS codes, run over an inspected IPA.

pub mod context;
pub mod finding;
pub mod rules;

pub use context::{EntrySource, RuleContext};
pub use finding::{Finding, Severity};
