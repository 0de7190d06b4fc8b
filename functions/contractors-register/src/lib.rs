//! `POST /v1/contractors`: registers the caller's contractor account, in `draft`.
//! Idempotent with `Idempotency-Key`.

use domain::contractor::RegisterContractor;
use domain::engagement::badges::Lang;
use domain::engagement::notifications::Preferences;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::metrics::Metrics;
use platform::{BoxError, Env};
use store::{DynamoIdempotency, DynamoPreferences};
use wiring::Api;

pub struct Register {
    api: Api,
    preferences: DynamoPreferences,
    metrics_namespace: String,
}

pub async fn build(env: &Env) -> Result<Idempotent<Register, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    let app = Register {
        api,
        preferences: DynamoPreferences::new(store::Table::from_env(env, &aws)?),
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
        // Emails speak the language the phone asked in, from the welcome on (English is
        // the default and needs no item). Best effort: the registration stands without it.
        let lang = Lang::from_accept_language(http::header(&req, "accept-language"));
        if lang != Lang::En {
            let preferences = Preferences {
                language: lang,
                ..Preferences::default()
            };
            if let Err(e) = self.preferences.put(&contractor.id, preferences).await {
                tracing::warn!(contractor_id = %contractor.id, error = %e, "language preference not saved");
            }
        }
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
