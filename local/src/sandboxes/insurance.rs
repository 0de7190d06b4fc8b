//! TrustLayer, as its published Platform API definitions describe it (ADR 0010):
//! - v2 (`/v2`, `Authorization: Bearer <token>`): primary records (`GET` filtered by
//!   `externalCodes`, `POST`, `GET /{id}`), their request records (list, `POST`), a request
//!   record with its compliance per module, subject and requirement, and policies by number
//!   with their cancellation;
//! - v1 (`/v1`, `Authorization: <token>`): `POST /parties/{id}/documents`
//!   (`multipart/form-data`, `document` and `documentType`), which starts the review.
//!
//! Requests to operations of the definitions (`trustlayer-platform-v1.yaml`, `-v2.yaml` in
//! `../shared/specs`) are checked against them first and refused as TrustLayer refuses
//! (`400 {statusCode, applicationCode: "FLOW.002", message}`). After an upload the verdict
//! lands on the party's request records and a request-record compliance webhook is posted,
//! signed `X-Hmac-Hash` (HMAC-SHA256 of the body, hex, as TrustLayer's webhooks page says).
//!
//! Controls (this sandbox's, not TrustLayer's): `POST /sandbox/scenario {party?, mode?,
//! copies?, delay_ms?, late?}` per party name — `compliant`, `non_compliant` (Each
//! Occurrence below the profile's minimum), `silent` (no verdict), `down` (503),
//! `rate_limited` (429 with `Retry-After`); `copies` duplicates the webhook and `late` sends
//! an older one after it; `POST /sandbox/cancel {party, policy_number}` cancels the party's
//! general liability policy (request records non-compliant, webhook sent); `GET
//! /sandbox/submissions` lists the uploads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Sandbox;
use crate::RunnerError;

pub struct InsuranceSandbox;

struct TrustLayerState {
    api_token: String,
    webhook_secret: String,
    webhook_url: String,
    http: reqwest::Client,
    v1: Option<Arc<contracts::Definition>>,
    v2: Option<Arc<contracts::Definition>>,
    organization: String,
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    primaries: Vec<Primary>,
    requests: Vec<RequestRecord>,
    /// Policies by number: when cancelled.
    policies: HashMap<String, Policy>,
    /// By party name ("" = every other party).
    scenarios: HashMap<String, Value>,
    submissions: Vec<Value>,
}

#[derive(Clone)]
struct Primary {
    id: String,
    object_id: String,
    name: String,
    external_codes: Vec<String>,
    created_at: DateTime<Utc>,
    documents: usize,
}

#[derive(Clone)]
struct RequestRecord {
    id: String,
    primary_id: String,
    name: String,
    profile_id: String,
    verdict: Option<Verdict>,
    document_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Clone, PartialEq)]
enum Verdict {
    Compliant,
    /// Each Occurrence below the profile's minimum.
    TooLow,
    Cancelled(DateTime<Utc>),
}

#[derive(Clone)]
struct Policy {
    primary_id: String,
    cancelled: DateTime<Utc>,
}

fn object_id() -> String {
    format!("{:024x}", ulid::Ulid::new().0 & ((1u128 << 96) - 1))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Primary {
    fn json(&self, organization: &str) -> Value {
        json!({"_id": self.id, "organization": organization, "primaryObjectId": self.object_id,
               "status": "active", "name": self.name, "externalCodes": self.external_codes,
               "automationsEnabled": [], "createdAt": time(self.created_at), "updatedAt": time(self.created_at),
               "computedAttributes": {"documentsCount": self.documents}})
    }
}

/// What the sandbox's marketplace profile requires: general liability, each occurrence at
/// least $1,000,000.
const MINIMUM: u64 = 1_000_000;

impl RequestRecord {
    fn json(&self, organization: &str) -> Value {
        let mut out = json!({"_id": self.id, "organization": organization, "primaryRecordId": self.primary_id,
            "name": self.name, "status": "active", "complianceTracking": true,
            "complianceProfile": {"id": self.profile_id, "name": "Holiday lights installers"},
            "createdAt": time(self.created_at), "updatedAt": time(self.updated_at)});
        let Some(verdict) = &self.verdict else {
            return out;
        };
        let compliant = *verdict == Verdict::Compliant;
        let status = if compliant {
            "compliant"
        } else {
            "non_compliant"
        };
        let documents: Vec<Value> = self
            .document_id
            .iter()
            .map(|id| json!({"id": id, "origin": "upload", "complianceStatus": status}))
            .collect();
        let value = if *verdict == Verdict::TooLow {
            500_000
        } else {
            MINIMUM
        };
        let limit_ok = *verdict != Verdict::TooLow;
        let mut requirement = json!({
            "complianceProfile": {"id": self.profile_id, "name": "Holiday lights installers"},
            "moduleCode": "insurance", "moduleLabel": "Insurance",
            "subjectCode": "generalLiability", "subjectLabel": "General Liability",
            "attributeCode": "generalLiabilityEachOccurrence", "attributeLabel": "Each Occurrence",
            "matchingCriteria": "matchOnce", "operator": "must be greater or equal to",
            "targetValue": MINIMUM.to_string(), "value": value,
            "status": if limit_ok { "compliant" } else { "non_compliant" },
            "documents": documents, "documentsCount": documents.len(), "custom": false});
        if !limit_ok {
            requirement["publicNotes"] = json!({"content": "Ask your agent for a policy with at least $1,000,000 per occurrence.", "removeWhenCompliant": true});
        }
        let mut subject = json!({"code": "generalLiability", "label": "General Liability", "status": status,
            "validityStatus": "active", "documentsCount": documents.len(), "documents": documents,
            "requirements": [requirement]});
        if let Verdict::Cancelled(at) = verdict {
            subject["validityStatus"] = json!("cancelled");
            subject["cancellation"] = json!({"effectiveDate": time(*at)});
        }
        out["complianceStatus"] = json!(status);
        out["complianceModules"] = json!([{"code": "insurance", "label": "Insurance", "status": status,
            "documents": documents, "documentsCount": documents.len(), "subjects": [subject]}]);
        out
    }
}

impl InsuranceSandbox {
    /// Starts on a free loopback port, accepting `api_token`, signing webhooks to
    /// `webhook_url` with `webhook_secret`, checking requests against TrustLayer's
    /// definitions when they are there.
    pub async fn start(
        api_token: &str,
        webhook_secret: &str,
        webhook_url: &str,
        v1: Option<Arc<contracts::Definition>>,
        v2: Option<Arc<contracts::Definition>>,
    ) -> Result<Sandbox, RunnerError> {
        let state = Arc::new(TrustLayerState {
            api_token: api_token.to_owned(),
            webhook_secret: webhook_secret.to_owned(),
            webhook_url: webhook_url.to_owned(),
            http: reqwest::Client::new(),
            v1,
            v2,
            organization: object_id(),
            data: Mutex::new(Data {
                scenarios: HashMap::from([(
                    String::new(),
                    json!({"mode": "compliant", "copies": 1, "delay_ms": 50}),
                )]),
                ..Data::default()
            }),
        });
        let app = Router::new()
            .route(
                "/v2/primary-records",
                get(list_primaries).post(create_primary),
            )
            .route("/v2/primary-records/{id}", get(get_primary))
            .route(
                "/v2/primary-records/{id}/request-records",
                get(list_requests).post(create_request),
            )
            .route("/v2/request-records/{id}", get(get_request))
            .route("/v2/policies/{number}", get(get_policy))
            .route("/v1/parties/{id}/documents", post(upload))
            .route("/sandbox/scenario", post(set_scenario))
            .route("/sandbox/cancel", post(cancel))
            .route("/sandbox/submissions", get(list_submissions))
            .with_state(state);
        Sandbox::serve("insurance", app).await
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "applicationCode": code, "message": message})),
    )
        .into_response()
}

/// v2 takes `Bearer <token>`; v1 its API key as the whole `Authorization` value.
fn refused_token(s: &TrustLayerState, headers: &HeaderMap, v1: bool) -> Option<Response> {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ok = if v1 {
        given == s.api_token
    } else {
        given.strip_prefix("Bearer ") == Some(s.api_token.as_str())
    };
    (!ok || s.api_token.is_empty()).then(|| {
        error(
            StatusCode::UNAUTHORIZED,
            "AUTH.001",
            "the token is missing, malformed or expired",
        )
    })
}

/// What the definition refuses of a JSON body (or form fields), as TrustLayer answers.
fn refused_body(
    definition: Option<&Arc<contracts::Definition>>,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> Option<Response> {
    let found = super::refusals(
        definition.map(Arc::as_ref),
        method,
        path,
        Some(content_type),
        body,
    )?;
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    Some(error(
        StatusCode::BAD_REQUEST,
        "FLOW.002",
        &format!("invalid data: {}", shown.join("; ")),
    ))
}

fn page(data: Vec<Value>) -> Response {
    let count = data.len();
    Json(json!({"data": data, "meta": {"count": count}})).into_response()
}

async fn list_primaries(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false) {
        return refused;
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    let data = s.data.lock().expect("data");
    let found = data
        .primaries
        .iter()
        .filter(|p| {
            query
                .get("externalCodes")
                .is_none_or(|code| p.external_codes.contains(code))
        })
        .take(limit)
        .map(|p| p.json(&s.organization))
        .collect();
    page(found)
}

async fn create_primary(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false).or_else(|| {
        refused_body(
            s.v2.as_ref(),
            "POST",
            "/v2/primary-records",
            "application/json",
            &body,
        )
    }) {
        return refused;
    }
    let primary = Primary {
        id: object_id(),
        object_id: body["primaryObjectId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        name: body["name"].as_str().unwrap_or("Unnamed").to_owned(),
        external_codes: body["externalCodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        created_at: Utc::now(),
        documents: 0,
    };
    let id = primary.id.clone();
    s.data.lock().expect("data").primaries.push(primary);
    (StatusCode::CREATED, Json(json!({"_id": id}))).into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "FLOW.004",
        &format!("{what} not found"),
    )
}

async fn get_primary(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false) {
        return refused;
    }
    let data = s.data.lock().expect("data");
    match data.primaries.iter().find(|p| p.id == id) {
        Some(p) => Json(p.json(&s.organization)).into_response(),
        None => not_found("primary record"),
    }
}

async fn list_requests(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false) {
        return refused;
    }
    let data = s.data.lock().expect("data");
    if !data.primaries.iter().any(|p| p.id == id) {
        return not_found("primary record");
    }
    page(
        data.requests
            .iter()
            .filter(|r| r.primary_id == id)
            .map(|r| r.json(&s.organization))
            .collect(),
    )
}

async fn create_request(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false).or_else(|| {
        refused_body(
            s.v2.as_ref(),
            "POST",
            &format!("/v2/primary-records/{id}/request-records"),
            "application/json",
            &body,
        )
    }) {
        return refused;
    }
    let mut data = s.data.lock().expect("data");
    if !data.primaries.iter().any(|p| p.id == id) {
        return not_found("primary record");
    }
    let now = Utc::now();
    let record = RequestRecord {
        id: object_id(),
        primary_id: id,
        name: body["name"].as_str().unwrap_or("Request").to_owned(),
        profile_id: body["complianceProfileId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        verdict: None,
        document_id: None,
        created_at: now,
        updated_at: now,
    };
    let made = record.id.clone();
    data.requests.push(record);
    (StatusCode::CREATED, Json(json!({"_id": made}))).into_response()
}

async fn get_request(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false) {
        return refused;
    }
    let data = s.data.lock().expect("data");
    match data.requests.iter().find(|r| r.id == id) {
        Some(r) => Json(r.json(&s.organization)).into_response(),
        None => not_found("request record"),
    }
}

async fn get_policy(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, false) {
        return refused;
    }
    let data = s.data.lock().expect("data");
    let Some(policy) = data.policies.get(&number) else {
        return not_found("policy");
    };
    let year = chrono::Duration::days(365);
    Json(json!({"number": number, "subjects": [{
        "code": "generalLiability", "label": "General Liability", "validityStatus": "cancelled",
        "effectiveDate": time(policy.cancelled - year), "expirationDate": time(policy.cancelled + year),
        "cancellation": {"id": object_id(), "originalValidity": {"effectiveDate": time(policy.cancelled - year), "expirationDate": time(policy.cancelled + year)},
                         "effectiveDate": time(policy.cancelled), "issueDate": time(policy.cancelled)},
        "documents": [{"_id": object_id(), "name": "Notice of cancellation", "issueDate": time(policy.cancelled), "primaryRecordId": policy.primary_id}]}]}))
    .into_response()
}

/// `POST /v1/parties/{id}/documents`: the certificate, as `multipart/form-data`.
async fn upload(
    State(s): State<Arc<TrustLayerState>>,
    headers: HeaderMap,
    Path(party): Path<String>,
    mut form: Multipart,
) -> Response {
    if let Some(refused) = refused_token(&s, &headers, true) {
        return refused;
    }
    let mut fields = serde_json::Map::new();
    let mut bytes = 0usize;
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some();
        let Ok(content) = field.bytes().await else {
            return error(StatusCode::BAD_REQUEST, "FLOW.002", "unreadable form");
        };
        if is_file {
            bytes = content.len();
            fields.insert(name, json!("<binary>"));
        } else {
            fields.insert(name, json!(String::from_utf8_lossy(&content)));
        }
    }
    if let Some(refused) = refused_body(
        s.v1.as_ref(),
        "POST",
        &format!("/v1/parties/{party}/documents"),
        "multipart/form-data",
        &Value::Object(fields.clone()),
    ) {
        return refused;
    }
    if bytes == 0 {
        return error(StatusCode::BAD_REQUEST, "FLOW.002", "document is empty");
    }
    let (name, scenario) = {
        let data = s.data.lock().expect("data");
        let Some(primary) = data.primaries.iter().find(|p| p.id == party) else {
            return not_found("party");
        };
        let scenario = data
            .scenarios
            .get(&primary.name)
            .or_else(|| data.scenarios.get(""))
            .cloned()
            .unwrap_or_default();
        (primary.name.clone(), scenario)
    };
    match scenario["mode"].as_str().unwrap_or("compliant") {
        "down" => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "LIB.000",
                "service unavailable",
            );
        }
        "rate_limited" => {
            let mut out = error(StatusCode::TOO_MANY_REQUESTS, "LIB.429", "slow down");
            out.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return out;
        }
        _ => {}
    }
    let document = object_id();
    {
        let mut data = s.data.lock().expect("data");
        if let Some(p) = data.primaries.iter_mut().find(|p| p.id == party) {
            p.documents += 1;
        }
        data.submissions.push(
            json!({"party": name, "primary_record": party, "document": document,
            "document_type": fields.get("documentType"), "fetched_bytes": bytes}),
        );
    }
    let verdict = match scenario["mode"].as_str().unwrap_or("compliant") {
        "non_compliant" => Some(Verdict::TooLow),
        "silent" => None,
        _ => Some(Verdict::Compliant),
    };
    if let Some(verdict) = verdict {
        let (state, party, document) = (s.clone(), party.clone(), document.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(
                scenario["delay_ms"].as_u64().unwrap_or(50),
            ))
            .await;
            decide(&state, &party, verdict, Some(&document), &scenario).await;
        });
    }
    let now = time(Utc::now());
    (
        StatusCode::CREATED,
        Json(json!({"status": "success", "data": {"type": "document", "id": document,
            "name": "Certificate of insurance", "status": "processing", "createdAt": now, "updatedAt": now}})),
    )
        .into_response()
}

/// Puts `verdict` on every request record of the party and posts the compliance webhook
/// (`copies` times; with `late`, an older event after it).
async fn decide(
    s: &TrustLayerState,
    party: &str,
    verdict: Verdict,
    document: Option<&str>,
    scenario: &Value,
) {
    let now = Utc::now();
    let touched: Vec<(RequestRecord, String)> = {
        let mut data = s.data.lock().expect("data");
        let name = data
            .primaries
            .iter()
            .find(|p| p.id == party)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        data.requests
            .iter_mut()
            .filter(|r| r.primary_id == party)
            .map(|r| {
                r.verdict = Some(verdict.clone());
                if let Some(d) = document {
                    r.document_id = Some(d.to_owned());
                }
                r.updated_at = now;
                (r.clone(), name.clone())
            })
            .collect()
    };
    for (record, name) in touched {
        let event = |at: DateTime<Utc>, status: &str| {
            json!({"type": "request-record.compliance-status.updated", "createdAt": time(at),
                   "requestRecord": {"id": record.id, "name": record.name, "complianceStatus": status},
                   "primaryRecord": {"id": party, "name": name}})
            .to_string()
        };
        let status = if verdict == Verdict::Compliant {
            "compliant"
        } else {
            "non_compliant"
        };
        for _ in 0..scenario["copies"].as_u64().unwrap_or(1).max(1) {
            deliver(s, &event(now, status)).await;
        }
        if scenario["late"] == true {
            let older = if status == "compliant" {
                "non_compliant"
            } else {
                "compliant"
            };
            deliver(s, &event(now - chrono::Duration::minutes(5), older)).await;
        }
    }
}

async fn deliver(s: &TrustLayerState, body: &str) {
    let sig = webhooks::sign_hmac_sha256(s.webhook_secret.as_bytes(), body.as_bytes());
    let _ = s
        .http
        .post(&s.webhook_url)
        .header("content-type", "application/json")
        .header("user-agent", "TrustLayer-Webhooks/sandbox")
        .header("x-hmac-hash", sig)
        .body(body.to_owned())
        .send()
        .await;
}

/// `{party?, mode?, copies?, delay_ms?, late?}`: what happens to uploads for `party` (every
/// other party when absent), so tests running at once do not disturb each other.
async fn set_scenario(State(s): State<Arc<TrustLayerState>>, Json(req): Json<Value>) -> Response {
    let party = req["party"].as_str().unwrap_or_default().to_owned();
    let mut data = s.data.lock().expect("data");
    let mut scenario = data
        .scenarios
        .get(&party)
        .or_else(|| data.scenarios.get(""))
        .cloned()
        .unwrap_or_default();
    if let (Some(current), Some(changes)) = (scenario.as_object_mut(), req.as_object()) {
        current.extend(changes.clone().into_iter().filter(|(k, _)| k != "party"));
    }
    data.scenarios.insert(party, scenario.clone());
    Json(scenario).into_response()
}

/// `{party, policy_number}`: the insurer cancels the party's general liability policy.
async fn cancel(State(s): State<Arc<TrustLayerState>>, Json(req): Json<Value>) -> Response {
    let party_name = req["party"].as_str().unwrap_or_default();
    let number = req["policy_number"].as_str().unwrap_or_default();
    let now = Utc::now();
    let party = {
        let mut data = s.data.lock().expect("data");
        let Some(p) = data
            .primaries
            .iter()
            .find(|p| p.name == party_name)
            .map(|p| p.id.clone())
        else {
            return not_found("party");
        };
        if !number.is_empty() {
            data.policies.insert(
                number.to_owned(),
                Policy {
                    primary_id: p.clone(),
                    cancelled: now,
                },
            );
        }
        p
    };
    decide(
        &s,
        &party,
        Verdict::Cancelled(now),
        None,
        &json!({"copies": 1}),
    )
    .await;
    Json(json!({"primary_record": party, "cancelled": time(now)})).into_response()
}

async fn list_submissions(State(s): State<Arc<TrustLayerState>>) -> Response {
    Json(json!({"data": s.data.lock().expect("data").submissions})).into_response()
}
