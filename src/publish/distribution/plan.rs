//! The distribution part of a plan (`preflight`, `upload --dry-run`): every lookup done for real,
//! every write only described, in the order [`super::distribute`] would make them.

use crate::asc::AscClient;
use crate::error::Error;
use crate::outcome::{GroupKind, PlanStep};
use crate::publish::distribution::{Distribution, DistributionError, beta_review, groups, testers};

/// A step that will be done.
pub fn ok(step: &str, detail: impl Into<String>) -> PlanStep {
    PlanStep {
        step: step.to_string(),
        detail: detail.into(),
        ok: true,
        exit_code: None,
        fix: None,
        kind: None,
    }
}

/// A problem that would stop the run, with its exit code and fix.
pub fn problem(step: &str, err: &Error) -> PlanStep {
    PlanStep {
        step: step.to_string(),
        detail: err.message().to_string(),
        ok: false,
        exit_code: Some(err.exit_code()),
        fix: err.hint().map(str::to_string),
        kind: Some(err.kind()),
    }
}

/// Checks the distribution's lookups against App Store Connect and appends its steps.
pub async fn check(
    client: &AscClient,
    app_id: &str,
    d: &Distribution,
    compliance: Option<bool>,
    plan: &mut Vec<PlanStep>,
) {
    let mut resolved_groups = Vec::new();
    let mut group_steps = Vec::new();
    if !d.groups.is_empty() {
        let resolved = match groups::list(client, app_id).await {
            Ok(all) => groups::resolve(&d.groups, &all).map_err(Error::from),
            Err(e) => Err(e),
        };
        match resolved {
            Ok(rs) => {
                resolved_groups = rs.clone();
                for g in rs {
                    let what = if g.kind == GroupKind::InternalAll {
                        "skipped: it gets every VALID build by itself"
                    } else {
                        "add the build"
                    };
                    group_steps.push(ok(
                        "group",
                        format!("{} ({}, id {}): {what}", g.name, groups::kind_name(g.kind), g.id),
                    ));
                }
            }
            Err(e) => plan.push(problem("groups", &e)),
        }
    }
    let mut tester_step = None;
    if !d.testers.is_empty() {
        match testers::resolve(client, app_id, &d.testers).await {
            Ok(ts) => {
                let emails: Vec<&str> = ts.iter().map(|(e, _)| e.as_str()).collect();
                tester_step = Some(ok("testers", format!("give the build to {}", emails.join(", "))));
            }
            Err(e) => plan.push(problem("testers", &e)),
        }
    }
    if d.submit_beta_review {
        match beta_review::missing_info(client, app_id).await {
            Ok(m) if m.is_empty() => {}
            Ok(m) => plan.push(problem(
                "beta review information",
                &DistributionError::ReviewInfoMissing { missing: m.join("; ") }.into(),
            )),
            Err(e) => plan.push(problem("beta review information", &e)),
        }
    }
    if super::needs_compliance(&resolved_groups, d) && compliance.is_none() {
        plan.push(problem(
            "export compliance",
            &DistributionError::ComplianceUnanswered {
                build_id: "(the new build)".into(),
            }
            .into(),
        ));
    }
    for (locale, text) in &d.what_to_test {
        let mut changes = Vec::new();
        super::what_to_test::fit(locale, text, &mut changes);
        let note = if changes.is_empty() {
            String::new()
        } else {
            format!(" ({})", changes.join("; "))
        };
        plan.push(ok("what to test", format!("set What to Test for {locale}{note}")));
    }
    if d.submit_beta_review {
        plan.push(ok(
            "beta review",
            "submit the build for beta app review (unless already submitted)",
        ));
    }
    plan.extend(group_steps);
    plan.extend(tester_step);
    if d.notify {
        plan.push(ok("notify", "notify testers (auto-notify counts)"));
    }
    if d.expire_previous {
        plan.push(ok("expire previous", "expire the older builds of this version"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_problem_keeps_its_class_for_the_run_and_writes_only_the_code() {
        for (kind, code) in [
            (ErrorKind::Auth, 3),
            (ErrorKind::Conflict, 4),
            (ErrorKind::Transient, 5),
        ] {
            let step = problem("app record", &Error::new(kind, "no").with_hint("fix it"));
            assert_eq!(step.kind, Some(kind));
            assert_eq!(step.exit_code, Some(code));
            let json = serde_json::to_value(&step).unwrap_or_default();
            assert_eq!(json["exit_code"], code);
            assert!(json.get("kind").is_none(), "{json}");
            let back: PlanStep = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.kind, None);
            assert_eq!(back.exit_code, Some(code));
        }
        assert_eq!(ok("upload", "fine").kind, None);
    }
}
