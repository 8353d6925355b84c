//! macOS flat installer packages (`.pkg`): read in place through the `xar-read` crate, inspected
//! into the same [`crate::ipa::Inspection`] an IPA gives, and validated by the Mac App Store
//! package rules (`validate::rules::mac_pkg`).

mod forward;
pub mod inspect;
pub mod model;
pub mod subject;

pub use inspect::{PkgError, inspect, inspect_with, is_package};
pub use model::{PackageFacts, PkgInspection};
pub use subject::Subject;
