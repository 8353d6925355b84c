//! `--deep`: verify code-signature seals (ITMS-90035): code pages against the CodeDirectory,
//! Info.plist / CodeResources / entitlements against its special slots, and every file of the
//! bundle against `_CodeSignature/CodeResources` `files2`. Reads whole entries; only run when asked.
//!
//! Limits, on purpose: custom `rules2` are not interpreted as regular expressions. Xcode's default
//! omissions (`Info.plist`, `PkgInfo`, `.DS_Store`, `*.lproj/locversion.plist`, `_CodeSignature/`)
//! are applied; when a `rules2` omits anything else, the "file present but not sealed" check is
//! skipped for that bundle (sealed files are still verified). Nested code is matched by `cdhash`
//! against any CodeDirectory of any slice of the nested executable. Symlink entries are not hashed.

use std::collections::{BTreeMap, BTreeSet};

use plist::Value;

use crate::ipa::Bundle;
use crate::macho::{
    Binary, CodeDirectory, HashType, Hasher, SLOT_ENTITLEMENTS, SLOT_INFO_PLIST, SLOT_RESOURCES, Slice,
};
use crate::validate::Finding;
use crate::validate::context::RuleContext;

/// Info.plist and CodeResources larger than this are not read.
const MAX_PLIST: u64 = 16 << 20;
/// Loose nested dylibs larger than this are not read to compute their cdhash.
const MAX_NESTED_DYLIB: u64 = 512 << 20;

/// `rules2` omissions Xcode writes by default; anything else disables the unsealed-file check.
const STANDARD_OMITS: [&str; 4] = [
    "^(.*/)?\\.DS_Store$",
    "^Info\\.plist$",
    "^PkgInfo$",
    "^.*\\.lproj/locversion.plist$",
];

const FIX: &str = "Do not modify the bundle after signing (no post-processing of frameworks, resources or Info.plist after export); re-export from the archive with the App Store Connect method so Xcode re-signs everything, and if a build script rewrites files, run it before code signing.";

pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    if !ctx.deep {
        return;
    }
    let names = ctx.entries.names();
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        let Some(located) = &bundle.executable else { continue };
        let Some(binary) = located.ok() else { continue };
        let mut v = Verifier {
            ctx,
            bundle,
            exe_path: &located.path,
            out: Vec::new(),
        };
        v.code_pages(binary);
        v.special_slots(binary);
        v.resources(binary, &names);
        let mut seen = BTreeSet::new();
        out.extend(
            v.out
                .into_iter()
                .filter(|f| seen.insert((f.path.clone(), f.message.clone()))),
        );
    }
}

struct Verifier<'a> {
    ctx: &'a RuleContext<'a>,
    bundle: &'a Bundle,
    exe_path: &'a str,
    out: Vec<Finding>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Verifier<'_> {
    fn invalid(&mut self, path: &str, detail: &str) {
        let shown = path.strip_prefix("Payload/").unwrap_or(path);
        self.out.push(Finding::error(
            "ITMS-90035",
            path,
            format!(
                "Invalid Signature. A sealed resource is missing or invalid. The file at path [{shown}] is not properly signed: {detail}."
            ),
            FIX,
        ));
    }

    fn rel(&self, name: &str) -> Option<String> {
        name.strip_prefix(&format!("{}/", self.bundle.path)).map(str::to_string)
    }

    /// Hashes an entry with `t` in bounded memory.
    fn hash_entry(&self, name: &str, t: HashType) -> Option<Vec<u8>> {
        let mut h = Hasher::new(t)?;
        self.ctx
            .entries
            .stream(name, &mut |chunk| {
                h.update(chunk);
                Ok(())
            })
            .ok()?;
        Some(h.finish())
    }

    fn code_pages(&mut self, binary: &Binary) {
        let mut checks: Vec<PageCheck> = Vec::new();
        for s in &binary.slices {
            for cd in s.signature.iter().flat_map(|g| &g.code_directories) {
                match PageCheck::new(s, cd) {
                    Ok(c) => checks.push(c),
                    Err(why) => {
                        let detail = format!("the {} slice's CodeDirectory is inconsistent ({why})", s.arch);
                        self.invalid(self.exe_path, &detail);
                    }
                }
            }
        }
        if checks.is_empty() {
            return;
        }
        let mut pos = 0u64;
        let streamed = self.ctx.entries.stream(self.exe_path, &mut |chunk| {
            for c in checks.iter_mut() {
                c.feed(pos, chunk);
            }
            pos += chunk.len() as u64;
            Ok(())
        });
        if let Err(e) = streamed {
            let detail = format!("the executable could not be read ({e})");
            self.invalid(self.exe_path, &detail);
            return;
        }
        for c in checks {
            if let Some(detail) = c.verdict(pos) {
                self.invalid(self.exe_path, &detail);
            }
        }
    }

    fn special_slots(&mut self, binary: &Binary) {
        let files = [
            (SLOT_INFO_PLIST, format!("{}/Info.plist", self.bundle.path)),
            (
                SLOT_RESOURCES,
                format!("{}/_CodeSignature/CodeResources", self.bundle.path),
            ),
        ];
        for s in &binary.slices {
            let Some(sig) = &s.signature else { continue };
            for cd in &sig.code_directories {
                for (slot, name) in &files {
                    let Some(stored) = cd.special_slot(*slot).filter(|_| !cd.special_slot_is_empty(*slot)) else {
                        if self.ctx.entries.contains(name) {
                            let detail = format!("the {} slice's signature does not seal it", s.arch);
                            self.invalid(name, &detail);
                        }
                        continue;
                    };
                    match self.hash_entry(name, cd.hash_type) {
                        Some(actual) if actual == stored => {}
                        Some(_) => self.invalid(
                            name,
                            "it was modified after signing (its hash differs from the CodeDirectory's)",
                        ),
                        None => self.invalid(name, "it is sealed by the CodeDirectory but missing"),
                    }
                }
                if let (Some(stored), Some(blob)) = (cd.special_slot(SLOT_ENTITLEMENTS), &sig.entitlements_blob) {
                    if !cd.special_slot_is_empty(SLOT_ENTITLEMENTS)
                        && cd.hash_type.digest(blob).as_deref() != Some(stored)
                    {
                        let detail = format!(
                            "the {} slice's entitlements do not match their CodeDirectory hash",
                            s.arch
                        );
                        self.invalid(self.exe_path, &detail);
                    }
                }
            }
        }
    }

    fn resources(&mut self, binary: &Binary, names: &[String]) {
        let cr_name = format!("{}/_CodeSignature/CodeResources", self.bundle.path);
        let Ok(bytes) = self.ctx.entries.read(&cr_name, MAX_PLIST) else {
            if binary.slices.iter().any(|s| s.signature.is_some()) {
                self.invalid(
                    &cr_name,
                    "the bundle has no readable _CodeSignature/CodeResources, so its resources are not sealed",
                );
            }
            return;
        };
        let Ok(root) = plist::from_bytes::<plist::Dictionary>(&bytes) else {
            self.invalid(&cr_name, "_CodeSignature/CodeResources is not a valid property list");
            return;
        };
        let Some(files2) = root.get("files2").and_then(Value::as_dictionary) else {
            self.invalid(
                &cr_name,
                "_CodeSignature/CodeResources has no files2 (a pre-2014 signature)",
            );
            return;
        };
        let nested = self.nested_bundles();
        for (key, entry) in files2 {
            let name = format!("{}/{key}", self.bundle.path);
            self.sealed_entry(&name, entry, &nested);
        }
        for (rel, _) in nested.iter().filter(|(_, direct)| **direct) {
            if !files2.contains_key(rel.as_str()) {
                let name = format!("{}/{rel}", self.bundle.path);
                self.invalid(
                    &name,
                    "this nested code is not sealed by the enclosing bundle's CodeResources",
                );
            }
        }
        if !standard_rules(&root) {
            return;
        }
        let exe = self.bundle.executable_name.clone().unwrap_or_default();
        for name in names.iter().filter(|n| !n.ends_with('/')) {
            let Some(rel) = self.rel(name) else { continue };
            let inside_nested = nested.keys().any(|n| rel == *n || rel.starts_with(&format!("{n}/")));
            let omitted = rel == exe
                || rel.starts_with("_CodeSignature/")
                || rel == "Info.plist"
                || rel == "PkgInfo"
                || rel == ".DS_Store"
                || rel.ends_with("/.DS_Store")
                || (rel.ends_with(".lproj/locversion.plist"));
            if !inside_nested && !omitted && !files2.contains_key(&rel) {
                self.invalid(
                    name,
                    "the file is in the bundle but not sealed by _CodeSignature/CodeResources",
                );
            }
        }
    }

    /// Code bundles inside this one, relative path → whether it is directly nested (no code bundle
    /// in between), i.e. sealed by this bundle's `files2`.
    fn nested_bundles(&self) -> BTreeMap<String, bool> {
        let inner: Vec<String> = self
            .ctx
            .ipa
            .bundles
            .iter()
            .filter(|b| b.kind.is_code_bundle())
            .filter_map(|b| self.rel(&b.path))
            .collect();
        inner
            .iter()
            .map(|r| {
                let direct = !inner.iter().any(|o| o != r && r.starts_with(&format!("{o}/")));
                (r.clone(), direct)
            })
            .collect()
    }

    fn sealed_entry(&mut self, name: &str, entry: &Value, nested: &BTreeMap<String, bool>) {
        let Some(d) = entry.as_dictionary() else { return };
        if d.contains_key("symlink") {
            return;
        }
        let optional = d.get("optional").and_then(Value::as_boolean).unwrap_or(false);
        if let Some(cdhash) = d.get("cdhash").and_then(Value::as_data) {
            self.nested_code(name, cdhash, nested);
            return;
        }
        let (expected, t) = match (
            d.get("hash2").and_then(Value::as_data),
            d.get("hash").and_then(Value::as_data),
        ) {
            (Some(h), _) => (h, HashType::Sha256),
            (None, Some(h)) => (h, HashType::Sha1),
            _ => return,
        };
        if !self.ctx.entries.contains(name) {
            if !optional {
                self.invalid(name, "the file is sealed by _CodeSignature/CodeResources but missing");
            }
            return;
        }
        match self.hash_entry(name, t) {
            Some(h) if h == expected => {}
            Some(_) => self.invalid(
                name,
                "the file was modified after signing (its hash differs from _CodeSignature/CodeResources)",
            ),
            None => self.invalid(name, "the file could not be read to verify its seal"),
        }
    }

    fn nested_code(&mut self, name: &str, cdhash: &[u8], nested: &BTreeMap<String, bool>) {
        let want = hex(cdhash);
        let rel = self.rel(name).unwrap_or_default();
        let cdhashes: Option<Vec<String>> = if nested.contains_key(&rel) {
            self.ctx
                .ipa
                .bundles
                .iter()
                .find(|b| b.path == name)
                .and_then(|b| b.executable.as_ref()?.ok())
                .map(all_cdhashes)
        } else if self.ctx.entries.contains(name) {
            self.ctx
                .entries
                .read(name, MAX_NESTED_DYLIB)
                .ok()
                .and_then(|bytes| crate::macho::parse_bytes(&bytes).ok())
                .map(|b| all_cdhashes(&b))
        } else {
            self.invalid(
                name,
                "this nested code is sealed by _CodeSignature/CodeResources but missing",
            );
            return;
        };
        match cdhashes {
            Some(list) if list.contains(&want) => {}
            Some(_) => self.invalid(
                name,
                "this nested code was modified or re-signed after the enclosing bundle was signed (its cdhash differs)",
            ),
            None => self.invalid(name, "this nested code has no readable code signature"),
        }
    }
}

fn all_cdhashes(b: &Binary) -> Vec<String> {
    b.slices
        .iter()
        .filter_map(|s| s.signature.as_ref())
        .flat_map(|g| g.code_directories.iter().map(|c| c.cdhash.clone()))
        .collect()
}

/// Whether `rules2` omits only what Xcode omits by default.
fn standard_rules(root: &plist::Dictionary) -> bool {
    let Some(rules) = root.get("rules2").and_then(Value::as_dictionary) else {
        return false;
    };
    rules.iter().all(|(pattern, rule)| {
        let omit = rule
            .as_dictionary()
            .and_then(|d| d.get("omit"))
            .and_then(Value::as_boolean)
            .unwrap_or(false);
        !omit || STANDARD_OMITS.contains(&pattern.as_str())
    })
}

/// Streaming verification of one CodeDirectory's code slots.
struct PageCheck {
    arch: String,
    kind: HashType,
    slots: Vec<u8>,
    slot_size: usize,
    start: u64,
    end: u64,
    page: u64,
    hasher: Option<Hasher>,
    bad: Vec<u64>,
    pages: u64,
}

impl PageCheck {
    fn new(s: &Slice, cd: &CodeDirectory) -> Result<PageCheck, String> {
        let slot_size = cd.hash_type.size().ok_or("unknown hash type")?;
        if cd.code_limit > s.size {
            return Err(format!(
                "code limit {} exceeds the slice size {}",
                cd.code_limit, s.size
            ));
        }
        let page = if cd.page_size == 0 {
            cd.code_limit.max(1)
        } else {
            cd.page_size
        };
        let pages = cd.code_limit.div_ceil(page);
        if pages != u64::from(cd.n_code_slots) {
            return Err(format!("{} code slots for {pages} pages", cd.n_code_slots));
        }
        Ok(PageCheck {
            arch: s.arch.clone(),
            kind: cd.hash_type,
            slots: cd.code_slots.clone(),
            slot_size,
            start: s.offset,
            end: s.offset + cd.code_limit,
            page,
            hasher: Hasher::new(cd.hash_type),
            bad: Vec::new(),
            pages,
        })
    }

    /// Feeds the bytes at file offset `pos`.
    fn feed(&mut self, pos: u64, chunk: &[u8]) {
        let lo = pos.max(self.start);
        let hi = (pos + chunk.len() as u64).min(self.end);
        let mut cur = lo;
        while cur < hi {
            let index = (cur - self.start) / self.page;
            let page_end = (self.start + (index + 1) * self.page).min(self.end);
            let take = hi.min(page_end);
            let part = chunk
                .get((cur - pos) as usize..(take - pos) as usize)
                .unwrap_or_default();
            if let Some(h) = self.hasher.as_mut() {
                h.update(part);
            }
            cur = take;
            if cur == page_end {
                let done = std::mem::replace(&mut self.hasher, Hasher::new(self.kind));
                let digest = done.map(Hasher::finish).unwrap_or_default();
                let i = index as usize;
                let stored = self.slots.get(i * self.slot_size..(i + 1) * self.slot_size);
                if stored != Some(digest.as_slice()) {
                    self.bad.push(index);
                }
            }
        }
    }

    fn verdict(self, streamed: u64) -> Option<String> {
        if streamed < self.end {
            return Some(format!(
                "the {} slice ends before the code its CodeDirectory covers",
                self.arch
            ));
        }
        let first = self.bad.first()?;
        Some(format!(
            "{} of {} code pages of the {} slice do not match the CodeDirectory ({:?}), first at page {first}",
            self.bad.len(),
            self.pages,
            self.arch,
            self.kind
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::ipa::BundleKind;
    use crate::macho::testkit::{MemEntries, bundle, inspection, parse_ok, run};
    use crate::sample::macho::{Arch, CodeResourcesBuilder, MH_DYLIB, MachOBuilder, SignatureSpec, SliceSpec};

    const APP: &str = "Payload/A.app";
    const FW: &str = "Payload/A.app/Frameworks/F.framework";

    fn signed(id: &str, info: &[u8], resources: &[u8], filetype: u32) -> Vec<u8> {
        let mut sig = SignatureSpec::new(id);
        sig.team_id = Some("ABCDE12345".into());
        sig.info_plist = Some(info.to_vec());
        sig.code_resources = Some(resources.to_vec());
        MachOBuilder::new()
            .slice(SliceSpec::new(Arch::Armv7).filetype(filetype).signature(sig.clone()))
            .slice(
                SliceSpec::new(Arch::Arm64)
                    .filetype(filetype)
                    .code_pages(5)
                    .signature(sig),
            )
            .build()
    }

    fn cdhash_bytes(exe: &[u8]) -> Vec<u8> {
        let hex = parse_ok(exe).slices[0].signature.as_ref().unwrap().code_directories[0]
            .cdhash
            .clone();
        (0..20)
            .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap())
            .collect()
    }

    /// A signed app with one signed framework and a loose Swift dylib, every seal intact.
    fn sample(fw_identifier: &str) -> MemEntries {
        let mut e = MemEntries::default();
        let fw_info = b"<plist>framework</plist>".to_vec();
        let fw_cr = CodeResourcesBuilder::new().build();
        let fw_exe = signed(fw_identifier, &fw_info, &fw_cr, MH_DYLIB);
        let fw_cdhash = parse_ok(&fw_exe).slices[1].signature.as_ref().unwrap().code_directories[0]
            .cdhash
            .clone();
        let fw_cdhash: Vec<u8> = (0..20)
            .map(|i| u8::from_str_radix(&fw_cdhash[i * 2..i * 2 + 2], 16).unwrap())
            .collect();

        let swift = {
            let mut sig = SignatureSpec::new("com.apple.dt.runtime.swiftCore");
            sig.cms = None;
            MachOBuilder::new()
                .slice(SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB).signature(sig))
                .build()
        };
        let swift_cdhash = cdhash_bytes(&swift);
        let info = b"<plist>app</plist>".to_vec();
        let car = vec![7u8; 10_000];
        let nib = b"nib".to_vec();
        let cr = CodeResourcesBuilder::new()
            .file("Assets.car", &car)
            .optional_file("Base.lproj/Main.storyboardc/Info.plist", &nib)
            .file("embedded.mobileprovision", b"profile")
            .nested("Frameworks/F.framework", &fw_cdhash)
            .nested("Frameworks/libswiftCore.dylib", &swift_cdhash)
            .build();
        let exe = signed("com.example.a", &info, &cr, crate::sample::macho::MH_EXECUTE);
        for (k, v) in [
            (format!("{APP}/A"), exe),
            (format!("{APP}/Info.plist"), info),
            (format!("{APP}/PkgInfo"), b"APPL????".to_vec()),
            (format!("{APP}/Assets.car"), car),
            (format!("{APP}/Base.lproj/Main.storyboardc/Info.plist"), nib),
            (format!("{APP}/embedded.mobileprovision"), b"profile".to_vec()),
            (format!("{APP}/_CodeSignature/CodeResources"), cr),
            (format!("{FW}/F"), fw_exe),
            (format!("{APP}/Frameworks/libswiftCore.dylib"), swift),
            (format!("{FW}/Info.plist"), fw_info),
            (format!("{FW}/_CodeSignature/CodeResources"), fw_cr),
        ] {
            e.0.insert(k, v);
        }
        e.0.insert(format!("{APP}/Base.lproj/"), Vec::new());
        e
    }

    fn verify(e: &MemEntries) -> Vec<Finding> {
        let app = bundle(
            APP,
            BundleKind::App,
            "com.example.a",
            Some(parse_ok(&e.0[&format!("{APP}/A")])),
            None,
        );
        let fw = bundle(
            FW,
            BundleKind::Framework,
            "com.example.f",
            Some(parse_ok(&e.0[&format!("{FW}/F")])),
            None,
        );
        run(check, &inspection(vec![app, fw]), e, true)
    }

    fn paths(f: &[Finding]) -> Vec<&str> {
        assert!(f.iter().all(|f| f.code == "ITMS-90035"));
        f.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn intact_signatures_pass_and_shallow_mode_skips() {
        let e = sample("com.example.f");
        assert_eq!(verify(&e), Vec::new());
        let mut broken = e;
        broken.0.insert(format!("{APP}/Assets.car"), vec![0u8; 3]);
        let app = bundle(
            APP,
            BundleKind::App,
            "com.example.a",
            Some(parse_ok(&broken.0[&format!("{APP}/A")])),
            None,
        );
        assert!(run(check, &inspection(vec![app]), &broken, false).is_empty());
    }

    #[test]
    fn modified_missing_and_unsealed_resources() {
        let mut e = sample("com.example.f");
        e.0.insert(format!("{APP}/Assets.car"), vec![8u8; 10_000]);
        e.0.remove(&format!("{APP}/embedded.mobileprovision"));
        e.0.remove(&format!("{APP}/Base.lproj/Main.storyboardc/Info.plist"));
        e.0.insert(format!("{APP}/extra.txt"), b"late".to_vec());
        e.0.insert(format!("{APP}/.DS_Store"), b"junk".to_vec());
        let f = verify(&e);
        assert_eq!(
            paths(&f),
            [
                "Payload/A.app/Assets.car",
                "Payload/A.app/embedded.mobileprovision",
                "Payload/A.app/extra.txt"
            ],
            "{f:#?}"
        );
        assert!(
            f[0].message
                .contains("[A.app/Assets.car] is not properly signed: the file was modified")
        );
        assert!(f[1].message.contains("missing"));
        assert!(f[2].message.contains("not sealed"));
    }

    #[test]
    fn info_plist_and_code_resources_are_checked_against_special_slots() {
        let mut e = sample("com.example.f");
        e.0.insert(format!("{APP}/Info.plist"), b"<plist>changed</plist>".to_vec());
        let f = verify(&e);
        assert_eq!(paths(&f), ["Payload/A.app/Info.plist"]);
        let mut e = sample("com.example.f");
        let mut cr = e.0[&format!("{FW}/_CodeSignature/CodeResources")].clone();
        cr.extend_from_slice(b"\n");
        e.0.insert(format!("{FW}/_CodeSignature/CodeResources"), cr);
        let f = verify(&e);
        assert_eq!(
            paths(&f),
            ["Payload/A.app/Frameworks/F.framework/_CodeSignature/CodeResources"]
        );
    }

    #[test]
    fn modified_code_page_is_reported_with_the_slice() {
        let mut e = sample("com.example.f");
        let exe = e.0.get_mut(&format!("{APP}/A")).unwrap();
        let arm64_start = parse_ok(exe).slices[1].offset as usize;
        exe[arm64_start + 0x2000 + 5] ^= 0xff;
        let f = verify(&e);
        assert_eq!(paths(&f), ["Payload/A.app/A"]);
        assert!(f[0].message.contains("1 of"), "{}", f[0].message);
        assert!(f[0].message.contains("arm64 slice") && f[0].message.contains("first at page 2"));
    }

    #[test]
    fn resigned_nested_framework_breaks_the_cdhash_seal() {
        let good = sample("com.example.f");
        let mut e = sample("com.example.other");
        e.0.insert(format!("{APP}/A"), good.0[&format!("{APP}/A")].clone());
        e.0.insert(
            format!("{APP}/_CodeSignature/CodeResources"),
            good.0[&format!("{APP}/_CodeSignature/CodeResources")].clone(),
        );
        let f = verify(&e);
        assert_eq!(paths(&f), ["Payload/A.app/Frameworks/F.framework"], "{f:#?}");
        assert!(f[0].message.contains("cdhash"));
    }

    #[test]
    fn damaged_signatures_never_panic() {
        let e = sample("com.example.f");
        let exe = e.0[&format!("{APP}/A")].clone();
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..150 {
            let mut m = exe.clone();
            for _ in 0..rng.usize(1..6) {
                // Land in the last slice's signature, where CodeDirectory fields live.
                let at = rng.usize(m.len() - 20_000..m.len());
                m[at] = rng.u8(..);
            }
            let mut r: &[u8] = &m;
            let Ok(binary) = crate::macho::parse(&mut r) else {
                continue;
            };
            let mut entries = MemEntries(e.0.clone());
            entries.0.insert(format!("{APP}/A"), m);
            let app = bundle(APP, BundleKind::App, "com.example.a", Some(binary), None);
            let _ = run(check, &inspection(vec![app]), &entries, true);
        }
    }

    #[test]
    fn replaced_loose_dylib_breaks_its_seal() {
        let mut e = sample("com.example.f");
        let mut sig = SignatureSpec::new("com.apple.dt.runtime.swiftCore");
        sig.team_id = Some("OTHER".into());
        let other = MachOBuilder::new()
            .slice(SliceSpec::new(Arch::Arm64).filetype(MH_DYLIB).signature(sig))
            .build();
        e.0.insert(format!("{APP}/Frameworks/libswiftCore.dylib"), other);
        let f = verify(&e);
        assert_eq!(paths(&f), ["Payload/A.app/Frameworks/libswiftCore.dylib"]);
        e.0.remove(&format!("{APP}/Frameworks/libswiftCore.dylib"));
        let f = verify(&e);
        assert_eq!(paths(&f), ["Payload/A.app/Frameworks/libswiftCore.dylib"]);
        assert!(f[0].message.contains("missing"));
    }

    #[test]
    fn real_fixture_seals_verify() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/bitrise-io__ipa_analyzer__ios-simple-objc.ipa"
        );
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut e = MemEntries::default();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            e.0.insert(f.name().unwrap().to_string(), b);
        }
        let app_path = "Payload/ios-simple-objc.app";
        let exe = parse_ok(&e.0[&format!("{app_path}/ios-simple-objc")]);
        let ipa = inspection(vec![bundle(
            app_path,
            BundleKind::App,
            "Bitrise.ios-simple-objc",
            Some(exe),
            None,
        )]);
        assert_eq!(run(check, &ipa, &e, true), Vec::new());
        e.0.insert(format!("{app_path}/PkgInfo"), b"changed".to_vec());
        assert_eq!(run(check, &ipa, &e, true), Vec::new(), "PkgInfo is omitted by rules2");
        e.0.insert(
            format!("{app_path}/ios_simple_objc.momd/VersionInfo.plist"),
            b"changed".to_vec(),
        );
        let f = run(check, &ipa, &e, true);
        assert_eq!(
            paths(&f),
            ["Payload/ios-simple-objc.app/ios_simple_objc.momd/VersionInfo.plist"]
        );
    }
}
