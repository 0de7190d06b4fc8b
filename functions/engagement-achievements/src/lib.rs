//! `GET /v1/contractors/{id}/achievements`: badges earned (with when) and still open, the
//! progress ring and the next best action, in the language of `Accept-Language` (English or
//! Spanish). Decided from the contractor's state now, with the badges as held.

use domain::engagement::badges::Lang;
use domain::engagement::ports::BadgeStore;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{BoxError, Env};
use wiring::engagement::{Engagement, achievements};

pub struct Achievements {
    engagement: Engagement,
}

pub async fn build(env: &Env) -> Result<Achievements, BoxError> {
    Ok(Achievements {
        engagement: Engagement::from_env(env).await?.0,
    })
}

impl HttpApp for Achievements {
    const NAME: &'static str = "engagement-achievements";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.engagement.api.settings, &req)?;
        let id = http::path_param(&req, "id")?;
        let contractor = self.engagement.api.service.get(&viewer, id).await?;
        let held = self.engagement.badges.held(&contractor.id).await?;
        let lang = Lang::from_accept_language(http::header(&req, "accept-language"));
        let facts = self.engagement.facts(&contractor);
        let body = achievements(
            &self.engagement.rules,
            &facts,
            &held,
            lang,
            chrono::Utc::now(),
        );
        let mut response = http::json(200, &body);
        response.headers_mut().insert(
            ::http::header::VARY,
            ::http::HeaderValue::from_static("Accept-Language"),
        );
        Ok(response)
    }
}
