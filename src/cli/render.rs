//! Rendering shared by the commands. The one error renderer: every command's error reaches the
//! user through [`render_error`] (from `main`, at the edge) or [`render_error_beside_outcome`]
//! (when a JSON run already printed its outcome, which carries the error), never through a second
//! copy of these lines; and the one JSON outcome document.

use crate::error::Error;
use crate::outcome::Outcome;
use crate::output::Format;

/// Renders an error once, at the edge: text on stderr always, plus one JSON document on stdout
/// when JSON was asked for (so a pipeline parsing stdout still gets a document). Redacted: an
/// error may quote what a server or a file said.
pub fn render_error(err: &Error, format: Format) {
    text_lines(err);
    if format == Format::Json {
        let mut doc = serde_json::json!({ "error": err.to_json() });
        crate::output::redact_json(&mut doc);
        println!("{doc}");
    }
}

/// The error of a JSON run whose outcome document (with the error in it) is stdout's one
/// document: the text lines only, on stderr.
pub fn render_error_beside_outcome(err: &Error) {
    text_lines(err);
}

/// `error: …` and the fix, on stderr.
fn text_lines(err: &Error) {
    crate::output::eprintln_redacted!("error: {}", err.message());
    if let Some(hint) = err.hint() {
        crate::output::eprintln_redacted!("  fix: {}", hint);
    }
}

/// The outcome as stdout's one JSON document.
pub fn print_outcome_json(outcome: &Outcome) {
    match serde_json::to_string_pretty(outcome) {
        Ok(s) => println!("{s}"),
        Err(e) => crate::output::eprintln_redacted!("error: cannot serialise the outcome: {e}"),
    }
}
