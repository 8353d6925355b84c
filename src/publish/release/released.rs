//! What the release stage established, as a value: the stage fills a [`Released`] as far as it
//! gets and the edge (`release::run`) puts it on the run's `Outcome` once, also when the stage
//! stopped on an error (a refusal's missing fields are part of what it found).

use crate::asc::ProcessingState;
use crate::outcome::{Outcome, ReleaseOutcome, Status};
use crate::publish::processing::{Processed, state_name};

/// The release stage's result.
#[derive(Debug, Clone, Default)]
pub struct Released {
    /// The App Store side: the version, its settings, the review submission, what is missing.
    pub release: Option<ReleaseOutcome>,
    /// The processing wait's result, when the build was named by its upload (`--from-upload-id`).
    pub processed: Option<Processed>,
    pub upload_id: Option<String>,
    pub app_id: Option<String>,
    pub build_id: Option<String>,
    pub build_number: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    /// The build's verdict as the release read it.
    pub processing_state: Option<ProcessingState>,
    pub uses_non_exempt_encryption: Option<bool>,
    pub app_store_connect_url: Option<String>,
    pub warnings: Vec<String>,
    /// How the run ended, when the stage decided it.
    pub status: Option<Status>,
    /// API requests made, when the stage got as far as counting them.
    pub requests: Option<u64>,
}

impl Released {
    /// The App Store side, started on first use.
    pub fn release(&mut self) -> &mut ReleaseOutcome {
        self.release.get_or_insert_with(ReleaseOutcome::default)
    }

    /// Puts the stage's result on the outcome: the processing wait's first, then what the release
    /// itself read (the build's facts are read after the wait, so they are the newer).
    pub fn record_in(self, o: &mut Outcome) {
        if self.upload_id.is_some() {
            o.upload_id = self.upload_id;
        }
        if let Some(p) = self.processed {
            p.record_in(o);
        }
        for (field, value) in [
            (&mut o.app_id, self.app_id),
            (&mut o.build_id, self.build_id),
            (&mut o.build_number, self.build_number),
            (&mut o.version, self.version),
            (&mut o.platform, self.platform),
            (&mut o.app_store_connect_url, self.app_store_connect_url),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        if let Some(ps) = self.processing_state {
            o.processing_state = Some(state_name(&ps).to_string());
        }
        if self.uses_non_exempt_encryption.is_some() {
            o.uses_non_exempt_encryption = self.uses_non_exempt_encryption;
        }
        if self.release.is_some() {
            o.release = self.release;
        }
        o.warnings.extend(self.warnings);
        if let Some(s) = self.status {
            o.status = s;
        }
        if let Some(n) = self.requests {
            o.requests = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_release_found_lands_on_the_outcome_after_the_wait() {
        let mut o = Outcome::new();
        o.warnings.push("earlier".into());
        o.requests = 3;
        let mut done = Released {
            upload_id: Some("u1".into()),
            processed: Some(Processed {
                build_id: Some("b-wait".into()),
                processing_state: Some(ProcessingState::Processing),
                warnings: vec!["from the wait".into()],
                ..Processed::default()
            }),
            build_id: Some("b1".into()),
            processing_state: Some(ProcessingState::Valid),
            status: Some(Status::Rejected),
            ..Released::default()
        };
        done.release().missing.push("description".into());
        done.warnings.push("What's New truncated".into());
        done.record_in(&mut o);
        assert_eq!(o.upload_id.as_deref(), Some("u1"));
        assert_eq!(o.build_id.as_deref(), Some("b1"));
        assert_eq!(o.processing_state.as_deref(), Some("VALID"));
        assert_eq!(o.release.unwrap().missing, ["description"]);
        assert_eq!(o.warnings, ["earlier", "from the wait", "What's New truncated"]);
        assert_eq!(o.status, Status::Rejected);
        // Not counted by the stage: the outcome's count stays.
        assert_eq!(o.requests, 3);
        assert_eq!(o.app_id, None);
    }
}
