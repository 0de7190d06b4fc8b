//! `GET /v1/contractors/{id}/audit`: the audit trail (owner or staff), with the result of
//! verifying its hash chain.

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
use wiring::Api;

pub struct Audit {
    api: Api,
}

pub async fn build(env: &Env) -> Result<Audit, BoxError> {
    Ok(Audit {
        api: Api::from_env(env).await?.0,
    })
}

impl HttpApp for Audit {
    const NAME: &'static str = "contractors-audit";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let id = http::path_param(&req, "id")?.to_owned();
        let (entries, verdict) = self.api.service.audit(&viewer, &id).await?;
        if !verdict.valid {
            tracing::error!(contractor_id = %id, broken_at = ?verdict.broken_at, reason = ?verdict.reason, "audit chain does not verify");
        }
        Ok(http::json(
            200,
            &serde_json::json!({"object": "list", "data": entries, "verification": verdict}),
        ))
    }
}
