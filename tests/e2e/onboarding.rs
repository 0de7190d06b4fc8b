//! The onboarding API contract through the local stack: the wizard from draft to review,
//! optimistic concurrency, idempotency keys, authorization, validation, TIN protection, the
//! audit chain, domain events and the reviewer list.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::{EncryptedField, FieldCipher};
use e2e_tests::{client, product, read, registration, unique_subject};
use serde_json::{Value, json};

fn steps() -> Vec<(&'static str, Value)> {
    vec![
        (
            "business_profile",
            json!({"legal_name": "Bright Nights LLC", "entity_type": "llc", "phone": "(214) 555-0142",
                   "address": {"line1": "1 Elm St", "city": "Dallas", "state": "TX", "zip": "75201"}}),
        ),
        (
            "tax_identity",
            json!({"tin_type": "ein", "tin": "12-3456789", "name_on_return": "Bright Nights LLC", "tax_classification": "llc_s"}),
        ),
        (
            "license",
            json!({"state": "TX", "number": "TECL-12345", "expires_on": "2030-01-31"}),
        ),
        (
            "insurance",
            json!({"carrier": "Acme Mutual", "policy_number": "GL-778899", "each_occurrence_limit": 1000000,
                   "general_aggregate_limit": 2000000, "effective_on": "2026-01-01", "expires_on": "2030-01-01"}),
        ),
        (
            "bank_account",
            json!({"account_holder_name": "Bright Nights LLC", "link_method": "plaid"}),
        ),
        (
            "agreements",
            json!({"terms_version": "2026-09", "privacy_version": "2026-09"}),
        ),
    ]
}

async fn registered(tag: &str) -> (String, String, u64) {
    e2e_tests::registered_contractor(tag).await
}

async fn patch(
    token: &str,
    id: &str,
    version: Option<u64>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    product()
        .patch_as(
            token,
            &format!("/v1/contractors/{id}/progress"),
            &body,
            version,
        )
        .await
}

#[tokio::test]
async fn a_full_wizard_run_from_draft_to_review() {
    let stack = product();
    let (token, id, mut version) = registered("wizard").await;

    // A partial save is kept and the step stays in progress.
    let (status, headers, body) = patch(
        &token,
        &id,
        Some(version),
        json!({"step": "business_profile", "data": {"legal_name": "Bright Nights LLC"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "in_progress");
    assert_eq!(
        body["progress"]["steps"]["business_profile"]["status"],
        "in_progress"
    );
    assert!(
        body["progress"]["steps"]["business_profile"]["missing_fields"]
            .as_array()
            .unwrap()
            .contains(&json!("phone"))
    );
    version = body["version"].as_u64().unwrap();
    assert_eq!(headers["etag"], format!("\"{version}\"").as_str());

    for (step, data) in steps() {
        let (status, _, body) = patch(
            &token,
            &id,
            Some(version),
            json!({"step": step, "data": data}),
        )
        .await;
        assert_eq!(status, 200, "{step}: {body}");
        assert_eq!(
            body["progress"]["steps"][step]["status"], "complete",
            "{step}"
        );
        version = body["version"].as_u64().unwrap();
    }
    let (_, _, me) = stack.get_as(&token, "/v1/contractors/me").await;
    assert_eq!(me["progress"]["percent"], 100);
    assert_eq!(me["requirements"]["currently_due"], json!([]));
    assert_eq!(
        me["requirements"]["pending_verification"],
        json!(["tax_identity", "license", "insurance", "bank_account"])
    );
    assert_eq!(
        me["requirements"]["disabled_reason"],
        "requirements.pending_submission"
    );
    assert_eq!(me["steps"]["tax_identity"]["tin"], "**-***6789");
    let consents = me["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    assert_eq!(consents[0]["version"], "2026-09");

    let submit = |v: u64| {
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/submit")))
            .bearer_auth(&token)
            .header("if-match", format!("\"{v}\""))
            .send()
    };
    let (status, _, body) = read(submit(version).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "under_review");
    assert_eq!(body["requirements"]["disabled_reason"], "under_review");
    // Submitting again is an illegal transition, with a machine-readable code.
    let (status, _, body) = read(submit(body["version"].as_u64().unwrap()).await.unwrap()).await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "illegal_transition");

    // The audit trail covers every change and its chain verifies.
    let (status, _, audit) = stack
        .get_as(&token, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(audit["verification"]["valid"], true, "{audit}");
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"contractor.registered"));
    assert_eq!(actions.last(), Some(&"contractor.submitted"));
    assert_eq!(actions.len(), 9);
}

#[tokio::test]
async fn optimistic_concurrency_never_loses_an_update() {
    let (token, id, version) = registered("occ").await;
    let (status, _, body) = patch(
        &token,
        &id,
        None,
        json!({"step": "license", "data": {"state": "TX"}}),
    )
    .await;
    assert_eq!(status, 428, "{body}");
    assert_eq!(body["code"], "precondition_required");
    let (status, _, body) = patch(
        &token,
        &id,
        Some(version + 5),
        json!({"step": "license", "data": {"state": "TX"}}),
    )
    .await;
    assert_eq!(status, 412, "{body}");

    // Two writers with the same version: exactly one wins, and the stored state is the
    // winner's. Several rounds, since a race that loses updates rarely shows in one.
    let stack = product();
    for (round, version) in (0..8).zip(version..) {
        let (x, y) = if round % 2 == 0 {
            ("TX", "OK")
        } else {
            ("OK", "TX")
        };
        let a = patch(
            &token,
            &id,
            Some(version),
            json!({"step": "license", "data": {"state": x}}),
        );
        let b = patch(
            &token,
            &id,
            Some(version),
            json!({"step": "license", "data": {"state": y}}),
        );
        let ((sa, _, ba), (sb, _, bb)) = tokio::join!(a, b);
        let mut statuses = vec![sa, sb];
        statuses.sort();
        assert_eq!(statuses, vec![200, 412], "round {round}: {ba} / {bb}");
        let winner = if sa == 200 { ba } else { bb };
        let (_, _, now) = stack.get_as(&token, &format!("/v1/contractors/{id}")).await;
        assert_eq!(
            now["steps"]["license"]["state"], winner["steps"]["license"]["state"],
            "round {round}: no lost update"
        );
        assert_eq!(now["version"], version + 1);
    }
}

#[tokio::test]
async fn idempotency_keys_replay_reject_and_recover() {
    let stack = product();
    let sub = unique_subject("idem");
    let token = stack.token(&sub, json!({})).await;
    let key = format!("key-{}", ulid::Ulid::new());
    let post = |body: Value, key: String| {
        client()
            .post(stack.url("/v1/contractors"))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let (s1, h1, b1) = read(post(registration("idem"), key.clone()).await.unwrap()).await;
    let (s2, h2, b2) = read(post(registration("idem"), key.clone()).await.unwrap()).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(b1, b2, "the replay is the identical response");
    assert_eq!(h1["location"], h2["location"]);
    assert_eq!(h2["idempotent-replayed"], "true");
    assert!(h1.get("idempotent-replayed").is_none());
    let (_, _, me) = stack.get_as(&token, "/v1/contractors/me").await;
    assert_eq!(me["id"], b1["id"], "one contractor was created");

    let (status, _, body) =
        read(post(registration("other-body"), key.clone()).await.unwrap()).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "idempotency_key_reused");

    // A request still in flight under the same key: 409. One whose function died (deadline
    // passed): the retry proceeds.
    let ddb = stack.aws().await.dynamodb();
    let table = stack.refs["OnboardingTable"].clone();
    let (token2, id, version) = registered("inflight").await;
    let subject2 = token_subject(&token2);
    let body = json!({"step": "license", "data": {"state": "TX"}});
    let path = format!("/v1/contractors/{id}/progress");
    let fingerprint =
        platform::idempotency::fingerprint("PATCH", &path, body.to_string().as_bytes());
    let now = chrono::Utc::now().timestamp();
    for (key, until) in [("in-flight", now + 60), ("abandoned", now - 5)] {
        ddb.put_item()
            .table_name(&table)
            .item(
                "pk",
                AttributeValue::S(format!(
                    "IDEMPOTENCY#{}",
                    platform::idempotency::scoped_key(&subject2, key)
                )),
            )
            .item("sk", AttributeValue::S("RECORD".into()))
            .item("entity", AttributeValue::S("idempotency".into()))
            .item("status", AttributeValue::S("in_progress".into()))
            .item("fingerprint", AttributeValue::S(fingerprint.clone()))
            .item("response", AttributeValue::Null(true))
            .item("in_progress_until", AttributeValue::N(until.to_string()))
            .item("expires_at", AttributeValue::N((now + 3600).to_string()))
            .send()
            .await
            .unwrap();
    }
    let send = |key: &'static str| {
        client()
            .patch(stack.url(&path))
            .bearer_auth(&token2)
            .header("if-match", format!("\"{version}\""))
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let (status, _, resp) = read(send("in-flight").await.unwrap()).await;
    assert_eq!(status, 409, "{resp}");
    assert_eq!(resp["code"], "idempotency_request_in_progress");
    let (status, _, resp) = read(send("abandoned").await.unwrap()).await;
    assert_eq!(
        status, 200,
        "an abandoned in-progress record expires: {resp}"
    );

    // A precondition failure is not replayed: after fetching the new version, the retry with
    // the same key runs.
    let stale = |v: u64| {
        client()
            .patch(stack.url(&path))
            .bearer_auth(&token2)
            .header("if-match", format!("\"{v}\""))
            .header("idempotency-key", "after-refetch")
            .json(&json!({"step": "license", "data": {"state": "OK"}}))
            .send()
    };
    let (status, _, _) = read(stale(version).await.unwrap()).await;
    assert_eq!(status, 412);
    let (status, headers, resp) = read(stale(version + 1).await.unwrap()).await;
    assert_eq!(status, 200, "{resp}");
    assert!(headers.get("idempotent-replayed").is_none());
}

fn token_subject(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_authorization_matrix_denies_everyone_else() {
    let stack = product();
    let (_token, id, version) = registered("matrix").await;
    let other = stack
        .token(&unique_subject("eve"), json!({"roles": ["contractor"]}))
        .await;
    let reviewer = stack
        .token(&unique_subject("rita"), json!({"roles": ["reviewer"]}))
        .await;
    let expired = stack
        .token(&unique_subject("late"), json!({"expires_in": -5}))
        .await;
    let wrong_aud = stack
        .token(&unique_subject("aud"), json!({"audience": "another-api"}))
        .await;
    let body = json!({"step": "license", "data": {"state": "TX"}});

    let (status, _, _) = patch(&other, &id, Some(version), body.clone()).await;
    assert_eq!(status, 404, "another contractor's id");
    let (status, _, r) = patch(&reviewer, &id, Some(version), body.clone()).await;
    assert_eq!(status, 403, "reviewers read but do not edit: {r}");
    for token in [&expired, &wrong_aud] {
        let (status, _, _) = patch(token, &id, Some(version), body.clone()).await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = read(
        client()
            .patch(stack.url(&format!("/v1/contractors/{id}/progress")))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "no token");
    let (status, _, _) = stack
        .get_as(&other, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(status, 404, "another contractor's audit trail");
    let (status, _, _) = stack
        .get_as(&reviewer, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(status, 200, "reviewers read audit trails");
    let (status, _, body) = stack.get_as(&other, "/v1/contractors?status=draft").await;
    assert_eq!(status, 403, "a contractor calling a reviewer route: {body}");
    let (status, _, _) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/submit")))
            .bearer_auth(&other)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_input_on_every_field_class_is_4xx_with_field_errors() {
    let (token, id, version) = registered("invalid").await;
    let cases = vec![
        (
            json!({"step": "insurance", "data": {"each_occurrence_limit": "a lot"}}),
            "data.each_occurrence_limit",
            "invalid_amount",
        ),
        (
            json!({"step": "insurance", "data": {"expires_on": "2020-01-01"}}),
            "data.expires_on",
            "expired",
        ),
        (
            json!({"step": "insurance", "data": {"effective_on": "01/02/2026"}}),
            "data.effective_on",
            "invalid_date",
        ),
        (
            json!({"step": "insurance", "data": {"agent_email": "agent@"}}),
            "data.agent_email",
            "invalid_email",
        ),
        (
            json!({"step": "business_profile", "data": {"phone": "555"}}),
            "data.phone",
            "invalid_phone",
        ),
        (
            json!({"step": "business_profile", "data": {"address": {"state": "ZZ"}}}),
            "data.address.state",
            "invalid_state",
        ),
        (
            json!({"step": "business_profile", "data": {"address": {"zip": "1234"}}}),
            "data.address.zip",
            "invalid_zip",
        ),
        (
            json!({"step": "business_profile", "data": {"entity_type": "guild"}}),
            "data.entity_type",
            "invalid_choice",
        ),
        (
            json!({"step": "business_profile", "data": {"legal_name": 42}}),
            "data.legal_name",
            "invalid_type",
        ),
        (
            json!({"step": "tax_identity", "data": {"tin_type": "ssn", "tin": "000-12-3456"}}),
            "data.tin",
            "invalid_ssn",
        ),
        (
            json!({"step": "license", "data": {"number": "<b>"}}),
            "data.number",
            "invalid_identifier",
        ),
        (
            json!({"step": "license", "data": {"colour": "red"}}),
            "data.colour",
            "unknown_field",
        ),
        (
            json!({"step": "agreements", "data": {"terms_version": "2019-01"}}),
            "data.terms_version",
            "outdated_version",
        ),
        (
            json!({"step": "teleportation", "data": {}}),
            "step",
            "invalid_choice",
        ),
        (
            json!({"step": "license", "data": "TX"}),
            "data",
            "invalid_type",
        ),
        (json!({"step": "license"}), "data", "required"),
        (
            json!({"step": "license", "data": {}, "extra": 1}),
            "extra",
            "unknown_field",
        ),
    ];
    for (body, field, code) in cases {
        let (status, headers, problem) = patch(&token, &id, Some(version), body.clone()).await;
        assert_eq!(status, 422, "{body} -> {problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body}: expected {field}/{code} in {problem}"
        );
    }
    let stack = product();
    let raw = |body: String, content_type: &'static str| {
        client()
            .patch(stack.url(&format!("/v1/contractors/{id}/progress")))
            .bearer_auth(&token)
            .header("if-match", format!("\"{version}\""))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_eq!(
        read(raw("{not json".into(), "application/json").await.unwrap())
            .await
            .0,
        400
    );
    assert_eq!(
        read(raw("step=license".into(), "text/plain").await.unwrap())
            .await
            .0,
        415
    );
    let huge =
        json!({"step": "license", "data": {"classification": "x".repeat(70_000)}}).to_string();
    assert_eq!(
        read(raw(huge, "application/json").await.unwrap()).await.0,
        413
    );
    // Nothing above changed the contractor.
    let (_, _, c) = stack.get_as(&token, &format!("/v1/contractors/{id}")).await;
    assert_eq!(c["version"], version);
}

#[tokio::test]
async fn the_tin_is_encrypted_at_rest_and_only_ever_masked() {
    let stack = product();
    let (token, id, version) = registered("tin").await;
    let (status, _, body) = patch(
        &token,
        &id,
        Some(version),
        json!({"step": "tax_identity", "data": {"tin_type": "ssn", "tin": "219-09-9999"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["steps"]["tax_identity"]["tin"], "***-**-9999");
    assert!(!body.to_string().contains("219099999") && !body.to_string().contains("219-09"));

    // Nothing stored for this contractor holds the digits: profile, audit, outbox, idempotency.
    let aws = stack.aws().await;
    let items = aws
        .dynamodb()
        .scan()
        .table_name(&stack.refs["OnboardingTable"])
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}");
    assert!(dump.contains(&id), "the scan sees the contractor");
    assert!(
        !dump.contains("219099999") && !dump.contains("219-09-9999"),
        "the TIN is never stored in clear"
    );

    // The envelope opens with KMS and the right context only.
    let item = aws
        .dynamodb()
        .get_item()
        .table_name(&stack.refs["OnboardingTable"])
        .key("pk", AttributeValue::S(format!("CONTRACTOR#{id}")))
        .key("sk", AttributeValue::S("PROFILE".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let secrets: Value = serde_dynamo::from_attribute_value(item["secrets"].clone()).unwrap();
    let field: EncryptedField = serde_json::from_value(secrets["tin"].clone()).unwrap();
    // Nor is it in any log line, while the save itself was logged with its correlation id.
    let logs = e2e_tests::captured_logs();
    assert!(
        logs.contains(&format!("\"contractor_id\":\"{id}\"")),
        "the step save was logged"
    );
    assert!(
        logs.contains("\"correlation_id\""),
        "log lines carry the correlation id"
    );
    assert!(
        !logs.contains("219099999") && !logs.contains("219-09-9999"),
        "the TIN is never logged"
    );
    // Sealed under the contractor's own data key (crypto-shredding, docs/privacy.md).
    assert_eq!(field.algorithm, "contractor-key/AES-256-GCM");
    let table = store::Table::new(aws.dynamodb(), stack.refs["OnboardingTable"].clone());
    let keys = store::DynamoDataKeys::new(table);
    let cipher = fieldcrypt::ContractorCipher::new(
        aws.kms(),
        stack.refs["FieldEncryptionKey"].clone(),
        keys.clone(),
    );
    let plain = cipher
        .decrypt(&field, &[("contractor_id", &id), ("field", "tin")])
        .await
        .unwrap();
    assert_eq!(plain, b"219099999");
    assert!(
        cipher
            .decrypt(
                &field,
                &[("contractor_id", "ctr_someone_else"), ("field", "tin")]
            )
            .await
            .is_err()
    );
    // Erasing the one key item makes the value unreadable, wherever copies of it are.
    let contractor = domain::ids::ContractorId::parse(&id).unwrap();
    keys.shred(&contractor).await.unwrap();
    keys.shred(&contractor).await.unwrap();
    let gone = cipher
        .decrypt(&field, &[("contractor_id", &id), ("field", "tin")])
        .await
        .unwrap_err();
    assert!(gone.to_string().contains("erased"), "{gone}");
}

#[tokio::test]
async fn altering_a_stored_audit_entry_breaks_verification() {
    let stack = product();
    let (token, id, version) = registered("tamper").await;
    let (status, _, _) = patch(
        &token,
        &id,
        Some(version),
        json!({"step": "license", "data": {"state": "TX"}}),
    )
    .await;
    assert_eq!(status, 200);
    let audit_url = stack.url(&format!("/v1/contractors/{id}/audit"));
    let (_, _, before) = read(
        client()
            .get(&audit_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(before["verification"]["valid"], true);

    stack
        .aws()
        .await
        .dynamodb()
        .update_item()
        .table_name(&stack.refs["OnboardingTable"])
        .key("pk", AttributeValue::S(format!("CONTRACTOR#{id}")))
        .key("sk", AttributeValue::S("AUDIT#0000000001".into()))
        .update_expression("SET #a = :a")
        .expression_attribute_names("#a", "action")
        .expression_attribute_values(":a", AttributeValue::S("contractor.approved".into()))
        .send()
        .await
        .unwrap();
    let (status, _, after) = read(
        client()
            .get(&audit_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(after["verification"]["valid"], false, "{after}");
    assert_eq!(after["verification"]["broken_at"], 1);
}

#[tokio::test]
async fn changes_publish_domain_events_and_the_relay_drains_the_outbox() {
    let stack = product();
    let aws = stack.aws().await;
    let sqs = aws.sqs();
    let queue = sqs
        .create_queue()
        .queue_name(format!("events-probe-{}", ulid::Ulid::new()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    aws.sns()
        .subscribe()
        .topic_arn(&stack.refs["EventsTopic"])
        .protocol("sqs")
        .endpoint(&arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();

    let token = stack.token(&unique_subject("events"), json!({})).await;
    let resp = client()
        .post(stack.url("/v1/contractors"))
        .bearer_auth(&token)
        .header("x-correlation-id", "corr-events-1")
        .json(&registration("events"))
        .send()
        .await
        .unwrap();
    let (_, _, created) = read(resp).await;
    let id = created["id"].as_str().unwrap().to_owned();

    let mut seen = Vec::new();
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let event: Value = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
            if event["contractor_id"] == id.as_str() {
                let corr = m
                    .message_attributes
                    .as_ref()
                    .and_then(|a| a.get("correlation_id"))
                    .and_then(|v| v.string_value.clone());
                seen.push((event, corr));
            }
        }
        if !seen.is_empty() {
            break;
        }
    }
    let (event, corr) = seen
        .first()
        .expect("contractor.registered reaches a subscriber");
    assert_eq!(event["type"], "contractor.registered");
    assert_eq!(event["correlation_id"], "corr-events-1");
    assert_eq!(corr.as_deref(), Some("corr-events-1"));
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));

    // The committed-then-published event left no outbox item; a stranded one is relayed.
    let ddb = aws.dynamodb();
    let table = stack.refs["OnboardingTable"].clone();
    let stranded_id = format!("evt_{}", ulid::Ulid::new().to_string().to_lowercase());
    let occurred = (chrono::Utc::now() - chrono::Duration::minutes(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let stranded = json!({"id": stranded_id, "type": "step.saved", "contractor_id": id, "version": 2, "occurred_at": occurred,
                          "correlation_id": "corr-stranded",
                          "data": {"step": "license", "step_status": "in_progress", "percent_complete": 17}});
    ddb.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(format!("OUTBOX#{stranded_id}")))
        .item("sk", AttributeValue::S("EVENT".into()))
        .item("entity", AttributeValue::S("outbox".into()))
        .item("gsi2pk", AttributeValue::S("OUTBOX".into()))
        .item(
            "gsi2sk",
            AttributeValue::S(format!("{occurred}#{stranded_id}")),
        )
        .item(
            "event",
            serde_dynamo::to_attribute_value(&stranded).unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (status, _, fired) = stack
        .fire_schedule("EventsRelayFunction", "EveryMinute")
        .await;
    assert_eq!(status, 200, "{fired}");
    assert!(fired["result"]["published"].as_u64().unwrap() >= 1);
    let left = ddb
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("OUTBOX#{stranded_id}")))
        .key("sk", AttributeValue::S("EVENT".into()))
        .send()
        .await
        .unwrap();
    assert!(left.item.is_none(), "the relay removed what it published");
    let mut relayed = false;
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        relayed |= out
            .messages
            .unwrap_or_default()
            .iter()
            .any(|m| m.body.as_deref().unwrap_or("").contains(&stranded_id));
        if relayed {
            break;
        }
    }
    assert!(relayed, "the stranded event reached subscribers");
}

#[tokio::test]
async fn reviewers_list_by_status_with_pagination() {
    let stack = product();
    let reviewer = stack
        .token(&unique_subject("lister"), json!({"roles": ["reviewer"]}))
        .await;
    for tag in ["list-a", "list-b", "list-c"] {
        registered(tag).await;
    }
    let (status, _, page) = stack
        .get_as(&reviewer, "/v1/contractors?status=draft&limit=2")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert!(
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "draft")
    );
    let cursor = page["next_cursor"].as_str().expect("more pages").to_owned();
    let (status, _, next) = stack
        .get_as(
            &reviewer,
            &format!("/v1/contractors?status=draft&limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_ne!(next["data"][0]["id"], page["data"][0]["id"]);
    for bad in ["status=bogus", "limit=0", "limit=many", "cursor=!!!"] {
        let (status, _, body) = stack
            .get_as(&reviewer, &format!("/v1/contractors?{bad}"))
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}
