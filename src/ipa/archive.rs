//! The IPA as a zip archive read in place: central directory, entry metadata, bounded reads.
//!
//! STUB: the interface other modules build against; the reader is being written.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::validate::EntrySource;

/// An opened IPA.
#[derive(Debug)]
pub struct Archive {
    pub path: PathBuf,
}

impl EntrySource for Archive {
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn contains(&self, _name: &str) -> bool {
        false
    }
    fn read(&self, name: &str, _limit: u64) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))
    }
    fn stream(&self, name: &str, _sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, name.to_string()))
    }
}

/// Why an IPA cannot be read at all (exit 2). Problems inside a readable IPA are findings instead.
#[derive(Debug, thiserror::Error)]
pub enum IpaError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable zip archive: {reason}")]
    NotZip { path: PathBuf, reason: String },
}

impl From<IpaError> for Error {
    fn from(e: IpaError) -> Self {
        let hint = match &e {
            IpaError::Open { .. } => {
                "check the path to the .ipa (it is usually the output of `xcodebuild -exportArchive`)"
            }
            IpaError::NotZip { .. } => {
                "an .ipa is a zip archive; re-export it from Xcode, and make sure the CI artifact was not truncated"
            }
        };
        Error::new(ErrorKind::Usage, e.to_string())
            .with_hint(hint)
            .with_source(e)
    }
}

pub fn open(path: &Path) -> Result<Archive, IpaError> {
    Err(IpaError::NotZip {
        path: path.to_path_buf(),
        reason: "reader not implemented yet".into(),
    })
}
