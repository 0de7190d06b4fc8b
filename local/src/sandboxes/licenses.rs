//! State license registries, each in its own source shape, from records a test registers:
//! California CSLB-style license detail (`GET /cslb/v1/licenses/{number}`, JSON, status as a
//! sentence), Texas TDLR open data (`GET /tdlr/resource/7358-krk7.json?license_number=`,
//! Socrata-style rows), Florida DBPR licensee extract (`GET /dbpr/licensee-extract.csv?
//! board=08&license_number=`, CSV). `POST /sandbox/records` registers a license in a
//! normalised form; `POST /sandbox/scenario {state, mode: ok|down|rate_limited, delay_ms}`
//! makes a state's registry fail, throttle (429 + Retry-After) or slow down;
//! `GET /sandbox/lookups` counts the lookups per state (to see the cache work).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Sandbox;
use crate::RunnerError;

pub struct LicenseSandbox;

#[derive(Default)]
struct Registries {
    /// By `STATE#NUMBER` (number without spaces or dashes, upper case).
    records: Mutex<HashMap<String, Value>>,
    scenarios: Mutex<HashMap<String, Value>>,
    lookups: Mutex<HashMap<String, u64>>,
}

fn key(state: &str, number: &str) -> String {
    let number: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("{}#{number}", state.to_ascii_uppercase())
}

impl LicenseSandbox {
    pub async fn start() -> Result<Sandbox, RunnerError> {
        let app = Router::new()
            .route("/cslb/v1/licenses/{number}", get(cslb))
            .route("/tdlr/resource/7358-krk7.json", get(tdlr))
            .route("/dbpr/licensee-extract.csv", get(dbpr))
            .route("/sandbox/records", post(add_record))
            .route("/sandbox/scenario", post(set_scenario))
            .route("/sandbox/lookups", get(lookups))
            .with_state(Arc::new(Registries::default()));
        Sandbox::serve("license registries", app).await
    }
}

async fn add_record(State(r): State<Arc<Registries>>, Json(req): Json<Value>) -> Response {
    let (Some(state), Some(number)) = (req["state"].as_str(), req["number"].as_str()) else {
        return (StatusCode::BAD_REQUEST, "state and number are required").into_response();
    };
    r.records
        .lock()
        .expect("records")
        .insert(key(state, number), req.clone());
    (StatusCode::CREATED, Json(req)).into_response()
}

async fn set_scenario(State(r): State<Arc<Registries>>, Json(req): Json<Value>) -> Response {
    let state = req["state"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    r.scenarios
        .lock()
        .expect("scenarios")
        .insert(state, req.clone());
    Json(req).into_response()
}

async fn lookups(State(r): State<Arc<Registries>>) -> Response {
    Json(json!(*r.lookups.lock().expect("lookups"))).into_response()
}

/// Counts the lookup and plays the state's scenario: `Some(response)` when it fails.
async fn scenario(r: &Registries, state: &str) -> Option<Response> {
    *r.lookups
        .lock()
        .expect("lookups")
        .entry(state.to_owned())
        .or_default() += 1;
    let scenario = r
        .scenarios
        .lock()
        .expect("scenarios")
        .get(state)
        .cloned()
        .unwrap_or_default();
    if let Some(ms) = scenario["delay_ms"].as_u64() {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match scenario["mode"].as_str() {
        Some("down") => {
            Some((StatusCode::SERVICE_UNAVAILABLE, "registry unavailable").into_response())
        }
        Some("rate_limited") => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "2")],
                "too many requests",
            )
                .into_response(),
        ),
        _ => None,
    }
}

fn record(r: &Registries, state: &str, number: &str) -> Option<Value> {
    r.records
        .lock()
        .expect("records")
        .get(&key(state, number))
        .cloned()
}

fn us_date(iso: &Value) -> String {
    iso.as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.format("%m/%d/%Y").to_string())
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn cslb(State(r): State<Arc<Registries>>, Path(number): Path<String>) -> Response {
    if let Some(failed) = scenario(&r, "CA").await {
        return failed;
    }
    let Some(rec) = record(&r, "CA", &number) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"Message": "No record found for this license number."})),
        )
            .into_response();
    };
    let status = match rec["status"].as_str().unwrap_or("active") {
        "active" => "This license is current and active.",
        "expired" => "This license is expired.",
        "suspended" => "This license is suspended.",
        "revoked" => "This license is revoked.",
        _ => "This license is inactive.",
    };
    let bond = if rec["bond_active"].as_bool().unwrap_or(true) {
        json!({"ContractorBond": {"BondNumber": "100234567", "Amount": "$25,000", "Surety": "Platypus Surety Co", "EffectiveDate": "01/01/2024", "CancellationDate": null}})
    } else {
        json!({})
    };
    Json(json!({
        "LicenseNumber": rec["number"], "BusinessName": rec["business_name"],
        "BusinessType": "Limited Liability", "IssueDate": "03/14/2019",
        "ExpirationDate": us_date(&rec["expires_on"]), "Status": status,
        "Classifications": strings(&rec["classifications"]),
        "Bonding": bond,
        "WorkersCompensation": {"Status": "Exempt"},
        "Personnel": [{"Name": rec["licensee_name"], "Title": "RMO"}],
    }))
    .into_response()
}

async fn tdlr(State(r): State<Arc<Registries>>, RawQuery(q): RawQuery) -> Response {
    if let Some(failed) = scenario(&r, "TX").await {
        return failed;
    }
    let rows: Vec<Value> = param(q.as_deref(), "license_number")
        .and_then(|n| record(&r, "TX", &n))
        .map(|rec| {
            vec![json!({
                "license_type": strings(&rec["classifications"]).first().cloned().unwrap_or_default(),
                "license_number": rec["number"],
                "license_expiration_date_mmddccyy": us_date(&rec["expires_on"]),
                "name": rec["licensee_name"], "business_name": rec["business_name"],
                "county": "DALLAS",
            })]
        })
        .unwrap_or_default();
    Json(rows).into_response()
}

/// One query parameter, decoded.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            urlencoding::decode(&v.replace('+', " "))
                .map(|v| v.into_owned())
                .ok()
        })?
    })
}

fn csv_field(v: &Value) -> String {
    let s = v.as_str().unwrap_or_default();
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn dbpr(State(r): State<Arc<Registries>>, RawQuery(q): RawQuery) -> Response {
    if let Some(failed) = scenario(&r, "FL").await {
        return failed;
    }
    let mut csv = String::from(
        "Board,Licensee Name,DBA Name,Rank,License Number,Primary Status,Secondary Status,Expiration Date\r\n",
    );
    if let Some(rec) = param(q.as_deref(), "license_number").and_then(|n| record(&r, "FL", &n)) {
        let rank = match strings(&rec["classifications"]).first().map(String::as_str) {
            Some("EC") => "Cert Electrical Contractor",
            Some("ER") => "Reg Electrical Contractor",
            Some(other) => other,
            None => "",
        }
        .to_owned();
        let (primary, secondary) = match rec["status"].as_str().unwrap_or("active") {
            "active" => ("Current", "Active"),
            "expired" => ("Delinquent", "Inactive"),
            "suspended" => ("Suspended", "Inactive"),
            "revoked" => ("Null and Void", "Inactive"),
            _ => ("Current", "Inactive"),
        };
        csv.push_str(&format!(
            "08,{},{},{rank},{},{primary},{secondary},{}\r\n",
            csv_field(&rec["licensee_name"]),
            csv_field(&rec["business_name"]),
            rec["number"].as_str().unwrap_or_default(),
            us_date(&rec["expires_on"]),
        ));
    }
    ([("content-type", "text/csv")], csv).into_response()
}
