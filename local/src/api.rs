//! API Gateway (HTTP API, payload format 2.0) on `127.0.0.1:PORT`: matches the template's
//! routes, runs the JWT authorizer, answers CORS preflights, builds the event Lambda would
//! get, calls the function in-process and turns its answer back into HTTP. The `/_local/`
//! routes (token issuer, JWKS, health, schedules) exist only here, never in the template.

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
        .fallback(dispatch)
        .with_state(state)
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"message": text}).to_string(),
    )
        .into_response()
}

async fn health(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(json!({
        "status": "ready",
        "moto": s.moto_endpoint,
        "issuer": s.issuer.issuer_url,
        "audience": s.issuer.audience,
        "routes": s.routes.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>(),
        "functions": s.functions.keys().collect::<Vec<_>>(),
        "sandboxes": s.sandboxes,
    }))
    .into_response()
}

async fn token(State(s): State<Arc<ApiState>>, body: Bytes) -> Response {
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

async fn jwks(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.issuer.jwks()).into_response()
}

async fn openid(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.issuer.openid_configuration()).into_response()
}

async fn list_schedules(State(s): State<Arc<ApiState>>) -> Response {
    axum::Json(s.schedules.describe()).into_response()
}

async fn fire_schedule(
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
async fn invoke_function(
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

/// `{function, crash_batches, redeliver_after_seconds?}`: the function's next
/// `crash_batches` SQS batches crash mid-batch (see `CrashFault`).
async fn inject_fault(
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

/// A route that matched, with its path parameters.
struct Matched<'a> {
    route: &'a HttpRoute,
    params: Map<String, Value>,
}

/// API Gateway's choice: the most specific path wins (literal segments over `{param}`
/// over `{proxy+}`), then an exact method over `ANY`.
fn match_route<'a>(routes: &'a [HttpRoute], method: &str, path: &str) -> Option<Matched<'a>> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(i64, Matched<'a>)> = None;
    for route in routes {
        let Some((score, params)) = match_path(&route.path, &segments) else {
            continue;
        };
        if route.method != method && route.method != "ANY" {
            continue;
        }
        let score = score * 2 + i64::from(route.method == method);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, Matched { route, params }));
        }
    }
    best.map(|(_, m)| m)
}

fn match_path(pattern: &str, segments: &[&str]) -> Option<(i64, Map<String, Value>)> {
    let parts: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let mut params = Map::new();
    let mut score = 0i64;
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            if i >= segments.len() || segments[i].is_empty() {
                return None;
            }
            params.insert(name.to_owned(), Value::String(segments[i..].join("/")));
            return Some((score, params));
        }
        let seg = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if seg.is_empty() {
                return None;
            }
            let decoded = urlencoding::decode(seg)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| seg.to_string());
            params.insert(name.to_owned(), Value::String(decoded));
            score += 1;
        } else if part == seg {
            score += 1000;
        } else {
            return None;
        }
    }
    (parts.len() == segments.len()).then_some((score, params))
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

fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed.iter().any(|o| o == "*" || o == origin)
}

fn preflight(cors: &crate::model::Cors, origin: Option<&str>, headers: &HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let Some(origin) = origin.filter(|o| origin_allowed(&cors.allow_origins, o)) else {
        return resp;
    };
    let h = resp.headers_mut();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set("access-control-allow-origin", origin.to_owned());
    set("access-control-allow-methods", cors.allow_methods.join(","));
    let requested = headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let allowed: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|r| {
            !r.is_empty()
                && cors
                    .allow_headers
                    .iter()
                    .any(|a| a == "*" || a.eq_ignore_ascii_case(r))
        })
        .collect();
    if !allowed.is_empty() {
        set("access-control-allow-headers", allowed.join(","));
    }
    if let Some(age) = cors.max_age {
        set("access-control-max-age", age.to_string());
    }
    resp
}

fn add_cors(resp: &mut Response, api: &HttpApiDef, origin: Option<&str>) {
    let (Some(cors), Some(origin)) = (&api.cors, origin) else {
        return;
    };
    if !origin_allowed(&cors.allow_origins, origin) {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(origin) {
        resp.headers_mut().insert("access-control-allow-origin", v);
    }
    // The answer depends on the origin that asked, as API Gateway's does.
    if !resp.headers().get_all("vary").iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("origin"))
    }) {
        resp.headers_mut()
            .append("vary", HeaderValue::from_static("Origin"));
    }
    if !cors.expose_headers.is_empty()
        && let Ok(v) = HeaderValue::from_str(&cors.expose_headers.join(","))
    {
        resp.headers_mut()
            .insert("access-control-expose-headers", v);
    }
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("javascript")
        || ct.starts_with("application/x-www-form-urlencoded")
}

#[allow(clippy::too_many_arguments)]
fn build_event(
    route: &HttpRoute,
    params: &Map<String, Value>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    claims: Option<HashMap<String, String>>,
    peer: SocketAddr,
) -> Value {
    let now = chrono::Utc::now();
    let mut hdrs = Map::new();
    let mut cookies = Vec::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if name == "cookie" {
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        hdrs.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    let raw_query = uri.query().unwrap_or("").to_owned();
    let mut query: Map<String, Value> = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            urlencoding::decode(&s.replace('+', " "))
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| s.to_owned())
        };
        let (k, v) = (decode(k), decode(v));
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let (body_value, b64) = if body.is_empty() {
        (Value::Null, false)
    } else if is_text(content_type) && std::str::from_utf8(body).is_ok() {
        (
            Value::String(String::from_utf8_lossy(body).into_owned()),
            false,
        )
    } else {
        (Value::String(B64.encode(body)), true)
    };
    let route_key = format!("{} {}", route.method, route.path);
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let mut ctx = json!({
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or(""),
        "http": {
            "method": method.as_str(),
            "path": uri.path(),
            "protocol": "HTTP/1.1",
            "sourceIp": peer.ip().to_string(),
            "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
        },
        "requestId": ulid::Ulid::new().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        ctx["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": ctx,
        "isBase64Encoded": b64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !params.is_empty() {
        event["pathParameters"] = Value::Object(params.clone());
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// A payload format 2.0 answer as API Gateway turns it into HTTP: a structured response, or
/// any other JSON value as a 200 `application/json` body.
fn to_http(answer: Value) -> Response {
    let Some(obj) = answer.as_object().filter(|o| o.contains_key("statusCode")) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            answer.to_string(),
        )
            .into_response();
    };
    let status = obj
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match obj.get("body") {
        Some(Value::String(s)) if obj.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            B64.decode(s).unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let mut add = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    };
    if let Some(headers) = obj.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            add(k, v.as_str().unwrap_or(&v.to_string()));
        }
    }
    if let Some(multi) = obj.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in multi {
            for v in vs.as_array().cloned().unwrap_or_default() {
                add(k, v.as_str().unwrap_or_default());
            }
        }
    }
    for cookie in obj
        .get("cookies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        add("set-cookie", cookie.as_str().unwrap_or_default());
    }
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
