//! Clients for the verification providers. Each maps the provider's answers to what the
//! orchestration needs to decide: done, retry later (unavailable, rate limited), or give the
//! case to a person (the provider refused it).

use std::time::Duration;

pub mod licenses;
pub mod plaid;

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

/// The insurance verifier (TrustLayer-style API): documents are submitted by URL with our
/// id as `externalId`; the verdict comes back by signed webhook (`document.processed`).
#[derive(Clone, Debug)]
pub struct InsuranceVerifier {
    pub http: reqwest::Client,
    pub base_url: String,
    pub api_token: String,
}

impl InsuranceVerifier {
    /// Submits a certificate for verification; the provider deduplicates by `externalId`,
    /// so a retried submission is harmless. Returns the provider's document id.
    pub async fn submit(
        &self,
        external_id: &str,
        document_url: &str,
        party_name: &str,
    ) -> Result<String, ProviderError> {
        let resp = self
            .http
            .post(format!(
                "{}/v2/documents",
                self.base_url.trim_end_matches('/')
            ))
            .bearer_auth(&self.api_token)
            .timeout(Duration::from_secs(10))
            .json(&serde_json::json!({
                "externalId": external_id,
                "documentUrl": document_url,
                "documentType": "certificate_of_insurance",
                "party": {"name": party_name},
            }))
            .send()
            .await;
        let Answer { status, body } = read(resp).await?;
        let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        match status {
            200..=299 => body["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| ProviderError::Unavailable("answer without an id".into())),
            _ => Err(ProviderError::Refused(format!(
                "HTTP {status}: {}",
                body["message"].as_str().unwrap_or("no message")
            ))),
        }
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
