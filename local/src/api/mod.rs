//! API Gateway (HTTP API, payload format 2.0) on `127.0.0.1:PORT`: matches the template's
//! routes, runs the JWT authorizer, answers CORS preflights, builds the event Lambda would
//! get, calls the function in-process and turns its answer back into HTTP. The `/_local/`
//! routes (token issuer, JWKS, health, schedules) exist only here, never in the template.
//!
//! Here: the router and the dispatch of a request to its function. `local_routes` holds
//! the `/_local/` routes, `routes` API Gateway's route matching, `cors` its CORS answers and
//! `payload` the event a function gets and how its answer becomes HTTP.

mod cors;
mod local_routes;
mod payload;
mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use crate::functions::LoadedFunction;
use crate::issuer::{Issuer, TokenRequest};
use crate::model::{HttpApiDef, HttpRoute};
use crate::resolve::ACCOUNT_ID;
use crate::schedules::Schedules;

use cors::{add_cors, preflight};
use local_routes::*;
use payload::{build_event, to_http};
use routes::{match_path, match_route, segments};

/// Lambda's synchronous payload limit.
const MAX_BODY: usize = 6 * 1024 * 1024;

pub struct ApiState {
    pub routes: Vec<HttpRoute>,
    pub apis: HashMap<String, HttpApiDef>,
    pub functions: HashMap<String, Arc<LoadedFunction>>,
    pub issuer: Arc<Issuer>,
    pub schedules: Arc<Schedules>,
    pub moto_endpoint: String,
    /// Where each sandbox listens and how to drive it.
    pub sandboxes: serde_json::Map<String, Value>,
    /// Where the WebSocket API listens and how to connect, if the template has one.
    pub realtime: Option<Value>,
    /// Each dead-letter queue (logical id) with its URL and the queue it serves (logical
    /// id, URL), from the template's redrive policies: what `make redrive` moves back.
    pub dead_letters: HashMap<String, DeadLetters>,
    pub sqs: aws_sdk_sqs::Client,
}

#[derive(Clone, Debug)]
pub struct DeadLetters {
    pub url: String,
    pub serves: String,
    pub serves_url: String,
}

/// The dead-letter queues of `template`'s queues, resolved.
pub fn dead_letters(
    template: &crate::template::Template,
    refs: &HashMap<String, String>,
) -> HashMap<String, DeadLetters> {
    template
        .of_kind("AWS::SQS::Queue")
        .filter_map(|q| {
            let dlq = q
                .properties
                .pointer("/RedrivePolicy/deadLetterTargetArn/Fn::GetAtt/0")?
                .as_str()?;
            Some((
                dlq.to_owned(),
                DeadLetters {
                    url: refs.get(dlq)?.clone(),
                    serves: q.logical_id.clone(),
                    serves_url: refs.get(&q.logical_id)?.clone(),
                },
            ))
        })
        .collect()
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/_local/health", get(health))
        .route("/_local/token", post(token))
        .route("/_local/.well-known/jwks.json", get(jwks))
        .route("/_local/.well-known/openid-configuration", get(openid))
        .route("/_local/schedules", get(list_schedules))
        .route("/_local/schedules/{function}/{event}", post(fire_schedule))
        .route("/_local/functions/{function}/invoke", post(invoke_function))
        .route("/_local/faults", post(inject_fault))
        .route("/_local/queues/{queue}/redrive", post(redrive))
        .route("/_local/mail", get(local_mail))
        .route("/_local/mail.html", get(local_mail))
        .fallback(dispatch)
        .with_state(state)
}

pub(crate) fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"message": text}).to_string(),
    )
        .into_response()
}

async fn dispatch(
    State(s): State<Arc<ApiState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let method = parts.method.as_str().to_uppercase();
    let path = parts.uri.path().to_owned();
    let origin = parts
        .headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let matched = match_route(&s.routes, &method, &path);
    // CORS preflight is answered by API Gateway itself when the API configures CORS.
    if parts.method == Method::OPTIONS
        && let Some(api) = s
            .routes
            .iter()
            .find(|r| match_path(&r.path, &segments(&path)).is_some())
            .and_then(|r| s.apis.get(&r.api))
        && let Some(cors) = &api.cors
    {
        return preflight(cors, origin.as_deref(), &parts.headers);
    }
    let Some(matched) = matched else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let route = matched.route;
    let api = s.apis.get(&route.api).cloned().unwrap_or_default();

    let mut claims = None;
    if route.authorized
        && let Some(jwt) = &api.jwt
    {
        let authorization = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match s.issuer.authorize(authorization, jwt) {
            Ok(c) => claims = Some(c),
            Err(failure) => {
                tracing::info!(path = %path, reason = %failure.0, "JWT authorizer refused the request");
                let mut resp = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                let www = if authorization.is_none() {
                    "Bearer".to_owned()
                } else {
                    format!(
                        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                        failure.0
                    )
                };
                if let Ok(v) = HeaderValue::from_str(&www) {
                    resp.headers_mut().insert("www-authenticate", v);
                }
                add_cors(&mut resp, &api, origin.as_deref());
                return resp;
            }
        }
    }

    let Some(function) = s.functions.get(&route.function) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let event = build_event(
        route,
        &matched.params,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        claims,
        peer,
    );
    let mut resp = match function.invoke(event).await {
        Ok(answer) => to_http(answer),
        Err(e) => {
            tracing::error!(function = %route.function, error = %e, "function failed");
            if e.to_string().starts_with("Task timed out") {
                message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
            } else {
                message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
        }
    };
    add_cors(&mut resp, &api, origin.as_deref());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> HttpRoute {
        HttpRoute {
            function: format!("{method} {path}"),
            method: method.into(),
            path: path.into(),
            api: "Api".into(),
            authorized: true,
        }
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = vec![
            route("GET", "/v1/contractors/{id}"),
            route("GET", "/v1/contractors/me"),
            route("ANY", "/v1/{proxy+}"),
            route("POST", "/v1/contractors"),
        ];
        let pick = |m: &str, p: &str| {
            match_route(&routes, m, p).map(|m| (m.route.function.clone(), m.params))
        };
        assert_eq!(
            pick("GET", "/v1/contractors/me").unwrap().0,
            "GET /v1/contractors/me"
        );
        let (f, params) = pick("GET", "/v1/contractors/ctr_1").unwrap();
        assert_eq!(f, "GET /v1/contractors/{id}");
        assert_eq!(params["id"], "ctr_1");
        assert_eq!(
            pick("POST", "/v1/contractors").unwrap().0,
            "POST /v1/contractors"
        );
        let (f, params) = pick("DELETE", "/v1/contractors/ctr_1").unwrap();
        assert_eq!(f, "ANY /v1/{proxy+}");
        assert_eq!(params["proxy"], "contractors/ctr_1");
        assert!(pick("GET", "/v2/anything").is_none());
        assert!(
            pick("GET", "/v1/contractors/ctr_1/extra")
                .unwrap()
                .0
                .starts_with("ANY")
        );
    }

    #[test]
    fn the_default_route_takes_only_what_nothing_else_matches() {
        let routes = vec![
            route("ANY", crate::model::DEFAULT_ROUTE),
            route("GET", "/v1/contractors/{id}"),
        ];
        let pick = |m: &str, p: &str| {
            match_route(&routes, m, p)
                .map(|m| m.route.function.clone())
                .unwrap()
        };
        assert_eq!(
            pick("GET", "/v1/contractors/ctr_1"),
            "GET /v1/contractors/{id}"
        );
        assert_eq!(pick("TRACE", "/v1/contractors/ctr_1"), "ANY $default");
        assert_eq!(pick("GET", "/nowhere"), "ANY $default");
    }

    #[test]
    fn path_parameters_are_url_decoded() {
        let routes = vec![route("GET", "/files/{name}")];
        let m = match_route(&routes, "GET", "/files/a%20b").unwrap();
        assert_eq!(m.params["name"], "a b");
    }

    #[test]
    fn non_structured_answers_become_json_200() {
        let resp = to_http(json!({"hello": "world"}));
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = to_http(
            json!({"statusCode": 201, "headers": {"location": "/x"}, "cookies": ["a=b"], "body": "aGk=", "isBase64Encoded": true}),
        );
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["location"], "/x");
        assert_eq!(resp.headers()["set-cookie"], "a=b");
    }
}
