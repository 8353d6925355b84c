//! Local validation: rules keyed by Apple's ITMS codes, run over an inspected IPA.

pub mod finding;

pub use finding::{Finding, Severity};
