//! `$default`: what a client sends on its socket. API Gateway closes a connection idle for
//! 10 minutes, so clients send `{"action":"ping"}` every few minutes and get
//! `{"type":"pong"}` back (the route has a route response). Anything else gets an error
//! message saying what is understood; nothing a client sends changes any state.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use platform::invoke::{EventHandler, route_answer};
use platform::{BoxError, Env};
use serde_json::json;

pub struct Default;

pub async fn build(_env: &Env) -> Result<Default, BoxError> {
    Ok(Default)
}

/// What a client's message asks for.
pub fn answer(body: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let action = body
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_owned));
    match action.as_deref() {
        Some("ping") => json!({"type": "pong", "at": now}),
        _ => json!({
            "type": "error",
            "code": "unknown_action",
            "message": "Send {\"action\":\"ping\"} to keep the connection open; progress arrives by itself, and GET /v1/contractors/{id}/activity?after=SEQ returns what you missed.",
        }),
    }
}

impl EventHandler for Default {
    const NAME: &'static str = "realtime-default";
    type Request = ApiGatewayWebsocketProxyRequest;
    type Response = ApiGatewayProxyResponse;

    async fn handle(
        &self,
        request: Self::Request,
        _context: lambda_runtime::Context,
    ) -> Result<Self::Response, BoxError> {
        let reply = answer(request.body.as_deref(), chrono::Utc::now());
        Ok(route_answer(200, Some(reply.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_gets_a_pong_and_anything_else_says_what_is_understood() {
        let now = chrono::Utc::now();
        assert_eq!(answer(Some(r#"{"action":"ping"}"#), now)["type"], "pong");
        for odd in [
            None,
            Some(""),
            Some("ping"),
            Some(r#"{"action":"drop_table"}"#),
            Some("[1,2]"),
        ] {
            assert_eq!(answer(odd, now)["code"], "unknown_action", "{odd:?}");
        }
    }
}
