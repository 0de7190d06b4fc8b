//! Typed configuration from environment variables (12-factor).
//!
//! In Lambda the variables come from the process environment. The local runner calls many
//! functions in one process, each with its own variables from `template.yaml`, so it hands
//! each function an [`Env::from_map`]. Functions never read `std::env` directly.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;

/// Where a function's configuration comes from.
#[derive(Clone, Debug)]
pub enum Env {
    /// The process environment (Lambda, or a binary run by hand).
    Process,
    /// An explicit set of variables (the local runner, tests).
    Map(Arc<HashMap<String, String>>),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(String),
    #[error("environment variable {key} is invalid: {reason}")]
    Invalid { key: String, reason: String },
}

impl Env {
    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Env::Map(Arc::new(vars))
    }

    /// The value of `key`, treating an empty value as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        let value = match self {
            Env::Process => std::env::var(key).ok(),
            Env::Map(vars) => vars.get(key).cloned(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::Missing(key.to_owned()))
    }

    /// Parses `key` if set, else returns `default`.
    pub fn parse_or<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    key: key.to_owned(),
                    reason: e.to_string(),
                }),
        }
    }

    /// A comma-separated list; empty when unset.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|raw| {
                raw.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn required_reports_the_missing_key() {
        let e = env(&[("EMPTY", "  ")]);
        assert_eq!(
            e.required("TABLE_NAME"),
            Err(ConfigError::Missing("TABLE_NAME".into()))
        );
        assert_eq!(
            e.required("EMPTY"),
            Err(ConfigError::Missing("EMPTY".into()))
        );
    }

    #[test]
    fn parse_or_uses_default_and_reports_bad_values() {
        let e = env(&[("N", "12"), ("BAD", "twelve")]);
        assert_eq!(e.parse_or("N", 5u32).unwrap(), 12);
        assert_eq!(e.parse_or("UNSET", 5u32).unwrap(), 5);
        let err = e.parse_or("BAD", 5u32).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { ref key, .. } if key == "BAD"));
    }

    #[test]
    fn list_splits_and_trims() {
        let e = env(&[("L", " a, b ,,c ")]);
        assert_eq!(e.list("L"), vec!["a", "b", "c"]);
        assert!(e.list("NONE").is_empty());
    }
}
