//! Reading an IPA in place: the archive, the bundle tree, and the inspection built from them.

pub mod model;

pub use model::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed, Platform};
