//! Live progress through the local stack: the WebSocket API played from the template, a
//! ticket from `POST /v1/realtime/tickets`, `realtime-push` numbering each contractor's
//! messages in its activity feed and posting them, and `engagement-badges` deciding badges
//! from the contractor's state.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::engagement::ports::{Connections, Tickets};
use domain::engagement::realtime::{Audience, Connection, Grant};
use domain::ids::ContractorId;
use e2e_tests::live::{Live, ticket};
use e2e_tests::{client, corpus_entry, eventually, product};
use serde_json::{Value, json};

async fn table() -> store::Table {
    let stack = product();
    store::Table::new(stack.aws().await.dynamodb(), &stack.refs["OnboardingTable"])
}

/// The contractor's feed after `after`.
async fn activity(token: &str, id: &str, after: u64) -> Vec<Value> {
    let (status, _, body) = product()
        .get_as(
            token,
            &format!("/v1/contractors/{id}/activity?after={after}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), schema_keys("ActivityFeed"));
    body["data"].as_array().unwrap().clone()
}

fn keys(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The properties the committed OpenAPI document gives `schema`.
fn schema_keys(schema: &str) -> std::collections::BTreeSet<String> {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(e2e_tests::repo_root().join("openapi/openapi.json")).unwrap(),
    )
    .unwrap();
    keys(&doc["components"]["schemas"][schema]["properties"])
}

/// Messages sorted by `seq`, as a client applies them (pushes from concurrent consumers may
/// arrive a little out of order; the numbers say the order).
fn in_order(mut messages: Vec<Value>) -> Vec<Value> {
    messages.retain(|m| m["seq"].is_u64());
    messages.sort_by_key(|m| m["seq"].as_u64());
    messages
}

fn assert_contiguous(messages: &[Value]) {
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    for pair in seqs.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a gap or a repeat in {seqs:?}");
    }
}

async fn save_step(token: &str, id: &str, step: Value) {
    let stack = product();
    let (_, headers, _) = stack.get_as(token, &format!("/v1/contractors/{id}")).await;
    let version: u64 = headers["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap();
    let (status, _, body) = stack
        .patch_as(
            token,
            &format!("/v1/contractors/{id}/progress"),
            &step,
            Some(version),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn business_profile(name: &str) -> Value {
    json!({"step": "business_profile", "data": {"legal_name": name, "entity_type": "llc", "phone": "(214) 555-0142",
           "address": {"line1": "1 Main St", "city": "Dallas", "state": "TX", "zip": "75201"}}})
}

async fn call_function(logical_id: &str, payload: Value) -> Value {
    e2e_tests::invoke_function(logical_id, &payload).await
}

/// A contractor uploads a certificate with a socket open and sees it move to verified and
/// the badge it earned, numbered without gaps; drops the socket, changes its profile while
/// away, and reads exactly what it missed from the feed after reconnecting. Runs inside the
/// insurance provider's sequence (verification.rs): verifying the certificate asks it.
pub async fn a_contractor_follows_its_certificate_live_and_catches_up_after_a_drop() {
    let file = crate::verification::COI;
    let truth = corpus_entry(file)["expected"].clone();
    let insured = truth["insured_name"].as_str().unwrap().to_owned();
    let (token, id) = e2e_tests::registered_business("live", &insured, &["TX"]).await;
    let mut live = Live::connect(&token).await;
    live.send(json!({"action": "ping"})).await;
    let pong = live.next(Duration::from_secs(5)).await.expect("a pong");
    assert_eq!(pong["type"], "pong", "{pong}");

    let doc = e2e_tests::upload_certificate(&token, &id, file).await;
    let doc_id = doc["id"].as_str().unwrap().to_owned();
    let seen = live
        .until(Duration::from_secs(90), |m| {
            m["type"] == "badge.awarded" && m["data"]["badge"] == "insured"
        })
        .await;
    let seen = in_order(seen);
    assert_contiguous(&seen);
    // The socket is a shortcut to the feed: what it carried is the feed, number for number.
    let first = seen[0]["seq"].as_u64().unwrap();
    let feed = activity(&token, &id, first - 1).await;
    assert_eq!(feed[..seen.len()], seen[..], "socket and feed agree");

    let stages: Vec<&str> = seen
        .iter()
        .filter(|m| m["type"] == "document.progress" && m["data"]["document_id"] == doc_id.as_str())
        .map(|m| m["data"]["stage"].as_str().unwrap())
        .collect();
    let at = |stage: &str| stages.iter().position(|s| *s == stage);
    assert!(
        at("reading") < at("checking")
            && at("checking").is_some()
            && stages.last() == Some(&"verified"),
        "the document's moves in order: {stages:?}"
    );
    let verified_at = seen
        .iter()
        .position(|m| m["type"] == "document.progress" && m["data"]["stage"] == "verified")
        .unwrap();
    let badge = seen.last().unwrap();
    assert!(
        verified_at < seen.len() - 1,
        "the badge follows the verdict"
    );
    assert_eq!(badge["data"]["title"]["en"], "Insured");
    for m in &seen {
        let text = m.to_string();
        assert!(
            !text.contains("object_key")
                && !text.contains("extraction")
                && !text.contains(&insured),
            "nothing beyond what the owner reads through the API: {text}"
        );
    }

    // Away: the socket closes, the contractor saves its profile from another device.
    let last_seen = badge["seq"].as_u64().unwrap();
    live.close().await;
    save_step(&token, &id, business_profile(&insured)).await;
    let missed = eventually(Duration::from_secs(30), || async {
        let items = activity(&token, &id, last_seen).await;
        let badges: Vec<&str> = items
            .iter()
            .filter(|m| m["type"] == "badge.awarded")
            .filter_map(|m| m["data"]["badge"].as_str())
            .collect();
        let expected = ["step.saved", "status.changed"];
        (badges.contains(&"first_step")
            && badges.contains(&"profile_complete")
            && expected
                .iter()
                .all(|t| items.iter().any(|m| m["type"] == *t)))
        .then_some(items)
    })
    .await
    .expect("the missed messages reach the feed");
    assert_eq!(missed[0]["seq"], last_seen + 1, "from the next number");
    // The profile change also re-checks the certificate's names: whatever follows from
    // it lands in the feed too. Wait until the feed is quiet, then it is all that was
    // missed, in order and without gaps.
    let mut missed = missed;
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = activity(&token, &id, last_seen).await;
        if now.len() == missed.len() {
            break;
        }
        missed = now;
    }
    assert_contiguous(&missed);
    assert_eq!(missed[0]["type"], "step.saved", "{missed:#?}");

    // Back: a new ticket, and live messages continue from the feed's head.
    let mut again = Live::connect(&token).await;
    save_step(
        &token,
        &id,
        json!({"step": "agreements", "data": {"terms_version": "2026-09", "privacy_version": "2026-09"}}),
    )
    .await;
    let next = again
        .until(Duration::from_secs(30), |m| m["type"] == "step.saved")
        .await;
    let head = missed.last().unwrap()["seq"].as_u64().unwrap();
    assert_eq!(in_order(next)[0]["seq"], head + 1);
    again.close().await;
}

#[tokio::test]
async fn tickets_work_once_expire_and_never_reach_another_listener() {
    let stack = product();
    let url = stack
        .realtime_url
        .clone()
        .expect("the template has a WebSocket API");
    // No ticket: refused by API Gateway before any function runs; a forged one by the
    // authorizer.
    assert_eq!(Live::open(&url).await.err(), Some(401));
    assert_eq!(
        Live::open(&format!("{url}?ticket={}", "A".repeat(43)))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(Live::open(&format!("{url}?ticket=")).await.err(), Some(401));

    // A login without an account has nothing to follow.
    let nobody = stack.login("live-nobody", &["contractor"]).await;
    let (status, _, body) = stack
        .post_as(&nobody, "/v1/realtime/tickets", &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("not_registered")),
        "{body}"
    );

    let (a_token, a_id, _) = e2e_tests::registered_contractor("live-a").await;
    let (b_token, b_id, _) = e2e_tests::registered_contractor("live-b").await;
    let t = ticket(&a_token).await;
    assert_eq!(t["role"], "contractor");
    assert_eq!(
        keys(&t),
        schema_keys("RealtimeTicket"),
        "the OpenAPI schema names it"
    );
    assert_eq!(t["expires_in"], 30);
    let connect = t["connect"].as_str().unwrap().to_owned();
    let mut a = Live::open(&connect)
        .await
        .expect("the ticket opens one connection");
    assert_eq!(Live::open(&connect).await.err(), Some(401), "and only one");

    // A ticket past its 30 seconds opens nothing (time injected: issued "31 s ago").
    let tickets = store::DynamoTickets::new(table().await);
    let stale = Grant::contractor(
        "auth0|stale",
        &ContractorId::parse(&a_id).unwrap(),
        chrono::Utc::now() - chrono::Duration::seconds(31),
    );
    let secret = tickets.issue(&stale).await.unwrap();
    assert_eq!(
        Live::open(&format!("{url}?ticket={}", secret.expose()))
            .await
            .err(),
        Some(401)
    );

    let mut b = Live::connect(&b_token).await;
    let reviewer = stack.login("live-reviewer", &["reviewer"]).await;
    let rt = ticket(&reviewer).await;
    assert_eq!(rt["role"], "reviewer");
    let mut r = Live::open(rt["connect"].as_str().unwrap()).await.unwrap();

    save_step(&a_token, &a_id, business_profile("Bright Nights Live LLC")).await;
    let got = a
        .until(Duration::from_secs(30), |m| m["type"] == "step.saved")
        .await;
    assert!(got.iter().all(|m| m["seq"].is_u64()));
    // Nobody else hears A: not another contractor, not a reviewer (who hears only the queue).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let heard = b.next(Duration::from_millis(200)).await;
    assert_eq!(heard, None, "B heard something");
    while let Some(m) = r.next(Duration::from_millis(200)).await {
        assert!(
            m["type"].as_str().unwrap().starts_with("review.")
                && m["data"]["contractor_id"] != a_id.as_str(),
            "a reviewer hears only review-queue changes: {m}"
        );
    }
    // Nor can B read A's feed.
    let (status, _, _) = stack
        .get_as(&b_token, &format!("/v1/contractors/{a_id}/activity"))
        .await;
    assert_eq!(status, 404);
    let (status, _, problem) = stack
        .get_as(
            &a_token,
            &format!("/v1/contractors/{a_id}/activity?after=-1"),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "after", "{problem}");
    let _ = b_id;

    // What a client sends is answered, never acted on.
    a.send(json!({"action": "subscribe", "contractor_id": b_id}))
        .await;
    let answers = a
        .until(Duration::from_secs(5), |m| m["type"] == "error")
        .await;
    assert_eq!(answers.last().unwrap()["code"], "unknown_action");
    a.close().await;
    b.close().await;
    r.close().await;
}

#[tokio::test]
async fn a_connection_that_vanished_is_forgotten_on_the_first_410() {
    let stack = product();
    let (token, id, _) = e2e_tests::registered_contractor("live-ghost").await;
    // A connection API Gateway dropped without a $disconnect: still in the table.
    let ghost = format!("Gh{}=", &ulid::Ulid::new().to_string()[..13]);
    let connections = store::DynamoConnections::new(table().await);
    let now = chrono::Utc::now();
    connections
        .open(&Connection {
            id: ghost.clone(),
            audience: Audience::Contractor(ContractorId::parse(&id).unwrap()),
            subject: "auth0|ghost".into(),
            connected_at: now,
            expires_at: now + chrono::Duration::hours(2),
        })
        .await
        .unwrap();
    let mut live = Live::connect(&token).await;
    save_step(&token, &id, business_profile("Bright Nights Ghost LLC")).await;
    live.until(Duration::from_secs(30), |m| m["type"] == "step.saved")
        .await;
    let gone = eventually(Duration::from_secs(10), || async {
        let by_id = stack.table_item(&format!("CONN#{ghost}"), "CONN").await;
        let listed = stack
            .table_item(
                &format!("AUDIENCE#contractor#{id}"),
                &format!("CONN#{ghost}"),
            )
            .await;
        (by_id.is_none() && listed.is_none()).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the 410 removed the vanished connection");
    // The live one is still listed; a clean close removes it ($disconnect).
    let listed = connections
        .of(
            &Audience::Contractor(ContractorId::parse(&id).unwrap()),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    live.close().await;
    let closed = eventually(Duration::from_secs(10), || async {
        connections
            .of(
                &Audience::Contractor(ContractorId::parse(&id).unwrap()),
                chrono::Utc::now(),
            )
            .await
            .ok()
            .filter(Vec::is_empty)
    })
    .await;
    assert!(closed.is_some(), "$disconnect forgot the connection");
}

/// The held badges of `id`: badge → (held, revision).
async fn holdings(id: &str) -> BTreeMap<String, (bool, u64)> {
    use domain::engagement::ports::BadgeStore;
    store::DynamoBadges::new(table().await, None)
        .held(&ContractorId::parse(id).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.badge, (h.held, h.revision)))
        .collect()
}

#[tokio::test]
async fn duplicated_and_shuffled_events_award_each_badge_once() {
    let stack = product();
    let (token, id, _) = e2e_tests::registered_contractor("live-badges").await;
    save_step(&token, &id, business_profile("Bright Nights Badges LLC")).await;
    let earned = eventually(Duration::from_secs(30), || async {
        let h = holdings(&id).await;
        (h.len() == 2).then_some(h)
    })
    .await
    .expect("first step and profile complete");
    assert_eq!(
        earned,
        BTreeMap::from([
            ("first_step".to_owned(), (true, 1)),
            ("profile_complete".to_owned(), (true, 1)),
        ])
    );

    // The same events again, duplicated and out of order, straight into the consumer.
    let contractor = ContractorId::parse(&id).unwrap();
    let event = |e: domain::events::Event| {
        domain::events::DomainEvent::new(&contractor, chrono::Utc::now(), "dup", e).to_json()
    };
    let saved = event(domain::events::Event::StepSaved(
        domain::events::StepSaved {
            contractor_version: 2,
            step: domain::terms::StepName::BusinessProfile,
            step_status: domain::terms::StepStatus::Complete,
            percent_complete: 17,
        },
    ));
    let status = event(domain::events::Event::StatusChanged(
        domain::events::StatusChanged {
            contractor_version: 2,
            from: domain::terms::Status::Draft,
            to: domain::terms::Status::InProgress,
        },
    ));
    let record = |mid: &str, body: &str| {
        json!({"messageId": mid, "receiptHandle": "r", "body": body, "attributes": {"ApproximateReceiveCount": "1"},
               "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:badges", "awsRegion": "us-east-1"})
    };
    let batch = json!({"Records": [record("m1", &status), record("m2", &saved), record("m3", &saved), record("m4", &status), record("m5", &saved)]});
    for _ in 0..2 {
        let answer = call_function("EngagementBadgesFunction", batch.clone()).await;
        assert_eq!(answer, json!({"batchItemFailures": []}));
    }
    assert_eq!(holdings(&id).await, earned, "nothing awarded twice");

    // The achievements: what is earned and open, the ring and the next action, in Spanish.
    let (status, headers, body) = e2e_tests::read(
        client()
            .get(stack.url(&format!("/v1/contractors/{id}/achievements")))
            .bearer_auth(&token)
            .header("accept-language", "es-MX,es;q=0.9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["vary"], "Accept-Language");
    assert_eq!(keys(&body), schema_keys("Achievements"));
    let earned: Vec<&str> = body["badges"]["earned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(earned, ["first_step", "profile_complete"]);
    assert_eq!(body["badges"]["earned"][0]["title"], "Primer paso");
    assert_eq!(body["progress"]["percent"], 10, "{body}");
    assert_eq!(body["progress"]["next_action"]["code"], "complete_step");
    assert_eq!(
        body["progress"]["next_action"]["requirement"],
        "tax_identity"
    );
    assert_eq!(
        body["progress"]["next_action"]["text"],
        "Agrega tus datos fiscales (W-9)."
    );

    // And the feed carries each award once.
    let awarded = eventually(Duration::from_secs(20), || async {
        let items = activity(&token, &id, 0).await;
        let awards: Vec<Value> = items
            .into_iter()
            .filter(|m| m["type"] == "badge.awarded")
            .collect();
        (awards.len() >= 2).then_some(awards)
    })
    .await
    .unwrap();
    assert_eq!(awarded.len(), 2, "{awarded:#?}");
    // Nothing trails behind: the replays published no award.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = activity(&token, &id, 0).await;
    assert_eq!(
        again
            .iter()
            .filter(|m| m["type"] == "badge.awarded")
            .count(),
        2
    );
}
