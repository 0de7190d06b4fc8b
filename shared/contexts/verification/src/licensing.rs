//! State contractor licenses: which states require which classification for lighting and
//! electrical work (data: `config/license-rules.json`), a state registry's record normalised
//! from its source shape, and the cross-check of the license card the contractor uploaded
//! against that record and the business name.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::compliance::names_match;
use crate::verification::{Finding, LICENSE_LOOKUP, Outcome, VerificationResult};
use reading::ExtractedField;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRule {
    /// Which registry adapter answers for the state (`cslb`, `tdlr`, `dbpr`).
    pub registry: String,
    /// Any one of these (a code like `C-10` or a license type) is enough.
    pub classifications: Vec<String>,
    #[serde(default)]
    pub requires_bond: bool,
    pub requirement: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseRules {
    pub states: BTreeMap<String, StateRule>,
}

impl LicenseRules {
    pub fn shipped() -> LicenseRules {
        serde_json::from_str(include_str!("../../../../config/license-rules.json"))
            .expect("config/license-rules.json is valid")
    }

    pub fn for_state(&self, state: &str) -> Option<&StateRule> {
        self.states.get(&state.to_ascii_uppercase())
    }

    /// The served states that require a license, in order.
    pub fn required_states<'a>(&self, served: &[&'a str]) -> Vec<&'a str> {
        served
            .iter()
            .copied()
            .filter(|s| self.for_state(s).is_some())
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Active,
    Inactive,
    Expired,
    Suspended,
    Revoked,
}

/// A registry's record, in one shape whatever the source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseRecord {
    pub state: String,
    pub number: String,
    pub status: LicenseStatus,
    pub licensee_name: Option<String>,
    pub business_name: Option<String>,
    /// As the registry names them (`C-10 - Electrical`, `Electrical Contractor`, `EC`).
    pub classifications: Vec<String>,
    pub expires_on: Option<NaiveDate>,
    /// `None` when the registry does not say.
    pub bond_active: Option<bool>,
    /// `exempt`, a carrier's name, or `None` when the registry does not say.
    pub workers_comp: Option<String>,
}

/// The registry's answer for a license number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Lookup {
    Found { record: LicenseRecord },
    NotFound,
}

/// Whether a cached registry answer may stand in for asking again. A record found is good
/// for the whole `ttl`; "not found" only briefly (`negative_ttl`: the registry may add the
/// record within the hour, or the contractor typed the number wrong), and never for new
/// evidence: a new card is always looked up afresh.
pub fn cached_answer_usable(
    lookup: &Lookup,
    age: chrono::Duration,
    same_evidence: bool,
    ttl: chrono::Duration,
    negative_ttl: chrono::Duration,
) -> bool {
    match lookup {
        Lookup::Found { .. } => age < ttl,
        Lookup::NotFound => same_evidence && age < negative_ttl,
    }
}

/// A license number compared the way registries print it: case, spaces and dashes ignored.
pub fn same_number(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect::<String>()
    };
    !norm(a).is_empty() && norm(a) == norm(b)
}

/// Whether a registry classification satisfies a required one: the same code or type,
/// ignoring case and what follows the code (`C-10 - Electrical` is `C-10`).
pub fn classification_matches(shown: &str, required: &str) -> bool {
    let shown = shown.trim().to_ascii_uppercase();
    let required = required.trim().to_ascii_uppercase();
    shown == required
        || shown
            .strip_prefix(&required)
            .is_some_and(|rest| rest.starts_with([' ', '-', '/', ':']))
}

/// What the cross-check knows besides the registry's answer.
pub struct LicenseFacts<'a> {
    pub card: &'a BTreeMap<String, ExtractedField>,
    pub legal_name: &'a str,
    pub dba: Option<&'a str>,
    pub served_states: &'a [&'a str],
    pub today: NaiveDate,
}

impl LicenseFacts<'_> {
    fn card(&self, key: &str) -> Option<&str> {
        self.card.get(key).map(|f| f.value.as_str())
    }

    /// The state and number to look up: from the card, when it names a state whose rules
    /// we know and a number.
    pub fn lookup_key(&self, rules: &LicenseRules) -> Option<(String, String)> {
        let state = self.card("state")?.to_ascii_uppercase();
        rules.for_state(&state)?;
        Some((state, self.card("license_number")?.to_owned()))
    }
}

fn finding(code: &str, message: String) -> Finding {
    Finding {
        code: code.into(),
        message,
    }
}

/// The license requirement's result for a card, given the registry's answer for the card's
/// state and number (`None` when the card names no state we look up). One result per card
/// version: a redelivered event gives the same id.
pub fn license_result(
    rules: &LicenseRules,
    facts: &LicenseFacts<'_>,
    lookup: Option<&Lookup>,
    document_id: &str,
    evidence_version: u32,
    at: DateTime<Utc>,
) -> VerificationResult {
    let required = rules.required_states(facts.served_states);
    let mut findings = Vec::new();
    let mut valid_until = None;
    let card_state = facts.card("state").map(str::to_ascii_uppercase);
    for state in &required {
        if card_state.as_deref() != Some(*state) {
            let rule = rules.for_state(state).map(|r| r.requirement.as_str());
            findings.push(finding(
                "license_missing_for_state",
                format!(
                    "You serve {state}, which requires a license ({}); the card uploaded is {}.",
                    rule.unwrap_or("see the marketplace's rules"),
                    card_state
                        .as_deref()
                        .map(|s| format!("from {s}"))
                        .unwrap_or_else(|| "not readable as any state's".into())
                ),
            ));
        }
    }
    let not_applicable = required.is_empty();
    match (lookup, &card_state) {
        _ if not_applicable => {}
        (Some(Lookup::NotFound), Some(state)) => findings.push(finding(
            "license_not_found",
            format!(
                "{state}'s registry has no license number {}; check the number on your card.",
                facts.card("license_number").unwrap_or("(unreadable)")
            ),
        )),
        (Some(Lookup::Found { record }), Some(state)) => {
            let rule = rules.for_state(state);
            check_record(record, rule, facts, &mut findings);
            valid_until = record.expires_on;
        }
        _ => {}
    }
    let evidence = serde_json::json!({
        "not_applicable": not_applicable,
        "required_states": required,
        "card": {
            "state": card_state,
            "license_number": facts.card("license_number"),
            "business_name": facts.card("business_name"),
            "expiry": facts.card("expiry"),
        },
        "registry": lookup,
    });
    VerificationResult {
        id: format!("license:{document_id}:{evidence_version}"),
        source: LICENSE_LOOKUP.into(),
        evidence_version,
        outcome: if findings.is_empty() {
            Outcome::Verified
        } else {
            Outcome::Errors { findings }
        },
        at,
        evidence,
        valid_until,
    }
}

fn check_record(
    record: &LicenseRecord,
    rule: Option<&StateRule>,
    facts: &LicenseFacts<'_>,
    findings: &mut Vec<Finding>,
) {
    let number = &record.number;
    let state = &record.state;
    let status_code = match record.status {
        LicenseStatus::Active => None,
        LicenseStatus::Inactive => Some("license_inactive"),
        LicenseStatus::Expired => Some("license_expired"),
        LicenseStatus::Suspended => Some("license_suspended"),
        LicenseStatus::Revoked => Some("license_revoked"),
    };
    if let Some(code) = status_code {
        let status = serde_json::to_value(record.status).unwrap_or_default();
        findings.push(finding(
            code,
            format!(
                "{state}'s registry shows license {number} as {}; only an active license qualifies.",
                status.as_str().unwrap_or("not active")
            ),
        ));
    } else if let Some(expiry) = record.expires_on.filter(|d| *d < facts.today) {
        findings.push(finding(
            "license_expired",
            format!("{state}'s registry shows license {number} expired on {expiry}; renew it."),
        ));
    }
    if let Some(rule) = rule
        && !record.classifications.iter().any(|shown| {
            rule.classifications
                .iter()
                .any(|required| classification_matches(shown, required))
        })
    {
        findings.push(finding(
            "classification_missing",
            format!(
                "{}. The registry shows {} for license {number}.",
                rule.requirement,
                if record.classifications.is_empty() {
                    "no classification".to_owned()
                } else {
                    record.classifications.join(", ")
                }
            ),
        ));
    }
    let names: Vec<&str> = [
        record.business_name.as_deref(),
        record.licensee_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ours = |n: &str| {
        names_match(n, facts.legal_name) || facts.dba.is_some_and(|dba| names_match(n, dba))
    };
    if !names.iter().any(|n| ours(n)) {
        findings.push(finding(
            "name_mismatch",
            format!(
                "License {number} is held by {}, not {}; the license must be your business's.",
                names.first().copied().unwrap_or("an unnamed licensee"),
                facts.legal_name
            ),
        ));
    }
    if rule.is_some_and(|r| r.requires_bond) && record.bond_active == Some(false) {
        findings.push(finding(
            "bond_missing",
            format!("{state}'s registry shows no active contractor's bond for license {number}."),
        ));
    }
    // The card must be the registry's license: same number, and a business name and expiry
    // that agree with the record (a card may predate a renewal, never outlive the record).
    let card_number = facts.card("license_number").unwrap_or_default();
    let card_business = facts.card("business_name");
    let card_expiry = facts
        .card("expiry")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let mut disagreements = Vec::new();
    if !same_number(card_number, number) {
        disagreements.push(format!("number {card_number}"));
    }
    if let (Some(card), Some(registry)) = (card_business, record.business_name.as_deref())
        && !names_match(card, registry)
    {
        disagreements.push(format!("business name {card}"));
    }
    if let (Some(card), Some(registry)) = (card_expiry, record.expires_on)
        && card > registry
    {
        disagreements.push(format!("expiry {card} (registry: {registry})"));
    }
    if !disagreements.is_empty() {
        findings.push(finding(
            "card_mismatch",
            format!(
                "The license card does not match {state}'s record for license {number}: {}.",
                disagreements.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn not_found_is_remembered_briefly_and_never_for_a_new_card() {
        let (day, quarter) = (chrono::Duration::hours(24), chrono::Duration::minutes(15));
        let min = chrono::Duration::minutes;
        assert!(cached_answer_usable(
            &Lookup::NotFound,
            min(5),
            true,
            day,
            quarter
        ));
        assert!(!cached_answer_usable(
            &Lookup::NotFound,
            min(60),
            true,
            day,
            quarter
        ));
        assert!(!cached_answer_usable(
            &Lookup::NotFound,
            min(1),
            false,
            day,
            quarter
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_of(
        state: &str,
        number: &str,
        business: &str,
        expiry: &str,
    ) -> BTreeMap<String, ExtractedField> {
        [
            ("state", state),
            ("license_number", number),
            ("business_name", business),
            ("expiry", expiry),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), ExtractedField::new(v, 0.95)))
        .collect()
    }

    fn record() -> LicenseRecord {
        LicenseRecord {
            state: "CA".into(),
            number: "567142".into(),
            status: LicenseStatus::Active,
            licensee_name: Some("Nancy Brennan".into()),
            business_name: Some("AURORA HOLIDAY LIGHTING LLC".into()),
            classifications: vec!["C-10 - Electrical".into()],
            expires_on: Some("2027-02-13".parse().unwrap()),
            bond_active: Some(true),
            workers_comp: Some("exempt".into()),
        }
    }

    fn evaluate(
        served: &[&str],
        card: &BTreeMap<String, ExtractedField>,
        lookup: Option<Lookup>,
    ) -> VerificationResult {
        let facts = LicenseFacts {
            card,
            legal_name: "Aurora Holiday Lighting, L.L.C.",
            dba: None,
            served_states: served,
            today: "2026-11-22".parse().unwrap(),
        };
        license_result(
            &LicenseRules::shipped(),
            &facts,
            lookup.as_ref(),
            "doc1",
            1,
            Utc::now(),
        )
    }

    fn codes(r: &VerificationResult) -> Vec<String> {
        match &r.outcome {
            Outcome::Errors { findings } => findings.iter().map(|f| f.code.clone()).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn an_active_license_with_the_right_classification_and_name_verifies() {
        let card = card_of("CA", "567142", "Aurora Holiday Lighting LLC", "2027-02-13");
        let r = evaluate(&["CA"], &card, Some(Lookup::Found { record: record() }));
        assert_eq!(r.outcome, Outcome::Verified, "{:?}", codes(&r));
        assert_eq!(r.valid_until, Some("2027-02-13".parse().unwrap()));
        assert_eq!(r.id, "license:doc1:1");
    }

    #[test]
    fn registry_findings_are_precise() {
        let card = card_of("CA", "567142", "Aurora Holiday Lighting LLC", "2027-02-13");
        let mut bad = record();
        bad.status = LicenseStatus::Revoked;
        bad.classifications = vec!["C-61/D-49 - Tree Service".into()];
        bad.business_name = Some("Someone Else Electric Inc".into());
        bad.licensee_name = Some("Someone Else".into());
        bad.bond_active = Some(false);
        let r = evaluate(&["CA"], &card, Some(Lookup::Found { record: bad }));
        assert_eq!(
            codes(&r),
            [
                "license_revoked",
                "classification_missing",
                "name_mismatch",
                "bond_missing",
                "card_mismatch"
            ]
        );
        let r = evaluate(&["CA"], &card, Some(Lookup::NotFound));
        assert_eq!(codes(&r), ["license_not_found"]);
        let mut lapsed = record();
        lapsed.expires_on = Some("2026-10-31".parse().unwrap());
        let old_card = card_of("CA", "567142", "Aurora Holiday Lighting LLC", "2026-10-31");
        let r = evaluate(&["CA"], &old_card, Some(Lookup::Found { record: lapsed }));
        assert_eq!(codes(&r), ["license_expired"]);
    }

    #[test]
    fn the_card_must_match_the_record_and_cover_every_served_state() {
        let forged = card_of("CA", "567-142", "Aurora Holiday Lighting LLC", "2029-01-01");
        let r = evaluate(&["CA"], &forged, Some(Lookup::Found { record: record() }));
        assert_eq!(codes(&r), ["card_mismatch"]);
        assert!(
            matches!(&r.outcome, Outcome::Errors { findings } if findings[0].message.contains("expiry 2029-01-01"))
        );
        let ok = card_of("CA", "567142", "Aurora Holiday Lighting LLC", "2027-02-13");
        let r = evaluate(
            &["CA", "TX", "OR"],
            &ok,
            Some(Lookup::Found { record: record() }),
        );
        assert_eq!(codes(&r), ["license_missing_for_state"]);
    }

    #[test]
    fn where_no_served_state_requires_a_license_it_is_not_applicable() {
        let card = card_of(
            "OR",
            "CCB-1234",
            "Aurora Holiday Lighting LLC",
            "2027-02-13",
        );
        let r = evaluate(&["OR", "WA"], &card, None);
        assert_eq!(r.outcome, Outcome::Verified);
        assert_eq!(r.evidence["not_applicable"], true);
    }

    #[test]
    fn classifications_and_numbers_compare_as_registries_print_them() {
        assert!(classification_matches("C-10 - Electrical", "C-10"));
        assert!(classification_matches("c-10", "C-10"));
        assert!(!classification_matches("C-100", "C-10"));
        assert!(classification_matches(
            "Electrical Contractor",
            "Electrical Contractor"
        ));
        assert!(!classification_matches(
            "Residential Wireman",
            "Electrical Contractor"
        ));
        assert!(same_number("EC 13005837", "ec13005837"));
        assert!(!same_number("", ""));
    }
}
