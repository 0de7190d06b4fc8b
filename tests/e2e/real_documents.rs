//! Certificates as the world makes them, end to end through the local stack (issue 10):
//! form software's scripts disarmed rather than refused, an edited certificate sent to a
//! reviewer, a packet read at its certificate page, and the real documents beside the
//! repository (`../shared/corpus/real`, made by agencies, carriers and businesses) read to
//! their ground truth. Their contents are never printed: failures name fields only.

use std::time::Duration;

use domain::verification::{Outcome, RequirementState};
use e2e_tests::truth::{Truth, real_corpus, real_documents, real_truth};
use e2e_tests::{corpus, corpus_entry, eventually, product, settled, wrong_fields};
use serde_json::Value;

/// Uploads `bytes` as a document of `kind` for a new contractor; its settled view.
async fn read_through_the_stack(kind: &str, file: &str, bytes: &[u8]) -> (String, Value) {
    let (token, id, _) = e2e_tests::registered_contractor("real").await;
    let doc =
        e2e_tests::upload_document(&token, &id, kind, file, "application/pdf", bytes, bytes).await;
    let done = settled(
        &token,
        doc["id"].as_str().unwrap(),
        Duration::from_secs(120),
    )
    .await;
    (id, done)
}

fn problem_codes(doc: &Value) -> Vec<String> {
    doc["extraction"]["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_form_software_certificate_is_disarmed_and_read_not_refused() {
    let file = "certificate-livecycle.pdf";
    let bytes = std::fs::read(corpus().join(file)).unwrap();
    let (_, doc) = read_through_the_stack("insurance_certificate", file, &bytes).await;
    assert_eq!(doc["status"], "extracted", "{doc}");
    assert_eq!(doc["disarmed"]["removed"][0], "JavaScript", "{doc}");
    assert_eq!(doc["disarmed"]["method"], "ghostscript-pdfwrite");
    assert_eq!(doc["extraction"]["method"], "text_layer");
    let wrong = wrong_fields(&doc, &corpus_entry(file)["expected"], &[]);
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The derivative is kept beside the original, without the script.
    let stack = product();
    let derivative = format!(
        "contractors/{}/documents/{}/derivative.pdf",
        doc["contractor_id"].as_str().unwrap(),
        doc["id"].as_str().unwrap()
    );
    let got = stack
        .aws()
        .await
        .s3()
        .get_object()
        .bucket(&stack.refs["DocumentsBucket"])
        .key(&derivative)
        .send()
        .await
        .expect("the derivative is stored");
    let clean = got.body.collect().await.unwrap().into_bytes();
    assert!(domain::inspection::pdf_active_content(&clean).is_empty());
}

#[tokio::test]
async fn an_edited_certificate_reads_what_is_visible_and_goes_to_a_reviewer() {
    let file = "certificate-altered.pdf";
    let entry = corpus_entry(file);
    let bytes = std::fs::read(corpus().join(file)).unwrap();
    let (id, doc) = read_through_the_stack("insurance_certificate", file, &bytes).await;
    assert_eq!(doc["status"], "extracted", "{doc}");
    let altered = doc["extraction"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "possible_alteration")
        .unwrap_or_else(|| panic!("flagged: {doc}"))
        .clone();
    assert_eq!(altered["field"], "insurer_a.name", "{altered}");
    assert_eq!(altered["page"], 1);
    assert!(altered["rect"]["x0"].is_number(), "it points at the spot");
    assert!(
        altered["message"]
            .as_str()
            .unwrap()
            .contains(entry["hidden"].as_str().unwrap())
    );
    // What the page shows is what is read.
    let wrong = wrong_fields(&doc, &entry["expected"], &[]);
    assert!(wrong.is_empty(), "{wrong:#?}");
    let requirement = eventually(Duration::from_secs(60), || async {
        let item = product()
            .table_item(&format!("CONTRACTOR#{id}"), "REQUIREMENT#insurance")
            .await?;
        let value: Value = serde_dynamo::from_item(item).ok()?;
        let r: domain::verification::Requirement =
            serde_json::from_value(value["requirement"].clone()).ok()?;
        (r.state() == RequirementState::ManualReview).then_some(r)
    })
    .await
    .expect("the insurance requirement waits for a reviewer");
    let reason = match &requirement.results["rules"].outcome {
        Outcome::ManualReview { reason } => reason.clone(),
        other => panic!("{other:?}"),
    };
    assert!(reason.contains("altered"), "{reason}");
}

#[tokio::test]
async fn a_packet_declared_as_a_certificate_yields_the_certificate_and_names_its_page() {
    let file = "certificate-packet.pdf";
    let bytes = std::fs::read(corpus().join(file)).unwrap();
    let (_, doc) = read_through_the_stack("insurance_certificate", file, &bytes).await;
    assert_eq!(doc["status"], "extracted", "{doc}");
    assert_eq!(doc["extraction"]["pages"][0]["number"], 2, "{doc}");
    assert_eq!(doc["extraction"]["page_count"], 3);
    assert_eq!(doc["extraction"]["fields"]["insured_name"]["page"], 2);
    let wrong = wrong_fields(&doc, &corpus_entry(file)["expected"], &[]);
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Precision and recall over graded fields; the names of fields read wrong or missed.
#[derive(Default)]
struct Score {
    expected: usize,
    emitted: usize,
    correct: usize,
    misses: Vec<String>,
}

fn score(name: &str, doc: &Value, truth: &Truth, s: &mut Score) {
    let fields = &doc["extraction"]["fields"];
    for (field, want) in truth {
        let got = &fields[field];
        // Below the confidence a rule acts on, a value is not asserted.
        let asserted = got["confidence"]
            .as_f64()
            .is_some_and(|c| c >= domain::extraction::MIN_CONFIDENCE as f64);
        if want.is_some() {
            s.expected += 1;
        }
        if !asserted {
            if want.is_some() {
                s.misses.push(format!("{name}: {field} missing"));
            }
            continue;
        }
        s.emitted += 1;
        let value = got["value"].as_str().unwrap_or_default();
        if want
            .as_deref()
            .is_some_and(|w| reading::text::same_text(value, w))
        {
            s.correct += 1;
        } else {
            s.misses.push(format!("{name}: {field} wrong"));
        }
    }
}

#[tokio::test]
async fn real_certificates_w9s_and_licenses_read_to_their_ground_truth() {
    let Some(dir) = real_corpus() else {
        eprintln!(
            "\n!!!!! ../shared/corpus/real is not here: the real documents were NOT tested !!!!!\n"
        );
        return;
    };
    let documents = real_documents(&dir);
    assert!(documents.len() >= 9, "the real corpus has its documents");
    let runs = documents.iter().map(|(pdf, truth)| async move {
        let (kind, graded) = real_truth(truth);
        let name = pdf.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(pdf).unwrap();
        let (_, doc) = read_through_the_stack(kind, &name, &bytes).await;
        (name, kind, graded, doc)
    });
    let (mut text, mut ocr) = (Score::default(), Score::default());
    for (name, kind, graded, doc) in futures::future::join_all(runs).await {
        // Every real file is read: none refused, including the LiveCycle-filled one.
        assert_eq!(doc["status"], "extracted", "{name}: {}", doc["status"]);
        if name.contains("fernando") {
            assert_eq!(
                doc["disarmed"]["removed"][0], "JavaScript",
                "{name} is read from its disarmed derivative"
            );
        }
        if name.contains("parkcity") {
            assert!(
                problem_codes(&doc).contains(&"sample_document".to_owned()),
                "{name}: {:?}",
                problem_codes(&doc)
            );
        }
        if name.contains("usi_apogee") {
            assert!(
                problem_codes(&doc).contains(&"placeholder".to_owned()),
                "{name}"
            );
        }
        if name.starts_with("w9_blank") {
            assert!(
                doc["extraction"]["fields"].as_object().unwrap().is_empty(),
                "{name}: a blank form yields nothing"
            );
        }
        if kind == "license" {
            continue; // one rotated, sealed scan: reported by the bench, not gated here
        }
        let tier = if doc["extraction"]["method"] == "text_layer" {
            &mut text
        } else {
            &mut ocr
        };
        score(&name, &doc, &graded, tier);
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    eprintln!(
        "real documents: text layer {:.1}% precision / {:.1}% recall over {} fields; scans and outlined {:.1}% / {:.1}% over {}",
        pct(text.correct, text.emitted),
        pct(text.correct, text.expected),
        text.expected,
        pct(ocr.correct, ocr.emitted),
        pct(ocr.correct, ocr.expected),
        ocr.expected
    );
    assert!(
        pct(text.correct, text.expected) >= 95.0 && pct(text.correct, text.emitted) >= 98.0,
        "text layer: {:#?}",
        text.misses
    );
    assert!(
        pct(ocr.correct, ocr.expected) >= 85.0 && pct(ocr.correct, ocr.emitted) >= 95.0,
        "scans: {:#?}",
        ocr.misses
    );
}
