//! `GET /v1/reviews?limit=`: the requirements waiting for a reviewer (automation could not
//! decide: a provider down, a provider unsure), oldest first. Staff only.

use lambda_http::{Request, RequestExt};
use platform::http::{self, ApiSettings, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env, FieldError};
use store::DynamoRequirements;
use wiring::views::View;

pub struct ListReviews {
    requirements: DynamoRequirements,
    settings: ApiSettings,
}

pub async fn build(env: &Env) -> Result<ListReviews, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ListReviews {
        requirements: DynamoRequirements::from_env(env, &aws)?,
        settings: ApiSettings::from_env(env),
    })
}

impl HttpApp for ListReviews {
    const NAME: &'static str = "reviews-list";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.settings, &req)?;
        if !viewer.staff {
            return Err(ApiError::Forbidden("only reviewers see the review queue".into()).into());
        }
        let limit = match req.query_string_parameters().first("limit") {
            None => 25,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    ApiError::Validation(vec![FieldError::new(
                        "limit",
                        "invalid",
                        "limit must be a whole number from 1 to 100.",
                    )])
                })?,
        };
        let open = self
            .requirements
            .open_reviews(limit)
            .await
            .map_err(|e| ApiError::Internal(Box::new(e)))?;
        let data: Vec<serde_json::Value> = open
            .into_iter()
            .map(|(contractor, requirement)| {
                let mut view = requirement.view();
                view["contractor_id"] = serde_json::json!(contractor);
                view
            })
            .collect();
        Ok(http::json(
            200,
            &serde_json::json!({"object": "list", "data": data}),
        ))
    }
}
