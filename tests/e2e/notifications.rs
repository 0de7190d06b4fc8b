//! Emails through the local stack: `notifications-send` renders the email a domain event
//! means and sends it through the SendGrid sandbox, whose mailbox (`/_local/mail`) is read
//! back here.

use std::time::Duration;

use e2e_tests::{client, eventually, mail_to, product, read, registration};
use serde_json::{Value, json};

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

    // SendGrid slow but accepting: no SES copy.
    sendgrid(json!({"mode": "slow", "delay_ms": 1500})).await;
    let (address, item) = welcome_logged("slow").await;
    sendgrid(json!({"mode": "ok"})).await;
    assert_eq!(item["provider"], "sendgrid", "{item}");
    assert_eq!(settle_on(&address, 1).await.len(), 1);

    // SendGrid down: SES sends each email, once; after five failures SendGrid's breaker is
    // open and is not even called.
    sendgrid(json!({"mode": "down"})).await;
    for i in 0..5 {
        let (address, item) = welcome_logged(&format!("ses{i}")).await;
        assert_eq!(item["provider"], "ses", "{item}");
        assert!(
            !item["message_id"].as_str().unwrap_or("").is_empty(),
            "{item}"
        );
        assert!(mail_to(&address).await.is_empty(), "SendGrid took nothing");
    }
    let breaker = product()
        .table_item("BREAKER#sendgrid", "STATE")
        .await
        .expect("SendGrid's breaker");
    assert!(
        breaker["breaker"].as_s().unwrap().contains("\"open\""),
        "{breaker:?}"
    );
    // SendGrid back: after the cool-down (2 s in this stack) a probe closes the breaker and
    // mail goes through SendGrid again.
    sendgrid(json!({"mode": "ok"})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut back = None;
    for i in 0..3 {
        let (address, item) = welcome_logged(&format!("back{i}")).await;
        if item["provider"] == "sendgrid" {
            back = Some(address);
            break;
        }
        // Another email took the probe at that moment; the next one finds it closed.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let address = back.expect("SendGrid in use again after its cool-down");
    assert_eq!(settle_on(&address, 1).await.len(), 1);

    event_webhooks_suppress_and_unsubscribe().await;
    preferences_language_and_one_click_unsubscribe().await;
    reminders_go_out_once_per_threshold().await;
    ses_bounces_suppress_the_address().await;
}

/// Runs the daily reminders job as if it were `time`, for one contractor: its tallies.
pub(crate) async fn reminders(contractor: &str, time: &str) -> Value {
    e2e_tests::run_schedule_for("NotificationsRemindersFunction", contractor, time).await
}

/// A notification's log item (`{}` when there is none).
pub(crate) async fn notification(id: &str) -> Value {
    match product()
        .table_item(&format!("NOTIFY#{id}"), "NOTIFICATION")
        .await
    {
        Some(item) => serde_dynamo::from_item(item).unwrap(),
        None => json!({}),
    }
}

/// The email preferences `token` may read for `id`: status and body.
async fn preferences(token: &str, id: &str) -> (u16, Value) {
    let (status, _, body) = product()
        .get_as(token, &format!("/v1/contractors/{id}/preferences"))
        .await;
    (status, body)
}

async fn preferences_language_and_one_click_unsubscribe() {
    let stack = product();
    // Registered from a phone set to Spanish: the emails speak Spanish from the welcome on.
    let tag = format!("es{}", &ulid::Ulid::new().to_string().to_lowercase()[18..]);
    let body = registration(&tag);
    let address = body["contact"]["email"].as_str().unwrap().to_owned();
    let token = stack.login(&tag, &["contractor"]).await;
    let (status, _, created) = read(
        client()
            .post(stack.url("/v1/contractors"))
            .bearer_auth(&token)
            .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let welcome = &settle_on(&address, 1).await[0];
    assert_eq!(
        welcome["subject"],
        "Bienvenido a Holiday Lights, Dana Reyes"
    );
    assert!(
        welcome["headers"].is_null(),
        "an email about the account has no unsubscribe: {welcome}"
    );
    let (status, prefs) = preferences(&token, &id).await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(
        (&prefs["language"], &prefs["updates"], &prefs["reminders"]),
        (&json!("es"), &json!(true), &json!(true))
    );

    // Bad changes are refused with the field named; another contractor can't look.
    let path = format!("/v1/contractors/{id}/preferences");
    for (change, code) in [
        (json!({"language": "fr"}), "invalid"),
        (json!({"colour": "red"}), "unknown_field"),
        (json!({"updates": "no"}), "invalid"),
    ] {
        let (status, _, problem) = stack.patch_as(&token, &path, &change, None).await;
        assert_eq!(status, 422, "{change}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{problem}");
    }
    let stranger = stack.login("stranger", &["contractor"]).await;
    let (status, _) = preferences(&stranger, &id).await;
    assert!(status == 403 || status == 404, "{status}");

    // An update (a document received) carries a signed one-click unsubscribe link.
    e2e_tests::upload_certificate(&token, &id, crate::verification::COI).await;
    let received = eventually(Duration::from_secs(30), || async {
        mail_to(&address)
            .await
            .into_iter()
            .find(|m| m["categories"][0] == "document_received")
    })
    .await
    .expect("document received");
    assert!(
        received["subject"].as_str().unwrap().contains("recibimos")
            || received["subject"].as_str().unwrap().contains("Recibimos"),
        "in Spanish: {}",
        received["subject"]
    );
    assert_eq!(
        received["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    let link = received["headers"]["List-Unsubscribe"]
        .as_str()
        .unwrap()
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    assert!(link.starts_with(&stack.url("/v1/unsubscribe/")), "{link}");
    assert!(received["text"].as_str().unwrap().contains(&link));
    looks_right_in_chromium(&received, "es", "Abrir la app", "Cancelar suscripción");

    // Opening the link changes nothing (scanners fetch links); it asks, in Spanish.
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("lang=\"es\"") && html.contains("method=\"post\""),
        "{html}"
    );
    assert_eq!(preferences(&token, &id).await.1["updates"], true);

    // A forged link is unknown; the one-click POST (as a mail client sends it) unsubscribes,
    // and again is the same.
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for url in [forged, stack.url("/v1/unsubscribe/v1.ctr_nobody.abc")] {
        let resp = client().post(&url).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{url}");
    }
    for _ in 0..2 {
        let resp = client()
            .post(&link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let (_, prefs) = preferences(&token, &id).await;
    assert_eq!(
        (&prefs["language"], &prefs["updates"], &prefs["reminders"]),
        (&json!("es"), &json!(false), &json!(false))
    );
    // Unsubscribed: the idle-draft reminder is not sent; what is about the account still is.
    let later = (chrono::Utc::now() + chrono::Duration::days(4)).to_rfc3339();
    let run = reminders(&id, &later).await;
    assert_eq!(
        (&run["idle_drafts"]["sent"], &run["idle_drafts"]["skipped"]),
        (&json!(0), &json!(1)),
        "{run}"
    );
    let action_needed = || async {
        mail_to(&address)
            .await
            .iter()
            .filter(|m| m["categories"] == json!(["action_needed", "transactional"]))
            .count()
    };
    // The certificate named another business: its "action needed" came before.
    let count_is = |n: usize| async move {
        eventually(Duration::from_secs(30), || async {
            (action_needed().await == n).then_some(())
        })
        .await
        .is_some()
    };
    assert!(count_is(1).await, "the name mismatch");
    e2e_tests::upload_certificate(&token, &id, "eicar.pdf").await;
    assert!(
        count_is(2).await,
        "action needed still goes after unsubscribing"
    );
    // Turned back on by its owner.
    let (status, _, prefs) = stack
        .patch_as(&token, &path, &json!({"updates": true}), None)
        .await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(
        (&prefs["updates"], &prefs["reminders"]),
        (&json!(true), &json!(false))
    );
}

/// Renders `email`'s HTML in headless Chromium (tests/browser, playwright-core with
/// Debian's chromium) at phone and desktop widths and checks what a reader would see: its
/// language, no sideways scrolling, the call to action on screen and legible, the footer.
fn looks_right_in_chromium(email: &Value, lang: &str, cta: &str, footer: &str) {
    let dir = std::env::temp_dir().join(format!("email-shot-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("email.html");
    std::fs::write(&html, email["html"].as_str().unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(e2e_tests::repo_root().join("tests/browser/email-screenshot.mjs"))
        .arg(&html)
        .arg(&dir)
        .output()
        .expect("node (scripts/bootstrap.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (width, facts) in seen.as_object().unwrap() {
        assert_eq!(facts["lang"], lang, "{width}");
        assert!(
            facts["scrollWidth"].as_f64() <= facts["innerWidth"].as_f64(),
            "{width}: no sideways scrolling: {facts}"
        );
        assert_eq!(facts["cta"]["text"], cta, "{width}");
        assert!(
            facts["cta"]["left"].as_f64().unwrap() >= 0.0
                && facts["cta"]["right"].as_f64() <= facts["innerWidth"].as_f64(),
            "{width}: the button is on screen: {facts}"
        );
        assert!(
            facts["cta"]["height"].as_f64().unwrap() >= 44.0,
            "{width}: a thumb-sized button"
        );
        assert!(
            facts["cta"]["contrast"].as_f64().unwrap() >= 4.5,
            "{width}: legible (WCAG AA): {facts}"
        );
        assert!(facts["bodyFontPx"].as_f64().unwrap() >= 14.0, "{width}");
        assert!(facts["text"].as_str().unwrap().contains(footer), "{width}");
        let shot = std::fs::metadata(facts["screenshot"].as_str().unwrap()).unwrap();
        assert!(shot.len() > 5_000, "{width}: a real screenshot");
    }
    eprintln!("email screenshots: {}", dir.display());
}

async fn reminders_go_out_once_per_threshold() {
    let (token, id, address) = welcomed("remind").await;
    let now = chrono::Utc::now();
    let at = |days: i64| (now + chrono::Duration::days(days)).to_rfc3339();

    // An idle draft: nothing after 2 days, a reminder at 3 and at 10, each once.
    assert_eq!(reminders(&id, &at(2)).await["idle_drafts"]["sent"], 0);
    let third = reminders(&id, &at(4)).await;
    assert_eq!(third["idle_drafts"]["sent"], 1, "{third}");
    let again = reminders(&id, &at(5)).await;
    assert_eq!(
        (
            &again["idle_drafts"]["sent"],
            &again["idle_drafts"]["already"]
        ),
        (&json!(0), &json!(1)),
        "{again}"
    );
    assert_eq!(reminders(&id, &at(11)).await["idle_drafts"]["sent"], 1);
    let mail = settle_on(&address, 3).await;
    let reminder = &mail[1];
    assert_eq!(
        reminder["subject"],
        "Dana Reyes, your registration is waiting for you"
    );
    assert_eq!(reminder["categories"], json!(["idle_draft", "reminders"]));
    assert!(reminder["headers"]["List-Unsubscribe"].is_string());

    // A requirement in errors: reminded once it has waited 5 days.
    e2e_tests::upload_certificate(&token, &id, crate::verification::COI).await;
    let failed =
        crate::approval::requirement_where(&id, "insurance", Duration::from_secs(60), |r| {
            r.state() == domain::verification::RequirementState::Errors
        })
        .await;
    let since = failed.decided_at().unwrap();
    let at_since = |days: i64| (since + chrono::Duration::days(days)).to_rfc3339();
    assert_eq!(
        reminders(&id, &at_since(4)).await["unresolved_errors"]["sent"],
        0
    );
    let fifth = reminders(&id, &at_since(5)).await;
    assert_eq!(fifth["unresolved_errors"]["sent"], 1, "{fifth}");
    assert_eq!(
        reminders(&id, &at_since(6)).await["unresolved_errors"]["already"],
        1
    );
    let still = eventually(Duration::from_secs(30), || async {
        mail_to(&address)
            .await
            .into_iter()
            .find(|m| m["categories"][0] == "errors_unresolved")
    })
    .await
    .expect("the errors reminder");
    assert_eq!(still["subject"], "Still needed: your insurance certificate");
}

async fn ses_bounces_suppress_the_address() {
    let stack = product();
    let address = format!(
        "bounced-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    // As SES publishes a permanent bounce through a configuration set's SNS destination.
    let notification = json!({
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": chrono::Utc::now(), "feedbackId": "0100018c-feedback"},
        "mail": {"timestamp": chrono::Utc::now(), "messageId": "0100018c-message", "source": "onboarding@holidaylights.example",
            "destination": [address], "tags": {"notification_id": ["ntf_x_welcome"]}},
    });
    stack
        .aws()
        .await
        .sns()
        .publish()
        .topic_arn(&stack.refs["EmailFeedbackTopic"])
        .message(notification.to_string())
        .send()
        .await
        .unwrap();
    let s = eventually(Duration::from_secs(20), || suppressed(&address))
        .await
        .expect("suppressed by the SES bounce");
    assert_eq!(
        (&s["scope"], &s["reason"]),
        (&json!("everything"), &json!("bounce"))
    );
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

/// A dead-lettered event, moved back with the redrive path (`make redrive`, the same code
/// as the cloud's `redrive` binary), is handled once; a second redrive moves nothing.
#[tokio::test]
async fn a_dead_lettered_event_is_redriven_and_sent_once() {
    let stack = product();
    let (_, id, address) = registered("redrive").await;
    settle_on(&address, 1).await;
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    let event = domain::events::DomainEvent::new(
        &contractor,
        chrono::Utc::now(),
        "redrive-test",
        domain::events::Event::ContractorRegistered(domain::events::ContractorRegistered {
            contractor_version: 1,
            status: domain::terms::Status::Draft,
            services: vec![],
            states: vec![],
        }),
    );
    let sqs = stack.aws().await.sqs();
    let dlq = stack.refs["NotificationsDLQ"].clone();
    sqs.send_message()
        .queue_url(&dlq)
        .message_body(event.to_json())
        .send()
        .await
        .unwrap();
    let redrive = || async {
        read(
            client()
                .post(stack.url("/_local/queues/NotificationsDLQ/redrive"))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (status, _, moved) = redrive().await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["to"], "NotificationsQueue");
    assert!(moved["moved"].as_u64().unwrap() >= 1, "{moved}");
    let mail = settle_on(&address, 2).await;
    assert_eq!(mail.len(), 2, "the redriven event's welcome, once");
    let (_, _, again) = redrive().await;
    assert_eq!(again["moved"], 0, "{again}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mail_to(&address).await.len(), 2);
    // Anything but a dead-letter queue is refused, with the ones that are.
    let (status, _, refused) = read(
        client()
            .post(stack.url("/_local/queues/NotificationsQueue/redrive"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        refused["dead_letter_queues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == "NotificationsDLQ")
    );
}
