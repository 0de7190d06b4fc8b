//! `POST /v1/contractors/{id}/bank/link-token`: a Plaid Link token for the contractor's
//! payout account (Auth, with automated micro-deposits as the fallback), whose webhooks come
//! back to `/v1/webhooks/plaid`. The contractor only (it is their bank).

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
use providers::plaid::Plaid;

pub struct LinkToken {
    api: wiring::Api,
    plaid: Plaid,
    webhook_url: String,
}

pub async fn build(env: &Env) -> Result<LinkToken, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(LinkToken {
        plaid: providers::plaid::from_env(env, &aws).await?,
        webhook_url: env.required("PLAID_WEBHOOK_URL")?,
        api,
    })
}

impl HttpApp for LinkToken {
    const NAME: &'static str = "bank-link-token";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        // Only the owner links their bank account.
        let contractor = self
            .api
            .service
            .owned(&viewer, http::path_param(&req, "id")?)
            .await?;
        let token = self
            .plaid
            .link_token(contractor.id.as_str(), &self.webhook_url)
            .await?;
        tracing::info!(contractor_id = %contractor.id, "Plaid link token created");
        Ok(http::json(
            201,
            &serde_json::json!({"object": "bank_link_token", "link_token": token.link_token, "expiration": token.expiration}),
        ))
    }
}
