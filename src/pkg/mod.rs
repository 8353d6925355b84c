//! macOS flat installer packages (`.pkg`): read in place through the `xar-read` crate, inspected
//! into the same [`crate::ipa::Inspection`] an IPA gives, and validated by the Mac App Store
//! package rules (`validate::rules::mac_pkg`). Choosing between an IPA and a package is
//! [`crate::subject`]'s job, above both readers and validation.

mod forward;
pub mod inspect;
pub mod model;

pub use inspect::{PkgError, inspect, inspect_with, is_package};
pub use model::{PackageFacts, PkgInspection};
