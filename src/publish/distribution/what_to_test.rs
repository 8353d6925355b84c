//! What to Test: per-locale betaBuildLocalizations, created or updated. The text is made fit for
//! Apple first: emoji removed and the length capped at 4000 UTF-8 bytes, each with a warning
//! (what fastlane does after field reports).

use crate::asc::{AscClient, beta_testing};
use crate::error::Error;
use crate::publish::distribution::{Distributed, DistributionError};
use crate::publish::events::Events;

/// Apple's limit on `whatsNew`, in UTF-8 bytes.
pub const MAX_BYTES: usize = 4000;

/// Cuts `text` to at most [`MAX_BYTES`] bytes (never inside a character), ending in "…". Returns
/// whether it was cut.
pub fn truncate(text: &str) -> (String, bool) {
    if text.len() <= MAX_BYTES {
        return (text.to_string(), false);
    }
    let budget = MAX_BYTES - '…'.len_utf8();
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut t = text[..end].to_string();
    t.push('…');
    (t, true)
}

/// Removes emoji: pictographs, flags, keycaps and whole emoji sequences (skin tones, ZWJ
/// joins, tags, presentation selectors), and text symbols only when asked to show as emoji
/// (followed by U+FE0F), so "©" stays and "©️" goes. Returns whether anything was removed.
pub fn strip_emoji(text: &str) -> (String, bool) {
    const VS16: char = '\u{FE0F}';
    const KEYCAP: char = '\u{20E3}';
    const ZWJ: char = '\u{200D}';
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut removed = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let keycap = matches!(c, '0'..='9' | '#' | '*')
            && (next == Some(KEYCAP) || (next == Some(VS16) && chars.get(i + 2) == Some(&KEYCAP)));
        if !(keycap || emoji_presentation(c) || (text_symbol(c) && next == Some(VS16))) {
            out.push(c);
            i += 1;
            continue;
        }
        removed = true;
        i += 1;
        while let Some(&m) = chars.get(i) {
            match m {
                VS16 | KEYCAP | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}' => i += 1,
                ZWJ => {
                    i += 1;
                    if chars.get(i).is_some_and(|&j| emoji_presentation(j) || text_symbol(j)) {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
    }
    (out, removed)
}

/// Characters shown as emoji by default: the pictograph planes (emoticons, transport, flags,
/// supplemental symbols) and the few older symbols Unicode gives emoji presentation.
fn emoji_presentation(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF
        | 0x231A | 0x231B | 0x23E9..=0x23EC | 0x23F0 | 0x23F3 | 0x25FD | 0x25FE
        | 0x2614 | 0x2615 | 0x2648..=0x2653 | 0x267F | 0x2693 | 0x26A1 | 0x26AA | 0x26AB
        | 0x26BD | 0x26BE | 0x26C4 | 0x26C5 | 0x26CE | 0x26D4 | 0x26EA | 0x26F2 | 0x26F3
        | 0x26F5 | 0x26FA | 0x26FD | 0x2705 | 0x270A | 0x270B | 0x2728 | 0x274C | 0x274E
        | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF | 0x2B1B | 0x2B1C
        | 0x2B50 | 0x2B55)
}

/// Symbols that are text by default and emoji only with U+FE0F after them (❤️, ☀️, ©️, ↗️).
fn text_symbol(c: char) -> bool {
    matches!(u32::from(c),
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA | 0x2300..=0x23FF
        | 0x25AA..=0x25FE | 0x2600..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55 | 0x3030
        | 0x303D | 0x3297 | 0x3299)
}

/// The text as Apple takes it, with a warning for each change.
pub fn fit(locale: &str, text: &str, warnings: &mut Vec<String>) -> String {
    let (text, stripped) = strip_emoji(text);
    if stripped {
        warnings.push(format!(
            "What to Test for {locale}: emoji were removed (App Store Connect has been seen refusing them)"
        ));
    }
    let (text, cut) = truncate(&text);
    if cut {
        warnings.push(format!(
            "What to Test for {locale} is longer than Apple's {MAX_BYTES} bytes (UTF-8); it was truncated"
        ));
    }
    text
}

/// `{"en-US": "...", "de-DE": "..."}` into (locale, text) pairs, in the file's order.
pub fn parse_json(text: &str) -> Result<Vec<(String, String)>, DistributionError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| DistributionError::WhatToTest(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| DistributionError::WhatToTest("expected a JSON object of locale → text".into()))?;
    let mut out = Vec::new();
    for (locale, text) in obj {
        let text = text
            .as_str()
            .ok_or_else(|| DistributionError::WhatToTest(format!("the value for '{locale}' is not a string")))?;
        if locale.trim().is_empty() {
            return Err(DistributionError::WhatToTest("an empty locale".into()));
        }
        out.push((locale.trim().to_string(), text.to_string()));
    }
    if out.is_empty() {
        return Err(DistributionError::WhatToTest("the object is empty".into()));
    }
    Ok(out)
}

/// PATCHes the build's localization for each locale that has one, POSTs the others.
pub async fn upsert(
    client: &AscClient,
    build_id: &str,
    entries: &[(String, String)],
    events: &Events,
    done: &mut Distributed,
) -> Result<(), Error> {
    let existing = beta_testing::what_to_test_of(client, build_id).await?;
    for (locale, text) in entries {
        let text = fit(locale, text, &mut done.warnings);
        let found = existing
            .iter()
            .find(|l| l.locale.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(locale)));
        match found {
            Some(l) => beta_testing::update_what_to_test(client, &l.id, &text).await?,
            None => beta_testing::create_what_to_test(client, build_id, locale, &text).await?,
        }
        events.step(format!(
            "  What to Test ({locale}): {}",
            if found.is_some() { "updated" } else { "set" }
        ));
        done.what_to_test.push(locale.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_bytes_at_a_character_boundary() {
        let (t, cut) = truncate("short");
        assert_eq!((t.as_str(), cut), ("short", false));
        // 2500 characters, 5000 bytes: under a character count, over Apple's byte limit.
        let long = "é".repeat(2500);
        let (t, cut) = truncate(&long);
        assert!(cut);
        assert!(t.len() <= MAX_BYTES, "{} bytes", t.len());
        assert!(t.len() > MAX_BYTES - 4);
        assert!(t.ends_with('…'));
        assert!(t.trim_end_matches('…').chars().all(|c| c == 'é'));
        // Odd budget: a 3-byte character straddling the cut is dropped whole.
        let (t, _) = truncate(&format!("a{}", "€".repeat(2000)));
        assert!(t.len() <= MAX_BYTES && t.ends_with('…'));
        let exact = "a".repeat(MAX_BYTES);
        assert!(!truncate(&exact).1);
        assert!(truncate(&"a".repeat(MAX_BYTES + 1)).1);
    }

    #[test]
    fn strips_emoji_sequences_and_keeps_text_symbols() {
        let cases = [
            ("Fixed 🐛 crash", "Fixed  crash"),
            ("Thanks 👍🏽!", "Thanks !"),
            ("Team 👩‍💻‍ rocks", "Team  rocks"),
            ("Family 👨‍👩‍👧", "Family "),
            ("Flag 🇩🇪 done", "Flag  done"),
            ("Press 1️⃣ then #⃣", "Press  then "),
            ("Love ❤️ it", "Love  it"),
            ("Sunny ☀️", "Sunny "),
            ("Done ✅", "Done "),
            (
                "Scotland 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}!",
                "Scotland !",
            ),
        ];
        for (input, want) in cases {
            let (got, removed) = strip_emoji(input);
            assert_eq!(got, want, "{input:?}");
            assert!(removed, "{input:?}");
        }
        for plain in [
            "© 2026 ACME™",
            "Steps: 1) open 2) tap → done",
            "Grüße, 日本語, ✓ ok",
            "a ❤ b",
        ] {
            assert_eq!(strip_emoji(plain), (plain.to_string(), false), "{plain:?}");
        }
    }

    #[test]
    fn fit_warns_for_each_change() {
        let mut w = Vec::new();
        assert_eq!(fit("en-US", "plain", &mut w), "plain");
        assert!(w.is_empty());
        let t = fit("de-DE", &format!("🚀{}", "ü".repeat(2100)), &mut w);
        assert!(t.len() <= MAX_BYTES);
        assert!(!t.contains('🚀'));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("emoji") && w[1].contains("4000 bytes"), "{w:?}");
    }

    #[test]
    fn parses_per_locale_json() {
        let v = parse_json(r#"{"en-US": "a", "de-DE": "b"}"#).unwrap();
        assert_eq!(v.len(), 2);
        assert!(parse_json("[]").is_err());
        assert!(parse_json(r#"{"en-US": 3}"#).is_err());
        assert!(parse_json("{}").is_err());
    }
}
