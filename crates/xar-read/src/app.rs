//! Finding the app a Mac App Store package installs: the first `.app` directory in a payload path
//! is the app that path belongs to; a path whose first `.app` component is followed directly by
//! `Contents/Info.plist` is that app's Info.plist (a nested helper's or a framework's app has
//! another `.app` or no `.app` before it).

use std::io::Read;

use crate::{Flow, Xar, XarError};

/// Splits a payload path into (app bundle path, path inside the bundle) at its first `.app`
/// component: `Applications/Foo.app/Contents/Info.plist` → (`Applications/Foo.app`,
/// `Contents/Info.plist`).
pub fn split_app(path: &str) -> Option<(&str, &str)> {
    let mut at = 0usize;
    for part in path.split('/') {
        let end = at + part.len();
        if part.len() > 4 && part.ends_with(".app") {
            let rest = path.get(end..).unwrap_or_default().trim_start_matches('/');
            return Some((&path[..end], rest));
        }
        at = end + 1;
        if at > path.len() {
            break;
        }
    }
    None
}

/// Whether a payload path is a (top-level) app's own Info.plist.
pub fn is_app_info_plist(path: &str) -> bool {
    split_app(path).is_some_and(|(_, rest)| rest == "Contents/Info.plist")
}

/// The first app Info.plist found in the package's payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundInfoPlist {
    /// The xar path of the payload it came from, e.g. `com.example.app.pkg/Payload`.
    pub payload: String,
    /// The app bundle's path inside the payload, e.g. `Applications/Foo.app`.
    pub app: String,
    pub bytes: Vec<u8>,
}

/// Streams the payloads only until the app's Info.plist is found, and returns it (at most
/// `max_plist` bytes; a larger one is an error). `None` when no payload has an app.
pub fn find_info_plist<R: Read + std::io::Seek>(
    xar: &mut Xar<R>,
    max_plist: u64,
) -> Result<Option<FoundInfoPlist>, XarError> {
    for payload in xar.payload_paths() {
        let mut found: Option<(String, Vec<u8>)> = None;
        let mut too_large: Option<(String, u64)> = None;
        xar.visit_payload(&payload, |entry, data| {
            if !entry.is_file() || !is_app_info_plist(&entry.path) {
                return Ok(Flow::Continue);
            }
            if entry.size > max_plist {
                too_large = Some((entry.path.clone(), entry.size));
                return Ok(Flow::Stop);
            }
            let mut bytes = Vec::new();
            data.take(max_plist).read_to_end(&mut bytes)?;
            let app = split_app(&entry.path).map(|(a, _)| a.to_string()).unwrap_or_default();
            found = Some((app, bytes));
            Ok(Flow::Stop)
        })?;
        if let Some((path, size)) = too_large {
            return Err(XarError::FileTooLarge {
                path,
                size,
                limit: max_plist,
            });
        }
        if let Some((app, bytes)) = found {
            return Ok(Some(FoundInfoPlist { payload, app, bytes }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_app_component_owns_the_path() {
        assert_eq!(
            split_app("Applications/Foo.app/Contents/Info.plist"),
            Some(("Applications/Foo.app", "Contents/Info.plist"))
        );
        assert!(is_app_info_plist("Foo.app/Contents/Info.plist"));
        assert!(!is_app_info_plist(
            "Foo.app/Contents/Library/LoginItems/Helper.app/Contents/Info.plist"
        ));
        assert!(!is_app_info_plist("Library/Sparkle.framework/Info.plist"));
        assert_eq!(split_app(".app/x"), None);
        assert_eq!(split_app(""), None);
        assert_eq!(split_app("A.app"), Some(("A.app", "")));
    }
}
