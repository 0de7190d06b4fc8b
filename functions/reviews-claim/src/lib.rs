//! `POST /v1/contractors/{id}/requirements/{name}/claim`: a reviewer takes a manual-review
//! item for 30 minutes (renewable), so two reviewers don't work the same item; another
//! reviewer's decision is refused while the claim holds. Staff only.

use domain::events::DomainEvent;
use domain::ids::ContractorId;
use lambda_http::{Body, Request, Response};
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use store::DynamoRequirements;

pub struct ClaimReview {
    requirements: DynamoRequirements,
    api: wiring::Api,
    lease: chrono::Duration,
}

pub async fn build(env: &Env) -> Result<ClaimReview, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(ClaimReview {
        requirements: DynamoRequirements::from_env(env, &aws)?,
        api,
        lease: chrono::Duration::minutes(env.parse_or("REVIEW_CLAIM_MINUTES", 30)?),
    })
}

impl HttpApp for ClaimReview {
    const NAME: &'static str = "reviews-claim";

    async fn handle(&self, req: Request, meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let viewer = self.api.settings.viewer(&req)?;
        if !viewer.staff {
            return Err(ApiError::Forbidden(
                "only reviewers claim review items".into(),
            ));
        }
        let contractor = ContractorId::parse(http::path_param(&req, "id")?)
            .ok_or(ApiError::NotFound("requirement"))?;
        let name = http::path_param(&req, "name")?.to_owned();
        self.api
            .service
            .guard_review(&viewer, &contractor, "claim", &wiring::facts(&req, &meta))
            .await?;
        let internal = |e: domain::ports::RepoError| ApiError::Internal(Box::new(e));
        let now = chrono::Utc::now();
        let (mut requirement, version) = self
            .requirements
            .get(&contractor, &name)
            .await
            .map_err(internal)?
            .ok_or(ApiError::NotFound("requirement"))?;
        requirement
            .take_claim(&viewer.subject, now, self.lease)
            .map_err(wiring::claim_conflict)?;
        let claimed = DomainEvent::new(
            "requirement.claimed",
            &contractor,
            version + 1,
            now,
            meta.correlation_id.as_str(),
            serde_json::json!({"requirement": name, "reviewer": viewer.subject, "until": requirement.claim.as_ref().map(|c| c.until)}),
        );
        match self
            .requirements
            .save(&contractor, &requirement, version, &[claimed])
            .await
        {
            Ok(()) => {}
            Err(domain::ports::RepoError::VersionConflict) => {
                return Err(ApiError::Conflict {
                    code: "changed_meanwhile",
                    detail: "The item changed while you claimed it; reload it.".into(),
                });
            }
            Err(e) => return Err(internal(e)),
        }
        tracing::info!(contractor_id = %contractor, requirement = %name, reviewer = %viewer.subject, "review item claimed");
        Ok(http::json(200, &requirement.view()))
    }
}
