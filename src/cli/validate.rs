//! `asc-publish validate`: inspect an IPA, run every rule, print the findings and a verdict.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::Args;
use serde::Serialize;

use crate::cli::inspect::{human_size, to_json, trust_store, version_pair};
use crate::error::{Error, ExitCode};
use crate::ipa::{AppSummary, FileFacts, Inspection};
use crate::output::Format;
use crate::validate::{Finding, Options, Report};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Path to the .ipa file, or a macOS .pkg (read in place, never extracted).
    pub ipa: PathBuf,
    /// Output format: findings as text for people, or one JSON document on stdout for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
    /// Also verify code-signature seals (every sealed file and executable page is re-hashed, as
    /// App Store Connect does for ITMS-90035) and every entry's CRC. Reads the whole archive.
    #[arg(long)]
    pub deep: bool,
    /// Also trust this root certificate (PEM) when checking provisioning profiles and code
    /// signatures, besides Apple's. Meant for the simulator's sample IPAs and for tests.
    #[arg(long, value_name = "FILE", env = "ASC_EXTRA_ROOT_CA")]
    pub extra_root_ca: Option<PathBuf>,
}

/// The IPA as the validation document names it: file facts and app summary, flattened.
#[derive(Debug, Serialize)]
pub struct IpaSummary<'a> {
    #[serde(flatten)]
    pub file: &'a FileFacts,
    #[serde(flatten)]
    pub app: &'a AppSummary,
}

/// The one JSON document `validate --format json` prints.
#[derive(Debug, Serialize)]
pub struct ValidationDocument<'a> {
    pub ipa: IpaSummary<'a>,
    pub passed: bool,
    pub strict: bool,
    pub deep: bool,
    pub errors: usize,
    pub warnings: usize,
    pub findings: &'a [Finding],
}

impl<'a> ValidationDocument<'a> {
    pub fn new(inspection: &'a Inspection, report: &'a Report, options: &Options) -> Self {
        ValidationDocument {
            ipa: IpaSummary {
                file: &inspection.file,
                app: &inspection.app,
            },
            passed: report.passed(options.strict),
            strict: options.strict,
            deep: options.deep,
            errors: report.errors(),
            warnings: report.warnings(),
            findings: &report.findings,
        }
    }
}

pub fn run(args: ValidateArgs) -> Result<i32, Error> {
    let trust = trust_store(args.extra_root_ca.as_deref())?;
    let subject = crate::subject::Subject::open(&args.ipa, &trust)?;
    let options = Options {
        strict: args.strict,
        deep: args.deep,
    };
    let report = subject.validate(&trust, &options, SystemTime::now());
    match args.format {
        Format::Json => println!(
            "{}",
            to_json(&ValidationDocument::new(subject.inspection(), &report, &options))?
        ),
        Format::Text => print!("{}", render_text(subject.inspection(), &report, &options)),
    }
    Ok(if report.passed(options.strict) {
        ExitCode::Success
    } else {
        ExitCode::Rejected
    }
    .code())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Findings grouped errors then warnings (the report is sorted that way), then the verdict line.
pub fn render_text(inspection: &Inspection, report: &Report, options: &Options) -> String {
    let mut out = String::new();
    let app = &inspection.app;
    let _ = writeln!(
        out,
        "{}  {}  {}  ({})\n",
        inspection.file.file_name,
        app.bundle_id.as_deref().unwrap_or("?"),
        version_pair(app.short_version.as_deref(), app.version.as_deref()),
        human_size(inspection.file.size)
    );
    for finding in &report.findings {
        let label = if finding.is_error() { "error  " } else { "warning" };
        let path = if finding.path.is_empty() {
            "(archive)"
        } else {
            &finding.path
        };
        let _ = writeln!(out, "{label} {}  {path}", finding.code);
        let _ = writeln!(out, "        {}", finding.message);
        let _ = writeln!(out, "        fix: {}\n", finding.fix);
    }
    let counts = format!(
        "{}, {}",
        plural(report.errors(), "error"),
        plural(report.warnings(), "warning")
    );
    let verdict = if report.passed(options.strict) {
        format!("PASSED: {counts}")
    } else if report.errors() == 0 {
        format!("FAILED: {counts} (--strict: warnings fail too)")
    } else {
        format!("FAILED: {counts}")
    };
    let _ = writeln!(out, "{verdict}");
    out
}
