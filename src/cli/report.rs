//! `asc-publish report --from outcome.json`: publish a saved outcome again (e.g. in a later CI
//! step, or after `--report none`), with the same renderers as the run itself.

use std::io::Read as _;
use std::path::PathBuf;

use clap::Args;

use super::reporting::{self, ReportArgs};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::output::Format;

/// Outcome documents are a few kilobytes; anything far bigger is not one.
const MAX_OUTCOME_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ReportCmdArgs {
    /// The outcome written by `--output-json` (or `--format json`); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// What to print: the Markdown report (text) or the outcome (json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: ReportCmdArgs, env: &crate::asc::Env) -> Result<i32, Error> {
    // Redacted once, here: a saved outcome is replayed into every renderer below.
    let outcome = reporting::redacted(&read_outcome(&args.from)?, &args.report.tokens());
    match args.format {
        Format::Text => print!("{}", crate::report::markdown::render(&crate::report::view(&outcome))),
        Format::Json => crate::cli::render::print_outcome_json(&outcome),
    }
    for w in reporting::finish_run(&outcome, &args.report, &[], env) {
        crate::output::eprintln_redacted!("warning: {w}");
    }
    Ok(crate::ExitCode::Success.code())
}

/// Reads and parses a saved outcome (size-capped).
pub fn read_outcome(path: &std::path::Path) -> Result<Outcome, Error> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::usage(format!("cannot read the outcome {}: {e}", path.display()))
            .with_hint("pass the file written by `--output-json` (or the stdout of `--format json`)")
    };
    let mut buf = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(MAX_OUTCOME_BYTES + 1).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_OUTCOME_BYTES + 1).read_to_end(&mut buf))
    };
    read.map_err(|e| unreadable(&e))?;
    if buf.len() as u64 > MAX_OUTCOME_BYTES {
        return Err(unreadable(&"the file is too big to be an outcome"));
    }
    serde_json::from_slice(&buf).map_err(|e| unreadable(&e))
}
