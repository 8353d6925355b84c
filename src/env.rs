//! The one environment abstraction: every reader of environment variables (credentials, the CI
//! detection and reporters, the endpoint warnings) takes an [`Env`], built from the process once
//! at the edge and from pairs in tests, so no test mutates the process environment.

use std::collections::BTreeMap;
use std::fmt;

/// Environment variables, values kept out of `Debug` (keys and tokens live here).
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// Names only: any value may be a key or a token.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field(
                "vars",
                &self.vars.keys().map(|k| (k, "[redacted]")).collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

impl Env {
    /// No variables at all.
    pub fn new() -> Self {
        Env::default()
    }

    /// The process environment (variables that are not UTF-8 are skipped).
    pub fn from_process() -> Self {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut env = Env::default();
        for (k, v) in pairs {
            env.set(k, v);
        }
        env
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_string(), value.into());
    }

    /// A non-empty value (CI systems often export unset secrets as empty strings).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` with a non-empty value, and its name.
    pub(crate) fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }
}

impl FromIterator<(String, String)> for Env {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut env = Env::default();
        for (k, v) in iter {
            env.set(&k, v);
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset_and_values_stay_out_of_debug() {
        let env: Env = [
            ("A".to_string(), " ".to_string()),
            ("B".to_string(), "secret-value".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("secret-value"));
        assert_eq!(env.first(&["A", "B"]), Some(("B", "secret-value")));
        assert!(!format!("{env:?}").contains("secret-value"));
    }
}
