//! `scripts/bench.sh`: latency (p50/p95/p99) and throughput of register, get and saveStep
//! through the local stack (API Gateway emulation + JWT authorizer + handler + DynamoDB on
//! moto) at several concurrency levels, next to bare DynamoDB GetItem/PutItem round trips
//! against the same moto, so our overhead shows as a ratio.
//! BENCH_REQUESTS (per level, default 120) and BENCH_LEVELS (default 1,4,16) tune it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};

struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
    rps: f64,
}

fn stats(mut samples: Vec<Duration>, wall: Duration) -> Stats {
    samples.sort();
    let pick = |q: f64| {
        samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
    };
    Stats {
        p50: pick(0.50),
        p95: pick(0.95),
        p99: pick(0.99),
        rps: samples.len() as f64 / wall.as_secs_f64(),
    }
}

fn registration(i: usize) -> Value {
    json!({
        "business_name": format!("Bench Lights {i} LLC"),
        "contact": {"name": "Bench Person", "email": format!("bench{i}@example.com"), "phone": "2145550142"},
        "service_area": {"states": ["TX"]},
        "trade": {"crew_size": 2, "services": ["residential_installation"]}
    })
}

async fn token(http: &reqwest::Client, base: &str, sub: &str) -> String {
    bench::token(http, base, sub, &["contractor"]).await
}

/// Runs `n` calls of `op(i)` with `concurrency` in flight; returns per-call latencies.
async fn run<F, Fut>(n: usize, concurrency: usize, op: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let results: Vec<(Duration, bool)> = futures::stream::iter(0..n)
        .map(|i| {
            let fut = op(i);
            async move {
                let t = Instant::now();
                let ok = fut.await;
                (t.elapsed(), ok)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let failures = results.iter().filter(|(_, ok)| !ok).count();
    assert_eq!(failures, 0, "{failures} requests failed");
    (
        results.into_iter().map(|(d, _)| d).collect(),
        started.elapsed(),
    )
}

fn print(name: &str, c: usize, s: &Stats, baseline: Option<(&str, f64)>) {
    let ratio = baseline
        .map(|(what, p50)| format!("   p50 = {:.1}x {what}", s.p50 / p50))
        .unwrap_or_default();
    println!(
        "{name:<26} c={c:<3} p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  {:>7.1} req/s{ratio}",
        s.p50, s.p95, s.p99, s.rps
    );
}

/// Bare SDK round trips against the same moto, at the table's current size: the floor
/// under each API call. A transaction of 4 puts has the shape of register/saveStep's commit.
async fn baselines(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    n: usize,
    tag: &str,
) -> (Stats, Stats, Stats) {
    let (puts, wall) = run(n, 1, |i| {
        let ddb = ddb.clone();
        let table = table.to_owned();
        let tag = tag.to_owned();
        async move {
            ddb.put_item()
                .table_name(table)
                .item("pk", AttributeValue::S(format!("BENCH#{tag}#{i}")))
                .item("sk", AttributeValue::S("X".into()))
                .item("v", AttributeValue::N(i.to_string()))
                .send()
                .await
                .is_ok()
        }
    })
    .await;
    let put = stats(puts, wall);
    let (gets, wall) = run(n, 1, |i| {
        let ddb = ddb.clone();
        let table = table.to_owned();
        let tag = tag.to_owned();
        async move {
            ddb.get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(format!("BENCH#{tag}#{i}")))
                .key("sk", AttributeValue::S("X".into()))
                .send()
                .await
                .is_ok()
        }
    })
    .await;
    let get = stats(gets, wall);
    let (txs, wall) = run(n, 1, |i| {
        let ddb = ddb.clone();
        let table = table.to_owned();
        let tag = tag.to_owned();
        async move {
            let mut req = ddb.transact_write_items();
            for part in 0..4 {
                let put = aws_sdk_dynamodb::types::Put::builder()
                    .table_name(&table)
                    .item("pk", AttributeValue::S(format!("BENCHTX#{tag}#{i}#{part}")))
                    .item("sk", AttributeValue::S("X".into()))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .expect("put");
                req = req.transact_items(
                    aws_sdk_dynamodb::types::TransactWriteItem::builder()
                        .put(put)
                        .build(),
                );
            }
            req.send().await.is_ok()
        }
    })
    .await;
    (put, get, stats(txs, wall))
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let levels: Vec<usize> = std::env::var("BENCH_LEVELS")
        .unwrap_or_else(|_| "1,4,16".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let base = stack.base_url.clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let ddb = stack.aws.dynamodb();
    let table = stack.physical("OnboardingTable").unwrap().to_owned();
    println!(
        "requests per level: {n}; levels: {levels:?}; moto at {}",
        stack.moto_endpoint
    );

    for &c in &levels {
        let run_id = ulid::Ulid::new().to_string();
        let (put, get, tx) = baselines(&ddb, &table, 40, &run_id).await;
        print("bare PutItem", 1, &put, None);
        print("bare GetItem", 1, &get, None);
        print("bare TransactWrite (4 puts)", 1, &tx, None);
        let mut tokens = Vec::with_capacity(n);
        for i in 0..n {
            tokens.push(token(&http, &base, &format!("bench|{run_id}-{c}-{i}")).await);
        }
        // register: one contractor per token.
        let (lat, wall) = run(n, c, |i| {
            let http = http.clone();
            let base = base.clone();
            let t = tokens[i].clone();
            async move {
                let r = http
                    .post(format!("{base}/v1/contractors"))
                    .bearer_auth(t)
                    .json(&registration(i))
                    .send()
                    .await;
                r.map(|r| r.status().as_u16() == 201).unwrap_or(false)
            }
        })
        .await;
        print(
            "register",
            c,
            &stats(lat, wall),
            Some(("bare transaction", tx.p50)),
        );

        let (lat, wall) = run(n, c, |i| {
            let http = http.clone();
            let base = base.clone();
            let t = tokens[i].clone();
            async move {
                let r = http
                    .get(format!("{base}/v1/contractors/me"))
                    .bearer_auth(t)
                    .send()
                    .await;
                r.map(|r| r.status().as_u16() == 200).unwrap_or(false)
            }
        })
        .await;
        print(
            "get /me",
            c,
            &stats(lat, wall),
            Some(("bare GetItem", get.p50)),
        );

        // saveStep: each request on its own contractor at version 1, so none conflict.
        let ids: Vec<String> = {
            let mut ids = Vec::new();
            for t in &tokens {
                let me: Value = http
                    .get(format!("{base}/v1/contractors/me"))
                    .bearer_auth(t)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                ids.push(me["id"].as_str().unwrap().to_owned());
            }
            ids
        };
        let (lat, wall) = run(n, c, |i| {
            let http = http.clone();
            let base = base.clone();
            let t = tokens[i].clone();
            let id = ids[i].clone();
            async move {
                let r = http
                    .patch(format!("{base}/v1/contractors/{id}/progress"))
                    .bearer_auth(t)
                    .header("if-match", "\"1\"")
                    .json(&json!({"step": "license", "data": {"state": "TX", "number": "TECL-1", "expires_on": "2030-01-01"}}))
                    .send()
                    .await;
                r.map(|r| r.status().as_u16() == 200).unwrap_or(false)
            }
        })
        .await;
        print(
            "saveStep (PATCH)",
            c,
            &stats(lat, wall),
            Some(("bare transaction", tx.p50)),
        );
    }
    stack.shutdown().await;
}
