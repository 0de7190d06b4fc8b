//! What extraction gives: fields with a confidence and the spot on the page they were read
//! from, and problems said so that the contractor (or a reviewer) can act on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::page::{Page, ReadMethod, Rect, Word};
use crate::text::collapse;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub value: String,
    /// 0–1: the reader's confidence in the words times the parser's in the reading.
    pub confidence: f32,
    /// The page the value was read from (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Where on that page, in points from the top-left corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<Rect>,
}

impl ExtractedField {
    /// A value read from nowhere in particular (typed, or from a test).
    pub fn new(value: impl Into<String>, confidence: f32) -> ExtractedField {
        ExtractedField {
            value: value.into(),
            confidence,
            page: None,
            rect: None,
        }
    }
}

/// A problem with the document or one of its fields: a stable code and a sentence for a
/// person; where on the page it is, when it is somewhere.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    /// `missing`, `low_confidence`, `no_text`, `possible_alteration`, `kind_not_found`,
    /// `placeholder`, `sample_document`, ...
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<Rect>,
}

impl FieldProblem {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
            page: None,
            rect: None,
        }
    }

    pub fn at(mut self, page: u32, rect: Rect) -> FieldProblem {
        self.page = Some(page);
        self.rect = Some(rect.rounded());
        self
    }
}

/// A page the fields were read from, so a viewer can draw the boxes on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageUsed {
    pub number: u32,
    pub width: f32,
    pub height: f32,
    pub method: ReadMethod,
}

impl PageUsed {
    pub fn of(page: &Page) -> PageUsed {
        PageUsed {
            number: page.number,
            width: page.width,
            height: page.height,
            method: page.method,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub method: ReadMethod,
    pub fields: BTreeMap<String, ExtractedField>,
    pub problems: Vec<FieldProblem>,
    /// The pages the fields come from (a packet's other pages are not among them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageUsed>,
    /// Pages in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
}

/// Every problem code extraction gives (the TIN's own checks add `invalid_tin`,
/// `invalid_ein` and `invalid_ssn`), as the API documents them.
pub const PROBLEM_CODES: [&str; 10] = [
    "missing",
    "low_confidence",
    "no_text",
    "kind_not_found",
    "placeholder",
    "sample_document",
    "possible_alteration",
    "invalid_tin",
    "invalid_ein",
    "invalid_ssn",
];

/// Below this a field is too doubtful to act on: a required one is reported, and rules do
/// not take it as read.
pub const MIN_CONFIDENCE: f32 = 0.6;

/// Where a value was read: its page and the words it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    pub page: u32,
    pub rect: Rect,
    /// The lowest confidence of the words.
    pub confidence: f32,
}

impl Spot {
    pub fn of(page: &Page, words: &[&Word]) -> Option<Spot> {
        let first = words.first()?;
        let rect = words.iter().fold(first.rect, |r, w| r.union(&w.rect));
        let confidence = words.iter().map(|w| w.confidence).fold(1.0, f32::min);
        Some(Spot {
            page: page.number,
            rect,
            confidence,
        })
    }
}

/// Fields as a parser finds them.
#[derive(Debug, Default)]
pub struct Fields(pub BTreeMap<String, ExtractedField>);

impl Fields {
    /// Keeps `value` for `name`, read at `spot`, unless an earlier reading is at least as
    /// sure; `factor` is the parser's own certainty, multiplied with the words' confidence.
    pub fn read(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        spot: Spot,
        factor: f32,
    ) {
        let confidence = spot.confidence * factor;
        let value = collapse(&value.into());
        if value.is_empty() {
            return;
        }
        let name = name.into();
        if self
            .0
            .get(&name)
            .is_some_and(|f| f.confidence >= confidence)
        {
            return;
        }
        self.0.insert(
            name,
            ExtractedField {
                value,
                confidence: confidence.clamp(0.0, 1.0),
                page: Some(spot.page),
                rect: Some(spot.rect.rounded()),
            },
        );
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|f| f.value.as_str())
    }
}
