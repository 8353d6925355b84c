//! What an Apple ID upload learnt, also when it ended in an error: the backends fill it as they
//! go, and the edge puts it on the outcome once ([`Uploaded::record_in`]), as the API-key path
//! does with its stage results.

use std::time::Duration;

use crate::outcome::{Message, Outcome, Status, UploadMode};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Uploaded {
    /// The app's Apple ID (given, or looked up by bundle id).
    pub app_id: Option<String>,
    /// The content-delivery build record (native) or altool's delivery UUID.
    pub upload_id: Option<String>,
    pub upload_mode: Option<UploadMode>,
    pub upload_file_id: Option<String>,
    /// The MD5 declared for the IPA (native).
    pub md5: Option<String>,
    pub bytes_sent: u64,
    pub requests: u64,
    pub uses_non_exempt_encryption: Option<bool>,
    /// How far the run got; `None` leaves the outcome's status as it is.
    pub status: Option<Status>,
    /// Apple's processing state in its spelling, when the run waited for it.
    pub processing_state: Option<String>,
    pub apple_messages: Vec<Message>,
    pub warnings: Vec<String>,
    /// Stage timings, in the order they ran.
    pub timings: Vec<(&'static str, Duration)>,
}

impl Uploaded {
    pub fn time(&mut self, stage: &'static str, d: Duration) {
        self.timings.push((stage, d));
    }

    /// Puts the upload on the outcome, which already names the build (its identity, platform).
    pub fn record_in(self, o: &mut Outcome) {
        if let Some(app) = &self.app_id {
            o.app_store_connect_url = Some(crate::outcome::testflight_url(app, o.platform.as_deref()));
        }
        o.app_id = self.app_id.or(o.app_id.take());
        o.upload_id = self.upload_id.or(o.upload_id.take());
        o.upload_mode = self.upload_mode.or(o.upload_mode.take());
        o.upload_file_id = self.upload_file_id.or(o.upload_file_id.take());
        o.md5 = self.md5.or(o.md5.take());
        o.bytes_sent = o.bytes_sent.saturating_add(self.bytes_sent);
        o.requests = o.requests.saturating_add(self.requests);
        o.uses_non_exempt_encryption = self.uses_non_exempt_encryption.or(o.uses_non_exempt_encryption);
        if let Some(s) = self.status {
            o.status = s;
        }
        if self.processing_state.is_some() {
            o.processing_state = self.processing_state;
        }
        o.apple_messages.extend(self.apple_messages);
        o.warnings.extend(self.warnings);
        for (stage, d) in self.timings {
            o.time(stage, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_lands_on_the_outcome_after_what_the_run_knew() {
        let mut o = Outcome::new();
        o.platform = Some("IOS".into());
        o.warnings.push("validation".into());
        o.time("validate", Duration::from_millis(5));
        let mut up = Uploaded {
            app_id: Some("6450000001".into()),
            upload_id: Some("b-1".into()),
            upload_mode: Some(UploadMode::Resumed),
            bytes_sent: 42,
            requests: 7,
            status: Some(Status::Rejected),
            processing_state: Some("INVALID".into()),
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
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.processing_state.as_deref(), Some("INVALID"));
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
