//! `GET /v1/contractors/{id}` and `GET /v1/contractors/me`: the owner or staff read an
//! account. To anyone else an account does not exist (404), so ids cannot be probed.

use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
use wiring::Api;

pub struct GetContractor {
    api: Api,
}

pub async fn build(env: &Env) -> Result<GetContractor, BoxError> {
    Ok(GetContractor {
        api: Api::from_env(env).await?.0,
    })
}

impl HttpApp for GetContractor {
    const NAME: &'static str = "contractors-get";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let requested = http::path_param(&req, "id").unwrap_or("me");
        let contractor = self.api.service.get(&viewer, requested).await?;
        tracing::debug!(contractor_id = %contractor.id, "contractor read");
        Ok(self.api.contractor_response(200, &contractor))
    }
}
