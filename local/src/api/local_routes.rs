//! The `/_local/` routes: token issuer, JWKS, health, schedules, direct invocation and
//! fault injection. They exist only in the local runner, never in the template.

use super::*;

pub(crate) async fn health(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(json!({
        "status": "ready",
        "moto": s.moto_endpoint,
        "issuer": s.issuer.issuer_url,
        "audience": s.issuer.audience,
        "routes": s.routes.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>(),
        "functions": s.functions.keys().collect::<Vec<_>>(),
        "sandboxes": s.sandboxes,
        "realtime": s.realtime,
    }))
    .into_response()
}

pub(crate) async fn token(State(s): State<Arc<ApiState>>, body: Bytes) -> Response {
    let req: TokenRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_request", "error_description": e.to_string()})),
            )
                .into_response();
        }
    };
    match s.issuer.issue(&req) {
        Ok((token, lifetime)) => axum::Json(
            json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime}),
        )
        .into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_request", "error_description": e.to_string()})),
        )
            .into_response(),
    }
}

pub(crate) async fn jwks(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.issuer.jwks()).into_response()
}

pub(crate) async fn openid(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.issuer.openid_configuration()).into_response()
}

pub(crate) async fn list_schedules(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.schedules.describe()).into_response()
}

pub(crate) async fn fire_schedule(
    State(s): State<Arc<ApiState>>,
    Path((function, event)): Path<(String, String)>,
) -> Response {
    match s.schedules.fire(&function, &event).await {
        Some(Ok(result)) => {
            axum::Json(json!({"function": function, "event": event, "result": result}))
                .into_response()
        }
        Some(Err(e)) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"function": function, "event": event, "error": e.to_string()})),
        )
            .into_response(),
        None => message(StatusCode::NOT_FOUND, "no such schedule"),
    }
}

/// `aws lambda invoke` for a template function: the body is the event, the answer the
/// function's result (502 with the error when it fails). Lets a test hand a consumer the
/// exact batch it wants, like a redelivery after a crash.
pub(crate) async fn invoke_function(
    State(s): State<Arc<ApiState>>,
    Path(function): Path<String>,
    axum::Json(payload): axum::Json<Value>,
) -> Response {
    let Some(f) = s.functions.get(&function) else {
        return message(StatusCode::NOT_FOUND, "no such function");
    };
    match f.invoke(payload).await {
        Ok(result) => axum::Json(result).into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"errorType": "FunctionError", "errorMessage": e.to_string()})),
        )
            .into_response(),
    }
}

/// `make redrive QUEUE=<DLQ>`: moves every message of a dead-letter queue back to the queue
/// it serves (`platform::sqs::redrive`, the same code the cloud's `redrive` binary runs).
pub(crate) async fn redrive(State(s): State<Arc<ApiState>>, Path(queue): Path<String>) -> Response {
    let Some(d) = s.dead_letters.get(&queue) else {
        let known: Vec<&String> = s.dead_letters.keys().collect();
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "not a dead-letter queue of the template", "dead_letter_queues": known})),
        )
            .into_response();
    };
    match platform::sqs::redrive(&s.sqs, &d.url, &d.serves_url, 10_000).await {
        Ok(moved) => {
            axum::Json(json!({"queue": queue, "to": d.serves, "moved": moved})).into_response()
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"queue": queue, "error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `{function, crash_batches, redeliver_after_seconds?}`: the function's next
/// `crash_batches` SQS batches crash mid-batch (see `CrashFault`).
pub(crate) async fn inject_fault(
    State(s): State<Arc<ApiState>>,
    axum::Json(req): axum::Json<Value>,
) -> Response {
    let Some(f) = req["function"]
        .as_str()
        .and_then(|name| s.functions.get(name))
    else {
        return message(StatusCode::NOT_FOUND, "no such function");
    };
    let fault = crate::functions::CrashFault {
        batches: req["crash_batches"].as_u64().unwrap_or(1) as u32,
        redeliver_after: std::time::Duration::from_secs(
            req["redeliver_after_seconds"].as_u64().unwrap_or(2),
        ),
    };
    f.inject_crash(fault);
    axum::Json(json!({"function": f.def.logical_id, "crash_batches": fault.batches}))
        .into_response()
}

/// The SendGrid sandbox's mailbox (`/_local/mail` JSON, `/_local/mail.html` to look at):
/// every email the stack sent, as the contractor would receive it.
pub(crate) async fn local_mail(State(s): State<Arc<ApiState>>, uri: Uri) -> Response {
    let Some(base) = s.sandboxes.get("sendgrid").and_then(|v| v["url"].as_str()) else {
        return message(
            StatusCode::NOT_FOUND,
            "no function of this template sends email",
        );
    };
    let html = uri.path().ends_with(".html");
    let url = format!("{base}/sandbox/mail{}", if html { ".html" } else { "" });
    match reqwest::get(&url).await {
        Ok(resp) => {
            let kind = if html {
                "text/html; charset=utf-8"
            } else {
                "application/json"
            };
            let body = resp.bytes().await.unwrap_or_default();
            (StatusCode::OK, [("content-type", kind)], body).into_response()
        }
        Err(e) => message(StatusCode::BAD_GATEWAY, &format!("mailbox: {e}")),
    }
}
