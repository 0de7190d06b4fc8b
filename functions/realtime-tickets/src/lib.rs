//! `POST /v1/realtime/tickets`: a single-use ticket, valid for 30 seconds, that opens one
//! WebSocket connection (`?ticket=` on the realtime URL). Browsers cannot set headers on a
//! WebSocket and a JWT in a query string would end up in access logs; a ticket that dies on
//! first use or within seconds can. A contractor's ticket listens to its own contractor, a
//! reviewer's to the review queue.

use domain::engagement::ports::Tickets;
use domain::engagement::realtime::{Grant, TICKET_LIFETIME};
use domain::onboarding::OnboardingError;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::{ApiError, BoxError, Env};
use wiring::engagement::Engagement;

pub struct IssueTicket {
    engagement: Engagement,
    /// Where clients connect (`wss://…/live` in the cloud, the runner's `ws://` locally).
    url: String,
}

pub async fn build(env: &Env) -> Result<IssueTicket, BoxError> {
    Ok(IssueTicket {
        engagement: Engagement::from_env(env).await?.0,
        url: env.required("REALTIME_URL")?,
    })
}

impl HttpApp for IssueTicket {
    const NAME: &'static str = "realtime-tickets";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, _meta: RequestMeta) -> wiring::Answer {
        let viewer = wiring::viewer(&self.engagement.api.settings, &req)?;
        let now = chrono::Utc::now();
        let grant = if viewer.staff {
            Grant::reviewer(&viewer.subject, now)
        } else {
            match self.engagement.api.service.get(&viewer, "me").await {
                Ok(c) => Grant::contractor(&viewer.subject, &c.id, now),
                Err(OnboardingError::NotFound) => {
                    return Err(ApiError::Conflict {
                        code: "not_registered",
                        detail:
                            "Register your business first; then its progress can be followed live."
                                .into(),
                    }
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        };
        let secret = self.engagement.tickets.issue(&grant).await?;
        let mut response = http::json(
            201,
            &serde_json::json!({
                "ticket": secret.expose(),
                "url": self.url,
                "connect": format!("{}?ticket={}", self.url, secret.expose()),
                "role": grant.role,
                "expires_at": grant.expires_at,
                "expires_in": TICKET_LIFETIME.num_seconds(),
            }),
        );
        response.headers_mut().insert(
            ::http::header::CACHE_CONTROL,
            ::http::HeaderValue::from_static("no-store"),
        );
        Ok(response)
    }
}
