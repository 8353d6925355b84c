//! GitHub Actions: workflow commands on stdout, and the `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` files.
//!
//! Escaping follows `@actions/core` (`command.ts`): message data escapes `%`, `\r`, `\n`;
//! properties additionally `:` and `,`. Multi-line outputs use a random heredoc delimiter that is
//! checked against the value, as the toolkit's `ghadelimiter_<uuid>` is.

use std::io::Write as _;
use std::path::Path;

use super::CiError;
use super::outputs::Output;
use crate::report::Annotation;
use crate::report::view::Level;

/// Escape a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escape a workflow command's property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::add-mask::` for every secret part of a secret (see [`crate::output::secret_parts`]): each
/// line of a PEM key, because the runner masks line by line, but not its public armour lines nor
/// short pieces, which would turn every fix hint quoting `-----BEGIN PRIVATE KEY-----` into `***`.
pub fn mask_commands(secret: &str) -> String {
    crate::output::secret_parts(secret)
        .iter()
        .map(|p| mask_command(p))
        .collect()
}

/// The `::add-mask::` line for one part, as it is (no splitting).
pub fn mask_command(part: &str) -> String {
    format!("::add-mask::{}\n", escape_data(part))
}

/// The masker [`crate::output::protect`] uses for the run in `env`: `::add-mask::` on GitHub
/// Actions (`GITHUB_ACTIONS=true`), none elsewhere.
pub fn masker_for(env: &crate::env::Env) -> Option<crate::output::Masker> {
    (env.get("GITHUB_ACTIONS") == Some("true")).then_some(mask_command as crate::output::Masker)
}

pub fn group_start(title: &str) -> String {
    format!("::group::{}\n", escape_data(title))
}

pub const GROUP_END: &str = "::endgroup::\n";

/// One `::error` / `::warning` / `::notice` line.
pub fn annotation_command(a: &Annotation) -> String {
    let cmd = match a.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if !a.path.is_empty() {
        props.push(format!("file={}", escape_property(&a.path)));
    }
    if !a.title.is_empty() {
        props.push(format!("title={}", escape_property(&a.title)));
    }
    let sep = if props.is_empty() { "" } else { " " };
    format!("::{cmd}{sep}{}::{}\n", props.join(","), escape_data(&a.message))
}

/// All annotations, folded into a group when there are any.
pub fn annotation_block(annotations: &[Annotation]) -> String {
    if annotations.is_empty() {
        return String::new();
    }
    let mut out = group_start(&format!("asc-publish: {} finding(s)", annotations.len()));
    for a in annotations {
        out.push_str(&annotation_command(a));
    }
    out.push_str(GROUP_END);
    out
}

/// A fresh delimiter that does not occur in `value`.
pub fn delimiter_for(value: &str) -> String {
    loop {
        let d = format!("ghadelimiter_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        if !value.contains(&d) {
            return d;
        }
    }
}

/// One `GITHUB_OUTPUT` entry in heredoc form (always, so values never need escaping).
pub fn format_output(name: &str, value: &str, delimiter: &str) -> Result<String, CiError> {
    if delimiter.is_empty() || name.contains(delimiter) || value.contains(delimiter) {
        return Err(CiError::DelimiterInValue { name: name.to_string() });
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// Append every output to the `GITHUB_OUTPUT` file.
pub fn write_outputs(path: &Path, outputs: &[Output]) -> Result<(), CiError> {
    let mut body = String::new();
    for o in outputs {
        body.push_str(&format_output(o.name, &o.value, &delimiter_for(&o.value))?);
    }
    append(path, &body)
}

/// Append the Markdown report to `GITHUB_STEP_SUMMARY`.
pub fn append_summary(path: &Path, markdown: &str) -> Result<(), CiError> {
    let mut body = markdown.to_string();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    append(path, &body)
}

fn append(path: &Path, body: &str) -> Result<(), CiError> {
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(body.as_bytes())?;
        f.flush()
    };
    write().map_err(|source| CiError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_property_escaping_match_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn annotation_lines_escape_each_part() {
        let a = Annotation {
            level: Level::Error,
            path: "Payload/A,B.app/Info.plist".into(),
            title: "ITMS-90056: missing".into(),
            message: "line1\nFix: 100%".into(),
        };
        assert_eq!(
            annotation_command(&a),
            "::error file=Payload/A%2CB.app/Info.plist,title=ITMS-90056%3A missing::line1%0AFix: 100%25\n"
        );
        let w = Annotation {
            level: Level::Warning,
            path: String::new(),
            title: String::new(),
            message: "m".into(),
        };
        assert_eq!(annotation_command(&w), "::warning::m\n");
    }

    #[test]
    fn group_wraps_annotations() {
        let a = Annotation {
            level: Level::Notice,
            path: String::new(),
            title: "t".into(),
            message: "m".into(),
        };
        let block = annotation_block(&[a]);
        assert!(block.starts_with("::group::asc-publish: 1 finding(s)\n"));
        assert!(block.ends_with("::notice title=t::m\n::endgroup::\n"));
        assert_eq!(annotation_block(&[]), "");
    }

    #[test]
    fn mask_the_key_lines_but_not_the_public_armour() {
        let pem = "-----BEGIN PRIVATE KEY-----\r\nMIGTAgEA%x\n\nAAAA\nAwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            mask_commands(pem),
            "::add-mask::AwEHBHkwdwIBAQQg\n::add-mask::MIGTAgEA%25x\n"
        );
    }

    #[test]
    fn secrets_are_masked_with_add_mask_on_github_actions_only() {
        let gh = crate::env::Env::from_pairs([("GITHUB_ACTIONS", "true")]);
        let lines = crate::output::protect_with("secret-masked-on-github", masker_for(&gh));
        assert_eq!(lines, "::add-mask::secret-masked-on-github\n");
        let elsewhere = crate::env::Env::from_pairs([("GITHUB_ACTIONS", "false")]);
        assert!(masker_for(&elsewhere).is_none());
        assert_eq!(
            crate::output::protect_with("secret-masked-elsewhere", masker_for(&elsewhere)),
            ""
        );
        assert_eq!(crate::output::redact("x secret-masked-elsewhere"), "x ***");
    }

    #[test]
    fn heredoc_refuses_a_value_containing_the_delimiter() {
        let ok = format_output("groups", "a\nb", "EOF_1").unwrap_or_default();
        assert_eq!(ok, "groups<<EOF_1\na\nb\nEOF_1\n");
        assert!(format_output("groups", "x\nEOF_1\ny", "EOF_1").is_err());
        let d = delimiter_for("ghadelimiter_");
        assert!(d.starts_with("ghadelimiter_") && d.len() == 13 + 32);
        assert_ne!(d, delimiter_for(""));
    }

    #[test]
    fn files_are_appended_not_replaced() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("out");
        std::fs::write(&out, "earlier=1\n").unwrap_or_else(|e| panic!("{e}"));
        let outputs = [
            Output {
                name: "build-id",
                key: "ASC_BUILD_ID",
                value: "b1".into(),
            },
            Output {
                name: "groups",
                key: "ASC_GROUPS",
                value: "line1\nline2".into(),
            },
        ];
        write_outputs(&out, &outputs).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        assert!(text.starts_with("earlier=1\nbuild-id<<ghadelimiter_"), "{text}");
        // Parse it back the way the runner does.
        let mut lines = text.lines().skip(1);
        let mut parsed = Vec::new();
        while let Some(head) = lines.next() {
            let (name, delim) = head.split_once("<<").unwrap_or_default();
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            parsed.push((name.to_string(), value.join("\n")));
        }
        assert_eq!(
            parsed,
            [
                ("build-id".into(), "b1".into()),
                ("groups".into(), "line1\nline2".into())
            ]
        );

        let sum = dir.path().join("sum");
        append_summary(&sum, "# one").unwrap_or_else(|e| panic!("{e}"));
        append_summary(&sum, "# two\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read_to_string(&sum).unwrap_or_default(), "# one\n# two\n");
        assert!(append_summary(&dir.path().join("no/such/dir"), "x").is_err());
    }
}
