//! asc-publish: take an iOS `.ipa` from a CI job to TestFlight.
//!
//! The data flow is one straight line, each step a module with one job:
//! `IPA → inspection → plan (preflight) → upload → processing → distribution → outcome → reporters`.
//!
//! - [`ipa`]: read the archive without extracting it and build the bundle tree ([`ipa::inspect`]).
//! - [`macho`], [`profile`]: the executables and provisioning profiles inside it.
//! - [`validate`]: rules keyed by Apple's ITMS codes over the inspection.
//! - [`cli`]: the edge: arguments, environment, rendering, exit codes.

pub mod cli;
pub mod error;
pub mod output;
pub mod validate;

pub use error::{Error, ErrorKind, Result};
