//! `POST /v1/contractors/{id}/erasure`: asks for everything about a contractor to be erased
//! (docs/privacy.md, ADR 0016). The owner must have signed in within five minutes (else 401
//! with an RFC 9470 step-up challenge) and may not erase an approved account (409: support
//! closes its work first); staff may, with a `reason`. The request is audited, recorded once
//! per contractor (asking again answers the same request) and queued for `privacy-erasure`;
//! 202 with its status at `Location`. Idempotent with `Idempotency-Key` too.

use domain::ids::ErasureId;
use lambda_http::Request;
use platform::http::{self, HttpApp, RequestMeta};
use platform::idempotency::Idempotent;
use platform::sqs::WorkQueue;
use platform::{ApiError, BoxError, Env, FieldError};
use serde::Deserialize;
use store::privacy_jobs::{ErasureRequest, ErasureStatus, PrivacyJobs, login_digest};
use store::{DynamoIdempotency, Table};
use wiring::Api;

pub struct RequestErasure {
    api: Api,
    jobs: PrivacyJobs,
    queue: WorkQueue,
}

pub async fn build(env: &Env) -> Result<Idempotent<RequestErasure, DynamoIdempotency>, BoxError> {
    let (api, aws) = Api::from_env(env).await?;
    let app = RequestErasure {
        api,
        jobs: PrivacyJobs::new(Table::from_env(env, &aws)?),
        queue: WorkQueue::from_env(aws.sqs(), env, "ERASURE_QUEUE_URL")?,
    };
    wiring::idempotent(app, env, &aws)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureInput {
    /// Staff only: why (kept with the request and in the audit trail).
    reason: Option<String>,
}

impl HttpApp for RequestErasure {
    const NAME: &'static str = "privacy-erasure-request";
    type Error = wiring::Error;

    async fn handle(&self, req: Request, meta: RequestMeta) -> wiring::Answer {
        let caller = self.api.settings.caller(&req)?;
        let viewer = wiring::viewer(&self.api.settings, &req)?;
        // An owner sends nothing; an empty body is an empty request.
        let input: ErasureInput = if req.body().is_empty() {
            ErasureInput::default()
        } else {
            http::parse_json(&req, 4 * 1024)?
        };
        // A reason, when one is sent, is read the same from anyone (an owner may leave it
        // out): it must say something, in at most 1000 characters.
        if let Some(reason) = input.reason.as_deref() {
            let refusal = if reason.trim().is_empty() {
                Some(("required", "Say why, or leave the reason out."))
            } else if reason.trim().chars().count() > 1000 {
                Some(("too_long", "Say why in at most 1000 characters."))
            } else {
                None
            };
            if let Some((code, message)) = refusal {
                return Err(
                    ApiError::Validation(vec![FieldError::new("reason", code, message)]).into(),
                );
            }
        }
        let id = http::path_param(&req, "id")?.to_owned();
        let facts = wiring::facts(&req, &meta);
        let signed_in_at = caller
            .authenticated_at
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0));
        let seen = self.api.service.get(&viewer, &id).await?;
        let erasure_id = ErasureId::for_contractor(&seen.id);
        // Asked before: the same request, not a second one (and no audit entry written
        // while its erasure runs).
        let (request, new) = match self.jobs.erasure(&erasure_id).await? {
            Some(existing) => (existing, false),
            None => {
                let contractor = self
                    .api
                    .service
                    .request_erasure(&viewer, &id, input.reason.as_deref(), signed_in_at, &facts)
                    .await?;
                let by_owner = contractor.owner.as_str() == viewer.subject;
                self.jobs
                    .open_erasure(&ErasureRequest {
                        erasure_id,
                        contractor_id: contractor.id,
                        requested_by: if by_owner { "owner" } else { "staff" }.to_owned(),
                        requester_digest: login_digest(&viewer.subject),
                        owner_digest: login_digest(contractor.owner.as_str()),
                        status: ErasureStatus::Accepted,
                        requested_at: facts.now,
                        updated_at: facts.now,
                        confirmation: None,
                        items_deleted: 0,
                        versions_deleted: 0,
                        kept: Vec::new(),
                        completed_at: None,
                    })
                    .await?
            }
        };
        if request.status != ErasureStatus::Done {
            // Queued again when asked again: harmless (the worker is idempotent), and it
            // restarts a request whose first message was lost.
            self.queue
                .send(
                    &serde_json::json!({"erasure_id": request.erasure_id}),
                    Some(&meta.correlation_id),
                )
                .await
                .map_err(ApiError::internal)?;
        }
        tracing::info!(contractor_id = %request.contractor_id, erasure_id = %request.erasure_id, new, by = %request.requested_by, "erasure requested");
        let mut response = http::json(202, &wiring::views::erasure(&request));
        if let Ok(location) = format!("/v1/erasures/{}", request.erasure_id).parse() {
            response
                .headers_mut()
                .insert(::http::header::LOCATION, location);
        }
        Ok(response)
    }
}
