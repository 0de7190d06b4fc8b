//! `POST /v1/contractors/{id}/reject`: a reviewer closes an account (`rejected`, final) with
//! a reason the contractor reads, guarded by `If-Match` (the version the reviewer looked
//! at); audited with the reviewer as actor; events `contractor.rejected`, `status.changed`.
//! Staff only. Idempotent with `Idempotency-Key`.

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::{ApiError, BoxError, Env};
use serde::Deserialize;
use store::DynamoIdempotency;
use wiring::Api;

pub struct Reject {
    api: Api,
}

pub async fn build(env: &Env) -> Result<Idempotent<Reject, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    wiring::idempotent(Reject { api }, env, &aws)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectInput {
    reason: Option<String>,
}

impl HttpApp for Reject {
    const NAME: &'static str = "contractors-reject";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        if !viewer.staff {
            return Err(ApiError::Forbidden("only reviewers reject an account".into()).into());
        }
        let input: RejectInput = http::parse_json(&req, 4 * 1024)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let version = wiring::if_match(&req)?;
        let contractor = self
            .api
            .service
            .reject(
                &viewer,
                &id,
                version,
                input.reason.as_deref().unwrap_or_default(),
                &wiring::facts(&req, &meta),
            )
            .await?;
        tracing::info!(contractor_id = %contractor.id, reviewer = %viewer.subject, "account rejected");
        Ok(self.api.contractor_response(200, &contractor))
    }
}
