//! Provider contracts: what our clients send and what our sandboxes answer and post, checked
//! against the providers' own published definitions in `../shared/specs` (read from there,
//! never copied). A sandbox we write could share our misreadings; the definition can't.
//! Each run prints how many requests, responses and webhooks it checked per endpoint.

use std::sync::Arc;
use std::time::Duration;

use contracts::{Definition, Direction, Ledger, Strictness};
use e2e_tests::contract::{Inbox, Recorder, check_exchanges, specs_dir};
use local_runner::sandboxes::{self, PlaidSandbox};
use providers::plaid::{ERROR_READS, Plaid, READS};
use serde_json::{Value, json};
use webhooks::{KeyCache, PlaidKeys, Rejected};

const CLIENT_ID: &str = "contract-client";
const SECRET: &str = "contract-secret";

fn plaid_definition() -> Arc<Definition> {
    sandboxes::definition(&specs_dir(), "plaid-2020-09-14.yml")
        .expect("Plaid's definition in ../shared/specs")
}

/// The Auth webhook schemas of Plaid's definition, by code.
fn webhook_schema(code: &str) -> &'static str {
    match code {
        "AUTOMATICALLY_VERIFIED" => "AutomaticallyVerifiedWebhook",
        "VERIFICATION_EXPIRED" => "VerificationExpiredWebhook",
        "DEFAULT_UPDATE" => "AuthDefaultUpdateWebhook",
        "SMS_MICRODEPOSITS_VERIFICATION" => "HostedMMDVerificationWebhook",
        other => panic!("a webhook code the test does not know: {other}"),
    }
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(url)
        .header("Plaid-Version", "2020-09-14")
        .json(&body)
        .send()
        .await
        .expect("sandbox reachable");
    (
        answer.status().as_u16(),
        answer.json().await.unwrap_or(Value::Null),
    )
}

/// A public token from Plaid's sandbox call, as Link would hand it to the phone.
async fn public_token(base: &str, username: &str, webhook: &str) -> String {
    let (status, body) = post(
        &format!("{base}/sandbox/public_token/create"),
        json!({"client_id": CLIENT_ID, "secret": SECRET, "institution_id": "ins_109508",
               "initial_products": ["auth"], "options": {"webhook": webhook, "override_username": username}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["public_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn plaid_client_sandbox_and_webhooks_agree_with_plaids_definition() {
    let definition = plaid_definition();
    let sandbox = PlaidSandbox::start(CLIENT_ID, SECRET, Some(definition.clone()))
        .await
        .unwrap();
    let recorder = Recorder::start(&sandbox.base_url).await;
    let inbox = Inbox::start().await;
    let plaid = Plaid {
        http: reqwest::Client::new(),
        base_url: recorder.url.clone(),
        credentials: std::sync::Arc::new(platform::secrets::Secret::fixed(
            json!({"client_id": CLIENT_ID, "secret": SECRET}),
        )),
    };

    // The product's whole Plaid journey, through the real client code.
    let link = plaid.link_token("ctr_contract", &inbox.url).await.unwrap();
    assert!(link.link_token.starts_with("link-sandbox-"));
    let instant = public_token(&recorder.url, "user_good", &inbox.url).await;
    let (instant_token, _) = plaid.exchange(&instant).await.unwrap();
    let accounts = plaid.accounts(&instant_token).await.unwrap();
    assert!(accounts.iter().all(|a| a.numbers_available));
    let mut micro_tokens = Vec::new();
    for _ in 0..2 {
        let micro = public_token(&recorder.url, "user_automated_micro", &inbox.url).await;
        let (token, _) = plaid.exchange(&micro).await.unwrap();
        // `/auth/get` refuses (`PRODUCT_NOT_READY`), then `/accounts/get` answers.
        let pending = plaid.accounts(&token).await.unwrap();
        micro_tokens.push((token, pending[0].account_id.clone()));
    }
    // Every Auth webhook code the sandbox sends, through Plaid's own sandbox calls.
    for ((token, account), status) in micro_tokens
        .iter()
        .zip(["automatically_verified", "verification_expired"])
    {
        let (code, body) = post(
            &format!("{}/sandbox/item/set_verification_status", recorder.url),
            json!({"client_id": CLIENT_ID, "secret": SECRET, "access_token": token,
                   "account_id": account, "verification_status": status}),
        )
        .await;
        assert_eq!(code, 200, "{body}");
    }
    for code in ["DEFAULT_UPDATE", "SMS_MICRODEPOSITS_VERIFICATION"] {
        let (status, body) = post(
            &format!("{}/sandbox/item/fire_webhook", recorder.url),
            json!({"client_id": CLIENT_ID, "secret": SECRET, "access_token": micro_tokens[0].0,
                   "webhook_code": code}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let delivered = inbox.taken();
    assert_eq!(delivered.len(), 4, "one webhook per code");

    // Each webhook verifies with the keys the real key client fetches through the recorder.
    let keys = KeyCache::new(
        PlaidKeys {
            http: reqwest::Client::new(),
            base_url: recorder.url.clone(),
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        },
        Duration::from_secs(86_400),
    );
    let now = chrono::Utc::now().timestamp();
    for (headers, body) in &delivered {
        let header = headers
            .get("plaid-verification")
            .and_then(|v| v.to_str().ok());
        keys.verify_plaid(body, header, now)
            .await
            .expect("a genuine Plaid webhook verifies");
    }

    // Refusals a request to the real Plaid would get, in Plaid's error shape.
    let refusals = [
        (
            "/link/token/create",
            json!({"client_id": CLIENT_ID, "secret": SECRET, "user": {"client_user_id": "u"}, "products": ["auth"]}),
            "MISSING_FIELDS",
        ),
        (
            "/link/token/create",
            json!({"client_id": CLIENT_ID, "secret": SECRET, "client_name": "x", "language": "en", "country_codes": ["ZZ"], "user": {"client_user_id": "u"}, "products": ["bogus"]}),
            "INVALID_FIELD",
        ),
        (
            "/sandbox/public_token/create",
            json!({"client_id": CLIENT_ID, "secret": SECRET}),
            "MISSING_FIELDS",
        ),
        (
            "/sandbox/item/set_verification_status",
            json!({"client_id": CLIENT_ID, "secret": SECRET, "access_token": micro_tokens[0].0, "verification_status": "automatically_verified"}),
            "MISSING_FIELDS",
        ),
        (
            "/sandbox/item/set_verification_status",
            json!({"client_id": CLIENT_ID, "secret": SECRET, "item_id": "item_x", "account_id": "a", "verification_status": "automatically_verified"}),
            "MISSING_FIELDS",
        ),
        (
            "/auth/get",
            json!({"client_id": CLIENT_ID, "secret": SECRET, "access_token": 7}),
            "INVALID_FIELD",
        ),
    ];
    for (path, body, expected) in refusals {
        let (status, error) = post(&format!("{}{path}", recorder.url), body).await;
        assert_eq!(
            (status, error["error_code"].as_str()),
            (400, Some(expected)),
            "{path}: {error}"
        );
        assert_eq!(error["error_type"], "INVALID_REQUEST", "{error}");
    }

    // Check it all against the definition: requests we meant to be good, strictly.
    let mut ledger = Ledger::default();
    let exchanges = recorder.taken();
    let (good, refused): (Vec<_>, Vec<_>) = exchanges
        .into_iter()
        .partition(|x| x.status == 200 || x.response_json()["error_code"] == "PRODUCT_NOT_READY");
    check_exchanges(&definition, &good, &[], &mut ledger);
    // Refused requests were built wrong on purpose: only their answers are checked.
    for x in &refused {
        let op = definition
            .operation(&x.method, &x.path)
            .expect("a Plaid operation");
        let schema = op
            .response_schema(x.status, None)
            .expect("Plaid's error schema");
        ledger.record(
            &op.endpoint(),
            Direction::Response,
            &definition.check(schema, &x.response_json(), Strictness::Strict),
        );
    }
    for (_, body) in &delivered {
        let body: Value = serde_json::from_slice(body).unwrap();
        let name = webhook_schema(body["webhook_code"].as_str().unwrap());
        ledger.record(
            &format!("webhook AUTH {}", body["webhook_code"].as_str().unwrap()),
            Direction::Webhook,
            &definition.check_named(name, &body, Strictness::Strict),
        );
    }
    // What the product reads must exist in the definition.
    for (source, path) in READS {
        let schema = match definition.operation("POST", source.trim_start_matches("POST ")) {
            Some(op) if source.starts_with("POST ") => op.response_schema(200, None).unwrap(),
            _ => definition.schema(source).expect("a webhook schema"),
        };
        if !definition.names(schema, path) {
            ledger.fail(
                source,
                format!("the product reads {path:?}, which the definition does not name"),
            );
        }
    }
    let error = definition
        .schema("PlaidError")
        .expect("Plaid's error schema");
    for field in ERROR_READS {
        if !definition.names(error, &[field]) {
            ledger.fail(
                "PlaidError",
                format!("the product reads {field}, which the definition does not name"),
            );
        }
    }
    println!("{}", ledger.report("Plaid contract (plaid-2020-09-14.yml)"));
    assert_eq!(ledger.violations(), Vec::<String>::new());
    for (endpoint, requests, responses) in [
        ("POST /link/token/create", 1, 3),
        ("POST /sandbox/public_token/create", 3, 4),
        ("POST /item/public_token/exchange", 3, 3),
        ("POST /auth/get", 3, 4),
        ("POST /accounts/get", 2, 2),
        ("POST /sandbox/item/set_verification_status", 2, 4),
        ("POST /sandbox/item/fire_webhook", 2, 2),
        ("POST /webhook_verification_key/get", 1, 1),
    ] {
        let t = ledger.tally(endpoint);
        assert!(
            t.requests >= requests && t.responses >= responses,
            "{endpoint}: {t:?}"
        );
    }
    for code in [
        "AUTOMATICALLY_VERIFIED",
        "VERIFICATION_EXPIRED",
        "DEFAULT_UPDATE",
        "SMS_MICRODEPOSITS_VERIFICATION",
    ] {
        assert_eq!(
            ledger.tally(&format!("webhook AUTH {code}")).webhooks,
            1,
            "{code}"
        );
    }

    // The checks have teeth: a field renamed in a request, or dropped from an answer, fails.
    let link_request = good
        .iter()
        .find(|x| x.path == "/link/token/create")
        .unwrap()
        .request_json();
    let mut renamed = link_request.clone();
    let name = renamed
        .as_object_mut()
        .unwrap()
        .remove("client_name")
        .unwrap();
    renamed["client_nmae"] = name;
    let schema = definition.schema("LinkTokenCreateRequest").unwrap();
    let found: Vec<String> = definition
        .check(schema, &renamed, Strictness::Strict)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "$.client_name: required but missing",
            "$.client_nmae: not in the definition"
        ]
    );
    let mut auth = good
        .iter()
        .find(|x| x.path == "/auth/get")
        .unwrap()
        .response_json();
    auth.as_object_mut().unwrap().remove("item");
    auth["accounts"][0]["balances"]
        .as_object_mut()
        .unwrap()
        .remove("iso_currency_code");
    let found: Vec<String> = definition
        .check_named("AuthGetResponse", &auth, Strictness::Strict)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "$.item: required but missing",
            "$.accounts[0].balances.iso_currency_code: required but missing"
        ]
    );
    sandbox.stop();
}

/// Plaid's rotation procedure against the sandbox: after a rotation the new key's first
/// webhook makes the cache look again at the old key, which now has `expired_at`, so a
/// webhook signed by the retired key is refused at once, not a day later.
#[tokio::test]
async fn a_retired_plaid_key_is_refused_as_soon_as_the_new_one_is_seen() {
    let sandbox = PlaidSandbox::start(CLIENT_ID, SECRET, Some(plaid_definition()))
        .await
        .unwrap();
    let inbox = Inbox::start().await;
    let keys = KeyCache::new(
        PlaidKeys {
            http: reqwest::Client::new(),
            base_url: sandbox.base_url.clone(),
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        },
        Duration::from_secs(86_400),
    );
    let send = |body: Value, key_id: Option<String>| {
        let (base, url) = (sandbox.base_url.clone(), inbox.url.clone());
        async move {
            let (status, answer) = post(
                &format!("{base}/sandbox/webhooks/send"),
                json!({"url": url, "body": body, "key_id": key_id}),
            )
            .await;
            assert_eq!(
                (status, &answer["statuses"]),
                (200, &json!([200])),
                "{answer}"
            );
        }
    };
    let verify_last = || async {
        let (headers, body) = inbox.taken().last().cloned().unwrap();
        let header = headers
            .get("plaid-verification")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        keys.verify_plaid(&body, header.as_deref(), chrono::Utc::now().timestamp())
            .await
    };
    let hook = json!({"webhook_type": "AUTH", "webhook_code": "AUTOMATICALLY_VERIFIED", "item_id": "item_1",
                      "account_id": "acc_1", "environment": "sandbox", "error": null});
    send(hook.clone(), None).await;
    assert_eq!(verify_last().await, Ok(()));
    let (_, rotated) = post(
        &format!("{}/sandbox/webhook_key/rotate", sandbox.base_url),
        json!({}),
    )
    .await;
    let old = rotated["retired"][0].as_str().unwrap().to_owned();
    // The first webhook signed by the new key: unknown kid, so the cache fetches it and
    // looks again at the keys it still trusts (Plaid's procedure).
    send(hook.clone(), None).await;
    assert_eq!(verify_last().await, Ok(()));
    send(hook.clone(), Some(old.clone())).await;
    assert_eq!(verify_last().await, Err(Rejected::UnknownKey));
    let (status, key) = post(
        &format!("{}/webhook_verification_key/get", sandbox.base_url),
        json!({"client_id": CLIENT_ID, "secret": SECRET, "key_id": old}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(key["key"]["expired_at"].as_i64().is_some(), "{key}");
    sandbox.stop();
}

const TL_TOKEN: &str = "contract-trustlayer-token";
const TL_SECRET: &str = "contract-trustlayer-secret";

/// The TrustLayer adapter through its whole journey against the sandbox, with every request
/// it builds and every answer checked against TrustLayer's own v1 and v2 definitions.
#[tokio::test]
async fn trustlayer_adapter_and_sandbox_agree_with_trustlayers_definitions() {
    use local_runner::sandboxes::InsuranceSandbox;
    use providers::trustlayer::{self, TrustLayer};
    let v1 = sandboxes::definition(&specs_dir(), "trustlayer-platform-v1.yaml")
        .expect("TrustLayer's v1 definition in ../shared/specs");
    let v2 = sandboxes::definition(&specs_dir(), "trustlayer-platform-v2.yaml")
        .expect("TrustLayer's v2 definition in ../shared/specs");
    let inbox = Inbox::start().await;
    let sandbox = InsuranceSandbox::start(
        TL_TOKEN,
        TL_SECRET,
        &inbox.url,
        Some(v1.clone()),
        Some(v2.clone()),
    )
    .await
    .unwrap();
    let recorder = Recorder::start(&sandbox.base_url).await;
    let tl = TrustLayer {
        http: reqwest::Client::new(),
        base_url: recorder.url.clone(),
        api_token: std::sync::Arc::new(platform::secrets::Secret::fixed(
            json!({"api_token": TL_TOKEN}),
        )),
        primary_object_id: "65a000000000000000000001".into(),
        document_type: "65a000000000000000000002".into(),
    };
    let control = |path: &str, body: Value| {
        let url = format!("{}{path}", sandbox.base_url);
        async move {
            let answer = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success());
        }
    };
    control(
        "/sandbox/scenario",
        json!({"party": "Lumen Crews LLC", "mode": "non_compliant"}),
    )
    .await;
    let pdf = std::fs::read(e2e_tests::corpus().join(crate::verification::COI)).unwrap();

    // Two contractors: created once, found again on a retry; a request record per profile.
    let mut primaries = Vec::new();
    for (contractor, name) in [
        ("ctr_contract_a", "Aurora Lights LLC"),
        ("ctr_contract_b", "Lumen Crews LLC"),
    ] {
        let primary = tl.primary_record(contractor, name).await.unwrap();
        assert_eq!(
            tl.primary_record(contractor, name).await.unwrap(),
            primary,
            "found, not made again"
        );
        for profile in ["65a000000000000000000010", "65a000000000000000000011"] {
            let made = tl.request_record(&primary, profile, name).await.unwrap();
            assert_eq!(
                tl.request_record(&primary, profile, name).await.unwrap(),
                made
            );
        }
        tl.upload_certificate(&primary, "certificate.pdf", pdf.clone())
            .await
            .unwrap();
        assert_eq!(tl.contractor_of(&primary).await.unwrap(), [contractor]);
        primaries.push(primary);
    }
    // The verdicts come by webhook (one per request record), signed as TrustLayer signs.
    let hooks = e2e_tests::eventually(Duration::from_secs(10), || async {
        let got = inbox.taken();
        (got.len() >= 4).then_some(got)
    })
    .await
    .expect("a webhook per request record");
    for (headers, body) in &hooks {
        let sig = headers.get("x-hmac-hash").and_then(|v| v.to_str().ok());
        assert_eq!(
            webhooks::verify_hmac_sha256(TL_SECRET.as_bytes(), body, sig),
            Ok(())
        );
        let parsed: Value = serde_json::from_slice(body).unwrap();
        let (request, primary) = trustlayer::webhook_records(&parsed);
        assert!(
            request.is_some() && primary.is_some_and(|p| primaries.contains(&p)),
            "{parsed}"
        );
    }
    let compliant = tl.compliance(&primaries[0]).await.unwrap();
    assert_eq!(compliant.len(), 2);
    assert!(
        compliant
            .iter()
            .all(|r| r.compliant == Some(true) && r.reasons.is_empty())
    );
    let refused = tl.compliance(&primaries[1]).await.unwrap();
    assert!(refused.iter().all(|r| r.compliant == Some(false)));
    assert_eq!(
        refused[0].reasons[0].code,
        "trustlayer_generalliability_generalliabilityeachoccurrence"
    );
    // The insurer cancels: the policy by number says so, the request records too.
    assert_eq!(
        tl.policy("GL0000000").await.unwrap(),
        None,
        "unknown policy"
    );
    control(
        "/sandbox/cancel",
        json!({"party": "Aurora Lights LLC", "policy_number": "GL1234567"}),
    )
    .await;
    let policy = tl.policy("GL1234567").await.unwrap().expect("known policy");
    assert_eq!(policy.reasons[0].code, "policy_cancelled");
    assert!(policy.changed_at.is_some());
    let cancelled = tl.compliance(&primaries[0]).await.unwrap();
    assert!(
        cancelled
            .iter()
            .all(|r| r.reasons.iter().any(|x| x.code == "policy_cancelled"))
    );

    // What TrustLayer refuses, in its error shape.
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/v2/primary-records", sandbox.base_url))
        .bearer_auth(TL_TOKEN)
        .json(&json!({"name": "No object"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["applicationCode"], "FLOW.002", "{error}");
    let op = v2.operation("POST", "/v2/primary-records").unwrap();
    assert_eq!(
        v2.check(
            op.response_schema(400, None).unwrap(),
            &error,
            Strictness::Strict
        ),
        vec![]
    );
    let unauthorised = http
        .get(format!("{}/v2/primary-records", sandbox.base_url))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);
    let form = reqwest::multipart::Form::new().text("documentType", "x");
    let no_document = http
        .post(format!(
            "{}/v1/parties/{}/documents",
            sandbox.base_url, primaries[0]
        ))
        .header("authorization", TL_TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(no_document.status(), 400, "a document is required");

    // Every exchange against the definition of its version; what the adapter reads, too.
    let exchanges = recorder.taken();
    let (v1_calls, v2_calls): (Vec<_>, Vec<_>) = exchanges
        .into_iter()
        .partition(|x| x.path.starts_with("/v1/"));
    let mut ledger = Ledger::default();
    check_exchanges(&v2, &v2_calls, &[], &mut ledger);
    check_exchanges(&v1, &v1_calls, &[], &mut ledger);
    for (endpoint, path) in trustlayer::READS {
        let (method, template) = endpoint.split_once(' ').unwrap();
        let definition = if template.starts_with("/parties") {
            &v1
        } else {
            &v2
        };
        let concrete = template
            .replace("{id}", "x")
            .replace("{number}", "x")
            .replace("{partyId}", "x");
        let op = definition
            .operation(method, &concrete)
            .expect("an operation of the definition");
        let status = if method == "POST" { 201 } else { 200 };
        let schema = op
            .response_schema(status, None)
            .expect("a documented answer");
        if !definition.names(schema, path) {
            ledger.fail(
                endpoint,
                format!("the adapter reads {path:?}, which the definition does not name"),
            );
        }
    }
    println!(
        "{}",
        ledger.report("TrustLayer contract (trustlayer-platform-v1.yaml, -v2.yaml)")
    );
    assert_eq!(ledger.violations(), Vec::<String>::new());
    // The checks have teeth here too: a renamed form field or answer field is caught.
    let upload = v1_calls.iter().find(|x| x.status == 201).unwrap();
    let mut form = upload.request_json();
    assert_eq!(form["document"], "<binary>", "{form}");
    let kind = form
        .as_object_mut()
        .unwrap()
        .remove("documentType")
        .unwrap();
    form["docType"] = kind;
    let op = v1.operation("POST", &upload.path).unwrap();
    let found: Vec<String> = v1
        .check(
            op.request_schema(Some("multipart/form-data")).unwrap(),
            &form,
            Strictness::Strict,
        )
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found, ["$.docType: not in the definition"]);
    let record = v2_calls
        .iter()
        .find(|x| {
            x.path.starts_with("/v2/request-records/")
                && x.response_json()["complianceStatus"].is_string()
        })
        .unwrap();
    let mut answer = record.response_json();
    let status = answer
        .as_object_mut()
        .unwrap()
        .remove("complianceStatus")
        .unwrap();
    answer["complianceState"] = status;
    answer["complianceModules"][0]
        .as_object_mut()
        .unwrap()
        .remove("subjects");
    let op = v2.operation("GET", &record.path).unwrap();
    let found: Vec<String> = v2
        .check(
            op.response_schema(200, None).unwrap(),
            &answer,
            Strictness::Strict,
        )
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "$.complianceModules[0].subjects: required but missing",
            "$.complianceState: not in the definition"
        ]
    );
    for (endpoint, calls) in [
        ("GET /primary-records", 4),
        ("POST /primary-records", 2),
        ("GET /primary-records/{id}", 2),
        ("GET /primary-records/{id}/request-records", 8),
        ("POST /primary-records/{id}/request-records", 4),
        ("GET /request-records/{id}", 6),
        ("GET /policies/{number}", 2),
        ("POST /parties/{partyId}/documents", 2),
    ] {
        let t = ledger.tally(endpoint);
        assert!(t.responses >= calls, "{endpoint}: {t:?}");
    }
    sandbox.stop();
}
