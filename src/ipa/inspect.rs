//! Building the [`Inspection`] from an opened archive: bundle tree, Info.plists, executables,
//! profiles, app summary.
//!
//! Every read is bounded (per file and in total), and every parse failure is kept as data
//! (`info_error`, `Parsed::Err`) for the rules to report. Only an unreadable archive, and a file
//! nested past `plist_guard::MAX_DEPTH` (crafted, never damaged), are errors.

use std::path::Path;

use crate::ipa::EntrySource;
use crate::ipa::archive::{self, Archive, IpaError};
use crate::ipa::bundles::{self, BundleNode};
use crate::ipa::{AppSummary, Bundle, FileFacts, Inspection, Located, Parsed, Platform};
use crate::macho::Binary;
use crate::profile::{Profile, TrustStore};

/// The largest Info.plist we parse (real ones are a few KiB).
pub const MAX_INFO_PLIST: u64 = 4 << 20;
/// The largest embedded.mobileprovision we decode (real ones are 10–30 KiB).
pub const MAX_PROFILE: u64 = 1 << 20;
/// Total Info.plist bytes parsed per archive: parsed dictionaries stay in memory, so thousands of
/// maximum-size plists (cheap to make, they compress to nothing) must not all be kept.
const TOTAL_PLIST_BUDGET: u64 = 64 << 20;
const TOTAL_PROFILE_BUDGET: u64 = 64 << 20;

/// An inspected IPA: the inspection plus the open archive, for rules that need to read entries.
#[derive(Debug)]
pub struct Inspected {
    pub inspection: Inspection,
    pub archive: Archive,
}

/// Opens and inspects an IPA without extracting it. Fails when the file cannot be read as an
/// archive at all, or holds a plist nested past `plist_guard::MAX_DEPTH`; everything else wrong
/// inside a readable archive is left for the rules to report.
pub fn inspect(path: &Path, trust: &TrustStore) -> Result<Inspected, IpaError> {
    let archive = archive::open(path)?;
    let inspection = crate::ipa::stack::on_large_stack(|| inspect_archive(&archive, trust))?;
    Ok(Inspected { inspection, archive })
}

/// An entry nested too deep to parse; refuses the whole archive.
struct Refusal {
    entry: String,
    limit: usize,
}

/// Why an Info.plist gave no dictionary.
enum InfoError {
    Refused(Refusal),
    Problem(String),
}

/// How an Info.plist was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlistFormat {
    Binary,
    Xml,
}

impl PlistFormat {
    pub fn detect(bytes: &[u8]) -> PlistFormat {
        if bytes.starts_with(b"bplist") {
            PlistFormat::Binary
        } else {
            PlistFormat::Xml
        }
    }
}

/// Parses a plist (binary or XML) whose root must be a dictionary.
pub fn parse_plist_dict(bytes: &[u8]) -> Result<plist::Dictionary, String> {
    plist_guard::parse_dict(bytes).map_err(|e| e.to_string())
}

struct Budget {
    plist: u64,
    profile: u64,
}

/// Builds the inspection from an opened archive.
pub fn inspect_archive(archive: &Archive, trust: &TrustStore) -> Result<Inspection, IpaError> {
    let layout = bundles::discover(archive.entries().iter().map(|e| e.name.as_str()));
    let mut budget = Budget {
        plist: TOTAL_PLIST_BUDGET,
        profile: TOTAL_PROFILE_BUDGET,
    };
    let bundles: Vec<Bundle> = layout
        .bundles
        .iter()
        .map(|node| inspect_bundle(archive, node, trust, &mut budget))
        .collect::<Result<_, _>>()
        .map_err(|r| IpaError::TooDeep {
            path: archive.path.clone(),
            entry: r.entry,
            limit: r.limit,
        })?;
    let file = FileFacts {
        path: archive.path.display().to_string(),
        file_name: archive
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        size: archive.file_len(),
        uncompressed_size: archive.entries().iter().fold(0u64, |acc, e| acc.saturating_add(e.size)),
        entry_count: archive.entries().len(),
    };
    let mut inspection = Inspection {
        file,
        app: AppSummary::default(),
        bundles,
    };
    inspection.app = summarise(&inspection);
    Ok(inspection)
}

fn summarise(inspection: &Inspection) -> AppSummary {
    let Some(app) = inspection.main_app() else {
        return AppSummary {
            platform: Platform::Ios,
            ..inspection.app.clone()
        };
    };
    AppSummary::of(app, app.platform_evidence().detect())
}

fn inspect_bundle(
    archive: &Archive,
    node: &BundleNode,
    trust: &TrustStore,
    budget: &mut Budget,
) -> Result<Bundle, Refusal> {
    let mut bundle = Bundle {
        path: node.path.clone(),
        kind: node.kind,
        parent: node.parent,
        info: None,
        info_error: None,
        identifier: None,
        short_version: None,
        version: None,
        executable_name: None,
        minimum_os: None,
        executable: None,
        profile: None,
    };
    match read_info(archive, &node.path, budget) {
        Ok(Some(info)) => bundle.info = Some(info),
        // Resource bundles need no Info.plist; every other bundle does.
        Ok(None) if node.kind.is_code_bundle() => bundle.info_error = Some("Info.plist is missing".into()),
        Ok(None) => {}
        Err(InfoError::Problem(e)) => bundle.info_error = Some(e),
        Err(InfoError::Refused(r)) => return Err(r),
    }
    bundle.take_identity_from_info("MinimumOSVersion");

    if node.kind.is_code_bundle() {
        bundle.executable = executable_entry(archive, &bundle)
            .map(|path| parse_executable(archive, path))
            .transpose()?;
    }
    if node.kind.needs_profile() {
        let path = format!("{}/embedded.mobileprovision", node.path);
        if archive.contains(&path) {
            bundle.profile = Some(decode_profile(archive, path, trust, budget)?);
        }
    }
    Ok(bundle)
}

/// `Ok(None)` when the bundle has no Info.plist (the rules decide whether that is allowed).
fn read_info(archive: &Archive, bundle: &str, budget: &mut Budget) -> Result<Option<plist::Dictionary>, InfoError> {
    let path = format!("{bundle}/Info.plist");
    let Some(meta) = archive.entry(&path) else {
        return Ok(None);
    };
    if meta.size > MAX_INFO_PLIST {
        return Err(InfoError::Problem(format!(
            "Info.plist is {} bytes, more than the {MAX_INFO_PLIST}-byte limit",
            meta.size
        )));
    }
    if meta.size > budget.plist {
        return Err(InfoError::Problem(
            "not read: the archive's Info.plists exceed the total size we parse".into(),
        ));
    }
    budget.plist -= meta.size;
    let bytes = archive
        .read(&path, MAX_INFO_PLIST)
        .map_err(|e| InfoError::Problem(format!("cannot read Info.plist: {e}")))?;
    match plist_guard::parse_dict(&bytes) {
        Ok(d) => Ok(Some(d)),
        Err(plist_guard::PlistError::TooDeep { limit }) => Err(InfoError::Refused(Refusal { entry: path, limit })),
        Err(e) => Err(InfoError::Problem(e.to_string())),
    }
}

/// The entry holding the bundle's executable: `CFBundleExecutable`, or else the bundle's own name
/// (so the Mach-O rules still see a binary whose Info.plist is broken).
fn executable_entry(archive: &Archive, bundle: &Bundle) -> Option<String> {
    let stem = bundles::last_component(&bundle.path)
        .rsplit_once('.')
        .map(|(stem, _)| stem)
        .unwrap_or_default();
    let name = match bundle.executable_name.as_deref() {
        Some(name) if !name.is_empty() && !name.contains('/') && name != ".." => name,
        _ => stem,
    };
    let path = format!("{}/{name}", bundle.path);
    (!name.is_empty() && archive.entry(&path).is_some_and(|e| !e.is_dir)).then_some(path)
}

fn parse_executable(archive: &Archive, path: String) -> Result<Located<Binary>, Refusal> {
    let size = archive.entry(&path).map(|e| e.size).unwrap_or(0);
    let parsed = match archive.range_reader(&path) {
        Ok(mut reader) => match crate::macho::parse(&mut reader) {
            Ok(binary) => Parsed::Ok(binary),
            Err(crate::macho::MachOError::TooDeep { limit }) => {
                let entry = format!("{path} (the entitlements in its code signature)");
                return Err(Refusal { entry, limit });
            }
            Err(e) => Parsed::Err { error: e.to_string() },
        },
        Err(e) => Parsed::Err { error: e.to_string() },
    };
    Ok(Located { path, size, parsed })
}

fn decode_profile(
    archive: &Archive,
    path: String,
    trust: &TrustStore,
    budget: &mut Budget,
) -> Result<Located<Profile>, Refusal> {
    let size = archive.entry(&path).map(|e| e.size).unwrap_or(0);
    let parsed = if size > budget.profile {
        Parsed::Err {
            error: "not read: the archive's profiles exceed the total size we decode".into(),
        }
    } else {
        budget.profile -= size;
        match archive.read(&path, MAX_PROFILE) {
            Ok(bytes) => match crate::profile::decode(&bytes, trust) {
                Ok(profile) => Parsed::Ok(profile),
                Err(crate::profile::ProfileError::TooDeep { limit }) => return Err(Refusal { entry: path, limit }),
                Err(e) => Parsed::Err { error: e.to_string() },
            },
            Err(e) => Parsed::Err { error: e.to_string() },
        }
    };
    Ok(Located { path, size, parsed })
}
