//! Endpoint warnings (decided and worded in [`crate::publish::endpoint_warnings`]) as this CI
//! system shows them: on GitHub Actions as an annotation, elsewhere as a `warning:` line on stderr.

use super::{CiContext, EnvMap, detect};

/// The lines to print for `warnings` in this CI system.
pub fn warning_lines(env: &EnvMap, warnings: &[String]) -> String {
    let github = matches!(detect(env), CiContext::GitHub(_));
    let mut out = String::new();
    for w in warnings {
        if github {
            out.push_str("::warning title=asc-publish endpoint::");
            out.push_str(&super::github::escape_data(w));
        } else {
            out.push_str("warning: ");
            out.push_str(w);
        }
        out.push('\n');
    }
    out
}

/// Prints `warnings` on stderr (see [`warning_lines`]), for the CI system `env` is on.
pub fn print_warnings_in(env: &EnvMap, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    crate::output::eprint_redacted(&warning_lines(env, warnings));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_annotations_on_github_and_lines_elsewhere() {
        let gh: EnvMap = [("GITHUB_ACTIONS".to_string(), "true".to_string())]
            .into_iter()
            .collect();
        let w = vec!["sends it to x".to_string()];
        assert_eq!(
            warning_lines(&gh, &w),
            "::warning title=asc-publish endpoint::sends it to x\n"
        );
        assert_eq!(warning_lines(&EnvMap::new(), &w), "warning: sends it to x\n");
    }
}
