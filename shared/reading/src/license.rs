//! A contractor license card or certificate of registration: licensee, business, number,
//! classification, expiry and the issuing state (from `STATE OF …`, a `State:` line, or
//! the agency's name).

use std::sync::LazyLock;

use regex::Regex;

use crate::fields::{Fields, Spot};
use crate::page::{Line, Page};
use crate::text::{collapse, dates, long_dates, re, squash};

const STATES: [(&str, &str); 10] = [
    ("CALIFORNIA", "CA"),
    ("TEXAS", "TX"),
    ("FLORIDA", "FL"),
    ("ARIZONA", "AZ"),
    ("COLORADO", "CO"),
    ("NEVADA", "NV"),
    ("OREGON", "OR"),
    ("WASHINGTON", "WA"),
    ("GEORGIA", "GA"),
    ("TENNESSEE", "TN"),
];

/// Licensing agencies named without their state.
const AGENCIES: [(&str, &str); 4] = [
    ("CONTRACTORSSTATELICENSEBOARD", "CA"),
    ("DEPARTMENTOFLICENSINGANDREGULATION", "TX"),
    ("DEPARTMENTOFBUSINESSANDPROFESSIONALREGULATION", "FL"),
    ("TEXASDEPARTMENTOFINSURANCE", "TX"),
];

/// The text after `label` on `line`, if the line has it.
fn after<'a>(line: &'a str, label: &Regex) -> Option<&'a str> {
    label.find(line).map(|m| &line[m.end()..])
}

struct Text<'a> {
    page: &'a Page,
    lines: Vec<Line<'a>>,
}

impl Text<'_> {
    /// The first line carrying `label`, with its value (the rest of the line, or the next
    /// line when the label ends its line) and where it is.
    fn labelled(&self, label: &Regex) -> Option<(String, Spot)> {
        for (i, l) in self.lines.iter().enumerate() {
            let text = l.text();
            let Some(rest) = after(&text, label) else {
                continue;
            };
            let value = collapse(rest.split("   ").next().unwrap_or_default());
            if !value.is_empty() {
                return Some((value, Spot::of(self.page, &l.words)?));
            }
            let next = self.lines.get(i + 1)?;
            return Some((collapse(&next.text()), Spot::of(self.page, &next.words)?));
        }
        None
    }
}

pub fn read(page: &Page, out: &mut Fields) {
    static LICENSEE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)(?:LICEN[SC]EE|ISSUED\s*TO)\s*[:;.]?\s*"));
    static BUSINESS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)BUSINESS\s*NAME\s*[:;.]?\s*"));
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)(?:LICEN[SC]E|REGISTRATION|CERTIFICATE)\s*(?:NO|N0|NUMBER|#)\.?\s*[:;.]?\s*")
    });
    static CLASS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)CLASSIFICATIONS?\s*[:;.]?\s*"));
    static EXPIRES: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)(?:EXPIRES|EXPIRATION(?:\s*DATE)?|EXP\.?)\s*[:;.]?\s*"));
    static SPACED_DATE: LazyLock<Regex> =
        LazyLock::new(|| re(r"\b(\d{1,2})\s+(\d{1,2})\s+(\d{4})\b"));
    static STATE_OF: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)STATE\s*OF\s*([A-Z]+)"));
    static STATE_CODE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)(?:ISSUING\s+)?STATE\s*[:;]\s*([A-Z]{2})\b"));
    static NUMBER_SHAPE: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z]{1,5}-?\d{4,}$"));

    let t = Text {
        page,
        lines: page.lines(),
    };
    if let Some((v, s)) = t.labelled(&LICENSEE) {
        out.read("licensee", v, s, 1.0);
    }
    if let Some((v, s)) = t.labelled(&BUSINESS) {
        out.read("business_name", v, s, 1.0);
    }
    if let Some((v, s)) = t.labelled(&NUMBER) {
        // OCR may split a letter prefix from the digits ("EC 13005837").
        let mut tokens = v.split_whitespace();
        let mut number = tokens.next().unwrap_or_default().to_owned();
        if number.len() <= 4
            && number.chars().all(|c| c.is_ascii_uppercase())
            && let Some(digits) = tokens
                .next()
                .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        {
            number.push_str(digits);
        }
        if number.chars().any(|c| c.is_ascii_digit()) {
            out.read("license_number", number, s, 1.0);
        }
    }
    if out.get("license_number").is_none() {
        // A registration number standing alone in its shape (`ECR-2858889`).
        if let Some(w) = page
            .words
            .iter()
            .find(|w| NUMBER_SHAPE.is_match(w.text.trim()))
        {
            out.read(
                "license_number",
                w.text.trim(),
                Spot::of(page, &[w]).expect("word"),
                0.85,
            );
        }
    }
    if let Some((v, s)) = t.labelled(&CLASS) {
        out.read("classifications", v, s, 1.0);
    }
    if let Some((v, s)) = t.labelled(&EXPIRES) {
        if let Some((d, f)) = dates(&v).into_iter().next() {
            out.read("expiry", d, s, f);
        } else if let Some(c) = SPACED_DATE.captures(&v)
            && let Some(d) = chrono::NaiveDate::from_ymd_opt(
                c[3].parse().unwrap_or(0),
                c[1].parse().unwrap_or(0),
                c[2].parse().unwrap_or(0),
            )
        {
            out.read("expiry", d.format("%Y-%m-%d").to_string(), s, 0.9);
        } else if let Some(d) = long_dates(&v).into_iter().next() {
            out.read("expiry", d, s, 1.0);
        }
    }
    for l in &t.lines {
        let text = l.text();
        let sq = squash(&text);
        let named = |name: &str| STATES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
        let code = STATE_CODE
            .captures(&text)
            .map(|c| c[1].to_ascii_uppercase())
            .and_then(|c| STATES.iter().find(|(_, s)| *s == c).map(|(_, s)| *s))
            .or_else(|| {
                STATE_OF
                    .captures(&text)
                    .and_then(|c| named(&c[1].to_ascii_uppercase()))
            })
            // "Texas Department of Licensing and Regulation"
            .or_else(|| {
                STATES
                    .iter()
                    .find(|(n, _)| sq.starts_with(n) && sq[n.len()..].starts_with("DEPARTMENT"))
                    .map(|(_, c)| *c)
            })
            .or_else(|| {
                AGENCIES
                    .iter()
                    .find(|(a, _)| sq.contains(a))
                    .map(|(_, c)| *c)
            });
        if let Some(code) = code {
            out.read("state", code, Spot::of(page, &l.words).expect("words"), 1.0);
            break;
        }
    }
}
