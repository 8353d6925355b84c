//! The edge between the pipeline and the renderers: one [`Outcome`] becomes one [`RunView`].
//!
//! The outcome records fine-grained timings (`preflight`, `upload`, `commit`, ...) only for stages
//! that finished; the view shows the four stages a reader cares about, and marks the one the run
//! stopped in as failed even when it never recorded a timing.

use crate::outcome::{Outcome, Status, TOTAL_STAGE};
use crate::validate::Severity;

use super::view::{
    AppleMessage, FindingView, GroupKind, GroupOutcome, GroupResult, Ids, Level, ReleaseView, RunView, StageName,
    StageStatus, StageTiming, UploadStats, Verdict,
};

impl From<&Outcome> for RunView {
    fn from(outcome: &Outcome) -> Self {
        view(outcome)
    }
}

/// The view of `outcome` that every report renders.
pub fn view(outcome: &Outcome) -> RunView {
    let verdict = verdict(outcome);
    let stages = stages(outcome, &verdict);
    RunView {
        // The outcome does not carry the display name; the Markdown headline falls back to the
        // bundle id.
        app_name: String::new(),
        bundle_id: outcome.bundle_id.clone().unwrap_or_default(),
        version: outcome.version.clone().unwrap_or_default(),
        build_number: outcome.build_number.clone().unwrap_or_default(),
        reached: stages.last().map(|s| s.stage),
        stages,
        verdict,
        findings: outcome.findings.iter().map(finding).collect(),
        apple_messages: outcome
            .apple_messages
            .iter()
            .map(|m| AppleMessage {
                code: m.code.clone().unwrap_or_default(),
                description: m.description.clone(),
                severity: level(&m.level),
            })
            .collect(),
        upload: (outcome.bytes_sent > 0).then(|| UploadStats {
            bytes: outcome.bytes_sent,
            duration_ms: raw_millis(outcome, "upload").unwrap_or(0),
        }),
        platform: outcome.platform.clone(),
        ids: Ids {
            app_id: outcome.app_id.clone(),
            upload_id: outcome.upload_id.clone(),
            build_id: outcome.build_id.clone(),
        },
        processing_state: outcome.processing_state.clone(),
        groups: group_results(outcome),
        release: outcome.release.as_ref().map(|r| ReleaseView {
            version_string: r.version_string.clone(),
            missing: r.missing.clone(),
            version_state: r.version_state.clone(),
            submission_id: r.submission_id.clone(),
            submission_state: r.submission_state.clone(),
        }),
    }
}

/// Beta group results. The outcome has no per-group record yet (distribution is not part of
/// `upload`), so there is nothing to map; once it has, each record goes through [`group_result`]
/// here.
fn group_results(outcome: &Outcome) -> Vec<GroupResult> {
    use crate::outcome::{GroupKind as Kind, GroupResult as Result};
    outcome
        .groups
        .iter()
        .map(|g| {
            let kind = match g.kind {
                Kind::External => "external",
                Kind::Internal | Kind::InternalAll => "internal",
            };
            let result = match g.result {
                Result::Added => "added",
                Result::Already | Result::Skipped => "skipped",
                Result::Failed => "failed",
            };
            let note = match (&g.message, g.result) {
                (Some(m), _) => Some(m.clone()),
                (None, Result::Already) => Some("already had this build".to_string()),
                (None, _) => None,
            };
            group_result(&g.name, kind, result, note.as_deref())
        })
        .collect()
}

/// One beta group's result from its recorded fields: `kind` is `internal`/`external` (anything
/// else counts as external, the kind that needs review), `result` is `added`, `skipped` (or
/// `already_added`) or anything else for a failure; `message` is the note or the error.
pub fn group_result(name: &str, kind: &str, result: &str, message: Option<&str>) -> GroupResult {
    let kind = if kind.eq_ignore_ascii_case("internal") {
        GroupKind::Internal
    } else {
        GroupKind::External
    };
    let message = message.unwrap_or_default().to_string();
    let outcome = match result.to_ascii_lowercase().as_str() {
        "added" | "success" | "ok" => GroupOutcome::Added,
        "skipped" | "already_added" => GroupOutcome::Skipped { note: message },
        _ => GroupOutcome::Failed {
            message: if message.is_empty() {
                format!("the build was not added ({result})")
            } else {
                message
            },
        },
    };
    GroupResult {
        name: name.to_string(),
        kind,
        outcome,
    }
}

fn verdict(outcome: &Outcome) -> Verdict {
    match outcome.status {
        Status::Success | Status::Uploaded => Verdict::Success,
        Status::Rejected => {
            let local_errors = outcome.findings.iter().any(|f| f.severity == Severity::Error);
            if local_errors && outcome.upload_id.is_none() {
                Verdict::RejectedByValidation
            } else {
                Verdict::RejectedByApple
            }
        }
        Status::Failed => {
            let err = outcome.error.as_ref();
            let text = |k: &str| err.and_then(|e| e.get(k)).and_then(|v| v.as_str()).map(str::to_string);
            Verdict::Failed {
                kind: text("kind").unwrap_or_else(|| "failed".to_string()),
                message: text("message").unwrap_or_else(|| "the run stopped before a verdict".to_string()),
                hint: text("hint"),
            }
        }
    }
}

fn finding(f: &crate::validate::Finding) -> FindingView {
    FindingView {
        code: f.code.clone(),
        severity: match f.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        },
        path: f.path.clone(),
        message: f.message.clone(),
        fix: f.fix.clone(),
    }
}

fn level(s: &str) -> Level {
    match s.to_ascii_lowercase().as_str() {
        "error" => Level::Error,
        "warning" => Level::Warning,
        _ => Level::Notice,
    }
}

/// Which view stage a recorded timing belongs to; `None` for `total` and unknown names.
fn stage_of(raw: &str) -> Option<StageName> {
    match raw {
        "validate" => Some(StageName::Validate),
        "preflight" | "upload" | "checksum" | "commit" => Some(StageName::Upload),
        "processing" => Some(StageName::Processing),
        "distribute" | "distribution" | "testflight" | "groups" => Some(StageName::Distribution),
        _ => None,
    }
}

fn raw_millis(outcome: &Outcome, stage: &str) -> Option<u64> {
    outcome.timings.iter().find(|t| t.stage == stage).map(|t| t.millis)
}

/// The view stages in run order. Recorded timings of one view stage are merged (first start to
/// last end). A run that did not succeed marks the stage it stopped in as failed, adding it (with
/// the rest of the run's time) when it never recorded a timing.
fn stages(outcome: &Outcome, verdict: &Verdict) -> Vec<StageTiming> {
    let mut out: Vec<StageTiming> = Vec::new();
    let mut last_raw: Option<&str> = None;
    for t in &outcome.timings {
        let Some(stage) = stage_of(&t.stage) else { continue };
        let start = t.start_ms.unwrap_or_else(|| out.last().map_or(0, end));
        let stop = start.saturating_add(t.millis);
        last_raw = Some(t.stage.as_str());
        match out.iter_mut().find(|s| s.stage == stage) {
            Some(s) => {
                let first = s.start_ms.min(start);
                s.duration_ms = end(s).max(stop).saturating_sub(first);
                s.start_ms = first;
            }
            None => out.push(StageTiming {
                stage,
                start_ms: start,
                duration_ms: t.millis,
                status: StageStatus::Done,
            }),
        }
    }
    out.sort_by_key(|s| (s.start_ms, s.stage));
    let failed_in = match verdict {
        Verdict::Success => return out,
        Verdict::RejectedByValidation => Some(StageName::Validate),
        Verdict::RejectedByApple => out.last().map(|s| s.stage),
        // Stages record their timing when they finish, except processing, which always does:
        // the failure is in the stage after the last finished one.
        Verdict::Failed { .. } => match last_raw {
            None => None,
            Some("validate" | "preflight" | "upload" | "checksum" | "commit") => Some(StageName::Upload),
            Some(raw) => stage_of(raw),
        },
    };
    let Some(failed_in) = failed_in else { return out };
    match out.iter_mut().find(|s| s.stage == failed_in) {
        Some(s) => s.status = StageStatus::Failed,
        None => {
            let start = out.last().map_or(0, end);
            let total_end = outcome
                .timings
                .iter()
                .find(|t| t.stage == TOTAL_STAGE)
                .map(|t| t.start_ms.unwrap_or(0).saturating_add(t.millis));
            out.push(StageTiming {
                stage: failed_in,
                start_ms: start,
                duration_ms: total_end.map_or(0, |e| e.saturating_sub(start)),
                status: StageStatus::Failed,
            });
        }
    }
    out
}

fn end(s: &StageTiming) -> u64 {
    s.start_ms.saturating_add(s.duration_ms)
}

#[cfg(test)]
#[path = "from_outcome_tests.rs"]
mod tests;
