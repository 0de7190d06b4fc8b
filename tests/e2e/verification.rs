//! Insurance verification through the local stack: a certificate uploaded by a contractor is
//! scanned, extracted, and checked against the compliance rules (`config/insurance-rules.json`)
//! by `verification-insurance`; the `insurance` requirement records the verdict with codes the
//! contractor can act on. (The provider's verification, the second required source, is not
//! built yet, so a certificate that passes the rules waits in `pending_verification`.)

use std::time::Duration;

use domain::verification::{Requirement, RequirementState};
use e2e_tests::{client, corpus, corpus_entry, eventually, product, read};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const COI: &str = "insurance_certificate-000-text_pdf.pdf";

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
    let stack = product();
    let sub = format!(
        "auth0|verify-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let token = stack.token(&sub, json!({"roles": ["contractor"]})).await;
    let (status, _, body) = read(
        client()
            .post(stack.url("/v1/contractors"))
            .bearer_auth(&token)
            .json(&json!({
                "business_name": business_name,
                "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "(214) 555-0142"},
                "service_area": {"states": ["TX"], "zip_codes": ["75201"]},
                "trade": {"crew_size": 4, "years_in_business": 6, "services": ["residential_installation"]}
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    (token, body["id"].as_str().unwrap().to_owned())
}

async fn upload_coi(token: &str, contractor: &str) -> String {
    let stack = product();
    let bytes = std::fs::read(corpus().join(COI)).unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (status, _, doc) = read(
        client()
            .post(stack.url(&format!("/v1/contractors/{contractor}/documents")))
            .bearer_auth(token)
            .json(&json!({"kind": "insurance_certificate", "file_name": "coi.pdf", "content_type": "application/pdf", "size": bytes.len(), "sha256": sha}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let mut put = client()
        .put(doc["upload"]["url"].as_str().unwrap())
        .body(bytes);
    for (k, v) in doc["upload"]["headers"].as_object().unwrap() {
        if k != "content-length" {
            put = put.header(k, v.as_str().unwrap());
        }
    }
    assert!(put.send().await.unwrap().status().is_success());
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
}

#[tokio::test]
async fn a_certificate_for_this_business_is_judged_on_its_limits_and_endorsements() {
    let truth = corpus_entry(COI)["expected"].clone();
    // The certificate's insured, typed the way a person would (case and punctuation differ).
    let insured = truth["insured_name"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .replace(' ', "  ");
    let (token, id) = register(&insured).await;
    upload_coi(&token, &id).await;
    let requirement = insurance_requirement(&id).await;
    let want = expected_codes(&truth, true);
    assert_eq!(codes(&requirement), want);
    let state = requirement.state();
    if want.is_empty() {
        assert_eq!(
            state,
            RequirementState::PendingVerification,
            "rules pass; the provider has not verified yet"
        );
    } else {
        assert_eq!(state, RequirementState::Errors);
    }
    assert_eq!(requirement.evidence_version, 1);
}
