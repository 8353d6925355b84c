//! Before any byte is sent: find the app, refuse a build number already in use, and recognise a
//! re-run (same file already uploaded, or an interrupted reservation to resume).

use std::cmp::Ordering;

pub use crate::asc::builds::BuildFilter as BuildQuery;
use crate::asc::error::{AscError, sanitize};
use crate::asc::{
    AscClient, AssetDeliveryState, BuildRecord, BuildUploadRecord, BuildUploadState, UploadFileRecord, apps,
    build_uploads, builds,
};
use crate::error::Error;
use crate::publish::checksum::FileMd5;
use crate::publish::error::PublishError;
use crate::publish::upload::UploadRequest;

/// Finds the app record by exact bundle id.
pub async fn find_app(client: &AscClient, bundle_id: &str) -> Result<String, Error> {
    let apps = apps::find_by_bundle_id(client, bundle_id).await?;
    apps.into_iter()
        .find(|a| a.bundle_id.as_deref() == Some(bundle_id))
        .map(|a| a.id)
        .ok_or_else(|| {
            PublishError::AppNotFound {
                bundle_id: bundle_id.to_string(),
            }
            .into()
        })
}

/// Checks that the app record named by an explicit app id (`--app-id`, `ASC_APP_ID`) is the IPA's
/// app: a stale or mistyped id would otherwise upload the whole file and fail processing with
/// ITMS-90054 only afterwards.
pub async fn check_app(client: &AscClient, app_id: &str, bundle_id: &str) -> Result<String, Error> {
    let app = match apps::get(client, app_id).await {
        Ok(app) => app,
        Err(e) if e.is_not_found() => {
            return Err(PublishError::AppNotFound {
                bundle_id: bundle_id.to_string(),
            }
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    match app.bundle_id.as_deref() {
        Some(found) if found != bundle_id => Err(PublishError::AppBundleMismatch {
            app_id: app_id.to_string(),
            app_bundle_id: found.to_string(),
            ipa_bundle_id: bundle_id.to_string(),
        }
        .into()),
        _ => Ok(app.id),
    }
}

/// What to do about the requested version/build.
#[derive(Debug)]
pub enum Plan {
    /// Nothing exists for it: reserve and upload.
    New,
    /// The same file was already uploaded and accepted: skip to waiting.
    AlreadyUploaded { upload: Box<BuildUploadRecord> },
    /// An interrupted reservation with usable operations: re-PUT and commit.
    Resume {
        upload: Box<BuildUploadRecord>,
        file: Box<UploadFileRecord>,
    },
}

/// The uploads for this app, short version and platform.
pub async fn list_uploads(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
    build: Option<&str>,
) -> Result<Vec<BuildUploadRecord>, AscError> {
    let all = build_uploads::list(client, app_id, &req.short_version, &req.platform, build).await?;
    // Filter on our side too: a server that ignores a filter must not make us match the wrong record.
    Ok(all
        .into_iter()
        .filter(|u| {
            u.short_version.as_deref().is_none_or(|v| v == req.short_version)
                && build.is_none_or(|b| u.build_number.as_deref() == Some(b))
        })
        .collect())
}

/// The builds of this app for the short version, in every processing state.
async fn list_builds(client: &AscClient, app_id: &str, req: &UploadRequest) -> Result<Vec<BuildRecord>, AscError> {
    builds::of_version(client, app_id, &req.short_version, &req.platform).await
}

/// A build with the platform of the version train Apple linked it to (None: not said).
#[derive(Debug, Clone)]
pub struct TrainBuild {
    pub build: BuildRecord,
    pub platform: Option<String>,
}

/// The builds of a version (and platform), in every processing state, each with the platform of
/// its train. The same version number can exist once per platform (an iOS and a tvOS 2.0): Apple
/// filters by platform, and a build whose included train names another version or platform is
/// dropped here too, so a server ignoring a filter never hands us another platform's build.
pub async fn builds_of(client: &AscClient, q: BuildQuery<'_>) -> Result<Vec<TrainBuild>, AscError> {
    let builds = builds::find(client, &q).await?;
    Ok(builds
        .into_iter()
        .filter_map(|b| {
            let train = b.train.clone();
            let version = train.as_ref().and_then(|t| t.version.as_deref());
            if version.is_some_and(|v| v != q.short_version) {
                return None;
            }
            let platform = train.as_ref().and_then(|t| t.platform.as_deref());
            if let (Some(want), Some(got)) = (q.platform, platform) {
                if want != got {
                    return None;
                }
            }
            let number = b.number.as_deref();
            if q.number.is_some_and(|n| number != Some(n)) {
                return None;
            }
            Some(TrainBuild {
                platform: platform.map(str::to_string),
                build: b,
            })
        })
        .collect())
}

/// The ASSET file of an upload.
pub async fn asset_file(client: &AscClient, upload_id: &str) -> Result<Option<UploadFileRecord>, AscError> {
    let files = build_uploads::files(client, upload_id).await?;
    Ok(files
        .into_iter()
        .find(|f| f.asset_type.as_deref().is_none_or(|t| t == "ASSET")))
}

/// The one build-number check, read-only: what upload finds for the requested version and
/// build number. `preflight` reports it; [`plan`] acts on it.
#[derive(Debug)]
pub enum Verdict {
    /// Upload may go ahead as planned; with [`Plan::New`], `stale` are abandoned reservations of
    /// the same number (holding no binary) that upload deletes first.
    Go {
        plan: Plan,
        stale: Vec<String>,
        /// The highest number already used for the version, when the requested one is lower.
        lower_than: Option<String>,
    },
    /// The number is held ([`PublishError::BuildNumberUsed`]).
    Used(PublishError),
}

/// Decides between new / already uploaded / resume, or refuses a used build number; deletes
/// abandoned reservations of the number. `local_md5` is awaited only when a matching record exists.
pub async fn plan(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
    local_md5: &FileMd5,
    warnings: &mut Vec<String>,
) -> Result<Plan, Error> {
    let (plan, stale, lower_than) = match check_number(client, app_id, req, local_md5, warnings).await? {
        Verdict::Go {
            plan,
            stale,
            lower_than,
        } => (plan, stale, lower_than),
        Verdict::Used(e) => return Err(e.into()),
    };
    for id in stale {
        // An abandoned reservation holds no binary; removing it keeps the new one unambiguous.
        match build_uploads::delete(client, &id).await {
            Ok(_) => warnings.push(format!("deleted an abandoned upload reservation ({id}) for this build")),
            Err(e) if e.is_not_found() => {}
            Err(e) => warnings.push(format!("could not delete the abandoned upload reservation {id}: {e}")),
        }
    }
    if let Some(h) = lower_than {
        warnings.push(format!(
            "build number {} is lower than {h}, the highest already uploaded for version {}; App Store Connect may refuse it",
            req.version, req.short_version
        ));
    }
    Ok(plan)
}

/// Reads the version's uploads and builds (no writes) and judges the requested build number.
pub async fn check_number(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
    local_md5: &FileMd5,
    warnings: &mut Vec<String>,
) -> Result<Verdict, Error> {
    let uploads = list_uploads(client, app_id, req, None).await?;
    let builds = list_builds(client, app_id, req).await?;
    let same: Vec<&BuildUploadRecord> = uploads
        .iter()
        .filter(|u| u.build_number.as_deref() == Some(req.version.as_str()))
        .collect();

    let mut stale: Vec<String> = Vec::new();
    for u in &same {
        match u.state() {
            BuildUploadState::Complete | BuildUploadState::Processing => {
                let file = asset_file(client, &u.id).await?;
                let server = file
                    .as_ref()
                    .and_then(|f| f.file_checksum.as_ref())
                    .filter(|c| c.algorithm.eq_ignore_ascii_case("MD5") && !c.hash.is_empty())
                    .map(|c| c.hash.clone());
                let same = match server {
                    Some(server) => server.eq_ignore_ascii_case(&local_md5.get().await?),
                    // Apple keeps the whole-file checksum only when the committing client sent one
                    // (`file: null`, only `composite` otherwise). What it always returns is the
                    // file's name and size: a different size is a different file; the same name
                    // and size is taken as this file, and said so.
                    None => match recognised_without_checksum(file.as_ref(), req) {
                        Some(true) => {
                            warnings.push(format!(
                                "App Store Connect kept no checksum of the earlier upload of {} ({}); it was \
                                 recognised as this file by its name and size ({} bytes)",
                                req.short_version, req.version, req.file_size
                            ));
                            true
                        }
                        Some(false) => false,
                        None => {
                            let detail = " (App Store Connect holds no checksum to tell whether from this file)";
                            return Ok(Verdict::Used(used(req, &uploads, &builds, detail)));
                        }
                    },
                };
                if same {
                    let plan = Plan::AlreadyUploaded {
                        upload: Box::new((*u).clone()),
                    };
                    return Ok(Verdict::Go {
                        plan,
                        stale: Vec::new(),
                        lower_than: None,
                    });
                }
                return Ok(Verdict::Used(used(req, &uploads, &builds, " from a different file")));
            }
            BuildUploadState::AwaitingUpload => {
                let file = asset_file(client, &u.id).await?;
                let resumable = file.as_ref().and_then(|a| {
                    let awaiting = a
                        .delivery
                        .as_ref()
                        .is_none_or(|s| s.state == AssetDeliveryState::AwaitingUpload);
                    let same_file =
                        a.file_size == Some(req.file_size) && a.file_name.as_deref().is_none_or(|n| n == req.file_name);
                    let ops_ok = a.operations.as_deref().is_some_and(|ops| {
                        crate::publish::parts::operations_usable(ops, req.file_size, client.clock().now())
                    });
                    (awaiting && same_file && ops_ok).then_some(())
                });
                match (resumable, file) {
                    (Some(()), Some(file)) => {
                        let plan = Plan::Resume {
                            upload: Box::new((*u).clone()),
                            file: Box::new(file),
                        };
                        return Ok(Verdict::Go {
                            plan,
                            stale: Vec::new(),
                            lower_than: None,
                        });
                    }
                    _ => stale.push(u.id.clone()),
                }
            }
            // App Store Connect keeps the number of a build whose processing failed: re-sending the
            // same number is refused with a 409, so say so now, with Apple's reasons.
            BuildUploadState::Failed => {
                let reasons: Vec<String> = u
                    .status
                    .as_ref()
                    .map(|s| s.errors.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|d| {
                        let m = crate::publish::processing::message("error", d);
                        format!(
                            "{}{}",
                            m.code.map(|c| format!("{c}: ")).unwrap_or_default(),
                            m.description
                        )
                    })
                    .collect();
                let detail = if reasons.is_empty() {
                    " and failed processing".to_string()
                } else {
                    format!(" and failed processing: {}", reasons.join("; "))
                };
                return Ok(Verdict::Used(used(req, &uploads, &builds, &detail)));
            }
            BuildUploadState::Unknown => {}
        }
    }
    let build_taken = builds.iter().any(|b| b.number.as_deref() == Some(req.version.as_str()));
    if build_taken {
        return Ok(Verdict::Used(used(req, &uploads, &builds, "")));
    }
    Ok(Verdict::Go {
        plan: Plan::New,
        stale,
        lower_than: highest(&uploads, &builds).filter(|h| compare_build_numbers(&req.version, h) == Ordering::Less),
    })
}

/// Without a whole-file checksum: `Some(false)` when the size differs, `Some(true)` when name and
/// size match, `None` when Apple's record cannot tell.
pub fn recognised_without_checksum(attrs: Option<&UploadFileRecord>, req: &UploadRequest) -> Option<bool> {
    let size = attrs?.file_size?;
    if size != req.file_size {
        return Some(false);
    }
    attrs?
        .file_name
        .as_deref()
        .is_some_and(|n| n == req.file_name)
        .then_some(true)
}

/// The conflict for a 409 DUPLICATE from App Store Connect itself, with the numbers in use.
/// Apple's `meta.previousBundleVersion` (the number a new build must exceed) counts as one, also
/// when the lists do not show it (another platform's or a deleted upload's number).
pub async fn duplicate(
    client: &AscClient,
    app_id: &str,
    req: &UploadRequest,
    apple: &crate::asc::error::ApiError,
) -> Error {
    let uploads = list_uploads(client, app_id, req, None).await.unwrap_or_default();
    let builds = list_builds(client, app_id, req).await.unwrap_or_default();
    let previous = apple.previous_bundle_version().map(sanitize);
    let mut detail = format!(" ({apple})");
    if let Some(p) = &previous {
        detail = format!("; App Store Connect needs a build number higher than {p}{detail}");
    }
    let mut err = used(req, &uploads, &builds, &detail);
    if let (Some(p), PublishError::BuildNumberUsed { highest, next, .. }) = (previous, &mut err) {
        if highest
            .as_deref()
            .is_none_or(|h| compare_build_numbers(&p, h) == Ordering::Greater)
        {
            *next = Some(next_build_number(&p));
            *highest = Some(p);
        }
    }
    err.into()
}

fn used(req: &UploadRequest, uploads: &[BuildUploadRecord], builds: &[BuildRecord], detail: &str) -> PublishError {
    let highest = highest(uploads, builds);
    let next = highest.as_deref().map(next_build_number);
    PublishError::BuildNumberUsed {
        version: req.short_version.clone(),
        build: req.version.clone(),
        next,
        highest,
        detail: detail.to_string(),
    }
}

/// The highest build number in use for the version (uploads, failed ones included, and builds).
fn highest(uploads: &[BuildUploadRecord], builds: &[BuildRecord]) -> Option<String> {
    let from_uploads = uploads.iter().filter_map(|u| u.build_number.clone());
    let from_builds = builds.iter().filter_map(|b| b.number.clone());
    from_uploads
        .chain(from_builds)
        .map(|v| sanitize(&v))
        .max_by(|a, b| compare_build_numbers(a, b))
}

/// Compares build numbers component-wise as integers ("1.10" > "1.9").
pub fn compare_build_numbers(a: &str, b: &str) -> Ordering {
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("0");
        let y = pb.get(i).copied().unwrap_or("0");
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The next build number: the last component plus one ("41" → "42", "1.2.9" → "1.2.10").
pub fn next_build_number(v: &str) -> String {
    match v.rsplit_once('.') {
        Some((head, last)) => match last.parse::<u64>() {
            Ok(n) => format!("{head}.{}", n.saturating_add(1)),
            Err(_) => format!("{v}.1"),
        },
        None => match v.parse::<u64>() {
            Ok(n) => n.saturating_add(1).to_string(),
            Err(_) => format!("{v}.1"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_numbers() {
        assert_eq!(compare_build_numbers("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_build_numbers("41", "41.0"), Ordering::Equal);
        assert_eq!(next_build_number("41"), "42");
        assert_eq!(next_build_number("1.2.9"), "1.2.10");
        assert_eq!(next_build_number("abc"), "abc.1");
    }
}
