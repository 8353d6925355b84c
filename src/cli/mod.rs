//! The command line: one file per subcommand, each owning its arguments and its rendering. The
//! binary adds `sim` and `demo` (`src/sim_cli/`): they run the simulator, which this library does
//! not contain.

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::output::Format;

pub use render::{render_error, render_error_beside_outcome};

pub mod appleid_args;
pub mod builds;
pub mod connection_args;
pub mod distribute;
pub mod distribution_args;
pub mod inspect;
pub mod preflight;
pub mod release;
pub mod render;
pub mod report;
pub mod reporting;
pub mod upload;
pub mod validate;

pub const ABOUT: &str = "Take an iOS .ipa from CI to TestFlight: validate it locally against what App Store Connect \
rejects, upload it through Apple's Build Uploads API, wait for processing and report the result.";

pub const AFTER_HELP: &str = "\
Exit codes:
  0  success (warnings allowed)
  1  rejected: local validation errors, or Apple's processing verdict was INVALID/FAILED
  2  usage error, or input that cannot be read at all
  3  authentication or permission problem
  4  App Store Connect state conflict (no app record, duplicate build number, unknown group;
     for a release: missing App Store metadata, another submission with App Review)
  5  transient failure after retries were exhausted

Start with `asc-publish demo` to see a whole run against the built-in App Store Connect simulator.";

/// The library's commands. The binary's parser flattens [`Command`] into its own, beside `sim`
/// and `demo`, with the same name, version and texts.
#[derive(Debug, Parser)]
#[command(name = "asc-publish", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what is inside an IPA: identity, versions, bundles, architectures, profile, signing.
    Inspect(inspect::InspectArgs),
    /// Check an IPA locally against the rules App Store Connect applies (ITMS codes).
    Validate(validate::ValidateArgs),
    /// Validate, upload and wait for App Store Connect to process an IPA.
    Upload(upload::UploadArgs),
    /// Distribute an already uploaded build on TestFlight (groups, What to Test, testers, review).
    #[command(after_help = distribute::AFTER_HELP)]
    Distribute(distribute::DistributeArgs),
    /// Submit a processed build to App Store review (version, What's New, release type, phased
    /// release), or show where a release stands (`release status`).
    #[command(after_help = release::AFTER_HELP)]
    Release(release::ReleaseArgs),
    /// List, inspect and expire builds.
    Builds(builds::BuildsArgs),
    /// Every server-side check `upload` makes, without sending a byte; prints the plan.
    #[command(after_help = "Exit code: what `upload` would fail with (0 when every check passes).")]
    Preflight(preflight::PreflightArgs),
    /// Publish a saved outcome (`--output-json`) again: job summary, outputs, PR/MR comment.
    Report(report::ReportCmdArgs),
}

impl Command {
    /// The output format the subcommand was asked for, so errors can be rendered the same way.
    pub fn format(&self) -> Format {
        match self {
            Command::Inspect(a) => a.format,
            Command::Validate(a) => a.format,
            Command::Upload(a) => a.format,
            Command::Distribute(a) => a.format,
            Command::Release(a) => a.format(),
            Command::Builds(a) => a.format(),
            Command::Preflight(a) => a.upload.format,
            Command::Report(a) => a.format,
        }
    }
}

impl Command {
    /// Secret values given as flags (the key, forge tokens), and the names of variables holding
    /// one that only the command knows (`--password-env`); `None` for commands that read no secret.
    fn secrets(&self) -> Option<(Vec<&str>, Vec<&str>)> {
        fn key(c: &connection_args::ConnectionArgs) -> Option<&str> {
            c.private_key.as_ref().map(|k| k.expose().as_str())
        }
        fn upload(a: &upload::UploadArgs) -> (Vec<&str>, Vec<&str>) {
            let mut s = a.report.tokens();
            s.extend(key(&a.connection));
            (s, a.apple_id.password_env.as_deref().into_iter().collect())
        }
        match self {
            Command::Upload(a) => Some(upload(a)),
            Command::Preflight(a) => Some(upload(&a.upload)),
            Command::Distribute(a) => {
                let mut s = a.report.tokens();
                s.extend(key(&a.connection));
                Some((s, Vec::new()))
            }
            Command::Builds(a) => Some((key(a.connection()).into_iter().collect(), Vec::new())),
            Command::Release(a) => {
                let mut s = if a.action.is_none() {
                    a.submit.report.tokens()
                } else {
                    Vec::new()
                };
                s.extend(key(a.connection()));
                Some((s, Vec::new()))
            }
            Command::Report(a) => Some((a.report.tokens(), Vec::new())),
            Command::Inspect(_) | Command::Validate(_) => None,
        }
    }
}

/// Runs the subcommand; `Ok` carries the exit code (a rejected IPA is a result, not an error).
/// A command that reads a secret has it masked and registered for redaction first, here, so no
/// command can forget to.
pub fn run(cli: Cli) -> Result<i32, Error> {
    // The one read of the process environment; everything below is handed this.
    let env = crate::asc::Env::from_process();
    crate::output::masks_with(crate::ci::github::masker_for(&env));
    if let Some((flags, vars)) = cli.command.secrets() {
        let masks = reporting::protect_secrets(&env, &flags, &vars);
        if !masks.is_empty() {
            crate::output::eprint_masks(&masks);
        }
    }
    let extra_root_ca = match &cli.command {
        Command::Upload(a) => a.extra_root_ca.as_deref(),
        Command::Preflight(a) => a.upload.extra_root_ca.as_deref(),
        _ => None,
    };
    if let Some(ca) = extra_root_ca {
        let from = crate::publish::endpoint_warnings::source_of_in(&env, "ASC_EXTRA_ROOT_CA", "--extra-root-ca", ca);
        crate::ci::endpoints::print_warnings_in(
            &env,
            &[crate::publish::endpoint_warnings::root_ca_warning(
                ca,
                from,
                "for provisioning profiles and code signatures, besides Apple's",
            )],
        );
    }
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Upload(args) => upload::run(args, &env),
        Command::Distribute(args) => distribute::run(args, &env),
        Command::Release(args) => release::run(args),
        Command::Builds(args) => builds::run(args, &env),
        Command::Preflight(args) => preflight::run(args, &env),
        Command::Report(args) => report::run(args, &env),
    }
}
