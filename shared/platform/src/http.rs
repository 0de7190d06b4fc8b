//! The HTTP edge: reading requests, answering JSON or problems, and the wrapper every HTTP
//! function runs inside (correlation id, invocation span, error mapping).

use std::future::Future;
use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::correlation::{self, CorrelationId};
use crate::problem::{self, ApiError, FieldError};
use crate::telemetry;

/// Largest JSON body an endpoint reads unless it says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What a handler needs from the wrapper besides the request.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub correlation_id: CorrelationId,
    pub request_id: String,
}

/// An HTTP function's application: built once per cold start, called per request.
pub trait HttpApp: Send + Sync + 'static {
    /// The function's name in logs and metrics.
    const NAME: &'static str;
    /// What the handler fails with; the edge (`wiring`) maps the domain's errors to an
    /// [`ApiError`], so this crate knows nothing of the domain.
    type Error: Into<ApiError> + Send;

    fn handle(
        &self,
        req: Request,
        meta: RequestMeta,
    ) -> impl Future<Output = Result<Response<Body>, Self::Error>> + Send;
}

/// Calls `app` for one request: sets up the span, maps errors to problem JSON and echoes the
/// correlation id. Never fails: every outcome is an HTTP response.
pub async fn serve<A: HttpApp>(
    app: Arc<A>,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let ctx = req.lambda_context_ref().cloned().unwrap_or_default();
    let request_id = api_request_id(&req).unwrap_or_else(|| ctx.request_id.clone());
    let correlation_id = CorrelationId::first_of([
        req.headers()
            .get(correlation::HEADER)
            .and_then(|v| v.to_str().ok()),
        Some(request_id.as_str()),
    ]);
    let span = telemetry::invocation_span(A::NAME, &ctx, &correlation_id);
    let _entered = span.enter();
    let path = req.raw_http_path().to_owned();
    let method = req.method().clone();
    let meta = RequestMeta {
        correlation_id: correlation_id.clone(),
        request_id,
    };
    drop(_entered);
    let result = tracing::Instrument::instrument(app.handle(req, meta), span.clone()).await;
    let _entered = span.enter();
    let mut response = match result {
        Ok(response) => response,
        Err(err) => problem_response(err.into(), &path),
    };
    tracing::info!(method = %method, path = %path, status = response.status().as_u16(), "request handled");
    if let Ok(value) = http::HeaderValue::from_str(correlation_id.as_str()) {
        response.headers_mut().insert(correlation::HEADER, value);
    }
    protect(&mut response);
    Ok(response)
}

/// Headers every API answer carries: answers hold personal data, so nothing keeps a copy
/// (`Cache-Control: no-store`, unless the route chose otherwise); a browser never guesses a
/// type (`nosniff`); and caches key on the origin that asked (`Vary: Origin`: CORS answers
/// differ by origin).
pub fn protect(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    headers
        .entry(http::header::CACHE_CONTROL)
        .or_insert(http::HeaderValue::from_static("no-store"));
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        http::HeaderValue::from_static("nosniff"),
    );
    headers.append(http::header::VARY, http::HeaderValue::from_static("origin"));
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::Text(text))
            .expect("static response parts are valid"),
        Err(err) => problem_response(ApiError::internal(err), ""),
    }
}

/// The problem document for `err`.
pub fn problem_response(err: ApiError, instance: &str) -> Response<Body> {
    // RFC 9470: the challenge says what the client must do to be let in.
    let challenge = match &err {
        ApiError::StepUpRequired { max_age_seconds } => Some(format!(
            "Bearer error=\"insufficient_user_authentication\", error_description=\"A more recent sign-in is required\", max_age={max_age_seconds}"
        )),
        _ => None,
    };
    let allow = match &err {
        ApiError::MethodNotAllowed { allow } => Some(allow.clone()),
        _ => None,
    };
    let retry_after = match &err {
        ApiError::TooManyRequests {
            retry_after_seconds,
        } => Some(*retry_after_seconds),
        _ => None,
    };
    let mut problem = err.into_problem();
    if !instance.is_empty() {
        problem.instance = Some(instance.to_owned());
    }
    let text = serde_json::to_string(&problem)
        .unwrap_or_else(|_| r#"{"title":"Internal server error","status":500}"#.to_owned());
    let mut builder = Response::builder()
        .status(problem.status)
        .header(http::header::CONTENT_TYPE, problem::CONTENT_TYPE);
    if let Some(seconds) = retry_after {
        builder = builder.header(http::header::RETRY_AFTER, seconds.to_string());
    }
    if let Some(allow) = allow.and_then(|a| http::HeaderValue::from_str(&a).ok()) {
        builder = builder.header(http::header::ALLOW, allow);
    }
    if let Some(challenge) = challenge {
        builder = builder.header(http::header::WWW_AUTHENTICATE, challenge);
    }
    builder
        .body(Body::Text(text))
        .expect("static response parts are valid")
}

/// Reads a JSON body: 415 for another media type, 413 over `limit`, 400 for malformed JSON,
/// 422 with the offending field for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(req: &Request, limit: usize) -> Result<T, ApiError> {
    let media_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match media_type.as_deref() {
        Some("application/json") => {}
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => {}
        _ => {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "The request body is empty; send a JSON object.".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let field = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                Err(ApiError::BadRequest(format!(
                    "The body is not valid JSON: {inner}"
                )))
            } else {
                let path = if field == "." { String::new() } else { field };
                let message = serde_message(&inner);
                // serde names a missing or unknown field only in its message; put it in the path.
                let named = |prefix: &str| {
                    message
                        .strip_prefix(prefix)
                        .and_then(|r| r.split('`').next())
                        .map(str::to_owned)
                };
                let join = |name: String| {
                    if path.is_empty() {
                        name
                    } else {
                        format!("{path}.{name}")
                    }
                };
                let (field, code) = if let Some(name) = named("missing field `") {
                    (join(name), "required")
                } else if let Some(name) = named("unknown field `") {
                    // The path already ends at the unknown field.
                    let field = if path.ends_with(&name) {
                        path.clone()
                    } else {
                        join(name)
                    };
                    (field, "unknown_field")
                } else {
                    (path.clone(), "invalid")
                };
                Err(ApiError::Validation(vec![FieldError::new(
                    field, code, message,
                )]))
            }
        }
    }
}

/// serde's message without the trailing "at line 1 column 9".
fn serde_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(idx) => text[..idx].to_owned(),
        None => text,
    }
}

/// A path parameter the route declares.
pub fn path_param<'a>(req: &'a Request, name: &str) -> Result<&'a str, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {name}")))
}

/// The caller as the JWT authorizer saw it.
pub fn caller(req: &Request, roles_claim: &str) -> Result<Caller, ApiError> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            let claims = ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims)
                .ok_or(ApiError::Unauthorized)?;
            Caller::from_token(claims, header(req, "authorization"), roles_claim)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

fn api_request_id(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
}

/// A header's value as text, if present and readable.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Settings every API function reads the same way.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// The JWT claim that carries roles (`ROLES_CLAIM`, default `roles`).
    pub roles_claim: String,
}

impl ApiSettings {
    /// The caller, as the authorizer let it in.
    pub fn caller(&self, req: &Request) -> Result<Caller, ApiError> {
        caller(req, &self.roles_claim)
    }

    pub fn from_env(env: &crate::Env) -> Self {
        ApiSettings {
            roles_claim: env.get("ROLES_CLAIM").unwrap_or_else(|| "roles".to_owned()),
        }
    }
}

/// The strong entity tag for a resource version, as sent in `ETag` and expected in `If-Match`.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}
