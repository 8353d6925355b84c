//! Reports drawn from a [`view::RunView`]: the Markdown body and the annotation list that the CI
//! edges (`crate::ci`, `crate::forge`) publish.

pub mod annotations;
pub mod from_outcome;
pub mod markdown;
pub mod terminal;
pub mod view;

pub use annotations::{Annotation, annotations};
pub use from_outcome::view;
pub use view::RunView;

#[cfg(test)]
pub(crate) mod sample {
    //! A hand-built view used by the renderer tests.
    use super::view::*;

    pub fn view() -> RunView {
        RunView {
            app_name: "Demo App".into(),
            bundle_id: "com.example.demo".into(),
            version: "1.4.0".into(),
            build_number: "57".into(),
            verdict: Verdict::Success,
            reached: Some(StageName::Distribution),
            stages: vec![
                StageTiming {
                    stage: StageName::Validate,
                    start_ms: 0,
                    duration_ms: 850,
                    status: StageStatus::Done,
                },
                StageTiming {
                    stage: StageName::Upload,
                    start_ms: 850,
                    duration_ms: 12_300,
                    status: StageStatus::Done,
                },
                StageTiming {
                    stage: StageName::Processing,
                    start_ms: 13_150,
                    duration_ms: 245_000,
                    status: StageStatus::Done,
                },
                StageTiming {
                    stage: StageName::Distribution,
                    start_ms: 258_150,
                    duration_ms: 1_200,
                    status: StageStatus::Done,
                },
            ],
            findings: vec![
                FindingView {
                    code: "ASC-W001".into(),
                    severity: Level::Warning,
                    path: "Payload/Demo.app/Info.plist".into(),
                    message: "ITSAppUsesNonExemptEncryption is missing".into(),
                    fix: "Set it to NO if the app uses no custom encryption".into(),
                },
                FindingView {
                    code: "ITMS-90056".into(),
                    severity: Level::Error,
                    path: "Payload/Demo.app/Info.plist".into(),
                    message: "This bundle is invalid | pipes <b>html</b>".into(),
                    fix: "Add NSCameraUsageDescription".into(),
                },
            ],
            apple_messages: vec![AppleMessage {
                code: "ITMS-90713".into(),
                description: "Missing Info.plist value".into(),
                severity: Level::Warning,
            }],
            upload: Some(UploadStats {
                bytes: 48_200_000,
                duration_ms: 12_300,
            }),
            platform: None,
            ids: Ids {
                app_id: Some("1234567890".into()),
                upload_id: Some("upl-1".into()),
                build_id: Some("bld-1".into()),
            },
            processing_state: Some("VALID".into()),
            groups: vec![
                GroupResult {
                    name: "Internal QA".into(),
                    kind: GroupKind::Internal,
                    outcome: GroupOutcome::Added,
                },
                GroupResult {
                    name: "Beta".into(),
                    kind: GroupKind::External,
                    outcome: GroupOutcome::Failed {
                        message: "Beta review required".into(),
                    },
                },
            ],
            release: Some(ReleaseView {
                version_string: Some("1.4.0".into()),
                missing: Vec::new(),
                version_state: Some("WAITING_FOR_REVIEW".into()),
                submission_id: Some("sub-1".into()),
                submission_state: Some("WAITING_FOR_REVIEW".into()),
            }),
        }
    }
}
