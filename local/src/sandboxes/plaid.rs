//! Plaid: Link tokens, sandbox public tokens, the exchange, `/auth/get` and
//! `/accounts/get` (instant Auth or automated micro-deposits, by the sandbox username), the
//! webhook verification keys (`/webhook_verification_key/get`, checking client id and
//! secret; rotated on request, the old key answered with `expired_at`),
//! `/sandbox/item/set_verification_status` and `/sandbox/item/fire_webhook` (which send the
//! Auth webhooks, as Plaid's sandbox does), and signed webhooks (`Plaid-Verification`,
//! ES256) sent on a test's request, duplicated, stale, tampered or signed by a retired key.
//!
//! Every request to an operation Plaid's definition (`plaid-2020-09-14.yml`) describes is
//! checked against it first and refused as Plaid refuses (`MISSING_FIELDS`,
//! `INVALID_FIELD`). The sandbox's own controls, not Plaid's, are `/sandbox/webhooks/send`,
//! `/sandbox/webhook_key/rotate` and `/sandbox/items/access_token`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Sandbox;
use crate::RunnerError;
use webhooks::PlaidSigner;

pub struct PlaidSandbox;

/// A webhook signing key: the newest signs; older ones are answered with `expired_at`.
struct SigningKey {
    signer: PlaidSigner,
    created_at: i64,
    expired_at: Option<i64>,
}

impl SigningKey {
    fn new() -> SigningKey {
        SigningKey {
            signer: PlaidSigner::generate(format!(
                "sandbox-{}",
                ulid::Ulid::new().to_string().to_lowercase()
            )),
            created_at: chrono::Utc::now().timestamp(),
            expired_at: None,
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk = self.signer.jwk();
        jwk["created_at"] = json!(self.created_at);
        jwk["expired_at"] = json!(self.expired_at);
        jwk
    }
}

struct PlaidState {
    keys: Mutex<Vec<SigningKey>>,
    definition: Option<Arc<contracts::Definition>>,
    client_id: String,
    secret: String,
    http: reqwest::Client,
    /// Public tokens not yet exchanged, and items by access token.
    public_tokens: Mutex<HashMap<String, Item>>,
    items: Mutex<HashMap<String, Item>>,
}

#[derive(Clone, Debug)]
struct Item {
    item_id: String,
    institution_id: String,
    webhook: String,
    accounts: Vec<Account>,
}

#[derive(Clone, Debug)]
struct Account {
    account_id: String,
    mask: &'static str,
    name: &'static str,
    subtype: &'static str,
    /// `None`: instant Auth.
    verification_status: Option<String>,
}

impl Item {
    /// Plaid's `Item` object, with every field its definition requires.
    fn json(&self) -> Value {
        json!({
            "item_id": self.item_id, "institution_id": self.institution_id,
            "institution_name": "First Platypus Bank",
            "webhook": if self.webhook.is_empty() { Value::Null } else { json!(self.webhook) },
            "auth_method": if self.accounts.iter().any(|a| a.verification_status.is_some()) {
                "AUTOMATED_MICRODEPOSITS" } else { "INSTANT_AUTH" },
            "error": null,
            "available_products": ["balance", "identity", "transactions"],
            "billed_products": ["auth"], "products": ["auth"], "consented_products": ["auth"],
            "consent_expiration_time": null, "update_type": "background",
        })
    }
}

impl Account {
    fn json(&self) -> Value {
        // Plaid leaves `verification_status` out for instant Auth (it is not nullable).
        let mut account = json!({
            "account_id": self.account_id, "mask": self.mask, "name": self.name,
            "official_name": format!("Plaid {}", self.name), "type": "depository",
            "subtype": self.subtype,
            "balances": {"available": 100.0, "current": 110.0, "limit": null,
                         "iso_currency_code": "USD", "unofficial_currency_code": null},
        });
        if let Some(status) = &self.verification_status {
            account["verification_status"] = json!(status);
        }
        account
    }
}

fn id(prefix: &str) -> String {
    format!("{prefix}{}", ulid::Ulid::new().to_string().to_lowercase())
}

impl PlaidSandbox {
    /// Starts on a free loopback port, accepting `client_id`/`secret` (the local secret),
    /// checking requests against Plaid's `definition` when there is one.
    pub async fn start(
        client_id: &str,
        secret: &str,
        definition: Option<Arc<contracts::Definition>>,
    ) -> Result<Sandbox, RunnerError> {
        let state = Arc::new(PlaidState {
            keys: Mutex::new(vec![SigningKey::new()]),
            definition,
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            http: reqwest::Client::new(),
            public_tokens: Mutex::new(HashMap::new()),
            items: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/link/token/create", post(link_token_create))
            .route("/sandbox/public_token/create", post(public_token_create))
            .route("/item/public_token/exchange", post(exchange))
            .route("/auth/get", post(auth_get))
            .route("/accounts/get", post(accounts_get))
            .route(
                "/sandbox/item/set_verification_status",
                post(set_verification_status),
            )
            .route("/sandbox/item/fire_webhook", post(fire_webhook))
            .route("/webhook_verification_key/get", post(verification_key))
            .route("/sandbox/webhooks/send", post(send_webhook))
            .route("/sandbox/webhook_key/rotate", post(rotate_key))
            .route("/sandbox/items/access_token", post(access_token_control))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                as_the_definition_says,
            ))
            .layer(axum::middleware::from_fn(require_version))
            .with_state(state);
        Sandbox::serve("Plaid", app).await
    }
}

/// Plaid's API calls must name the version they speak (`Plaid-Version: 2020-09-14`), as
/// our clients do.
async fn require_version(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    // The sandbox's own controls (what a test or a newcomer calls by hand) are exempt.
    let control = path.starts_with("/sandbox/");
    let version = req
        .headers()
        .get("plaid-version")
        .and_then(|v| v.to_str().ok());
    if !control && version != Some("2020-09-14") {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_HEADERS",
            "Plaid-Version must be 2020-09-14 for this integration",
        );
    }
    next.run(req).await
}

/// Refuses a request the definition refuses, as Plaid does: absent required fields are
/// `MISSING_FIELDS`, anything else wrong is `INVALID_FIELD`, both naming the fields.
async fn as_the_definition_says(
    State(s): State<Arc<PlaidState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(definition) = s.definition.clone() else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return plaid_error(StatusCode::BAD_REQUEST, "INVALID_BODY", "body too large");
    };
    let parsed: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) if definition.operation("POST", parts.uri.path()).is_some() => {
            return plaid_error(
                StatusCode::BAD_REQUEST,
                "INVALID_BODY",
                "body could not be parsed as JSON",
            );
        }
        Err(_) => Value::Null,
    };
    // Credentials first, as Plaid checks them: a caller without them learns nothing more.
    if definition.operation("POST", parts.uri.path()).is_some()
        && let Some(refused) = refused_keys(&s, &parsed)
    {
        return refused;
    }
    if let Some(found) = super::refusals(
        Some(&definition),
        parts.method.as_str(),
        parts.uri.path(),
        Some("application/json"),
        &parsed,
    ) {
        let field = |v: &contracts::Violation| v.at.trim_start_matches("$.").to_owned();
        let absent: Vec<String> = found
            .iter()
            .filter(|v| v.problem == contracts::Problem::Missing)
            .map(field)
            .collect();
        return if absent.is_empty() {
            let wrong: Vec<String> = found.iter().map(ToString::to_string).collect();
            plaid_error(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                &wrong.join("; ").replace("$.", ""),
            )
        } else {
            plaid_error(
                StatusCode::BAD_REQUEST,
                "MISSING_FIELDS",
                &format!(
                    "the following required fields are missing: {}",
                    absent.join(", ")
                ),
            )
        };
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn plaid_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error_type": error_type(code), "error_code": code, "error_message": message, "display_message": null, "request_id": ulid::Ulid::new().to_string()})),
    )
        .into_response()
}

/// Plaid's `error_type` for an `error_code`, as its errors reference groups them.
fn error_type(code: &str) -> &'static str {
    match code {
        "INVALID_API_KEYS"
        | "INVALID_PUBLIC_TOKEN"
        | "INVALID_ACCESS_TOKEN"
        | "INVALID_ACCOUNT_ID"
        | "INVALID_WEBHOOK_VERIFICATION_KEY_ID" => "INVALID_INPUT",
        "PRODUCT_NOT_READY" | "ITEM_NOT_FOUND" => "ITEM_ERROR",
        _ => "INVALID_REQUEST",
    }
}

/// Plaid's `Products` and `CountryCode` enums (API version 2020-09-14).
const PRODUCTS: [&str; 38] = [
    "assets",
    "auth",
    "balance",
    "balance_plus",
    "beacon",
    "identity",
    "identity_match",
    "investments",
    "investments_auth",
    "liabilities",
    "payment_initiation",
    "identity_verification",
    "transactions",
    "credit_details",
    "income",
    "income_verification",
    "standing_orders",
    "transfer",
    "employment",
    "recurring_transactions",
    "transactions_refresh",
    "signal",
    "statements",
    "processor_payments",
    "processor_identity",
    "profile",
    "cra_base_report",
    "cra_income_insights",
    "cra_partner_insights",
    "cra_network_insights",
    "cra_cashflow_insights",
    "cra_monitoring",
    "cra_lend_score",
    "cra_plaid_credit_score",
    "layer",
    "pay_by_bank",
    "protect_linked_bank",
    "protect_transactions",
];
const COUNTRIES: [&str; 20] = [
    "US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL", "DK", "NO", "SE", "EE", "LT", "LV",
    "PT", "BE", "AT", "FI",
];

/// The fields a request lacks, by name (`MISSING_FIELDS`, as Plaid answers).
fn missing(req: &Value, fields: &[&str]) -> Option<Response> {
    let absent: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| {
            let v = f.split('.').fold(req, |v, k| &v[k]);
            v.is_null()
                || v.as_str().is_some_and(str::is_empty)
                || v.as_array().is_some_and(Vec::is_empty)
        })
        .collect();
    (!absent.is_empty()).then(|| {
        plaid_error(
            StatusCode::BAD_REQUEST,
            "MISSING_FIELDS",
            &format!(
                "the following required fields are missing: {}",
                absent.join(", ")
            ),
        )
    })
}

/// An enum field whose values are not all in `allowed`.
fn invalid(req: &Value, field: &str, allowed: &[&str]) -> Option<Response> {
    let bad = req[field].as_array().is_some_and(|vs| {
        vs.iter()
            .any(|v| !v.as_str().is_some_and(|v| allowed.contains(&v)))
    });
    bad.then(|| {
        plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
            &format!("{field} contains a value Plaid does not know"),
        )
    })
}

/// Plaid's answer to a request without our client id and secret.
fn refused_keys(s: &PlaidState, req: &Value) -> Option<Response> {
    (req["client_id"] != s.client_id.as_str() || req["secret"] != s.secret.as_str()).then(|| {
        plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_API_KEYS",
            "invalid client_id or secret provided",
        )
    })
}

async fn link_token_create(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    if let Some(refused) = refused_keys(&s, &req) {
        return refused;
    }
    // What Plaid's definition requires of `/link/token/create`.
    if let Some(refused) = missing(
        &req,
        &[
            "client_name",
            "language",
            "country_codes",
            "user.client_user_id",
            "products",
        ],
    )
    .or_else(|| invalid(&req, "products", &PRODUCTS))
    .or_else(|| invalid(&req, "country_codes", &COUNTRIES))
    {
        return refused;
    }
    let expiration = chrono::Utc::now() + chrono::Duration::hours(4);
    Json(json!({"link_token": id("link-sandbox-"), "expiration": expiration.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "request_id": id("")})).into_response()
}

/// `{institution_id, initial_products, options: {webhook, override_username}}`: a public
/// token as Link would hand the client. `user_good` links a checking and a savings account
/// verified instantly; `user_automated_micro` one checking account awaiting automated
/// micro-deposits.
async fn public_token_create(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    if let Some(refused) = refused_keys(&s, &req) {
        return refused;
    }
    if let Some(refused) = missing(&req, &["institution_id", "initial_products"])
        .or_else(|| invalid(&req, "initial_products", &PRODUCTS))
    {
        return refused;
    }
    let username = req["options"]["override_username"]
        .as_str()
        .unwrap_or("user_good");
    let accounts = if username == "user_automated_micro" {
        vec![Account {
            account_id: id("acc_"),
            mask: "5555",
            name: "Checking",
            subtype: "checking",
            verification_status: Some("pending_automatic_verification".into()),
        }]
    } else {
        vec![
            Account {
                account_id: id("acc_"),
                mask: "0000",
                name: "Checking",
                subtype: "checking",
                verification_status: None,
            },
            Account {
                account_id: id("acc_"),
                mask: "1111",
                name: "Saving",
                subtype: "savings",
                verification_status: None,
            },
        ]
    };
    let item = Item {
        item_id: id("item_"),
        institution_id: req["institution_id"]
            .as_str()
            .unwrap_or("ins_109508")
            .to_owned(),
        webhook: req["options"]["webhook"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        accounts,
    };
    let token = id("public-sandbox-");
    s.public_tokens
        .lock()
        .expect("tokens")
        .insert(token.clone(), item);
    Json(json!({"public_token": token, "request_id": id("")})).into_response()
}

async fn exchange(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    if let Some(refused) = refused_keys(&s, &req) {
        return refused;
    }
    let token = req["public_token"].as_str().unwrap_or_default();
    // A public token is good for one exchange.
    let Some(item) = s.public_tokens.lock().expect("tokens").remove(token) else {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_PUBLIC_TOKEN",
            "provided public token is in an invalid format or expired",
        );
    };
    let access = id("access-sandbox-");
    let item_id = item.item_id.clone();
    s.items.lock().expect("items").insert(access.clone(), item);
    Json(json!({"access_token": access, "item_id": item_id, "request_id": id("")})).into_response()
}

/// The access token a request names (Plaid takes no `item_id` in its place).
fn access_token_of(req: &Value) -> String {
    req["access_token"].as_str().unwrap_or_default().to_owned()
}

/// `{item_id}` → `{access_token, account_ids}`: a control of this sandbox, not Plaid's, for tests and
/// newcomers who hold an item id (our API returns it) but never the token (we keep it
/// encrypted).
async fn access_token_control(
    State(s): State<Arc<PlaidState>>,
    Json(req): Json<Value>,
) -> Response {
    let item_id = req["item_id"].as_str().unwrap_or_default();
    let found = s
        .items
        .lock()
        .expect("items")
        .iter()
        .find(|(_, item)| item.item_id == item_id)
        .map(|(token, item)| {
            let accounts: Vec<&str> = item
                .accounts
                .iter()
                .map(|a| a.account_id.as_str())
                .collect();
            json!({"access_token": token, "account_ids": accounts})
        });
    match found {
        Some(answer) => Json(answer).into_response(),
        None => plaid_error(StatusCode::BAD_REQUEST, "ITEM_NOT_FOUND", "no such item"),
    }
}

fn item_of(s: &PlaidState, req: &Value) -> Result<Item, Box<Response>> {
    if let Some(refused) = refused_keys(s, req) {
        return Err(Box::new(refused));
    }
    // The token first: looking it up takes the same lock.
    let token = access_token_of(req);
    s.items
        .lock()
        .expect("items")
        .get(&token)
        .cloned()
        .ok_or_else(|| {
            Box::new(plaid_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ACCESS_TOKEN",
                "provided access token is in an invalid format",
            ))
        })
}

/// Numbers only for verified accounts; `PRODUCT_NOT_READY` while micro-deposits are pending.
async fn auth_get(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    let item = match item_of(&s, &req) {
        Ok(item) => item,
        Err(refused) => return *refused,
    };
    if item.accounts.iter().any(|a| {
        a.verification_status
            .as_deref()
            .is_some_and(|v| v.starts_with("pending"))
    }) {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "PRODUCT_NOT_READY",
            "the requested product is not yet ready",
        );
    }
    let ach: Vec<Value> = item
        .accounts
        .iter()
        .map(|a| json!({"account_id": a.account_id, "account": format!("111122223333{}", a.mask), "routing": "011401533", "wire_routing": "021000021"}))
        .collect();
    Json(json!({
        "accounts": item.accounts.iter().map(Account::json).collect::<Vec<_>>(),
        "numbers": {"ach": ach, "eft": [], "international": [], "bacs": []},
        "item": item.json(),
        "request_id": id(""),
    }))
    .into_response()
}

async fn accounts_get(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    match item_of(&s, &req) {
        Ok(item) => Json(json!({
            "accounts": item.accounts.iter().map(Account::json).collect::<Vec<_>>(),
            "item": item.json(),
            "request_id": id(""),
        }))
        .into_response(),
        Err(refused) => *refused,
    }
}

/// `{access_token, account_id, verification_status}`: moves a micro-deposit account to
/// `automatically_verified` or `verification_expired` and sends the Auth webhook.
async fn set_verification_status(
    State(s): State<Arc<PlaidState>>,
    Json(req): Json<Value>,
) -> Response {
    let item = match item_of(&s, &req) {
        Ok(item) => item,
        Err(refused) => return *refused,
    };
    if let Some(refused) = missing(&req, &["access_token", "account_id", "verification_status"]) {
        return refused;
    }
    let account_id = req["account_id"].as_str().unwrap_or_default();
    let status = req["verification_status"].as_str().unwrap_or_default();
    let code = match status {
        "automatically_verified" => "AUTOMATICALLY_VERIFIED",
        "verification_expired" => "VERIFICATION_EXPIRED",
        _ => {
            return plaid_error(
                StatusCode::BAD_REQUEST,
                "INVALID_FIELD",
                "verification_status must be automatically_verified or verification_expired",
            );
        }
    };
    {
        let token = access_token_of(&req);
        let mut items = s.items.lock().expect("items");
        let Some(stored) = items.get_mut(&token) else {
            return plaid_error(StatusCode::BAD_REQUEST, "INVALID_ACCESS_TOKEN", "unknown");
        };
        let Some(account) = stored
            .accounts
            .iter_mut()
            .find(|a| a.account_id == account_id)
        else {
            return plaid_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ACCOUNT_ID",
                "unknown account",
            );
        };
        account.verification_status = Some(status.to_owned());
    }
    let body = json!({"webhook_type": "AUTH", "webhook_code": code, "item_id": item.item_id, "account_id": account_id, "environment": "sandbox", "error": null});
    let statuses = deliver(&s, &item.webhook, &body.to_string(), 1, 0, false).await;
    answered_with_webhooks(json!({"request_id": id("")}), &statuses)
}

/// Signs `body` (ES256, `iat` now + `iat_offset`) with the current key, or with the key
/// `kid` (a retired one, for tests), and POSTs it to `url` `copies` times; `tamper` changes
/// the body after signing. The HTTP statuses received, in order.
async fn deliver(
    s: &PlaidState,
    url: &str,
    body: &str,
    copies: u64,
    iat_offset: i64,
    tamper: bool,
) -> Vec<u16> {
    deliver_signed_by(s, None, url, body, copies, iat_offset, tamper).await
}

async fn deliver_signed_by(
    s: &PlaidState,
    kid: Option<&str>,
    url: &str,
    body: &str,
    copies: u64,
    iat_offset: i64,
    tamper: bool,
) -> Vec<u16> {
    let iat = chrono::Utc::now().timestamp() + iat_offset;
    let token = {
        let keys = s.keys.lock().expect("keys");
        let key = kid
            .and_then(|kid| keys.iter().find(|k| k.signer.jwk()["kid"] == kid))
            .or(keys.last())
            .expect("a signing key");
        key.signer.token(body.as_bytes(), iat)
    };
    let sent = if tamper {
        body.replacen('"', "\" ", 1)
    } else {
        body.to_owned()
    };
    let mut statuses = Vec::new();
    for _ in 0..copies.max(1) {
        let status = s
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("plaid-verification", &token)
            .body(sent.clone())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        statuses.push(status);
    }
    statuses
}

async fn verification_key(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    if let Some(refused) = refused_keys(&s, &req) {
        return refused;
    }
    let jwk = s
        .keys
        .lock()
        .expect("keys")
        .iter()
        .map(SigningKey::jwk)
        .find(|jwk| req["key_id"] == jwk["kid"]);
    let Some(jwk) = jwk else {
        return plaid_error(
            StatusCode::BAD_REQUEST,
            "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
            "invalid key_id provided",
        );
    };
    Json(json!({"key": jwk, "request_id": ulid::Ulid::new().to_string()})).into_response()
}

/// A control of this sandbox: a new signing key; the previous ones get `expired_at` (as
/// when Plaid rotates). Answers the new and the retired key ids.
async fn rotate_key(State(s): State<Arc<PlaidState>>) -> Response {
    let now = chrono::Utc::now().timestamp();
    let mut keys = s.keys.lock().expect("keys");
    let mut retired = Vec::new();
    for key in keys.iter_mut().filter(|k| k.expired_at.is_none()) {
        key.expired_at = Some(now);
        retired.push(key.signer.jwk()["kid"].clone());
    }
    keys.push(SigningKey::new());
    let current = keys.last().map(|k| k.signer.jwk()["kid"].clone());
    Json(json!({"key_id": current, "retired": retired})).into_response()
}

/// `/sandbox/item/fire_webhook {access_token, webhook_type?, webhook_code}`: the Auth
/// webhooks Plaid's sandbox can fire — `DEFAULT_UPDATE` (account numbers changed) and
/// `SMS_MICRODEPOSITS_VERIFICATION` (same-day micro-deposits confirmed by text, for the
/// item's first account). Other codes of Plaid's list are Item and Transactions webhooks
/// this integration doesn't subscribe to; the sandbox says so rather than pretend.
async fn fire_webhook(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    let item = match item_of(&s, &req) {
        Ok(item) => item,
        Err(refused) => return *refused,
    };
    let first = item
        .accounts
        .first()
        .map(|a| a.account_id.clone())
        .unwrap_or_default();
    let body = match req["webhook_code"].as_str().unwrap_or_default() {
        "DEFAULT_UPDATE" => json!({
            "webhook_type": "AUTH", "webhook_code": "DEFAULT_UPDATE", "item_id": item.item_id,
            "account_ids_with_new_auth": [], "account_ids_with_updated_auth": {first.clone(): ["ACCOUNT_NUMBER"]},
            "error": null, "environment": "sandbox"}),
        "SMS_MICRODEPOSITS_VERIFICATION" => json!({
            "webhook_type": "AUTH", "webhook_code": "SMS_MICRODEPOSITS_VERIFICATION",
            "status": "MANUALLY_VERIFIED", "item_id": item.item_id, "account_id": first,
            "environment": "sandbox"}),
        other => {
            return plaid_error(
                StatusCode::BAD_REQUEST,
                "SANDBOX_WEBHOOK_NOT_SIMULATED",
                &format!("the local sandbox fires Auth webhooks only, not {other}"),
            );
        }
    };
    let statuses = deliver(&s, &item.webhook, &body.to_string(), 1, 0, false).await;
    answered_with_webhooks(
        json!({"webhook_fired": true, "request_id": id("")}),
        &statuses,
    )
}

/// Plaid's answer, with what the webhook receiver answered in a header of this sandbox's
/// own (`Sandbox-Webhook-Statuses: 200,200`), so the body stays as Plaid defines it.
fn answered_with_webhooks(body: Value, statuses: &[u16]) -> Response {
    let shown: Vec<String> = statuses.iter().map(u16::to_string).collect();
    let mut answer = Json(body).into_response();
    if let Ok(value) = shown.join(",").parse() {
        answer
            .headers_mut()
            .insert("sandbox-webhook-statuses", value);
    }
    answer
}

/// `{url, body, copies?, iat_offset_seconds?, tamper?, key_id?}`: signs `body` and POSTs
/// it to `url` `copies` times (a duplicated webhook); a negative `iat_offset_seconds` makes
/// it stale; `tamper` changes the body after signing (a forgery); `key_id` signs with that
/// (retired) key. Answers the statuses received.
async fn send_webhook(State(s): State<Arc<PlaidState>>, Json(req): Json<Value>) -> Response {
    let statuses = deliver_signed_by(
        &s,
        req["key_id"].as_str(),
        req["url"].as_str().unwrap_or_default(),
        &req["body"].to_string(),
        req["copies"].as_u64().unwrap_or(1),
        req["iat_offset_seconds"].as_i64().unwrap_or(0),
        req["tamper"].as_bool().unwrap_or(false),
    )
    .await;
    Json(json!({"statuses": statuses})).into_response()
}
