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
