//! `GET /v1/contractors?status=under_review&limit=25&cursor=…`: reviewers list contractors by
//! status, most recently changed first.

use lambda_http::{Request, RequestExt};
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env, FieldError};
use wiring::Api;

pub struct ListContractors {
    api: Api,
}

pub async fn build(env: &Env) -> Result<ListContractors, BoxError> {
    Ok(ListContractors {
        api: Api::from_env(env).await?.0,
    })
}

impl HttpApp for ListContractors {
    const NAME: &'static str = "contractors-list";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        let query = req.query_string_parameters();
        let status = query.first("status").unwrap_or("under_review").to_owned();
        let limit = match query.first("limit") {
            None => 25,
            Some(raw) => raw.parse().map_err(|_| {
                ApiError::Validation(vec![FieldError::new(
                    "limit",
                    "invalid",
                    "limit must be a whole number.",
                )])
            })?,
        };
        let cursor = query.first("cursor").map(str::to_owned);
        if let Some(c) = &cursor
            && !store::contractors::is_valid_cursor(c, &status)
        {
            return Err(ApiError::Validation(vec![FieldError::new(
                "cursor",
                "invalid",
                "Use the next_cursor of a previous page.",
            )])
            .into());
        }
        let page = self
            .api
            .service
            .list(&viewer, &status, limit, cursor.as_deref())
            .await?;
        let data: Vec<serde_json::Value> = page
            .items
            .iter()
            .map(|c| self.api.contractor_view(c))
            .collect();
        Ok(http::json(
            200,
            &serde_json::json!({"object": "list", "data": data, "next_cursor": page.next}),
        ))
    }
}
