//! Which form a page is: a packet (one PDF with a certificate, a license and more) is read
//! page by page, and only the pages of the kind the contractor declared are used.

use serde::{Deserialize, Serialize};

use crate::page::Page;
use crate::text::squash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    InsuranceCertificate,
    License,
    W9,
    PhotoId,
}

impl FormKind {
    pub fn described(self) -> &'static str {
        match self {
            FormKind::InsuranceCertificate => "a certificate of insurance",
            FormKind::License => "a contractor license",
            FormKind::W9 => "a W-9",
            FormKind::PhotoId => "a photo ID",
        }
    }
}

/// Printed phrases that mark each form (letters and digits only).
const MARKERS: [(FormKind, &[&str], usize); 3] = [
    (
        FormKind::InsuranceCertificate,
        &[
            "CERTIFICATEOFLIABILITYINSURANCE",
            "PRODUCER",
            "INSURED",
            "INSURERA",
            "POLICYNUMBER",
            "CERTIFICATEHOLDER",
            "COVERAGES",
            "NAIC",
            "EACHOCCURRENCE",
            "GENERALAGGREGATE",
        ],
        4,
    ),
    (
        FormKind::W9,
        &[
            "W9",
            "REQUESTFORTAXPAYER",
            "IDENTIFICATIONNUMBERANDCERTIFICATION",
            "FEDERALTAXCLASSIFICATION",
            "BUSINESSNAMEDISREGARDEDENTITYNAME",
            "EMPLOYERIDENTIFICATIONNUMBER",
            "SOCIALSECURITYNUMBER",
            "PRINTORTYPE",
        ],
        4,
    ),
    (
        FormKind::License,
        &[
            "LICENSE",
            "LICENCE",
            "LICENSEE",
            "REGISTRATION",
            "EXPIRATION",
            "EXPIRES",
            "CLASSIFICATION",
            "BOARD",
            "DEPARTMENTOF",
            "STATEOF",
        ],
        2,
    ),
];

/// How strongly a page reads as each form: the number of its markers printed on it.
pub fn scores(page: &Page) -> Vec<(FormKind, usize)> {
    let text = squash(&page.text());
    MARKERS
        .iter()
        .map(|(kind, markers, _)| (*kind, markers.iter().filter(|m| text.contains(*m)).count()))
        .collect()
}

/// The form a page is, when its markers say so clearly.
pub fn classify(page: &Page) -> Option<FormKind> {
    let s = scores(page);
    // A certificate also says "license" in its remarks: the surest kind wins (the share of
    // its markers printed), the first listed when tied.
    let mut best: Option<(f32, FormKind)> = None;
    for ((kind, markers, min), (_, n)) in MARKERS.iter().zip(&s) {
        if n < min {
            continue;
        }
        let share = *n as f32 / markers.len() as f32;
        if best.is_none_or(|(b, _)| share > b) {
            best = Some((share, *kind));
        }
    }
    best.map(|(_, k)| k)
}
