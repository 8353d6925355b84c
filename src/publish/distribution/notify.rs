//! The "new build available" notification to testers; App Store Connect's auto-notify counts.

use crate::asc::error::AscError;
use crate::asc::{AscClient, beta_testing};
use crate::error::Error;
use crate::publish::distribution::{Distributed, Notified};
use crate::publish::events::Events;

/// POSTs a buildBetaNotification. "auto-notify already enabled" (409) is a success: testers were
/// or will be notified by App Store Connect itself.
pub async fn notify(client: &AscClient, build_id: &str, events: &Events, done: &mut Distributed) -> Result<(), Error> {
    match beta_testing::notify_testers(client, build_id).await {
        Ok(_) => {
            events.step("  testers notified");
            done.notified = Some(Notified::Sent);
            Ok(())
        }
        Err(AscError::Api(a))
            if a.status == 409
                && a.errors.iter().any(|e| {
                    let d = e.detail.as_deref().unwrap_or("").to_lowercase();
                    d.contains("auto-notify") || d.contains("auto notify")
                }) =>
        {
            events.step("  testers notified (App Store Connect's auto-notify is on)");
            done.notified = Some(Notified::Auto);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
