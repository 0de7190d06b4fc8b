//! `POST /v1/contractors/{id}/requirements/{name}/claim`: a reviewer takes a manual-review
//! item for 30 minutes (renewable), so two reviewers don't work the same item; another
//! reviewer's decision is refused while the claim holds. Staff only.

use domain::ids::ContractorId;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use store::Verification;
use wiring::views::View;

pub struct ClaimReview {
    verification: Verification,
    api: wiring::Api,
    lease: chrono::Duration,
}

pub async fn build(env: &Env) -> Result<ClaimReview, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(ClaimReview {
        verification: store::verification(env, &aws)?,
        api,
        lease: chrono::Duration::minutes(env.parse_or("REVIEW_CLAIM_MINUTES", 30)?),
    })
}

impl HttpApp for ClaimReview {
    const NAME: &'static str = "reviews-claim";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        if !viewer.staff {
            return Err(ApiError::Forbidden("only reviewers claim review items".into()).into());
        }
        let contractor = ContractorId::parse(http::path_param(&req, "id")?)
            .ok_or(ApiError::NotFound("requirement"))?;
        let name = http::path_param(&req, "name")?.to_owned();
        self.api
            .service
            .guard_review(&viewer, &contractor, "claim", &wiring::facts(&req, &meta))
            .await?;
        let requirement = self
            .verification
            .claim(
                &contractor,
                &name,
                &viewer.subject,
                self.lease,
                meta.correlation_id.as_str(),
            )
            .await?;
        tracing::info!(contractor_id = %contractor, requirement = %name, reviewer = %viewer.subject, "review item claimed");
        Ok(http::json(200, &requirement.view()))
    }
}
