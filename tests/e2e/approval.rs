//! A contractor's standing through the local stack: from registration to `approved` with a
//! certificate, a license and a bank account verified automatically, then suspended when
//! the scheduled re-check finds the policy lapsed; bank accounts verified instantly or by
//! micro-deposits (Plaid sandbox); license registry findings and the lookup cache; and a
//! fault-injection run (a registry down, a consumer crashing mid-batch) after which every
//! contractor is settled or with a reviewer and no dead-letter queue holds anything.

use std::time::Duration;

use domain::verification::{Requirement, RequirementState};
use e2e_tests::{client, eventually, kit, product, read};
use serde_json::{Value, json};

fn tag() -> String {
    ulid::Ulid::new().to_string().to_lowercase()[18..].to_owned()
}

/// A business name the rules accept as the kit's insured, unique to this run.
fn business(word: &str) -> String {
    let letters: String = tag()
        .chars()
        .map(|c| match c {
            '0'..='9' => (b'a' + (c as u8 - b'0')) as char,
            c => c,
        })
        .collect();
    format!("{word} {} Lighting LLC", letters[..6].to_uppercase())
}

async fn register(business: &str, states: &[&str]) -> (String, String) {
    let (token, id, _) = e2e_tests::register_as(
        "standing",
        &json!({
            "business_name": business,
            "contact": {"name": "Nancy Brennan", "email": "nancy@aurora.example", "phone": "(415) 555-0142"},
            "service_area": {"states": states, "zip_codes": []},
            "trade": {"crew_size": 5, "years_in_business": 8, "services": ["residential_installation"]}
        }),
    )
    .await;
    (token, id)
}

/// Saves every wizard step; returns the contractor's version.
async fn complete_steps(token: &str, id: &str, business: &str, license: &Value) -> u64 {
    let state = license["state"].as_str().unwrap_or("OR");
    let expiry = iso(license["expiry"].as_str().unwrap_or("12/31/2030"));
    let steps = [
        json!({"step": "business_profile", "data": {"legal_name": business, "entity_type": "llc", "phone": "(415) 555-0142",
               "address": {"line1": "1 Market St", "city": "San Francisco", "state": state, "zip": "94105"}}}),
        json!({"step": "tax_identity", "data": {"tin_type": "ein", "tin": "12-3456789", "name_on_return": business, "tax_classification": "llc_p"}}),
        json!({"step": "license", "data": {"state": state, "number": license["license_number"].as_str().unwrap_or("NA-1"), "expires_on": expiry}}),
        json!({"step": "insurance", "data": {"carrier": "Acme Mutual", "policy_number": "GL-778899", "each_occurrence_limit": 2000000,
               "general_aggregate_limit": 4000000, "effective_on": "2026-01-01", "expires_on": "2030-01-01"}}),
        json!({"step": "bank_account", "data": {"account_holder_name": business, "link_method": "plaid"}}),
        json!({"step": "agreements", "data": {"terms_version": "2026-09", "privacy_version": "2026-09"}}),
    ];
    let stack = product();
    let mut version = 1;
    for step in steps {
        let (status, _, body) = read(
            client()
                .patch(stack.url(&format!("/v1/contractors/{id}/progress")))
                .bearer_auth(token)
                .header("if-match", format!("\"{version}\""))
                .json(&step)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{step}: {body}");
        version = body["version"].as_u64().unwrap();
    }
    version
}

/// `MM/DD/YYYY` (as printed on the documents) → ISO.
fn iso(us: &str) -> String {
    chrono::NaiveDate::parse_from_str(us, "%m/%d/%Y")
        .map(|d| d.to_string())
        .unwrap_or_else(|_| us.to_owned())
}

async fn upload(token: &str, id: &str, kind: &str, file: &std::path::Path) {
    let bytes = std::fs::read(file).unwrap();
    e2e_tests::upload_document(
        token,
        id,
        kind,
        "scan.pdf",
        "application/pdf",
        &bytes,
        &bytes,
    )
    .await;
}

pub(crate) async fn requirement_where(
    id: &str,
    name: &str,
    limit: Duration,
    done: impl Fn(&Requirement) -> bool,
) -> Requirement {
    let stack = product();
    let last = std::sync::Mutex::new(None);
    let found = eventually(limit, || {
        let last = &last;
        let done = &done;
        async move {
            let item = stack
                .table_item(&format!("CONTRACTOR#{id}"), &format!("REQUIREMENT#{name}"))
                .await?;
            let value: Value = serde_dynamo::from_item(item).ok()?;
            let r: Requirement = serde_json::from_value(value["requirement"].clone()).ok()?;
            *last.lock().unwrap() = Some(r.clone());
            done(&r).then_some(r)
        }
    })
    .await;
    found.unwrap_or_else(|| panic!("{name} of {id} did not settle: {:?}", last.lock().unwrap()))
}

async fn registry(path: &str, body: Value) {
    let base = product().function_envs["verification-license"]["LICENSE_REGISTRY_CSLB_URL"]
        .trim_end_matches("/cslb")
        .to_owned();
    let resp = client()
        .post(format!("{base}/sandbox/{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
}

async fn registry_lookups(state: &str) -> u64 {
    let base = product().function_envs["verification-license"]["LICENSE_REGISTRY_CSLB_URL"]
        .trim_end_matches("/cslb")
        .to_owned();
    let counts: Value = e2e_tests::get_json(&format!("{base}/sandbox/lookups")).await;
    counts[state].as_u64().unwrap_or(0)
}

fn plaid_sandbox() -> String {
    product().function_envs["bank-exchange"]["PLAID_BASE_URL"].clone()
}

/// Plaid Link, as the phone would run it: a link token from us, a public token from Plaid
/// (the sandbox's `user_good` or `user_automated_micro`), then our exchange.
async fn link_bank(token: &str, id: &str, username: &str) -> (u16, Value) {
    let stack = product();
    let (status, _, link) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/bank/link-token")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{link}");
    assert!(
        link["link_token"]
            .as_str()
            .unwrap()
            .starts_with("link-sandbox-")
    );
    let public: Value = e2e_tests::post_json(&format!("{}/sandbox/public_token/create", plaid_sandbox()), &json!({"client_id": "local-plaid-client", "secret": "local-plaid-secret", "institution_id": "ins_109508",
                      "initial_products": ["auth"], "options": {"webhook": stack.url("/v1/webhooks/plaid"), "override_username": username}})).await;
    let (status, _, body) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/bank/exchange")))
            .bearer_auth(token)
            .header("idempotency-key", ulid::Ulid::new().to_string())
            .json(&json!({"public_token": public["public_token"], "institution": {"institution_id": "ins_109508", "name": "First Platypus Bank"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    (status, body)
}

async fn contractor(token: &str, id: &str) -> Value {
    let (status, _, body) = product()
        .get_as(token, &format!("/v1/contractors/{id}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn status_becomes(token: &str, id: &str, status: &str) -> Value {
    eventually(Duration::from_secs(60), || async {
        let c = contractor(token, id).await;
        (c["status"] == status).then_some(c)
    })
    .await
    .unwrap_or_else(|| panic!("{id} never became {status}"))
}

async fn recheck(id: &str, day: &str) -> Value {
    e2e_tests::run_schedule_for(
        "VerificationRecheckFunction",
        id,
        &format!("{day}T06:00:00Z"),
    )
    .await
}

/// A contractor taken from registration to approved: documents, license and bank verified
/// automatically, then submitted. Its token, id, the kit's truth and its legal name.
pub(crate) async fn approved_contractor(label: &str, seed: u64) -> (String, String, Value, String) {
    let name = business(label);
    let (dir, docs) = kit(&name, "CA", seed);
    let license = docs["license"]["expected"].clone();
    let (token, id) = register(&name, &["CA"]).await;
    // The state's record: active, C-10, renewed (the card predates it), bonded.
    registry(
        "records",
        json!({"state": "CA", "number": license["license_number"], "status": "active",
               "business_name": name.to_uppercase(), "licensee_name": license["licensee"],
               "classifications": ["C-10 - Electrical"], "expires_on": "2028-12-31", "bond_active": true}),
    )
    .await;
    let version = complete_steps(&token, &id, &name, &license).await;
    for kind in ["insurance_certificate", "license", "w9"] {
        upload(
            &token,
            &id,
            kind,
            &dir.join(docs[kind]["file"].as_str().unwrap()),
        )
        .await;
    }
    let (status, bank) = link_bank(&token, &id, "user_good").await;
    assert_eq!(status, 200, "{bank}");
    assert_eq!(bank["account"]["mask"], "0000");
    assert_eq!(bank["requirement"]["state"], "verified");
    assert!(
        !bank.to_string().contains("111122223333"),
        "no account number leaves the service"
    );

    let (status, _, submitted) = read(
        client()
            .post(product().url(&format!("/v1/contractors/{id}/submit")))
            .bearer_auth(&token)
            .header("if-match", format!("\"{version}\""))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    for name in ["insurance", "license"] {
        let r = requirement_where(&id, name, Duration::from_secs(60), |r| {
            r.state() != RequirementState::PendingVerification
        })
        .await;
        assert_eq!(
            r.state(),
            RequirementState::Verified,
            "{name}: {:?}",
            r.results
        );
    }
    let approved = status_becomes(&token, &id, "approved").await;
    assert_eq!(approved["requirements"]["disabled_reason"], Value::Null);

    // The approval is audited, by the system, in an intact chain.
    let (status, _, audit) = product()
        .get_as(&token, &format!("/v1/contractors/{id}/audit"))
        .await;
    assert_eq!(status, 200);
    let entry = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "contractor.approved")
        .expect("approval audited")
        .clone();
    assert_eq!(entry["actor"]["kind"], "system");
    assert_eq!(entry["summary"]["failed"], json!([]));
    assert_eq!(audit["verification"]["valid"], true);

    (token, id, docs, name)
}

/// An approved contractor whose policy lapses: the scheduled re-check suspends the account.
/// Runs inside the insurance provider's sequence (verification.rs), which shares its breaker.
pub async fn registration_to_approved_then_suspended() {
    let (token, id, docs, name) = approved_contractor("Aurora", 41).await;
    // Badges are awarded one by one as the approval is evaluated: wait for the whole set.
    let expected = [
        "first_step",
        "profile_complete",
        "documents_in",
        "insured",
        "licensed",
        "payout_ready",
        "approved",
        "one_day",
    ];
    let approved_badges = badges_where(&token, &id, |b| {
        expected
            .iter()
            .all(|badge| b.get(*badge).is_some_and(|h| h["held"] == true))
    })
    .await;
    assert!(
        approved_badges.contains_key("early_bird"),
        "{approved_badges:?}"
    );

    // The day after the policy ends, the re-check finds it lapsed: suspended.
    let insurance = requirement_where(&id, "insurance", Duration::from_secs(5), |_| true).await;
    let ends = insurance
        .valid_until()
        .expect("the policy's expiry is kept");
    assert_eq!(
        ends.to_string(),
        iso(
            docs["insurance_certificate"]["expected"]["general_liability.expiry"]
                .as_str()
                .unwrap()
        )
    );
    // Before it ends: reminded 30 days out, then 7, each once however often the job runs.
    let remind = |days: u64| {
        let id = id.clone();
        async move {
            let day = ends - chrono::Days::new(days);
            crate::notifications::reminders(&id, &format!("{day}T15:00:00Z")).await
        }
    };
    let month = remind(20).await;
    assert_eq!(month["expiring"]["sent"], 1, "{month}");
    assert_eq!(
        month["idle_drafts"]["candidates"], 0,
        "approved is not a draft"
    );
    // The job run twice more that day, and on a later day before the 7-day mark: nothing.
    for days in [20, 20, 19] {
        let again = remind(days).await;
        assert_eq!(
            (&again["expiring"]["sent"], &again["expiring"]["already"]),
            (&json!(0), &json!(1)),
            "{again}"
        );
    }
    let week = remind(5).await;
    assert_eq!(week["expiring"]["sent"], 1, "{week}");
    assert_eq!(remind(1).await["expiring"]["already"], 1);
    for threshold in ["30d", "7d"] {
        let log = crate::notifications::notification(&format!(
            "ntf_rem_{id}_expiring_insurance_{ends}_{threshold}"
        ))
        .await;
        assert_eq!(log["status"], "sent", "{log}");
    }
    // The badges earned on approval day come the next day, in one email.
    let earned = approved_badges["approved"]["earned_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .date_naive();
    let next_day = earned.succ_opt().unwrap();
    let digest = crate::notifications::reminders(&id, &format!("{next_day}T15:00:00Z")).await;
    assert_eq!(digest["badge_digests"]["sent"], 1, "{digest}");
    let log = crate::notifications::notification(&format!("ntf_digest_{id}_{earned}")).await;
    assert_eq!(log["status"], "sent", "{log}");

    let before = recheck(&id, &ends.to_string()).await;
    assert_eq!(before["lapsed"], 0, "valid through its last day: {before}");
    let after = ends.succ_opt().unwrap().to_string();
    let out = recheck(&id, &after).await;
    assert_eq!(out["lapsed"], 1, "{out}");
    assert_eq!(
        recheck(&id, &after).await["lapsed"],
        0,
        "a repeated run records nothing"
    );
    let suspended = status_becomes(&token, &id, "suspended").await;
    let errors = suspended["requirements"]["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["requirement"] == "insurance" && e["code"] == "policy_expired"),
        "{errors:?}"
    );
    assert!(
        suspended["requirements"]["currently_due"]
            .as_array()
            .unwrap()
            .contains(&json!("insurance"))
    );
    // The license (valid to 2028) did not lapse.
    let license = requirement_where(&id, "license", Duration::from_secs(5), |_| true).await;
    assert_eq!(license.state(), RequirementState::Verified);

    // "Insured" lapsed with the policy; milestones stay.
    let lapsed = badges_where(&token, &id, |b| {
        b.get("insured").is_some_and(|h| h["held"] == false)
    })
    .await;
    assert!(lapsed["insured"]["revoked_at"].is_string(), "{lapsed:?}");
    assert_eq!(lapsed["approved"]["held"], true, "a milestone is kept");
    assert_eq!(lapsed["licensed"]["held"], true);

    // A new certificate (read today, in force) restores it, and the account.
    let (dir, _) = kit(&name, "CA", 41);
    upload(
        &token,
        &id,
        "insurance_certificate",
        &dir.join(docs["insurance_certificate"]["file"].as_str().unwrap()),
    )
    .await;
    let restored = badges_where(&token, &id, |b| {
        b.get("insured").is_some_and(|h| h["held"] == true)
    })
    .await;
    assert!(restored["insured"]["earned_at"].is_string());
    status_becomes(&token, &id, "approved").await;
}

/// The contractor's badges once `done` holds for them: id → {held, earned_at|revoked_at}.
async fn badges_where(
    token: &str,
    id: &str,
    done: impl Fn(&serde_json::Map<String, Value>) -> bool,
) -> serde_json::Map<String, Value> {
    let stack = product();
    let last = std::sync::Mutex::new(Value::Null);
    let found = eventually(Duration::from_secs(60), || {
        let last = &last;
        let done = &done;
        async move {
            let (status, _, body) = stack
                .get_as(token, &format!("/v1/contractors/{id}/achievements"))
                .await;
            if status != 200 {
                return None;
            }
            let mut badges = serde_json::Map::new();
            for (list, held) in [("earned", true), ("open", false)] {
                for b in body["badges"][list].as_array()? {
                    let mut entry = b.clone();
                    entry["held"] = json!(held);
                    badges.insert(b["id"].as_str()?.to_owned(), entry);
                }
            }
            *last.lock().unwrap() = body;
            done(&badges).then_some(badges)
        }
    })
    .await;
    found.unwrap_or_else(|| panic!("badges of {id} never settled: {}", last.lock().unwrap()))
}

/// An approved contractor whose insurer cancels the policy: TrustLayer's request-record
/// compliance webhook, read back, puts the cancellation on the insurance requirement and the
/// account is suspended. Runs inside the insurance provider's sequence (verification.rs).
pub async fn policy_cancelled_after_approval_suspends() {
    let (token, id, docs, legal_name) = approved_contractor("Polaris", 43).await;
    let sandbox =
        product().function_envs["verification-insurance"]["INSURANCE_VERIFIER_BASE_URL"].clone();
    let policy =
        docs["insurance_certificate"]["expected"]["general_liability.policy_number"].clone();
    let answer = client()
        .post(format!("{sandbox}/sandbox/cancel"))
        .json(&json!({"party": legal_name, "policy_number": policy}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        200,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    let suspended = status_becomes(&token, &id, "suspended").await;
    let errors = suspended["requirements"]["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["requirement"] == "insurance"
            && e["code"] == "policy_cancelled"
            && e["reason"]
                .as_str()
                .is_some_and(|m| m.contains("General Liability"))),
        "{errors:?}"
    );
    // The policy was also asked about by its number (v2 `/policies/{number}`).
    let insurance = requirement_where(&id, "insurance", Duration::from_secs(5), |_| true).await;
    let evidence = &insurance.results[domain::verification::TRUSTLAYER].evidence;
    assert_eq!(evidence["policies"][0]["number"], policy, "{evidence}");
    assert_eq!(
        evidence["policies"][0]["reasons"],
        json!(["policy_cancelled"]),
        "{evidence}"
    );
}

#[tokio::test]
async fn bank_accounts_verify_instantly_or_by_micro_deposits() {
    let stack = product();
    // Oregon requires no license: insurance and bank are what applies.
    let (token, id) = register(&business("Borealis"), &["OR"]).await;
    let (status, body) = link_bank(&token, &id, "user_automated_micro").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["account"]["verification"],
        "pending_automatic_verification"
    );
    assert_eq!(body["requirement"]["state"], "pending_verification");
    let item = body["account"]["item_id"].as_str().unwrap().to_owned();
    let me = contractor(&token, &id).await;
    assert!(
        me["requirements"]["pending_verification"]
            .as_array()
            .unwrap()
            .contains(&json!("bank_account"))
    );
    // Plaid confirms the deposits and says so by signed webhook.
    let set = |status: &'static str, item: String| async move {
        let (access_token, account_id) = plaid_item(&item).await;
        let answer = client()
            .post(format!(
                "{}/sandbox/item/set_verification_status",
                plaid_sandbox()
            ))
            .json(
                &json!({"client_id": "local-plaid-client", "secret": "local-plaid-secret",
                          "access_token": access_token, "account_id": account_id,
                          "verification_status": status}),
            )
            .send()
            .await
            .unwrap();
        webhook_statuses(&answer)
    };
    assert_eq!(set("automatically_verified", item.clone()).await, "200");
    let verified = requirement_where(&id, "bank_account", Duration::from_secs(30), |r| {
        r.state() == RequirementState::Verified
    })
    .await;
    assert!(
        verified
            .seen
            .iter()
            .any(|s| s.ends_with("AUTOMATICALLY_VERIFIED"))
    );
    let link = stack
        .table_item(&format!("BANKLINK#{item}"), "LINK")
        .await
        .expect("link stored");
    let stored = link["link"].as_s().unwrap();
    assert!(stored.contains("\"verification\":\"verified\""), "{stored}");
    assert!(
        !stored.contains("access-sandbox"),
        "the access token is stored encrypted"
    );

    // Another account whose deposits were never confirmed: the verification expires.
    let (token2, id2) = register(&business("Cassiopeia"), &["OR"]).await;
    let (_, body) = link_bank(&token2, &id2, "user_automated_micro").await;
    let item2 = body["account"]["item_id"].as_str().unwrap().to_owned();
    set("verification_expired", item2).await;
    let expired = requirement_where(&id2, "bank_account", Duration::from_secs(30), |r| {
        r.state() == RequirementState::Errors
    })
    .await;
    assert_eq!(expired.findings()[0].code, "bank_verification_expired");

    // A public token is good once; a malformed one is refused field by field.
    let (status, problem) = link_bank(&token2, &id2, "user_good").await;
    assert_eq!(status, 200, "{problem}");
    let (status, _, problem) = stack
        .post_as(
            &token2,
            &format!("/v1/contractors/{id2}/bank/exchange"),
            &json!({"public_token": "access-sandbox-nope"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "public_token", "{problem}");
    // Someone else's contractor: not theirs to link.
    let (status, _, _) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{id}/bank/link-token")))
            .bearer_auth(&token2)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status == 403 || status == 404, "{status}");
}

/// Same-day micro-deposits confirmed by a texted code finish in Link's update mode, which
/// this product doesn't offer: the account goes to a reviewer instead of waiting for ever.
#[tokio::test]
async fn same_day_micro_deposits_go_to_a_reviewer_not_pending_for_ever() {
    let (token, id) = register(&business("Lyra"), &["OR"]).await;
    let (status, body) = link_bank(&token, &id, "user_automated_micro").await;
    assert_eq!(status, 200, "{body}");
    let item = body["account"]["item_id"].as_str().unwrap().to_owned();
    // Plaid's own sandbox call fires the webhook, signed, to the link token's webhook URL.
    let (access_token, _) = plaid_item(&item).await;
    let answer = client()
        .post(format!("{}/sandbox/item/fire_webhook", plaid_sandbox()))
        .json(&json!({"client_id": "local-plaid-client", "secret": "local-plaid-secret",
                      "access_token": access_token, "webhook_code": "SMS_MICRODEPOSITS_VERIFICATION"}))
        .send()
        .await
        .unwrap();
    assert_eq!(webhook_statuses(&answer), "200");
    let r = requirement_where(&id, "bank_account", Duration::from_secs(30), |r| {
        r.state() == RequirementState::ManualReview
    })
    .await;
    assert!(
        format!("{:?}", r.results).contains("reviewer"),
        "{:?}",
        r.results
    );
}

#[tokio::test]
async fn license_registry_findings_are_precise_and_lookups_are_cached() {
    // Florida: one license revoked and of the wrong rank, one the registry doesn't know.
    let revoked_name = business("Draco");
    let (dir, docs) = kit(&revoked_name, "FL", 52);
    let card = docs["license"]["expected"].clone();
    registry(
        "records",
        json!({"state": "FL", "number": card["license_number"], "status": "revoked",
               "business_name": revoked_name.to_uppercase(), "licensee_name": card["licensee"],
               "classifications": ["Cert Building Contractor"], "expires_on": iso(card["expiry"].as_str().unwrap())}),
    )
    .await;
    let (token, id) = register(&revoked_name, &["FL"]).await;
    let file = dir.join(docs["license"]["file"].as_str().unwrap());
    let lookups_before = registry_lookups("FL").await;
    upload(&token, &id, "license", &file).await;
    let r = requirement_where(&id, "license", Duration::from_secs(60), |r| {
        r.state() == RequirementState::Errors
    })
    .await;
    let mut codes: Vec<&str> = r.findings().iter().map(|f| f.code.as_str()).collect();
    codes.sort();
    assert_eq!(
        codes,
        ["classification_missing", "license_revoked"],
        "{:?}",
        r.findings()
    );
    let me = contractor(&token, &id).await;
    assert!(
        me["requirements"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "license_revoked")
    );
    // The same card again (a second version) is checked against the cached answer.
    upload(&token, &id, "license", &file).await;
    let again = requirement_where(&id, "license", Duration::from_secs(60), |r| {
        r.evidence_version == 2 && r.state() == RequirementState::Errors
    })
    .await;
    assert_eq!(again.findings().len(), 2);
    assert_eq!(
        registry_lookups("FL").await - lookups_before,
        1,
        "the second check used the cache"
    );

    let unknown_name = business("Eridanus");
    let (dir, docs) = kit(&unknown_name, "FL", 53);
    let (token, id) = register(&unknown_name, &["FL"]).await;
    upload(
        &token,
        &id,
        "license",
        &dir.join(docs["license"]["file"].as_str().unwrap()),
    )
    .await;
    let r = requirement_where(&id, "license", Duration::from_secs(60), |r| {
        r.state() == RequirementState::Errors
    })
    .await;
    assert_eq!(r.findings()[0].code, "license_not_found");
    // The registry adds the record an hour later (or the number was mistyped and fixed): a
    // new upload of the card looks again instead of reading "not found" from the cache.
    let card = docs["license"]["expected"].clone();
    registry(
        "records",
        json!({"state": "FL", "number": card["license_number"], "status": "active",
               "business_name": unknown_name.to_uppercase(), "licensee_name": card["licensee"],
               "classifications": ["EC Electrical Contractor"], "expires_on": iso(card["expiry"].as_str().unwrap())}),
    )
    .await;
    upload(
        &token,
        &id,
        "license",
        &dir.join(docs["license"]["file"].as_str().unwrap()),
    )
    .await;
    let r = requirement_where(&id, "license", Duration::from_secs(60), |r| {
        r.evidence_version == 2 && r.state() != RequirementState::Errors
    })
    .await;
    assert_eq!(r.state(), RequirementState::Verified, "{:?}", r.findings());
}

/// The product's dead-letter queues and their depth, as the alarms read it.
async fn dead_letters() -> Vec<(String, u64)> {
    let stack = product();
    let sqs = stack.aws().await.sqs();
    let mut out = Vec::new();
    let mut dlqs: Vec<(&String, &String)> = stack
        .refs
        .iter()
        .filter(|(k, _)| k.ends_with("DLQ"))
        .collect();
    dlqs.sort();
    for (name, url) in dlqs {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        let n: u64 = attrs.values().filter_map(|v| v.parse::<u64>().ok()).sum();
        out.push((name.clone(), n));
    }
    assert!(out.len() >= 6, "every DLQ is known: {out:?}");
    out
}

/// Texas's registry goes down while five contractors' license cards arrive, and the
/// license consumer crashes in the middle of its first batch: the breaker opens, every card
/// reaches a reviewer with the reason, nothing is lost or dead-lettered, and reviewers
/// settle them one at a time (claims keep two reviewers off one item).
#[tokio::test]
async fn fault_injection_run_leaves_every_contractor_settled_or_with_a_reviewer() {
    let stack = product();
    let dlq_before = dead_letters().await;
    registry("scenario", json!({"state": "TX", "mode": "down"})).await;
    let (status, _, fault) = read(
        client()
            .post(stack.url("/_local/faults"))
            .json(&json!({"function": "VerificationLicenseFunction", "crash_batches": 1, "redeliver_after_seconds": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{fault}");
    let mut contractors = Vec::new();
    for seed in 61..66 {
        let name = business("Fornax");
        let (dir, docs) = kit(&name, "TX", seed);
        let (token, id) = register(&name, &["TX"]).await;
        contractors.push((
            token,
            id,
            dir.join(docs["license"]["file"].as_str().unwrap()),
        ));
    }
    futures::future::join_all(
        contractors
            .iter()
            .map(|(token, id, file)| upload(token, id, "license", file)),
    )
    .await;
    // Retries wait 3 s here (PROVIDER_RETRY_DELAYS_SECONDS; 1 minute in production); by
    // then the breaker is open and the rest go to review.
    for (_, id, _) in &contractors {
        let r = requirement_where(id, "license", Duration::from_secs(150), |r| {
            r.state() == RequirementState::ManualReview
        })
        .await;
        let reason = match &r.results["state_lookup"].outcome {
            domain::verification::Outcome::ManualReview { reason } => reason.clone(),
            other => panic!("{other:?}"),
        };
        assert!(reason.contains("unavailable"), "{reason}");
    }
    let breaker = stack
        .table_item("BREAKER#license-tdlr", "STATE")
        .await
        .expect("breaker state");
    assert!(
        breaker["breaker"].as_s().unwrap().contains("\"open\""),
        "{breaker:?}"
    );
    assert!(
        e2e_tests::captured_logs().contains("injected crash mid-batch"),
        "the crash happened"
    );
    registry("scenario", json!({"state": "TX", "mode": "ok"})).await;

    // Reviewers: one claims an item; another can neither claim nor decide it meanwhile.
    let ana = stack
        .token("auth0|reviewer-ana", json!({"roles": ["reviewer"]}))
        .await;
    let ben = stack
        .token("auth0|reviewer-ben", json!({"roles": ["reviewer"]}))
        .await;
    let post = |token: String, path: String, body: Value| async move {
        product().post_as(&token, &path, &body).await
    };
    let (_, first, _) = &contractors[0];
    let claim = format!("/v1/contractors/{first}/requirements/license/claim");
    let decide = format!("/v1/contractors/{first}/requirements/license/decision");
    let (status, _, claimed) = post(ana.clone(), claim.clone(), json!({})).await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["claim"]["reviewer"], "auth0|reviewer-ana");
    let (status, _, problem) = post(ben.clone(), claim.clone(), json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("claimed_by_other"))
    );
    let (status, _, problem) =
        post(ben.clone(), decide.clone(), json!({"decision": "approve"})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("claimed_by_other"))
    );
    let (status, _, decided) = post(
        ana.clone(),
        decide.clone(),
        json!({"decision": "approve", "reason": "Checked on the TDLR website while it was down for us."}),
    )
    .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["state"], "verified");
    assert_eq!(decided["claim"], Value::Null, "a decided item has no claim");
    let (status, _, problem) = post(ana.clone(), claim, json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("not_in_review"))
    );
    // The decision is in the contractor's audit trail, by the reviewer.
    let (_, _, audit) = stack
        .get_as(&ana, &format!("/v1/contractors/{first}/audit"))
        .await;
    let entry = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "requirement.decided")
        .cloned()
        .expect("decision audited");
    assert_eq!(
        entry["actor"],
        json!({"kind": "reviewer", "id": "auth0|reviewer-ana"})
    );
    assert_eq!(entry["summary"]["decision"], "approve");
    assert_eq!(audit["verification"]["valid"], true);

    // Nothing is stuck: every contractor's license is decided or with a reviewer, and no
    // dead-letter queue gained a message.
    for (_, id, _) in &contractors {
        let r = requirement_where(id, "license", Duration::from_secs(5), |_| true).await;
        assert!(
            matches!(
                r.state(),
                RequirementState::ManualReview | RequirementState::Verified
            ),
            "{id}: {:?}",
            r.state()
        );
    }
    assert_eq!(
        dead_letters().await,
        dlq_before,
        "no message was dead-lettered"
    );
}

/// A reviewer closes an account as a whole: only staff, only with a reason and the version
/// they looked at; final — the standing consumer never reopens it, the contractor can no
/// longer edit it.
#[tokio::test]
async fn a_reviewer_rejects_an_account_for_good() {
    let stack = product();
    let (token, id) = register(&business("Grus"), &["OR"]).await;
    let ana = stack
        .token("auth0|reviewer-ana", json!({"roles": ["reviewer"]}))
        .await;
    let reject = |who: String, version: Option<u64>, body: Value| {
        let id = id.clone();
        async move {
            let mut req = client()
                .post(product().url(&format!("/v1/contractors/{id}/reject")))
                .bearer_auth(&who)
                .json(&body);
            if let Some(v) = version {
                req = req.header("if-match", format!("\"{v}\""));
            }
            read(req.send().await.unwrap()).await
        }
    };
    let (status, _, _) = reject(token.clone(), Some(1), json!({"reason": "mine"})).await;
    assert_eq!(status, 403, "a contractor cannot reject");
    let (status, _, problem) = reject(ana.clone(), Some(1), json!({})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "reason");
    let (status, _, _) = reject(ana.clone(), None, json!({"reason": "fraud"})).await;
    assert_eq!(status, 428, "If-Match is required");
    let (status, _, _) = reject(ana.clone(), Some(9), json!({"reason": "fraud"})).await;
    assert_eq!(status, 412, "a stale version is refused");
    let (status, _, rejected) = reject(
        ana.clone(),
        Some(1),
        json!({"reason": "The business is a duplicate of an account closed for fraud."}),
    )
    .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["requirements"]["disabled_reason"], "rejected");
    let (status, _, problem) = reject(ana.clone(), Some(2), json!({"reason": "again"})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let (status, _, _) = read(
        client()
            .patch(stack.url(&format!("/v1/contractors/{id}/progress")))
            .bearer_auth(&token)
            .header("if-match", "\"2\"")
            .json(&json!({"step": "business_profile", "data": {"dba": "Another Name"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409, "a rejected account is not editable");
    let (_, _, audit) = stack
        .get_as(&ana, &format!("/v1/contractors/{id}/audit"))
        .await;
    let last = audit["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "contractor.rejected");
    assert_eq!(
        last["actor"],
        json!({"kind": "reviewer", "id": "auth0|reviewer-ana"})
    );
}

/// An item's access token and first account, from the Plaid sandbox's own control (our API
/// never returns the token).
async fn plaid_item(item_id: &str) -> (String, String) {
    let answer: Value = e2e_tests::post_json(
        &format!("{}/sandbox/items/access_token", plaid_sandbox()),
        &json!({"item_id": item_id}),
    )
    .await;
    (
        answer["access_token"]
            .as_str()
            .expect("the item's token")
            .to_owned(),
        answer["account_ids"][0]
            .as_str()
            .expect("an account")
            .to_owned(),
    )
}

/// What our webhook endpoint answered the Plaid sandbox (its own header, not Plaid's).
fn webhook_statuses(answer: &reqwest::Response) -> String {
    answer
        .headers()
        .get("sandbox-webhook-statuses")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
