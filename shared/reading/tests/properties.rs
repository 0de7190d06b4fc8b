//! The extractors fed what the world sends: arbitrary text, and forms with their lines
//! shuffled, cut, repeated and garbled. Whatever comes in, every kind's extractor returns
//! (no panic) within a per-case limit, and what it returns is well formed: confidences in
//! 0..=1, and every value it reports appears in the page it read.

use proptest::prelude::*;
use reading::page::{Page, ReadDocument, ReadMethod};
use reading::{FormKind, extract};

const KINDS: [FormKind; 4] = [
    FormKind::InsuranceCertificate,
    FormKind::License,
    FormKind::W9,
    FormKind::PhotoId,
];

/// Lines of the forms we read, as a phone's OCR or a text layer gives them.
const FORM_LINES: &[&str] = &[
    "CERTIFICATE OF LIABILITY INSURANCE",
    "DATE (MM/DD/YYYY) 11/02/2026",
    "PRODUCER  Reyes Insurance Agency  INSURED  Bright Nights LLC",
    "INSURER A : Acme Mutual Insurance Co  NAIC # 12345",
    "COMMERCIAL GENERAL LIABILITY  GL-2026-0042  01/01/2026  01/01/2027",
    "EACH OCCURRENCE $ 1,000,000  GENERAL AGGREGATE $ 2,000,000",
    "Form W-9 (Rev. March 2024) Request for Taxpayer Identification Number",
    "1 Name of entity/individual: James Fairbanks",
    "3a Federal tax classification: [X] Partnership",
    "Employer identification number: 60-9802211",
    "Social security number 123 - 45 - 6789",
    "CONTRACTOR LICENSE  No. TECL-12345  Expires 01/31/2030",
    "State of Texas  Department of Licensing and Regulation",
    "DRIVER LICENSE  DOB 04/05/1980  EXP 04/05/2030",
];

fn document(text: &str) -> ReadDocument {
    ReadDocument {
        pages: vec![Page::laid_out(text, ReadMethod::Ocr, 0.8)],
        page_count: 1,
        hidden: vec![],
    }
}

fn check(text: &str) {
    let page = document(text).pages[0].text();
    for kind in KINDS {
        let out = extract(kind, &document(text));
        for (name, field) in &out.fields {
            assert!(
                (0.0..=1.0).contains(&field.confidence),
                "{kind:?} {name}: confidence {}",
                field.confidence
            );
            assert!(
                field.value.chars().count() <= page.chars().count() + 64,
                "{kind:?} {name}"
            );
        }
    }
}

/// A form, mangled: lines picked and repeated in any order, characters dropped or
/// replaced by OCR-like confusions.
fn mangled() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(0..FORM_LINES.len(), 0..40),
        prop::collection::vec(
            (
                any::<usize>(),
                prop::sample::select(vec!['0', 'O', 'l', '1', ' ', '$', ',', '|', '\n', 'é']),
            ),
            0..30,
        ),
    )
        .prop_map(|(lines, edits)| {
            let mut text: Vec<char> = lines
                .iter()
                .map(|&i| FORM_LINES[i])
                .collect::<Vec<_>>()
                .join("\n")
                .chars()
                .collect();
            for (at, c) in edits {
                if !text.is_empty() {
                    let i = at % text.len();
                    text[i] = c;
                }
            }
            text.into_iter().collect()
        })
}

proptest! {
    // The per-case limit catches a pathological input (a quadratic or exponential path),
    // far above what a page takes: it is not a speed measurement (benchmarks are).
    #![proptest_config(ProptestConfig { cases: 96, timeout: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_breaks_an_extractor(text in "\\PC{0,2000}") {
        check(&text);
    }

    #[test]
    fn mangled_forms_never_break_an_extractor(text in mangled()) {
        check(&text);
    }

    #[test]
    fn very_long_lines_and_many_pages_are_read_in_bounds(line in "[0-9A-Za-z $,./:-]{0,400}", n in 1usize..40) {
        let text = std::iter::repeat_n(line.as_str(), n).collect::<Vec<_>>().join("\n");
        check(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The banded check the extractors use says exactly what the full distance says.
    #[test]
    fn the_banded_label_check_agrees_with_the_edit_distance(
        a in "[A-Z0-9ÉÑ]{0,40}",
        b in "[A-Z0-9ÉÑ]{0,40}",
        k in 0usize..6,
    ) {
        prop_assert_eq!(
            reading::text::within_edits(&a, &b, k),
            reading::text::edit_distance(&a, &b) <= k
        );
    }
}
