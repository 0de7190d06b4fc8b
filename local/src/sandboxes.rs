//! Provider sandboxes the runner starts beside the stack, speaking the providers' documented
//! API shapes so the product's real adapters run against them. Insurance verifier
//! (TrustLayer-style): `POST /v2/documents` (bearer token) fetches the document by its URL
//! and answers 202, then sends the verdict as a `document.processed` webhook signed with
//! `X-Hmac-Hash`; `POST /sandbox/scenario` sets what happens (compliant, non_compliant,
//! needs_review, silent = no verdict, down = 503, rate_limited = 429 with Retry-After;
//! copies; delay), per party name. Plaid: the webhook
//! verification key endpoint (`/webhook_verification_key/get`, checking client id and
//! secret), and signed webhooks (`Plaid-Verification`, ES256) sent on a test's request,
//! duplicated or with a stale `iat` when the scenario asks.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use webhooks::PlaidSigner;

use crate::RunnerError;

/// A sandbox server on a free loopback port, stopped with the stack.
pub struct Sandbox {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    async fn serve(name: &str, app: Router) -> Result<Sandbox, RunnerError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RunnerError::Io(format!("{name} sandbox: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| RunnerError::Io(e.to_string()))?
            .port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tracing::info!(port, sandbox = name, "sandbox ready");
        Ok(Sandbox {
            base_url: format!("http://127.0.0.1:{port}"),
            task,
        })
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

pub struct PlaidSandbox;

struct PlaidState {
    signer: PlaidSigner,
    client_id: String,
    secret: String,
    http: reqwest::Client,
}

impl PlaidSandbox {
    /// Starts on a free loopback port, accepting `client_id`/`secret` (the local secret).
    pub async fn start(client_id: &str, secret: &str) -> Result<Sandbox, RunnerError> {
        let state = Arc::new(PlaidState {
            signer: PlaidSigner::generate(format!(
                "sandbox-{}",
                ulid::Ulid::new().to_string().to_lowercase()
            )),
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/webhook_verification_key/get", post(verification_key))
            .route("/sandbox/webhooks/send", post(send_webhook))
            .with_state(state);
        Sandbox::serve("Plaid", app).await
    }
}

fn plaid_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error_type": "INVALID_REQUEST", "error_code": code, "error_message": message, "display_message": null, "request_id": ulid::Ulid::new().to_string()})),
    )
        .into_response()
}

async fn verification_key(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    if req["client_id"] != s.client_id.as_str() || req["secret"] != s.secret.as_str() {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_API_KEYS",
            "invalid client_id or secret provided",
        );
    }
    let jwk = s.signer.jwk();
    if req["key_id"] != jwk["kid"] {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
            "invalid key_id provided",
        );
    }
    Json(json!({"key": jwk, "request_id": ulid::Ulid::new().to_string()})).into_response()
}

/// `{url, body, copies?, iat_offset_seconds?, tamper?}`: signs `body` and POSTs it to `url`
/// `copies` times (a duplicated webhook); a negative `iat_offset_seconds` makes it stale;
/// `tamper` changes the body after signing (a forgery). Answers the statuses received.
async fn send_webhook(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    let url = req["url"].as_str().unwrap_or_default().to_owned();
    let body = req["body"].to_string();
    let iat = chrono::Utc::now().timestamp() + req["iat_offset_seconds"].as_i64().unwrap_or(0);
    let token = s.signer.token(body.as_bytes(), iat);
    let sent = if req["tamper"].as_bool().unwrap_or(false) {
        body.replacen("\"", "\" ", 1)
    } else {
        body
    };
    let mut statuses = Vec::new();
    for _ in 0..req["copies"].as_u64().unwrap_or(1).max(1) {
        let status = s
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("plaid-verification", &token)
            .body(sent.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        statuses.push(status);
    }
    Json(json!({"statuses": statuses})).into_response()
}

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
