//! Rules for Mac App Store packages (`.pkg`): what App Store Connect checks in the installer
//! package itself and in the app it installs.
//!
//! Codes, as App Store Connect reports them in public issues (Apple publishes no list):
//! - ITMS-90237 "The product archive package's signature is invalid. Ensure that it is signed with
//!   your '3rd Party Mac Developer Installer' certificate." (electron/electron#24871,
//!   electron-userland/electron-builder#430);
//! - ITMS-90296 "App sandbox not enabled. The following executables must include the
//!   "com.apple.security.app-sandbox" entitlement with a Boolean value of true"
//!   (electron/osx-sign#121, electron/electron#3746);
//! - ITMS-90242 "The product archive is invalid. The Info.plist must contain a
//!   LSApplicationCategoryType key" (godotengine/godot#49590, banjun/PhotoStudioPlayer#22);
//! - ITMS-90889 "Cannot be used with TestFlight because the bundle at … is missing a provisioning
//!   profile" (a warning; h3poteto/whalebird-desktop#2814, yurvon-screamo/origa#387) and
//!   ITMS-90886 "… the signature for the bundle … is missing an application identifier but has an
//!   application identifier in the provisioning profile" (lyskouski/app-finance#537,
//!   sindresorhus/LaunchAtLogin-Legacy#93);
//! - ITMS-90056 / ITMS-90057 / ITMS-90049, the Info.plist codes Apple uses for every platform.
//!
//! altool reports a package without a findable app as "Could not find the main bundle or the
//! Info.plist is missing a CFBundleIdentifier" (-21017, javapackager/JavaPackager#221), with no
//! ITMS code. Identity mismatches between Distribution / PackageInfo and the app, a damaged TOC
//! and an unreadable payload have no published code either: those are `ASC-PKG-` codes.

use crate::ipa::Bundle;
use crate::pkg::PkgInspection;
use crate::pkg::model::TocIntegrity;
use crate::validate::Finding;

/// Certificate names App Store Connect accepts on a product archive (the Mac App Store installer
/// certificate, under its old and new names).
const STORE_INSTALLER_PREFIXES: &[&str] = &["3rd Party Mac Developer Installer:", "Mac Installer Distribution:"];

pub fn check(pkg: &PkgInspection, out: &mut Vec<Finding>) {
    package(pkg, out);
    let Some(app) = pkg.inspection.main_app() else {
        out.push(Finding::error(
            "ASC-PKG-NO-APP",
            "",
            "Could not find the main bundle: no component payload holds an `<Name>.app/Contents/Info.plist`.",
            "Build the package from the exported app: `productbuild --component <Name>.app /Applications \
             --sign \"3rd Party Mac Developer Installer: …\" <Name>.pkg`, or let `xcodebuild -exportArchive` \
             (method app-store) write it.",
        ));
        return;
    };
    info_plist(app, out);
    sandbox(pkg, app, out);
    testflight(app, out);
    identity(pkg, app, out);
}

/// What TestFlight for Mac needs on top of the App Store: a provisioning profile in the app, and
/// the profile's app id signed into the executable.
fn testflight(app: &Bundle, out: &mut Vec<Finding>) {
    let name = app.path.rsplit('/').next().unwrap_or(&app.path);
    let Some(profile) = &app.profile else {
        out.push(Finding::warning(
            "ITMS-90889",
            format!("{}/Contents/embedded.provisionprofile", app.path),
            format!(
                "Cannot be used with TestFlight because the bundle at \u{201c}{name}\u{201d} is missing a provisioning \
                 profile. Main bundles are expected to have provisioning profiles in order to be eligible for TestFlight."
            ),
            "Sign with a Mac App Store provisioning profile (Xcode's App Store export embeds it); when signing by \
             hand, copy the profile to <Name>.app/Contents/embedded.provisionprofile before `codesign`.",
        ));
        return;
    };
    let Some(profile_id) = profile.ok().and_then(|p| p.application_identifier.as_deref()) else {
        return;
    };
    let signed_id = app.executable.as_ref().and_then(|e| e.ok()).and_then(|b| {
        b.slices
            .iter()
            .filter_map(|s| s.signature.as_ref()?.entitlements.as_ref())
            .find_map(|e| {
                e.get("com.apple.application-identifier")?
                    .as_string()
                    .map(str::to_string)
            })
    });
    if signed_id.is_none() {
        out.push(Finding::warning(
            "ITMS-90886",
            app.executable.as_ref().map(|e| e.path.clone()).unwrap_or_else(|| app.path.clone()),
            format!(
                "Cannot be used with TestFlight because the signature for the bundle at \u{201c}{name}\u{201d} is missing \
                 an application identifier but has an application identifier ({profile_id}) in the provisioning profile."
            ),
            "Sign the app with entitlements that include com.apple.application-identifier (TEAMID.bundle.id) and \
             com.apple.developer.team-identifier, matching the embedded profile; Xcode's App Store export does this.",
        ));
    }
}

fn package(pkg: &PkgInspection, out: &mut Vec<Finding>) {
    let facts = &pkg.package;
    for problem in &facts.problems {
        out.push(Finding::error(
            "ASC-PKG-UNREADABLE",
            "",
            format!("Part of the package could not be read: {problem}."),
            "Re-export the package from Xcode (Distribute App → App Store Connect → Export) and make sure the CI \
             artifact was not truncated or re-compressed.",
        ));
    }
    if matches!(facts.toc_checksum, TocIntegrity::Mismatch) {
        out.push(Finding::error(
            "ASC-PKG-TOC-CHECKSUM",
            "",
            "The package's table of contents does not match its stored checksum: it was changed after it was \
             written, so its signature no longer covers its contents.",
            "Rebuild and re-sign the package (`productbuild --sign`); do not edit a signed package.",
        ));
    }
    let signers: Vec<&str> = [&facts.signature, &facts.x_signature]
        .into_iter()
        .flatten()
        .filter_map(|s| s.signer.as_deref())
        .collect();
    if !facts.is_signed() {
        out.push(Finding::error(
            "ITMS-90237",
            "",
            "The product archive package's signature is invalid: the package is not signed. Ensure that it is \
             signed with your '3rd Party Mac Developer Installer' certificate.",
            "Sign the package with your Mac Installer Distribution certificate: `productbuild --sign \"3rd Party \
             Mac Developer Installer: <Team> (<Team ID>)\" …`, or `productsign` an unsigned one.",
        ));
    } else if let Some(signer) = signers.first()
        && !signers
            .iter()
            .any(|s| STORE_INSTALLER_PREFIXES.iter().any(|p| s.starts_with(p)))
    {
        out.push(Finding::error(
            "ITMS-90237",
            "",
            format!(
                "The product archive package's signature is invalid: it is signed by '{signer}'. Ensure that it is \
                 signed with your '3rd Party Mac Developer Installer' certificate."
            ),
            "Sign with the Mac Installer Distribution certificate (\"3rd Party Mac Developer Installer: …\"); a \
             \"Developer ID Installer\" certificate is for packages distributed outside the Mac App Store.",
        ));
    } else if signers.is_empty() {
        out.push(Finding::warning(
            "ASC-PKG-SIGNER-UNKNOWN",
            "",
            "The package carries a signature, but its certificate could not be read, so the signer cannot be \
             checked.",
            "Re-sign the package with `productbuild --sign \"3rd Party Mac Developer Installer: …\"`.",
        ));
    }
}

fn info_plist(app: &Bundle, out: &mut Vec<Finding>) {
    let path = format!("{}/Contents/Info.plist", app.path);
    if let Some(error) = &app.info_error {
        out.push(Finding::error(
            "ASC-PKG-INFO-PLIST",
            &path,
            format!("The app's Info.plist cannot be read: {error}."),
            "Re-export the app from Xcode; check what modifies the bundle before `productbuild`.",
        ));
        return;
    }
    let blank = |key: &str| app.info_str(key).is_none_or(|s| s.trim().is_empty());
    for (key, code) in [
        ("CFBundleIdentifier", "ITMS-90049"),
        ("CFBundleVersion", "ITMS-90056"),
        ("CFBundleShortVersionString", "ITMS-90057"),
    ] {
        if blank(key) {
            out.push(Finding::error(
                code,
                &path,
                format!("The Info.plist file is missing the required key: {key}."),
                format!(
                    "Add {key} (a non-empty string) to the app's Info.plist (set it in the target's build settings)."
                ),
            ));
        }
    }
    if blank("LSApplicationCategoryType") {
        out.push(Finding::error(
            "ITMS-90242",
            &path,
            "The product archive is invalid. The Info.plist must contain a LSApplicationCategoryType key, whose \
             value is the UTI for a valid category.",
            "Set the App Category in the target's General tab (INFOPLIST_KEY_LSApplicationCategoryType), e.g. \
             public.app-category.productivity, matching the app's primary category in App Store Connect.",
        ));
    }
    if blank("LSMinimumSystemVersion") {
        out.push(Finding::warning(
            "ASC-PKG-MIN-OS",
            &path,
            "The Info.plist has no LSMinimumSystemVersion, so the Mac App Store cannot tell which macOS versions \
             the app runs on.",
            "Set the macOS Deployment Target (MACOSX_DEPLOYMENT_TARGET); Xcode writes it as LSMinimumSystemVersion.",
        ));
    }
}

fn sandbox(pkg: &PkgInspection, app: &Bundle, out: &mut Vec<Finding>) {
    let Some(exe) = &app.executable else {
        out.push(Finding::error(
            "ASC-PKG-NO-EXECUTABLE",
            format!("{}/Contents/MacOS", app.path),
            format!(
                "The app's main executable `Contents/MacOS/{}` was not found in the payload.",
                app.executable_name.as_deref().unwrap_or("?")
            ),
            "Make CFBundleExecutable name the binary in Contents/MacOS, and re-export the app from Xcode.",
        ));
        return;
    };
    let path = exe.path.clone();
    match pkg.package.app_sandbox {
        Some(true) => {}
        Some(false) => out.push(Finding::error(
            "ITMS-90296",
            &path,
            format!(
                "App sandbox not enabled. The following executables must include the \
                 \"com.apple.security.app-sandbox\" entitlement with a Boolean value of true in the entitlements \
                 property list: [ \"{path}\" ]"
            ),
            "Turn on App Sandbox (Signing & Capabilities → App Sandbox, ENABLE_APP_SANDBOX = YES) so the \
             entitlement is signed into the executable; when signing by hand, pass an entitlements file with \
             com.apple.security.app-sandbox = true to `codesign --entitlements`.",
        )),
        None => out.push(Finding::error(
            "ITMS-90296",
            &path,
            match &exe.parsed {
                crate::ipa::Parsed::Err { error } => format!(
                    "The main executable could not be read ({error}), so its App Sandbox entitlement cannot be \
                     found; App Store Connect requires \"com.apple.security.app-sandbox\" = true."
                ),
                crate::ipa::Parsed::Ok(_) => "The main executable carries no entitlements (it is unsigned, or \
                     signed without an entitlements file); App Store Connect requires \
                     \"com.apple.security.app-sandbox\" = true."
                    .to_string(),
            },
            "Sign the app for the Mac App Store with App Sandbox on (Signing & Capabilities → App Sandbox); \
             Xcode's App Store export does this.",
        )),
    }
}

/// What Distribution and PackageInfo say must be what the app says: App Store Connect takes the
/// bundle id and version from both.
fn identity(pkg: &PkgInspection, app: &Bundle, out: &mut Vec<Finding>) {
    let facts = &pkg.package;
    let (Some(id), short, version) = (
        app.identifier.as_deref(),
        app.short_version.as_deref(),
        app.version.as_deref(),
    ) else {
        return;
    };
    let mismatch = |code: &str, path: &str, what: &str, theirs: &str, ours: &str, fix: &str| {
        Finding::error(
            code,
            path,
            format!("{what} is '{theirs}', but the app's Info.plist says '{ours}'."),
            fix.to_string(),
        )
    };
    let rebuild = "Build the package from the app you are shipping (`productbuild --component <Name>.app \
                   /Applications …` writes both from its Info.plist), or let Xcode's App Store export write it; do \
                   not pass a different --identifier/--version.";
    match &facts.distribution {
        None => out.push(Finding::error(
            "ASC-PKG-NOT-PRODUCT-ARCHIVE",
            "",
            "The package has no Distribution file: it is a component package (pkgbuild), not a product archive.",
            "Wrap it in a product archive: `productbuild --component <Name>.app /Applications --sign …`, or \
             `productbuild --package <component>.pkg …`.",
        )),
        Some(d) => {
            match d.product_id.as_deref() {
                None => out.push(Finding::warning(
                    "ASC-PKG-NO-PRODUCT",
                    "Distribution",
                    "Distribution has no <product id=… version=…>: App Store Connect cannot check it against the \
                     app.",
                    rebuild,
                )),
                Some(pid) if pid != id => out.push(mismatch(
                    "ASC-PKG-ID-MISMATCH",
                    "Distribution",
                    "The product id in Distribution",
                    pid,
                    id,
                    rebuild,
                )),
                Some(_) => {}
            }
            if let (Some(pv), Some(short)) = (d.product_version.as_deref(), short)
                && pv != short
            {
                out.push(mismatch(
                    "ASC-PKG-VERSION-MISMATCH",
                    "Distribution",
                    "The product version in Distribution",
                    pv,
                    short,
                    rebuild,
                ));
            }
        }
    }
    let Some(info) = &facts.package_info else { return };
    let path = facts
        .app_component
        .as_deref()
        .map(|p| format!("{}PackageInfo", p.trim_end_matches("Payload")))
        .unwrap_or_else(|| "PackageInfo".into());
    let checks = [
        (
            "ASC-PKG-ID-MISMATCH",
            "The app's bundle id in PackageInfo",
            &info.app_bundle_id,
            Some(id),
        ),
        (
            "ASC-PKG-VERSION-MISMATCH",
            "The app's CFBundleShortVersionString in PackageInfo",
            &info.app_short_version,
            short,
        ),
        (
            "ASC-PKG-VERSION-MISMATCH",
            "The app's CFBundleVersion in PackageInfo",
            &info.app_version,
            version,
        ),
    ];
    for (code, what, theirs, ours) in checks {
        if let (Some(theirs), Some(ours)) = (theirs.as_deref(), ours)
            && theirs != ours
        {
            out.push(mismatch(code, &path, what, theirs, ours, rebuild));
        }
    }
}
