//! GitLab CI: the `artifacts:reports:dotenv` file (its collapsible log sections are the
//! terminal's, `report::terminal`).
//!
//! GitLab's dotenv rules: keys of letters, digits and `_`; one line per variable; no spaces or
//! newlines in values; no empty lines or comments; at most 5 KB. So values are percent-encoded
//! (RFC 3986 style: every byte outside `A-Z a-z 0-9 - . _ ~ : / ? = & + @` becomes `%XX`, so `%`
//! itself is `%25` and decoding is lossless), empty values are left out, and `ASC_GROUPS` is a
//! comma-separated list of `name:result` with each part encoded. Whatever would push the file
//! past 5 KB is dropped and named in the returned list.

use std::path::Path;

use super::CiError;
use super::outputs::outputs;
use crate::report::view::{GroupOutcome, RunView};

/// Variable naming the dotenv file to write (the GitLab template sets it).
pub const DOTENV_PATH_VAR: &str = "ASC_PUBLISH_DOTENV";
/// Default dotenv file, relative to the job's working directory.
pub const DEFAULT_DOTENV_PATH: &str = "asc-publish.env";

/// Where the dotenv report goes: `$ASC_PUBLISH_DOTENV`, else `asc-publish.env`.
pub fn dotenv_path(env: &crate::ci::EnvMap) -> std::path::PathBuf {
    env.get(DOTENV_PATH_VAR)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_DOTENV_PATH)
        .into()
}

/// GitLab rejects dotenv reports above this size.
pub const MAX_DOTENV_BYTES: usize = 5 * 1024;

/// Percent-encode a value so it is one line without spaces.
pub fn encode_value(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?=&+@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn groups_value(view: &RunView) -> String {
    view.groups
        .iter()
        .map(|g| {
            let result = match g.outcome {
                GroupOutcome::Added => "added",
                GroupOutcome::Skipped { .. } => "skipped",
                GroupOutcome::Failed { .. } => "failed",
            };
            format!("{}:{result}", encode_value(&g.name).replace(':', "%3A"))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The dotenv body and the keys that were dropped to respect the size limit.
pub fn dotenv(view: &RunView) -> (String, Vec<&'static str>) {
    let mut body = String::new();
    let mut dropped = Vec::new();
    for o in outputs(view) {
        let value = if o.key == "ASC_GROUPS" {
            // Commas and colons separate groups and results, so names have theirs encoded.
            groups_value(view)
        } else {
            encode_value(&o.value)
        };
        if value.is_empty() || !valid_key(o.key) {
            continue;
        }
        let line = format!("{}={value}\n", o.key);
        if body.len() + line.len() > MAX_DOTENV_BYTES {
            dropped.push(o.key);
            continue;
        }
        body.push_str(&line);
    }
    (body, dropped)
}

/// Write the dotenv report to `path` (replacing it; GitLab reads one file per job).
pub fn write_dotenv(path: &Path, view: &RunView) -> Result<Vec<&'static str>, CiError> {
    let (body, dropped) = dotenv(view);
    std::fs::write(path, body).map_err(|source| CiError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn values_are_single_line_without_spaces() {
        assert_eq!(encode_value("1.4.0"), "1.4.0");
        assert_eq!(encode_value("https://x/a?b=c"), "https://x/a?b=c");
        assert_eq!(encode_value("a b\nc%\"#é"), "a%20b%0Ac%25%22%23%C3%A9");
    }

    #[test]
    fn dotenv_has_only_valid_lines_and_skips_empty_values() {
        let mut v = sample::view();
        v.processing_state = None;
        let (body, dropped) = dotenv(&v);
        assert!(dropped.is_empty());
        for line in body.lines() {
            let (k, val) = line.split_once('=').unwrap_or_default();
            assert!(valid_key(k), "{line}");
            assert!(!val.is_empty() && !val.contains(' '), "{line}");
        }
        assert!(body.contains("ASC_BUILD_ID=bld-1\n"));
        assert!(body.contains("ASC_URL=https://appstoreconnect.apple.com/apps/1234567890/testflight/ios/bld-1\n"));
        assert!(body.contains("ASC_GROUPS=Internal%20QA:added,Beta:failed\n"), "{body}");
        assert!(!body.contains("ASC_PROCESSING_STATE"));
        assert!(!body.contains("\n\n"));
    }

    #[test]
    fn group_names_with_commas_and_colons_stay_unambiguous() {
        let mut v = sample::view();
        v.groups.truncate(1);
        if let Some(g) = v.groups.first_mut() {
            g.name = "a,b:c".into();
        }
        assert!(dotenv(&v).0.contains("ASC_GROUPS=a%2Cb%3Ac:added\n"));
    }

    #[test]
    fn oversized_values_are_dropped_and_named() {
        let mut v = sample::view();
        v.groups = (0..400)
            .map(|i| crate::report::view::GroupResult {
                name: format!("group number {i}"),
                kind: crate::report::view::GroupKind::External,
                outcome: GroupOutcome::Added,
            })
            .collect();
        let (body, dropped) = dotenv(&v);
        assert_eq!(dropped, ["ASC_GROUPS"]);
        assert!(body.len() <= MAX_DOTENV_BYTES);
        assert!(body.contains("ASC_BUILD_ID="));
    }

    #[test]
    fn dotenv_path_defaults_and_overrides() {
        let mut env = crate::ci::EnvMap::new();
        assert_eq!(dotenv_path(&env), Path::new("asc-publish.env"));
        env.set(DOTENV_PATH_VAR, "out/x.env");
        assert_eq!(dotenv_path(&env), Path::new("out/x.env"));
    }

    #[test]
    fn write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("asc.env");
        std::fs::write(&p, "OLD=1\n").unwrap_or_else(|e| panic!("{e}"));
        write_dotenv(&p, &sample::view()).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert!(!text.contains("OLD") && text.starts_with("ASC_UPLOAD_ID=upl-1\n"));
    }
}
