//! Provider webhooks through the local stack: the Plaid sandbox signs (ES256, key fetched by
//! `kid` from the sandbox's `/webhook_verification_key/get`), TrustLayer's HMAC with the
//! local secret; duplicates are recorded (and queued) once; forged, stale, unsigned and
//! tampered requests get 401 and leave nothing behind.

use e2e_tests::{client, product, read};
use serde_json::{Value, json};

async fn post(provider: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let stack = product();
    let mut req = client()
        .post(stack.url(&format!("/v1/webhooks/{provider}")))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (status, _, body) = read(req.send().await.unwrap()).await;
    (status, body)
}

/// TrustLayer documents no delivery id: a signed event is named by its body's SHA-256,
/// whatever id-like field it carries, and a signed body that is not JSON is refused as
/// malformed (4xx, so the sender stops), never a 500 it would retry for ever.
#[tokio::test]
async fn trustlayer_events_are_named_by_their_body_and_malformed_ones_refused() {
    let stack = product();
    let body = json!({"id": "x".repeat(3000), "type": "request-record.compliance-status.updated",
                      "requestRecord": {"id": format!("rr-{}", ulid::Ulid::new())}})
    .to_string();
    let sig = webhooks::sign_hmac_sha256(b"local-insurance-webhook-secret", body.as_bytes());
    let (status, answer) = post("trustlayer", &body, &[("x-hmac-hash", &sig)]).await;
    assert_eq!(status, 200, "{answer}");
    let key = format!(
        "WEBHOOK#trustlayer#{}",
        e2e_tests::hex_sha256(body.as_bytes())
    );
    assert!(stack.table_item(&key, "RECEIVED").await.is_some());
    let garbage = "not json";
    let sig = webhooks::sign_hmac_sha256(b"local-insurance-webhook-secret", garbage.as_bytes());
    let (status, problem) = post("trustlayer", garbage, &[("x-hmac-hash", &sig)]).await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test]
async fn signed_webhooks_are_recorded_and_queued_once_and_bad_ones_refused() {
    let stack = product();
    let plaid_sandbox = stack.function_envs["webhooks-receive"]["PLAID_BASE_URL"].clone();
    let send = |body: Value, extra: Value| {
        let url = stack.url("/v1/webhooks/plaid");
        let sandbox = plaid_sandbox.clone();
        async move {
            let mut req = json!({"url": url, "body": body});
            req.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let answer: Value =
                e2e_tests::post_json(&format!("{sandbox}/sandbox/webhooks/send"), &req).await;
            answer["statuses"].clone()
        }
    };

    // Plaid: delivered twice (Plaid retries), recorded and queued once.
    let item = format!("item-{}", ulid::Ulid::new());
    let verified = json!({"webhook_type": "AUTH", "webhook_code": "AUTOMATICALLY_VERIFIED", "item_id": item, "account_id": "acc_1", "environment": "sandbox"});
    assert_eq!(
        send(verified.clone(), json!({"copies": 2})).await,
        json!([200, 200])
    );
    // Stale (signed 10 minutes ago) and tampered after signing: refused.
    let stale_item = format!("stale-{}", ulid::Ulid::new());
    let stale = json!({"webhook_type": "AUTH", "webhook_code": "VERIFICATION_EXPIRED", "item_id": stale_item});
    assert_eq!(
        send(stale, json!({"iat_offset_seconds": -600})).await,
        json!([401])
    );
    let forged_item = format!("forged-{}", ulid::Ulid::new());
    let forged = json!({"webhook_type": "AUTH", "webhook_code": "AUTOMATICALLY_VERIFIED", "item_id": forged_item});
    assert_eq!(send(forged, json!({"tamper": true})).await, json!([401]));
    let (status, problem) = post("plaid", &verified.to_string(), &[]).await;
    assert_eq!(status, 401, "unsigned: {problem}");

    // TrustLayer: HMAC-SHA256 of the raw body, hex, in X-Hmac-Hash (its webhooks page).
    let event = format!("rr_{}", ulid::Ulid::new());
    let body = json!({"type": "request-record.compliance-status.updated", "requestRecord": {"id": event, "complianceStatus": "compliant"}}).to_string();
    let sig = webhooks::sign_hmac_sha256(b"local-insurance-webhook-secret", body.as_bytes());
    let (status, first) = post("trustlayer", &body, &[("x-hmac-hash", &sig)]).await;
    assert_eq!(
        (status, first["duplicate"].clone()),
        (200, json!(false)),
        "{first}"
    );
    let (status, again) = post("trustlayer", &body, &[("x-hmac-hash", &sig)]).await;
    assert_eq!(
        (status, again["duplicate"].clone()),
        (200, json!(true)),
        "{again}"
    );
    let wrong = webhooks::sign_hmac_sha256(b"guessed-secret", body.as_bytes());
    let forged_event = body.replace(&event, &format!("{event}-forged"));
    assert_eq!(
        post("trustlayer", &forged_event, &[("x-hmac-hash", &wrong)])
            .await
            .0,
        401
    );
    assert_eq!(
        post("trustlayer", &forged_event, &[("x-hmac-hash", &sig)])
            .await
            .0,
        401
    );
    assert_eq!(post("nobody", &body, &[]).await.0, 404);

    // Recorded once each (the queue's consumer works on them); nothing for the refused ones.
    let inbox = |provider: &'static str, id: String| async move {
        stack
            .table_item(&format!("WEBHOOK#{provider}#{id}"), "RECEIVED")
            .await
    };
    let sha = |v: &Value| e2e_tests::hex_sha256(v.to_string().as_bytes());
    let plaid = inbox("plaid", sha(&verified))
        .await
        .expect("the Plaid webhook is recorded");
    assert_eq!(plaid["status"].as_s().unwrap(), "enqueued");
    assert_eq!(plaid["provider"].as_s().unwrap(), "plaid");
    assert!(inbox("plaid", sha(&json!({"webhook_type": "AUTH", "webhook_code": "VERIFICATION_EXPIRED", "item_id": stale_item}))).await.is_none());
    let recorded = stack
        .table_item(
            &format!(
                "WEBHOOK#trustlayer#{}",
                e2e_tests::hex_sha256(body.as_bytes())
            ),
            "RECEIVED",
        )
        .await
        .expect("recorded");
    assert_eq!(recorded["status"].as_s().unwrap(), "enqueued");
    assert!(
        stack
            .table_item(
                &format!(
                    "WEBHOOK#trustlayer#{}",
                    e2e_tests::hex_sha256(forged_event.as_bytes())
                ),
                "RECEIVED",
            )
            .await
            .is_none(),
        "a forgery leaves nothing"
    );
}
