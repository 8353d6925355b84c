//! The findings of a run as file annotations: one list shared by `::error` workflow commands and
//! check-run annotations, so both show the same things in the same order (errors first).

use super::view::{Level, RunView};

/// One annotation on a file of the IPA (or on the archive as a whole when `path` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    /// Path inside the IPA; empty when the message concerns the build as a whole.
    pub path: String,
    /// Short title, e.g. `ITMS-90056`.
    pub title: String,
    /// The message followed by the fix, when there is one.
    pub message: String,
}

/// Local findings, then Apple's processing messages; errors before warnings before notices.
pub fn annotations(view: &RunView) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = view
        .findings
        .iter()
        .map(|f| Annotation {
            level: f.severity,
            path: f.path.clone(),
            title: f.code.clone(),
            message: if f.fix.is_empty() {
                f.message.clone()
            } else {
                format!("{}\nFix: {}", f.message, f.fix)
            },
        })
        .collect();
    out.extend(view.apple_messages.iter().map(|m| Annotation {
        level: m.severity,
        path: String::new(),
        title: if m.code.is_empty() {
            "App Store Connect".to_string()
        } else {
            format!("App Store Connect {}", m.code)
        },
        message: m.description.clone(),
    }));
    // Stable: keeps local findings before Apple's within one level.
    out.sort_by_key(|a| a.level);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::view::{AppleMessage, FindingView};

    #[test]
    fn errors_come_first_and_fix_is_appended() {
        let view = RunView {
            findings: vec![
                FindingView {
                    code: "ASC-W1".into(),
                    severity: Level::Warning,
                    path: "Payload/A.app/Info.plist".into(),
                    message: "warn".into(),
                    fix: String::new(),
                },
                FindingView {
                    code: "ITMS-90056".into(),
                    severity: Level::Error,
                    path: "Payload/A.app/Info.plist".into(),
                    message: "missing".into(),
                    fix: "add it".into(),
                },
            ],
            apple_messages: vec![AppleMessage {
                code: "ITMS-90189".into(),
                description: "Redundant binary upload".into(),
                severity: Level::Error,
            }],
            ..RunView::default()
        };
        let a = annotations(&view);
        let titles: Vec<&str> = a.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["ITMS-90056", "App Store Connect ITMS-90189", "ASC-W1"]);
        assert_eq!(a.first().map(|a| a.message.as_str()), Some("missing\nFix: add it"));
        assert_eq!(a.get(2).map(|a| a.message.as_str()), Some("warn"));
    }
}
