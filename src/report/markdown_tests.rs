//! Tests for the Markdown report.

use super::*;
use crate::report::sample;
use crate::report::view::{FindingView, StageName, StageTiming};

#[test]
fn headline_has_verdict_app_version_and_links() {
    let md = render(&sample::view());
    let mut lines = md.lines();
    assert_eq!(lines.next(), Some("<!-- asc-publish:com.example.demo -->"));
    let head = lines.next().unwrap_or_default();
    assert!(head.contains("**Published**"), "{head}");
    assert!(head.contains("Demo App 1.4.0 (57)"), "{head}");
    assert!(head.contains("(https://appstoreconnect.apple.com/apps/1234567890/testflight/ios/bld-1)"));
    assert!(!head.chars().any(|c| c as u32 > 0x2000 && c != '·'), "no emoji: {head}");
}

#[test]
fn timeline_is_a_mermaid_gantt_with_millisecond_offsets() {
    let md = render(&sample::view());
    let start = md.find("```mermaid\ngantt\n").unwrap_or(usize::MAX);
    assert_ne!(start, usize::MAX, "{md}");
    let block = md.get(start..).unwrap_or_default();
    let end = block.get(3..).and_then(|b| b.find("```")).unwrap_or(0);
    let block = block.get(..end + 3).unwrap_or_default();
    assert!(block.contains("dateFormat x"));
    assert!(block.contains("    Validate 850 ms :done, s0, 0, 850\n"), "{block}");
    assert!(block.contains("    Upload 12.3 s :done, s1, 850, 13150\n"), "{block}");
    assert!(
        block.contains("    Processing 4m 05s :done, s2, 13150, 258150\n"),
        "{block}"
    );
}

#[test]
fn zero_length_stage_still_draws() {
    let mut v = sample::view();
    v.stages = vec![StageTiming {
        stage: StageName::Validate,
        start_ms: 5,
        duration_ms: 0,
        status: crate::report::view::StageStatus::Failed,
    }];
    assert!(render(&v).contains("Validate 0 ms :crit, s0, 5, 6\n"));
}

#[test]
fn findings_list_errors_first_and_escape_untrusted_text() {
    let md = render(&sample::view());
    let err = md.find("ITMS-90056").unwrap_or(usize::MAX);
    let warn = md.find("ASC-W001").unwrap_or(0);
    assert!(err < warn, "errors first");
    assert!(
        md.contains("This bundle is invalid \\| pipes &lt;b&gt;html&lt;/b&gt;"),
        "{md}"
    );
    assert!(!md.contains("<b>"));
    assert!(md.contains("| Beta | external | **failed**: Beta review required |"));
    assert!(md.contains("48.2 MB in 12.3 s (3.9 MB/s)"), "{md}");
}

#[test]
fn failure_shows_message_and_fix() {
    let mut v = sample::view();
    v.verdict = crate::report::view::Verdict::Failed {
        kind: "auth".into(),
        message: "401 NOT_AUTHORIZED".into(),
        hint: Some("Check the key id".into()),
    };
    v.reached = Some(StageName::Upload);
    let md = render(&v);
    assert!(
        md.contains("**Failed** · Demo App 1.4.0 (57) · stopped at Upload ·"),
        "{md}"
    );
    assert!(md.contains("> **auth**: 401 NOT\\_AUTHORIZED"), "{md}");
    assert!(md.contains("> **Fix:** Check the key id"));
}

fn many_findings(n: usize) -> crate::report::RunView {
    let mut v = sample::view();
    v.findings = (0..n)
        .map(|i| FindingView {
            code: format!("ITMS-{i:05}"),
            severity: Level::Warning,
            path: format!("Payload/Demo.app/Frameworks/F{i}.framework/F{i}"),
            message: "x".repeat(300),
            fix: "y".repeat(100),
        })
        .collect();
    v
}

#[test]
fn long_lists_fold_into_details() {
    let md = render(&many_findings(25));
    assert!(md.contains("<details><summary>15 more</summary>"), "{md}");
    assert!(md.contains("</details>"));
}

#[test]
fn oversized_report_drops_rows_with_a_note_and_fits() {
    let md = render(&many_findings(1000));
    assert!(md.len() <= MAX_LEN, "{}", md.len());
    assert!(md.contains("more not shown to fit the size limit"));
    assert!(md.starts_with("<!-- asc-publish:com.example.demo -->"));
    // The timeline survives row dropping.
    assert!(md.contains("```mermaid"));
}

#[test]
fn hard_limit_cuts_at_a_line_and_closes_the_fence() {
    let md = render_with_limit(&sample::view(), 300);
    assert!(md.len() <= 300, "{}", md.len());
    assert_eq!(md.matches("```").count() % 2, 0, "{md}");
    assert!(md.contains("Report truncated"));
}

#[test]
fn marker_is_safe_inside_an_html_comment() {
    assert_eq!(marker("com.a-b.c"), "<!-- asc-publish:com.a-b.c -->");
    assert_eq!(marker("x-->y"), "<!-- asc-publish:x-__y -->");
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration(999), "999 ms");
    assert_eq!(duration(1500), "1.5 s");
    assert_eq!(duration(61_000), "1m 01s");
}

#[test]
fn the_app_store_release_shows_its_states_and_what_app_review_would_miss() {
    let md = render(&sample::view());
    assert!(
        md.contains(
            "**App Store:** version 1.4.0 · `WAITING_FOR_REVIEW` · review submission `sub-1` `WAITING_FOR_REVIEW`\n"
        ),
        "{md}"
    );
    assert!(!md.contains("Missing for App Review"), "{md}");

    let mut refused = sample::view();
    if let Some(r) = refused.release.as_mut() {
        r.submission_id = None;
        r.version_state = Some("PREPARE_FOR_SUBMISSION".into());
        r.missing = vec![
            "en-US: screenshots".into(),
            "App Review contact: phone <b>@team</b>".into(),
        ];
    }
    let md = render(&refused);
    assert!(
        md.contains("**App Store:** version 1.4.0 · `PREPARE_FOR_SUBMISSION`\n"),
        "{md}"
    );
    assert!(md.contains("#### Missing for App Review\n"), "{md}");
    assert!(md.contains("| en-US: screenshots |"), "{md}");
    // A field's text is untrusted like every other cell: no HTML, no mention.
    assert!(!md.contains("<b>") && !md.contains(" @team"), "{md}");
}

#[test]
fn a_run_without_a_release_has_no_app_store_line() {
    let mut view = sample::view();
    view.release = None;
    assert!(!render(&view).contains("App Store:"));
}
