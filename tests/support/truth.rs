//! The ground truth of the real documents in `../shared/corpus/real` (made by others, read
//! off the page by a person; see its README), as extraction names the fields. Read from
//! there, never copied into the repository; their contents are never printed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// One document's graded fields: `Some(value)` to be read, `None` to be left empty (a blank
/// or placeholder box: reading anything there is an error).
pub type Truth = BTreeMap<String, Option<String>>;

/// The real corpus beside the repository, when it is there (CI has it).
pub fn real_corpus() -> Option<PathBuf> {
    let dir = crate::repo_root().join("../shared/corpus/real");
    dir.is_dir().then_some(dir)
}

/// The real documents: each PDF with its truth file.
pub fn real_documents(dir: &std::path::Path) -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "pdf"));
    files.sort();
    files
        .into_iter()
        .filter_map(|pdf| {
            let truth = std::fs::read(pdf.with_extension("truth.json")).ok()?;
            Some((pdf, serde_json::from_slice(&truth).ok()?))
        })
        .collect()
}

/// The fields a real document's truth file grades, as extraction names them.
pub fn real_truth(truth: &Value) -> (&'static str, Truth) {
    let s = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "Y" } else { "N" }.to_owned()),
        _ => None,
    };
    let mut t = Truth::new();
    match truth["doc_type"].as_str().unwrap_or_default() {
        "irs_w9" => {
            t.insert("name".into(), s(&truth["name"]));
            t.insert("business_name".into(), s(&truth["business_name"]));
            let class = truth["tax_classification"].as_str().map(|c| {
                match c {
                    "llc" => "Limited liability company",
                    "individual" => "Individual/sole proprietor",
                    "c_corporation" => "C Corporation",
                    "s_corporation" => "S Corporation",
                    "partnership" => "Partnership",
                    "trust" => "Trust/estate",
                    other => other,
                }
                .to_owned()
            });
            t.insert("tax_classification".into(), class);
            t.insert("tin".into(), s(&truth["tin"]).or(s(&truth["ssn"])));
            let address = match (s(&truth["address"]), s(&truth["city_state_zip"])) {
                (Some(a), Some(c)) => Some(format!("{a}, {c}")),
                _ => None,
            };
            t.insert("address".into(), address);
            ("w9", t)
        }
        "contractor_license" => {
            t.insert("license_number".into(), s(&truth["license_number"]));
            t.insert("licensee".into(), s(&truth["holder_name"]));
            t.insert("state".into(), s(&truth["jurisdiction"]));
            t.insert("expiry".into(), s(&truth["expiration_date"]));
            ("license", t)
        }
        _ => {
            t.insert("certificate_date".into(), s(&truth["certificate_date"]));
            t.insert(
                "insured_name".into(),
                truth["insured"].get("name").and_then(s),
            );
            for i in truth["insurers"].as_array().into_iter().flatten() {
                let l = i["letter"].as_str().unwrap_or("?").to_ascii_lowercase();
                t.insert(format!("insurer_{l}.name"), s(&i["name"]));
                t.insert(format!("insurer_{l}.naic"), s(&i["naic"]));
            }
            for (cov, c) in truth["coverages"].as_object().into_iter().flatten() {
                for (ours, theirs) in [
                    ("insurer", "insurer_letter"),
                    ("policy_number", "policy_number"),
                    ("effective", "effective_date"),
                    ("expiry", "expiration_date"),
                    ("each_occurrence", "each_occurrence"),
                    ("general_aggregate", "general_aggregate"),
                    ("combined_single_limit", "combined_single_limit"),
                    ("aggregate", "aggregate"),
                    ("each_accident", "el_each_accident"),
                ] {
                    if c.get(theirs).is_some() {
                        t.insert(format!("{cov}.{ours}"), s(&c[theirs]));
                    }
                }
            }
            let holder = &truth["certificate_holder"];
            let placeholder = holder["is_placeholder"].as_bool().unwrap_or(false);
            t.insert(
                "certificate_holder".into(),
                if placeholder {
                    None
                } else {
                    holder.get("name").and_then(s)
                },
            );
            ("insurance_certificate", t)
        }
    }
}
