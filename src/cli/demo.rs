//! `asc-publish demo`.

use clap::Args;

use crate::error::Error;

#[derive(Debug, Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs) -> Result<i32, Error> {
    Err(Error::usage("`demo` is not implemented yet"))
}
