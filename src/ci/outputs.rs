//! The named outputs every CI system gets (step outputs, dotenv, envman), computed once.

use serde_json::json;

use crate::report::view::{GroupKind, GroupOutcome, RunView};

/// One output: its GitHub output name, its environment-style key, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Name in `GITHUB_OUTPUT` and `action.yml` (`build-id`).
    pub name: &'static str,
    /// Key in dotenv and envman (`ASC_BUILD_ID`).
    pub key: &'static str,
    /// Empty when the run did not get that far.
    pub value: String,
}

/// Every output name, in the order they are written (action.yml lists the same names).
pub const NAMES: [(&str, &str); 12] = [
    ("upload-id", "ASC_UPLOAD_ID"),
    ("build-id", "ASC_BUILD_ID"),
    ("app-id", "ASC_APP_ID"),
    ("version", "ASC_VERSION"),
    ("build-number", "ASC_BUILD_NUMBER"),
    ("processing-state", "ASC_PROCESSING_STATE"),
    ("asc-url", "ASC_URL"),
    ("testflight-url", "ASC_TESTFLIGHT_URL"),
    ("groups", "ASC_GROUPS"),
    ("release-version-state", "ASC_RELEASE_VERSION_STATE"),
    ("review-submission-id", "ASC_REVIEW_SUBMISSION_ID"),
    ("review-submission-state", "ASC_REVIEW_SUBMISSION_STATE"),
];

/// The outputs of a run. `groups` is a compact JSON array of `{name, kind, result, note?}`
/// (`fromJSON(steps.x.outputs.groups)` in a workflow).
pub fn outputs(view: &RunView) -> Vec<Output> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let release = view.release.clone().unwrap_or_default();
    let values = [
        opt(&view.ids.upload_id),
        opt(&view.ids.build_id),
        opt(&view.ids.app_id),
        view.version.clone(),
        view.build_number.clone(),
        opt(&view.processing_state),
        view.asc_url().unwrap_or_default(),
        view.testflight_url().unwrap_or_default(),
        groups_json(view),
        opt(&release.version_state),
        opt(&release.submission_id),
        opt(&release.submission_state),
    ];
    NAMES
        .iter()
        .zip(values)
        .map(|(&(name, key), value)| Output { name, key, value })
        .collect()
}

fn groups_json(view: &RunView) -> String {
    if view.groups.is_empty() {
        return String::new();
    }
    let items: Vec<serde_json::Value> = view
        .groups
        .iter()
        .map(|g| {
            let kind = match g.kind {
                GroupKind::Internal => "internal",
                GroupKind::External => "external",
            };
            match &g.outcome {
                GroupOutcome::Added => json!({"name": g.name, "kind": kind, "result": "added"}),
                GroupOutcome::Skipped { note } => {
                    json!({"name": g.name, "kind": kind, "result": "skipped", "note": note})
                }
                GroupOutcome::Failed { message } => {
                    json!({"name": g.name, "kind": kind, "result": "failed", "note": message})
                }
            }
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn every_name_has_a_value_in_order() {
        let out = outputs(&sample::view());
        let names: Vec<&str> = out.iter().map(|o| o.name).collect();
        assert_eq!(names, NAMES.map(|(n, _)| n));
        let get = |n: &str| {
            out.iter()
                .find(|o| o.name == n)
                .map(|o| o.value.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("build-id"), "bld-1");
        assert_eq!(get("build-number"), "57");
        assert_eq!(
            get("asc-url"),
            "https://appstoreconnect.apple.com/apps/1234567890/testflight/ios/bld-1"
        );
        let groups: serde_json::Value = serde_json::from_str(&get("groups")).unwrap_or_default();
        assert_eq!(groups[1]["result"], "failed");
        assert_eq!(groups[0]["kind"], "internal");
        assert_eq!(get("release-version-state"), "WAITING_FOR_REVIEW");
        assert_eq!(get("review-submission-id"), "sub-1");
        assert_eq!(get("review-submission-state"), "WAITING_FOR_REVIEW");
    }

    #[test]
    fn missing_values_are_empty() {
        let out = outputs(&RunView::default());
        assert!(out.iter().all(|o| o.value.is_empty()));
    }
}
