//! The binary's command line: the library's commands plus `sim` and `demo`, the two that run the
//! App Store Connect simulator. They live in the binary because the simulator (`asc-sim`, with its
//! HTTP server) is not part of the library: a user of `asc_publish` never compiles it.

use clap::{Parser, Subcommand};

use asc_publish::cli;
use asc_publish::error::Error;
use asc_publish::output::Format;
use asc_sim::SimError;

pub mod app_store_scene_args;
pub mod demo;
pub mod sim;

#[derive(Debug, Parser)]
#[command(name = "asc-publish", version, about = cli::ABOUT, after_help = cli::AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boxed: the library's commands are large and a parsed command line is one value.
    #[command(flatten)]
    Library(Box<cli::Command>),
    /// Run a local App Store Connect simulator (for tests, demos and dry-running pipelines).
    Sim(sim::SimArgs),
    /// Run the whole pipeline against the built-in simulator with a sample IPA.
    Demo(demo::DemoArgs),
}

impl Command {
    /// The output format the subcommand was asked for, so errors can be rendered the same way.
    pub fn format(&self) -> Format {
        match self {
            Command::Library(c) => c.format(),
            Command::Sim(_) | Command::Demo(_) => Format::Text,
        }
    }
}

/// Runs the subcommand; `Ok` carries the exit code, as [`cli::run`] does.
pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Library(command) => cli::run(cli::Cli { command: *command }),
        Command::Sim(args) => sim::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// A simulator that cannot start is a usage error: the fix is a flag or a directory.
fn sim_error(e: SimError) -> Error {
    let hint = e.hint();
    Error::usage(e.to_string()).with_hint(hint).with_source(e)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Cargo has no binary-only dependencies, so `asc-sim` is a dependency of the whole package;
    /// this keeps the library from using it: only the binary's files may name it.
    #[test]
    fn the_library_never_names_the_simulator() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(
            files.len() > 50,
            "found only {} files under {}",
            files.len(),
            src.display()
        );
        let binary_only = |p: &Path| p == src.join("main.rs") || p.starts_with(src.join("sim_cli"));
        let offenders: Vec<_> = files
            .iter()
            .filter(|p| !binary_only(p))
            .filter(|p| {
                let text = std::fs::read_to_string(p).expect("read source");
                // Code, not comments: a comment may say where the simulator went.
                text.lines()
                    .any(|l| !l.trim_start().starts_with("//") && l.contains("asc_sim"))
            })
            .collect();
        assert!(
            offenders.is_empty(),
            "library files that name the simulator: {offenders:?}"
        );
    }

    #[test]
    fn the_demo_app_is_the_one_the_simulator_seeds() {
        let app = asc_publish::sample::app::SampleApp::default();
        assert_eq!(app.bundle_id, asc_sim::DEFAULT_BUNDLE_ID);
    }

    #[test]
    fn simulator_errors_are_usage_errors_with_a_fix() {
        let e = sim_error(SimError::Seed("no app com.example.x".into()));
        assert_eq!(e.exit_code(), asc_publish::ExitCode::Usage.code());
        assert!(e.message().contains("no app com.example.x"), "{}", e.message());
        assert!(e.hint().is_some_and(|h| h.contains("--app")), "{:?}", e.hint());
    }

    #[test]
    fn sim_and_demo_sit_beside_the_library_commands() {
        let parsed = Cli::try_parse_from(["asc-publish", "sim", "--processing-result", "invalid"]).expect("sim");
        assert!(matches!(parsed.command, Command::Sim(_)));
        let parsed = Cli::try_parse_from(["asc-publish", "inspect", "x.ipa"]).expect("inspect");
        assert!(matches!(parsed.command, Command::Library(c) if matches!(*c, cli::Command::Inspect(_))));
        assert!(
            cli::Cli::try_parse_from(["asc-publish", "demo"]).is_err(),
            "the library has no demo"
        );
    }
}
