//! Reading an IPA in place: the archive, the bundle tree, and the inspection built from them.

pub mod archive;
pub mod assets_car;
pub mod entry_source;
pub mod inspect;
pub mod model;

// The reader's parts, public for the rules, tests and fuzz targets that use them directly.
pub mod bundles;
pub mod entry;
mod eocd;
pub use plist_guard;
pub mod stack;

pub use archive::{Archive, EntryMeta, IpaError, Limits};
pub use entry_source::EntrySource;
pub use inspect::{Inspected, PlistFormat, inspect};
pub use model::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed, Platform, PlatformEvidence};
