//! Rules on each code bundle's executable: architectures, platform, file type, encryption info,
//! bitcode and deployment target (ITMS-90085/90086/90087/90124/90125/90482/90208).

use crate::ipa::{Bundle, BundleKind, Parsed, Platform};
use crate::macho::{Binary, FileType};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        check_bundle(bundle, ctx.ipa.app.platform, out);
    }
}

/// The bundle path as Apple prints it: relative to `Payload/`.
pub(crate) fn display_path(path: &str) -> &str {
    path.strip_prefix("Payload/").unwrap_or(path)
}

fn check_bundle(bundle: &Bundle, platform: Platform, out: &mut Vec<Finding>) {
    let shown = display_path(&bundle.path);
    let exe = match &bundle.executable {
        Some(located) => match &located.parsed {
            Parsed::Ok(b) => Some((located.path.as_str(), b)),
            Parsed::Err { error } => {
                out.push(no_architectures(
                    &located.path,
                    shown,
                    &format!("it is not a valid Mach-O file ({error})"),
                ));
                None
            }
        },
        // Without an Info.plist the bundle's own rules report it; nothing to add here.
        None if bundle.info.is_none() => None,
        None => {
            let why = match &bundle.executable_name {
                Some(name) => format!("the executable '{name}' named by CFBundleExecutable is missing"),
                None => "Info.plist has no CFBundleExecutable".to_string(),
            };
            out.push(no_architectures(&bundle.path, shown, &why));
            None
        }
    };
    let Some((path, binary)) = exe else { return };
    if binary.slices.is_empty() {
        out.push(no_architectures(path, shown, "it has no architecture slices"));
        return;
    }
    architectures(binary, platform, path, shown, out);
    file_type(bundle, binary, path, out);
    encryption(binary, path, out);
    if binary.slices.iter().any(|s| s.has_bitcode) {
        out.push(Finding::error(
            "ITMS-90482",
            path,
            format!("Invalid Executable - The executable '{}' contains bitcode.", display_path(path)),
            "Bitcode is no longer accepted: build with ENABLE_BITCODE=NO, and for a prebuilt framework strip it with `xcrun bitcode_strip -r <binary> -o <binary>` before signing.",
        ));
    }
    if bundle.kind == BundleKind::Framework {
        deployment_target(bundle, binary, path, out);
    }
    for p in binary.all_problems() {
        out.push(Finding::warning(
            "ASC-MACHO",
            path,
            format!("Part of the executable could not be read: {p}."),
            "Rebuild the binary with Xcode's toolchain; a damaged or hand-edited Mach-O is likely to be rejected.",
        ));
    }
}

fn no_architectures(path: &str, shown: &str, why: &str) -> Finding {
    Finding::error(
        "ITMS-90085",
        path,
        format!(
            "No architectures in the binary. Lipo failed to detect any architectures in the bundle executable of '{shown}': {why}."
        ),
        "Make sure CFBundleExecutable names the bundle's Mach-O executable and that the build produced it (a zero-byte or text file in its place fails this check); rebuild and re-export.",
    )
}

/// How the fix texts name the platform's device build: Xcode's destination and the XCFramework
/// slice to link.
fn device_build(platform: Platform) -> (&'static str, &'static str) {
    match platform {
        Platform::Ios => ("Any iOS Device", "ios-arm64"),
        Platform::TvOs => ("Any tvOS Device", "tvos-arm64"),
        Platform::VisionOs => ("Any visionOS Device", "xros-arm64"),
        Platform::MacOs => ("Any Mac", "macos-arm64_x86_64"),
    }
}

fn architectures(binary: &Binary, platform: Platform, path: &str, shown: &str, out: &mut Vec<Finding>) {
    let (destination, slice) = device_build(platform);
    let name = platform.display_name();
    // watchOS apps inside the iOS app are arm64_32 (64-bit registers, 32-bit pointers): accepted.
    if !binary
        .slices
        .iter()
        .any(|s| (s.is_arm64() || s.arch == "arm64_32") && !is_simulator(s))
    {
        out.push(Finding::error(
            "ITMS-90086",
            path,
            format!(
                "Missing 64-bit support. The binary '{}' is missing architectures [arm64]; it contains [{}].",
                display_path(path),
                binary.architectures().join(", ")
            ),
            format!(
                "Build for a generic {name} device (arm64): in Xcode set Architectures to $(ARCHS_STANDARD), archive for '{destination}', and use an XCFramework's {slice} slice for prebuilt frameworks."
            ),
        ));
    }
    let mut unsupported: Vec<String> = Vec::new();
    for s in &binary.slices {
        if matches!(s.arch.as_str(), "x86_64" | "x86_64h" | "i386") {
            unsupported.push(s.arch.clone());
        } else if is_simulator(s) {
            let platform = s.build.as_ref().map_or("simulator", |b| b.platform_name.as_str());
            unsupported.push(format!("{} ({platform})", s.arch));
        }
    }
    if !unsupported.is_empty() {
        out.push(Finding::error(
            "ITMS-90087",
            path,
            format!(
                "Unsupported Architectures. The executable for {shown} contains unsupported architectures '[{}]'.",
                unsupported.join(", ")
            ),
            format!(
                "Remove simulator and Mac slices: use the framework XCFramework's {name} device slice ({slice}) instead of a 'fat' universal framework, or strip them with `lipo -remove x86_64 -remove i386` before signing."
            ),
        ));
    }
    let legacy: Vec<&str> = binary
        .slices
        .iter()
        .map(|s| s.arch.as_str())
        .filter(|a| matches!(*a, "armv7" | "armv7s" | "armv6" | "arm"))
        .collect();
    if !legacy.is_empty() {
        out.push(Finding::warning(
            "ASC-ARCH-32BIT",
            path,
            format!(
                "The executable contains 32-bit architectures [{}], which iOS 11 and later cannot run.",
                legacy.join(", ")
            ),
            "Build for arm64 only (the default in current Xcode); drop armv7/armv7s from ARCHS or VALID_ARCHS.",
        ));
    }
}

fn is_simulator(s: &crate::macho::Slice) -> bool {
    s.build.as_ref().is_some_and(|b| b.is_simulator_or_catalyst())
}

fn file_type(bundle: &Bundle, binary: &Binary, path: &str, out: &mut Vec<Finding>) {
    let expected = match bundle.kind {
        BundleKind::Framework => FileType::Dylib,
        BundleKind::App | BundleKind::AppExtension | BundleKind::WatchApp | BundleKind::AppClip => FileType::Execute,
        BundleKind::Resource => return,
    };
    if let Some(bad) = binary.slices.iter().map(|s| s.filetype).find(|&t| t != expected) {
        out.push(Finding::error(
            "ITMS-90124",
            path,
            format!(
                "The binary is invalid. The executable type '{}' is not valid. Only '{}' is permitted.",
                bad.name(),
                expected.name()
            ),
            if expected == FileType::Dylib {
                "Frameworks must contain a dynamic library: set MACH_O_TYPE = mh_dylib for the framework target (static frameworks must be linked into the app, not embedded)."
            } else {
                "Set MACH_O_TYPE = mh_execute for the app or extension target and rebuild; an object file or library cannot be the bundle executable."
            },
        ));
    }
}

fn encryption(binary: &Binary, path: &str, out: &mut Vec<Finding>) {
    let mut why = None;
    for s in &binary.slices {
        why = match s.encryption {
            None => Some(format!("the {} slice has no LC_ENCRYPTION_INFO load command", s.arch)),
            Some(e) if e.cryptid != 0 => Some(format!(
                "the {} slice is already encrypted (cryptid {})",
                s.arch, e.cryptid
            )),
            Some(e) => {
                let end = u64::from(e.cryptoff) + u64::from(e.cryptsize);
                match s.text_segment() {
                    Some(t)
                        if e.cryptsize > 0 && (u64::from(e.cryptoff) < t.fileoff || end > t.fileoff + t.filesize) =>
                    {
                        Some(format!(
                            "the {} slice's encrypted range {}..{end} lies outside __TEXT",
                            s.arch, e.cryptoff
                        ))
                    }
                    _ => None,
                }
            }
        };
        if why.is_some() {
            break;
        }
    }
    if let Some(why) = why {
        out.push(Finding::error(
            "ITMS-90125",
            path,
            format!(
                "The binary is invalid. The encryption info in the LC_ENCRYPTION_INFO load command is either missing or invalid, or the binary is already encrypted. This binary does not seem to have been built with Apple's linker ({why})."
            ),
            "Build the binary with Xcode's linker from source; do not upload binaries decrypted from, or re-signed after, the App Store, and rebuild third-party frameworks that were post-processed.",
        ));
    }
}

/// Compares dotted versions numerically, missing components counting as 0 (`15.0 == 15.0.0`).
pub(crate) fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let parse = |s: &str| {
        s.trim()
            .split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<u64>>>()
    };
    let (mut x, mut y) = (parse(a)?, parse(b)?);
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    Some(x.cmp(&y))
}

fn deployment_target(bundle: &Bundle, binary: &Binary, path: &str, out: &mut Vec<Finding>) {
    let Some(plist_min) = bundle.minimum_os.as_deref() else {
        return;
    };
    let Some(binary_min) = binary
        .slices
        .iter()
        .find(|s| s.is_arm64())
        .and_then(|s| s.build.as_ref())
        .map(|b| b.minos.as_str())
    else {
        return;
    };
    let shown = display_path(&bundle.path);
    match compare_versions(binary_min, plist_min) {
        Some(std::cmp::Ordering::Greater) => out.push(Finding::error(
            "ITMS-90208",
            path,
            format!(
                "Invalid Bundle. The bundle {shown} does not support the minimum OS Version specified in the Info.plist (the binary requires {binary_min}, MinimumOSVersion is {plist_min})."
            ),
            "Make the framework's MinimumOSVersion in Info.plist equal its deployment target (IPHONEOS_DEPLOYMENT_TARGET), or rebuild it for the lower target.",
        )),
        Some(std::cmp::Ordering::Less) => out.push(Finding::warning(
            "ITMS-90208",
            path,
            format!(
                "The bundle {shown} declares MinimumOSVersion {plist_min} in its Info.plist, but its binary was built for {binary_min}."
            ),
            "Make the framework's MinimumOSVersion equal its deployment target (IPHONEOS_DEPLOYMENT_TARGET).",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::macho::testkit::{MemEntries, bundle, inspection, parse_ok, run};
    use crate::sample::macho::{Arch, MH_DYLIB, MH_OBJECT, MachOBuilder, SliceSpec};

    fn findings(kind: BundleKind, builder: MachOBuilder) -> Vec<Finding> {
        let path = if kind == BundleKind::Framework {
            "Payload/A.app/Frameworks/F.framework"
        } else {
            "Payload/A.app"
        };
        let exe = parse_ok(&builder.build());
        let ipa = inspection(vec![bundle(path, kind, "com.example.a", Some(exe), None)]);
        run(check, &ipa, &MemEntries::default(), false)
    }

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn clean_arm64_app_and_framework_pass() {
        assert!(findings(BundleKind::App, MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64))).is_empty());
        let fw = SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB);
        assert!(findings(BundleKind::Framework, MachOBuilder::new().slice(fw)).is_empty());
    }

    #[test]
    fn missing_or_unparseable_executable_is_90085() {
        let mut b = bundle("Payload/A.app", BundleKind::App, "com.example.a", None, None);
        let f = run(check, &inspection(vec![b.clone()]), &MemEntries::default(), false);
        assert_eq!(codes(&f), ["ITMS-90085"]);
        b.executable = Some(crate::ipa::Located {
            path: "Payload/A.app/A".into(),
            size: 0,
            parsed: Parsed::Err {
                error: "the file is empty".into(),
            },
        });
        let f = run(check, &inspection(vec![b]), &MemEntries::default(), false);
        assert_eq!(codes(&f), ["ITMS-90085"]);
        assert!(f[0].message.starts_with("No architectures in the binary."));
    }

    #[test]
    fn simulator_slices_are_90087_with_apples_wording() {
        let f = findings(
            BundleKind::Framework,
            MachOBuilder::new()
                .slice(SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB))
                .slice(SliceSpec::new(Arch::X86_64).filetype(MH_DYLIB))
                .slice(SliceSpec::new(Arch::I386).filetype(MH_DYLIB)),
        );
        assert_eq!(codes(&f), ["ITMS-90087"]);
        assert_eq!(
            f[0].message,
            "Unsupported Architectures. The executable for A.app/Frameworks/F.framework contains unsupported architectures '[x86_64, i386]'."
        );
        let f = findings(
            BundleKind::App,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64).platform(7)),
        );
        assert_eq!(codes(&f), ["ITMS-90086", "ITMS-90087"]);
    }

    #[test]
    fn architecture_fixes_name_the_apps_platform() {
        let exe = parse_ok(&MachOBuilder::new().slice(SliceSpec::new(Arch::X86_64)).build());
        let mut ipa = inspection(vec![bundle(
            "Payload/A.app",
            BundleKind::App,
            "com.example.a",
            Some(exe),
            None,
        )]);
        ipa.app.platform = Platform::TvOs;
        let f = run(check, &ipa, &MemEntries::default(), false);
        assert_eq!(codes(&f), ["ITMS-90086", "ITMS-90087"]);
        for finding in &f {
            assert!(!finding.fix.contains("iOS"), "{}", finding.fix);
            assert!(finding.fix.contains("tvOS"), "{}", finding.fix);
        }
        assert!(f[0].fix.contains("'Any tvOS Device'") && f[0].fix.contains("tvos-arm64"));
        ipa.app.platform = Platform::VisionOs;
        let f = run(check, &ipa, &MemEntries::default(), false);
        assert!(
            f.iter()
                .all(|x| x.fix.contains("visionOS") && !x.fix.contains("ios-arm64"))
        );
        assert!(f[0].fix.contains("'Any visionOS Device'"));
        ipa.app.platform = Platform::Ios;
        let f = run(check, &ipa, &MemEntries::default(), false);
        assert!(f[0].fix.contains("generic iOS device"));
    }

    #[test]
    fn missing_arm64_is_90086_and_armv7_warns() {
        let f = findings(BundleKind::App, MachOBuilder::new().slice(SliceSpec::new(Arch::Armv7)));
        assert_eq!(codes(&f), ["ITMS-90086", "ASC-ARCH-32BIT"]);
        let f = findings(
            BundleKind::App,
            MachOBuilder::new()
                .slice(SliceSpec::new(Arch::Armv7s))
                .slice(SliceSpec::new(Arch::Arm64)),
        );
        assert_eq!(codes(&f), ["ASC-ARCH-32BIT"]);
        assert!(!f[0].is_error());
    }

    #[test]
    fn watch_arm64_32_counts_as_64_bit() {
        // arm64_32 is cputype 0x0200000c; patch a built arm64 slice's header.
        let mut bytes = MachOBuilder::new()
            .slice(SliceSpec::new(Arch::Arm64).platform(4))
            .build();
        bytes[4..8].copy_from_slice(&0x0200_000c_u32.to_le_bytes());
        let exe = parse_ok(&bytes);
        assert_eq!(exe.architectures(), ["arm64_32"]);
        let ipa = inspection(vec![bundle(
            "Payload/A.app/Watch/W.app",
            BundleKind::WatchApp,
            "com.example.a.watch",
            Some(exe),
            None,
        )]);
        assert!(run(check, &ipa, &MemEntries::default(), false).is_empty());
    }

    #[test]
    fn wrong_file_type_is_90124() {
        let f = findings(
            BundleKind::App,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64).filetype(MH_OBJECT)),
        );
        assert_eq!(codes(&f), ["ITMS-90124"]);
        assert!(
            f[0].message
                .contains("'OBJECT' is not valid. Only 'EXECUTE' is permitted.")
        );
        let f = findings(
            BundleKind::Framework,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64)),
        );
        assert!(
            f[0].message
                .contains("'EXECUTE' is not valid. Only 'DYLIB' is permitted.")
        );
    }

    #[test]
    fn encryption_info_missing_or_set_is_90125() {
        let f = findings(
            BundleKind::App,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64).cryptid(None)),
        );
        assert_eq!(codes(&f), ["ITMS-90125"]);
        let f = findings(
            BundleKind::App,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64).cryptid(Some(1))),
        );
        assert_eq!(codes(&f), ["ITMS-90125"]);
        assert!(f[0].message.contains("already encrypted"));
    }

    #[test]
    fn bitcode_is_90482() {
        let f = findings(
            BundleKind::App,
            MachOBuilder::new().slice(SliceSpec::new(Arch::Arm64).bitcode(true)),
        );
        assert_eq!(codes(&f), ["ITMS-90482"]);
        assert_eq!(
            f[0].message,
            "Invalid Executable - The executable 'A.app/A' contains bitcode."
        );
    }

    #[test]
    fn framework_minos_above_plist_is_90208() {
        let fw = |v: u32| SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB).minos(v, 0, 0);
        let f = findings(BundleKind::Framework, MachOBuilder::new().slice(fw(16)));
        assert_eq!(codes(&f), ["ITMS-90208"]);
        assert!(f[0].is_error());
        let f = findings(BundleKind::Framework, MachOBuilder::new().slice(fw(14)));
        assert_eq!(codes(&f), ["ITMS-90208"]);
        assert!(!f[0].is_error());
        assert!(findings(BundleKind::Framework, MachOBuilder::new().slice(fw(15))).is_empty());
        assert_eq!(compare_versions("15.0", "15.0.0"), Some(std::cmp::Ordering::Equal));
        assert_eq!(compare_versions("15.10", "15.9"), Some(std::cmp::Ordering::Greater));
        assert_eq!(compare_versions("x", "1"), None);
    }
}
