//! The Markdown report: one body reused for the job summary, the PR/MR comment and the check run.
//!
//! Built to be looked at: a one-line verdict with links, a Mermaid timeline, then tables (errors
//! first), long lists folded into `<details>`. Text from the IPA, from Apple or from the
//! environment is untrusted and is escaped (see [`cell`]) so it cannot break the table or inject
//! HTML, a link, an image, a mention or a reference (checked against cmark-gfm, GitHub's
//! renderer). The body is capped at [`MAX_LEN`] bytes.

use std::fmt::Write as _;

use super::view::{GroupKind, GroupOutcome, Level, RunView, StageStatus, Verdict};

/// GitHub's limit for comment bodies, step summaries shown inline and check-run summaries is
/// 65,535/65,536 characters; bytes are never fewer than characters, so counting bytes is safe.
pub const MAX_LEN: usize = 65_535;

/// Rows shown before a table folds the rest into `<details>`.
const OPEN_ROWS: usize = 10;
/// A single cell never grows past this many characters (a 50 kB message would eat the budget).
const CELL_MAX_CHARS: usize = 400;

/// The hidden line that identifies this app's sticky comment (one comment per app).
pub fn marker(bundle_id: &str) -> String {
    // Bundle ids are letters, digits, `.` and `-`; anything else (and a `--`, which would end the
    // comment early in some parsers) becomes `_`.
    let mut safe = String::new();
    for c in bundle_id.chars() {
        let keep = c.is_ascii_alphanumeric() || c == '.' || (c == '-' && !safe.ends_with('-'));
        safe.push(if keep { c } else { '_' });
    }
    format!("<!-- asc-publish:{safe} -->")
}

/// The report capped at [`MAX_LEN`].
pub fn render(view: &RunView) -> String {
    render_with_limit(view, MAX_LEN)
}

/// The report capped at `limit` bytes: first by listing fewer rows (with a note saying how many
/// were left out), then, as a last resort, by cutting at a line boundary.
pub fn render_with_limit(view: &RunView, limit: usize) -> String {
    for cap in [usize::MAX, 200, 50, 10, 0] {
        let body = render_capped(view, cap);
        if body.len() <= limit {
            return body;
        }
    }
    let body = render_capped(view, 0);
    hard_truncate(&body, limit)
}

fn hard_truncate(body: &str, limit: usize) -> String {
    const NOTE: &str = "\n\n_Report truncated to fit the size limit; the job log has everything._\n";
    let budget = limit.saturating_sub(NOTE.len());
    let mut cut = budget.min(body.len());
    while cut > 0 && !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = body.get(..cut).unwrap_or_default();
    // Cut at the last full line so no table row or tag is left half-written.
    let head = match head.rfind('\n') {
        Some(i) => head.get(..i).unwrap_or_default(),
        None => "",
    };
    let mut out = head.to_string();
    // An unbalanced fence would swallow the note.
    if out.matches("```").count() % 2 == 1 {
        out.push_str("\n```");
    }
    if out.len() + NOTE.len() <= limit {
        out.push_str(NOTE);
    }
    out
}

/// The report with at most `cap` rows per table (the omitted count is noted).
fn render_capped(view: &RunView, cap: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", marker(&view.bundle_id));
    headline(&mut s, view);
    timeline(&mut s, view);
    upload_line(&mut s, view);
    findings(&mut s, view, cap);
    apple(&mut s, view, cap);
    groups(&mut s, view, cap);
    release(&mut s, view, cap);
    s
}

fn headline(s: &mut String, view: &RunView) {
    let app = if view.app_name.is_empty() {
        &view.bundle_id
    } else {
        &view.app_name
    };
    let _ = write!(
        s,
        "### TestFlight: **{}** · {} {} ({})",
        view.verdict.word(),
        inline(app),
        inline(&view.version),
        inline(&view.build_number)
    );
    if let (false, Some(stage)) = (view.verdict.is_success(), view.reached) {
        let _ = write!(s, " · stopped at {}", stage.label());
    }
    if let Some(url) = view.asc_url() {
        let _ = write!(s, " · [App Store Connect]({url})");
    }
    if let Some(url) = view.testflight_url() {
        let _ = write!(s, " · [TestFlight]({url})");
    }
    s.push_str("\n\n");
    if let Verdict::Failed { kind, message, hint } = &view.verdict {
        let _ = writeln!(s, "> **{}**: {}", inline(kind), inline(message));
        if let Some(h) = hint {
            let _ = writeln!(s, ">\n> **Fix:** {}", inline(h));
        }
        s.push('\n');
    }
}

fn timeline(s: &mut String, view: &RunView) {
    if view.stages.is_empty() {
        return;
    }
    // `dateFormat x` reads both numbers as millisecond timestamps, so start and end are offsets
    // from the run start; Mermaid draws them relative to the epoch, which the axis format hides.
    s.push_str("```mermaid\ngantt\n    dateFormat x\n    axisFormat %M:%S\n    section Run\n");
    for (i, st) in view.stages.iter().enumerate() {
        let tag = match st.status {
            StageStatus::Done => "done, ",
            StageStatus::Failed => "crit, ",
            StageStatus::Skipped => "",
        };
        let end = st.start_ms.saturating_add(st.duration_ms.max(1));
        let _ = writeln!(
            s,
            "    {} {} :{tag}s{i}, {}, {end}",
            st.stage.label(),
            duration(st.duration_ms),
            st.start_ms
        );
    }
    s.push_str("```\n\n");
}

fn upload_line(s: &mut String, view: &RunView) {
    let mut parts = Vec::new();
    if let Some(u) = &view.upload {
        let mut p = format!(
            "Uploaded {:.1} MB in {}",
            u.bytes as f64 / 1_000_000.0,
            duration(u.duration_ms)
        );
        if let Some(r) = u.mb_per_s() {
            let _ = write!(p, " ({r:.1} MB/s)");
        }
        parts.push(p);
    }
    if let Some(state) = &view.processing_state {
        parts.push(format!("processing `{}`", code(state)));
    }
    for (label, id) in [
        ("app", &view.ids.app_id),
        ("upload", &view.ids.upload_id),
        ("build", &view.ids.build_id),
    ] {
        if let Some(id) = id {
            parts.push(format!("{label} `{}`", code(id)));
        }
    }
    if !parts.is_empty() {
        let _ = writeln!(s, "{}\n", parts.join(" · "));
    }
}

fn findings(s: &mut String, view: &RunView, cap: usize) {
    let rows: Vec<String> = view
        .sorted_findings()
        .into_iter()
        .map(|f| {
            let path = if f.path.is_empty() {
                String::new()
            } else {
                format!("`{}`", code(&f.path))
            };
            format!(
                "| {} | {} | {} | {} | {} |",
                level(f.severity),
                cell(&f.code),
                path,
                cell(&f.message),
                cell(&f.fix)
            )
        })
        .collect();
    let errors = view.findings.iter().filter(|f| f.severity == Level::Error).count();
    let title = format!(
        "Validation: {errors} error(s), {} other finding(s)",
        view.findings.len() - errors
    );
    table(
        s,
        &title,
        "| | Code | Path | Message | Fix |\n|---|---|---|---|---|",
        &rows,
        cap,
    );
}

fn apple(s: &mut String, view: &RunView, cap: usize) {
    let mut msgs: Vec<_> = view.apple_messages.iter().collect();
    msgs.sort_by_key(|m| m.severity);
    let rows: Vec<String> = msgs
        .iter()
        .map(|m| {
            format!(
                "| {} | {} | {} |",
                level(m.severity),
                cell(&m.code),
                cell(&m.description)
            )
        })
        .collect();
    let title = format!("App Store Connect processing: {} message(s)", rows.len());
    table(s, &title, "| | Code | Description |\n|---|---|---|", &rows, cap);
}

fn groups(s: &mut String, view: &RunView, cap: usize) {
    let rows: Vec<String> = view
        .groups
        .iter()
        .map(|g| {
            let kind = match g.kind {
                GroupKind::Internal => "internal",
                GroupKind::External => "external",
            };
            let result = match &g.outcome {
                GroupOutcome::Added => "added".to_string(),
                GroupOutcome::Skipped { note } => format!("skipped: {}", cell(note)),
                GroupOutcome::Failed { message } => format!("**failed**: {}", cell(message)),
            };
            format!("| {} | {kind} | {result} |", cell(&g.name))
        })
        .collect();
    let title = format!("TestFlight groups: {}", rows.len());
    table(s, &title, "| Group | Kind | Result |\n|---|---|---|", &rows, cap);
}

/// The App Store release (`upload --release`): the version's and the review submission's states,
/// or each field App Review would miss.
fn release(s: &mut String, view: &RunView, cap: usize) {
    let Some(r) = &view.release else {
        return;
    };
    let mut parts = vec![format!(
        "**App Store:** version {}",
        r.version_string.as_deref().map_or("-".to_string(), inline)
    )];
    if let Some(state) = &r.version_state {
        parts.push(format!("`{}`", code(state)));
    }
    if let Some(id) = &r.submission_id {
        let state = r
            .submission_state
            .as_deref()
            .map_or(String::new(), |st| format!(" `{}`", code(st)));
        parts.push(format!("review submission `{}`{state}", code(id)));
    }
    let _ = writeln!(s, "{}\n", parts.join(" · "));
    let rows: Vec<String> = r.missing.iter().map(|m| format!("| {} |", cell(m))).collect();
    table(s, "Missing for App Review", "| Field |\n|---|", &rows, cap);
}

/// A titled table: the first rows open, the rest folded, anything past `cap` counted in a note.
fn table(s: &mut String, title: &str, header: &str, rows: &[String], cap: usize) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "#### {title}\n");
    let shown = rows.len().min(cap);
    let open = shown.min(OPEN_ROWS);
    let (first, rest) = rows.split_at(open);
    let rest = rest.get(..shown - open).unwrap_or_default();
    if !first.is_empty() {
        let _ = writeln!(s, "{header}\n{}\n", first.join("\n"));
    }
    if !rest.is_empty() {
        let _ = writeln!(
            s,
            "<details><summary>{} more</summary>\n\n{header}\n{}\n\n</details>\n",
            rest.len(),
            rest.join("\n")
        );
    }
    if shown < rows.len() {
        let _ = writeln!(
            s,
            "_{} more not shown to fit the size limit; see the job log._\n",
            rows.len() - shown
        );
    }
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "**error**",
        Level::Warning => "warning",
        Level::Notice => "notice",
    }
}

/// Human duration: `850 ms`, `12.3 s`, `4m 05s`.
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let secs = ms / 1000;
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}

fn clip(text: &str) -> String {
    if text.chars().count() <= CELL_MAX_CHARS {
        return text.to_string();
    }
    let mut t: String = text.chars().take(CELL_MAX_CHARS).collect();
    t.push('…');
    t
}

/// Zero-width joiner: invisible, and it separates a sigil from what follows so neither GitHub
/// (`@user`, `@org/team`, `#123`, emails) nor GitLab (also `!12`, `~label`, `%milestone`, `$12`,
/// `&12`) sees a reference or mention, and no linkifier sees `scheme://` or `www.`. Those are
/// found after the Markdown is parsed (GitLab even in escaped text), so a backslash is not enough.
const ZWJ: char = '\u{200D}';

/// Untrusted text (from the IPA, from Apple, from the environment) in a table cell or running
/// prose: it stays text. No HTML (`<`, `>`, `&` as entities; autolinks `<http://…>` need `<`),
/// no link or image syntax, emphasis or code spans (every such character backslash-escaped, which
/// GFM allows for any ASCII punctuation), no table break (`\|`), no line break, no mention,
/// reference or bare-URL autolink (a [`ZWJ`] after the sigil, inside `://` and after `www`).
fn cell(text: &str) -> String {
    let text = clip(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '!' | '#' | '{' | '}' | '"' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        let next = chars.get(i + 1).copied();
        let sigil = matches!(c, '@' | '#' | '!' | '~' | '%' | '$' | '&');
        let scheme = c == ':' && next == Some('/');
        let www = c.eq_ignore_ascii_case(&'w')
            && next == Some('.')
            && i >= 2
            && chars
                .get(i - 2..i)
                .is_some_and(|w| w.iter().all(|x| x.eq_ignore_ascii_case(&'w')));
        if (sigil || scheme || www) && next.is_some() {
            out.push(ZWJ);
        }
    }
    out
}

/// Untrusted text in running prose: the same as a cell (it is also one line).
fn inline(text: &str) -> String {
    cell(text)
}

/// Untrusted text inside backticks: a backtick would close the span, a pipe would split a cell.
fn code(text: &str) -> String {
    clip(text)
        .replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
