//! `make bench-pipeline`: the document pipeline through the local stack (runner + moto +
//! clamd + pdftotext/Tesseract): latency from the end of the presigned PUT to `extracted`
//! (p50/p95) for a text PDF and for a phone photo, one at a time; then throughput with a
//! burst of uploads, four in flight (documents per minute on this machine).
//! BENCH_PIPELINE_DOCS (per kind of file, default 10) tunes it. usage: pipeline-bench CORPUS_DIR

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bench::percentile;
use futures::StreamExt;
use local_runner::{LocalStack, StackOptions, product_registry};
use serde_json::{Value, json};

struct Bench {
    base: String,
    http: reqwest::Client,
    token: String,
    contractor: String,
}

impl Bench {
    /// Intent + PUT; returns the document id and when the PUT finished.
    async fn upload(&self, bytes: &[u8], content_type: &str) -> (String, Instant) {
        let (doc, done) = bench::upload(
            &self.http,
            &self.base,
            &self.token,
            &self.contractor,
            "insurance_certificate",
            content_type,
            bytes,
        )
        .await;
        (doc["id"].as_str().unwrap().to_owned(), done)
    }

    async fn wait_extracted(&self, id: &str) -> Instant {
        loop {
            let doc: Value = self
                .http
                .get(format!("{}/v1/documents/{id}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match doc["status"].as_str() {
                Some("extracted") => return Instant::now(),
                Some("awaiting_upload" | "scanned") => {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                other => panic!("document {id} ended {other:?}: {doc}"),
            }
        }
    }
}

impl Bench {
    /// One list call per 100 ms for the whole burst, so watching does not load the stack.
    async fn wait_all_extracted(&self, ids: Vec<&str>) {
        loop {
            let list: Value = self
                .http
                .get(format!(
                    "{}/v1/contractors/{}/documents",
                    self.base, self.contractor
                ))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let done = list["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    ids.contains(&d["id"].as_str().unwrap_or("")) && d["status"] == "extracted"
                })
                .count();
            if done == ids.len() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::main]
async fn main() {
    let corpus = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: pipeline-bench CORPUS_DIR"),
    );
    let n: usize = std::env::var("BENCH_PIPELINE_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let pdf = std::fs::read(corpus.join("insurance_certificate-000-text_pdf.pdf")).unwrap();
    let photo = std::fs::read(corpus.join("insurance_certificate-000-noisy_photo.jpg")).unwrap();

    let mut opts = StackOptions::new(PathBuf::from("template.yaml"), product_registry());
    opts.run_schedules = false;
    let stack = LocalStack::start(opts).await.expect("local stack");
    let http = reqwest::Client::new();
    let base = stack.base_url.clone();
    let token = bench::token(&http, &base, "bench|pipeline", &[]).await;
    let reg: Value = http
        .post(format!("{base}/v1/contractors"))
        .bearer_auth(&token)
        .json(&json!({"business_name": "Bench Lights LLC", "contact": {"name": "Bench Person", "email": "bench@example.com", "phone": "2145550142"}, "service_area": {"states": ["TX"]}, "trade": {"crew_size": 2, "services": ["residential_installation"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = Bench {
        base,
        http,
        token,
        contractor: reg["id"].as_str().unwrap().to_owned(),
    };

    println!("upload → extracted, one at a time ({n} each)");
    println!("{:<12} {:>9} {:>9}", "file", "p50 ms", "p95 ms");
    for (name, bytes, ctype) in [
        ("text PDF", &pdf, "application/pdf"),
        ("photo", &photo, "image/jpeg"),
    ] {
        let mut samples = Vec::new();
        for _ in 0..n {
            let (id, put_done) = b.upload(bytes, ctype).await;
            samples.push(b.wait_extracted(&id).await - put_done);
        }
        println!(
            "{name:<12} {:>9.0} {:>9.0}",
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.95)
        );
    }

    println!("\nburst: uploaded 4 at a time, until every one is extracted");
    println!(
        "{:<12} {:>6} {:>9} {:>10}",
        "files", "docs", "wall s", "docs/min"
    );
    for (name, bytes, ctype, count) in [
        ("text PDFs", &pdf, "application/pdf", n * 3),
        ("photos", &photo, "image/jpeg", n),
    ] {
        let started = Instant::now();
        // Uploads go out four at a time (phones upload in parallel, not all in one instant);
        // extraction overlaps with the uploads still going.
        let uploads: Vec<(String, Instant)> =
            futures::stream::iter((0..count).map(|_| b.upload(bytes, ctype)))
                .buffer_unordered(4)
                .collect()
                .await;
        b.wait_all_extracted(uploads.iter().map(|(id, _)| id.as_str()).collect())
            .await;
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{name:<12} {count:>6} {wall:>9.1} {:>10.0}",
            count as f64 * 60.0 / wall
        );
    }
    stack.shutdown().await;
}
