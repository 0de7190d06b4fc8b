//! Clients for the verification providers. Each maps the provider's answers to what the
//! orchestration needs to decide: done, retry later (unavailable, rate limited), or give the
//! case to a person (the provider refused it).

use std::time::Duration;

pub mod licenses;
pub mod plaid;
pub mod sendgrid;
pub mod ses;
pub mod trustlayer;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProviderError {
    /// 5xx, timeouts, connection failures: retry, and count towards the circuit breaker.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    #[error("rate limited; retry after {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// 4xx other than 429: retrying will not help.
    #[error("provider refused the request: {0}")]
    Refused(String),
}

/// A credential that cannot be read (Secrets Manager unreachable, or the secret lacks a
/// field) fails the call as the provider being unavailable: it is retried and counts
/// towards the breaker, and the alarms on both say so.
impl From<platform::secrets::SecretError> for ProviderError {
    fn from(err: platform::secrets::SecretError) -> Self {
        ProviderError::Unavailable(err.to_string())
    }
}

impl ProviderError {
    /// How long the provider asked us to wait before trying again (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited {
                retry_after_seconds,
            } => Some(Duration::from_secs(*retry_after_seconds)),
            _ => None,
        }
    }
}

impl domain::verifying::ProviderFailure for ProviderError {
    fn is_refusal(&self) -> bool {
        matches!(self, ProviderError::Refused(_))
    }
    fn retry_after(&self) -> Option<Duration> {
        ProviderError::retry_after(self)
    }
}

/// A provider's answer that is neither throttled nor failing.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// The one reading of a provider's HTTP answer: transport errors and 5xx are `Unavailable`
/// (retry; they count towards the breaker), 429 is `RateLimited` with its `Retry-After`
/// (seconds; 60 when absent), anything else is the caller's to interpret.
pub(crate) async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Answer, ProviderError> {
    let resp = sent.map_err(|e| ProviderError::Unavailable(e.to_string()))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(60);
    match status {
        429 => Err(ProviderError::RateLimited {
            retry_after_seconds: retry_after,
        }),
        500..=599 => Err(ProviderError::Unavailable(format!("HTTP {status}"))),
        _ => Ok(Answer {
            status,
            body: resp
                .text()
                .await
                .map_err(|e| ProviderError::Unavailable(e.to_string()))?,
        }),
    }
}
