//! `asc-publish upload`.

use clap::Args;

use crate::error::Error;
use crate::output::Format;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Path to the .ipa file.
    pub ipa: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(_args: UploadArgs) -> Result<i32, Error> {
    Err(Error::usage("`upload` is not implemented yet"))
}
