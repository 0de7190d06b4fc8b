//! A W-9 (revisions 2013 to 2024, and the layouts agencies retype it in) read by its
//! printed labels: each value is what is written right of its label or in the box below
//! it, up to the next label. The form's own printed words are never a value, so a blank form
//! yields nothing.

use std::sync::LazyLock;

use regex::Regex;

use crate::fields::{Fields, Spot};
use crate::layout::{Match, find, find_exact, starts_segment, words_in};
use crate::page::{Line, Page, Rect, Word, lines};
use crate::text::{collapse, fix_digits, re, squash};

/// The labels whose boxes hold the values, in every revision's wording.
const NAME: &[&str] = &[
    "Name of entity/individual",
    "Name (as shown on your income tax return)",
];
const BUSINESS: &[&str] = &["Business name/disregarded entity name"];
const CLASSIFICATION: &[&str] = &[
    "Check the appropriate box for federal tax classification",
    "Check appropriate box for federal tax classification",
    "Federal tax classification",
];
const ADDRESS: &[&str] = &["Address (number, street, and apt. or suite no.)", "Address"];
const CITY: &[&str] = &["City, state, and ZIP code"];
const ACCOUNTS: &[&str] = &["List account number(s) here"];
const RIGHT_COLUMN: &[&str] = &[
    "Exemptions",
    "Requester's name and address",
    "Requester’s name and address",
];

/// Words the form itself prints in and around the boxes: never a value.
const PRINTED: &[&str] = &[
    "if different from above",
    "An entry is required",
    "For a sole proprietor or disregarded entity, enter the owner's name on line 1, and enter the business/disregarded entity's name on line 2",
    "entity's name on line 2.)",
    "Do not leave this line blank",
    "See Specific Instructions on page",
    "Print or type",
    "See instructions",
    "Check only one of the following seven boxes",
    "only one of the following seven boxes",
    "of the entity/individual whose name is entered on line 1",
    "Requester's name and address (optional)",
    "optional",
];

const TAX_CLASSES: [(&str, &[&str]); 7] = [
    (
        "Individual/sole proprietor",
        &[
            "Individual/sole proprietor",
            "Individual/sole proprietor or single-member LLC",
        ],
    ),
    ("C Corporation", &["C Corporation"]),
    ("S Corporation", &["S Corporation"]),
    ("Partnership", &["Partnership"]),
    ("Trust/estate", &["Trust/estate"]),
    (
        "Limited liability company",
        &["Limited liability company", "LLC"],
    ),
    ("Other", &["Other (see instructions)", "Other"]),
];

fn is_printed(text: &str) -> bool {
    let t = squash(&text.replace('’', "'"));
    !t.is_empty()
        && PRINTED.iter().any(|p| {
            let p = squash(p);
            p.contains(&t) || (t.len() >= 8 && t.contains(&p))
        })
}

fn label<'a>(ls: &[Line<'a>], phrases: &[&str]) -> Option<Match<'a>> {
    phrases.iter().find_map(|p| find(ls, p).into_iter().next())
}

pub fn read(page: &Page, out: &mut Fields) {
    let ls = page.lines();
    let lh = page.line_height();
    let name = label(&ls, NAME);
    let business = label(&ls, BUSINESS);
    let class = label(&ls, CLASSIFICATION);
    let address =
        label(&ls, ADDRESS).filter(|m| name.as_ref().is_none_or(|n| m.rect.y0 > n.rect.y0));
    let city = label(&ls, CITY);
    let accounts = label(&ls, ACCOUNTS);
    let right = RIGHT_COLUMN
        .iter()
        .flat_map(|p| find(&ls, p))
        .filter(|m| {
            name.as_ref()
                .is_none_or(|n| m.rect.x0 > n.rect.x0 + 10.0 * lh)
        })
        .map(|m| m.rect.x0)
        .fold(page.width, f32::min);
    // Each box runs from its label to the next label below it.
    let mut tops: Vec<f32> = [&name, &business, &class, &address, &city, &accounts]
        .iter()
        .filter_map(|m| m.as_ref().map(|m| m.rect.y0))
        .collect();
    // The boxes of the left column end where Part I and the TIN boxes begin.
    for end in [
        "Taxpayer Identification Number (TIN)",
        "Social security number",
        "Employer identification number",
        "Part I",
        "Certification",
    ] {
        tops.extend(find(&ls, end).into_iter().map(|m| m.rect.y0));
    }
    tops.sort_by(|a, b| a.total_cmp(b));
    let next_top = |y: f32| {
        tops.iter()
            .copied()
            .find(|t| *t > y + 0.3 * lh)
            .unwrap_or(y + 4.0 * lh)
    };
    let value = |m: &Option<Match>| -> Option<(String, Spot)> {
        let m = m.as_ref()?;
        let region = Rect::new(
            m.rect.x0 - lh,
            m.rect.y0 - 0.3 * lh,
            right - 0.5 * lh,
            next_top(m.rect.y0) - 0.2 * lh,
        );
        let words: Vec<&Word> = words_in(page, region, &m.words)
            .into_iter()
            // Right of the label on its own line, or below it.
            .filter(|w| w.rect.y0 >= m.rect.y1 - 0.3 * lh || w.rect.x0 >= m.rect.x1 - 0.5)
            .collect();
        let mut kept: Vec<&Word> = Vec::new();
        let mut text = Vec::new();
        for l in lines(words.iter().copied()) {
            let t = collapse(&l.plain());
            // The label's own wording (what follows its first words) is not a value.
            if t.is_empty()
                || is_printed(&t)
                || l.words
                    .iter()
                    .all(|w| m.rect.v_overlap(&w.rect) >= 0.5 && is_label_tail(&t))
            {
                continue;
            }
            text.push(t);
            kept.extend(l.words.iter().copied());
        }
        let spot = Spot::of(page, &kept)?;
        Some((text.join(", "), spot))
    };
    if let Some((v, s)) = value(&name) {
        out.read("name", v, s, 1.0);
    }
    if let Some((v, s)) = value(&business) {
        out.read("business_name", v, s, 1.0);
    }
    match (value(&address), value(&city)) {
        (Some((street, s1)), Some((cityline, s2))) => {
            let spot = Spot {
                page: page.number,
                rect: s1.rect.union(&s2.rect),
                confidence: s1.confidence.min(s2.confidence),
            };
            out.read("address", format!("{street}, {cityline}"), spot, 1.0);
            out.read("city_state_zip", cityline, s2, 1.0);
        }
        (Some((street, s)), None) => out.read("address", street, s, 0.9),
        _ => {}
    }
    classification(page, &ls, class.as_ref(), lh, out);
    tin(page, &ls, lh, out);
}

/// Text that only continues a label's printed sentence (starts lowercase, or is
/// parenthesised): instructions, not a value.
fn is_label_tail(t: &str) -> bool {
    t.starts_with('(') || t.starts_with(|c: char| c.is_lowercase()) || t.starts_with('.')
}

fn is_mark(t: &str) -> bool {
    matches!(
        t.trim_matches(|c: char| matches!(c, '[' | ']' | '|' | '(' | ')')),
        "X" | "x" | "✖" | "✔" | "✓" | "☒" | "■" | "☑"
    )
}

/// The ticked tax classification box (and an LLC's code).
fn classification(page: &Page, ls: &[Line], class: Option<&Match>, lh: f32, out: &mut Fields) {
    let below = class.map_or(0.0, |c| c.rect.y0 - 0.5 * lh);
    let mut found: Option<(&str, Spot, f32)> = None;
    for (name, labels) in TAX_CLASSES {
        for l in labels {
            for m in find_exact(ls, l) {
                if m.rect.y0 < below || class.is_some_and(|c| m.rect.y0 > c.rect.y1 + 10.0 * lh) {
                    continue;
                }
                let mark = page.words.iter().find(|w| {
                    is_mark(&w.text)
                        && w.rect.v_overlap(&m.rect) >= 0.4
                        && w.rect.x1 <= m.rect.x0 + 0.5
                        && m.rect.x0 - w.rect.x1 < 3.0 * lh
                });
                if let Some(w) = mark {
                    let spot = Spot::of(page, &[w]).expect("word");
                    // The longest label wins ("S Corporation" over "Corporation").
                    let len = squash(l).len() as f32;
                    if found.as_ref().is_none_or(|(_, _, n)| len > *n) {
                        found = Some((name, spot, len));
                    }
                    if name == "Limited liability company" {
                        llc_code(page, &m, lh, out);
                    }
                }
            }
        }
    }
    if let Some((name, spot, _)) = found {
        out.read("tax_classification", name, spot, 1.0);
    }
}

/// The code written after "P=partnership)" on the LLC line.
fn llc_code(page: &Page, m: &Match, lh: f32, out: &mut Fields) {
    let line: Vec<&Word> = page
        .words
        .iter()
        .filter(|w| w.rect.v_overlap(&m.rect) >= 0.5 && w.rect.x0 > m.rect.x1)
        .collect();
    let Some(close) = line
        .iter()
        .position(|w| squash(&w.text).ends_with("PARTNERSHIP") && w.text.contains(')'))
    else {
        return;
    };
    let code = line[close + 1..]
        .iter()
        .filter(|w| w.rect.x0 - line[close].rect.x1 < 20.0 * lh)
        .find(|w| matches!(w.text.trim(), "C" | "S" | "P"));
    if let Some(w) = code {
        out.read(
            "llc_tax_classification_code",
            w.text.trim(),
            Spot::of(page, &[w]).expect("word"),
            1.0,
        );
    }
}

/// The TIN from the SSN or EIN boxes: the digits written there, however spaced.
fn tin(page: &Page, ls: &[Line], lh: f32, out: &mut Fields) {
    static SSN: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{3})(\d{2})(\d{4})$"));
    static EIN: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{2})(\d{7})$"));
    for (label, kind) in [
        ("Social security number", "ssn"),
        ("Employer identification number", "ein"),
    ] {
        let Some(m) = find(ls, label)
            .into_iter()
            .find(|m| starts_segment(page, m))
        else {
            continue;
        };
        let region = Rect::new(
            m.rect.x0 - 2.0 * lh,
            m.rect.y0 - 0.3 * lh,
            page.width,
            m.rect.y1 + 3.5 * lh,
        );
        let words: Vec<&Word> = words_in(page, region, &m.words)
            .into_iter()
            .filter(|w| w.rect.y0 >= m.rect.y1 - 0.3 * lh || w.rect.x0 >= m.rect.x1 - 0.5)
            .filter(|w| w.text.chars().any(|c| c.is_ascii_alphanumeric()))
            .collect();
        // Only the first line of digits under (or beside) the label.
        let Some(first_line) = lines(words.iter().copied()).into_iter().find(|l| {
            l.words
                .iter()
                .any(|w| w.text.chars().any(|c| c.is_ascii_digit()))
        }) else {
            continue;
        };
        let raw: String = first_line.words.iter().map(|w| w.text.as_str()).collect();
        let (fixed_raw, fixed) = fix_digits(&raw);
        let digits: String = fixed_raw.chars().filter(char::is_ascii_digit).collect();
        let formatted = match kind {
            "ssn" => SSN
                .captures(&digits)
                .map(|c| format!("{}-{}-{}", &c[1], &c[2], &c[3])),
            _ => EIN
                .captures(&digits)
                .map(|c| format!("{}-{}", &c[1], &c[2])),
        };
        if let Some(v) = formatted {
            let spot = Spot::of(page, &first_line.words).expect("words");
            out.read("tin_type", kind, spot, 1.0);
            out.read("tin", v, spot, if fixed { 0.7 } else { 1.0 });
        }
    }
}
