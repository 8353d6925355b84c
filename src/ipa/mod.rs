//! Reading an IPA in place: the archive, the bundle tree, and the inspection built from them.

pub mod archive;
pub mod assets_car;
pub mod inspect;
pub mod model;

pub use archive::{Archive, IpaError};
pub use inspect::{Inspected, inspect};
pub use model::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed, Platform};
