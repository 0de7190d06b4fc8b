//! `POST /v1/contractors/{id}/consents/withdrawal`: the owner withdraws consent to the
//! privacy notice (`{"document": "privacy_notice"}`, `If-Match` required). What then stops
//! (docs/privacy.md): every optional email (updates, reminders, the badge digest: their
//! switches are turned off), and an account still onboarding cannot be submitted or
//! approved (its agreements step reopens; one under review goes back to in progress) until
//! the notice is accepted again. An approved account keeps working under its contract.
//! The consent record stays, marked withdrawn, and goes into exports. Idempotent with
//! `Idempotency-Key`; withdrawing twice changes nothing.

use domain::engagement::notifications::Preferences;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{BoxError, Env};
use serde::Deserialize;
use store::{DynamoIdempotency, DynamoPreferences, Table};
use wiring::Api;

pub struct WithdrawConsent {
    api: Api,
    preferences: DynamoPreferences,
}

pub async fn build(env: &Env) -> Result<Idempotent<WithdrawConsent, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    let app = WithdrawConsent {
        api,
        preferences: DynamoPreferences::new(Table::from_env(env, &aws)?),
    };
    wiring::idempotent(app, env, &aws)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawalInput {
    document: String,
}

impl HttpApp for WithdrawConsent {
    const NAME: &'static str = "privacy-consent-withdrawal";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let input: WithdrawalInput = http::parse_json(&req, 1024)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let version = wiring::if_match(&req)?;
        let contractor = self
            .api
            .service
            .withdraw_consent(
                &viewer,
                &id,
                version,
                &input.document,
                &wiring::facts(&req, &meta),
            )
            .await?;
        // Optional emails rest on that consent: they stop (account emails go on).
        let current: Preferences = self.preferences.get(&contractor.id).await?;
        if current != current.unsubscribed() {
            self.preferences
                .put(&contractor.id, current.unsubscribed())
                .await?;
        }
        tracing::info!(contractor_id = %contractor.id, "privacy consent withdrawn");
        Ok(self.api.contractor_response(200, &contractor))
    }
}
