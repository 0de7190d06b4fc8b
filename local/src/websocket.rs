//! API Gateway's WebSocket API, played from the template (`AWS::ApiGatewayV2::Api` with
//! `ProtocolType: WEBSOCKET`, its routes, integrations, REQUEST authorizer, route responses
//! and stage) on its own port: a client connects to `ws://127.0.0.1:PORT/{stage}`; `$connect`
//! runs the authorizer (401 without its identity source, without calling it) and then the
//! route's function; frames are routed by the route selection expression
//! (`$request.body.action`, else `$default`), a two-way route's answer goes back on the
//! socket; a close runs `$disconnect`. The management API the SDK posts to
//! (`POST|GET|DELETE /{stage}/@connections/{id}`) is served on the same port, with 410 Gone
//! for a connection that is not open (moto's answers every id with 200, FIELD-NOTES).
//! Every event a function gets has the shape Lambda would give it (checked against
//! `aws_lambda_events` in the tests). Limits as API Gateway's: 32 KB frames, 128 KB
//! messages, 10 minutes idle, 2 hours per connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::RunnerError;
use crate::functions::LoadedFunction;
use crate::resolve::{ACCOUNT_ID, REGION, Resolver};
use crate::template::Template;

pub const MAX_FRAME_BYTES: usize = 32 * 1024;
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// A WebSocket API as the template declares it.
#[derive(Clone, Debug)]
pub struct WsApiDef {
    pub logical_id: String,
    /// What `Ref` of the API gives (the host's first label in its URLs).
    pub api_id: String,
    pub stage: String,
    pub routes: HashMap<String, WsRoute>,
}

#[derive(Clone, Debug)]
pub struct WsRoute {
    pub key: String,
    /// The function's logical id.
    pub function: String,
    pub authorizer: Option<WsAuthorizer>,
    /// A route response exists: the function's answer goes back to the client.
    pub two_way: bool,
}

#[derive(Clone, Debug)]
pub struct WsAuthorizer {
    pub function: String,
    /// `route.request.querystring.NAME` / `route.request.header.NAME`.
    pub identity_source: Vec<String>,
}

fn err(msg: impl Into<String>) -> RunnerError {
    RunnerError::Template(msg.into())
}

/// The logical id a `{"Ref": X}` names.
fn ref_name(v: Option<&Value>) -> Option<&str> {
    v?.get("Ref")?.as_str()
}

/// The function a Lambda integration URI invokes
/// (`…/functions/arn:aws:lambda:REGION:ACCOUNT:function:NAME[:alias]/invocations`).
fn invoked_function(uri: &str, resolver: &Resolver) -> Option<String> {
    let name = uri.split(":function:").nth(1)?.split(['/', ':']).next()?;
    resolver
        .refs
        .iter()
        .find(|(_, physical)| physical.as_str() == name)
        .map(|(logical, _)| logical.clone())
}

/// Every enabled WebSocket API of the template.
pub fn websocket_apis(
    template: &Template,
    resolver: &Resolver,
) -> Result<Vec<WsApiDef>, RunnerError> {
    let mut apis = Vec::new();
    for api in template.of_kind("AWS::ApiGatewayV2::Api") {
        if !crate::model::enabled(api, resolver)? {
            continue;
        }
        let p = &api.properties;
        if p.get("ProtocolType").and_then(Value::as_str) != Some("WEBSOCKET") {
            continue;
        }
        let id = api.logical_id.as_str();
        let belongs =
            |r: &&crate::template::Resource| ref_name(r.properties.get("ApiId")) == Some(id);
        let stage = template
            .of_kind("AWS::ApiGatewayV2::Stage")
            .find(belongs)
            .map(|s| resolver.string(s.properties.get("StageName").unwrap_or(&Value::Null)))
            .transpose()?
            .ok_or_else(|| {
                err(format!(
                    "{id}: a WebSocket API needs an AWS::ApiGatewayV2::Stage"
                ))
            })?;
        let integration_function = |logical: &str| -> Result<String, RunnerError> {
            let integration = template
                .resources
                .get(logical)
                .ok_or_else(|| err(format!("{id}: no integration {logical}")))?;
            let uri = resolver.string(
                integration
                    .properties
                    .get("IntegrationUri")
                    .ok_or_else(|| err(format!("{logical}: IntegrationUri is missing")))?,
            )?;
            invoked_function(&uri, resolver).ok_or_else(|| {
                err(format!(
                    "{logical}: {uri} names no function of the template"
                ))
            })
        };
        let two_way: Vec<&str> = template
            .of_kind("AWS::ApiGatewayV2::RouteResponse")
            .filter(belongs)
            .filter_map(|r| ref_name(r.properties.get("RouteId")))
            .collect();
        let mut routes = HashMap::new();
        for route in template.of_kind("AWS::ApiGatewayV2::Route").filter(belongs) {
            let rp = &route.properties;
            let key = resolver.string(rp.get("RouteKey").unwrap_or(&Value::Null))?;
            let target = resolver.string(rp.get("Target").ok_or_else(|| {
                err(format!(
                    "{}: a route without a Target is not emulated",
                    route.logical_id
                ))
            })?)?;
            let integration = target.strip_prefix("integrations/").unwrap_or(&target);
            let integration = resolver
                .refs
                .iter()
                .find(|(_, physical)| physical.as_str() == integration)
                .map(|(logical, _)| logical.clone())
                .unwrap_or_else(|| integration.to_owned());
            let authorizer = match ref_name(rp.get("AuthorizerId")) {
                Some(a) => {
                    let res = template
                        .resources
                        .get(a)
                        .ok_or_else(|| err(format!("{}: no authorizer {a}", route.logical_id)))?;
                    let uri = resolver
                        .string(res.properties.get("AuthorizerUri").unwrap_or(&Value::Null))?;
                    let identity_source = match resolver
                        .resolve(res.properties.get("IdentitySource").unwrap_or(&Value::Null))?
                    {
                        Value::Array(items) => items
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect(),
                        Value::String(s) => s.split(',').map(|s| s.trim().to_owned()).collect(),
                        _ => vec![],
                    };
                    Some(WsAuthorizer {
                        function: invoked_function(&uri, resolver).ok_or_else(|| {
                            err(format!("{a}: {uri} names no function of the template"))
                        })?,
                        identity_source,
                    })
                }
                None => None,
            };
            routes.insert(
                key.clone(),
                WsRoute {
                    key,
                    function: integration_function(&integration)?,
                    authorizer,
                    two_way: two_way.contains(&route.logical_id.as_str()),
                },
            );
        }
        apis.push(WsApiDef {
            logical_id: id.to_owned(),
            api_id: resolver
                .refs
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_owned()),
            stage,
            routes,
        });
    }
    Ok(apis)
}

/// How long connections may live and idle.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub idle: Duration,
    pub max: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(600),
            max: Duration::from_secs(7200),
        }
    }
}

enum Outbound {
    Text(String),
    Close,
}

struct Live {
    tx: mpsc::UnboundedSender<Outbound>,
    connected_at: DateTime<Utc>,
    last_active: DateTime<Utc>,
    source_ip: String,
    user_agent: String,
}

pub struct WsState {
    pub api: WsApiDef,
    pub functions: HashMap<String, Arc<LoadedFunction>>,
    pub limits: Limits,
    /// `host:port` clients connect to (the events' `domainName`).
    pub domain: String,
    live: Mutex<HashMap<String, Live>>,
}

impl WsState {
    pub fn new(
        api: WsApiDef,
        functions: HashMap<String, Arc<LoadedFunction>>,
        limits: Limits,
        domain: String,
    ) -> Self {
        WsState {
            api,
            functions,
            limits,
            domain,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Open connections now.
    pub fn open_connections(&self) -> usize {
        self.live.lock().expect("connections").len()
    }
}

pub fn router(state: Arc<WsState>) -> Router {
    Router::new()
        .route(
            "/{stage}/@connections/{id}",
            post(post_to_connection)
                .get(get_connection)
                .delete(delete_connection),
        )
        .route("/{stage}", get(connect))
        .route("/", get(connect))
        .with_state(state)
}

fn connection_id() -> String {
    // API Gateway's ids look like `Sl3TSeQ3IAMCLwg=`: base64 of 10 random bytes.
    let id = ulid::Ulid::new().random().to_be_bytes();
    base64::engine::general_purpose::STANDARD.encode(&id[6..16])
}

fn query_maps(uri: &Uri) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in uri.query().map(url_pairs).unwrap_or_default() {
        single.insert(k.clone(), Value::String(v.clone()));
        multi
            .entry(k)
            .or_insert_with(|| Value::Array(vec![]))
            .as_array_mut()
            .expect("array")
            .push(Value::String(v));
    }
    (single, multi)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|c| c.into_owned())
                    .unwrap_or_else(|_| s.to_owned())
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn header_maps(headers: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let Ok(v) = value.to_str() else { continue };
        // API Gateway passes header names as the client sent them; HTTP/1 clients
        // usually capitalise them, and functions must read them case-insensitively.
        single.insert(name.as_str().to_owned(), Value::String(v.to_owned()));
        multi
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::Array(vec![]))
            .as_array_mut()
            .expect("array")
            .push(Value::String(v.to_owned()));
    }
    (single, multi)
}

/// The `requestContext` of a WebSocket event.
fn request_context(
    s: &WsState,
    route_key: &str,
    event_type: &str,
    connection_id: &str,
    connected_at: DateTime<Utc>,
    source_ip: &str,
    user_agent: &str,
) -> Map<String, Value> {
    let now = Utc::now();
    let request_id = ulid::Ulid::new().to_string();
    let mut ctx = Map::new();
    for (k, v) in [
        ("routeKey", json!(route_key)),
        ("eventType", json!(event_type)),
        ("extendedRequestId", json!(request_id)),
        (
            "requestTime",
            json!(now.format("%d/%b/%Y:%H:%M:%S +0000").to_string()),
        ),
        ("messageDirection", json!("IN")),
        ("stage", json!(s.api.stage)),
        ("connectedAt", json!(connected_at.timestamp_millis())),
        ("requestTimeEpoch", json!(now.timestamp_millis())),
        (
            "identity",
            json!({"sourceIp": source_ip, "userAgent": user_agent}),
        ),
        ("requestId", json!(request_id)),
        ("domainName", json!(s.domain)),
        ("connectionId", json!(connection_id)),
        ("apiId", json!(s.api.api_id)),
    ] {
        ctx.insert(k.to_owned(), v);
    }
    ctx
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"message": message}).to_string(),
    )
        .into_response()
}

/// The `$connect` handshake: authorizer, then the route's function, then the upgrade.
async fn connect(
    State(s): State<Arc<WsState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(route) = s.api.routes.get("$connect").cloned() else {
        // Without a $connect route every connection is accepted.
        return accept(s, ws, peer, &headers, Map::new());
    };
    let id = connection_id();
    let connected_at = Utc::now();
    let source_ip = peer.ip().to_string();
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (query, multi_query) = query_maps(&uri);
    let (hdrs, multi_hdrs) = header_maps(&headers);
    let ctx = request_context(
        &s,
        "$connect",
        "CONNECT",
        &id,
        connected_at,
        &source_ip,
        &user_agent,
    );

    let mut authorizer_context = Map::new();
    if let Some(auth) = &route.authorizer {
        for source in &auth.identity_source {
            let present = if let Some(name) = source.strip_prefix("route.request.querystring.") {
                query
                    .get(name)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            } else if let Some(name) = source.strip_prefix("route.request.header.") {
                headers.get(name).is_some()
            } else {
                true
            };
            if !present {
                return refuse(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
        }
        let event = json!({
            "type": "REQUEST",
            "methodArn": format!("arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{}/{}/$connect", s.api.api_id, s.api.stage),
            "headers": hdrs,
            "multiValueHeaders": multi_hdrs,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "stageVariables": {},
            "requestContext": ctx,
        });
        let Some(function) = s.functions.get(&auth.function) else {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        };
        match function.invoke(event).await {
            Err(e) if e.to_string() == "Unauthorized" => {
                return refuse(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
            Err(e) => {
                tracing::error!(function = %auth.function, error = %e, "authorizer failed");
                return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
            Ok(answer) => match allowed(&answer) {
                Some(context) => authorizer_context = context,
                None => return refuse(StatusCode::FORBIDDEN, "Forbidden"),
            },
        }
    }

    let mut ctx = ctx;
    ctx.insert(
        "authorizer".into(),
        Value::Object(authorizer_context.clone()),
    );
    let event = json!({
        "headers": hdrs,
        "multiValueHeaders": multi_hdrs,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": ctx,
        "isBase64Encoded": false,
    });
    let Some(function) = s.functions.get(&route.function) else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    };
    match function.invoke(event).await {
        Ok(answer) => {
            let status = answer
                .get("statusCode")
                .and_then(Value::as_u64)
                .unwrap_or(200);
            if !(200..300).contains(&status) {
                return refuse(
                    StatusCode::from_u16(status as u16).unwrap_or(StatusCode::FORBIDDEN),
                    "Forbidden",
                );
            }
        }
        Err(e) => {
            tracing::error!(function = %route.function, error = %e, "$connect failed");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    }
    accept_as(
        s,
        ws,
        id,
        connected_at,
        source_ip,
        user_agent,
        authorizer_context,
    )
}

/// The authorizer's context when its policy allows, with `principalId` as API Gateway adds it.
fn allowed(answer: &Value) -> Option<Map<String, Value>> {
    let statements = answer.pointer("/policyDocument/Statement")?.as_array()?;
    let effect = |s: &Value| s.get("Effect").and_then(Value::as_str).map(str::to_owned);
    if statements
        .iter()
        .any(|s| effect(s).as_deref() == Some("Deny"))
        || !statements
            .iter()
            .any(|s| effect(s).as_deref() == Some("Allow"))
    {
        return None;
    }
    let mut context = answer
        .get("context")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(p) = answer.get("principalId") {
        context.insert("principalId".into(), p.clone());
    }
    Some(context)
}

fn accept(
    s: Arc<WsState>,
    ws: WebSocketUpgrade,
    peer: SocketAddr,
    headers: &HeaderMap,
    context: Map<String, Value>,
) -> Response {
    let ua = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    accept_as(
        s,
        ws,
        connection_id(),
        Utc::now(),
        peer.ip().to_string(),
        ua,
        context,
    )
}

fn accept_as(
    s: Arc<WsState>,
    ws: WebSocketUpgrade,
    id: String,
    connected_at: DateTime<Utc>,
    source_ip: String,
    user_agent: String,
    context: Map<String, Value>,
) -> Response {
    let (tx, rx) = mpsc::unbounded_channel();
    s.live.lock().expect("connections").insert(
        id.clone(),
        Live {
            tx,
            connected_at,
            last_active: connected_at,
            source_ip: source_ip.clone(),
            user_agent: user_agent.clone(),
        },
    );
    ws.max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let closed = serve(
                &s,
                socket,
                rx,
                &id,
                connected_at,
                &source_ip,
                &user_agent,
                &context,
            )
            .await;
            s.live.lock().expect("connections").remove(&id);
            disconnect(
                &s,
                &id,
                connected_at,
                &source_ip,
                &user_agent,
                &context,
                closed,
            )
            .await;
        })
}

/// Why a connection ended: the close code and reason `$disconnect` reports.
type Closed = (u16, String);

#[allow(clippy::too_many_arguments)]
async fn serve(
    s: &Arc<WsState>,
    socket: WebSocket,
    mut outbound: mpsc::UnboundedReceiver<Outbound>,
    id: &str,
    connected_at: DateTime<Utc>,
    source_ip: &str,
    user_agent: &str,
    context: &Map<String, Value>,
) -> Closed {
    let (mut sink, mut stream) = socket.split();
    let max = tokio::time::sleep(s.limits.max);
    tokio::pin!(max);
    loop {
        let idle = tokio::time::sleep(s.limits.idle);
        tokio::select! {
            _ = &mut max => {
                let _ = sink.send(Message::Close(Some(CloseFrame { code: 1001, reason: "Going away".into() }))).await;
                return (1001, "Connection duration exceeded".into());
            }
            _ = idle => {
                let _ = sink.send(Message::Close(Some(CloseFrame { code: 1001, reason: "Going away".into() }))).await;
                return (1001, "Idle timeout".into());
            }
            out = outbound.recv() => match out {
                Some(Outbound::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return (1006, "Connection lost".into());
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
                    return (1000, "Closed by the management API".into());
                }
            },
            incoming = stream.next() => {
                let body = match incoming {
                    None | Some(Err(_)) => return (1006, "Connection lost".into()),
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map_or((1005, String::new()), |f| (f.code, f.reason.to_string()));
                    }
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                    Some(Ok(_)) => continue,
                };
                if let Some(live) = s.live.lock().expect("connections").get_mut(id) {
                    live.last_active = Utc::now();
                }
                if let Some(reply) = message(s, id, connected_at, source_ip, user_agent, context, body).await
                    && sink.send(Message::Text(reply.into())).await.is_err()
                {
                    return (1006, "Connection lost".into());
                }
            }
        }
    }
}

/// Routes one client message; the reply to send back, if the route has one.
async fn message(
    s: &WsState,
    id: &str,
    connected_at: DateTime<Utc>,
    source_ip: &str,
    user_agent: &str,
    context: &Map<String, Value>,
    body: String,
) -> Option<String> {
    // RouteSelectionExpression `$request.body.action`.
    let action = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_owned));
    let route = action
        .and_then(|a| s.api.routes.get(&a))
        .or_else(|| s.api.routes.get("$default"));
    let Some(route) = route else {
        return Some(json!({"message": "Forbidden", "connectionId": id}).to_string());
    };
    let mut ctx = request_context(
        s,
        &route.key,
        "MESSAGE",
        id,
        connected_at,
        source_ip,
        user_agent,
    );
    ctx.insert("messageId".into(), json!(ulid::Ulid::new().to_string()));
    ctx.insert("authorizer".into(), Value::Object(context.clone()));
    let event = json!({"requestContext": ctx, "body": body, "isBase64Encoded": false});
    let function = s.functions.get(&route.function)?;
    match function.invoke(event).await {
        Ok(answer) if route.two_way => answer
            .get("body")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
            .map(str::to_owned),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(function = %route.function, error = %e, "route failed");
            Some(json!({"message": "Internal server error", "connectionId": id}).to_string())
        }
    }
}

async fn disconnect(
    s: &WsState,
    id: &str,
    connected_at: DateTime<Utc>,
    source_ip: &str,
    user_agent: &str,
    context: &Map<String, Value>,
    (code, reason): Closed,
) {
    let Some(route) = s.api.routes.get("$disconnect") else {
        return;
    };
    let mut ctx = request_context(
        s,
        "$disconnect",
        "DISCONNECT",
        id,
        connected_at,
        source_ip,
        user_agent,
    );
    ctx.insert("disconnectStatusCode".into(), json!(code));
    ctx.insert("disconnectReason".into(), json!(reason));
    ctx.insert("authorizer".into(), Value::Object(context.clone()));
    let event = json!({
        "headers": {"Host": s.domain},
        "multiValueHeaders": {"Host": [s.domain]},
        "requestContext": ctx,
        "isBase64Encoded": false,
    });
    if let Some(function) = s.functions.get(&route.function)
        && let Err(e) = function.invoke(event).await
    {
        tracing::warn!(function = %route.function, error = %e, "$disconnect failed (best effort, as in AWS)");
    }
}

fn gone() -> Response {
    (
        StatusCode::GONE,
        [
            ("content-type", "application/json"),
            ("x-amzn-errortype", "GoneException"),
        ],
        json!({"message": null}).to_string(),
    )
        .into_response()
}

fn known_stage(s: &WsState, stage: &str) -> bool {
    s.api.stage == stage
}

async fn post_to_connection(
    State(s): State<Arc<WsState>>,
    Path((stage, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !known_stage(&s, &stage) {
        return refuse(StatusCode::FORBIDDEN, "Forbidden");
    }
    if body.len() > MAX_MESSAGE_BYTES {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [
                ("content-type", "application/json"),
                ("x-amzn-errortype", "PayloadTooLargeException"),
            ],
            json!({"message": "Message too long"}).to_string(),
        )
            .into_response();
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let sent = s
        .live
        .lock()
        .expect("connections")
        .get(&id)
        .is_some_and(|live| live.tx.send(Outbound::Text(text)).is_ok());
    if sent {
        StatusCode::OK.into_response()
    } else {
        gone()
    }
}

async fn get_connection(
    State(s): State<Arc<WsState>>,
    Path((stage, id)): Path<(String, String)>,
) -> Response {
    if !known_stage(&s, &stage) {
        return refuse(StatusCode::FORBIDDEN, "Forbidden");
    }
    let live = s.live.lock().expect("connections");
    match live.get(&id) {
        Some(c) => axum::Json(json!({
            "connectedAt": c.connected_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastActiveAt": c.last_active.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "identity": {"sourceIp": c.source_ip, "userAgent": c.user_agent},
        }))
        .into_response(),
        None => gone(),
    }
}

async fn delete_connection(
    State(s): State<Arc<WsState>>,
    Path((stage, id)): Path<(String, String)>,
) -> Response {
    if !known_stage(&s, &stage) {
        return refuse(StatusCode::FORBIDDEN, "Forbidden");
    }
    let closed = s
        .live
        .lock()
        .expect("connections")
        .get(&id)
        .is_some_and(|live| live.tx.send(Outbound::Close).is_ok());
    if closed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone()
    }
}

/// Points a function's variables that name the WebSocket API's cloud URLs
/// (`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`, and `https://` for the
/// management API) at this runner.
pub fn rewrite_env(api: &WsApiDef, local: &str, env: &mut HashMap<String, String>) {
    let host = format!("{}.execute-api.{REGION}.amazonaws.com", api.api_id);
    for value in env.values_mut() {
        for (scheme, local_scheme) in [("wss://", "ws://"), ("https://", "http://")] {
            let cloud = format!("{scheme}{host}");
            if value.starts_with(&cloud) {
                *value = value.replacen(&cloud, &format!("{local_scheme}{local}"), 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest,
    };

    fn state() -> WsState {
        WsState::new(
            WsApiDef {
                logical_id: "RealtimeApi".into(),
                api_id: "RealtimeApi".into(),
                stage: "dev".into(),
                routes: HashMap::new(),
            },
            HashMap::new(),
            Limits::default(),
            "127.0.0.1:3001".into(),
        )
    }

    #[test]
    fn the_events_have_the_shapes_lambda_gives() {
        let s = state();
        let mut ctx = request_context(
            &s,
            "$connect",
            "CONNECT",
            "Sl3TSeQ3IAMCLwg=",
            Utc::now(),
            "127.0.0.1",
            "test",
        );
        let authorizer: ApiGatewayCustomAuthorizerRequestTypeRequest =
            serde_json::from_value(json!({
                "type": "REQUEST",
                "methodArn": "arn:aws:execute-api:us-east-1:123456789012:RealtimeApi/dev/$connect",
                "headers": {"Host": "x"},
                "multiValueHeaders": {"Host": ["x"]},
                "queryStringParameters": {"ticket": "t"},
                "multiValueQueryStringParameters": {"ticket": ["t"]},
                "stageVariables": {},
                "requestContext": ctx.clone(),
            }))
            .unwrap();
        assert_eq!(
            authorizer.query_string_parameters.first("ticket"),
            Some("t")
        );
        ctx.insert(
            "authorizer".into(),
            json!({"principalId": "auth0|x", "audience": "reviewers"}),
        );
        let connect: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(json!({"requestContext": ctx, "isBase64Encoded": false}))
                .unwrap();
        assert_eq!(
            connect.request_context.connection_id.as_deref(),
            Some("Sl3TSeQ3IAMCLwg=")
        );
        assert_eq!(
            connect.request_context.authorizer.fields["audience"],
            "reviewers"
        );
        assert_eq!(
            connect.request_context.event_type.as_deref(),
            Some("CONNECT")
        );
    }

    #[test]
    fn a_policy_allows_only_without_a_deny() {
        let allow = json!({"principalId": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}]}, "context": {"role": "contractor"}});
        let ctx = allowed(&allow).unwrap();
        assert_eq!(ctx["principalId"], "p");
        assert_eq!(ctx["role"], "contractor");
        let mut deny = allow.clone();
        deny["policyDocument"]["Statement"][0]["Effect"] = "Deny".into();
        assert!(allowed(&deny).is_none());
        assert!(allowed(&json!({"principalId": "p"})).is_none());
    }

    #[test]
    fn cloud_urls_of_the_api_point_here() {
        let api = state().api;
        let mut env = HashMap::from([
            (
                "REALTIME_URL".to_owned(),
                "wss://RealtimeApi.execute-api.us-east-1.amazonaws.com/dev".to_owned(),
            ),
            (
                "REALTIME_MANAGEMENT_ENDPOINT".to_owned(),
                "https://RealtimeApi.execute-api.us-east-1.amazonaws.com/dev".to_owned(),
            ),
            (
                "OTHER".to_owned(),
                "https://other.execute-api.us-east-1.amazonaws.com/dev".to_owned(),
            ),
        ]);
        rewrite_env(&api, "127.0.0.1:3001", &mut env);
        assert_eq!(env["REALTIME_URL"], "ws://127.0.0.1:3001/dev");
        assert_eq!(
            env["REALTIME_MANAGEMENT_ENDPOINT"],
            "http://127.0.0.1:3001/dev"
        );
        assert!(env["OTHER"].starts_with("https://other"));
    }

    #[test]
    fn connection_ids_look_like_api_gateways() {
        let id = connection_id();
        assert_eq!(id.len(), 16);
        assert_ne!(id, connection_id());
    }
}
