//! `make bench-email`: emails through the local stack (runner + moto + the SendGrid
//! sandbox). Three numbers:
//! - end to end: N contractors register at once; from the first request to the last welcome
//!   in the mailbox (SNS → SQS → notifications-send: preferences, suppressions, the log,
//!   rendering, the breaker, SendGrid), as emails/s, with each welcome's latency;
//! - the consumer alone: batches of 10 events invoked directly (one instance, as Lambda
//!   would call it), emails/s and per-batch time; in AWS the queue's MaximumConcurrency (5)
//!   multiplies it, up to SendGrid's own rate;
//! - the same with SendGrid down: every email fails over to SES (moto), emails/s.
//!
//! BENCH_EMAIL_CONTRACTORS (default 60) and BENCH_EMAIL_BATCHES (default 10) tune it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bench::percentile;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn mailbox(http: &reqwest::Client, base: &str) -> Vec<Value> {
    let body: Value = http
        .get(format!("{base}/_local/mail"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().cloned().unwrap_or_default()
}

/// One SQS batch of `contractor.registered` events (fresh event ids: fresh notifications).
fn batch(contractors: &[String], start: usize) -> Value {
    let records: Vec<Value> = (0..10)
        .map(|i| {
            let id = domain::ids::ContractorId::parse(&contractors[(start + i) % contractors.len()]).unwrap();
            let event = domain::events::DomainEvent::new(
                &id,
                chrono::Utc::now(),
                "bench",
                domain::events::Event::ContractorRegistered(domain::events::ContractorRegistered {
                    contractor_version: 1,
                    status: domain::terms::Status::Draft,
                    services: vec![],
                    states: vec![],
                }),
            );
            json!({"messageId": format!("m{start}-{i}"), "receiptHandle": "r", "body": event.to_json(),
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({"Records": records})
}

async fn consumer_alone(stack: &LocalStack, contractors: &[String], batches: usize, label: &str) {
    let mut per_batch = Vec::new();
    let started = Instant::now();
    for b in 0..batches {
        let t = Instant::now();
        let answer = stack.functions["NotificationsSendFunction"]
            .invoke(batch(contractors, b * 10))
            .await
            .unwrap();
        per_batch.push(t.elapsed());
        assert_eq!(answer, json!({"batchItemFailures": []}), "{label}");
    }
    let total = started.elapsed();
    println!(
        "{label:<34} {:>6.1} emails/s   batch of 10 p50 {:>7.1} ms  p95 {:>7.1} ms",
        (batches * 10) as f64 / total.as_secs_f64(),
        percentile(&mut per_batch, 0.50),
        percentile(&mut per_batch, 0.95),
    );
}

#[tokio::main]
async fn main() {
    let n = env_or("BENCH_EMAIL_CONTRACTORS", 60);
    let batches = env_or("BENCH_EMAIL_BATCHES", 10);
    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let base = stack.base_url.clone();
    let http = reqwest::Client::new();
    let sandbox = stack.functions["NotificationsSendFunction"].env["SENDGRID_BASE_URL"].clone();

    // End to end: N registrations at once, then every welcome.
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let mut tokens = Vec::new();
    for i in 0..n {
        tokens.push(
            bench::token(
                &http,
                &base,
                &format!("bench|mail{i}-{run}"),
                &["contractor"],
            )
            .await,
        );
    }
    let started = Instant::now();
    let sent_at: Vec<(String, Instant, String)> = futures::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let http = &http;
        let base = &base;
        let run = &run;
        async move {
            let address = format!("mail{i}-{run}@bench.example");
            let url = format!("{base}/v1/contractors");
            let reg = bench::call(http, &url, reqwest::Method::POST, token, &json!({"business_name": format!("Mail Bench {i} LLC"), "contact": {"name": "Bench Person", "email": address, "phone": "2145550142"}, "service_area": {"states": ["TX"]}, "trade": {"crew_size": 2, "services": ["residential_installation"]}}), None).await;
            (address, Instant::now(), reg["id"].as_str().unwrap().to_owned())
        }
    }))
    .await;
    let mut arrived: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrived.len() < n && Instant::now() < deadline {
        for m in mailbox(&http, &base).await {
            if let Some(to) = m["to"][0]["email"].as_str()
                && to.ends_with(&format!("{run}@bench.example"))
            {
                arrived.entry(to.to_owned()).or_insert_with(Instant::now);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(arrived.len(), n, "every welcome arrived");
    let last = arrived.values().max().copied().unwrap();
    let mut latencies: Vec<Duration> = sent_at
        .iter()
        .map(|(address, at, _)| arrived[address].saturating_duration_since(*at))
        .collect();
    println!("emails through the local stack (runner + moto + SendGrid sandbox)");
    println!(
        "{n} registrations -> {n} welcomes     {:>6.1} emails/s   register -> mailbox p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        n as f64 / (last - started).as_secs_f64(),
        percentile(&mut latencies, 0.50),
        percentile(&mut latencies, 0.95),
        percentile(&mut latencies, 1.0),
    );
    let contractors: Vec<String> = sent_at.into_iter().map(|(_, _, id)| id).collect();

    consumer_alone(&stack, &contractors, batches, "consumer alone, SendGrid").await;
    http.post(format!("{sandbox}/sandbox/scenario"))
        .json(&json!({"mode": "down"}))
        .send()
        .await
        .unwrap();
    consumer_alone(
        &stack,
        &contractors,
        batches,
        "consumer alone, SendGrid down -> SES",
    )
    .await;
    stack.shutdown().await;
}
