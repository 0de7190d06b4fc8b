//! RFC 9457 problem details: the one error shape every endpoint answers.
//!
//! Handlers return [`ApiError`]; [`ApiError::into_problem`] decides what the client sees.
//! An internal error is logged with its cause and answered with a generic 500: causes never
//! leave the service.

use serde::{Deserialize, Serialize};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid input field: where it is, a stable machine code, and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON pointer-ish dotted path, e.g. `contact.email` or `service_area.states[2]`.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The RFC 9457 document, with two extension members: `code` (stable, machine-readable) and
/// `errors` (field errors for validation problems).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: u16, code: &str, title: &str) -> Self {
        Problem {
            type_uri: format!("/problems/{}", code.replace('_', "-")),
            title: title.to_owned(),
            status,
            detail: None,
            instance: None,
            code: code.to_owned(),
            errors: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Every way a request can fail, as the HTTP edge sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    /// Signed in, but too long ago for what is asked (RFC 9470 step-up): sign in again,
    /// then retry within `max_age_seconds`.
    #[error("a more recent sign-in is required")]
    StepUpRequired { max_age_seconds: u64 },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The path exists, the method does not: `allow` lists the methods it takes (the
    /// `Allow` header, RFC 9110 §15.5.6).
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// It existed and is gone for good (an expired export).
    #[error("gone: {0}")]
    Gone(String),
    /// A state conflict: duplicate, illegal transition, in-flight duplicate request.
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("precondition required: {0}")]
    PreconditionRequired(String),
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type; expected {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// A declared file larger than the endpoint accepts (the request itself was small).
    #[error("file too large: {detail}")]
    FileTooLarge { detail: String },
    /// A declared file type the endpoint does not accept (the body itself was fine).
    #[error("unsupported media type: {detail}")]
    UnsupportedMediaTypeOf { detail: String },
    #[error("unprocessable: {detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(err.into())
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Validation(_) => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized | ApiError::StepUpRequired { .. } => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Gone(_) => 410,
            ApiError::Conflict { .. } => 409,
            ApiError::PreconditionFailed(_) => 412,
            ApiError::PreconditionRequired(_) => 428,
            ApiError::PayloadTooLarge { .. } | ApiError::FileTooLarge { .. } => 413,
            ApiError::UnsupportedMediaType { .. } | ApiError::UnsupportedMediaTypeOf { .. } => 415,
            ApiError::Unprocessable { .. } => 422,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    /// The client's view of this error. Internal causes are logged here, once, and dropped.
    pub fn into_problem(self) -> Problem {
        let status = self.status();
        match self {
            ApiError::Validation(errors) => Problem {
                errors,
                ..Problem::new(
                    status,
                    "validation_failed",
                    "The request has invalid fields",
                )
                .with_detail("Fix the fields listed in errors and try again.")
            },
            ApiError::BadRequest(detail) => {
                Problem::new(status, "malformed_request", "The request could not be read")
                    .with_detail(detail)
            }
            ApiError::Unauthorized => {
                Problem::new(status, "unauthorized", "Authentication required")
            }
            ApiError::StepUpRequired { max_age_seconds } => Problem::new(
                status,
                "insufficient_user_authentication",
                "A more recent sign-in is required",
            )
            .with_detail(format!(
                "Sign in again, then retry within {} minutes.",
                max_age_seconds.div_ceil(60)
            )),
            ApiError::Forbidden(detail) => {
                Problem::new(status, "forbidden", "Not allowed").with_detail(detail)
            }
            ApiError::NotFound(what) => Problem::new(status, "not_found", "Not found")
                .with_detail(format!("No such {what}.")),
            ApiError::MethodNotAllowed { allow } => {
                Problem::new(status, "method_not_allowed", "Method not allowed")
                    .with_detail(format!("This path takes {allow}."))
            }
            ApiError::Gone(detail) => Problem::new(status, "gone", "Gone").with_detail(detail),
            ApiError::Conflict { code, detail } => {
                Problem::new(status, code, "Conflict").with_detail(detail)
            }
            ApiError::PreconditionFailed(detail) => {
                Problem::new(status, "precondition_failed", "Precondition failed")
                    .with_detail(detail)
            }
            ApiError::PreconditionRequired(detail) => {
                Problem::new(status, "precondition_required", "Precondition required")
                    .with_detail(detail)
            }
            ApiError::PayloadTooLarge { limit } => {
                Problem::new(status, "payload_too_large", "Payload too large")
                    .with_detail(format!("The body must be at most {limit} bytes."))
            }
            ApiError::UnsupportedMediaType { expected } => {
                Problem::new(status, "unsupported_media_type", "Unsupported media type")
                    .with_detail(format!("Send the body as {expected}."))
            }
            ApiError::FileTooLarge { detail } => {
                Problem::new(status, "file_too_large", "File too large").with_detail(detail)
            }
            ApiError::UnsupportedMediaTypeOf { detail } => {
                Problem::new(status, "unsupported_file_type", "Unsupported file type")
                    .with_detail(detail)
            }
            ApiError::Unprocessable { code, detail } => {
                Problem::new(status, code, "The request cannot be processed").with_detail(detail)
            }
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => Problem::new(status, "too_many_requests", "Too many requests")
                .with_detail(format!("Retry after {retry_after_seconds} seconds.")),
            ApiError::Unavailable(detail) => {
                Problem::new(status, "unavailable", "Service unavailable").with_detail(detail)
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "internal error");
                Problem::new(status, "internal_error", "Internal server error").with_detail(
                    "Something went wrong on our side. It has been logged; please retry.",
                )
            }
        }
    }
}

impl From<crate::env::ConfigError> for ApiError {
    fn from(err: crate::env::ConfigError) -> Self {
        ApiError::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_lists_field_errors() {
        let p = ApiError::Validation(vec![FieldError::new(
            "contact.email",
            "invalid_email",
            "Enter a valid email address.",
        )])
        .into_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.type_uri, "/problems/validation-failed");
        assert_eq!(p.errors[0].field, "contact.email");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "/problems/validation-failed");
        assert_eq!(json["errors"][0]["code"], "invalid_email");
    }

    #[test]
    fn internal_errors_never_leak_their_cause() {
        let p = ApiError::internal("dynamodb: table OnboardingTable credentials AKIA123")
            .into_problem();
        assert_eq!(p.status, 500);
        let body = serde_json::to_string(&p).unwrap();
        assert!(!body.contains("dynamodb"));
        assert!(!body.contains("AKIA"));
    }

    #[test]
    fn every_variant_maps_to_its_status() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::BadRequest("x".into()), 400),
            (ApiError::Unauthorized, 401),
            (
                ApiError::StepUpRequired {
                    max_age_seconds: 300,
                },
                401,
            ),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::Gone("x".into()), 410),
            (ApiError::NotFound("contractor"), 404),
            (
                ApiError::Conflict {
                    code: "already_registered",
                    detail: "x".into(),
                },
                409,
            ),
            (ApiError::PreconditionFailed("x".into()), 412),
            (ApiError::PayloadTooLarge { limit: 10 }, 413),
            (
                ApiError::UnsupportedMediaType {
                    expected: "application/json",
                },
                415,
            ),
            (
                ApiError::TooManyRequests {
                    retry_after_seconds: 3,
                },
                429,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.into_problem().status, status);
        }
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn any_error() -> impl Strategy<Value = ApiError> {
        let text = "\\PC{0,200}";
        prop_oneof![
            text.prop_map(ApiError::BadRequest),
            text.prop_map(ApiError::Forbidden),
            text.prop_map(ApiError::Gone),
            text.prop_map(ApiError::PreconditionFailed),
            text.prop_map(ApiError::PreconditionRequired),
            text.prop_map(ApiError::Unavailable),
            text.prop_map(|t| ApiError::Internal(t.into())),
            text.prop_map(|detail| ApiError::Conflict {
                code: "conflict",
                detail
            }),
            text.prop_map(|detail| ApiError::FileTooLarge { detail }),
            text.prop_map(|detail| ApiError::UnsupportedMediaTypeOf { detail }),
            (text, text, text)
                .prop_map(|(f, c, m)| ApiError::Validation(vec![FieldError::new(f, c, m)])),
            any::<usize>().prop_map(|limit| ApiError::PayloadTooLarge { limit }),
            any::<u64>().prop_map(|s| ApiError::TooManyRequests {
                retry_after_seconds: s
            }),
            any::<u64>().prop_map(|s| ApiError::StepUpRequired { max_age_seconds: s }),
            Just(()).prop_map(|_| ApiError::Unauthorized),
            text.prop_map(|allow| ApiError::MethodNotAllowed { allow }),
            Just(()).prop_map(|_| ApiError::NotFound("contractor")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// Every error becomes a problem document: a 4xx/5xx status equal to the error's,
        /// a type that names its code, valid JSON, and never an internal cause.
        #[test]
        fn every_error_maps_to_a_well_formed_problem(err in any_error()) {
            let status = err.status();
            let internal = match &err {
                ApiError::Internal(cause) => Some(cause.to_string()),
                _ => None,
            };
            let problem = err.into_problem();
            prop_assert!((400..=599).contains(&problem.status));
            prop_assert_eq!(problem.status, status);
            prop_assert!(problem.type_uri.starts_with("/problems/"));
            prop_assert_eq!(problem.type_uri.trim_start_matches("/problems/"), problem.code.replace('_', "-"));
            let json = serde_json::to_string(&problem).unwrap();
            let back: serde_json::Value = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back["status"].as_u64(), Some(u64::from(status)));
            if let Some(cause) = internal.filter(|c| c.len() > 3) {
                prop_assert!(!json.contains(&cause), "the cause leaked");
            }
        }
    }
}
