//! What the benchmarks share: local tokens, JSON posts, the upload a client makes (intent +
//! presigned PUT), and percentiles.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// POSTs `body` as JSON and reads the JSON answer, whatever the status.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    http.post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default()
}

/// An access token from the local issuer for `sub` with `roles`.
pub async fn token(http: &reqwest::Client, base: &str, sub: &str, roles: &[&str]) -> String {
    let resp = post_json(
        http,
        &format!("{base}/_local/token"),
        &json!({"sub": sub, "roles": roles}),
    )
    .await;
    resp["access_token"].as_str().unwrap().to_owned()
}

/// The upload intent for `bytes` then the presigned PUT, as a client makes them; returns the
/// document and when the PUT finished.
pub async fn upload(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    contractor: &str,
    kind: &str,
    content_type: &str,
    bytes: &[u8],
) -> (Value, Instant) {
    let sha: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let resp = http
        .post(format!("{base}/v1/contractors/{contractor}/documents"))
        .bearer_auth(token)
        .json(&json!({"kind": kind, "file_name": "scan", "content_type": content_type, "size": bytes.len(), "sha256": sha}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(status.as_u16(), 201, "upload intent: {doc}");
    let mut put = http
        .put(doc["upload"]["url"].as_str().unwrap())
        .body(bytes.to_vec());
    for (k, v) in doc["upload"]["headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    assert!(put.send().await.unwrap().status().is_success());
    (doc, Instant::now())
}

/// The `q` quantile of `samples`, in milliseconds.
pub fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
}

/// A call as the app makes it: bearer token, JSON body, `If-Match` when given; panics with
/// the answer unless it succeeded, and returns its JSON.
pub async fn call(
    http: &reqwest::Client,
    url: &str,
    method: reqwest::Method,
    token: &str,
    body: &Value,
    version: Option<u64>,
) -> Value {
    let mut req = http.request(method, url).bearer_auth(token).json(body);
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or_default();
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}
