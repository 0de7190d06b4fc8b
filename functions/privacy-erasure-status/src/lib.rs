//! `GET /v1/erasures/{id}`: where an erasure request stands, for staff, whoever asked and
//! the account's owner (matched by digests of their logins: the account itself may be
//! gone). Anyone else gets 404, as for an id that does not exist.

use domain::ids::ErasureId;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use store::Table;
use store::privacy_jobs::PrivacyJobs;

pub struct ErasureStatus {
    settings: platform::http::ApiSettings,
    jobs: PrivacyJobs,
}

pub async fn build(env: &Env) -> Result<ErasureStatus, BoxError> {
    Ok(ErasureStatus {
        settings: platform::http::ApiSettings::from_env(env),
        jobs: PrivacyJobs::new(Table::load(env).await?),
    })
}

impl HttpApp for ErasureStatus {
    const NAME: &'static str = "privacy-erasure-status";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let caller = self.settings.caller(&req)?;
        let not_found = || ApiError::NotFound("erasure request");
        let id = ErasureId::parse(http::path_param(&req, "id")?).ok_or_else(not_found)?;
        let request = self
            .jobs
            .erasure(&id)
            .await?
            .filter(|r| caller.is_staff() || r.concerns(&caller.subject))
            .ok_or_else(not_found)?;
        Ok(http::json(200, &wiring::views::erasure(&request)))
    }
}
