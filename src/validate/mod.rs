//! Local validation: rules keyed by Apple's ITMS codes, run over an inspected IPA.
//!
//! The engine runs every rules module over one [`RuleContext`], isolates a rule that panics (the
//! others still report), adds what reading the archive itself revealed (CRC and inflate failures,
//! which are only known once entries were read), and sorts the findings deterministically.

pub mod context;
pub mod deep;
pub mod finding;
pub mod rules;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::SystemTime;

use serde::Serialize;

pub use context::RuleContext;
pub use finding::{Finding, Severity};

use crate::ipa::Inspected;
use crate::profile::TrustStore;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Warnings fail validation too.
    pub strict: bool,
    /// Also verify code-signature seals (reads whole entries).
    pub deep: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// A report over `findings`, sorted: errors first, then by path, then by code.
    pub fn new(mut findings: Vec<Finding>) -> Self {
        sort_findings(&mut findings);
        Report { findings }
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// Whether the IPA passes: no errors (and, with `strict`, no warnings either).
    pub fn passed(&self, strict: bool) -> bool {
        self.errors() == 0 && (!strict || self.warnings() == 0)
    }
}

/// Errors first, then path, then code, then message; exact duplicates removed.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings
        .sort_by(|a, b| (a.severity, &a.path, &a.code, &a.message).cmp(&(b.severity, &b.path, &b.code, &b.message)));
    findings.dedup();
}

type Check = fn(&RuleContext, &mut Vec<Finding>);

/// Every rules module, by name (the name shows in the finding if a rule panics).
const RULES: &[(&str, Check)] = &[
    ("archive", rules::archive::check),
    ("nested", rules::nested::check),
    ("info_plist", rules::info_plist::check),
    ("icons", rules::icons::check),
    ("platform", rules::platform::check),
    ("privacy", rules::privacy::check),
    ("sdk", rules::sdk::check),
    ("macho", rules::macho::check),
    ("codesign", rules::codesign::check),
    ("seals", deep::check_special_slots),
    ("profile", rules::profile::check),
];

/// Runs one rules module; a panic becomes an error finding instead of ending the run.
fn run_guarded(name: &str, check: Check, ctx: &RuleContext, out: &mut Vec<Finding>) {
    let mut local = Vec::new();
    match catch_unwind(AssertUnwindSafe(|| check(ctx, &mut local))) {
        Ok(()) => out.append(&mut local),
        Err(_) => out.push(Finding::error(
            "ASC-INTERNAL",
            "",
            format!("The `{name}` rules stopped on an internal error, so this validation is incomplete."),
            "This is a bug in asc-publish: please report it with the IPA's `asc-publish inspect --format json` output.",
        )),
    }
}

/// Runs every rules module (and `deep::check` when `ctx.deep`) over a context; unsorted. Usable with
/// any [`EntrySource`](crate::ipa::EntrySource), e.g. an in-memory one in tests.
pub fn run_rules(ctx: &RuleContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, check) in RULES {
        run_guarded(name, *check, ctx, &mut findings);
    }
    if ctx.deep {
        run_guarded("deep", deep::check, ctx, &mut findings);
    }
    findings
}

/// Runs every rule over an inspected IPA, on a thread with a known, large stack (see
/// [`crate::ipa::stack`]): the rules walk plist values recursively.
pub fn validate(inspected: &Inspected, trust: &TrustStore, options: &Options, now: SystemTime) -> Report {
    crate::ipa::stack::on_large_stack(|| validate_here(inspected, trust, options, now))
}

fn validate_here(inspected: &Inspected, trust: &TrustStore, options: &Options, now: SystemTime) -> Report {
    let ctx = RuleContext {
        ipa: &inspected.inspection,
        entries: &inspected.archive,
        now,
        trust,
        deep: options.deep,
    };
    let mut findings = run_rules(&ctx);
    if options.deep {
        // Deep mode reads everything anyway; make sure every entry's CRC was checked.
        inspected.archive.verify_all();
    }
    // Last, so it sees every read problem the other rules ran into.
    rules::archive::check_integrity(&inspected.archive, &mut findings);
    Report::new(findings)
}

/// Helpers for the rules' unit tests: validate a sample IPA end to end.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::sample::ipa::IpaBuilder;

    pub fn report_for(builder: IpaBuilder) -> Report {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Sample.ipa");
        builder.write_to(&path).expect("write sample IPA");
        let trust = TrustStore::apple();
        let inspected = crate::ipa::inspect(&path, &trust).expect("inspect sample IPA");
        validate(&inspected, &trust, &Options::default(), SystemTime::now())
    }

    pub fn codes_for(builder: IpaBuilder) -> Vec<String> {
        report_for(builder).findings.into_iter().map(|f| f.code).collect()
    }
}
