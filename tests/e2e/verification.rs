//! Insurance verification through the local stack: a certificate uploaded by a contractor is
//! scanned, extracted, and checked against the compliance rules (`config/insurance-rules.json`)
//! by `verification-insurance`; the `insurance` requirement records the verdict with codes the
//! contractor can act on. (The provider's verification, the second required source, is not
//! built yet, so a certificate that passes the rules waits in `pending_verification`.)

use std::time::Duration;

use domain::verification::{Requirement, RequirementState};
use e2e_tests::{client, corpus, corpus_entry, eventually, product, read};
use serde_json::{Value, json};

pub(crate) const COI: &str = "insurance_certificate-000-text_pdf.pdf";

/// The codes the shipped marketplace rules must give this certificate's ground truth.
fn expected_codes(truth: &Value, insured_matches: bool) -> Vec<String> {
    let money = |k: &str| {
        domain::extraction::canonical(truth[k].as_str().unwrap())
            .parse::<u64>()
            .unwrap()
    };
    let mut codes = Vec::new();
    if !insured_matches {
        codes.push("name_mismatch");
    }
    if money("general_liability.each_occurrence") < 1_000_000 {
        codes.push("limit_too_low");
    }
    if money("general_liability.general_aggregate") < 2_000_000 && !codes.contains(&"limit_too_low")
    {
        codes.push("limit_too_low");
    }
    if truth["general_liability.additional_insured"] != "Y" {
        codes.push("additional_insured_missing");
    }
    let mut codes: Vec<String> = codes.into_iter().map(str::to_owned).collect();
    codes.sort();
    codes
}

async fn register(business_name: &str) -> (String, String) {
    e2e_tests::registered_business("verify", business_name, &["TX"]).await
}

async fn upload_coi(token: &str, contractor: &str) -> String {
    let bytes = std::fs::read(corpus().join(COI)).unwrap();
    let doc = e2e_tests::upload_document(
        token,
        contractor,
        "insurance_certificate",
        "coi.pdf",
        "application/pdf",
        &bytes,
        &bytes,
    )
    .await;
    doc["id"].as_str().unwrap().to_owned()
}

async fn insurance_requirement(contractor: &str) -> Requirement {
    let stack = product();
    eventually(Duration::from_secs(60), || async {
        let item = stack
            .table_item(&format!("CONTRACTOR#{contractor}"), "REQUIREMENT#insurance")
            .await?;
        let value: Value = serde_dynamo::from_item(item).ok()?;
        serde_json::from_value(value["requirement"].clone()).ok()
    })
    .await
    .expect("the insurance requirement is recorded")
}

fn codes(r: &Requirement) -> Vec<String> {
    let mut c: Vec<String> = r.findings().iter().map(|f| f.code.clone()).collect();
    c.sort();
    c.dedup();
    c
}

#[tokio::test]
async fn a_certificate_naming_someone_else_fails_the_rules_with_precise_codes() {
    let truth = corpus_entry(COI)["expected"].clone();
    let (token, id) = register("Shadow Electric LLC").await;
    upload_coi(&token, &id).await;
    let requirement = insurance_requirement(&id).await;
    assert_eq!(requirement.state(), RequirementState::Errors);
    assert_eq!(codes(&requirement), expected_codes(&truth, false));
    let name = requirement
        .findings()
        .into_iter()
        .find(|f| f.code == "name_mismatch")
        .unwrap();
    assert!(
        name.message.contains("Shadow Electric LLC"),
        "{}",
        name.message
    );

    // The contractor sees what to fix in its own requirements.
    let (status, _, me) = product()
        .get_as(&token, &format!("/v1/contractors/{id}"))
        .await;
    assert_eq!(status, 200);
    let errors = me["requirements"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["requirement"] == "insurance" && e["code"] == "name_mismatch"),
        "{errors:?}"
    );
    assert!(
        me["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .contains(&json!("insurance"))
    );

    // The certificate names the business by its trade name: adding it as the DBA re-checks
    // the newest certificate, and the name finding goes away.
    let insured = truth["insured_name"].as_str().unwrap();
    let (status, _, saved) = read(
        client()
            .patch(product().url(&format!("/v1/contractors/{id}/progress")))
            .bearer_auth(&token)
            .header("if-match", format!("\"{}\"", me["version"]))
            .json(&json!({"step": "business_profile", "data": {"dba": insured}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let rechecked = eventually(Duration::from_secs(60), || async {
        let r = insurance_requirement(&id).await;
        r.results
            .get("rules")
            .is_some_and(|rules| rules.id.contains(":profile-v"))
            .then_some(r)
    })
    .await
    .expect("the profile change re-evaluates the certificate");
    assert_eq!(
        rechecked.results["rules"].outcome,
        domain::verification::Outcome::Verified,
        "{:?}",
        rechecked.results["rules"]
    );
    assert!(codes(&rechecked).iter().all(|c| c != "name_mismatch"));
}

async fn scenario(party: &str, mode: &str) {
    scenario_with(party, json!({"mode": mode})).await
}

async fn scenario_with(party: &str, settings: Value) {
    let sandbox =
        product().function_envs["verification-insurance"]["INSURANCE_VERIFIER_BASE_URL"].clone();
    let mut body = settings;
    body["party"] = json!(party);
    let resp = client()
        .post(format!("{sandbox}/sandbox/scenario"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
}

async fn submissions() -> Vec<Value> {
    let sandbox =
        product().function_envs["verification-insurance"]["INSURANCE_VERIFIER_BASE_URL"].clone();
    let list: Value = e2e_tests::get_json(&format!("{sandbox}/sandbox/submissions")).await;
    list["data"].as_array().unwrap().clone()
}

/// The provider's flows share one circuit breaker, so they run in order: a compliant
/// certificate verified automatically; verdicts delivered by hand, duplicated and out of
/// order; a contractor from registration to approved (and suspended); the README's
/// walkthrough from a token to approved; then the provider
/// down until its breaker opens and certificates go to review.
#[tokio::test]
async fn certificates_are_verified_by_rules_and_provider_and_reviewed_when_it_is_down() {
    automatically_verified().await;
    verdicts_by_webhook_whatever_the_order().await;
    non_compliant_with_trustlayers_reasons().await;
    crate::realtime::a_contractor_follows_its_certificate_live_and_catches_up_after_a_drop().await;
    crate::approval::registration_to_approved_then_suspended().await;
    crate::approval::policy_cancelled_after_approval_suspends().await;
    crate::newcomer::the_readme_walkthrough_reaches_approved().await;
    // A reviewer's console listens while certificates go to review.
    let reviewer = product().login("live-console", &["reviewer"]).await;
    let mut console = e2e_tests::live::Live::connect(&reviewer).await;
    provider_down_opens_the_circuit_and_sends_to_manual_review().await;
    let heard = console
        .until(Duration::from_secs(30), |m| {
            m["type"] == "review.updated" && m["data"]["state"] == "manual_review"
        })
        .await;
    let item = heard.last().unwrap();
    assert_eq!(item["data"]["requirement"], "insurance", "{item}");
    assert!(
        item["seq"].is_null(),
        "review-queue messages are not numbered"
    );
    console.close().await;
}

async fn automatically_verified() {
    let truth = corpus_entry(COI)["expected"].clone();
    let insured = truth["insured_name"].as_str().unwrap().to_owned();
    let (token, id) = register(&insured).await;
    let doc = upload_coi(&token, &id).await;
    let requirement = eventually(Duration::from_secs(60), || async {
        let r = insurance_requirement(&id).await;
        (r.state() != RequirementState::PendingVerification).then_some(r)
    })
    .await
    .expect("the provider answers");
    assert_eq!(
        expected_codes(&truth, true),
        Vec::<String>::new(),
        "the corpus makes compliant certificates"
    );
    assert_eq!(
        requirement.state(),
        RequirementState::Verified,
        "{:?}",
        requirement.results
    );
    assert!(
        requirement.results.contains_key("rules")
            && requirement
                .results
                .contains_key(domain::verification::TRUSTLAYER)
    );
    let size = std::fs::metadata(corpus().join(COI)).unwrap().len();
    let submitted = submissions()
        .await
        .into_iter()
        .find(|s| s["party"] == insured.as_str())
        .expect("submitted");
    assert_eq!(
        submitted["fetched_bytes"],
        json!(size),
        "the certificate was uploaded whole (multipart, v1)"
    );
    assert_eq!(submitted["document_type"], "65a000000000000000000002");
    let _ = doc;
}

async fn trustlayer_webhook(body: &Value) -> u16 {
    let raw = body.to_string();
    let sig = webhooks::sign_hmac_sha256(b"local-insurance-webhook-secret", raw.as_bytes());
    client()
        .post(product().url("/v1/webhooks/trustlayer"))
        .header("content-type", "application/json")
        .header("x-hmac-hash", sig)
        .body(raw)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// TrustLayer's verdict arrives as request-record compliance webhooks, duplicated and with
/// an older one delivered late; each makes us read the request records back, so all of
/// them record one outcome. A hand-made webhook claiming another status, correctly signed,
/// changes nothing either: TrustLayer's API is the truth.
async fn verdicts_by_webhook_whatever_the_order() {
    let truth = corpus_entry(COI)["expected"].clone();
    // Another spelling of the insured (the rules accept it).
    let party = truth["insured_name"].as_str().unwrap().to_uppercase();
    scenario_with(
        &party,
        json!({"mode": "compliant", "copies": 2, "late": true, "delay_ms": 300}),
    )
    .await;
    let (token, id) = register(&party).await;
    upload_coi(&token, &id).await;
    let settled = eventually(Duration::from_secs(60), || async {
        let r = insurance_requirement(&id).await;
        r.results
            .contains_key(domain::verification::TRUSTLAYER)
            .then_some(r)
    })
    .await
    .expect("TrustLayer's verdict recorded");
    assert_eq!(
        settled.state(),
        RequirementState::Verified,
        "{:?}",
        settled.results
    );
    let submitted = submissions()
        .await
        .into_iter()
        .find(|s| s["party"] == party.as_str())
        .expect("uploaded");
    let primary = submitted["primary_record"].as_str().unwrap().to_owned();
    // A forged claim of non-compliance, signed with the shared secret, for the same record.
    let claim = json!({"type": "request-record.compliance-status.updated", "createdAt": "2026-11-22T10:00:00.000Z",
                       "primaryRecord": {"id": primary, "name": party}, "requestRecord": {"complianceStatus": "non_compliant"}});
    assert_eq!(trustlayer_webhook(&claim).await, 200);
    // Give every delivery time to be processed, then look again: one TrustLayer result.
    let all_in = eventually(Duration::from_secs(30), || async {
        let r = insurance_requirement(&id).await;
        let seen = r
            .seen
            .iter()
            .filter(|s| s.starts_with("trustlayer:"))
            .count();
        (seen >= 1 && r.state() == RequirementState::Verified).then_some(r)
    })
    .await
    .expect("still verified");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = insurance_requirement(&id).await;
    assert_eq!(r.state(), RequirementState::Verified, "{:?}", r.results);
    assert_eq!(
        r.seen
            .iter()
            .filter(|s| s.starts_with("trustlayer:"))
            .count(),
        1,
        "{:?}",
        all_in.seen
    );
}

/// TrustLayer finds the certificate non-compliant: the requirement is in errors with
/// TrustLayer's own reason, in its words.
async fn non_compliant_with_trustlayers_reasons() {
    let truth = corpus_entry(COI)["expected"].clone();
    // Another spelling again (the rules accept it), so its scenario is its own.
    let party = truth["insured_name"].as_str().unwrap().to_lowercase();
    scenario(&party, "non_compliant").await;
    let (token, id) = register(&party).await;
    upload_coi(&token, &id).await;
    let r = eventually(Duration::from_secs(60), || async {
        let r = insurance_requirement(&id).await;
        (r.state() == RequirementState::Errors).then_some(r)
    })
    .await
    .expect("TrustLayer's verdict recorded");
    let finding = r
        .findings()
        .into_iter()
        .find(|f| f.code == "trustlayer_generalliability_generalliabilityeachoccurrence")
        .unwrap_or_else(|| panic!("{:?}", r.results));
    assert_eq!(
        finding.message,
        "General Liability: Each Occurrence must be greater or equal to 1000000 (found 500000). Ask your agent for a policy with at least $1,000,000 per occurrence."
    );
}

async fn provider_down_opens_the_circuit_and_sends_to_manual_review() {
    let truth = corpus_entry(COI)["expected"].clone();
    let insured = truth["insured_name"].as_str().unwrap().to_owned();
    // Five businesses whose names the rules accept for this certificate.
    let parties: Vec<String> = ["Inc", "LLC", "Co", "Ltd", "Company"]
        .iter()
        .map(|suffix| format!("{insured} {suffix}"))
        .collect();
    let mut contractors = Vec::new();
    for party in &parties {
        scenario(party, "down").await;
        contractors.push(register(party).await);
    }
    futures::future::join_all(contractors.iter().map(|(token, id)| upload_coi(token, id))).await;
    // Five failures open the breaker: the fifth goes to review at once, the others when their
    // retry finds the breaker open (provider backoff: 3 s ±20% in this stack, 1 minute in
    // production).
    for (_, id) in &contractors {
        let r = eventually(Duration::from_secs(150), || async {
            let r = insurance_requirement(id).await;
            (r.state() == RequirementState::ManualReview).then_some(r)
        })
        .await
        .unwrap_or_else(|| panic!("{id} reaches manual review"));
        let reason = match &r.results[domain::verification::TRUSTLAYER].outcome {
            domain::verification::Outcome::ManualReview { reason } => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason.contains("unavailable"), "{reason}");
    }
    let breaker = product()
        .table_item("BREAKER#trustlayer", "STATE")
        .await
        .expect("breaker state");
    assert!(
        breaker["breaker"].as_s().unwrap().contains("\"open\""),
        "{breaker:?}"
    );

    // A reviewer works the queue: sees them, approves one, rejects another with a reason.
    let stack = product();
    let reviewer = stack
        .token("auth0|reviewer-ana", json!({"roles": ["reviewer"]}))
        .await;
    let (status, _, queue) = stack.get_as(&reviewer, "/v1/reviews?limit=100").await;
    assert_eq!(status, 200, "{queue}");
    let waiting: Vec<String> = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["contractor_id"].as_str().map(str::to_owned))
        .collect();
    for (_, id) in &contractors {
        assert!(waiting.contains(id), "{id} is in the review queue");
    }
    let (contractor_token, first) = &contractors[0];
    let (status, _, _) = stack.get_as(contractor_token, "/v1/reviews").await;
    assert_eq!(status, 403, "contractors do not see the queue");
    let decide = |id: String, body: Value| {
        let reviewer = reviewer.clone();
        async move {
            stack
                .post_as(
                    &reviewer,
                    &format!("/v1/contractors/{id}/requirements/insurance/decision"),
                    &body,
                )
                .await
        }
    };
    let (status, _, problem) = decide(first.clone(), json!({"decision": "waive"})).await;
    assert_eq!(status, 422, "{problem}");
    let (status, _, approved) = decide(
        first.clone(),
        json!({"decision": "approve", "reason": "Checked with the insurer by phone."}),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["state"], "verified");
    let second = contractors[1].1.clone();
    let (_, _, rejected) = decide(
        second.clone(),
        json!({"decision": "reject", "reason": "The policy number does not exist."}),
    )
    .await;
    assert_eq!(rejected["state"], "errors");
    assert_eq!(rejected["findings"][0]["code"], "rejected_by_reviewer");
    let (_, _, queue) = stack.get_as(&reviewer, "/v1/reviews?limit=100").await;
    let still: Vec<String> = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["contractor_id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !still.contains(first) && !still.contains(&second),
        "decided ones leave the queue"
    );
    assert!(still.contains(&contractors[2].1));
}
