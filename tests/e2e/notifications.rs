//! Emails through the local stack: `notifications-send` renders the email a domain event
//! means and sends it through the SendGrid sandbox, whose mailbox (`/_local/mail`) is read
//! back here.

use std::time::Duration;

use e2e_tests::{client, eventually, product, read, registration};
use serde_json::{Value, json};

/// Every email in the local mailbox to `address`.
async fn mail_to(address: &str) -> Vec<Value> {
    let (status, _, body) = read(
        client()
            .get(product().url("/_local/mail"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"][0]["email"] == address)
        .cloned()
        .collect()
}

/// Waits until `address` has `n` emails, then a little longer to see that no more come.
async fn settle_on(address: &str, n: usize) -> Vec<Value> {
    let got = eventually(Duration::from_secs(30), || async {
        let mail = mail_to(address).await;
        (mail.len() >= n).then_some(mail)
    })
    .await
    .unwrap_or_else(|| panic!("{address} did not receive {n} email(s)"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = mail_to(address).await;
    assert_eq!(after.len(), got.len(), "no more arrive: {after:#?}");
    after
}

/// A new contractor registered under a unique tag starting with `prefix`:
/// (token, id, its contact address).
async fn registered(prefix: &str) -> (String, String, String) {
    let stack = product();
    let tag = format!(
        "{prefix}{}",
        &ulid::Ulid::new().to_string().to_lowercase()[18..]
    );
    let body = registration(&tag);
    let address = body["contact"]["email"].as_str().unwrap().to_owned();
    let token = stack.login(&tag, &["contractor"]).await;
    let (status, _, created) = stack.post_as(&token, "/v1/contractors", &body).await;
    assert_eq!(status, 201, "{created}");
    (token, created["id"].as_str().unwrap().to_owned(), address)
}

fn sqs_record(mid: &str, body: &str) -> Value {
    json!({"messageId": mid, "receiptHandle": "r", "body": body, "attributes": {"ApproximateReceiveCount": "1"},
           "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications", "awsRegion": "us-east-1"})
}

async fn registering_sends_exactly_one_welcome_whatever_the_redeliveries() {
    let stack = product();
    let (_, id, address) = registered("mail").await;
    let mail = settle_on(&address, 1).await;
    let welcome = &mail[0];
    assert_eq!(welcome["subject"], "Welcome to Holiday Lights, Dana Reyes");
    assert_eq!(welcome["categories"], json!(["welcome", "transactional"]));
    assert_eq!(welcome["from"]["email"], "onboarding@holidaylights.example");
    let notification = welcome["custom_args"]["notification_id"].as_str().unwrap();
    assert!(notification.ends_with("_welcome"), "{notification}");
    assert!(
        welcome["text"]
            .as_str()
            .unwrap()
            .contains("Bright Nights mail")
    );
    assert!(
        welcome["html"]
            .as_str()
            .unwrap()
            .starts_with("<!doctype html>")
    );

    // The same event again, twice in one batch and in a second batch: nothing more is sent.
    let event_id = format!(
        "evt_{}",
        notification
            .trim_start_matches("ntf_")
            .trim_end_matches("_welcome")
    );
    let event = json!({"id": event_id, "type": "contractor.registered", "contractor_id": id, "version": 1,
        "occurred_at": chrono::Utc::now(), "correlation_id": "dup",
        "data": {"contractor_version": 1, "status": "draft", "services": ["residential_installation"], "states": ["TX", "OK"]}})
    .to_string();
    for _ in 0..2 {
        let (status, _, answer) = read(
            client()
                .post(stack.url("/_local/functions/NotificationsSendFunction/invoke"))
                .json(&json!({"Records": [sqs_record("a", &event), sqs_record("b", &event)]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }
    assert_eq!(mail_to(&address).await.len(), 1, "exactly one welcome");
}

async fn a_consumer_crashing_mid_batch_sends_nothing_twice() {
    let stack = product();
    let (status, _, _) = read(
        client()
            .post(stack.url("/_local/faults"))
            .json(&json!({"function": "NotificationsSendFunction", "crash_batches": 1, "redeliver_after_seconds": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let mut addresses = Vec::new();
    for i in 0..3 {
        let tag = format!(
            "crash{i}{}",
            &ulid::Ulid::new().to_string().to_lowercase()[18..]
        );
        let body = registration(&tag);
        addresses.push(body["contact"]["email"].as_str().unwrap().to_owned());
        let token = stack.login(&tag, &["contractor"]).await;
        let (status, _, created) = stack.post_as(&token, "/v1/contractors", &body).await;
        assert_eq!(status, 201, "{created}");
    }
    for address in &addresses {
        let mail = settle_on(address, 1).await;
        assert_eq!(mail.len(), 1, "{address}: {mail:#?}");
    }
}

async fn a_refused_document_sends_action_needed_with_the_reason() {
    let (token, id, address) = registered("refused").await;
    let id = id.as_str();
    e2e_tests::upload_certificate(&token, id, "eicar.pdf").await;
    let mail = settle_on(&address, 2).await;
    let action = mail
        .iter()
        .find(|m| m["categories"][0] == "action_needed")
        .unwrap_or_else(|| panic!("{mail:#?}"));
    assert_eq!(
        action["subject"],
        "Action needed: your insurance certificate"
    );
    let text = action["text"].as_str().unwrap();
    assert!(text.contains("This file contains malware"), "{text}");
    assert!(text.contains("Upload a new, complete copy"), "{text}");
    assert!(text.contains("http://localhost:5173/documents/"), "{text}");
}

/// The SendGrid sandbox's behaviour from now on.
async fn sendgrid(scenario: Value) {
    let url = product().function_envs["notifications-send"]["SENDGRID_BASE_URL"].clone();
    let resp = client()
        .post(format!("{url}/sandbox/scenario"))
        .json(&scenario)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

/// A new contractor and its welcome notification's log item, once it has one that is done.
async fn welcome_logged(prefix: &str) -> (String, Value) {
    let stack = product();
    let (token, id, address) = registered(prefix).await;
    // The registration's event id, from the contractor's activity feed.
    let event_id = eventually(Duration::from_secs(20), || async {
        let (_, _, feed) = stack
            .get_as(&token, &format!("/v1/contractors/{id}/activity"))
            .await;
        feed["data"]
            .as_array()?
            .iter()
            .find(|m| m["type"] == "contractor.registered")
            .and_then(|m| m["event_id"].as_str().map(str::to_owned))
    })
    .await
    .expect("registered");
    let notification = format!("ntf_{}_welcome", event_id.trim_start_matches("evt_"));
    let item = eventually(Duration::from_secs(30), || async {
        let item = stack
            .table_item(&format!("NOTIFY#{notification}"), "NOTIFICATION")
            .await?;
        let item: Value = serde_dynamo::from_item(item).ok()?;
        (item["status"] == "sent").then_some(item)
    })
    .await
    .unwrap_or_else(|| panic!("{notification} was not sent"));
    (address, item)
}

/// The provider paths run in order: they change the one SendGrid sandbox every test sends
/// through.
#[tokio::test]
async fn emails_go_out_once_through_sendgrid_or_ses() {
    registering_sends_exactly_one_welcome_whatever_the_redeliveries().await;
    a_consumer_crashing_mid_batch_sends_nothing_twice().await;
    a_refused_document_sends_action_needed_with_the_reason().await;

    // SendGrid down: SES sends it, once.
    sendgrid(json!({"mode": "down"})).await;
    let (address, item) = welcome_logged("ses").await;
    sendgrid(json!({"mode": "ok"})).await;
    assert_eq!(item["provider"], "ses", "{item}");
    assert!(
        !item["message_id"].as_str().unwrap_or("").is_empty(),
        "{item}"
    );
    assert!(mail_to(&address).await.is_empty(), "SendGrid took nothing");

    // SendGrid slow but accepting: no SES copy.
    sendgrid(json!({"mode": "slow", "delay_ms": 1500})).await;
    let (address, item) = welcome_logged("slow").await;
    sendgrid(json!({"mode": "ok"})).await;
    assert_eq!(item["provider"], "sendgrid", "{item}");
    assert_eq!(settle_on(&address, 1).await.len(), 1);

    event_webhooks_suppress_and_unsubscribe().await;
}

/// Sends SendGrid events about `address` through the sandbox, signed as `signing` says;
/// the stack's status.
async fn sendgrid_events(address: &str, event: &str, signing: &str) -> u64 {
    let url = product().function_envs["notifications-send"]["SENDGRID_BASE_URL"].clone();
    let answer: Value = e2e_tests::post_json(
        &format!("{url}/sandbox/events"),
        &json!({"signing": signing, "events": [{"email": address, "event": event, "timestamp": chrono::Utc::now().timestamp(),
                "sg_event_id": ulid::Ulid::new().to_string(), "notification_id": "ntf_x"}]}),
    )
    .await;
    answer["status"].as_u64().unwrap()
}

async fn suppressed(address: &str) -> Option<Value> {
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(address.to_lowercase().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let item = product()
        .table_item(&format!("SUPPRESS#{digest}"), "SUPPRESSION")
        .await?;
    serde_dynamo::from_item(item).ok()
}

/// A contractor with its welcome received: (token, id, address).
async fn welcomed(prefix: &str) -> (String, String, String) {
    let (token, id, address) = registered(prefix).await;
    settle_on(&address, 1).await;
    (token, id, address)
}

async fn event_webhooks_suppress_and_unsubscribe() {
    // Forged, unsigned or stale events: 401, nothing recorded.
    let (token, id, address) = welcomed("hook").await;
    for signing in ["none", "forged", "stale"] {
        assert_eq!(
            sendgrid_events(&address, "bounce", signing).await,
            401,
            "{signing}"
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(suppressed(&address).await.is_none());

    // A bounce: the address gets nothing more, not even what is about its account.
    assert_eq!(sendgrid_events(&address, "bounce", "good").await, 200);
    let s = eventually(Duration::from_secs(20), || suppressed(&address))
        .await
        .expect("suppressed");
    assert_eq!(s["scope"], "everything");
    assert!(
        !s.to_string().contains(&address),
        "only the address's digest is kept"
    );
    e2e_tests::upload_certificate(&token, &id, "eicar.pdf").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(mail_to(&address).await.len(), 1, "only the welcome");

    // Unsubscribed: updates stop ("we received your document"), action needed still goes.
    let (token, id, address) = welcomed("unsub").await;
    assert_eq!(sendgrid_events(&address, "unsubscribe", "good").await, 200);
    eventually(Duration::from_secs(20), || suppressed(&address))
        .await
        .expect("unsubscribed");
    e2e_tests::upload_certificate(&token, &id, crate::verification::COI).await;
    e2e_tests::upload_certificate(&token, &id, "eicar.pdf").await;
    // The certificate names another business (action needed: name mismatch), the second
    // file is malware (action needed): both about the account, so both go; "we received
    // your document" is an update and does not.
    let mail = settle_on(&address, 3).await;
    let kinds: Vec<(&str, &str)> = mail
        .iter()
        .map(|m| {
            (
                m["categories"][0].as_str().unwrap(),
                m["categories"][1].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|(_, category)| *category == "transactional"),
        "no updates after unsubscribing: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|(t, _)| *t == "action_needed").count(),
        2
    );
}
