//! The terminal's progress: the pipeline's events as lines on stderr (stdout carries the
//! command's own output), redacted like every line there; on GitLab CI, each stage folded into a
//! collapsible section of the job log.

use std::sync::Arc;

use crate::env::Env;
use crate::publish::events::{Event, EventSink, Events};

/// Prints each event's line on stderr; stage boundaries as GitLab sections when on GitLab.
#[derive(Debug, Default, Clone, Copy)]
pub struct Terminal {
    /// Progress lines (off for a quiet run).
    pub lines: bool,
    /// GitLab's section markers around stages.
    pub gitlab_sections: bool,
}

impl EventSink for Terminal {
    fn event(&self, event: Event) {
        match event {
            Event::StageStarted { name, title } if self.gitlab_sections => {
                crate::output::eprint_redacted(&section_start(name, title, false, unix_now()));
            }
            Event::StageEnded { name } if self.gitlab_sections => {
                crate::output::eprint_redacted(&section_end(name, unix_now()));
            }
            e if self.lines => {
                if let Some(line) = e.line() {
                    crate::output::eprintln_redacted!("{line}");
                }
            }
            _ => {}
        }
    }

    fn shows_progress(&self) -> bool {
        self.lines
    }
}

/// The run's progress lines on the terminal (nowhere when `quiet`), stages folded when `env` is
/// GitLab CI's.
pub fn events(quiet: bool, env: &Env) -> Events {
    let t = Terminal {
        lines: !quiet,
        gitlab_sections: env.get("GITLAB_CI") == Some("true"),
    };
    if t.lines || t.gitlab_sections {
        Events::to(Arc::new(t))
    } else {
        Events::none()
    }
}

/// Progress lines only (where no stage is sent).
pub fn lines(quiet: bool) -> Events {
    events(quiet, &Env::default())
}

/// A section name as GitLab's job log accepts it (letters, digits, `_ . -`).
fn section_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Start a GitLab collapsible log section (`unix_secs` is the current time; GitLab shows the duration).
pub fn section_start(name: &str, title: &str, collapsed: bool, unix_secs: u64) -> String {
    let opts = if collapsed { "[collapsed=true]" } else { "" };
    let title: String = title.chars().filter(|c| !c.is_control()).collect();
    format!(
        "\x1b[0Ksection_start:{unix_secs}:{}{opts}\r\x1b[0K{title}\n",
        section_name(name)
    )
}

/// End the GitLab log section `name`.
pub fn section_end(name: &str, unix_secs: u64) -> String {
    format!("\x1b[0Ksection_end:{unix_secs}:{}\r\x1b[0K\n", section_name(name))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_only_on_gitlab() {
        let gitlab = Env::from_pairs([("GITLAB_CI", "true")]);
        // Quiet and not on GitLab: nothing listens.
        assert_eq!(format!("{:?}", events(true, &Env::default())), "Events(none)");
        // Quiet on GitLab: the stages are still folded, but no progress is shown.
        let quiet_gitlab = events(true, &gitlab);
        assert_eq!(format!("{quiet_gitlab:?}"), "Events(on)");
        assert!(!quiet_gitlab.is_heard());
        assert!(events(false, &Env::default()).is_heard());
    }

    #[test]
    fn sections_use_gitlab_markers() {
        assert_eq!(
            section_start("upload ipa", "Uploading\nnow", true, 100),
            "\x1b[0Ksection_start:100:upload_ipa[collapsed=true]\r\x1b[0KUploadingnow\n"
        );
        assert_eq!(
            section_end("upload ipa", 101),
            "\x1b[0Ksection_end:101:upload_ipa\r\x1b[0K\n"
        );
    }
}
