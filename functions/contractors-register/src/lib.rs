//! `POST /v1/contractors`: registers the caller's contractor account, in `draft`.
//! Idempotent with `Idempotency-Key`.

use domain::contractor::RegisterContractor;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::metrics::Metrics;
use platform::{BoxError, Env};
use store::DynamoIdempotency;
use wiring::Api;

pub struct Register {
    api: Api,
    metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Idempotent<Register, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    let app = Register {
        api,
        metrics_namespace: platform::metrics::namespace(env),
    };
    wiring::idempotent(app, env, &aws)
}

impl HttpApp for Register {
    const NAME: &'static str = "contractors-register";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let input: RegisterContractor = http::parse_json(&req, http::DEFAULT_BODY_LIMIT)?;
        let contractor = self
            .api
            .service
            .register(&viewer, input, &wiring::facts(&req, &meta))
            .await?;
        tracing::info!(contractor_id = %contractor.id, "contractor registered");
        Metrics::new(&self.metrics_namespace, Self::NAME)
            .count("ContractorRegistered")
            .flush();
        let mut response = self.api.contractor_response(201, &contractor);
        if let Ok(location) = format!("/v1/contractors/{}", contractor.id).parse() {
            response
                .headers_mut()
                .insert(::http::header::LOCATION, location);
        }
        Ok(response)
    }
}
