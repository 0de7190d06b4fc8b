//! Idempotency keys for POST/PATCH, with Stripe's semantics and Powertools' record states.
//!
//! The first request with a key claims a record (`in_progress`, until the function's
//! deadline); its response is stored (`completed`) and replayed for 24 hours to any retry
//! with the same key and the same request. The same key with a different request is refused
//! (422 `idempotency_key_reused`); a retry while the first is still running gets 409
//! `idempotency_request_in_progress`; a record whose function died expires at the deadline,
//! so a later retry proceeds. 5xx, 409, 412, 428 and 429 answers are not stored: the retry runs again.
//! Keys are scoped to the caller (the JWT subject), so two users cannot collide.

use std::future::Future;

use lambda_http::{Body, Request, RequestExt, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::BoxError;
use crate::http::{self, HttpApp, RequestMeta};
use crate::problem::ApiError;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a completed response is replayed.
pub const RETENTION_SECONDS: i64 = 24 * 3600;
/// Response headers kept with a stored response.
const KEPT_HEADERS: [&str; 4] = ["content-type", "location", "etag", "retry-after"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    InProgress,
    Completed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub status: RecordStatus,
    pub fingerprint: String,
    pub response: Option<StoredResponse>,
    /// Epoch seconds after which an `in_progress` record is considered abandoned.
    pub in_progress_until: i64,
    /// Epoch seconds after which the record is gone (DynamoDB TTL).
    pub expires_at: i64,
}

pub enum Claim {
    /// The record is ours: run the request.
    Acquired,
    /// Someone holds or held it.
    Existing(Record),
}

pub trait IdempotencyStore: Send + Sync + 'static {
    /// Creates `record` unless a live one exists under `key` (one that is completed and not
    /// expired, or in progress and not abandoned at `now`).
    fn claim(
        &self,
        key: &str,
        record: &Record,
        now: i64,
    ) -> impl Future<Output = Result<Claim, BoxError>> + Send;
    fn complete(
        &self,
        key: &str,
        record: &Record,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
    fn release(&self, key: &str) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Whether a response is stored and replayed for later requests with the same key.
pub fn replayable(status: u16) -> bool {
    !(status >= 500 || matches!(status, 409 | 412 | 428 | 429))
}

/// Wraps an HTTP app so its mutating requests honour `Idempotency-Key`.
pub struct Idempotent<A, S> {
    pub inner: A,
    pub store: S,
}

/// The record's key: the subject's length, the subject, the caller's key. The length makes
/// it unambiguous (`S#x` + `k1` and `S` + `x#k1` would otherwise share `S#x#k1`).
pub fn scoped_key(subject: &str, key: &str) -> String {
    format!("{}:{subject}#{key}", subject.len())
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Hash of what makes two requests "the same": method, path and body bytes.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(stored: &StoredResponse) -> Response<Body> {
    let mut builder = Response::builder().status(stored.status);
    for (k, v) in &stored.headers {
        builder = builder.header(k, v);
    }
    let mut resp = builder
        .body(Body::Text(stored.body.clone()))
        .unwrap_or_else(|_| http::json(500, &serde_json::json!({})));
    resp.headers_mut()
        .insert(REPLAYED_HEADER, ::http::HeaderValue::from_static("true"));
    resp
}

fn to_stored(resp: &Response<Body>) -> StoredResponse {
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|h| {
            resp.headers()
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(|v| (h.to_string(), v.to_owned()))
        })
        .collect();
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    StoredResponse {
        status: resp.status().as_u16(),
        headers,
        body,
    }
}

impl<A: HttpApp, S: IdempotencyStore> HttpApp for Idempotent<A, S> {
    const NAME: &'static str = A::NAME;
    type Error = ApiError;

    async fn handle(&self, req: Request, meta: RequestMeta) -> Result<Response<Body>, ApiError> {
        let mutating = matches!(req.method().as_str(), "POST" | "PATCH" | "PUT" | "DELETE");
        let Some(raw_key) = http::header(&req, HEADER)
            .filter(|_| mutating)
            .map(str::to_owned)
        else {
            return self.inner.handle(req, meta).await.map_err(Into::into);
        };
        if !valid_key(&raw_key) {
            return Err(ApiError::BadRequest(
                "Idempotency-Key must be 1-255 visible ASCII characters.".into(),
            ));
        }
        // Scope keys to the caller; without a subject the inner app answers 401 anyway.
        let Some(subject) = http::caller(&req, "roles").ok().map(|c| c.subject) else {
            return self.inner.handle(req, meta).await.map_err(Into::into);
        };
        let key = scoped_key(&subject, &raw_key);
        let print = fingerprint(
            req.method().as_str(),
            req.raw_http_path(),
            req.body().as_ref(),
        );
        let now = chrono::Utc::now().timestamp();
        let deadline = req
            .lambda_context_ref()
            .map(|c| (c.deadline / 1000) as i64)
            .filter(|d| *d > now)
            .unwrap_or(now + 30);
        let record = Record {
            status: RecordStatus::InProgress,
            fingerprint: print.clone(),
            response: None,
            in_progress_until: deadline + 1,
            expires_at: now + RETENTION_SECONDS,
        };
        match self.store.claim(&key, &record, now).await.map_err(ApiError::Internal)? {
            Claim::Existing(existing) if existing.fingerprint != print => Err(ApiError::Unprocessable {
                code: "idempotency_key_reused",
                detail: "This Idempotency-Key was used with a different request. Use a new key for a new request.".into(),
            }),
            Claim::Existing(existing) => match (existing.status, existing.response) {
                (RecordStatus::Completed, Some(stored)) => {
                    tracing::info!("idempotent replay");
                    Ok(replay(&stored))
                }
                _ => Err(ApiError::Conflict {
                    code: "idempotency_request_in_progress",
                    detail: "A request with this Idempotency-Key is still being processed; retry shortly.".into(),
                }),
            },
            Claim::Acquired => {
                let outcome = self.inner.handle(req, meta).await;
                let response = match outcome {
                    Ok(r) => r,
                    Err(e) => http::problem_response(e.into(), ""),
                };
                // Answers that depend on state or time (conflicts, stale or missing
                // preconditions, throttling, server errors) are not replayed: a retry with
                // the same key, after fixing the cause, must run again.
                if !replayable(response.status().as_u16()) {
                    if let Err(e) = self.store.release(&key).await {
                        tracing::warn!(error = %e, "could not release the idempotency record; it expires at the deadline");
                    }
                } else {
                    let done = Record {
                        status: RecordStatus::Completed,
                        response: Some(to_stored(&response)),
                        ..record
                    };
                    if let Err(e) = self.store.complete(&key, &done).await {
                        tracing::warn!(error = %e, "could not store the idempotent response");
                    }
                }
                Ok(response)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deterministic_answers_are_replayed() {
        for status in [200, 201, 400, 404, 413, 415, 422] {
            assert!(replayable(status), "{status}");
        }
        for status in [409, 412, 428, 429, 500, 503] {
            assert!(!replayable(status), "{status}");
        }
    }

    #[test]
    fn keys_of_different_subjects_never_collide() {
        assert_ne!(scoped_key("S#x", "k1"), scoped_key("S", "x#k1"));
        assert_eq!(scoped_key("auth0|a", "k"), scoped_key("auth0|a", "k"));
    }

    #[test]
    fn fingerprints_cover_method_path_and_body() {
        let a = fingerprint("POST", "/v1/contractors", b"{}");
        assert_eq!(a, fingerprint("POST", "/v1/contractors", b"{}"));
        assert_ne!(a, fingerprint("PATCH", "/v1/contractors", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/contractors/x", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/contractors", b"{ }"));
    }
}
