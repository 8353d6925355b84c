//! What to Test: per-locale betaBuildLocalizations, created or updated, capped at Apple's 4000
//! characters.

use reqwest::Method;

use crate::asc::AscClient;
use crate::asc::testflight::{BetaBuildLocalization, request};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::publish::distribution::{DistributionError, say};
use crate::publish::preflight::seg;

/// Apple's limit on `whatsNew`, in characters.
pub const MAX_CHARS: usize = 4000;

/// Cuts `text` to [`MAX_CHARS`] characters (never inside a character), ending in "…". Returns
/// whether it was cut.
pub fn truncate(text: &str) -> (String, bool) {
    if text.chars().count() <= MAX_CHARS {
        return (text.to_string(), false);
    }
    let mut t: String = text.chars().take(MAX_CHARS - 1).collect();
    t.push('…');
    (t, true)
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
    quiet: bool,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let url = client.url(
        &format!("/v1/builds/{}/betaBuildLocalizations", seg(build_id)),
        &[("limit", "200")],
    )?;
    let existing: Vec<BetaBuildLocalization> = client.get_all(url).await?;
    for (locale, text) in entries {
        let (text, cut) = truncate(text);
        if cut {
            outcome.warnings.push(format!(
                "What to Test for {locale} is longer than Apple's {MAX_CHARS} characters; it was truncated"
            ));
        }
        let found = existing.iter().find(|l| {
            l.attributes
                .as_ref()
                .and_then(|a| a.locale.as_deref())
                .is_some_and(|x| x.eq_ignore_ascii_case(locale))
        });
        match found {
            Some(l) => {
                let url = client.url(&format!("/v1/betaBuildLocalizations/{}", seg(&l.id)), &[])?;
                client
                    .mutate(
                        Method::PATCH,
                        url,
                        Some(&request::update_build_localization(&l.id, &text)),
                    )
                    .await?;
            }
            None => {
                let url = client.url("/v1/betaBuildLocalizations", &[])?;
                client
                    .mutate(
                        Method::POST,
                        url,
                        Some(&request::create_build_localization(build_id, locale, &text)),
                    )
                    .await?;
            }
        }
        say(
            quiet,
            &format!(
                "  What to Test ({locale}): {}",
                if found.is_some() { "updated" } else { "set" }
            ),
        );
        outcome.what_to_test.push(locale.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_a_character_boundary() {
        let (t, cut) = truncate("short");
        assert_eq!((t.as_str(), cut), ("short", false));
        let long = "é".repeat(MAX_CHARS + 10);
        let (t, cut) = truncate(&long);
        assert!(cut);
        assert_eq!(t.chars().count(), MAX_CHARS);
        assert!(t.ends_with('…'));
        let exact = "a".repeat(MAX_CHARS);
        assert!(!truncate(&exact).1);
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
