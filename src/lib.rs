//! asc-publish: take an iOS, tvOS, visionOS or macOS build from a CI job to TestFlight and the
//! App Store.
//!
//! The data flow is one straight line, each step a module with one job:
//! `IPA/pkg → inspection → plan (preflight) → upload → processing → distribution → release →
//! outcome → reporters`. Modules import only downwards (`tests/it/architecture.rs` checks that no
//! import cycle exists); `docs/architecture.md` is the map.
//!
//! - [`env`], [`output`]: the injected environment; the secret registry every printed line goes
//!   through.
//! - [`macho`], [`profile`]: executables and code signatures; provisioning profiles.
//! - [`ipa`], [`pkg`]: read an IPA or a macOS package in place into one inspection.
//! - [`validate`]: rules keyed by Apple's ITMS codes over the inspection.
//! - [`subject`]: what the user built (IPA or package, by its first bytes), inspected and validated.
//! - [`asc`]: the App Store Connect client; Apple's wire types live there and nowhere else.
//! - [`publish`]: the pipeline — plan, upload, processing, distribution, release — each stage
//!   returning a typed result and sending events; [`appleid`]: the Apple ID upload backend.
//! - [`report`], [`forge`], [`ci`]: the run drawn for the terminal, PR/MR comments, CI outputs.
//! - [`sample`]: synthesised IPAs and packages for the demo, tests and benchmarks.
//! - [`cli`]: the edge: arguments into settings, rendering, exit codes.
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
