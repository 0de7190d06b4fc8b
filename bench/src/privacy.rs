//! `make bench-privacy`: export and erasure through the local stack (runner + moto), for
//! contractors holding more and more documents. For each size: a contractor registered and
//! onboarded through the API (profile and agreements steps), then N document items with a
//! 200 KB file each seeded straight into the table and bucket (the pipeline is not what is
//! measured here). Printed per size:
//! - export: request → archive ready (the worker invoked as Lambda would), archive size,
//!   and MB/s of originals packed;
//! - erasure: the worker from the request to done (last email, sockets, every item and
//!   file version), items + versions erased per second.
//!
//! BENCH_PRIVACY_DOCS (default "3,30,100") sets the sizes.

use std::path::PathBuf;
use std::time::Instant;

use domain::documents::DocumentRepository;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};

const FILE_BYTES: usize = 200 * 1024;

fn sizes() -> Vec<usize> {
    std::env::var("BENCH_PRIVACY_DOCS")
        .unwrap_or_else(|_| "3,30,100".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

fn sqs(body: Value) -> Value {
    json!({"Records": [{"messageId": "bench", "receiptHandle": "r", "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1"}]})
}

/// A contractor through the API with two steps saved: (token, id).
async fn onboarded(http: &reqwest::Client, base: &str, tag: &str) -> (String, String) {
    let token = bench::token(http, base, &format!("bench|privacy-{tag}"), &["contractor"]).await;
    let created = bench::call(
        http,
        &format!("{base}/v1/contractors"),
        reqwest::Method::POST,
        &token,
        &e2e_tests::registration(tag),
        None,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let mut version = created["version"].as_u64().unwrap();
    for step in [
        json!({"step": "business_profile", "data": {"legal_name": format!("Bench {tag} LLC"), "entity_type": "llc", "phone": "(214) 555-0142",
            "address": {"line1": "1 Main St", "city": "Dallas", "state": "TX", "zip": "75201"}}}),
        json!({"step": "agreements", "data": {"terms_version": "2026-09", "privacy_version": "2026-09"}}),
    ] {
        let saved = bench::call(
            http,
            &format!("{base}/v1/contractors/{id}/progress"),
            reqwest::Method::PATCH,
            &token,
            &step,
            Some(version),
        )
        .await;
        version = saved["version"].as_u64().unwrap();
    }
    (token, id)
}

#[tokio::main]
async fn main() {
    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let base = stack.base_url.clone();
    let http = reqwest::Client::new();
    let table = stack.physical("OnboardingTable").unwrap().to_owned();
    let bucket = stack.physical("DocumentsBucket").unwrap().to_owned();
    let documents =
        store::DynamoDocuments::new(store::Table::new(stack.aws.dynamodb(), table.clone()));
    let s3 = stack.aws.s3();
    let run = ulid::Ulid::new().to_string().to_lowercase();
    // Pseudo-random bytes: as little compressible as the photos and scans people upload.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let file: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain((0..FILE_BYTES).map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        }))
        .collect();

    println!(
        "privacy requests through the local stack (runner + moto), {} KB per document",
        FILE_BYTES / 1024
    );
    println!(
        "{:>9}  {:>14} {:>12} {:>11}   {:>14} {:>8} {:>14}",
        "documents", "export ms", "archive KB", "MB/s", "erasure ms", "erased", "things/s"
    );
    for n in sizes() {
        let tag = format!("p{n}x{}", &run[20..]);
        let (token, id) = onboarded(&http, &base, &tag).await;
        let contractor = domain::ids::ContractorId::parse(&id).unwrap();
        for _ in 0..n {
            let intent: domain::documents::UploadIntent = serde_json::from_value(json!({
                "kind": "insurance_certificate", "file_name": "coi.pdf", "content_type": "application/pdf",
                "size": file.len(), "sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
            }))
            .unwrap();
            let mut doc = intent
                .into_document(
                    &contractor,
                    chrono::Utc::now(),
                    chrono::Duration::minutes(10),
                )
                .unwrap();
            doc.status = domain::terms::DocumentStatus::Extracted;
            documents.create(&doc).await.unwrap();
            s3.put_object()
                .bucket(&bucket)
                .key(&doc.object_key)
                .body(file.clone().into())
                .send()
                .await
                .unwrap();
        }

        let asked = bench::call(
            &http,
            &format!("{base}/v1/contractors/{id}/exports"),
            reqwest::Method::POST,
            &token,
            &json!({}),
            None,
        )
        .await;
        let export = asked["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let answer = stack.functions["PrivacyExportFunction"]
            .invoke(sqs(json!({"export_id": export})))
            .await
            .unwrap();
        let export_time = started.elapsed();
        assert_eq!(answer, json!({"batchItemFailures": []}));
        let ready = bench::call(
            &http,
            &format!("{base}/v1/exports/{export}"),
            reqwest::Method::GET,
            &token,
            &Value::Null,
            None,
        )
        .await;
        assert_eq!(ready["status"], "ready", "{ready}");
        let archive = ready["archive"]["bytes"].as_u64().unwrap();

        let reviewer = bench::token(
            &http,
            &base,
            &format!("bench|privacy-staff-{tag}"),
            &["reviewer"],
        )
        .await;
        let accepted = bench::call(
            &http,
            &format!("{base}/v1/contractors/{id}/erasure"),
            reqwest::Method::POST,
            &reviewer,
            &json!({"reason": "benchmark"}),
            None,
        )
        .await;
        let erasure = accepted["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let mut status = Value::Null;
        // The worker runs bounded; a big account takes more than one message.
        for _ in 0..50 {
            let answer = stack.functions["PrivacyErasureFunction"]
                .invoke(sqs(json!({"erasure_id": erasure})))
                .await
                .unwrap();
            assert_eq!(answer, json!({"batchItemFailures": []}));
            status = bench::call(
                &http,
                &format!("{base}/v1/erasures/{erasure}"),
                reqwest::Method::GET,
                &reviewer,
                &Value::Null,
                None,
            )
            .await;
            if status["status"] == "done" {
                break;
            }
        }
        let erasure_time = started.elapsed();
        assert_eq!(status["status"], "done", "{status}");
        let erased = status["result"]["items_deleted"].as_u64().unwrap()
            + status["result"]["file_versions_deleted"].as_u64().unwrap();
        println!(
            "{n:>9}  {:>14.0} {:>12.1} {:>11.1}   {:>14.0} {erased:>8} {:>14.1}",
            export_time.as_secs_f64() * 1000.0,
            archive as f64 / 1024.0,
            (n * file.len()) as f64 / 1e6 / export_time.as_secs_f64(),
            erasure_time.as_secs_f64() * 1000.0,
            erased as f64 / erasure_time.as_secs_f64(),
        );
    }
    stack.shutdown().await;
}
