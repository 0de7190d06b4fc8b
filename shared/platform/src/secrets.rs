//! Provider credentials from Secrets Manager, read when first needed rather than at cold
//! start, and kept for a while.
//!
//! A cold start pays for nothing it may not use: a function that never calls the provider in
//! an invocation never reads its secret, and one that does reads it once, then again after
//! [`DEFAULT_TTL`] so a rotated credential is picked up without a redeploy (the same
//! five minutes as AWS's Parameters and Secrets Lambda extension). Concurrent first uses wait
//! for one read. When a refresh fails, the value already held keeps serving (a credential
//! does not stop being valid because Secrets Manager was briefly unreachable) and the next
//! try waits [`RETRY_AFTER`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::BoxError;
use crate::aws::Aws;
use crate::env::Env;

pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret {id} could not be read: {cause}")]
    Unavailable { id: String, cause: String },
    #[error("the secret {id} has no {field}")]
    MissingField { id: String, field: String },
}

enum Source {
    SecretsManager {
        client: aws_sdk_secretsmanager::Client,
        id: String,
    },
    Fixed(Value),
    /// Answers in turn, for the tests of refresh and failure.
    #[cfg(test)]
    Scripted(std::sync::Mutex<std::collections::VecDeque<Result<Value, String>>>),
}

struct Held {
    value: Arc<Value>,
    refresh_at: Instant,
}

/// One JSON secret (`{"api_key": "…"}`), read lazily and cached for a TTL.
pub struct Secret {
    source: Source,
    ttl: Duration,
    held: Mutex<Option<Held>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the value.
        f.debug_struct("Secret").field("id", &self.id()).finish()
    }
}

impl Secret {
    /// The secret whose ARN is in `arn_var`; nothing is read yet. `SECRETS_TTL_SECONDS`
    /// overrides the TTL.
    pub fn from_env(env: &Env, aws: &Aws, arn_var: &str) -> Result<Secret, BoxError> {
        let ttl = Duration::from_secs(env.parse_or("SECRETS_TTL_SECONDS", DEFAULT_TTL.as_secs())?);
        Ok(Secret {
            source: Source::SecretsManager {
                client: aws.secrets(),
                id: env.required(arn_var)?,
            },
            ttl,
            held: Mutex::new(None),
        })
    }

    /// A secret with a known value (tests, tools).
    pub fn fixed(value: Value) -> Secret {
        Secret {
            source: Source::Fixed(value),
            ttl: DEFAULT_TTL,
            held: Mutex::new(None),
        }
    }

    fn id(&self) -> &str {
        match &self.source {
            Source::SecretsManager { id, .. } => id,
            Source::Fixed(_) => "(fixed)",
            #[cfg(test)]
            Source::Scripted(_) => "(scripted)",
        }
    }

    async fn read(&self) -> Result<Value, String> {
        match &self.source {
            Source::Fixed(value) => Ok(value.clone()),
            #[cfg(test)]
            Source::Scripted(answers) => answers
                .lock()
                .expect("not poisoned")
                .pop_front()
                .expect("a scripted answer"),
            Source::SecretsManager { client, id } => {
                let out = client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()
                    })?;
                serde_json::from_str(out.secret_string().unwrap_or("{}"))
                    .map_err(|e| format!("not a JSON object: {e}"))
            }
        }
    }

    /// The whole secret: the value held while fresh, else a new read.
    pub async fn json(&self) -> Result<Arc<Value>, SecretError> {
        let mut held = self.held.lock().await;
        let now = Instant::now();
        if let Some(h) = held.as_ref()
            && now < h.refresh_at
        {
            return Ok(h.value.clone());
        }
        match self.read().await {
            Ok(value) => {
                let value = Arc::new(value);
                *held = Some(Held {
                    value: value.clone(),
                    refresh_at: now + self.ttl,
                });
                Ok(value)
            }
            Err(cause) => match held.as_mut() {
                Some(h) => {
                    tracing::warn!(secret = self.id(), error = %cause, "secret refresh failed; keeping the value held");
                    h.refresh_at = now + RETRY_AFTER;
                    Ok(h.value.clone())
                }
                None => Err(SecretError::Unavailable {
                    id: self.id().to_owned(),
                    cause,
                }),
            },
        }
    }

    /// A non-empty string field: a client never calls with a blank credential (it would
    /// fail on every call, later and less clearly).
    pub async fn field(&self, field: &str) -> Result<String, SecretError> {
        let value = self.json().await?;
        value[field]
            .as_str()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| SecretError::MissingField {
                id: self.id().to_owned(),
                field: field.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_fixed_secret_gives_its_fields_and_refuses_blank_ones() {
        let s = Secret::fixed(json!({"api_key": "SG.x", "blank": " "}));
        assert_eq!(s.field("api_key").await.unwrap(), "SG.x");
        assert!(matches!(
            s.field("blank").await,
            Err(SecretError::MissingField { .. })
        ));
        assert!(matches!(
            s.field("absent").await,
            Err(SecretError::MissingField { .. })
        ));
        assert!(
            !format!("{s:?}").contains("SG.x"),
            "Debug never shows the value"
        );
    }

    fn scripted(answers: Vec<Result<Value, String>>) -> Secret {
        Secret {
            source: Source::Scripted(std::sync::Mutex::new(answers.into())),
            ttl: DEFAULT_TTL,
            held: Mutex::new(None),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn read_once_per_ttl_and_a_failed_refresh_keeps_the_value_held() {
        let s = scripted(vec![
            Ok(json!({"k": "v1"})),
            Err("throttled".into()),
            Ok(json!({"k": "v2"})),
        ]);
        assert_eq!(s.field("k").await.unwrap(), "v1");
        tokio::time::advance(DEFAULT_TTL - Duration::from_secs(1)).await;
        assert_eq!(s.field("k").await.unwrap(), "v1", "no read within the TTL");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            s.field("k").await.unwrap(),
            "v1",
            "the refresh failed: held value"
        );
        tokio::time::advance(RETRY_AFTER - Duration::from_secs(1)).await;
        assert_eq!(
            s.field("k").await.unwrap(),
            "v1",
            "no new try before RETRY_AFTER"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            s.field("k").await.unwrap(),
            "v2",
            "a rotated value is picked up"
        );
    }

    #[tokio::test]
    async fn a_first_read_that_fails_is_an_error_and_the_next_use_tries_again() {
        let s = scripted(vec![Err("no route".into()), Ok(json!({"k": "v"}))]);
        assert!(matches!(
            s.json().await,
            Err(SecretError::Unavailable { .. })
        ));
        assert_eq!(s.field("k").await.unwrap(), "v");
    }
}
