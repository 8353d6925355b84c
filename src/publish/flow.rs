//! `upload`'s flow once the IPA is read: the upload (reservation, parts, commit), Apple's
//! processing, then the TestFlight distribution asked for.

use crate::error::Error;
use crate::outcome::Outcome;
use crate::publish::connection::Connection;
use crate::publish::distribution::Distribution;
use crate::publish::distribution::existing::after_upload;
use crate::publish::events::Event;
use crate::publish::{UploadOptions, UploadRequest, upload};

/// Uploads, waits (unless `opts.wait` is off) and distributes. `distribution` is the reading of
/// the distribution flags: its error, if any, is the run's once the upload is done, as a rejected
/// distribution input never stops an upload.
pub async fn upload_and_distribute(
    conn: &Connection,
    opts: &UploadOptions,
    distribution: Result<Distribution, Error>,
    req: &UploadRequest,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let stage = opts.events.stage("asc_publish_upload", "Upload to App Store Connect");
    req.record_in(outcome);
    let (uploaded, r) = upload(&conn.api, &conn.parts, req, opts).await;
    uploaded.record_in(outcome);
    drop(stage);
    let r = match r {
        Ok(()) => {
            let _stage = opts.events.stage("asc_publish_distribute", "TestFlight distribution");
            match distribution {
                Ok(d) => after_upload(&conn.api, &d, &req.short_version, &req.platform, outcome).await,
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    if let Some(rl) = conn.api.stats().rate_limit().filter(|_| opts.verbose) {
        opts.events.send(Event::Detail(format!(
            "  rate limit: {} of {} requests left this hour",
            rl.remaining.map_or("?".into(), |v| v.to_string()),
            rl.limit.map_or("?".into(), |v| v.to_string())
        )));
    }
    r
}
