//! Inspecting a flat installer package in place: the TOC and its signatures, Distribution and
//! PackageInfo, then the component payload streamed only until the app's Info.plist, main
//! executable and provisioning profile have been seen (or the stream has left the app).
//!
//! A package that is not a readable xar archive at all is an error; everything wrong inside a
//! readable one (no app, a payload we cannot decode, a cap reached) is kept in
//! [`PackageFacts::problems`] and the bundle's fields for the rules to report.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use xar_read::{Flow, Xar, XarError};

use crate::error::Error;
use crate::ipa::inspect::{MAX_INFO_PLIST, MAX_PROFILE};
use crate::ipa::{AppSummary, Bundle, BundleKind, FileFacts, Inspection, Located, Parsed, Platform};
use crate::macho::Binary;
use crate::pkg::forward::Forward;
use crate::pkg::model::{
    DistributionFacts, InstallerSignature, PackageFacts, PackageInfoFacts, PkgInspection, TocIntegrity,
};
use crate::profile::{Profile, TrustStore};

/// Distribution and PackageInfo are a few KiB.
const MAX_XML_FILE: u64 = 1 << 20;

/// Why a package cannot be read at all (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{path} cannot be read as an installer package: {source}")]
pub struct PkgError {
    pub path: PathBuf,
    #[source]
    pub source: XarError,
}

impl From<PkgError> for Error {
    fn from(e: PkgError) -> Self {
        let hint = match &e.source {
            XarError::NotXar => {
                "a .pkg for the Mac App Store is a flat package (xar); build it with `xcodebuild -exportArchive` (method app-store) or `productbuild --component`"
            }
            e if e.is_limit() => "this is not a Mac App Store package (or it was crafted); re-export it from Xcode",
            _ => "the package is damaged; re-export it from Xcode and make sure the CI artifact was not truncated",
        };
        Error::usage(e.to_string()).with_hint(hint).with_source(e)
    }
}

/// Whether the file starts like a xar archive (what `.pkg` flat packages are).
pub fn is_package(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| xar_read::is_xar(&magic))
}

/// Opens and inspects a package with the reader's default limits.
pub fn inspect(path: &Path, trust: &TrustStore) -> Result<PkgInspection, PkgError> {
    inspect_with(path, trust, xar_read::Limits::default())
}

pub fn inspect_with(path: &Path, trust: &TrustStore, limits: xar_read::Limits) -> Result<PkgInspection, PkgError> {
    let fail = |source| PkgError {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(XarError::Io(e)))?;
    let mut xar = Xar::open(BufReader::with_capacity(64 * 1024, file), limits).map_err(fail)?;
    crate::ipa::stack::on_large_stack(|| Ok(inspect_xar(path, &mut xar, trust)))
}

fn signature_facts(sig: &xar_read::Signature) -> InstallerSignature {
    InstallerSignature {
        style: sig.style.clone(),
        certificates: sig.certificates.len(),
        signer: sig
            .certificates
            .first()
            .and_then(|der| crate::profile::certificate::Cert::parse(der).ok())
            .and_then(|c| c.common_name()),
    }
}

/// What the payload walk collected.
#[derive(Default)]
struct AppFiles {
    app: Option<String>,
    info: Option<Result<Vec<u8>, String>>,
    executable_name: Option<String>,
    executable: Option<Located<Binary>>,
    profile: Option<(String, u64, Result<Vec<u8>, String>)>,
}

fn read_capped(data: &mut dyn Read, size: u64, max: u64, what: &str) -> Result<Vec<u8>, String> {
    if size > max {
        return Err(format!("{what} is {size} bytes, more than the {max}-byte limit"));
    }
    let mut out = Vec::new();
    data.take(max)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    Ok(out)
}

fn executable_name_from(info: &[u8]) -> Option<String> {
    let dict = plist_guard::parse_dict(info).ok()?;
    dict.get("CFBundleExecutable")?.as_string().map(str::to_string)
}

/// Streams one payload; stops once the app's files are in hand or the stream left the app.
fn walk_payload<R: Read + std::io::Seek>(
    xar: &mut Xar<R>,
    payload: &str,
    files: &mut AppFiles,
) -> Result<(), XarError> {
    xar.visit_payload(payload, |entry, data| {
        let Some((app, rest)) = xar_read::app::split_app(&entry.path) else {
            return Ok(if files.app.is_some() {
                Flow::Stop
            } else {
                Flow::Continue
            });
        };
        match &files.app {
            Some(main) if main != app => return Ok(Flow::Stop),
            Some(_) => {}
            // A nested helper (`X.app/…/Y.app`) never gets here first: its path starts with X.app.
            None => files.app = Some(app.to_string()),
        }
        if !entry.is_file() {
            return Ok(Flow::Continue);
        }
        let stem = app
            .rsplit('/')
            .next()
            .unwrap_or(app)
            .trim_end_matches(".app")
            .to_string();
        if rest == "Contents/Info.plist" {
            let bytes = read_capped(data, entry.size, MAX_INFO_PLIST, "Info.plist");
            if let Ok(b) = &bytes {
                files.executable_name = executable_name_from(b);
            }
            files.info = Some(bytes);
        } else if let Some(name) = rest.strip_prefix("Contents/MacOS/") {
            // Info.plist sorts before MacOS in Xcode's payloads; without it, the bundle's own name.
            let wanted = files.executable_name.clone().unwrap_or(stem);
            if name == wanted && files.executable.is_none() {
                let path = format!("{payload}/{}", entry.path);
                let mut reader = Forward::new(data, entry.size);
                let parsed = match crate::macho::parse(&mut reader) {
                    Ok(binary) => Parsed::Ok(binary),
                    Err(e) => Parsed::Err { error: e.to_string() },
                };
                files.executable = Some(Located {
                    path,
                    size: entry.size,
                    parsed,
                });
            }
        } else if rest == "Contents/embedded.provisionprofile" {
            let bytes = read_capped(data, entry.size, MAX_PROFILE, "embedded.provisionprofile");
            files.profile = Some((format!("{payload}/{}", entry.path), entry.size, bytes));
        }
        let done = files.info.is_some() && files.executable.is_some() && files.profile.is_some();
        Ok(if done { Flow::Stop } else { Flow::Continue })
    })
}

fn inspect_xar<R: Read + std::io::Seek>(path: &Path, xar: &mut Xar<R>, trust: &TrustStore) -> PkgInspection {
    let mut problems = Vec::new();
    let toc = xar.toc().clone();
    let xml_limits = xar.limits().xml();
    let distribution = match toc.find("Distribution") {
        None => None,
        Some(_) => match xar.read_file("Distribution", MAX_XML_FILE) {
            Ok(bytes) => match xar_read::pkginfo::parse_distribution(&bytes, xml_limits) {
                Ok(d) => Some(DistributionFacts {
                    product_id: d.product_id,
                    product_version: d.product_version,
                }),
                Err(e) => {
                    problems.push(format!("Distribution is not readable: {e}"));
                    None
                }
            },
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        },
    };
    let components = xar.payload_paths();
    if components.is_empty() {
        problems.push("the package has no component payload (`<name>.pkg/Payload`)".into());
    }
    let mut files = AppFiles::default();
    let mut app_component = None;
    for payload in &components {
        if let Err(e) = walk_payload(xar, payload, &mut files) {
            problems.push(format!("{payload}: {e}"));
        }
        if files.app.is_some() {
            app_component = Some(payload.clone());
            break;
        }
    }
    let package_info = app_component.as_ref().and_then(|payload| {
        let info_path = format!("{}PackageInfo", payload.trim_end_matches("Payload"));
        toc.find(&info_path)?;
        match xar
            .read_file(&info_path, MAX_XML_FILE)
            .map_err(|e| e.to_string())
            .and_then(|b| xar_read::pkginfo::parse_package_info(&b, xml_limits))
        {
            Ok(p) => {
                let app_dir = files.app.clone().unwrap_or_default();
                let bundle = p.bundles.iter().find(|b| {
                    b.path
                        .as_deref()
                        .map(|p| p.trim_start_matches("./").trim_start_matches('/'))
                        == Some(&app_dir)
                });
                Some(PackageInfoFacts {
                    identifier: p.identifier.clone(),
                    version: p.version.clone(),
                    install_location: p.install_location.clone(),
                    app_bundle_id: bundle.and_then(|b| b.id.clone()),
                    app_short_version: bundle.and_then(|b| b.short_version.clone()),
                    app_version: bundle.and_then(|b| b.version.clone()),
                })
            }
            Err(e) => {
                problems.push(format!("{info_path} is not readable: {e}"));
                None
            }
        }
    });
    let bundle = files
        .app
        .clone()
        .map(|app| app_bundle(app_component.as_deref().unwrap_or_default(), &app, &mut files, trust));
    let app_sandbox = bundle
        .as_ref()
        .and_then(|b| b.executable.as_ref())
        .and_then(Located::ok)
        .and_then(sandbox_entitlement);
    let entries = &toc.files;
    let file = FileFacts {
        path: path.display().to_string(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        size: xar.file_len(),
        uncompressed_size: entries
            .iter()
            .filter_map(|f| f.data.as_ref())
            .fold(0u64, |acc, d| acc.saturating_add(d.size)),
        entry_count: entries.len(),
    };
    let app = bundle.as_ref().map(summary).unwrap_or(AppSummary {
        platform: Platform::MacOs,
        ..AppSummary::default()
    });
    PkgInspection {
        inspection: Inspection {
            file,
            app,
            bundles: bundle.into_iter().collect(),
        },
        package: PackageFacts {
            signature: toc.signature.as_ref().map(signature_facts),
            x_signature: toc.x_signature.as_ref().map(signature_facts),
            toc_checksum: match xar.integrity() {
                xar_read::TocIntegrity::Verified => TocIntegrity::Verified,
                xar_read::TocIntegrity::Mismatch => TocIntegrity::Mismatch,
                xar_read::TocIntegrity::Unchecked(_) => TocIntegrity::Unchecked,
            },
            components,
            app_component,
            package_info,
            distribution,
            app_sandbox,
            problems,
        },
    }
}

/// `com.apple.security.app-sandbox` in any slice's entitlements; `None` when no slice has
/// readable entitlements.
fn sandbox_entitlement(binary: &Binary) -> Option<bool> {
    let mut seen = None;
    for slice in &binary.slices {
        let Some(ents) = slice.signature.as_ref().and_then(|s| s.entitlements.as_ref()) else {
            continue;
        };
        let on = ents
            .get("com.apple.security.app-sandbox")
            .and_then(plist::Value::as_boolean)
            .unwrap_or(false);
        // Every slice must carry it: one without is what App Store Connect rejects.
        seen = Some(seen.unwrap_or(true) && on);
    }
    seen
}

fn app_bundle(payload: &str, app: &str, files: &mut AppFiles, trust: &TrustStore) -> Bundle {
    let mut bundle = Bundle {
        path: format!("{payload}/{app}"),
        kind: BundleKind::App,
        parent: None,
        info: None,
        info_error: None,
        identifier: None,
        short_version: None,
        version: None,
        executable_name: None,
        minimum_os: None,
        executable: files.executable.take(),
        profile: None,
    };
    match files.info.take() {
        None => bundle.info_error = Some("Contents/Info.plist is missing".into()),
        Some(Err(e)) => bundle.info_error = Some(e),
        Some(Ok(bytes)) => match plist_guard::parse_dict(&bytes) {
            Ok(d) => bundle.info = Some(d),
            Err(e) => bundle.info_error = Some(e.to_string()),
        },
    }
    bundle.take_identity_from_info("LSMinimumSystemVersion");
    bundle.profile = files.profile.take().map(|(path, size, bytes)| {
        let parsed: Parsed<Profile> = match bytes
            .map_err(|e| e.to_string())
            .and_then(|b| crate::profile::decode(&b, trust).map_err(|e| e.to_string()))
        {
            Ok(p) => Parsed::Ok(p),
            Err(error) => Parsed::Err { error },
        };
        Located { path, size, parsed }
    });
    bundle
}

fn summary(app: &Bundle) -> AppSummary {
    // App Store Connect takes a .pkg as a macOS build whatever the bundle says.
    AppSummary::of(app, Platform::MacOs)
}
