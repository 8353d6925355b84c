//! `asc-publish sim`.

use clap::Args;

use crate::error::Error;

#[derive(Debug, Args)]
pub struct SimArgs {}

pub fn run(_args: SimArgs) -> Result<i32, Error> {
    Err(Error::usage("`sim` is not implemented yet"))
}
