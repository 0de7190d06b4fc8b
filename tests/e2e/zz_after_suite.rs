//! Checks over what the whole suite left behind: every item in the table and every object
//! version in the bucket is one the data map names (`store::data_map`), and no function
//! logged a test contractor's personal data.
//!
//! Named to sort last: libtest starts tests in name order, so when these start every
//! other test has started and, on the suite's thread count, all but at most one have
//! finished. They hold for whatever has been written by then, so a test still running
//! can only make them check less, never fail wrongly.

use aws_sdk_dynamodb::types::AttributeValue;
use e2e_tests::product;
use e2e_tests::truth::{real_corpus, real_documents, real_truth};
use store::data_map::item_kind;

#[tokio::test]
async fn zz_every_stored_item_and_object_is_in_the_data_map() {
    let stack = product();
    let aws = stack.aws().await;
    let mut unknown_items = std::collections::BTreeSet::new();
    let stored = stack.scan_table().await;
    let items = stored.len();
    for item in &stored {
        let key = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s)) => s.clone(),
            other => format!("{other:?}"),
        };
        let (pk, sk) = (key("pk"), key("sk"));
        if item_kind(&pk, &sk).is_none() {
            // The shape only: ids replaced, so the message names the kind of item.
            unknown_items.insert(format!("{} / {}", shape(&pk), shape(&sk)));
        }
    }

    let listed = store::subject::object_versions(&aws.s3(), &stack.refs["DocumentsBucket"], "")
        .await
        .expect("ListObjectVersions");
    let versions = listed.len();
    let unknown_objects: std::collections::BTreeSet<String> = listed
        .iter()
        .filter(|o| o.holding.is_none())
        .map(|o| shape(&o.key))
        .collect();
    assert!(items > 100, "the suite stored things ({items} items)");
    assert!(
        versions > 10,
        "the suite uploaded files ({versions} versions)"
    );
    assert!(
        unknown_items.is_empty() && unknown_objects.is_empty(),
        "stored but not in the data map (store::data_map, docs/privacy.md):\nitems: {unknown_items:#?}\nobjects: {unknown_objects:#?}"
    );
}

/// A key with its ids and free parts replaced by `<…>`, for messages.
fn shape(key: &str) -> String {
    key.split(['#', '/'])
        .map(|part| {
            let id = ["ctr_", "doc_", "evt_", "ntf_"]
                .iter()
                .any(|p| part.starts_with(p));
            if id || part.chars().filter(|c| c.is_ascii_digit()).count() > 3 || part.len() > 24 {
                "<…>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Personal data the suite's contractors give (registration, wizard steps, the bank
/// sandbox's account and routing numbers), in every form it is typed or stored in clear.
const SUITE_PERSONAL_DATA: &[&str] = &[
    "Dana Reyes",
    "Nancy Brennan",
    "dana@brightnights.example",
    "dana+",
    "nancy@aurora.example",
    "555-0142",
    "5550142",
    "12-3456789",
    "123456789",
    "219-09-9999",
    "219099999",
    "000-12-3456",
    "000123456",
    "1 Market St",
    "1 Main St",
    "1 Elm St",
    "111122223333",
    "011401533",
];

#[tokio::test]
async fn zz_no_log_line_holds_a_contractors_personal_data() {
    // The stack must have run (and logged) for the check to mean anything.
    product();
    // moto's account id (in every ARN and the bucket's name) holds the EIN's digits.
    let logs = e2e_tests::captured_logs().replace("123456789012", "<account>");
    assert!(
        logs.lines().count() > 1000,
        "the suite's functions logged ({} lines)",
        logs.lines().count()
    );
    let mut found: Vec<String> = SUITE_PERSONAL_DATA
        .iter()
        .filter(|v| logs.contains(*v))
        .map(|v| format!("suite value #{}", position(v)))
        .collect();
    // What people wrote on the real documents: names, addresses, TINs, license and
    // policy numbers. Reported by document and field, never by value.
    if let Some(dir) = real_corpus() {
        for (pdf, truth) in real_documents(&dir) {
            let (_, fields) = real_truth(&truth);
            for (field, value) in fields {
                let personal = [
                    "name",
                    "business_name",
                    "tin",
                    "address",
                    "licensee",
                    "license_number",
                    "insured_name",
                ]
                .contains(&field.as_str())
                    || field.ends_with("policy_number");
                let Some(value) = value.filter(|v| personal && v.trim().len() >= 6) else {
                    continue;
                };
                if logs.contains(value.trim()) {
                    let name = pdf.file_name().unwrap_or_default().to_string_lossy();
                    found.push(format!("{name}: {field}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "personal data in the functions' logs: {found:?}"
    );
}

fn position(value: &str) -> usize {
    SUITE_PERSONAL_DATA
        .iter()
        .position(|v| *v == value)
        .unwrap_or(usize::MAX)
}
