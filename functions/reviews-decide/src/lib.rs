//! `POST /v1/contractors/{id}/requirements/{name}/decision`: a reviewer approves, rejects
//! (with a reason), requests a re-upload, or waives until a date. The decision is recorded
//! as the reviewer's result on the requirement's current evidence (it outranks automation
//! until new evidence arrives), published as `requirement.updated`, and added to the
//! contractor's audit trail (`requirement.decided`, the reviewer as the actor). Refused while
//! another reviewer holds a claim on the item. Staff only.

use domain::ids::ContractorId;
use domain::verification::{DecisionInput, reviewer_result};
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use wiring::views::View;

pub struct DecideReview {
    verification: store::Verification,
    api: wiring::Api,
}

pub async fn build(env: &Env) -> Result<DecideReview, BoxError> {
    let (api, aws) = wiring::Api::from_env(env).await?;
    Ok(DecideReview {
        verification: store::verification(env, &aws)?,
        api,
    })
}

impl HttpApp for DecideReview {
    const NAME: &'static str = "reviews-decide";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        if !viewer.staff {
            return Err(ApiError::Forbidden("only reviewers decide requirements".into()).into());
        }
        let input: DecisionInput = http::parse_json(&req, 4 * 1024)?;
        let now = self.verification.now();
        let decision = input.parse(now.date_naive())?;
        let contractor = ContractorId::parse(http::path_param(&req, "id")?)
            .ok_or(ApiError::NotFound("requirement"))?;
        let name = http::path_param(&req, "name")?.to_owned();
        self.api
            .service
            .guard_review(&viewer, &contractor, "decide", &wiring::facts(&req, &meta))
            .await?;
        let (requirement, _) = self
            .verification
            .requirements
            .get(&contractor, &name)
            .await?
            .ok_or(ApiError::NotFound("requirement"))?;
        if requirement.evidence_version == 0 {
            return Err(ApiError::Conflict {
                code: "nothing_to_decide",
                detail: "The contractor has not provided evidence for this requirement yet.".into(),
            }
            .into());
        }
        requirement.check_claim(&viewer.subject, now)?;
        let result = reviewer_result(
            &decision,
            &viewer.subject,
            requirement.evidence_version,
            now,
        );
        // The decision and its audit entry are one commit (ADR 0005).
        let after = match self
            .api
            .service
            .decide(
                &self.verification.requirements,
                &viewer,
                &contractor,
                &name,
                &result,
                &wiring::facts(&req, &meta),
            )
            .await?
        {
            Some(after) => after,
            None => requirement,
        };
        tracing::info!(contractor_id = %contractor, requirement = %name, reviewer = %viewer.subject, "review decided");
        Ok(http::json(200, &after.view()))
    }
}
