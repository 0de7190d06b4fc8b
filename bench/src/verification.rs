//! `make bench-verification`: verification through the local stack (runner + moto + clamd +
//! provider sandboxes). For each of N contractors (serving California, so insurance, license
//! and bank all apply): register, complete the steps, submit, upload a certificate and a
//! license card, link a bank account through Plaid — then measure, from the end of each PUT
//! (or the exchange call), how long until the requirement is verified, and from the last
//! verification until the contractor is `approved`.
//! BENCH_VERIFICATION_CONTRACTORS (default 8) tunes it. usage: verification-bench KIT_DIR

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bench::percentile;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};

struct Bench {
    base: String,
    http: reqwest::Client,
    plaid: String,
}

impl Bench {
    async fn post(&self, token: &str, path: &str, body: Value, version: Option<u64>) -> Value {
        let url = format!("{}{path}", self.base);
        bench::call(
            &self.http,
            &url,
            reqwest::Method::POST,
            token,
            &body,
            version,
        )
        .await
    }

    async fn upload(&self, token: &str, id: &str, kind: &str, bytes: &[u8]) -> Instant {
        bench::upload(
            &self.http,
            &self.base,
            token,
            id,
            kind,
            "application/pdf",
            bytes,
        )
        .await
        .1
    }

    async fn contractor(&self, token: &str, id: &str) -> Value {
        self.http
            .get(format!("{}/v1/contractors/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// When each requirement stopped being due or pending, and when the account was approved.
#[derive(Default)]
struct Seen {
    verified: [Option<Instant>; 3],
    approved: Option<Instant>,
}

const WATCHED: [&str; 3] = ["insurance", "license", "bank_account"];

#[tokio::main]
async fn main() {
    let kit = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: verification-bench KIT_DIR"),
    );
    let n: usize = std::env::var("BENCH_VERIFICATION_CONTRACTORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(kit.join("manifest.json")).unwrap()).unwrap();
    let doc = |kind: &str| {
        manifest["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == kind && d["tier"] == "text_pdf")
            .unwrap()
            .clone()
    };
    let (coi, card) = (doc("insurance_certificate"), doc("license"));
    let coi_bytes = std::fs::read(kit.join(coi["file"].as_str().unwrap())).unwrap();
    let card_bytes = std::fs::read(kit.join(card["file"].as_str().unwrap())).unwrap();
    let business = coi["expected"]["insured_name"].as_str().unwrap().to_owned();
    let license = card["expected"].clone();

    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let http = reqwest::Client::new();
    let env = &stack.functions["BankExchangeFunction"].env;
    let registries =
        stack.functions["VerificationLicenseFunction"].env["LICENSE_REGISTRY_CSLB_URL"]
            .trim_end_matches("/cslb")
            .to_owned();
    let b = Bench {
        base: stack.base_url.clone(),
        plaid: env["PLAID_BASE_URL"].clone(),
        http,
    };
    bench::post_json(
        &b.http,
        &format!("{registries}/sandbox/records"),
        &json!({"state": "CA", "number": license["license_number"], "status": "active",
                "business_name": business.to_uppercase(), "licensee_name": license["licensee"],
                "classifications": ["C-10 - Electrical"], "expires_on": "2028-12-31", "bond_active": true}),
    )
    .await;

    let (mut insurance, mut licenses, mut banks, mut approvals) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut first_license = None;
    for i in 0..n {
        let sub = format!("bench|verification-{i}-{}", ulid::Ulid::new());
        let token = bench::token(&b.http, &b.base, &sub, &["contractor"]).await;
        let reg = b
            .post(&token, "/v1/contractors", json!({"business_name": business, "contact": {"name": "Bench Person", "email": "bench@example.com", "phone": "4155550142"}, "service_area": {"states": ["CA"]}, "trade": {"crew_size": 2, "services": ["residential_installation"]}}), None)
            .await;
        let id = reg["id"].as_str().unwrap().to_owned();
        let mut version = reg["version"].as_u64().unwrap();
        for step in [
            json!({"step": "business_profile", "data": {"legal_name": business, "entity_type": "llc", "phone": "(415) 555-0142", "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "zip": "94105"}}}),
            json!({"step": "tax_identity", "data": {"tin_type": "ein", "tin": "12-3456789", "name_on_return": business, "tax_classification": "llc_p"}}),
            json!({"step": "license", "data": {"state": "CA", "number": license["license_number"], "expires_on": "2028-12-31"}}),
            json!({"step": "insurance", "data": {"carrier": "Acme Mutual", "policy_number": "GL-1", "each_occurrence_limit": 2000000, "general_aggregate_limit": 4000000, "effective_on": "2026-01-01", "expires_on": "2030-01-01"}}),
            json!({"step": "bank_account", "data": {"account_holder_name": business, "link_method": "plaid"}}),
            json!({"step": "agreements", "data": {"terms_version": "2026-09", "privacy_version": "2026-09"}}),
        ] {
            let resp = b
                .http
                .patch(format!("{}/v1/contractors/{id}/progress", b.base))
                .bearer_auth(&token)
                .header("if-match", format!("\"{version}\""))
                .json(&step)
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            version = body["version"].as_u64().expect("step saved");
        }
        b.post(
            &token,
            &format!("/v1/contractors/{id}/submit"),
            json!({}),
            Some(version),
        )
        .await;

        let coi_done = b
            .upload(&token, &id, "insurance_certificate", &coi_bytes)
            .await;
        let card_done = b.upload(&token, &id, "license", &card_bytes).await;
        let bank_started = Instant::now();
        b.post(
            &token,
            &format!("/v1/contractors/{id}/bank/link-token"),
            json!({}),
            None,
        )
        .await;
        let public = bench::post_json(
            &b.http,
            &format!("{}/sandbox/public_token/create", b.plaid),
            &json!({"client_id": "local-plaid-client", "secret": "local-plaid-secret", "institution_id": "ins_109508", "initial_products": ["auth"], "options": {"override_username": "user_good"}}),
        )
        .await;
        b.post(
            &token,
            &format!("/v1/contractors/{id}/bank/exchange"),
            json!({"public_token": public["public_token"]}),
            None,
        )
        .await;
        let bank_done = Instant::now();
        banks.push(bank_done - bank_started);

        let mut seen = Seen::default();
        seen.verified[2] = Some(bank_done);
        let deadline = Instant::now() + Duration::from_secs(120);
        while seen.approved.is_none() {
            assert!(Instant::now() < deadline, "contractor {id} never approved");
            let c = b.contractor(&token, &id).await;
            let listed = |key: &str, name: &str| {
                c["requirements"][key]
                    .as_array()
                    .is_some_and(|a| a.contains(&json!(name)))
            };
            for (i, name) in WATCHED.iter().enumerate() {
                if seen.verified[i].is_none()
                    && !listed("pending_verification", name)
                    && !listed("currently_due", name)
                {
                    seen.verified[i] = Some(Instant::now());
                }
                assert!(
                    c["requirements"]["errors"]
                        .as_array()
                        .is_none_or(|e| e.is_empty()),
                    "{c}"
                );
            }
            if c["status"] == "approved" {
                seen.approved = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let [ins, lic, _] = seen.verified.map(|t| t.expect("verified before approval"));
        insurance.push(ins - coi_done);
        let license_latency = lic - card_done;
        if first_license.is_none() {
            first_license = Some(license_latency);
        } else {
            licenses.push(license_latency);
        }
        let last = seen.verified.iter().flatten().max().copied().unwrap();
        approvals.push(seen.approved.unwrap().saturating_duration_since(last));
    }

    println!("verification through the local stack, {n} contractors, one at a time");
    println!("{:<48} {:>9} {:>9}", "", "p50 ms", "p95 ms");
    let row = |name: &str, samples: &mut Vec<Duration>| {
        println!(
            "{name:<48} {:>9.0} {:>9.0}",
            percentile(samples, 0.5),
            percentile(samples, 0.95)
        );
    };
    row(
        "certificate: end of PUT → insurance verified",
        &mut insurance,
    );
    println!(
        "{:<48} {:>9.0}",
        "license card: end of PUT → verified (registry)",
        first_license.unwrap().as_secs_f64() * 1000.0
    );
    if !licenses.is_empty() {
        row(
            "license card: end of PUT → verified (cached)",
            &mut licenses,
        );
    }
    row("bank: link token + exchange → verified", &mut banks);
    row("last requirement verified → approved", &mut approvals);
    stack.shutdown().await;
}
