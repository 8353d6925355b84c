//! The bundle tree, found from entry names alone: the main `Payload/<Name>.app`, the bundles nested
//! in it, and the `.app` directories that sit where no app should.
//!
//! Zips need not list directories, so bundle directories are derived from the path components of
//! every entry name. Both the inspection and the archive rules use this, so they agree.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::ipa::BundleKind;

/// The extensions that make a directory a bundle.
const BUNDLE_EXTENSIONS: &[&str] = &[".app", ".appex", ".framework", ".bundle"];

/// More bundles than this are not inspected (a real app has a few hundred at most); the rest of a
/// hostile archive's bundles are ignored rather than parsed.
pub const MAX_BUNDLES: usize = 10_000;

/// A bundle directory inside the main app (or the main app itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleNode {
    /// Path without a trailing slash.
    pub path: String,
    pub kind: BundleKind,
    /// Index of the containing bundle in [`Layout::bundles`].
    pub parent: Option<usize>,
}

/// What the entry names say about where the apps are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// `Payload/<Name>.app` directories, sorted. Exactly one is expected.
    pub root_apps: Vec<String>,
    /// `.app` directories under a `Payload/` that is not at the archive root (`MyApp/Payload/X.app`).
    pub nested_roots: Vec<String>,
    /// `.app` directories anywhere else: not a root app, not `Watch/*.app` or `AppClips/*.app` of
    /// the main app, not inside a nested root or another root app.
    pub stray_apps: Vec<String>,
    /// The main app (the first root app) and every bundle inside it: `[0]` is the main app, parents
    /// always come before their children.
    pub bundles: Vec<BundleNode>,
    /// Whether bundles past [`MAX_BUNDLES`] were left out.
    pub truncated: bool,
}

fn has_bundle_extension(component: &str) -> bool {
    BUNDLE_EXTENSIONS
        .iter()
        .any(|ext| component.len() > ext.len() && component.ends_with(ext))
}

fn is_app_dir(path: &str) -> bool {
    last_component(path).len() > 4 && path.ends_with(".app")
}

/// The last `/`-separated component of a path without a trailing slash.
pub fn last_component(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Every directory path (no trailing slash) whose last component has a bundle extension.
pub fn bundle_dirs<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for name in names {
        // AppleDouble shadows of a bundle are junk, reported as such; they are not bundles.
        if name.starts_with("__MACOSX/") {
            continue;
        }
        for (idx, _) in name.match_indices('/') {
            let Some(prefix) = name.get(..idx) else {
                continue;
            };
            if has_bundle_extension(last_component(prefix)) && !dirs.contains(prefix) {
                dirs.insert(prefix.to_string());
            }
        }
    }
    dirs
}

/// The nearest strict ancestor of `path` that is in `dirs`.
fn nearest_ancestor<'a>(path: &str, dirs: &'a BTreeSet<String>) -> Option<&'a String> {
    let mut cur = path;
    while let Some(idx) = cur.rfind('/') {
        cur = cur.get(..idx)?;
        if let Some(found) = dirs.get(cur) {
            return Some(found);
        }
    }
    None
}

fn kind_of(path: &str, ancestor: &str) -> BundleKind {
    let rel = path.get(ancestor.len() + 1..).unwrap_or("");
    let name = last_component(path);
    if name.ends_with(".appex") {
        BundleKind::AppExtension
    } else if name.ends_with(".framework") {
        BundleKind::Framework
    } else if name.ends_with(".bundle") {
        BundleKind::Resource
    } else if rel.strip_prefix("Watch/").is_some_and(|r| !r.contains('/')) {
        BundleKind::WatchApp
    } else if rel.strip_prefix("AppClips/").is_some_and(|r| !r.contains('/')) {
        BundleKind::AppClip
    } else {
        BundleKind::App
    }
}

/// Finds the apps and the bundle tree from entry names.
pub fn discover<'a>(names: impl IntoIterator<Item = &'a str>) -> Layout {
    let dirs = bundle_dirs(names);
    let mut layout = Layout {
        root_apps: dirs
            .iter()
            .filter(|d| d.strip_prefix("Payload/").is_some_and(|r| !r.contains('/')) && is_app_dir(d))
            .cloned()
            .collect(),
        ..Layout::default()
    };
    let apps: Vec<&String> = dirs.iter().filter(|d| is_app_dir(d)).collect();
    for app in &apps {
        let parts: Vec<&str> = app.split('/').collect();
        if parts.len() > 2 && parts.get(parts.len() - 2) == Some(&"Payload") {
            layout.nested_roots.push((*app).clone());
        }
    }
    let main = layout.root_apps.first().cloned();
    let under = |root: &str, path: &str| {
        path.len() > root.len() && path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/')
    };

    if let Some(main) = &main {
        let mut index: HashMap<&str, usize> = HashMap::new();
        layout.bundles.push(BundleNode {
            path: main.clone(),
            kind: BundleKind::App,
            parent: None,
        });
        index.insert(main.as_str(), 0);
        // BTreeSet order puts every directory before the paths inside it.
        for dir in dirs.iter().filter(|d| under(main, d)) {
            if layout.bundles.len() >= MAX_BUNDLES {
                layout.truncated = true;
                break;
            }
            let Some(ancestor) = nearest_ancestor(dir, &dirs) else {
                continue;
            };
            let Some(&parent) = index.get(ancestor.as_str()) else {
                continue;
            };
            index.insert(dir.as_str(), layout.bundles.len());
            layout.bundles.push(BundleNode {
                path: dir.clone(),
                kind: kind_of(dir, ancestor),
                parent: Some(parent),
            });
        }
    }

    let allowed_nested: HashSet<&str> = layout
        .bundles
        .iter()
        .filter(|b| matches!(b.kind, BundleKind::WatchApp | BundleKind::AppClip))
        .map(|b| b.path.as_str())
        .collect();
    // Apps inside another root app or a nested root are reported with that root, not one by one.
    let roots: HashSet<&str> = layout
        .root_apps
        .iter()
        .chain(&layout.nested_roots)
        .map(String::as_str)
        .filter(|r| Some(*r) != main.as_deref())
        .collect();
    let mut stray = Vec::new();
    for app in apps {
        let in_a_root = app
            .match_indices('/')
            .any(|(at, _)| app.get(..at).is_some_and(|p| roots.contains(p)));
        let accounted = Some(app) == main.as_ref()
            || roots.contains(app.as_str())
            || in_a_root
            || allowed_nested.contains(app.as_str());
        if !accounted {
            stray.push(app.clone());
        }
    }
    layout.stray_apps = stray;
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(names: &[&str]) -> Layout {
        discover(names.iter().copied())
    }

    #[test]
    fn finds_the_tree_without_directory_entries() {
        let l = layout(&[
            "Payload/Demo.app/Info.plist",
            "Payload/Demo.app/PlugIns/Share.appex/Info.plist",
            "Payload/Demo.app/Frameworks/Kit.framework/Kit",
            "Payload/Demo.app/Frameworks/Kit.framework/Res.bundle/Info.plist",
            "Payload/Demo.app/Watch/W.app/Info.plist",
            "Payload/Demo.app/Watch/W.app/PlugIns/WE.appex/Info.plist",
            "Payload/Demo.app/AppClips/Clip.app/Info.plist",
        ]);
        assert_eq!(l.root_apps, vec!["Payload/Demo.app"]);
        assert!(l.stray_apps.is_empty() && l.nested_roots.is_empty());
        let kinds: Vec<(&str, BundleKind, Option<usize>)> =
            l.bundles.iter().map(|b| (b.path.as_str(), b.kind, b.parent)).collect();
        assert_eq!(
            kinds,
            vec![
                ("Payload/Demo.app", BundleKind::App, None),
                ("Payload/Demo.app/AppClips/Clip.app", BundleKind::AppClip, Some(0)),
                (
                    "Payload/Demo.app/Frameworks/Kit.framework",
                    BundleKind::Framework,
                    Some(0)
                ),
                (
                    "Payload/Demo.app/Frameworks/Kit.framework/Res.bundle",
                    BundleKind::Resource,
                    Some(2)
                ),
                (
                    "Payload/Demo.app/PlugIns/Share.appex",
                    BundleKind::AppExtension,
                    Some(0)
                ),
                ("Payload/Demo.app/Watch/W.app", BundleKind::WatchApp, Some(0)),
                (
                    "Payload/Demo.app/Watch/W.app/PlugIns/WE.appex",
                    BundleKind::AppExtension,
                    Some(5)
                ),
            ]
        );
    }

    #[test]
    fn reports_nested_roots_several_apps_and_strays() {
        let l = layout(&["MyApp/Payload/X.app/Info.plist", "MyApp/Payload/X.app/Watch/W.app/x"]);
        assert!(l.root_apps.is_empty() && l.bundles.is_empty());
        assert_eq!(l.nested_roots, vec!["MyApp/Payload/X.app"]);
        assert!(l.stray_apps.is_empty());

        let l = layout(&[
            "Payload/A.app/x",
            "Payload/B.app/x",
            "Payload/A.app/bin/Debug/C.app/x",
            "Build/D.app/x",
        ]);
        assert_eq!(l.root_apps, vec!["Payload/A.app", "Payload/B.app"]);
        assert_eq!(l.bundles.len(), 2);
        assert_eq!(l.stray_apps, vec!["Build/D.app", "Payload/A.app/bin/Debug/C.app"]);
    }

    #[test]
    fn ignores_appledouble_shadows_and_lookalikes() {
        let l = layout(&[
            "__MACOSX/Payload/._X.app/x",
            "Payload/X.app/x",
            "Payload/X.app.dSYM/x",
            "Payload/.app/x",
        ]);
        assert_eq!(l.root_apps, vec!["Payload/X.app"]);
        assert!(l.stray_apps.is_empty());
    }
}
