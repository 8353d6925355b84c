//! Code-signature seals (ITMS-90035). By default ([`check_special_slots`]): Info.plist,
//! CodeResources and the entitlements against the CodeDirectory's special slots, two small
//! entries per bundle, so an Info.plist edited after signing fails without `--deep`. With
//! `--deep` ([`check`]), also the code pages against the CodeDirectory and every file of the
//! bundle against `_CodeSignature/CodeResources` `files2`, which reads whole entries.
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

/// The special slots (Info.plist -1, CodeResources -3, entitlements -5) of every CodeDirectory of
/// every code bundle, hashed with that directory's hash type: run on every validation.
pub fn check_special_slots(ctx: &RuleContext, out: &mut Vec<Finding>) {
    each_signed_bundle(ctx, out, |v, binary| v.special_slots(binary));
}

/// `--deep`: code pages and every sealed resource (the special slots are [`check_special_slots`]).
pub fn check(ctx: &RuleContext, out: &mut Vec<Finding>) {
    if !ctx.deep {
        return;
    }
    let names = ctx.entries.names();
    each_signed_bundle(ctx, out, |v, binary| {
        v.code_pages(binary);
        v.resources(binary, &names);
    });
}

/// Runs `verify` for each code bundle with a parsed executable; one finding per path and message.
fn each_signed_bundle(ctx: &RuleContext, out: &mut Vec<Finding>, verify: impl Fn(&mut Verifier, &Binary)) {
    for bundle in ctx.ipa.bundles.iter().filter(|b| b.kind.is_code_bundle()) {
        let Some(located) = &bundle.executable else { continue };
        let Some(binary) = located.ok() else { continue };
        let mut v = Verifier {
            ctx,
            bundle,
            exe_path: &located.path,
            out: Vec::new(),
        };
        verify(&mut v, binary);
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
        let Ok(root) = plist_guard::parse_dict(&bytes) else {
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
        let want = crate::hex::lower(cdhash);
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
mod tests;
