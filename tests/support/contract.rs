//! Contract-test plumbing: a recording proxy that sits between a real client and a sandbox
//! and keeps every exchange, and a webhook inbox, so both sides can be checked against the
//! provider's published definition.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The providers' published definitions (`../shared/specs` beside the repository, never
/// copied into it).
pub fn specs_dir() -> std::path::PathBuf {
    std::env::var_os("PROVIDER_SPECS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::repo_root().join("../shared/specs"))
}

/// One request and its answer, as they crossed the wire.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub request_type: Option<String>,
    pub request: Bytes,
    pub status: u16,
    pub response_type: Option<String>,
    pub response: Bytes,
}

impl Exchange {
    /// The request body as JSON; a `multipart/form-data` body as an object of its fields,
    /// files shown as `"<binary>"` (how a definition's form schema sees them).
    pub fn request_json(&self) -> Value {
        let content_type = self.request_type.as_deref().unwrap_or_default();
        if let Some(boundary) = content_type
            .strip_prefix("multipart/form-data")
            .and_then(|rest| rest.split("boundary=").nth(1))
        {
            return form_fields(&self.request, boundary.trim_matches('"'));
        }
        serde_json::from_slice(&self.request).unwrap_or(Value::Null)
    }
    pub fn response_json(&self) -> Value {
        serde_json::from_slice(&self.response).unwrap_or(Value::Null)
    }
}

/// A proxy on a free loopback port forwarding to `upstream` and recording every exchange.
pub struct Recorder {
    pub url: String,
    pub exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start(upstream: &str) -> Recorder {
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let (upstream, kept) = (upstream.trim_end_matches('/').to_owned(), exchanges.clone());
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (upstream, kept, http) = (upstream.clone(), kept.clone(), http.clone());
                async move {
                    let path = uri
                        .path_and_query()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    let mut forward = http.request(method.clone(), format!("{upstream}{path}"));
                    for (name, value) in &headers {
                        if name != "host" && name != "content-length" {
                            forward = forward.header(name, value);
                        }
                    }
                    let answer = match forward.body(body.clone()).send().await {
                        Ok(a) => a,
                        Err(e) => {
                            return (StatusCode::BAD_GATEWAY, e.to_string()).into_response();
                        }
                    };
                    let status = answer.status().as_u16();
                    let response_type = answer
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let response = answer.bytes().await.unwrap_or_default();
                    kept.lock().expect("exchanges").push(Exchange {
                        method: method.to_string(),
                        path,
                        request_type: headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        request: body,
                        status,
                        response_type: response_type.clone(),
                        response: response.clone(),
                    });
                    let mut out = Response::new(axum::body::Body::from(response));
                    *out.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                    if let Some(t) = response_type
                        && let Ok(v) = t.parse()
                    {
                        out.headers_mut().insert("content-type", v);
                    }
                    out
                }
            },
        );
        let (url, task) = serve(app).await;
        Recorder {
            url,
            exchanges,
            task,
        }
    }

    pub fn taken(&self) -> Vec<Exchange> {
        self.exchanges.lock().expect("exchanges").clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A webhook receiver that answers `status` and keeps what it was sent.
pub struct Inbox {
    pub url: String,
    pub received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Inbox {
    pub async fn start() -> Inbox {
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().expect("inbox").push((headers, body));
                StatusCode::OK
            }
        });
        let (url, task) = serve(app).await;
        Inbox {
            url: format!("{url}/hooks"),
            received,
            task,
        }
    }

    pub fn taken(&self) -> Vec<(HeaderMap, Bytes)> {
        self.received.lock().expect("inbox").clone()
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("bound").port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://127.0.0.1:{port}"), task)
}

/// Checks every recorded exchange against `definition`: the request strictly against the
/// operation's request schema, the answer strictly against the schema of its status. An
/// exchange with a path the definition lacks must be one of `controls` (the sandbox's own).
pub fn check_exchanges(
    definition: &contracts::Definition,
    exchanges: &[Exchange],
    controls: &[&str],
    ledger: &mut contracts::Ledger,
) {
    use contracts::{Direction, Strictness};
    for x in exchanges {
        let path = x.path.split('?').next().unwrap_or(&x.path);
        let Some(op) = definition.operation(&x.method, path) else {
            if !controls.contains(&path) {
                ledger.fail(
                    &format!("{} {path}", x.method),
                    "not an operation of the definition",
                );
            }
            continue;
        };
        let endpoint = op.endpoint();
        if !x.request.is_empty() || op.body_required() {
            match op.request_schema(x.request_type.as_deref()) {
                Some(schema) => ledger.record(
                    &endpoint,
                    Direction::Request,
                    &definition.check(schema, &x.request_json(), Strictness::Strict),
                ),
                None => ledger.fail(&endpoint, "sent a body the definition does not describe"),
            }
        }
        if !op.documents_status(x.status) && op.response_schema(x.status, None).is_none() {
            ledger.fail(
                &endpoint,
                format!(
                    "answered {}, which the definition does not document",
                    x.status
                ),
            );
            continue;
        }
        match op.response_schema(x.status, x.response_type.as_deref()) {
            Some(schema) => ledger.record(
                &endpoint,
                Direction::Response,
                &definition.check(schema, &x.response_json(), Strictness::Strict),
            ),
            None if x.response.is_empty() => ledger.record(&endpoint, Direction::Response, &[]),
            None => ledger.fail(
                &endpoint,
                format!(
                    "answered a {} body the definition does not describe",
                    x.status
                ),
            ),
        }
    }
}

/// The fields of a `multipart/form-data` body: text values as strings, files as
/// `"<binary>"`.
fn form_fields(body: &[u8], boundary: &str) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        let Some(name) = disposition
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = if disposition.contains("filename=") {
            Value::String("<binary>".into())
        } else {
            Value::String(value.trim_end_matches("\r\n").to_owned())
        };
        fields.insert(name.to_owned(), value);
    }
    Value::Object(fields)
}
