//! Bitrise: step outputs through `envman add`, and the Markdown report in the deploy directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::CiError;
use super::outputs::outputs;
use crate::report::RunView;

/// File name of the report written to `BITRISE_DEPLOY_DIR` (the Deploy step publishes it).
pub const REPORT_FILE: &str = "asc-publish-report.md";

/// Find `envman` in a `PATH`-style list of directories.
pub fn find_envman(path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join("envman"))
        .find(|p| p.is_file())
}

/// Export every non-empty output as `ASC_*` with `envman add --key K --value V`.
pub fn export_outputs(envman: &Path, view: &RunView) -> Result<(), CiError> {
    for o in outputs(view) {
        if o.value.is_empty() {
            continue;
        }
        let result = Command::new(envman)
            .args(["add", "--key", o.key, "--value", &o.value])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match result {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let detail = format!(
                    "{}: {}",
                    out.status,
                    stderr.trim().chars().take(500).collect::<String>()
                );
                return Err(CiError::Envman {
                    key: o.key.to_string(),
                    detail,
                });
            }
            Err(e) => {
                return Err(CiError::Envman {
                    key: o.key.to_string(),
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Write the Markdown report into the deploy directory; returns its path.
pub fn write_report(deploy_dir: &Path, markdown: &str) -> Result<PathBuf, CiError> {
    let path = deploy_dir.join(REPORT_FILE);
    std::fs::create_dir_all(deploy_dir)
        .and_then(|()| std::fs::write(&path, markdown))
        .map_err(|source| CiError::Write {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::report::sample;
    use std::os::unix::fs::PermissionsExt as _;

    fn fake_envman(dir: &Path, exit: i32) -> PathBuf {
        let log = dir.join("envman.log");
        let script = dir.join("envman");
        // One line per call, arguments separated by a unit separator so spaces survive.
        let body = format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\037' \"$a\"; done >> '{}'\necho >> '{}'\nexit {exit}\n",
            log.display(),
            log.display()
        );
        std::fs::write(&script, body).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
        log
    }

    #[test]
    fn exports_each_output_with_envman_add() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = fake_envman(dir.path(), 0);
        let path_var = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap_or_default();
        let envman = find_envman(&path_var).unwrap_or_else(|| panic!("fake envman not found"));
        let mut view = sample::view();
        view.processing_state = None;
        export_outputs(&envman, &view).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let calls: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.trim_end_matches('\x1f').split('\x1f').collect())
            .collect();
        assert_eq!(
            calls.first().cloned().unwrap_or_default(),
            ["add", "--key", "ASC_UPLOAD_ID", "--value", "upl-1"]
        );
        assert!(
            calls.iter().all(|c| c.get(2) != Some(&"ASC_PROCESSING_STATE")),
            "empty values skipped"
        );
        let groups = calls
            .iter()
            .find(|c| c.get(2) == Some(&"ASC_GROUPS"))
            .cloned()
            .unwrap_or_default();
        assert!(
            groups.get(4).is_some_and(|v| v.contains("\"name\":\"Internal QA\"")),
            "{groups:?}"
        );
        assert_eq!(calls.len(), 11);
    }

    #[test]
    fn failing_envman_is_an_error_naming_the_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        fake_envman(dir.path(), 3);
        let err = export_outputs(&dir.path().join("envman"), &sample::view()).err();
        assert!(
            matches!(err, Some(CiError::Envman { ref key, .. }) if key == "ASC_UPLOAD_ID"),
            "{err:?}"
        );
        assert_eq!(find_envman(OsStr::new("/nonexistent")), None);
    }

    #[test]
    fn report_lands_in_the_deploy_dir() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = write_report(&dir.path().join("deploy"), "# hi").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read_to_string(p).unwrap_or_default(), "# hi");
    }
}
