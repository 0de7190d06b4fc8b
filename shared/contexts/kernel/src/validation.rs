//! Field-level validation results, collected so a client sees every problem at once.

/// One rejected input field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Dotted path of the field in the request, e.g. `contact.email`.
    pub field: String,
    /// Stable machine code, e.g. `invalid_email`.
    pub code: &'static str,
    /// A sentence the user can act on.
    pub message: String,
}

/// The input was rejected; every violation found is listed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} invalid field(s)", .0.len())]
pub struct Invalid(pub Vec<Violation>);

/// Collects violations while a command is parsed field by field.
#[derive(Debug, Default)]
pub struct Collector {
    violations: Vec<Violation>,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.violations.push(Violation {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    /// Keeps the value if it parsed, records the violation (under `field`) if not.
    pub fn check<T>(
        &mut self,
        field: &str,
        result: Result<T, (&'static str, String)>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err((code, message)) => {
                self.push(field, code, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Ok(value)` when nothing was recorded. `value` is only called then.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Invalid> {
        if self.violations.is_empty() {
            Ok(value())
        } else {
            Err(Invalid(self.violations))
        }
    }
}

/// `#[serde(default, deserialize_with = "whole_number")]` for an optional count: a whole JSON
/// number as JSON Schema's `integer` counts one, so `3` and `3.0` alike (a client's JSON
/// library may write either). `3.5`, strings and numbers past ±2^53 are refused.
pub fn whole_number<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok(Some(n))
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            i64::try_from(n)
                .map(Some)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every whole number below is exact
            if n.fract() == 0.0 && n.abs() < EXACT {
                Ok(Some(n as i64))
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

#[cfg(test)]
mod whole_number_tests {
    #[derive(serde::Deserialize)]
    struct Counted {
        #[serde(default, deserialize_with = "super::whole_number")]
        n: Option<i64>,
    }

    fn n(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Counted>(json)
            .map(|c| c.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_either_notation_are_read() {
        assert_eq!(n(r#"{"n": 3}"#), Ok(Some(3)));
        assert_eq!(n(r#"{"n": 3.0}"#), Ok(Some(3)));
        assert_eq!(n(r#"{"n": -2}"#), Ok(Some(-2)));
        assert_eq!(n(r#"{"n": 1e3}"#), Ok(Some(1000)));
        assert_eq!(n(r#"{"n": null}"#), Ok(None));
        assert_eq!(n(r#"{}"#), Ok(None));
    }

    #[test]
    fn fractions_strings_and_huge_numbers_are_refused() {
        for json in [
            r#"{"n": 3.5}"#,
            r#"{"n": "3"}"#,
            r#"{"n": 1e300}"#,
            r#"{"n": 18446744073709551615}"#,
        ] {
            assert!(n(json).is_err(), "{json}");
        }
    }
}
