//! Field extraction from a document's text, per kind: an ACORD 25 certificate of insurance,
//! a state contractor license card, a W-9. The text comes from a PDF's text layer or from
//! OCR, as lines with a confidence each; the parsers tolerate OCR's usual slips (`O` for `0`,
//! `S` for `$`, labels run together) and say how sure they are of every field. Missing or
//! doubtful required fields become problems the contractor can act on.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::documents::DocumentKind;

/// How the text was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMethod {
    /// The PDF's own text layer: exact.
    TextLayer,
    /// Optical character recognition of an image or an image-only PDF.
    Ocr,
}

/// One line of text as read, with how sure the reader is of it (0–1).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub text: String,
    pub confidence: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReadText {
    pub method: ReadMethod,
    pub lines: Vec<Line>,
}

impl ReadText {
    /// Characters that are not whitespace: an image-only PDF has (almost) none.
    pub fn visible_chars(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.text.chars().filter(|c| !c.is_whitespace()).count())
            .sum()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtractedField {
    pub value: String,
    /// 0–1: the reader's confidence in the line times the parser's in the value.
    pub confidence: f32,
}

/// A required field that is missing or too doubtful to use, said so the contractor can fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    /// `missing` or `low_confidence`.
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    pub method: ReadMethod,
    pub fields: BTreeMap<String, ExtractedField>,
    pub problems: Vec<FieldProblem>,
}

/// Below this a required field is reported as doubtful.
pub const MIN_CONFIDENCE: f32 = 0.6;

/// Extracts the fields of `kind` from `text`. Photo IDs carry no fields we use (identity is
/// checked by a person or an identity provider), so their extraction is empty.
pub fn extract(kind: DocumentKind, text: &ReadText) -> Extraction {
    let mut out = Fields::default();
    match kind {
        DocumentKind::InsuranceCertificate => coi(&text.lines, &mut out),
        DocumentKind::License => license(&text.lines, &mut out),
        DocumentKind::W9 => w9(&text.lines, &mut out),
        DocumentKind::PhotoId => {}
    }
    let mut problems = Vec::new();
    if kind != DocumentKind::PhotoId && text.visible_chars() < 20 {
        problems.push(FieldProblem {
            field: "document".into(),
            code: "no_text".into(),
            message: "We could not read any text in this file. Upload the PDF from the issuer or a sharp, well-lit photo of the whole page.".into(),
        });
    } else {
        for (field, what) in required(kind) {
            match out.0.get(*field) {
                None => problems.push(FieldProblem {
                    field: (*field).into(),
                    code: "missing".into(),
                    message: format!(
                        "{what} not found — upload a clearer photo or the original PDF."
                    ),
                }),
                Some(f) if f.confidence < MIN_CONFIDENCE => problems.push(FieldProblem {
                    field: (*field).into(),
                    code: "low_confidence".into(),
                    message: format!(
                        "{what} unreadable — upload a clearer photo or the original PDF."
                    ),
                }),
                Some(_) => {}
            }
        }
    }
    Extraction {
        method: text.method,
        fields: out.0,
        problems,
    }
}

/// Fields each kind must yield, with how to name them to a person.
pub fn required(kind: DocumentKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        DocumentKind::InsuranceCertificate => &[
            ("insured_name", "The insured's name"),
            (
                "general_liability.policy_number",
                "The general liability policy number",
            ),
            (
                "general_liability.effective",
                "The general liability effective date",
            ),
            (
                "general_liability.expiry",
                "The general liability expiry date",
            ),
            (
                "general_liability.each_occurrence",
                "The general liability each-occurrence limit",
            ),
            (
                "general_liability.general_aggregate",
                "The general liability aggregate limit",
            ),
        ],
        DocumentKind::License => &[
            ("licensee", "The licensee's name"),
            ("license_number", "The license number"),
            ("state", "The issuing state"),
            ("expiry", "The license expiry date"),
        ],
        DocumentKind::W9 => &[
            ("name", "The name on line 1"),
            ("tax_classification", "The federal tax classification"),
            ("tin", "The taxpayer identification number"),
        ],
        DocumentKind::PhotoId => &[],
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, ExtractedField>);

impl Fields {
    fn put(&mut self, name: impl Into<String>, value: impl Into<String>, confidence: f32) {
        let value = collapse(&value.into());
        if value.is_empty() {
            return;
        }
        let name = name.into();
        // The first reading wins unless a later one is surer.
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
            },
        );
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static pattern")
}

/// The form extraction gives a value printed as `printed`: US dates as ISO dates, dollar
/// amounts as whole dollars, other text with its spacing collapsed. Lets a caller compare
/// what a person typed (or a test's ground truth) with what was read.
pub fn canonical(printed: &str) -> String {
    let t = printed.trim();
    if let [(d, _)] = dates(t).as_slice()
        && DATE.find(t).is_some_and(|m| m.len() == t.len())
    {
        return d.clone();
    }
    if t.starts_with('$')
        && let Some((v, _)) = money(t)
    {
        return v;
    }
    collapse(t)
}

/// Whitespace runs become one space; stray OCR punctuation at the ends is dropped.
pub fn collapse(s: &str) -> String {
    // A bar inside text is a table rule OCR read as a character; `!` glued to a word is noise.
    let cleaned = s.replace('|', " ");
    let mut words: Vec<String> = cleaned
        .split_whitespace()
        .map(|w| w.trim_end_matches('!').to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    // OCR often splits a capital from the rest of its word ("J ames"): a lone capital
    // followed by a lowercase word is one word. ("S Corporation" stays: the next word is
    // capitalised.)
    let mut i = 0;
    while i + 1 < words.len() {
        let lone_capital = words[i].len() == 1 && words[i].chars().all(|c| c.is_ascii_uppercase());
        if lone_capital && words[i + 1].starts_with(|c: char| c.is_ascii_lowercase()) {
            let next = words.remove(i + 1);
            words[i].push_str(&next);
        }
        i += 1;
    }
    words
        .join(" ")
        .trim_matches(|c: char| matches!(c, ':' | ';' | ',' | '_' | '-' | '—' | '.' | '«'))
        .trim()
        .to_owned()
}

/// A policy number OCR split after its letter prefix ("UMB 943992"): the prefix is the
/// short all-capitals word just before it, unless that word belongs to the coverage's name.
fn policy_number(before: &str, number: &str) -> String {
    const NOT_PREFIXES: [&str; 6] = ["LIAB", "AUTO", "ANY", "OCCUR", "Y", "N"];
    match before.split_whitespace().last() {
        Some(prev)
            if number.starts_with(|c: char| c.is_ascii_digit())
                && (2..=4).contains(&prev.len())
                && prev.chars().all(|c| c.is_ascii_uppercase())
                && !NOT_PREFIXES.contains(&prev) =>
        {
            format!("{prev}{number}")
        }
        _ => number.to_owned(),
    }
}

/// Uppercase letters and digits only: labels compare equal however OCR spaced them.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Digits as OCR misreads them in numeric context.
fn fix_digits(s: &str) -> (String, bool) {
    let mut fixed = false;
    let out = s
        .chars()
        .map(|c| {
            let d = match c {
                'O' | 'o' | 'Q' | 'D' => '0',
                'l' | 'I' | '|' | 'i' | '!' => '1',
                'S' | 's' => '5',
                'B' => '8',
                'Z' | 'z' => '2',
                _ => return c,
            };
            fixed = true;
            d
        })
        .collect();
    (out, fixed)
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([0-9OoQDlIi|!SsBZz]{1,2})\s?[/\-.]\s?([0-9OoQDlIi|!SsBZz]{1,2})\s?[/\-.]\s?([0-9OoQDlIi|!SsBZz]{4})",
    )
});

/// Dates in `s` (US month/day/year), as ISO dates with a confidence factor each.
pub fn dates(s: &str) -> Vec<(String, f32)> {
    DATE.captures_iter(s)
        .filter_map(|c| {
            let (m, f1) = fix_digits(&c[1]);
            let (d, f2) = fix_digits(&c[2]);
            let (y, f3) = fix_digits(&c[3]);
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            let factor = if f1 || f2 || f3 { 0.8 } else { 1.0 };
            Some((date.format("%Y-%m-%d").to_string(), factor))
        })
        .collect()
}

static MONEY: LazyLock<Regex> =
    LazyLock::new(|| re(r"[$S5§]?\s?(\d{1,3}(?:\s?[,.]\s?[0-9O]{3})+|\d{4,})"));

/// An amount like `$1,000,000` (or OCR's `S1.000,000`) as whole dollars.
pub fn money(s: &str) -> Option<(String, f32)> {
    let c = MONEY.captures_iter(s).last()?;
    let raw = &c[1];
    let (digits, fixed) = fix_digits(raw);
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let value: u64 = digits.parse().ok()?;
    // Separators must sit every three digits; OCR swapping `,` and `.` is forgiven.
    let factor = if fixed { 0.8 } else { 1.0 };
    Some((value.to_string(), factor))
}

/// The part of `s` before any of `stops` (column labels OCR put on the same line) and
/// before a wide gap (the next column in a laid-out text layer).
fn cut(s: &str, stops: &[&str]) -> String {
    let s = s.trim_start();
    let mut end = s.len();
    let upper = s.to_ascii_uppercase();
    for stop in stops {
        if let Some(i) = upper.find(stop) {
            end = end.min(i);
        }
    }
    if let Some(i) = s[..end].find("   ") {
        end = i;
    }
    collapse(&s[..end])
}

/// The text after `label` (matched case-insensitively, OCR spacing tolerated) on `line`.
fn after_label<'a>(line: &'a str, label: &Regex) -> Option<&'a str> {
    label.find(line).map(|m| &line[m.end()..])
}

fn coi(lines: &[Line], out: &mut Fields) {
    static INSURER: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)INSURER\s*([A-F])\s*[:;.,]?\s*(.+?)\s+([0-9O]{5})\b"));
    static PRODUCER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*PRODUCER\b[:\s]*"));
    static INSURED: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*INSURED\b[:\s]*"));
    static HOLDER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*CERTIFICATE\s*HOLDER\b[:\s]*"));
    static DATE_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)DATE\s*\(?MM/?DD/?YYYY\)?"));
    const COLUMN_STOPS: [&str; 3] = ["INSURER", "AUTHORIZED", "NAIC"];

    for (i, line) in lines.iter().enumerate() {
        let t = &line.text;
        let conf = line.confidence;
        if let Some(rest) = after_label(t, &DATE_LABEL)
            && let Some((d, f)) = dates(rest).into_iter().next()
        {
            out.put("certificate_date", d, conf * f);
        }
        if let Some(rest) = after_label(t, &PRODUCER) {
            out.put("producer", cut(rest, &COLUMN_STOPS), conf);
        }
        if let Some(rest) = after_label(t, &INSURED) {
            out.put("insured_name", cut(rest, &COLUMN_STOPS), conf);
            // The address is the next lines' left column, up to the city/state/ZIP line.
            let mut parts = Vec::new();
            let mut part_conf = conf;
            for next in lines.iter().skip(i + 1).take(3) {
                let left = cut(&next.text, &COLUMN_STOPS);
                if left.is_empty() || squash(&left).starts_with("COVERAGE") {
                    break;
                }
                part_conf = part_conf.min(next.confidence);
                let done = ZIP.is_match(&left);
                parts.push(left);
                if done {
                    break;
                }
            }
            if !parts.is_empty() {
                out.put("insured_address", parts.join(", "), part_conf);
            }
        }
        for c in INSURER.captures_iter(t) {
            let letter = c[1].to_ascii_lowercase();
            let name = cut(&c[2], &["NAIC"]);
            let (naic, fixed) = fix_digits(&c[3]);
            out.put(format!("insurer_{letter}.name"), name, conf);
            out.put(
                format!("insurer_{letter}.naic"),
                naic,
                conf * if fixed { 0.8 } else { 1.0 },
            );
        }
        if let Some(rest) = after_label(t, &HOLDER) {
            out.put("certificate_holder", cut(rest, &COLUMN_STOPS), conf);
        }
    }
    coverages(lines, out);
}

static ZIP: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-Z]{2}\s+\d{5}(-\d{4})?\b"));

/// The coverage rows: which labels start which coverage, and which limits each carries.
/// (field prefix, labels that start the row, (limit label, field) pairs).
type CoverageRow = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

const COVERAGES: [CoverageRow; 4] = [
    (
        "general_liability",
        &["GENERALLIABILITY", "COMMERCIALGENERAL"],
        &[
            ("EACHOCCURRENCE", "each_occurrence"),
            ("GENERALAGGREGATE", "general_aggregate"),
        ],
    ),
    (
        "auto",
        &["AUTOMOBILELIABILITY", "AUTOLIABILITY"],
        &[("COMBINEDSINGLELIMIT", "combined_single_limit")],
    ),
    (
        "umbrella",
        &["UMBRELLALIAB", "EXCESSLIAB"],
        &[
            ("EACHOCCURRENCE", "each_occurrence"),
            ("AGGREGATE", "aggregate"),
        ],
    ),
    (
        "workers_comp",
        &["WORKERSCOMP"],
        &[("EACHACCIDENT", "each_accident")],
    ),
];

fn coverages(lines: &[Line], out: &mut Fields) {
    static ROW: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^\s*(?:([A-F8])[a-z]?\b)?[^A-Z]{0,3}(.*?)\s+(\S+)\s+([0-9OoQDlIi|!SsBZz]{1,2}\s?[/\-.]\s?[0-9OoQDlIi|!SsBZz]{1,2}\s?[/\-.]\s?[0-9OoQDlIi|!SsBZz]{4})",
        )
    });
    let mut current: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let t = &line.text;
        let conf = line.confidence;
        let sq = squash(t);
        if let Some(idx) = COVERAGES
            .iter()
            .position(|(_, labels, _)| labels.iter().any(|l| sq.contains(l)))
        {
            current = Some(idx);
            let key = COVERAGES[idx].0;
            if let Some(c) = ROW.captures(t) {
                if let Some(letter) = c.get(1) {
                    let l = letter.as_str().replace('8', "B");
                    out.put(format!("{key}.insurer"), l, conf);
                }
                out.put(
                    format!("{key}.policy_number"),
                    policy_number(&c[2], &c[3]),
                    conf,
                );
                // ADDL / SUBR flags: the tokens between the coverage name and the policy.
                let flags: Vec<&str> = c[2]
                    .split_whitespace()
                    .rev()
                    .take_while(|w| {
                        w.len() <= 3
                            && !w
                                .chars()
                                .all(|c| c.is_ascii_uppercase() && c != 'Y' && c != 'N')
                    })
                    .collect();
                if key == "general_liability" && flags.len() == 2 {
                    for (name, token) in [
                        ("subrogation_waived", flags[0]),
                        ("additional_insured", flags[1]),
                    ] {
                        let (v, f) = flag(token);
                        out.put(format!("{key}.{name}"), v, conf * f);
                    }
                }
            }
            let found = dates(t);
            if found.len() >= 2 {
                let (eff, f1) = &found[found.len() - 2];
                let (exp, f2) = &found[found.len() - 1];
                out.put(format!("{key}.effective"), eff.clone(), conf * f1);
                out.put(format!("{key}.expiry"), exp.clone(), conf * f2);
            }
        }
        let Some(idx) = current else { continue };
        let (key, _, limits) = COVERAGES[idx];
        // Longest label first: GENERAL AGGREGATE before AGGREGATE.
        let mut ordered: Vec<&(&str, &str)> = limits.iter().collect();
        ordered.sort_by_key(|(label, _)| std::cmp::Reverse(label.len()));
        for (label, field) in ordered {
            if let Some(pos) = sq.find(label) {
                // "AGGREGATE" inside "GENERALAGGREGATE" belongs to the longer label.
                if *label == "AGGREGATE" && sq[..pos].ends_with("GENERAL") {
                    continue;
                }
                let raw_upper = t.to_ascii_uppercase();
                let tail = locate_after(&raw_upper, label)
                    .map(|i| &t[i..])
                    .unwrap_or(t);
                if let Some((v, f)) = money(tail) {
                    out.put(format!("{key}.{field}"), v, conf * f);
                } else if let Some(next) = lines.get(i + 1)
                    && let Some((v, f)) = money(&next.text)
                    && squash(&next.text)
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == 'S')
                {
                    // A long label pushed the amount onto the next line, alone.
                    out.put(
                        format!("{key}.{field}"),
                        v,
                        conf.min(next.confidence) * f * 0.95,
                    );
                }
                break;
            }
        }
    }
}

/// Byte offset in `upper` just after the letters of `squashed_label`, skipping any
/// spaces and punctuation OCR put between them.
fn locate_after(upper: &str, squashed_label: &str) -> Option<usize> {
    let want: Vec<char> = squashed_label.chars().collect();
    let chars: Vec<(usize, char)> = upper.char_indices().collect();
    for start in 0..chars.len() {
        let mut k = 0;
        let mut j = start;
        while j < chars.len() && k < want.len() {
            let c = chars[j].1;
            if c.is_ascii_alphanumeric() {
                if c != want[k] {
                    break;
                }
                k += 1;
            }
            j += 1;
        }
        if k == want.len() {
            return Some(chars.get(j).map(|(i, _)| *i).unwrap_or(upper.len()));
        }
    }
    None
}

/// A Y/N column as OCR reads it (`Y`, `¥`, `y`, `v`), with a confidence factor.
fn flag(token: &str) -> (&'static str, f32) {
    match token.trim_matches(|c: char| !c.is_alphanumeric() && c != '¥') {
        "Y" => ("Y", 1.0),
        "N" => ("N", 1.0),
        "y" | "¥" | "V" | "v" | "ve" | "Yy" => ("Y", 0.5),
        "n" | "M" | "H" => ("N", 0.5),
        _ => ("Y", 0.2),
    }
}

fn labelled(lines: &[Line], label: &Regex) -> Option<(String, f32)> {
    lines
        .iter()
        .find_map(|l| after_label(&l.text, label).map(|rest| (collapse(rest), l.confidence)))
}

const STATES: [(&str, &str); 8] = [
    ("CALIFORNIA", "CA"),
    ("TEXAS", "TX"),
    ("FLORIDA", "FL"),
    ("ARIZONA", "AZ"),
    ("COLORADO", "CO"),
    ("NEVADA", "NV"),
    ("OREGON", "OR"),
    ("WASHINGTON", "WA"),
];

fn license(lines: &[Line], out: &mut Fields) {
    static LICENSEE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)LICEN[SC]EE\s*[:;.]?\s*"));
    static BUSINESS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)BUSINESS\s*NAME\s*[:;.]?\s*"));
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)LICEN[SC]E\s*(?:NO|N0|NUMBER|#)\.?\s*[:;.]?\s*"));
    static CLASS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)CLASSIFICATIONS?\s*[:;.]?\s*"));
    static EXPIRES: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)(?:EXPIRES|EXPIRATION(?:\s*DATE)?|EXP\.?)\s*[:;.]?\s*"));
    static STATE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)STATE\s*OF\s*([A-Z]+)"));

    if let Some((v, c)) = labelled(lines, &LICENSEE) {
        out.put("licensee", v, c);
    }
    if let Some((v, c)) = labelled(lines, &BUSINESS) {
        out.put("business_name", v, c);
    }
    if let Some((v, c)) = labelled(lines, &NUMBER) {
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
        out.put("license_number", number, c);
    }
    if let Some((v, c)) = labelled(lines, &CLASS) {
        out.put("classifications", v, c);
    }
    if let Some((v, c)) = labelled(lines, &EXPIRES)
        && let Some((d, f)) = dates(&v).into_iter().next()
    {
        out.put("expiry", d, c * f);
    }
    for l in lines {
        if let Some(c) = STATE.captures(&l.text) {
            let name = c[1].to_ascii_uppercase();
            if let Some((_, code)) = STATES.iter().find(|(n, _)| *n == name) {
                out.put("state", *code, l.confidence);
                break;
            }
        }
    }
}

fn w9(lines: &[Line], out: &mut Fields) {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)Name\s*of\s*entity\s*/?\s*individual\s*[:;.]?\s*"));
    static BUSINESS: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)Business\s*name\s*/?\s*disregarded\s*entity\s*name\s*[:;.]?\s*"));
    static CLASSIFICATION: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)Federal\s*tax\s*classification\s*[:;.]?\s*"));
    static ADDRESS: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)^\W*5\W{0,2}\s*Address\b[^:;]*[:;.]\s*"));
    static CITY: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)City\s*,\s*state\s*,?\s*and\s*ZIP\s*code\s*[:;.]?\s*"));
    static SSN: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)Social\s*security\s*number\s*[:;.]?\s*([0-9OlIS]{3})\s?-\s?([0-9OlIS]{2})\s?-\s?([0-9OlIS]{4})",
        )
    });
    static EIN: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)Employer\s*identification\s*number\s*[:;.]?\s*([0-9OlIS]{2})\s?-\s?([0-9OlIS]{7})")
    });
    const TAX_CLASSES: [&str; 7] = [
        "Individual/sole proprietor",
        "C Corporation",
        "S Corporation",
        "Partnership",
        "Trust/estate",
        "Limited liability company",
        "Other",
    ];

    if let Some((v, c)) = labelled(lines, &NAME) {
        out.put("name", v, c);
    }
    if let Some((v, c)) = labelled(lines, &BUSINESS) {
        out.put("business_name", v, c);
    }
    // Lines 5 and 6: street, then city, state and ZIP.
    if let (Some((street, c1)), Some((city, c2))) =
        (labelled(lines, &ADDRESS), labelled(lines, &CITY))
    {
        out.put("address", format!("{street}, {city}"), c1.min(c2));
    }
    if let Some((v, c)) = labelled(lines, &CLASSIFICATION) {
        // The ticked box: the class named after the mark, matched tolerantly.
        let sq = squash(&v);
        if let Some(class) = TAX_CLASSES
            .iter()
            .filter(|class| sq.contains(&squash(class)))
            .max_by_key(|class| class.len())
        {
            out.put("tax_classification", *class, c);
        }
    }
    for l in lines {
        if let Some(c) = SSN.captures(&l.text) {
            let (digits, fixed) = fix_digits(&format!("{}-{}-{}", &c[1], &c[2], &c[3]));
            out.put("tin_type", "ssn", l.confidence);
            out.put("tin", digits, l.confidence * if fixed { 0.7 } else { 1.0 });
        }
        if let Some(c) = EIN.captures(&l.text) {
            let (digits, fixed) = fix_digits(&format!("{}-{}", &c[1], &c[2]));
            out.put("tin_type", "ein", l.confidence);
            out.put("tin", digits, l.confidence * if fixed { 0.7 } else { 1.0 });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(method: ReadMethod, raw: &str, confidence: f32) -> ReadText {
        ReadText {
            method,
            lines: raw
                .lines()
                .map(|l| Line {
                    text: l.to_owned(),
                    confidence,
                })
                .collect(),
        }
    }

    const COI_LAYOUT: &str = "\
CERTIFICATE OF LIABILITY INSURANCE                                  DATE (MM/DD/YYYY) 11/08/2026
PRODUCER Copperline Agency Inc                                      INSURER(S) AFFORDING COVERAGE             NAIC #
INSURED Aurora Displays Corp                                        INSURER A : Keystone General Insurance    35092
      3758 Mill Rd                                                  INSURER B : Cobalt Surety Company         14780
      Austin, TX 78789                                              INSURER C : Summit Specialty Insurance    26883
                                                                    INSURER D : Beacon Workers Assurance      19445
COVERAGES
LTR    TYPE OF INSURANCE                             ADDL     SUBR POLICY NUMBER       EFF          EXP           LIMITS
A      COMMERCIAL GENERAL LIABILITY                  Y        N       GL8400346        04/25/2026   04/25/2027    EACH OCCURRENCE      $1,000,000
                                                                                                                  GENERAL AGGREGATE $2,000,000
B      AUTOMOBILE LIABILITY                                           BA744039-20      04/25/2026   04/25/2027    COMBINED SINGLE LIMIT $500,000
C      UMBRELLA LIAB OCCUR                                            UMB401193        04/25/2026   04/25/2027    EACH OCCURRENCE      $1,000,000
                                                                                                                  AGGREGATE            $5,000,000
D      WORKERS COMPENSATION                                           WC11542004       04/25/2026   04/25/2027    E.L. EACH ACCIDENT   $1,000,000
CERTIFICATE HOLDER Holiday Lights Marketplace Inc
         500 Market St Suite 300                                                       AUTHORIZED REPRESENTATIVE";

    #[test]
    fn certificate_from_a_text_layer() {
        let e = extract(
            DocumentKind::InsuranceCertificate,
            &text(ReadMethod::TextLayer, COI_LAYOUT, 0.99),
        );
        let v = |k: &str| e.fields.get(k).map(|f| f.value.as_str());
        assert_eq!(v("certificate_date"), Some("2026-11-08"));
        assert_eq!(v("producer"), Some("Copperline Agency Inc"));
        assert_eq!(v("insured_name"), Some("Aurora Displays Corp"));
        assert_eq!(v("insured_address"), Some("3758 Mill Rd, Austin, TX 78789"));
        assert_eq!(v("insurer_a.name"), Some("Keystone General Insurance"));
        assert_eq!(v("insurer_d.naic"), Some("19445"));
        assert_eq!(v("general_liability.insurer"), Some("A"));
        assert_eq!(v("general_liability.policy_number"), Some("GL8400346"));
        assert_eq!(v("general_liability.effective"), Some("2026-04-25"));
        assert_eq!(v("general_liability.expiry"), Some("2027-04-25"));
        assert_eq!(v("general_liability.each_occurrence"), Some("1000000"));
        assert_eq!(v("general_liability.general_aggregate"), Some("2000000"));
        assert_eq!(v("general_liability.additional_insured"), Some("Y"));
        assert_eq!(v("general_liability.subrogation_waived"), Some("N"));
        assert_eq!(v("auto.combined_single_limit"), Some("500000"));
        assert_eq!(v("umbrella.aggregate"), Some("5000000"));
        assert_eq!(v("umbrella.each_occurrence"), Some("1000000"));
        assert_eq!(v("workers_comp.each_accident"), Some("1000000"));
        assert_eq!(v("workers_comp.policy_number"), Some("WC11542004"));
        assert_eq!(v("umbrella.insurer"), Some("C"));
        assert_eq!(
            v("certificate_holder"),
            Some("Holiday Lights Marketplace Inc")
        );
        assert!(e.problems.is_empty(), "{:?}", e.problems);
    }

    #[test]
    fn certificate_from_ocr_with_its_usual_slips() {
        let raw = "\
CERTIFICATE OF LIABILITY INSURANCE DATE (MM/DD/YYYY) 11/O8/2026
INSURED Aurora Displays Corp INSURER A: Keystone General Insurance 35092
A COMMERCIAL GENERAL LIABILITY Y ve GL8400346 04/25/2026 04/25/2027 +EACHOCCURRENCE S1.000,000
GENERAL AGGREGATE $2,000,000
B AUTOMOBILE LIABILITY BA195089-61 09/05/2026 09/05/2027 COMBINED SINGLE LIMIT
$1,000,000
Cc UMBRELLA LIAB OCCUR UMB401193 04/25/2026 04/25/2027 EACH OCCURRENCE $1,000,000";
        let e = extract(
            DocumentKind::InsuranceCertificate,
            &text(ReadMethod::Ocr, raw, 0.9),
        );
        let f = |k: &str| e.fields.get(k).cloned().expect(k);
        assert_eq!(f("certificate_date").value, "2026-11-08");
        assert!(
            f("certificate_date").confidence < 0.9,
            "a fixed digit lowers confidence"
        );
        assert_eq!(f("insured_name").value, "Aurora Displays Corp");
        assert_eq!(f("insurer_a.name").value, "Keystone General Insurance");
        assert_eq!(f("general_liability.each_occurrence").value, "1000000");
        assert_eq!(f("general_liability.general_aggregate").value, "2000000");
        assert_eq!(f("general_liability.subrogation_waived").value, "Y");
        assert!(f("general_liability.subrogation_waived").confidence < MIN_CONFIDENCE);
        assert_eq!(f("auto.combined_single_limit").value, "1000000");
        assert_eq!(f("umbrella.insurer").value, "C");
    }

    #[test]
    fn missing_and_doubtful_required_fields_become_actionable_problems() {
        let raw = "CERTIFICATE OF LIABILITY INSURANCE\nINSURED Aurora Displays Corp\nA COMMERCIAL GENERAL LIABILITY GL8400346 04/25/2026 04/25/2027 EACH OCCURRENCE $1,000,000";
        let e = extract(
            DocumentKind::InsuranceCertificate,
            &text(ReadMethod::Ocr, raw, 0.5),
        );
        let codes: Vec<(&str, &str)> = e
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.code.as_str()))
            .collect();
        assert!(codes.contains(&("general_liability.general_aggregate", "missing")));
        assert!(codes.contains(&("general_liability.expiry", "low_confidence")));
        let expiry = e
            .problems
            .iter()
            .find(|p| p.field == "general_liability.expiry")
            .unwrap();
        assert_eq!(
            expiry.message,
            "The general liability expiry date unreadable — upload a clearer photo or the original PDF."
        );
    }

    #[test]
    fn no_text_is_one_clear_problem() {
        let e = extract(DocumentKind::W9, &text(ReadMethod::Ocr, " \n ~ ", 0.2));
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].code, "no_text");
    }

    #[test]
    fn license_card() {
        let raw = "STATE OF FLORIDA\nDepartment of Business and Professional Regulation\nLICENSEE: Aisha Holloway\nBUSINESS NAME: Radiant Illumination Co\nLICENSE No: EC13002308\nCLASSIFICATION: EC Electrical Contractor, ER Residential Electrical\nEXPIRES: 10/22/2028";
        let e = extract(DocumentKind::License, &text(ReadMethod::Ocr, raw, 0.93));
        let v = |k: &str| e.fields.get(k).map(|f| f.value.as_str());
        assert_eq!(v("licensee"), Some("Aisha Holloway"));
        assert_eq!(v("business_name"), Some("Radiant Illumination Co"));
        assert_eq!(v("license_number"), Some("EC13002308"));
        assert_eq!(v("state"), Some("FL"));
        assert_eq!(
            v("classifications"),
            Some("EC Electrical Contractor, ER Residential Electrical")
        );
        assert_eq!(v("expiry"), Some("2028-10-22"));
        assert!(e.problems.is_empty());
    }

    #[test]
    fn w9_with_an_ein() {
        let raw = "1 Name of entity/individual: James Fairbanks\n2 Business name/disregarded entity name: Evergreen Lights LLC\n3a Federal tax classification: [X] Limited liability company\n5 Address: 6980 Mill Rd\n6 City, state, and ZIP code: Dallas, TX 75271\nSocial security number:\nEmployer identification number: 60-98O2211";
        let e = extract(DocumentKind::W9, &text(ReadMethod::Ocr, raw, 0.95));
        let v = |k: &str| e.fields.get(k).map(|f| f.value.as_str());
        assert_eq!(v("name"), Some("James Fairbanks"));
        assert_eq!(v("business_name"), Some("Evergreen Lights LLC"));
        assert_eq!(v("tax_classification"), Some("Limited liability company"));
        assert_eq!(v("address"), Some("6980 Mill Rd, Dallas, TX 75271"));
        assert_eq!(v("tin_type"), Some("ein"));
        assert_eq!(v("tin"), Some("60-9802211"));
        assert!(e.fields["tin"].confidence < 0.95 * 0.8);
    }

    #[test]
    fn w9_with_an_ssn_and_s_corporation_is_not_c() {
        let raw = "Name of entity/individual: Maria Nguyen\nFederal tax classification: [X] S Corporation\nSocial security number: 123-45-6789";
        let e = extract(DocumentKind::W9, &text(ReadMethod::TextLayer, raw, 0.99));
        assert_eq!(e.fields["tax_classification"].value, "S Corporation");
        assert_eq!(e.fields["tin_type"].value, "ssn");
        assert_eq!(e.fields["tin"].value, "123-45-6789");
    }

    #[test]
    fn ocr_word_splits_and_noise_are_mended() {
        assert_eq!(collapse("J ames Holloway"), "James Holloway");
        assert_eq!(collapse("Michael! Delgado"), "Michael Delgado");
        assert_eq!(
            collapse("Keystone General|Insurance"),
            "Keystone General Insurance"
        );
        assert_eq!(collapse("S Corporation"), "S Corporation");
        assert_eq!(
            policy_number("WORKERS COMPENSATION WC", "30654844"),
            "WC30654844"
        );
        assert_eq!(
            policy_number("UMBRELLA LIAB OCCUR", "UMB401193"),
            "UMB401193"
        );
        assert_eq!(
            policy_number("COMMERCIAL GENERAL LIABILITY Y N", "123456"),
            "123456"
        );
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("04/25/2027"), "2027-04-25");
        assert_eq!(canonical("$2,000,000"), "2000000");
        assert_eq!(canonical(" Aurora  Displays Corp "), "Aurora Displays Corp");
        assert_eq!(canonical("EC13002308"), "EC13002308");
    }

    #[test]
    fn money_and_dates_tolerate_ocr() {
        assert_eq!(money("$1,000,000").unwrap().0, "1000000");
        assert_eq!(money("S2.000.000").unwrap().0, "2000000");
        assert_eq!(money("E.L. EACH ACCIDENT $500,000").unwrap().0, "500000");
        assert_eq!(dates("04/25/2026 04/25/2027").len(), 2);
        assert_eq!(dates("O4/25/2O26")[0], ("2026-04-25".to_owned(), 0.8));
        assert!(dates("13/45/2026").is_empty());
    }
}
