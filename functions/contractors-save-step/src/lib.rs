//! `PATCH /v1/contractors/{id}/progress`: saves one wizard step (`{"step", "data"}`),
//! partially if need be, guarded by `If-Match`. Idempotent with `Idempotency-Key`.

use domain::steps::{ALL_STEPS, StepName};
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{ApiError, BoxError, Env, FieldError};
use serde::Deserialize;
use store::DynamoIdempotency;
use wiring::Api;

pub struct SaveStep {
    api: Api,
}

pub async fn build(env: &Env) -> Result<Idempotent<SaveStep, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    wiring::idempotent(SaveStep { api }, env, &aws)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveStepRequest {
    step: String,
    data: serde_json::Value,
}

impl HttpApp for SaveStep {
    const NAME: &'static str = "contractors-save-step";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let body: SaveStepRequest = http::parse_json(&req, http::DEFAULT_BODY_LIMIT)?;
        let step = StepName::parse(&body.step).ok_or_else(|| {
            let known: Vec<&str> = ALL_STEPS.iter().map(|s| s.as_str()).collect();
            ApiError::Validation(vec![FieldError::new(
                "step",
                "invalid_choice",
                format!("Unknown step; use one of {}.", known.join(", ")),
            )])
        })?;
        let version = wiring::if_match(&req)?;
        let saved = self
            .api
            .service
            .save_step(
                &viewer,
                &id,
                version,
                step,
                &body.data,
                &wiring::facts(&req, &meta),
            )
            .await?;
        tracing::info!(contractor_id = %saved.contractor.id, step = %step, step_status = ?saved.step_status, "step saved");
        Ok(self.api.contractor_response(200, &saved.contractor))
    }
}
