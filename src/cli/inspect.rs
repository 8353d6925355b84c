//! `asc-publish inspect`: what is inside an IPA, as aligned text or one JSON document.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::Error;
use crate::ipa::{Bundle, BundleKind, Inspection, Parsed};
use crate::output::Format;
use crate::profile::TrustStore;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Path to the .ipa file, or a macOS .pkg (read in place, never extracted).
    pub ipa: PathBuf,
    /// Output format: aligned text for people, or one JSON document on stdout for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also trust this root certificate (PEM) when checking provisioning profiles and code
    /// signatures, besides Apple's. Meant for the simulator's sample IPAs and for tests.
    #[arg(long, value_name = "FILE", env = "ASC_EXTRA_ROOT_CA")]
    pub extra_root_ca: Option<PathBuf>,
}

/// Apple's roots, plus the extra root the user asked to trust.
pub fn trust_store(extra_root_ca: Option<&Path>) -> Result<TrustStore, Error> {
    let Some(path) = extra_root_ca else {
        return Ok(TrustStore::apple());
    };
    let pem = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!("cannot read the root certificate {}: {e}", path.display()))
            .with_hint("--extra-root-ca takes a PEM file holding one CA certificate")
            .with_source(e)
    })?;
    TrustStore::apple().with_extra_root_pem(&pem).map_err(|e| {
        Error::usage(format!("{} is not a usable root certificate: {e}", path.display()))
            .with_hint("--extra-root-ca takes a PEM file holding one CA certificate (-----BEGIN CERTIFICATE-----)")
            .with_source(e)
    })
}

pub fn run(args: InspectArgs) -> Result<i32, Error> {
    let trust = trust_store(args.extra_root_ca.as_deref())?;
    let subject = crate::subject::Subject::open(&args.ipa, &trust)?;
    match args.format {
        Format::Json => println!(
            "{}",
            to_json(&subject.to_json_value().map_err(|e| Error::usage(e.to_string()))?)?
        ),
        Format::Text => {
            print!("{}", render_text(subject.inspection()));
            if let crate::subject::Subject::Pkg(p) = &subject {
                print!("{}", render_package(&p.package));
            }
        }
    }
    Ok(crate::ExitCode::Success.code())
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map_err(|e| Error::usage(format!("cannot render JSON: {e}")))
}

/// `12.3 MB`: decimal units, like Finder and App Store Connect.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: &[&str] = &["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {name}")
    }
}

/// `1.0.0 (1)`, with `?` for what is missing.
pub(crate) fn version_pair(short: Option<&str>, build: Option<&str>) -> String {
    format!("{} ({})", short.unwrap_or("?"), build.unwrap_or("?"))
}

/// The installer package's own facts, after the bundle tree.
pub fn render_package(p: &crate::pkg::PackageFacts) -> String {
    let mut out = String::from("\nInstaller package\n");
    let signed = match [&p.signature, &p.x_signature].into_iter().flatten().next() {
        Some(s) => format!(
            "{} signature, {}",
            s.style,
            s.signer.as_deref().unwrap_or("signer unreadable")
        ),
        None => "not signed".into(),
    };
    let toc = serde_json::to_value(&p.toc_checksum)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let sandbox = match p.app_sandbox {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown (no entitlements read)",
    };
    let product = p
        .distribution
        .as_ref()
        .map(|d| version_pair(d.product_id.as_deref(), d.product_version.as_deref()))
        .unwrap_or_else(|| "no Distribution (component package)".into());
    let rows = [
        ("Signature", signed),
        ("TOC", format!("checksum {toc}")),
        ("Product", product),
        ("Component", p.app_component.clone().unwrap_or_else(|| "?".into())),
        ("App Sandbox", sandbox.to_string()),
    ];
    for (key, value) in rows {
        let _ = writeln!(out, "  {key:<12} {value}");
    }
    for problem in &p.problems {
        let _ = writeln!(out, "  problem      {problem}");
    }
    out
}

fn kind_label(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::App => "app",
        BundleKind::AppExtension => "extension",
        BundleKind::Framework => "framework",
        BundleKind::WatchApp => "watch app",
        BundleKind::AppClip => "app clip",
        BundleKind::Resource => "resources",
    }
}

/// One line a person can read: kind, name, team, app id, expiry, devices.
fn profile_summary(p: &crate::profile::Profile) -> String {
    let kind = serde_json::to_value(p.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut line = kind;
    if let Some(name) = &p.name {
        let _ = write!(line, " \"{name}\"");
    }
    if let Some(team) = p.team_id() {
        let _ = write!(line, "  team {team}");
        if let Some(team_name) = &p.team_name {
            let _ = write!(line, " ({team_name})");
        }
    }
    if let Some(app_id) = &p.application_identifier {
        let _ = write!(line, "  app id {app_id}");
    }
    if let Some(expires) = &p.expires {
        let _ = write!(line, "  expires {}", expires.get(..10).unwrap_or(expires));
    }
    if p.device_count > 0 {
        let _ = write!(line, "  {} device(s)", p.device_count);
    }
    if p.provisions_all_devices {
        line.push_str("  all devices");
    }
    line
}

fn depth(inspection: &Inspection, bundle: &Bundle) -> usize {
    let mut depth = 0;
    let mut cur = bundle.parent;
    while let Some(i) = cur {
        depth += 1;
        // Parents always come first, so this ends; the bound only guards a malformed tree.
        if depth > inspection.bundles.len() {
            break;
        }
        cur = inspection.bundles.get(i).and_then(|b| b.parent);
    }
    depth
}

/// The compact human view: aligned key/value lines, then the bundle tree.
pub fn render_text(inspection: &Inspection) -> String {
    let mut out = String::new();
    let file = &inspection.file;
    let app = &inspection.app;
    let _ = writeln!(
        out,
        "{}  ({}, {} uncompressed, {} entries)\n",
        file.file_name,
        human_size(file.size),
        human_size(file.uncompressed_size),
        file.entry_count
    );
    let encryption = match app.uses_non_exempt_encryption {
        Some(v) => format!("ITSAppUsesNonExemptEncryption = {v}"),
        None => "not declared (TestFlight will ask about export compliance)".into(),
    };
    let rows = [
        ("Bundle ID", app.bundle_id.clone().unwrap_or_else(|| "?".into())),
        (
            "Version",
            version_pair(app.short_version.as_deref(), app.version.as_deref()),
        ),
        ("Platform", app.platform.as_api_str().to_string()),
        ("Minimum OS", app.minimum_os.clone().unwrap_or_else(|| "?".into())),
        ("SDK", app.sdk.clone().unwrap_or_else(|| "?".into())),
        ("Xcode", app.xcode.clone().unwrap_or_else(|| "?".into())),
        ("Encryption", encryption),
        (
            "Signed by",
            app.signing_identity
                .clone()
                .unwrap_or_else(|| "(no identity found)".into()),
        ),
    ];
    for (key, value) in rows {
        let _ = writeln!(out, "  {key:<12} {value}");
    }
    if inspection.bundles.is_empty() {
        let where_ = if app.platform == crate::ipa::Platform::MacOs {
            "No <Name>.app found in the package's payload."
        } else {
            "No Payload/<Name>.app found in the archive."
        };
        let _ = writeln!(out, "\n{where_}");
        return out;
    }
    let _ = writeln!(out, "\nBundles");
    for bundle in &inspection.bundles {
        render_bundle(&mut out, inspection, bundle);
    }
    out
}

fn render_bundle(out: &mut String, inspection: &Inspection, bundle: &Bundle) {
    let depth = depth(inspection, bundle);
    let indent = "  ".repeat(depth + 1);
    let name = match inspection.parent_of(bundle) {
        Some(parent) => bundle
            .path
            .strip_prefix(&format!("{}/", parent.path))
            .unwrap_or(&bundle.path),
        None => crate::ipa::bundles::last_component(&bundle.path),
    };
    let mut line = format!(
        "{indent}{name}  [{}]  {}  {}",
        kind_label(bundle.kind),
        bundle.identifier.as_deref().unwrap_or("?"),
        version_pair(bundle.short_version.as_deref(), bundle.version.as_deref()),
    );
    if let Some(min) = &bundle.minimum_os {
        let _ = write!(line, "  min {min}");
    }
    let _ = writeln!(out, "{line}");
    // Details sit one level in, marked, so they read apart from the child bundles at that level.
    let detail = format!("{indent}  · ");
    if let Some(error) = &bundle.info_error {
        let _ = writeln!(out, "{detail}Info.plist  {error}");
    }
    if let Some(exe) = &bundle.executable {
        match &exe.parsed {
            Parsed::Ok(binary) => {
                let archs = binary.architectures().join(", ");
                let _ = writeln!(out, "{detail}executable  {}  {archs}", human_size(exe.size));
            }
            Parsed::Err { error } => {
                let _ = writeln!(out, "{detail}executable  {}  unreadable: {error}", human_size(exe.size));
            }
        }
    }
    if let Some(profile) = &bundle.profile {
        match &profile.parsed {
            Parsed::Ok(p) => {
                let _ = writeln!(out, "{detail}profile     {}", profile_summary(p));
                let _ = writeln!(out, "{indent}                {}", p.signature.describe());
            }
            Parsed::Err { error } => {
                let _ = writeln!(out, "{detail}profile     unreadable: {error}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_decimal_and_short() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(49_425), "49.4 KB");
        assert_eq!(human_size(2_147_483_648), "2.1 GB");
    }
}
