//! SendGrid v3 mail send, as SendGrid answers it: `POST /v3/mail/send` with
//! `Authorization: Bearer <api key>` (401 `{"errors":[{"message"}]}` otherwise), the body
//! checked against SendGrid's published definition (`sendgrid-v3.json`, 400 with
//! `{"errors":[{"message","field"}]}` naming what it refuses), 202 with `X-Message-Id`.
//! Accepted messages land in a mailbox you can read: `GET /sandbox/mail` (JSON, newest
//! last) and `GET /sandbox/mail.html` (each message as the contractor would see it).
//! `POST /sandbox/scenario {mode: ok|down|rate_limited|slow, delay_ms?, retry_after?}`
//! makes it fail with 503, throttle with 429 + `Retry-After`, or answer late (but accept).
//! `POST /sandbox/events {events: [{email, event, …}], signing?: "good"|"none"|"forged"|"stale"}`
//! sends a signed Event Webhook (ECDSA P-256 over timestamp + raw body, SendGrid's headers)
//! to the stack and answers with the stack's status; the verification key it signs with is
//! what the companion gives the receiving function.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Sandbox;
use crate::RunnerError;

pub struct SendGridSandbox;

struct Mailbox {
    api_key: String,
    signer: Arc<webhooks::sendgrid::Signer>,
    webhook_url: String,
    definition: Option<Arc<contracts::Definition>>,
    messages: Mutex<Vec<Value>>,
    scenario: Mutex<Value>,
}

impl SendGridSandbox {
    pub async fn start(
        api_key: &str,
        definition: Option<Arc<contracts::Definition>>,
        signer: Arc<webhooks::sendgrid::Signer>,
        webhook_url: &str,
    ) -> Result<Sandbox, RunnerError> {
        let state = Arc::new(Mailbox {
            api_key: api_key.to_owned(),
            signer,
            webhook_url: webhook_url.to_owned(),
            definition,
            messages: Mutex::new(Vec::new()),
            scenario: Mutex::new(json!({"mode": "ok"})),
        });
        let app = Router::new()
            .route("/v3/mail/send", post(send))
            .route("/sandbox/mail", get(mail))
            .route("/sandbox/mail.html", get(mail_html))
            .route("/sandbox/scenario", post(scenario))
            .route("/sandbox/events", post(events))
            .with_state(state);
        Sandbox::serve("sendgrid", app).await
    }
}

fn errors(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    (
        status,
        Json(json!({"errors": [{"message": message, "field": field, "help": null}]})),
    )
        .into_response()
}

async fn send(State(m): State<Arc<Mailbox>>, headers: HeaderMap, body: Bytes) -> Response {
    let scenario = m.scenario.lock().expect("scenario").clone();
    let delay = scenario["delay_ms"].as_u64().unwrap_or(0);
    match scenario["mode"].as_str() {
        Some("down") => {
            return errors(StatusCode::SERVICE_UNAVAILABLE, "service unavailable", None);
        }
        Some("rate_limited") => {
            let mut r = errors(StatusCode::TOO_MANY_REQUESTS, "too many requests", None);
            let after = scenario["retry_after"].as_u64().unwrap_or(1).to_string();
            if let Ok(v) = after.parse() {
                r.headers_mut().insert("retry-after", v);
            }
            return r;
        }
        _ => {}
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", m.api_key));
    if !authorized {
        return errors(
            StatusCode::UNAUTHORIZED,
            "The provided authorization grant is invalid, expired, or revoked",
            None,
        );
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return errors(StatusCode::BAD_REQUEST, "Bad Request", None);
    };
    if let Some(found) = super::refusals(
        m.definition.as_deref(),
        "POST",
        "/v3/mail/send",
        Some("application/json"),
        &parsed,
    ) {
        let first = &found[0];
        return errors(
            StatusCode::BAD_REQUEST,
            &format!("{:?}", first.problem),
            Some(first.at.trim_start_matches("$.")),
        );
    }
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let id = ulid::Ulid::new().to_string();
    let content = |kind: &str| {
        parsed["content"]
            .as_array()
            .and_then(|c| c.iter().find(|p| p["type"] == kind))
            .map(|p| p["value"].clone())
            .unwrap_or(Value::Null)
    };
    let personalization = &parsed["personalizations"][0];
    m.messages.lock().expect("mailbox").push(json!({
        "message_id": id,
        "provider": "sendgrid",
        "received_at": chrono::Utc::now(),
        "from": parsed["from"],
        "to": personalization["to"],
        "subject": personalization["subject"].as_str().or(parsed["subject"].as_str()),
        "text": content("text/plain"),
        "html": content("text/html"),
        "categories": parsed["categories"],
        "custom_args": personalization["custom_args"],
        "headers": parsed["headers"],
        "asm": parsed["asm"],
    }));
    let mut r = StatusCode::ACCEPTED.into_response();
    if let Ok(v) = id.parse() {
        r.headers_mut().insert("x-message-id", v);
    }
    r
}

async fn mail(State(m): State<Arc<Mailbox>>) -> Response {
    Json(json!({"data": *m.messages.lock().expect("mailbox")})).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn mail_html(State(m): State<Arc<Mailbox>>) -> Response {
    let mut page = String::from(
        "<!doctype html><meta charset=utf-8><title>Local mailbox</title><body style=\"font-family:sans-serif;background:#eee\"><h1>Local mailbox</h1>",
    );
    for msg in m.messages.lock().expect("mailbox").iter().rev() {
        let to = msg["to"][0]["email"].as_str().unwrap_or("");
        let subject = msg["subject"].as_str().unwrap_or("");
        let html = msg["html"].as_str().unwrap_or("");
        page.push_str(&format!(
            "<section style=\"margin:16px 0\"><p><b>To:</b> {} &nbsp; <b>Subject:</b> {}</p><iframe sandbox srcdoc=\"{}\" style=\"width:100%;height:520px;border:1px solid #ccc;background:#fff\"></iframe></section>",
            escape(to),
            escape(subject),
            escape(html)
        ));
    }
    Html(page).into_response()
}

async fn scenario(State(m): State<Arc<Mailbox>>, Json(req): Json<Value>) -> Response {
    *m.scenario.lock().expect("scenario") = req.clone();
    Json(req).into_response()
}

async fn events(State(m): State<Arc<Mailbox>>, Json(req): Json<Value>) -> Response {
    let body = serde_json::to_vec(&req["events"]).unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let signing = req["signing"].as_str().unwrap_or("good");
    let timestamp = if signing == "stale" { now - 3600 } else { now }.to_string();
    let mut post = reqwest::Client::new()
        .post(&m.webhook_url)
        .header("content-type", "application/json")
        .body(body.clone());
    match signing {
        "none" => {}
        "forged" => {
            let other = webhooks::sendgrid::Signer::generate();
            post = post
                .header(
                    "X-Twilio-Email-Event-Webhook-Signature",
                    other.sign(&timestamp, &body),
                )
                .header("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp);
        }
        _ => {
            post = post
                .header(
                    "X-Twilio-Email-Event-Webhook-Signature",
                    m.signer.sign(&timestamp, &body),
                )
                .header("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp);
        }
    }
    match post.send().await {
        Ok(resp) => Json(json!({"status": resp.status().as_u16()})).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
