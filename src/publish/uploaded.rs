//! What the upload stage established, as a value: the upload fills in an [`Uploaded`] as far as it
//! gets and the edge puts it on the run's `Outcome` once (also when the stage stopped on an error).
//! One type for every way up: the API-key engine (`publish::upload`) and the Apple ID backends
//! (`crate::appleid`) establish the same facts.

use std::time::Duration;

use crate::outcome::{Message, Outcome, Status, UploadMode};
use crate::publish::processing::Processed;

/// The upload stage's result.
#[derive(Debug, Clone, Default)]
pub struct Uploaded {
    /// The app's Apple ID (given, or looked up by bundle id).
    pub app_id: Option<String>,
    pub app_store_connect_url: Option<String>,
    pub upload_mode: Option<UploadMode>,
    /// The `buildUploads` record; for an Apple ID upload the content-delivery build record
    /// (native) or altool's delivery UUID.
    pub upload_id: Option<String>,
    pub upload_file_id: Option<String>,
    /// Known when the upload was already there (Apple's record of it).
    pub build_id: Option<String>,
    pub bytes_sent: Option<u64>,
    /// The MD5 declared for the file.
    pub md5: Option<String>,
    /// The export-compliance answer the upload went up with (flag, else Info.plist).
    pub uses_non_exempt_encryption: Option<bool>,
    /// Stage timings in the order they ended.
    pub timings: Vec<(&'static str, Duration)>,
    /// Apple's messages on the commit (altool's, for an Apple ID upload); once the stage waited,
    /// the processing wait's list holds them and its own.
    pub apple_messages: Vec<Message>,
    pub warnings: Vec<String>,
    /// The processing wait's result, when the stage waited.
    pub processed: Option<Processed>,
    /// How the run ended, when the stage decided it.
    pub status: Option<Status>,
    /// API requests made.
    pub requests: u64,
}

impl Uploaded {
    pub fn time(&mut self, stage: &'static str, d: Duration) {
        self.timings.push((stage, d));
    }

    /// Puts the stage's result on the outcome.
    pub fn record_in(self, o: &mut Outcome) {
        if self.app_id.is_some() {
            o.app_id = self.app_id;
        }
        if self.app_store_connect_url.is_some() {
            o.app_store_connect_url = self.app_store_connect_url;
        }
        if self.upload_mode.is_some() {
            o.upload_mode = self.upload_mode;
        }
        if self.upload_id.is_some() {
            o.upload_id = self.upload_id;
        }
        if self.upload_file_id.is_some() {
            o.upload_file_id = self.upload_file_id;
        }
        if self.build_id.is_some() {
            o.build_id = self.build_id;
        }
        if let Some(n) = self.bytes_sent {
            o.bytes_sent = n;
        }
        if self.md5.is_some() {
            o.md5 = self.md5;
        }
        if self.uses_non_exempt_encryption.is_some() {
            o.uses_non_exempt_encryption = self.uses_non_exempt_encryption;
        }
        o.warnings.extend(self.warnings);
        for (stage, d) in self.timings {
            o.time(stage, d);
        }
        match self.processed {
            // The wait started from the commit's messages: its list has them, then its own.
            Some(mut p) => {
                let mut all = std::mem::take(&mut o.apple_messages);
                all.append(&mut p.apple_messages);
                p.apple_messages = all;
                p.uses_non_exempt_encryption = p.uses_non_exempt_encryption.or(o.uses_non_exempt_encryption);
                p.record_in(o);
            }
            None => o.apple_messages.extend(self.apple_messages),
        }
        if let Some(s) = self.status {
            o.status = s;
        }
        o.requests = self.requests;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asc::ProcessingState;

    #[test]
    fn the_upload_lands_on_the_outcome_after_what_the_run_knew() {
        let mut o = Outcome::new();
        o.platform = Some("IOS".into());
        o.warnings.push("validation".into());
        o.time("validate", Duration::from_millis(5));
        o.apple_messages.push(Message {
            level: "warning".into(),
            code: None,
            description: "from before".into(),
        });
        let mut up = Uploaded {
            app_id: Some("6450000001".into()),
            app_store_connect_url: Some(crate::outcome::testflight_url("6450000001", Some("IOS"))),
            upload_id: Some("b-1".into()),
            upload_mode: Some(UploadMode::Resumed),
            bytes_sent: Some(42),
            requests: 7,
            uses_non_exempt_encryption: Some(false),
            status: Some(Status::Rejected),
            processed: Some(Processed {
                processing_state: Some(ProcessingState::Invalid),
                apple_messages: vec![Message {
                    level: "error".into(),
                    code: Some("ITMS-90062".into()),
                    description: "bad version".into(),
                }],
                ..Processed::default()
            }),
            warnings: vec!["later".into()],
            ..Uploaded::default()
        };
        up.time("upload", Duration::from_millis(10));
        up.clone().record_in(&mut o);
        assert_eq!(o.app_id.as_deref(), Some("6450000001"));
        assert_eq!(
            o.app_store_connect_url,
            Some(crate::outcome::testflight_url("6450000001", Some("IOS")))
        );
        assert_eq!(o.upload_id.as_deref(), Some("b-1"));
        assert_eq!(o.upload_mode, Some(UploadMode::Resumed));
        assert_eq!((o.bytes_sent, o.requests), (42, 7));
        assert_eq!(o.uses_non_exempt_encryption, Some(false));
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.processing_state.as_deref(), Some("INVALID"));
        let said: Vec<&str> = o.apple_messages.iter().map(|m| m.description.as_str()).collect();
        assert_eq!(said, ["from before", "bad version"]);
        assert_eq!(o.warnings, ["validation", "later"]);
        let stages: Vec<&str> = o.timings.iter().map(|t| t.stage.as_str()).collect();
        assert_eq!(stages, ["validate", "upload"]);

        // A run that stopped before it knew anything leaves the outcome as it was.
        let mut quiet = Outcome::new();
        Uploaded::default().record_in(&mut quiet);
        assert_eq!(quiet.status, Outcome::new().status);
        assert_eq!(quiet.app_store_connect_url, None);
        assert_eq!(quiet.processing_state, None);
    }
}
