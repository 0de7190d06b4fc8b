//! `make bench-extraction`: field-level precision and recall of extraction over the
//! generated corpus (tests/corpus/generate.py), per kind and per quality tier, with the same
//! readers the extraction function uses (pdftotext, Tesseract). A field counts as correct
//! when its value equals the ground truth's canonical form exactly.
//! usage: extraction-accuracy CORPUS_DIR

use std::collections::BTreeMap;
use std::time::Instant;

use domain::documents::DocumentKind;
use domain::extraction::{canonical, extract};
use domain::inspection::sniff;
use domain::pipeline::TextReader;
use engines::CliTextReader;
use serde_json::Value;

#[derive(Default)]
struct Tally {
    docs: usize,
    expected: usize,
    emitted: usize,
    correct: usize,
    seconds: f64,
    misses: BTreeMap<String, usize>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: extraction-accuracy CORPUS_DIR"),
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .unwrap();
    let reader = CliTextReader::default();
    // BENCH_SHOW_MISSES=1 prints every wrong value.
    let show_misses = std::env::var("BENCH_SHOW_MISSES").is_ok_and(|v| v == "1");
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for doc in manifest["documents"].as_array().unwrap() {
        let Some(truth) = doc["expected"].as_object() else {
            continue;
        };
        let kind = DocumentKind::parse(doc["kind"].as_str().unwrap()).unwrap();
        let tier = doc["tier"].as_str().unwrap().to_owned();
        let bytes = std::fs::read(dir.join(doc["file"].as_str().unwrap())).unwrap();
        let started = Instant::now();
        let text = reader.read(&bytes, sniff(&bytes)).await.expect("read");
        let extraction = extract(kind, &text);
        let t = tallies.entry((kind.as_str().to_owned(), tier)).or_default();
        t.seconds += started.elapsed().as_secs_f64();
        t.docs += 1;
        for (field, value) in truth {
            let want = canonical(value.as_str().unwrap());
            t.expected += 1;
            match extraction.fields.get(field) {
                Some(got) => {
                    t.emitted += 1;
                    if got.value == want {
                        t.correct += 1;
                    } else {
                        *t.misses.entry(field.clone()).or_default() += 1;
                        if show_misses {
                            eprintln!(
                                "{}: {field}: want {want:?}, got {:?} ({:.2})",
                                doc["file"], got.value, got.confidence
                            );
                        }
                    }
                }
                None => *t.misses.entry(format!("{field} (missing)")).or_default() += 1,
            }
        }
    }
    println!(
        "{:<22} {:<12} {:>5} {:>7} {:>10} {:>8} {:>10}",
        "kind", "tier", "docs", "fields", "precision", "recall", "s/doc"
    );
    let mut by_tier: BTreeMap<String, Tally> = BTreeMap::new();
    for ((kind, tier), t) in &tallies {
        println!(
            "{kind:<22} {tier:<12} {:>5} {:>7} {:>9.1}% {:>7.1}% {:>10.2}",
            t.docs,
            t.expected,
            100.0 * t.correct as f64 / t.emitted.max(1) as f64,
            100.0 * t.correct as f64 / t.expected.max(1) as f64,
            t.seconds / t.docs as f64
        );
        let all = by_tier.entry(tier.clone()).or_default();
        all.docs += t.docs;
        all.expected += t.expected;
        all.emitted += t.emitted;
        all.correct += t.correct;
        all.seconds += t.seconds;
    }
    println!();
    for (tier, t) in &by_tier {
        println!(
            "{:<22} {tier:<12} {:>5} {:>7} {:>9.1}% {:>7.1}% {:>10.2}",
            "ALL",
            t.docs,
            t.expected,
            100.0 * t.correct as f64 / t.emitted.max(1) as f64,
            100.0 * t.correct as f64 / t.expected.max(1) as f64,
            t.seconds / t.docs as f64
        );
    }
    println!();
    for ((kind, tier), t) in &tallies {
        if !t.misses.is_empty() {
            let worst: Vec<String> = t.misses.iter().map(|(f, n)| format!("{f}×{n}")).collect();
            println!("misses {kind}/{tier}: {}", worst.join(", "));
        }
    }
}
