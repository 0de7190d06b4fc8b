//! Insurance verifier (TrustLayer-style): `POST /v2/documents` (bearer token) fetches the
//! document by its URL and answers 202, then sends the verdict as a `document.processed`
//! webhook signed with `X-Hmac-Hash`; `POST /sandbox/scenario` sets what happens (compliant,
//! non_compliant, needs_review, silent = no verdict, down = 503, rate_limited = 429 with
//! Retry-After; copies; delay), per party name.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Sandbox;
use crate::RunnerError;

pub struct InsuranceSandbox;

struct InsuranceState {
    api_token: String,
    webhook_secret: String,
    webhook_url: String,
    http: reqwest::Client,
    /// By party name ("" = every other party): what happens to its submissions.
    scenarios: std::sync::Mutex<std::collections::HashMap<String, Value>>,
    submissions: std::sync::Mutex<Vec<Value>>,
}

impl InsuranceSandbox {
    pub async fn start(
        api_token: &str,
        webhook_secret: &str,
        webhook_url: &str,
    ) -> Result<Sandbox, RunnerError> {
        let state = Arc::new(InsuranceState {
            api_token: api_token.to_owned(),
            webhook_secret: webhook_secret.to_owned(),
            webhook_url: webhook_url.to_owned(),
            http: reqwest::Client::new(),
            scenarios: std::sync::Mutex::new(std::collections::HashMap::from([(
                String::new(),
                json!({"mode": "compliant", "copies": 1, "delay_ms": 50}),
            )])),
            submissions: std::sync::Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v2/documents", post(submit_document))
            .route("/sandbox/scenario", post(set_scenario))
            .route("/sandbox/submissions", axum::routing::get(list_submissions))
            .with_state(state);
        Sandbox::serve("insurance", app).await
    }
}

/// `{party?, mode?, copies?, delay_ms?}`: what happens to submissions for `party` (every
/// other party when absent), so tests running at once do not disturb each other.
async fn set_scenario(State(s): State<Arc<InsuranceState>>, Json(req): Json<Value>) -> Response {
    let party = req["party"].as_str().unwrap_or_default().to_owned();
    let mut scenarios = s.scenarios.lock().expect("scenarios");
    let mut scenario = scenarios
        .get(&party)
        .or_else(|| scenarios.get(""))
        .cloned()
        .unwrap_or_default();
    if let (Some(current), Some(changes)) = (scenario.as_object_mut(), req.as_object()) {
        current.extend(changes.clone().into_iter().filter(|(k, _)| k != "party"));
    }
    scenarios.insert(party, scenario.clone());
    Json(scenario).into_response()
}

async fn list_submissions(State(s): State<Arc<InsuranceState>>) -> Response {
    Json(json!({"data": *s.submissions.lock().expect("submissions")})).into_response()
}

async fn submit_document(
    State(s): State<Arc<InsuranceState>>,
    headers: axum::http::HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(s.api_token.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "invalid token"})),
        )
            .into_response();
    }
    let party = req["party"]["name"].as_str().unwrap_or_default();
    let scenario = {
        let scenarios = s.scenarios.lock().expect("scenarios");
        scenarios
            .get(party)
            .or_else(|| scenarios.get(""))
            .cloned()
            .unwrap_or_default()
    };
    match scenario["mode"].as_str().unwrap_or("compliant") {
        "down" => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"message": "service unavailable"})),
            )
                .into_response();
        }
        "rate_limited" => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"message": "slow down"})),
            )
                .into_response();
        }
        _ => {}
    }
    let external_id = req["externalId"].as_str().unwrap_or_default().to_owned();
    // Fetch the document the way the provider would, through the presigned URL.
    let fetched = match s
        .http
        .get(req["documentUrl"].as_str().unwrap_or_default())
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r.bytes().await.map(|b| b.len()).unwrap_or(0),
        _ => 0,
    };
    let id = format!("tl_doc_{}", ulid::Ulid::new().to_string().to_lowercase());
    s.submissions
        .lock()
        .expect("submissions")
        .push(json!({"id": id, "externalId": external_id, "party": req["party"], "fetched_bytes": fetched}));
    let state = s.clone();
    let doc_id = id.clone();
    // "silent": accepted, but no verdict is ever sent (a test sends its own).
    let silent = scenario["mode"] == "silent";
    tokio::spawn(async move {
        if silent {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            scenario["delay_ms"].as_u64().unwrap_or(50),
        ))
        .await;
        let status = scenario["mode"].as_str().unwrap_or("compliant");
        let body = json!({
            "id": format!("tl_evt_{}", ulid::Ulid::new().to_string().to_lowercase()),
            "type": "document.processed",
            "data": {
                "documentId": doc_id, "externalId": external_id, "status": status,
                "processedAt": chrono::Utc::now().to_rfc3339(),
                "reasons": if status == "non_compliant" { json!([{"code": "policy_cancelled", "message": "The insurer reports the policy cancelled."}]) } else { json!([]) }
            }
        })
        .to_string();
        let sig = webhooks::sign_hmac_sha256(state.webhook_secret.as_bytes(), body.as_bytes());
        for _ in 0..scenario["copies"].as_u64().unwrap_or(1).max(1) {
            let _ = state
                .http
                .post(&state.webhook_url)
                .header("content-type", "application/json")
                .header("x-hmac-hash", &sig)
                .body(body.clone())
                .send()
                .await;
        }
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "externalId": req["externalId"], "status": "processing"})),
    )
        .into_response()
}
