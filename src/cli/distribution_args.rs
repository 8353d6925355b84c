//! The TestFlight distribution flags shared by `upload`, `distribute` and `preflight`.

use std::path::PathBuf;

use clap::Args;

use crate::error::Error;
use crate::publish::distribution::{Distribution, what_to_test};

#[derive(Debug, Clone, Default, Args)]
pub struct DistributionArgs {
    /// Beta groups to add the build to, by name (case-insensitive) or id, comma-separated.
    /// Internal groups with access to all builds are skipped (they get it by themselves).
    /// `--group` is the same flag (the Go `asc` CLI spells it so).
    #[arg(long, visible_alias = "group", value_name = "NAMES", value_delimiter = ',')]
    pub groups: Vec<String>,
    /// What to Test for --locale (emoji are removed and over 4000 UTF-8 bytes is truncated, with a warning).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["what_to_test_file", "what_to_test_json"])]
    pub what_to_test: Option<String>,
    /// What to Test for --locale, read from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "what_to_test_json")]
    pub what_to_test_file: Option<PathBuf>,
    /// What to Test per locale: a JSON file `{"en-US": "...", "de-DE": "..."}`.
    #[arg(long, value_name = "FILE")]
    pub what_to_test_json: Option<PathBuf>,
    /// Locale of --what-to-test / --what-to-test-file.
    #[arg(long, value_name = "LOCALE", default_value = "en-US")]
    pub locale: String,
    /// Notify testers that the build is available (App Store Connect's auto-notify counts).
    #[arg(long)]
    pub notify: bool,
    /// Existing beta testers (emails, comma-separated) to give the build individually.
    #[arg(long, value_name = "EMAILS", value_delimiter = ',')]
    pub testers: Vec<String>,
    /// Submit the build for beta app review (needed for external groups); the app's test
    /// information is checked first.
    #[arg(long)]
    pub submit_beta_review: bool,
    /// Expire the app's older builds of the same version once this one is VALID.
    #[arg(long)]
    pub expire_previous: bool,
}

impl DistributionArgs {
    /// The distribution asked for, with What to Test read from its file.
    pub fn to_distribution(&self, quiet: bool) -> Result<Distribution, Error> {
        let what_to_test = localized_texts(
            self.what_to_test.as_ref(),
            self.what_to_test_file.as_ref(),
            self.what_to_test_json.as_ref(),
            &self.locale,
            Error::from,
        )?;
        Ok(Distribution {
            groups: self.groups.iter().filter(|g| !g.trim().is_empty()).cloned().collect(),
            what_to_test,
            notify: self.notify,
            testers: self.testers.iter().filter(|t| !t.trim().is_empty()).cloned().collect(),
            submit_beta_review: self.submit_beta_review,
            expire_previous: self.expire_previous,
            events: crate::report::terminal::lines(quiet),
        })
    }
}

/// Per-locale texts from a text flag, a file (both for `locale`) or a JSON file of locale → text:
/// What to Test here, What's New for `release`. `json_error` renders a bad JSON file.
pub fn localized_texts(
    text: Option<&String>,
    file: Option<&PathBuf>,
    json: Option<&PathBuf>,
    locale: &str,
    json_error: impl Fn(crate::publish::distribution::DistributionError) -> Error,
) -> Result<Vec<(String, String)>, Error> {
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).map_err(|e| {
            Error::usage(format!("cannot read {}: {e}", p.display())).with_hint("pass a readable UTF-8 text file")
        })
    };
    Ok(if let Some(t) = text {
        vec![(locale.to_string(), t.clone())]
    } else if let Some(p) = file {
        vec![(locale.to_string(), read(p)?)]
    } else if let Some(p) = json {
        what_to_test::parse_json(&read(p)?).map_err(json_error)?
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};

    fn distribution(argv: &[&str]) -> super::DistributionArgs {
        let mut full = vec!["asc-publish", "upload", "App.ipa"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).expect("parses").command {
            Command::Upload(u) => u.distribution,
            _ => unreachable!("upload"),
        }
    }

    #[test]
    fn group_is_an_alias_of_groups_and_both_accumulate() {
        let d = distribution(&["--group", "QA", "--groups=Beta,Friends", "--group=-nightly"]);
        assert_eq!(d.groups, ["QA", "Beta", "Friends", "-nightly"]);
    }

    #[test]
    fn values_in_equals_form_may_start_with_a_dash() {
        let d = distribution(&["--what-to-test=- Fixed login\n- New $HOME"]);
        assert_eq!(d.what_to_test.as_deref(), Some("- Fixed login\n- New $HOME"));
    }
}
