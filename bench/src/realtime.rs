//! `make bench-realtime`: live progress through the local stack (runner + moto; the
//! WebSocket API played from the template). Two numbers:
//! - event → client message: a contractor with one open connection saves a step N times;
//!   each `step.saved` message's latency is from the event's own `occurred_at` (stamped by
//!   the handler before it commits) to the frame arriving at the client: SNS → SQS → the
//!   realtime-push consumer (feed append, connections query, PostToConnection) → socket.
//! - fan-out for one contractor with 1, 10 and 100 connections: the time realtime-push takes
//!   for one event (invoked directly with an SQS batch, as Lambda would), and from the event
//!   to the last of the connections receiving it.
//!
//! BENCH_REALTIME_EVENTS (default 40) tunes the first; BENCH_REALTIME_ROUNDS (default 10)
//! the rounds per fan-out width.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bench::percentile;
use futures::StreamExt;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Bench {
    base: String,
    http: reqwest::Client,
}

impl Bench {
    async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
        version: Option<u64>,
    ) -> Value {
        let url = format!("{}{path}", self.base);
        bench::call(&self.http, &url, method, token, &body, version).await
    }

    async fn connect(&self, token: &str) -> Socket {
        let ticket = self
            .call(
                token,
                reqwest::Method::POST,
                "/v1/realtime/tickets",
                json!({}),
                None,
            )
            .await;
        tokio_tungstenite::connect_async(ticket["connect"].as_str().unwrap())
            .await
            .expect("connect")
            .0
    }
}

/// The next message of `kind` on `socket`, and when it arrived.
async fn wait_for(socket: &mut Socket, kind: &str) -> (Value, chrono::DateTime<chrono::Utc>) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .expect("open")
            .expect("a frame");
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == kind {
                return (v, chrono::Utc::now());
            }
        }
    }
}

fn since(m: &Value, at: chrono::DateTime<chrono::Utc>) -> Duration {
    let occurred: chrono::DateTime<chrono::Utc> = m["at"].as_str().unwrap().parse().unwrap();
    (at - occurred).to_std().unwrap_or_default()
}

fn profile(i: usize) -> Value {
    json!({"step": "business_profile", "data": {"legal_name": format!("Bench Live {i} LLC"), "entity_type": "llc", "phone": "(214) 555-0142",
           "address": {"line1": "1 Main St", "city": "Dallas", "state": "TX", "zip": "75201"}}})
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::var("BENCH_REALTIME_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let rounds: usize = std::env::var("BENCH_REALTIME_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let b = Bench {
        base: stack.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let register = |tag: String| {
        let b = &b;
        async move {
            let token = bench::token(
                &b.http,
                &b.base,
                &format!("bench|{tag}-{}", ulid::Ulid::new()),
                &["contractor"],
            )
            .await;
            let reg = b
                .call(&token, reqwest::Method::POST, "/v1/contractors", json!({"business_name": format!("Bench {tag} LLC"), "contact": {"name": "Bench Person", "email": "bench@example.com", "phone": "2145550142"}, "service_area": {"states": ["TX"]}, "trade": {"crew_size": 2, "services": ["residential_installation"]}}), None)
                .await;
            (
                token,
                reg["id"].as_str().unwrap().to_owned(),
                reg["version"].as_u64().unwrap(),
            )
        }
    };

    // Event → client message, one connection.
    let (token, id, mut version) = register("live".into()).await;
    let mut socket = b.connect(&token).await;
    let mut latencies = Vec::new();
    for i in 0..events {
        let saved = b
            .call(
                &token,
                reqwest::Method::PATCH,
                &format!("/v1/contractors/{id}/progress"),
                profile(i),
                Some(version),
            )
            .await;
        version = saved["version"].as_u64().unwrap();
        let (m, at) = wait_for(&mut socket, "step.saved").await;
        latencies.push(since(&m, at));
    }
    println!("realtime through the local stack (runner + moto), {events} events");
    println!(
        "event -> client message      p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
        percentile(&mut latencies, 0.50),
        percentile(&mut latencies, 0.95),
        percentile(&mut latencies, 1.0),
    );
    let _ = socket.close(None).await;

    // Fan-out to 1, 10 and 100 connections of one contractor.
    println!("fan-out for one contractor ({rounds} events per width)");
    for width in [1usize, 10, 100] {
        let (token, id, _) = register(format!("fanout{width}")).await;
        let mut sockets = Vec::new();
        for _ in 0..width {
            sockets.push(b.connect(&token).await);
        }
        let contractor = domain::ids::ContractorId::parse(&id).unwrap();
        let mut invoke = Vec::new();
        let mut last = Vec::new();
        for r in 0..rounds {
            let event = domain::events::DomainEvent::new(
                &contractor,
                chrono::Utc::now(),
                "bench",
                domain::events::Event::StepSaved(domain::events::StepSaved {
                    contractor_version: 100 + r as u64,
                    step: domain::terms::StepName::BusinessProfile,
                    step_status: domain::terms::StepStatus::InProgress,
                    percent_complete: 10,
                }),
            );
            let batch = json!({"Records": [{"messageId": format!("m{r}"), "receiptHandle": "r", "body": event.to_json(),
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:realtime", "awsRegion": "us-east-1"}]});
            let started = Instant::now();
            let answer = stack.functions["RealtimePushFunction"]
                .invoke(batch)
                .await
                .unwrap();
            invoke.push(started.elapsed());
            assert_eq!(answer, json!({"batchItemFailures": []}));
            let mut latest = Duration::ZERO;
            for s in sockets.iter_mut() {
                let (m, at) = wait_for(s, "step.saved").await;
                assert_eq!(m["event_id"], event.id.to_string());
                latest = latest.max(since(&m, at));
            }
            last.push(latest);
        }
        println!(
            "{width:>3} connection(s)  push function p50 {:>7.1} ms  p95 {:>7.1} ms   event -> last connection p50 {:>7.1} ms  p95 {:>7.1} ms",
            percentile(&mut invoke, 0.50),
            percentile(&mut invoke, 0.95),
            percentile(&mut last, 0.50),
            percentile(&mut last, 0.95),
        );
        for mut s in sockets {
            let _ = s.close(None).await;
        }
    }
    stack.shutdown().await;
}
