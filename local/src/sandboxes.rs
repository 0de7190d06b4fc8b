//! Provider sandboxes the runner starts beside the stack, speaking the providers' documented
//! API shapes so the product's real adapters run against them. Plaid: the webhook
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

pub struct PlaidSandbox {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

struct PlaidState {
    signer: PlaidSigner,
    client_id: String,
    secret: String,
    http: reqwest::Client,
}

impl PlaidSandbox {
    /// Starts on a free loopback port, accepting `client_id`/`secret` (the local secret).
    pub async fn start(client_id: &str, secret: &str) -> Result<PlaidSandbox, RunnerError> {
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| RunnerError::Io(format!("Plaid sandbox: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| RunnerError::Io(e.to_string()))?
            .port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tracing::info!(port, "Plaid sandbox ready");
        Ok(PlaidSandbox {
            base_url: format!("http://127.0.0.1:{port}"),
            task,
        })
    }

    pub fn stop(&self) {
        self.task.abort();
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
