//! asc-publish: take an iOS `.ipa` from a CI job to TestFlight.
//!
//! The data flow is one straight line, each step a module with one job:
//! `IPA → inspection → plan (preflight) → upload → processing → distribution → outcome → reporters`.
//!
//! - [`ipa`]: read the archive without extracting it and build the bundle tree (the inspection).
//! - [`macho`], [`profile`]: the executables and provisioning profiles inside it.
//! - [`validate`]: rules keyed by Apple's ITMS codes over the inspection.
//! - [`asc`]: the App Store Connect client; Apple's wire types live there and nowhere else.
//! - [`publish`]: upload, processing, distribution, each producing typed results.
//! - [`sample`]: synthesised IPAs for the demo, tests and benchmarks.
//! - [`cli`]: the edge: arguments, environment, rendering, exit codes.
//!
//! The App Store Connect simulator is not in this library: it is the `asc-sim` crate
//! (`crates/asc-sim`), run by the binary's `sim` and `demo` commands and by the tests.

pub mod appleid;
pub mod asc;
pub mod ci;
pub mod cli;
pub mod env;
pub mod error;
pub mod forge;
pub mod hex;
pub mod ipa;
pub mod macho;
pub mod outcome;
pub mod output;
pub mod pkg;
pub mod profile;
pub mod publish;
pub mod report;
pub mod runtime;
pub mod sample;
pub mod subject;
pub mod validate;

pub use error::{Error, ErrorKind, ExitCode, Result};
