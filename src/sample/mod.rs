//! Synthesised IPAs for the demo, the tests and the benchmarks: real zip archives with real
//! plists, Mach-O executables with load commands and code signatures, and provisioning profiles
//! signed by a local test CA (never Apple's, so an unmodified `validate` reports them as "not Apple").

pub mod app;
pub mod ipa;
pub mod macho;
pub mod pkg;
pub mod pki;
pub mod platform;
pub mod profile;
