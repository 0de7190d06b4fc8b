//! The one error story at the HTTP edge: a handler fails with [`Error`], whose variants
//! are the domain's and the providers' errors (`#[from]`, so `?` works on each), and
//! [`ApiError::from`] decides what the client sees. The runtime glue (`platform`) knows only
//! [`ApiError`]; the domain knows no HTTP. Model: realworld-axum-sqlx's `http/error.rs`.

use domain::documents::{DocumentsError, IntentError};
use domain::onboarding::OnboardingError;
use domain::ports::RepoError;
use domain::verification::ClaimError;
use domain::verifying::ClaimFailure;
use platform::{ApiError, ConfigError, FieldError};
use providers::ProviderError;

/// Every way an API handler can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Already an HTTP answer (bad input at the edge, a missing header, …).
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Invalid(#[from] domain::Invalid),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Onboarding(#[from] OnboardingError),
    #[error(transparent)]
    Documents(#[from] DocumentsError),
    #[error(transparent)]
    Claim(#[from] ClaimError),
    #[error(transparent)]
    ClaimFailure(#[from] ClaimFailure),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        match err {
            Error::Api(e) => e,
            Error::Invalid(e) => invalid(e),
            Error::Repo(e) => repo(e),
            Error::Onboarding(e) => onboarding(e),
            Error::Documents(e) => documents(e),
            Error::Claim(e) => claim(e),
            Error::ClaimFailure(e) => claim_failure(e),
            Error::Provider(e) => provider(e),
            Error::Config(e) => ApiError::internal(e),
        }
    }
}

fn invalid(invalid: domain::Invalid) -> ApiError {
    ApiError::Validation(
        invalid
            .0
            .into_iter()
            .map(|v| FieldError::new(v.field, v.code, v.message))
            .collect(),
    )
}

fn repo(err: RepoError) -> ApiError {
    match err {
        RepoError::OwnerAlreadyRegistered { existing } => ApiError::Conflict {
            code: "contractor_already_registered",
            detail: format!(
                "This login already owns contractor {existing}; use GET /v1/contractors/me."
            ),
        },
        RepoError::VersionConflict => ApiError::PreconditionFailed(
            "The contractor changed since you read it; fetch it again and retry.".into(),
        ),
        RepoError::Store(cause) => ApiError::Internal(cause),
    }
}

fn onboarding(err: OnboardingError) -> ApiError {
    use OnboardingError as E;
    match err {
        E::NotFound => ApiError::NotFound("contractor"),
        E::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
        E::Invalid(e) => invalid(e),
        E::StaleVersion { current } => ApiError::PreconditionFailed(format!(
            "If-Match does not match: the contractor is at version {current} (ETag \"{current}\"). Fetch it again and retry."
        )),
        E::IllegalTransition(t) => ApiError::Conflict {
            code: "illegal_transition",
            detail: t.to_string(),
        },
        E::Conflict { code, detail } => ApiError::Conflict { code, detail },
        E::Repo(e) => repo(e),
        E::Crypto(e) => ApiError::internal(e),
        E::ErasureRefused(refusal) => erasure_refused(refusal),
    }
}

fn erasure_refused(refusal: domain::privacy::ErasureRefusal) -> ApiError {
    use domain::privacy::{ERASURE_LOGIN_MAX_AGE_SECONDS, ErasureRefusal as R};
    match refusal {
        R::SignInTooOld => ApiError::StepUpRequired {
            max_age_seconds: ERASURE_LOGIN_MAX_AGE_SECONDS as u64,
        },
        R::ReasonRequired => ApiError::Validation(vec![FieldError::new(
            "reason",
            "required",
            "Say why this account is erased, in at most 1000 characters; it is kept with the request.",
        )]),
        R::AccountActive => ApiError::Conflict {
            code: "account_active",
            detail: "Your account is approved and may have work in progress on the marketplace. Contact support: they close your work and then erase your data.".into(),
        },
    }
}

fn documents(err: DocumentsError) -> ApiError {
    use DocumentsError as E;
    match err {
        E::Intent(IntentError::Invalid(e)) => invalid(e),
        E::Intent(IntentError::TooLarge { kind, limit }) => ApiError::FileTooLarge {
            detail: format!(
                "A {kind} file must be at most {} MB.",
                limit / (1024 * 1024)
            ),
        },
        E::Intent(IntentError::UnsupportedType { kind, allowed }) => {
            ApiError::UnsupportedMediaTypeOf {
                detail: format!("A {kind} must be one of: {allowed}."),
            }
        }
        E::Onboarding(e) => onboarding(e),
        E::NotFound => ApiError::NotFound("document"),
        E::Repo(e) => repo(e),
        E::Signer(e) => ApiError::internal(e),
    }
}

/// A review claim refused, as the reviewer's client sees it.
fn claim(e: ClaimError) -> ApiError {
    match e {
        ClaimError::NotInReview => ApiError::Conflict {
            code: "not_in_review",
            detail: "The requirement is not waiting for a reviewer.".into(),
        },
        ClaimError::ClaimedByOther { reviewer, until } => ApiError::Conflict {
            code: "claimed_by_other",
            detail: format!(
                "Reviewer {reviewer} is working on this item until {}.",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        },
    }
}

/// A refused claim, as the reviewer's client sees it.
fn claim_failure(e: ClaimFailure) -> ApiError {
    match e {
        ClaimFailure::NotFound => ApiError::NotFound("requirement"),
        ClaimFailure::Refused(refused) => claim(refused),
        ClaimFailure::ChangedMeanwhile => ApiError::Conflict {
            code: "changed_meanwhile",
            detail: "The item changed while you claimed it; reload it.".into(),
        },
        ClaimFailure::Repo(e) => repo(e),
    }
}

/// A provider's failure, as an API client sees it: unavailable → 503, throttled → 429
/// with `Retry-After`, refused → 422 with the provider's code.
fn provider(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Unavailable(why) => {
            tracing::warn!(error = %why, "provider unavailable");
            ApiError::Unavailable(
                "The bank verification provider is unavailable; try again shortly.".into(),
            )
        }
        ProviderError::RateLimited {
            retry_after_seconds,
        } => ApiError::TooManyRequests {
            retry_after_seconds,
        },
        ProviderError::Refused(why) => ApiError::Unprocessable {
            code: "provider_refused",
            detail: why,
        },
    }
}
