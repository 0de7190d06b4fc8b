//! Insurance compliance as data, TrustLayer-style: each rule names a subject (an extracted
//! certificate field), an operator and a target; evaluating a certificate gives, per rule,
//! the actual value and a status — compliant, non_compliant (with a code the contractor can
//! act on), or waived / overridden by a reviewer until a date. Marketplace rules apply
//! everywhere; a state's rules replace the marketplace rule for the same subject.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use reading::ExtractedField;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// A dollar amount at or above the target.
    AtLeast,
    /// Equal to the target (case-insensitive), e.g. an additional-insured flag `Y`.
    Equals,
    /// A date on or before today (the policy has started).
    InEffect,
    /// A date after today plus the target number of days (not expired, not expiring soon).
    NotExpiringWithinDays,
    /// The contractor's legal business name or DBA, tolerantly.
    MatchesBusinessName,
    /// The target name, tolerantly (e.g. the certificate holder is the marketplace).
    MatchesName,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub subject: String,
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The requirement in words, shown to contractors and reviewers.
    pub requirement: String,
    /// The code reported when the rule fails (a default per operator otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    pub marketplace: Vec<Rule>,
    /// By state code: rules that replace (same subject) or add to the marketplace's.
    #[serde(default)]
    pub states: BTreeMap<String, Vec<Rule>>,
}

impl RuleSet {
    /// The rules that apply to a contractor working in `state`.
    pub fn for_state(&self, state: Option<&str>) -> Vec<Rule> {
        let mut rules = self.marketplace.clone();
        if let Some(extra) = state.and_then(|s| self.states.get(&s.to_ascii_uppercase())) {
            for rule in extra {
                match rules.iter_mut().find(|r| r.subject == rule.subject) {
                    Some(existing) => *existing = rule.clone(),
                    None => rules.push(rule.clone()),
                }
            }
        }
        rules
    }

    /// The marketplace's rules as shipped (`config/insurance-rules.json`).
    pub fn shipped() -> RuleSet {
        serde_json::from_str(include_str!("../../../../config/insurance-rules.json"))
            .expect("config/insurance-rules.json is a valid rule set")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverKind {
    /// The requirement does not apply to this contractor until the date.
    Waived,
    /// A reviewer accepted evidence the rules could not (e.g. a letter from the insurer).
    Overridden,
}

/// A reviewer's decision on one subject, with a reason and an end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub subject: String,
    pub kind: WaiverKind,
    pub reason: String,
    pub expires_on: NaiveDate,
    pub by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Compliant,
    NonCompliant,
    Waived,
    Overridden,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub subject: String,
    pub requirement: String,
    pub operator: Operator,
    pub target: Option<String>,
    pub actual: Option<String>,
    pub status: RuleStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What to do about it, for a non-compliant rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The waiver's reason and end, for a waived or overridden rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<Waiver>,
}

/// What a certificate is checked against besides its own fields.
pub struct Facts<'a> {
    pub fields: &'a BTreeMap<String, ExtractedField>,
    pub legal_name: &'a str,
    pub dba: Option<&'a str>,
    pub today: NaiveDate,
    pub waivers: &'a [Waiver],
    /// What extraction found wrong with the document itself (a sample, a template, another
    /// kind of document): each is a finding whatever the rules say.
    pub problems: &'a [reading::FieldProblem],
}

/// Extraction problems that mean the file is not an issued certificate: the contractor
/// must upload another one.
const BLOCKING_PROBLEMS: [&str; 3] = ["sample_document", "kind_not_found", "placeholder"];

/// Every rule's outcome, in rule order.
pub fn evaluate(rules: &[Rule], facts: &Facts<'_>) -> Vec<RuleOutcome> {
    rules.iter().map(|rule| outcome(rule, facts)).collect()
}

/// Whether every outcome lets the certificate through.
pub fn all_pass(outcomes: &[RuleOutcome]) -> bool {
    outcomes
        .iter()
        .all(|o| o.status != RuleStatus::NonCompliant)
}

/// The compliance rules' verdict on one certificate as a verification result (source
/// `rules`) for the insurance requirement: verified when every rule passes in every state the
/// contractor serves, else errors with each failing rule's code and message. The outcomes
/// are kept as the result's evidence.
#[allow(clippy::too_many_arguments)]
pub fn certificate_result(
    rules: &RuleSet,
    states: &[String],
    facts: &Facts<'_>,
    document_id: &str,
    evidence_version: u32,
    at: chrono::DateTime<chrono::Utc>,
) -> crate::verification::VerificationResult {
    use crate::verification::{Finding, Outcome, VerificationResult};
    let mut findings: Vec<Finding> = Vec::new();
    let mut evidence = serde_json::Map::new();
    let scopes: Vec<Option<&str>> = if states.is_empty() {
        vec![None]
    } else {
        states.iter().map(|s| Some(s.as_str())).collect()
    };
    for state in scopes {
        let outcomes = evaluate(&rules.for_state(state), facts);
        for o in &outcomes {
            if o.status == RuleStatus::NonCompliant
                && let (Some(code), Some(message)) = (&o.code, &o.message)
                && !findings
                    .iter()
                    .any(|f| f.code == *code && f.message == *message)
            {
                findings.push(Finding {
                    code: code.clone(),
                    message: message.clone(),
                });
            }
        }
        evidence.insert(
            state.unwrap_or("marketplace").to_owned(),
            serde_json::to_value(&outcomes).unwrap_or_default(),
        );
    }
    for p in facts
        .problems
        .iter()
        .filter(|p| BLOCKING_PROBLEMS.contains(&p.code.as_str()))
    {
        if !findings.iter().any(|f| f.code == p.code) {
            findings.push(Finding {
                code: p.code.clone(),
                message: p.message.clone(),
            });
        }
    }
    VerificationResult {
        // One verdict per document version: a redelivered event gives the same id.
        id: format!("rules:{document_id}:{evidence_version}"),
        source: "rules".into(),
        evidence_version,
        outcome: if findings.is_empty() {
            Outcome::Verified
        } else {
            Outcome::Errors { findings }
        },
        at,
        evidence: serde_json::Value::Object(evidence),
        // The marketplace requires general liability: the certificate holds until it ends.
        valid_until: facts
            .fields
            .get("general_liability.expiry")
            .and_then(|f| NaiveDate::parse_from_str(&f.value, "%Y-%m-%d").ok()),
    }
}

fn outcome(rule: &Rule, facts: &Facts<'_>) -> RuleOutcome {
    let field = facts.fields.get(&rule.subject);
    let actual = field.map(|f| f.value.clone());
    let mut out = RuleOutcome {
        subject: rule.subject.clone(),
        requirement: rule.requirement.clone(),
        operator: rule.operator,
        target: rule.target.clone(),
        actual: actual.clone(),
        status: RuleStatus::Compliant,
        code: None,
        message: None,
        waiver: None,
    };
    if let Some(w) = facts
        .waivers
        .iter()
        .find(|w| w.subject == rule.subject && w.expires_on >= facts.today)
    {
        out.status = match w.kind {
            WaiverKind::Waived => RuleStatus::Waived,
            WaiverKind::Overridden => RuleStatus::Overridden,
        };
        out.waiver = Some(w.clone());
        return out;
    }
    // A value read too doubtfully to act on never lets a certificate through: precision
    // first (a wrong value that passes is worse than a missing one).
    let doubtful = field.is_some_and(|f| f.confidence < reading::MIN_CONFIDENCE);
    let checked = if doubtful {
        Err((
            "unreadable_value",
            format!(
                "{} — the certificate is too hard to read there. Upload the original PDF or a sharper photo.",
                rule.requirement
            ),
        ))
    } else {
        check(rule, actual.as_deref(), facts)
    };
    if let Err((code, message)) = checked {
        out.status = RuleStatus::NonCompliant;
        // A rule's own code names a wrong value; a missing or unreadable one keeps its code.
        let generic = matches!(code, "field_missing" | "unreadable_value");
        out.code = Some(match &rule.code {
            Some(own) if !generic => own.clone(),
            _ => code.to_owned(),
        });
        out.message = Some(message);
    }
    out
}

type Failure = (&'static str, String);

fn check(rule: &Rule, actual: Option<&str>, facts: &Facts<'_>) -> Result<(), Failure> {
    let Some(actual) = actual else {
        return Err((
            "field_missing",
            format!(
                "{} — the certificate does not show it. Ask your agent for a certificate that does.",
                rule.requirement
            ),
        ));
    };
    let target = rule.target.as_deref().unwrap_or_default();
    match rule.operator {
        Operator::AtLeast => {
            let (have, need) = (amount(actual), amount(target));
            match (have, need) {
                (Some(have), Some(need)) if have >= need => Ok(()),
                (Some(have), Some(need)) => Err((
                    "limit_too_low",
                    format!(
                        "{}: the certificate shows ${}, at least ${} is required. Ask your agent to raise the limit.",
                        rule.requirement,
                        dollars(have),
                        dollars(need)
                    ),
                )),
                _ => Err((
                    "unreadable_value",
                    format!("{}: we could not read the amount.", rule.requirement),
                )),
            }
        }
        Operator::Equals => {
            if actual.trim().eq_ignore_ascii_case(target.trim()) {
                Ok(())
            } else {
                Err((
                    "value_mismatch",
                    format!("{}: the certificate shows {actual:?}.", rule.requirement),
                ))
            }
        }
        Operator::InEffect => match date(actual) {
            Some(d) if d <= facts.today => Ok(()),
            Some(d) => Err((
                "not_yet_effective",
                format!("{}: the policy starts on {d}.", rule.requirement),
            )),
            None => Err((
                "unreadable_value",
                format!("{}: we could not read the date.", rule.requirement),
            )),
        },
        Operator::NotExpiringWithinDays => {
            let days: i64 = target.parse().unwrap_or(0);
            match date(actual) {
                Some(d) if d < facts.today => Err((
                    "policy_expired",
                    format!(
                        "{}: the policy expired on {d}. Upload a current certificate.",
                        rule.requirement
                    ),
                )),
                Some(d) if d <= facts.today + chrono::Duration::days(days) => Err((
                    "expiring_soon",
                    format!(
                        "{}: the policy expires on {d}, within {days} days. Upload the renewal certificate.",
                        rule.requirement
                    ),
                )),
                Some(_) => Ok(()),
                None => Err((
                    "unreadable_value",
                    format!("{}: we could not read the date.", rule.requirement),
                )),
            }
        }
        Operator::MatchesBusinessName => {
            if names_match(actual, facts.legal_name)
                || facts.dba.is_some_and(|dba| names_match(actual, dba))
            {
                Ok(())
            } else {
                Err((
                    "name_mismatch",
                    format!(
                        "{}: the certificate names {actual:?}, your business is {:?}. Ask your agent to correct the named insured.",
                        rule.requirement, facts.legal_name
                    ),
                ))
            }
        }
        Operator::MatchesName => {
            if names_match(actual, target) {
                Ok(())
            } else {
                Err((
                    "value_mismatch",
                    format!(
                        "{}: the certificate shows {actual:?}, it must be {target:?}.",
                        rule.requirement
                    ),
                ))
            }
        }
    }
}

fn amount(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn dollars(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Words that say what kind of entity a business is, not which one.
const ENTITY_WORDS: [&str; 14] = [
    "llc",
    "inc",
    "incorporated",
    "co",
    "company",
    "corp",
    "corporation",
    "ltd",
    "limited",
    "lp",
    "llp",
    "pllc",
    "the",
    "dba",
];

fn name_tokens(name: &str) -> Vec<String> {
    let spaced: String = name
        .to_lowercase()
        .replace('&', " and ")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    // "L.L.C." became "l l c": rejoin runs of single letters before dropping entity words.
    let mut tokens: Vec<String> = Vec::new();
    let mut letters = String::new();
    for word in spaced.split_whitespace() {
        if word.len() == 1 {
            letters.push_str(word);
            continue;
        }
        if !letters.is_empty() {
            tokens.push(std::mem::take(&mut letters));
        }
        tokens.push(word.to_owned());
    }
    if !letters.is_empty() {
        tokens.push(letters);
    }
    tokens
        .into_iter()
        .filter(|t| !ENTITY_WORDS.contains(&t.as_str()))
        .collect()
}

/// Whether two business names name the same business, tolerating punctuation, case, `&` for
/// "and", entity suffixes (LLC, Inc., Corp…) and a slip or two of OCR in longer names.
pub fn names_match(a: &str, b: &str) -> bool {
    let (ta, tb) = (name_tokens(a), name_tokens(b));
    if ta.is_empty() || tb.is_empty() {
        return false;
    }
    // Word by word, in order: short words exactly, words of five letters or more with at
    // most one slip (OCR's "Lightning" for "Lighting"), never a different word.
    ta.len() == tb.len()
        && ta
            .iter()
            .zip(&tb)
            .all(|(x, y)| x == y || (x.len().min(y.len()) >= 5 && levenshtein(x, y) <= 1))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, ExtractedField> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ExtractedField::new(*v, 0.99)))
            .collect()
    }

    fn good() -> BTreeMap<String, ExtractedField> {
        fields(&[
            ("insured_name", "Bright Lights, L.L.C."),
            ("general_liability.each_occurrence", "1000000"),
            ("general_liability.general_aggregate", "2000000"),
            ("general_liability.effective", "2026-04-25"),
            ("general_liability.expiry", "2027-04-25"),
            ("general_liability.additional_insured", "Y"),
            ("certificate_holder", "Holiday Lights Marketplace, Inc."),
        ])
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn run(
        f: &BTreeMap<String, ExtractedField>,
        state: Option<&str>,
        waivers: &[Waiver],
    ) -> Vec<RuleOutcome> {
        let rules = RuleSet::shipped().for_state(state);
        evaluate(
            &rules,
            &Facts {
                fields: f,
                legal_name: "Bright Lights LLC",
                dba: Some("Bright Nights Holiday Decor"),
                today: today(),
                waivers,
                problems: &[],
            },
        )
    }

    fn failing(outcomes: &[RuleOutcome]) -> Vec<(&str, &str)> {
        outcomes
            .iter()
            .filter(|o| o.status == RuleStatus::NonCompliant)
            .map(|o| (o.subject.as_str(), o.code.as_deref().unwrap()))
            .collect()
    }

    #[test]
    fn a_good_certificate_passes_every_shipped_rule() {
        let outcomes = run(&good(), None, &[]);
        assert!(all_pass(&outcomes), "{:?}", failing(&outcomes));
        let occ = outcomes
            .iter()
            .find(|o| o.subject == "general_liability.each_occurrence")
            .unwrap();
        assert_eq!(occ.actual.as_deref(), Some("1000000"));
        assert_eq!(occ.target.as_deref(), Some("1000000"));
    }

    #[test]
    fn low_limits_expiry_and_wrong_names_fail_with_precise_codes() {
        let mut f = good();
        f.get_mut("general_liability.each_occurrence")
            .unwrap()
            .value = "500000".into();
        f.get_mut("general_liability.expiry").unwrap().value = "2026-12-01".into();
        f.get_mut("insured_name").unwrap().value = "Shadow Electric Inc".into();
        f.remove("certificate_holder");
        let outcomes = run(&f, None, &[]);
        assert_eq!(
            failing(&outcomes),
            vec![
                ("insured_name", "name_mismatch"),
                ("general_liability.each_occurrence", "limit_too_low"),
                ("general_liability.expiry", "expiring_soon"),
                ("certificate_holder", "field_missing"),
            ]
        );
        let low = outcomes
            .iter()
            .find(|o| o.code.as_deref() == Some("limit_too_low"))
            .unwrap();
        assert!(low.message.as_deref().unwrap().contains("$500,000"));
        assert!(low.message.as_deref().unwrap().contains("$1,000,000"));

        f.get_mut("general_liability.expiry").unwrap().value = "2026-10-01".into();
        let expired = run(&f, None, &[]);
        assert!(failing(&expired).contains(&("general_liability.expiry", "policy_expired")));
    }

    #[test]
    fn a_doubtful_reading_never_passes_a_rule() {
        let mut f = good();
        f.get_mut("general_liability.each_occurrence")
            .unwrap()
            .confidence = 0.4;
        assert_eq!(
            failing(&run(&f, None, &[])),
            vec![("general_liability.each_occurrence", "unreadable_value")]
        );
    }

    #[test]
    fn a_sample_or_a_template_is_a_finding_whatever_its_fields_say() {
        let f = good();
        let problems = [reading::FieldProblem::new(
            "document",
            "sample_document",
            "This is a sample certificate.",
        )];
        let facts = Facts {
            fields: &f,
            legal_name: "Bright Lights LLC",
            dba: None,
            today: today(),
            waivers: &[],
            problems: &problems,
        };
        let result = certificate_result(
            &RuleSet::shipped(),
            &[],
            &facts,
            "doc",
            1,
            chrono::Utc::now(),
        );
        match result.outcome {
            crate::verification::Outcome::Errors { findings } => {
                assert_eq!(
                    findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
                    ["sample_document"]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_state_can_raise_a_threshold() {
        let outcomes = run(&good(), Some("ca"), &[]);
        assert_eq!(
            failing(&outcomes),
            vec![("general_liability.each_occurrence", "limit_too_low")],
            "California asks for $2M each occurrence"
        );
    }

    #[test]
    fn waivers_and_overrides_apply_until_their_date() {
        let mut f = good();
        f.get_mut("general_liability.each_occurrence")
            .unwrap()
            .value = "500000".into();
        let waiver = |expires_on| Waiver {
            subject: "general_liability.each_occurrence".into(),
            kind: WaiverKind::Overridden,
            reason: "umbrella covers the difference".into(),
            expires_on,
            by: "reviewer|ana".into(),
        };
        let active = run(
            &f,
            None,
            &[waiver(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap())],
        );
        assert!(all_pass(&active));
        let o = active
            .iter()
            .find(|o| o.subject == "general_liability.each_occurrence")
            .unwrap();
        assert_eq!(o.status, RuleStatus::Overridden);
        assert_eq!(
            o.waiver.as_ref().unwrap().reason,
            "umbrella covers the difference"
        );
        let lapsed = run(
            &f,
            None,
            &[waiver(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())],
        );
        assert!(!all_pass(&lapsed));
    }

    #[test]
    fn names_match_tolerantly_but_not_loosely() {
        assert!(names_match("Bright Lights, L.L.C.", "Bright Lights LLC"));
        assert!(names_match(
            "BRIGHT & MERRY LIGHTS INC",
            "Bright and Merry Lights"
        ));
        assert!(
            names_match("The Candlewood Lightning Co", "Candlewood Lighting Company"),
            "one OCR slip"
        );
        assert!(!names_match("Bright Lights LLC", "Night Lights LLC"));
        assert!(
            !names_match("Glow LLC", "Flow LLC"),
            "short names must match exactly"
        );
        assert!(!names_match("LLC", "Inc"));
    }
}
