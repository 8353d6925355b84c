//! What the upload stage established, as a value: the engine fills in an [`Uploaded`] as far as it
//! gets and the edge puts it on the run's `Outcome` once (also when the stage stopped on an error).

use std::time::Duration;

use crate::outcome::{Message, Outcome, Status, UploadMode};
use crate::publish::processing::Processed;

/// The upload stage's result.
#[derive(Debug, Clone, Default)]
pub struct Uploaded {
    pub app_id: Option<String>,
    pub app_store_connect_url: Option<String>,
    pub upload_mode: Option<UploadMode>,
    pub upload_id: Option<String>,
    pub upload_file_id: Option<String>,
    /// Known when the upload was already there (Apple's record of it).
    pub build_id: Option<String>,
    pub bytes_sent: Option<u64>,
    pub md5: Option<String>,
    /// Stage timings in the order they ended.
    pub timings: Vec<(&'static str, Duration)>,
    /// Apple's messages on the commit.
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
