//! `GET /v1/contractors/{id}/activity?after=SEQ&limit=N`: the contractor's activity feed
//! after the last number a client saw (owner or staff). The feed is the truth, the socket a
//! shortcut: a client that reconnects reads from here what it missed.

use domain::engagement::ports::Feed;
use domain::engagement::realtime::FeedQuery;
use lambda_http::{Request, RequestExt};
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env, FieldError};
use wiring::engagement::Engagement;

pub struct Activity {
    engagement: Engagement,
}

pub async fn build(env: &Env) -> Result<Activity, BoxError> {
    Ok(Activity {
        engagement: Engagement::from_env(env).await?.0,
    })
}

impl HttpApp for Activity {
    const NAME: &'static str = "engagement-activity";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.engagement.api.settings, &req)?;
        let params = req.query_string_parameters_ref();
        let query = FeedQuery::parse(
            params.and_then(|p| p.first("after")),
            params.and_then(|p| p.first("limit")),
        )
        .map_err(|msg| {
            let field = if msg.starts_with("after") {
                "after"
            } else {
                "limit"
            };
            ApiError::Validation(vec![FieldError::new(field, "invalid", msg)])
        })?;
        let id = http::path_param(&req, "id")?;
        let contractor = self.engagement.api.service.get(&viewer, id).await?;
        let items = self.engagement.feed.read(&contractor.id, query).await?;
        let last = items.last().and_then(|m| m.seq).unwrap_or(query.after);
        Ok(http::json(
            200,
            &serde_json::json!({
                "object": "list",
                "data": items,
                "after": query.after,
                "last_seq": last,
                "has_more": items.len() == query.limit,
            }),
        ))
    }
}
