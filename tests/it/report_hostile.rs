//! The Markdown report (PR/MR comment, job summary, check run, Bitrise report) with hostile values
//! from the IPA (version, build number, bundle id, finding paths), from Apple (messages, error
//! text, group names) and from the environment: nothing becomes a live link, an image, HTML, a
//! mention, an issue/MR reference, a bare-URL autolink or an extra table column.

use asc_publish::outcome::Outcome;
use asc_publish::report::{markdown, view};

/// Values an attacker controls (a pull request builds the IPA; Apple echoes what it was sent).
const HOSTILE: &[&str] = &[
    "[click](https://evil.example/x)",
    "![pixel](https://evil.example/p.png)",
    "<https://evil.example/auto>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"https://evil.example\">a</a>",
    "http://evil.example/bare and https://evil.example/2",
    "visit www.evil.example/now",
    "cc @octocat and @org/team",
    "fixes #123 and !45 ~label %milestone $7 &8",
    "mail me: someone@evil.example",
    "pipe | breaks | table",
    "`code` and ``double``",
    "line one\nline two\r\n# heading",
    "[ref]: https://evil.example/ref",
    "**bold** _it_ ~~strike~~",
    "\\[escaped\\](https://evil.example/esc)",
    "&#64;octocat &lt;b&gt;",
];

fn hostile_outcome(v: &str, i: usize) -> Outcome {
    let doc = serde_json::json!({
        "status": "failed",
        "exit_code": 4,
        "bundle_id": format!("com.example.{i}{v}"),
        "version": v,
        "build_number": v,
        "app_id": format!("6450000001) [x](https://evil.example"),
        "build_id": v,
        "upload_id": v,
        "processing_state": v,
        "findings": [{"code": v, "severity": "error", "path": v, "message": v, "fix": v}],
        "apple_messages": [{"level": "error", "code": v, "description": v}],
        "warnings": [v],
        "groups": [{"name": v, "id": "g1", "kind": "external", "result": "failed", "message": v}],
        "error": {"kind": v, "message": v, "hint": v, "exit_code": 4},
    });
    serde_json::from_value(doc).unwrap_or_else(|e| panic!("outcome: {e}"))
}

/// What a GFM renderer, then GitHub's and GitLab's reference filters, could turn into something
/// live, in Markdown source that escapes with `\`.
fn live_syntax(md: &str) -> Vec<String> {
    let chars: Vec<char> = md.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            i += 2;
            continue;
        }
        // A code span is inert (no links, HTML, mentions or autolinks inside); values in one
        // cannot contain a backtick to close it early.
        if c == '`' && !chars[i..].starts_with(&['`', '`', '`']) {
            let close = chars[i + 1..].iter().position(|&x| x == '`');
            i += close.map_or(1, |p| p + 2);
            continue;
        }
        // Our marker: an HTML comment is inert (the marker test checks it stays one comment).
        if chars[i..].starts_with(&['<', '!', '-', '-']) {
            let tail: String = chars[i..].iter().collect();
            i += tail.find("-->").map_or(chars.len(), |p| tail[..p + 3].chars().count());
            continue;
        }
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let ahead: String = chars[i..chars.len().min(i + 5)].iter().collect();
        if c == '&' && ["&amp;", "&lt;", "&gt;"].iter().any(|e| ahead.starts_with(e)) {
            i += ahead.find(';').map_or(1, |p| p + 1);
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 20)].iter().collect();
        if c == ']' && next == '(' {
            found.push(format!("link/image at {i}: {rest}"));
        }
        if c == '<'
            && !(rest.starts_with("<br>")
                || rest.starts_with("<!-- asc-publish:")
                || rest.starts_with("<details>")
                || rest.starts_with("</details>")
                || rest.starts_with("<summary>")
                || rest.starts_with("</summary>"))
        {
            found.push(format!("HTML or autolink at {i}: {rest}"));
        }
        if matches!(c, '@' | '!' | '~' | '%' | '$' | '&') && (next.is_ascii_alphanumeric()) {
            found.push(format!("mention or reference at {i}: {rest}"));
        }
        if c == '#' && next.is_ascii_digit() {
            found.push(format!("issue reference at {i}: {rest}"));
        }
        if c == '&' && next == '#' {
            found.push(format!("character reference at {i}: {rest}"));
        }
        if rest.starts_with("://") || rest.to_ascii_lowercase().starts_with("www.") {
            found.push(format!("bare URL at {i}: {rest}"));
        }
        i += 1;
    }
    found
}

#[test]
fn hostile_values_render_as_text_only() {
    for (i, v) in HOSTILE.iter().enumerate() {
        let md = markdown::render(&view(&hostile_outcome(v, i)));
        // The marker stays one line and inside its comment.
        let first = md.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("<!-- asc-publish:") && first.ends_with(" -->") && first.matches("-->").count() == 1,
            "{first}"
        );
        let live = live_syntax(&md);
        assert!(live.is_empty(), "value {v:?} renders live syntax: {live:?}\n{md}");
        // Every table row keeps its columns: unescaped pipes per row equal the header's.
        for line in md.lines().filter(|l| l.starts_with('|')) {
            let mut pipes = 0;
            let mut esc = false;
            for ch in line.chars() {
                if esc {
                    esc = false;
                } else if ch == '\\' {
                    esc = true;
                } else if ch == '|' {
                    pipes += 1;
                }
            }
            assert!(
                [4, 6].contains(&pipes),
                "value {v:?} breaks a table row ({pipes} pipes): {line}"
            );
        }
        // The value is still readable (escapes and joiners aside).
        let plain: String = md.chars().filter(|c| *c != '\\' && *c != '\u{200D}').collect();
        let probe = v
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| w.len() >= 3)
            .unwrap_or_default();
        assert!(plain.contains(probe), "value {v:?} lost: {md}");
    }
}

#[test]
fn links_of_ours_never_carry_an_untrusted_id() {
    let md = markdown::render(&view(&hostile_outcome("1.0", 0)));
    // The app id `6450000001) [x](https://evil.example` would have closed our link and opened one.
    assert!(!md.contains("[App Store Connect]("), "{md}");
    assert!(!md.contains("[TestFlight]("), "{md}");
    assert_eq!(live_syntax(&md), Vec::<String>::new(), "{md}");
}
