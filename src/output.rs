//! How a subcommand prints its result: human text or one JSON document, and the secrets that
//! nothing printed may contain.
//!
//! Every secret the process learns (the key, tokens, the app-specific password, session tokens,
//! minted JWTs) goes through [`protect`] once: it is masked on the CI system (the edge installs
//! the masker, [`masks_with`]; GitHub's `::add-mask::` lives in `ci::github`) and remembered, and
//! every renderer's text passes through [`redact`] / [`redact_json`] before it is printed or
//! written. Only the secret parts are hidden: a PEM's armour lines (`-----BEGIN PRIVATE KEY-----`)
//! are public and appear in fix hints, so masking them would turn the hints into `***`.
//!
//! Stderr too: every progress, status and warning line is printed with [`eprintln_redacted!`] /
//! [`eprint_redacted`] (Apple's processing messages, server errors and verbose request logs can
//! carry anything), and only the masking lines (`::add-mask::`) go out as they are ([`eprint_masks`]).

use std::collections::BTreeSet;
use std::sync::Mutex;

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Parts shorter than this are neither masked nor redacted: a 2-character "secret" would shred
/// every word containing it, and short parts of a key (`AAAA`) are not worth hiding.
pub const MIN_SECRET_LEN: usize = 6;
/// What a redacted secret looks like (the Actions runner uses the same).
pub const REDACTED: &str = "***";

/// At most this many secret parts are remembered.
const MAX_KNOWN: usize = 4096;

static KNOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The line that masks one secret part on the CI system (printed on stderr as it is).
pub type Masker = fn(&str) -> String;

/// How [`protect`] masks; set by the edge from the run's environment (none: nothing to mask).
static MASKER: Mutex<Option<Masker>> = Mutex::new(None);

/// Set once at the edge from the run's CI system, so secrets learnt later deep in the run
/// ([`protect`]) are masked there too. The CI systems live at the edge, so this module knows
/// only the line-making function, not the CI system.
pub fn masks_with(masker: Option<Masker>) {
    if let Ok(mut m) = MASKER.lock() {
        *m = masker;
    }
}

/// The parts of a secret worth hiding: every line (a literal `\n`, as CI variables often carry a
/// PEM, counts as a line break) without PEM armour, split further at the armour when a PEM was
/// pasted on one line; parts shorter than [`MIN_SECRET_LEN`] are left out.
pub fn secret_parts(secret: &str) -> Vec<String> {
    let text = secret.replace("\\n", "\n").replace("\\r", "");
    let mut parts = Vec::new();
    let whole = secret.trim();
    if !whole.contains('\n') && !whole.contains("-----") && whole.len() >= MIN_SECRET_LEN {
        parts.push(whole.to_string());
    }
    for line in text.lines() {
        let line = line.trim();
        if !line.contains("-----") {
            if line.len() >= MIN_SECRET_LEN {
                parts.push(line.to_string());
            }
            continue;
        }
        // Armour pieces (`BEGIN …`, `END …`) are public; what sits between them is not.
        for piece in line.split("-----") {
            let piece = piece.trim();
            if piece.starts_with("BEGIN") || piece.starts_with("END") {
                continue;
            }
            for word in piece.split_whitespace() {
                if word.len() >= MIN_SECRET_LEN {
                    parts.push(word.to_string());
                }
            }
        }
    }
    parts.sort();
    parts.dedup();
    parts
}

/// Remembers a secret for [`redact`] and returns `masker`'s lines for its parts that were not
/// protected before (empty without a masker).
pub fn protect_with(secret: &str, masker: Option<Masker>) -> String {
    let mut out = String::new();
    let Ok(mut known) = KNOWN.lock() else {
        return out;
    };
    for part in secret_parts(secret) {
        // A bound, so a long in-process run minting tokens cannot make redaction quadratic.
        if known.len() >= MAX_KNOWN {
            break;
        }
        if known.insert(part.clone())
            && let Some(mask) = masker
        {
            out.push_str(&mask(&part));
        }
    }
    out
}

/// The one call for a secret the process has learnt: masks it on GitHub Actions (on stderr,
/// before anything could print it) and redacts it from everything rendered afterwards.
pub fn protect(secret: &str) {
    eprint_masks(&protected(secret));
}

/// [`protect_with`] as the edge configured it ([`masks_with`]).
fn protected(secret: &str) -> String {
    let masker = MASKER.lock().ok().and_then(|m| *m);
    protect_with(secret, masker)
}

/// Prints `::add-mask::` lines to stderr as they are: the one stderr text that must carry the
/// secret (redacting it would leave the secret unmasked on the runner).
pub fn eprint_masks(lines: &str) {
    if !lines.is_empty() {
        eprint!("{lines}");
    }
}

/// Prints `text` to stderr, redacted, in one write.
pub fn eprint_redacted(text: &str) {
    eprint!("{}", redact(text));
}

/// `eprintln!`, redacted: the way every line reaches stderr.
macro_rules! eprintln_redacted {
    () => {
        $crate::output::eprint_redacted("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::eprint_redacted(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use eprintln_redacted;

/// Every protected part, longest first (so a whole line is replaced before a piece of it).
pub fn secret_parts_known() -> Vec<String> {
    let mut parts: Vec<String> = KNOWN.lock().map(|k| k.iter().cloned().collect()).unwrap_or_default();
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    parts
}

/// `text` with every protected secret part replaced by `***`.
pub fn redact(text: &str) -> String {
    redact_parts(text, &secret_parts_known())
}

/// `text` with each of `parts` replaced by `***`.
pub fn redact_parts(text: &str, parts: &[String]) -> String {
    let mut out = text.to_string();
    for p in parts {
        if p.len() >= MIN_SECRET_LEN && out.contains(p.as_str()) {
            out = out.replace(p.as_str(), REDACTED);
        }
    }
    out
}

/// Every string (and object key) of a JSON document, redacted.
pub fn redact_json(value: &mut serde_json::Value) {
    redact_json_parts(value, &secret_parts_known());
}

/// [`redact_json`] with explicit parts.
pub fn redact_json_parts(value: &mut serde_json::Value, parts: &[String]) {
    match value {
        serde_json::Value::String(s) => {
            let r = redact_parts(s, parts);
            if r != *s {
                *s = r;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| redact_json_parts(x, parts)),
        serde_json::Value::Object(o) => {
            let taken = std::mem::take(o);
            for (k, mut v) in taken {
                redact_json_parts(&mut v, parts);
                o.insert(redact_parts(&k, parts), v);
            }
        }
        _ => {}
    }
}

/// Strips control characters (terminal escapes included) and caps the length of text from
/// outside (servers, the environment) before it is shown.
pub fn sanitize(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    if cleaned.chars().count() > 1000 {
        let mut t: String = cleaned.chars().take(1000).collect();
        t.push('…');
        t
    } else {
        cleaned
    }
}

/// Prints `text` to stdout, redacted.
pub fn print(text: &str) {
    print!("{}", redact(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49\nAwEHBHkwdwIBAQQg\nAAAA\n-----END PRIVATE KEY-----\n";

    #[test]
    fn parts_leave_out_armour_and_short_pieces() {
        assert_eq!(
            secret_parts(PEM),
            ["AwEHBHkwdwIBAQQg", "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49"]
        );
        // Pasted on one line, with literal "\n" or spaces.
        let one = "-----BEGIN PRIVATE KEY-----\\nMIGTAgEAMBMGByqGSM49\\n-----END PRIVATE KEY-----";
        assert_eq!(secret_parts(one), ["MIGTAgEAMBMGByqGSM49"]);
        let spaced = "-----BEGIN PRIVATE KEY----- MIGTAgEAMBMGByqGSM49 -----END PRIVATE KEY-----";
        assert_eq!(secret_parts(spaced), ["MIGTAgEAMBMGByqGSM49"]);
        assert_eq!(secret_parts("ghs_token123"), ["ghs_token123"]);
        assert!(secret_parts("ab").is_empty());
    }

    fn test_mask(part: &str) -> String {
        format!("mask {part}\n")
    }

    #[test]
    fn secrets_learnt_later_are_masked_as_the_edge_configured() {
        // The only test that sets the masker: the process's own environment plays no part.
        masks_with(Some(test_mask));
        assert_eq!(protected("jwt-learnt-on-github"), "mask jwt-learnt-on-github\n");
        masks_with(None);
        assert_eq!(protected("jwt-learnt-elsewhere"), "");
        assert_eq!(redact("a jwt-learnt-elsewhere b"), "a *** b");
    }

    #[test]
    fn protecting_masks_secret_parts_once_and_redacts_them() {
        let lines = protect_with(PEM, Some(test_mask));
        assert!(!lines.contains("BEGIN"), "{lines}");
        assert!(lines.contains("mask MIGTAgEAMBMGByqGSM49AgEGCCqGSM49\n"), "{lines}");
        assert_eq!(protect_with(PEM, Some(test_mask)), "", "masked twice");
        let hint = "pass -----BEGIN PRIVATE KEY----- text; got MIGTAgEAMBMGByqGSM49AgEGCCqGSM49";
        assert_eq!(redact(hint), "pass -----BEGIN PRIVATE KEY----- text; got ***");
        let mut v = serde_json::json!({"a": ["x AwEHBHkwdwIBAQQg y"], "AwEHBHkwdwIBAQQg": 1});
        redact_json(&mut v);
        assert_eq!(v, serde_json::json!({"a": ["x *** y"], "***": 1}));
    }
}
