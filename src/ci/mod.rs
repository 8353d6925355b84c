//! CI-specific edges: detect the CI system, then write its outputs, annotations and summaries.
//!
//! Everything here consumes a [`crate::report::RunView`] and an injected environment map; nothing
//! outside `src/ci/` and `src/forge/` knows which CI system is running.

pub mod bitrise;
pub mod detect;
pub mod endpoints;
pub mod github;
pub mod gitlab;
pub mod outputs;
pub mod publish;

use std::path::PathBuf;

pub use detect::{CiContext, EnvMap, detect};

/// A failure writing a CI system's files or calling its tools.
#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("output `{name}` contains the heredoc delimiter; refusing to write an ambiguous value")]
    DelimiterInValue { name: String },
    #[error("`envman add --key {key}` failed: {detail}")]
    Envman { key: String, detail: String },
}

impl From<CiError> for crate::Error {
    fn from(e: CiError) -> Self {
        let hint = match &e {
            CiError::Write { .. } => {
                "Check that the CI-provided file path is writable (GITHUB_OUTPUT, \
                                      GITHUB_STEP_SUMMARY, the dotenv path or BITRISE_DEPLOY_DIR)."
            }
            CiError::DelimiterInValue { .. } => "Retry the run; the delimiter is random.",
            CiError::Envman { .. } => "Run the step inside a Bitrise build (envman ships with the Bitrise CLI).",
        };
        crate::Error::new(crate::ErrorKind::Usage, e.to_string())
            .with_hint(hint)
            .with_source(e)
    }
}
