//! `make bench-extraction`: field-level precision and recall of extraction, side by side on
//! the generated corpus (tests/corpus/generate.py: ground truth in manifest.json) and on
//! real documents made by others (`../shared/corpus/real`: a `X.truth.json` beside each
//! `X.pdf`), per kind and tier, with the same readers the extraction function uses. Also:
//! how often a field read at confidence ≥ 0.9 is wrong, time per page, and every miss by
//! field (values only with BENCH_SHOW_VALUES=1: the real documents' contents are not
//! printed otherwise).
//!
//! usage: extraction-accuracy [--generated DIR] [--real DIR]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use domain::documents::DocumentKind;
use domain::extraction::{Extraction, ReadDocument, canonical, extract};
use domain::inspection::sniff;
use domain::pipeline::TextReader;
use engines::CliTextReader;
use serde_json::Value;

#[derive(Default)]
struct Tally {
    docs: usize,
    pages: usize,
    expected: usize,
    emitted: usize,
    correct: usize,
    /// Emitted at confidence ≥ 0.9, and how many of those were wrong.
    sure: usize,
    sure_wrong: usize,
    seconds: f64,
    misses: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.docs += o.docs;
        self.pages += o.pages;
        self.expected += o.expected;
        self.emitted += o.emitted;
        self.correct += o.correct;
        self.sure += o.sure;
        self.sure_wrong += o.sure_wrong;
        self.seconds += o.seconds;
    }

    fn row(&self, corpus: &str, kind: &str, tier: &str) {
        println!(
            "{corpus:<10} {kind:<22} {tier:<12} {:>4} {:>6} {:>9.1}% {:>7.1}% {:>9} {:>9.2}",
            self.docs,
            self.expected,
            100.0 * self.correct as f64 / self.emitted.max(1) as f64,
            100.0 * self.correct as f64 / self.expected.max(1) as f64,
            format!("{}/{}", self.sure_wrong, self.sure),
            self.seconds / self.pages.max(1) as f64,
        );
    }
}

use e2e_tests::truth::{Truth, real_truth};

/// What a field's value must be, as extraction gives it; `same` compares it.
fn grade(
    t: &mut Tally,
    x: &Extraction,
    truth: &Truth,
    same: impl Fn(&str, &str) -> bool,
    show: bool,
    name: &str,
) {
    for (field, want) in truth {
        let got = x.fields.get(field);
        if want.is_some() {
            t.expected += 1;
        }
        let Some(got) = got else {
            if want.is_some() {
                *t.misses.entry(format!("{field} (missing)")).or_default() += 1;
            }
            continue;
        };
        t.emitted += 1;
        let right = want.as_deref().is_some_and(|w| same(&got.value, w));
        if got.confidence >= 0.9 {
            t.sure += 1;
            if !right {
                t.sure_wrong += 1;
            }
        }
        if right {
            t.correct += 1;
        } else {
            *t.misses.entry(format!("{field} (wrong)")).or_default() += 1;
            if show {
                eprintln!(
                    "{name}: {field}: want {want:?}, got {:?} ({:.2})",
                    got.value, got.confidence
                );
            }
        }
    }
}

async fn read(reader: &CliTextReader, bytes: &[u8]) -> (ReadDocument, f64) {
    let started = Instant::now();
    let doc = reader.read(bytes, sniff(bytes)).await.expect("read");
    (doc, started.elapsed().as_secs_f64())
}

async fn generated(
    reader: &CliTextReader,
    dir: &Path,
    show: bool,
    tallies: &mut BTreeMap<(String, String, String), Tally>,
) {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .unwrap();
    for doc in manifest["documents"].as_array().unwrap() {
        let Some(expected) = doc["expected"].as_object() else {
            continue;
        };
        let kind = DocumentKind::parse(doc["kind"].as_str().unwrap()).unwrap();
        let tier = doc["tier"].as_str().unwrap().to_owned();
        let bytes = std::fs::read(dir.join(doc["file"].as_str().unwrap())).unwrap();
        let (read_doc, seconds) = read(reader, &bytes).await;
        let x = extract(kind, &read_doc);
        let truth: Truth = expected
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(canonical)))
            .collect();
        if std::env::var("BENCH_SHOW_VALUES").is_ok_and(|v| v == "2") {
            for p in &read_doc.pages {
                eprintln!(
                    "  page {} {:?} {}x{}: {} words",
                    p.number,
                    p.method,
                    p.width,
                    p.height,
                    p.words.len()
                );
                for l in p.lines() {
                    eprintln!("    {:?} {}", l.rect, l.text());
                }
            }
            for p in &x.problems {
                eprintln!("  problem {} {}: {}", p.field, p.code, p.message);
            }
        }
        if doc["altered"] == true || doc.get("pages_used").is_some() {
            let flagged = x.problems.iter().any(|p| p.code == "possible_alteration");
            let pages: Vec<u32> = x.pages.iter().map(|p| p.number).collect();
            println!(
                "special {}: possible_alteration {} (expected {}), pages used {pages:?} (expected {})",
                doc["file"].as_str().unwrap_or_default(),
                flagged,
                doc["altered"] == true,
                doc.get("pages_used")
                    .map_or("any".into(), |p| p.to_string()),
            );
        }
        let t = tallies
            .entry(("generated".into(), kind.as_str().into(), tier))
            .or_default();
        t.docs += 1;
        t.pages += read_doc.pages.len().max(1);
        t.seconds += seconds;
        grade(
            t,
            &x,
            &truth,
            |a, b| a == b,
            show,
            doc["file"].as_str().unwrap(),
        );
    }
}

async fn real(
    reader: &CliTextReader,
    dir: &Path,
    show: bool,
    tallies: &mut BTreeMap<(String, String, String), Tally>,
) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("real corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    for pdf in files {
        let truth: Value = serde_json::from_slice(
            &std::fs::read(pdf.with_extension("truth.json")).expect("truth"),
        )
        .unwrap();
        let (kind, expected) = real_truth(&truth);
        let kind = DocumentKind::parse(kind).expect("a document kind");
        let bytes = std::fs::read(&pdf).unwrap();
        let (read_doc, seconds) = read(reader, &bytes).await;
        let x = extract(kind, &read_doc);
        let ocr = x.method == domain::extraction::ReadMethod::Ocr;
        let has_image = bytes
            .windows(13)
            .any(|w| w == b"/Subtype/Image" || w.starts_with(b"/Subtype /Ima"));
        let tier = match (ocr, has_image) {
            (false, _) => "text_layer",
            (true, true) => "scan",
            (true, false) => "outlined",
        };
        let t = tallies
            .entry(("real".into(), kind.as_str().into(), tier.into()))
            .or_default();
        t.docs += 1;
        t.pages += read_doc.pages.len().max(1);
        t.seconds += seconds;
        let name = pdf.file_name().unwrap().to_string_lossy().to_string();
        grade(t, &x, &expected, reading::text::same_text, show, &name);
        if std::env::var("BENCH_SHOW_VALUES").is_ok_and(|v| v == "2") {
            for (k, f) in &x.fields {
                eprintln!("  {name}: {k} = {:?} ({:.2})", f.value, f.confidence);
            }
            for p in &x.problems {
                eprintln!("  {name}: problem {} {}: {}", p.field, p.code, p.message);
            }
        }
        let codes: Vec<&str> = x.problems.iter().map(|p| p.code.as_str()).collect();
        println!(
            "read {name}: tier {tier}, pages used {:?} of {}, problems {codes:?}",
            x.pages.iter().map(|p| p.number).collect::<Vec<_>>(),
            read_doc.page_count
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(std::path::PathBuf::from)
    };
    let show = std::env::var("BENCH_SHOW_VALUES").is_ok_and(|v| v == "1");
    let reader = CliTextReader::default();
    let mut tallies: BTreeMap<(String, String, String), Tally> = BTreeMap::new();
    if let Some(dir) = arg("--generated") {
        generated(&reader, &dir, show, &mut tallies).await;
    }
    match arg("--real") {
        Some(dir) if dir.is_dir() => real(&reader, &dir, show, &mut tallies).await,
        Some(dir) => println!(
            "NOTE: no real corpus at {} — real documents not measured",
            dir.display()
        ),
        None => {}
    }
    println!();
    println!(
        "{:<10} {:<22} {:<12} {:>4} {:>6} {:>10} {:>8} {:>9} {:>9}",
        "corpus", "kind", "tier", "docs", "fields", "precision", "recall", "≥0.9 bad", "s/page"
    );
    let mut by_tier: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for ((corpus, kind, tier), t) in &tallies {
        t.row(corpus, kind, tier);
        by_tier
            .entry((corpus.clone(), tier.clone()))
            .or_default()
            .add(t);
    }
    println!();
    for ((corpus, tier), t) in &by_tier {
        t.row(corpus, "ALL", tier);
    }
    println!();
    for ((corpus, kind, tier), t) in &tallies {
        if !t.misses.is_empty() {
            let worst: Vec<String> = t.misses.iter().map(|(f, n)| format!("{f}×{n}")).collect();
            println!("misses {corpus}/{kind}/{tier}: {}", worst.join(", "));
        }
    }
}
