//! `POST /v1/webhooks/{provider}` (no JWT: providers sign instead). Verifies the provider's
//! signature on the raw body, deduplicates by the provider's event id, records the event and
//! puts it on the webhooks queue; the work happens behind the queue. Unsigned, forged, stale
//! or replayed requests get 401 and change nothing; the reason is logged, not returned.

use std::time::Duration;

use lambda_http::{Body, Request, Response};
use platform::http::{self, HttpApp, RequestMeta};
use platform::secrets::Secret;
use platform::{ApiError, BoxError, Env};
use sha2::{Digest, Sha256};
use store::webhooks::Delivery;
use store::{Inbox, WebhookInbox};
use webhooks::{Jwk, KeyCache, KeySource, PlaidKeys, Rejected};

pub struct ReceiveWebhooks {
    inbox: WebhookInbox,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    /// `webhook_secret` in the insurance verifier's secret, read on first use.
    trustlayer_secret: Secret,
    plaid: KeyCache<LazyPlaidKeys>,
    /// SendGrid's Event Webhook verification key (base64 DER), from config.
    sendgrid_key: String,
}

pub async fn build(env: &Env) -> Result<ReceiveWebhooks, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ReceiveWebhooks {
        inbox: WebhookInbox::new(store::Table::from_env(env, &aws)?),
        sqs: aws.sqs(),
        queue_url: env.required("WEBHOOKS_QUEUE_URL")?,
        trustlayer_secret: Secret::from_env(env, &aws, "INSURANCE_VERIFIER_SECRET_ARN")?,
        sendgrid_key: env.get("SENDGRID_WEBHOOK_PUBLIC_KEY").unwrap_or_default(),
        plaid: KeyCache::new(
            LazyPlaidKeys {
                http: reqwest::Client::new(),
                base_url: env
                    .get("PLAID_BASE_URL")
                    .unwrap_or_else(|| "https://production.plaid.com".into()),
                credentials: Secret::from_env(env, &aws, "PLAID_SECRET_ARN")?,
            },
            Duration::from_secs(24 * 3600),
        ),
    })
}

/// Plaid's key endpoint with the credentials read when a key is first needed.
struct LazyPlaidKeys {
    http: reqwest::Client,
    base_url: String,
    credentials: Secret,
}

impl KeySource for LazyPlaidKeys {
    async fn fetch(&self, kid: &str) -> Result<Option<Jwk>, String> {
        let field = |name| async move {
            self.credentials
                .field(name)
                .await
                .map_err(|e| e.to_string())
        };
        PlaidKeys {
            http: self.http.clone(),
            base_url: self.base_url.clone(),
            client_id: field("client_id").await?,
            secret: field("secret").await?,
        }
        .fetch(kid)
        .await
    }
}

impl ReceiveWebhooks {
    /// Verifies the request for `provider` and names its event (the body's SHA-256).
    async fn verify(&self, provider: &str, req: &Request, body: &[u8]) -> Result<String, ApiError> {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let outcome = match provider {
            "trustlayer" => {
                // Without the key nothing can be verified: 503, and the provider retries.
                let key = self
                    .trustlayer_secret
                    .field("webhook_secret")
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "the TrustLayer webhook secret cannot be read");
                        ApiError::Unavailable(
                            "Webhook verification is unavailable; retry later.".into(),
                        )
                    })?;
                webhooks::verify_hmac_sha256(key.as_bytes(), body, header("x-hmac-hash"))
            }
            "plaid" => {
                self.plaid
                    .verify_plaid(
                        body,
                        header("plaid-verification"),
                        chrono::Utc::now().timestamp(),
                    )
                    .await
            }
            "sendgrid" => webhooks::sendgrid::verify(
                &self.sendgrid_key,
                body,
                header(webhooks::sendgrid::SIGNATURE_HEADER),
                header(webhooks::sendgrid::TIMESTAMP_HEADER),
                chrono::Utc::now().timestamp(),
                webhooks::MAX_AGE_SECONDS,
            ),
            _ => return Err(ApiError::NotFound("webhook provider")),
        };
        match outcome {
            Ok(()) => {}
            Err(Rejected::TooLarge) => {
                return Err(ApiError::PayloadTooLarge {
                    limit: webhooks::MAX_BODY,
                });
            }
            Err(Rejected::KeyUnavailable(e)) => {
                // Not the sender's fault: 503 makes the provider retry later.
                return Err(ApiError::Unavailable(format!("verification key: {e}")));
            }
            Err(reason) => {
                tracing::warn!(provider, %reason, "webhook refused");
                return Err(ApiError::Unauthorized);
            }
        }
        // Every provider's delivery is named by the body's SHA-256 (SendGrid's batches too;
        // each event in them is idempotent where it lands): Plaid repeats a webhook byte for
        // byte, and TrustLayer's webhooks page documents no delivery id (its
        // compliance events are hints whose records are read back, so two deliveries of one
        // change record one result either way).
        serde_json::from_slice::<serde_json::Value>(body)
            .map_err(|_| ApiError::BadRequest("the body is not JSON".into()))?;
        Ok(hex::encode(Sha256::digest(body)))
    }
}

impl HttpApp for ReceiveWebhooks {
    const NAME: &'static str = "webhooks-receive";
    type Error = ApiError;

    async fn handle(&self, req: Request, meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let provider = http::path_param(&req, "provider")?.to_owned();
        let body: &[u8] = match req.body() {
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            Body::Empty => &[],
            _ => &[],
        };
        let event_id = self.verify(&provider, &req, body).await?;
        let text = String::from_utf8_lossy(body);
        let recorded = self
            .inbox
            .record(&provider, &event_id, &text, chrono::Utc::now())
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))?;
        let duplicate = match recorded {
            Inbox::Duplicate { enqueued: true } => true,
            Inbox::Duplicate { enqueued: false } | Inbox::New => {
                let message = Delivery {
                    provider: provider.clone(),
                    event_id: event_id.clone(),
                    body: text.clone().into_owned(),
                };
                let (name, value) = platform::correlation::sqs_attribute(&meta.correlation_id);
                self.sqs
                    .send_message()
                    .queue_url(&self.queue_url)
                    .message_body(
                        serde_json::to_string(&message)
                            .map_err(|e| ApiError::Internal(e.into()))?,
                    )
                    .message_attributes(name, value)
                    .send()
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string().into()))?;
                self.inbox
                    .mark_enqueued(&provider, &event_id)
                    .await
                    .map_err(|e| ApiError::Internal(Box::new(e)))?;
                matches!(recorded, Inbox::Duplicate { .. })
            }
        };
        tracing::info!(provider, event_id, duplicate, "webhook received");
        Ok(http::json(
            200,
            &serde_json::json!({"received": true, "duplicate": duplicate}),
        ))
    }
}
