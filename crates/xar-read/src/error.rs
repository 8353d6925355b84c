//! Every way reading a package can fail, typed, with what was wrong and where.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum XarError {
    #[error("cannot read the package: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a xar archive (flat installer package): the file does not start with `xar!`")]
    NotXar,
    #[error("the xar header is damaged: {0}")]
    BadHeader(String),
    #[error("the table of contents is {size} bytes, more than the {limit} bytes we read")]
    TocTooLarge { size: u64, limit: u64 },
    #[error("the table of contents cannot be decompressed: {0}")]
    TocCompression(String),
    #[error("the table of contents is not valid XML: {0}")]
    TocXml(String),
    #[error("the table of contents lists more than {limit} files")]
    TooManyFiles { limit: usize },
    #[error("the table of contents nests elements more than {limit} levels deep")]
    TooDeep { limit: usize },
    #[error("the table of contents has no `{0}` entry")]
    NotFound(String),
    #[error("`{path}` is not a file with data in the archive's heap")]
    NoData { path: String },
    #[error("`{path}` lies outside the archive (heap offset {offset} + {length} bytes, file ends at {file_len})")]
    OutOfBounds {
        path: String,
        offset: u64,
        length: u64,
        file_len: u64,
    },
    #[error("`{path}` is {size} bytes, more than the {limit} bytes we read into memory")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    #[error("`{path}` uses the encoding `{encoding}`, which this reader does not decode")]
    UnsupportedEncoding { path: String, encoding: String },
    #[error("`{path}` cannot be decoded: {detail}")]
    Decode { path: String, detail: String },
    #[error("the payload is not a gzip'd cpio archive but {format}, which this reader does not decode")]
    UnsupportedPayload { format: String },
    #[error("the payload's cpio archive is damaged at byte {offset}: {detail}")]
    BadCpio { offset: u64, detail: String },
    #[error("the payload decompresses past {limit} bytes before the app was found")]
    PayloadTooLarge { limit: u64 },
    #[error("the payload holds more than {limit} entries before the app was found")]
    TooManyEntries { limit: u64 },
}

impl XarError {
    /// Whether the error came from a cap (the archive may be fine, just larger than we read).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            XarError::TocTooLarge { .. }
                | XarError::TooManyFiles { .. }
                | XarError::TooDeep { .. }
                | XarError::FileTooLarge { .. }
                | XarError::PayloadTooLarge { .. }
                | XarError::TooManyEntries { .. }
        )
    }
}
