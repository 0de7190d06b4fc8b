//! `POST /v1/contractors/{id}/submit`: sends a complete onboarding for review, guarded by
//! `If-Match`. Idempotent with `Idempotency-Key`.

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{BoxError, Env};
use store::DynamoIdempotency;
use wiring::Api;

pub struct Submit {
    api: Api,
}

pub async fn build(env: &Env) -> Result<Idempotent<Submit, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    wiring::idempotent(Submit { api }, env, &aws)
}

impl HttpApp for Submit {
    const NAME: &'static str = "contractors-submit";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let version = wiring::if_match(&req)?;
        let contractor = self
            .api
            .service
            .submit(&viewer, &id, version, &wiring::facts(&req, &meta))
            .await?;
        tracing::info!(contractor_id = %contractor.id, "submitted for review");
        Ok(self.api.contractor_response(200, &contractor))
    }
}
