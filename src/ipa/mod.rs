//! Reading an IPA in place: the archive, the bundle tree, and the inspection built from them.

pub mod archive;
pub mod bundles;
pub mod entry;
mod eocd;
pub mod inspect;
pub mod model;
pub mod plist_guard;

pub use archive::{Archive, EntryMeta, IpaError, Limits};
pub use inspect::{Inspected, PlistFormat, inspect};
pub use model::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed, Platform};
