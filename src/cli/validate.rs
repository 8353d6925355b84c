//! `asc-publish validate`.

use clap::Args;

use crate::error::Error;
use crate::output::Format;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Path to the .ipa file.
    pub ipa: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(_args: ValidateArgs) -> Result<i32, Error> {
    Err(Error::usage("`validate` is not implemented yet"))
}
