//! A requirement's verification state, derived — never accumulated — from the results
//! recorded for its current evidence: so duplicates change nothing and the order results
//! arrive in does not change the outcome. Each requirement names the sources that must
//! verify it (e.g. insurance: the compliance rules and the insurance provider). A
//! reviewer's decision on the current evidence outranks automation; new evidence (a
//! re-upload) starts over.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use domain_kernel::terms::{Finding, RequirementState};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Verified,
    Errors {
        findings: Vec<Finding>,
    },
    ManualReview {
        reason: String,
    },
    /// The source has the evidence and is still checking it (e.g. micro-deposits).
    Pending {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationResult {
    /// Unique per result (a provider event id, a rule run id): duplicates are dropped.
    pub id: String,
    /// `rules`, `provider:trustlayer`, `reviewer`, …
    pub source: String,
    pub evidence_version: u32,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
    /// What the result was based on (extracted values, rule outcomes, provider answer).
    #[serde(default)]
    pub evidence: serde_json::Value,
    /// The last day the evidence holds (a policy's or a license's expiry, a waiver's end);
    /// the scheduled re-check acts on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
}

pub const REVIEWER: &str = "reviewer";

/// The insurance requirement and the sources that must verify it: our compliance rules and
/// the insurance provider.
pub const INSURANCE: &str = "insurance";
pub const INSURANCE_SOURCES: [&str; 2] = ["rules", TRUSTLAYER];
pub const TRUSTLAYER: &str = "provider:trustlayer";

/// The state contractor license: our cross-check of the card with the state's record.
pub const LICENSE: &str = "license";
pub const LICENSE_SOURCES: [&str; 1] = [LICENSE_LOOKUP];
pub const LICENSE_LOOKUP: &str = "state_lookup";

/// The payout bank account, verified by Plaid (instantly or by micro-deposits).
pub const BANK_ACCOUNT: &str = "bank_account";
pub const BANK_SOURCES: [&str; 1] = [PLAID];
pub const PLAID: &str = "provider:plaid";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub name: String,
    /// Sources that must all verify the evidence.
    pub required_sources: Vec<String>,
    /// 0 until evidence exists.
    pub evidence_version: u32,
    /// Results for the current evidence version, by source (the latest by time wins).
    pub results: BTreeMap<String, VerificationResult>,
    /// Every result id seen, for deduplication across versions.
    pub seen: Vec<String>,
    /// A reviewer working on it (manual review only); lapses at `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
}

/// A reviewer's lease on a manual-review item, so two reviewers don't decide one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub reviewer: String,
    pub until: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("the requirement is not waiting for a reviewer")]
    NotInReview,
    #[error("claimed by another reviewer until {until}")]
    ClaimedByOther {
        reviewer: String,
        until: DateTime<Utc>,
    },
}

/// The source of a result recorded when evidence lapses (a policy, license or waiver past
/// its date); it outranks an earlier reviewer decision.
pub const EXPIRY: &str = "expiry";

/// What recording a result did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Applied,
    Duplicate,
    /// For evidence older than the current one.
    Stale,
}

impl Requirement {
    pub fn new(name: &str, required_sources: &[&str]) -> Self {
        Requirement {
            name: name.to_owned(),
            required_sources: required_sources.iter().map(|s| (*s).to_owned()).collect(),
            evidence_version: 0,
            results: BTreeMap::new(),
            seen: Vec::new(),
            claim: None,
        }
    }

    /// New evidence (an upload, a linked account): verification starts over.
    pub fn evidence(&mut self, version: u32) {
        if version > self.evidence_version {
            self.evidence_version = version;
            self.results.clear();
        }
    }

    pub fn record(&mut self, result: VerificationResult) -> Recorded {
        if self.seen.contains(&result.id) {
            return Recorded::Duplicate;
        }
        if result.evidence_version < self.evidence_version {
            self.seen.push(result.id);
            return Recorded::Stale;
        }
        // A result may arrive before the event announcing its evidence.
        self.evidence(result.evidence_version);
        self.seen.push(result.id.clone());
        match self.results.get(&result.source) {
            Some(existing) if existing.at > result.at => {}
            _ => {
                self.results.insert(result.source.clone(), result);
            }
        }
        if self.state() != RequirementState::ManualReview {
            self.claim = None;
        }
        Recorded::Applied
    }

    pub fn state(&self) -> RequirementState {
        if self.evidence_version == 0 {
            return RequirementState::CurrentlyDue;
        }
        // The latest of a reviewer's decision and a lapse speaks for the requirement.
        let decisive = [self.results.get(REVIEWER), self.results.get(EXPIRY)]
            .into_iter()
            .flatten()
            .max_by_key(|r| r.at);
        if let Some(decision) = decisive {
            return state_of(&decision.outcome);
        }
        let outcomes: Vec<&Outcome> = self.results.values().map(|r| &r.outcome).collect();
        if outcomes.iter().any(|o| matches!(o, Outcome::Errors { .. })) {
            RequirementState::Errors
        } else if outcomes
            .iter()
            .any(|o| matches!(o, Outcome::ManualReview { .. }))
        {
            RequirementState::ManualReview
        } else if self.required_sources.iter().all(|s| {
            matches!(
                self.results.get(s).map(|r| &r.outcome),
                Some(Outcome::Verified)
            )
        }) {
            RequirementState::Verified
        } else {
            RequirementState::PendingVerification
        }
    }

    /// The last day the current evidence holds: the earliest `valid_until` of the results
    /// that count (a reviewer's decision replaces automation's dates).
    pub fn valid_until(&self) -> Option<chrono::NaiveDate> {
        let counted: Vec<&VerificationResult> = match self.results.get(REVIEWER) {
            Some(decision) => vec![decision],
            None => self.results.values().collect(),
        };
        counted.iter().filter_map(|r| r.valid_until).min()
    }

    /// The result to record when the verified evidence has lapsed by `today` (the scheduled
    /// re-check); `None` while it holds. Its id is fixed per evidence version, so a re-run
    /// records nothing new.
    pub fn lapse(&self, today: chrono::NaiveDate, at: DateTime<Utc>) -> Option<VerificationResult> {
        if self.state() != RequirementState::Verified {
            return None;
        }
        let until = self.valid_until().filter(|d| *d < today)?;
        let waived = self.results.contains_key(REVIEWER);
        let (code, message) = match (waived, self.name.as_str()) {
            (true, _) => (
                "waiver_expired",
                format!(
                    "The waiver for your {} ended on {until}; provide current evidence.",
                    self.name.replace('_', " ")
                ),
            ),
            (false, INSURANCE) => (
                "policy_expired",
                format!(
                    "Your insurance policy expired on {until}; upload a current certificate of insurance."
                ),
            ),
            (false, LICENSE) => (
                "license_expired",
                format!(
                    "Your contractor license expired on {until}; renew it and upload the new license card."
                ),
            ),
            (false, name) => (
                "evidence_expired",
                format!(
                    "The evidence for your {} expired on {until}.",
                    name.replace('_', " ")
                ),
            ),
        };
        Some(VerificationResult {
            id: format!("expiry:{}:{}:{until}", self.name, self.evidence_version),
            source: EXPIRY.into(),
            evidence_version: self.evidence_version,
            outcome: Outcome::Errors {
                findings: vec![Finding {
                    code: code.into(),
                    message,
                }],
            },
            at,
            evidence: serde_json::json!({"valid_until": until, "checked_on": today}),
            valid_until: None,
        })
    }

    /// Takes (or renews) the reviewer's lease on a manual-review item.
    pub fn take_claim(
        &mut self,
        reviewer: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<(), ClaimError> {
        if self.state() != RequirementState::ManualReview {
            return Err(ClaimError::NotInReview);
        }
        self.check_claim(reviewer, now)?;
        self.claim = Some(Claim {
            reviewer: reviewer.to_owned(),
            until: now + lease,
        });
        Ok(())
    }

    /// Whether `reviewer` may decide now: nobody else holds a live claim.
    pub fn check_claim(&self, reviewer: &str, now: DateTime<Utc>) -> Result<(), ClaimError> {
        match &self.claim {
            Some(c) if c.reviewer != reviewer && c.until > now => Err(ClaimError::ClaimedByOther {
                reviewer: c.reviewer.clone(),
                until: c.until,
            }),
            _ => Ok(()),
        }
    }

    /// When the latest result was recorded (the current state's verdict), if any.
    pub fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.results.values().map(|r| r.at).max()
    }

    /// The findings a contractor can act on, for an `errors` state.
    pub fn findings(&self) -> Vec<&Finding> {
        self.results
            .values()
            .flat_map(|r| match &r.outcome {
                Outcome::Errors { findings } => findings.iter().collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// A reviewer's decision on a requirement's current evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve {
        reason: Option<String>,
    },
    Reject {
        reason: String,
    },
    RequestReupload {
        reason: String,
    },
    /// Accepted without the usual evidence until a date.
    Waive {
        reason: String,
        expires_on: chrono::NaiveDate,
    },
}

/// `POST …/requirements/{name}/decision` as sent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub expires_on: Option<String>,
}

impl DecisionInput {
    pub fn parse(self, today: chrono::NaiveDate) -> Result<Decision, crate::validation::Invalid> {
        let mut c = crate::validation::Collector::new();
        let reason = self
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let needs_reason = |c: &mut crate::validation::Collector, reason: &Option<String>| {
            if reason.is_none() {
                c.push(
                    "reason",
                    "required",
                    "Say why, for the contractor and the audit trail.",
                );
            }
        };
        let decision = match self.decision.as_deref() {
            Some("approve") => Some("approve"),
            Some(d @ ("reject" | "request_reupload")) => {
                needs_reason(&mut c, &reason);
                Some(d)
            }
            Some("waive") => {
                needs_reason(&mut c, &reason);
                Some("waive")
            }
            Some(_) => {
                c.push(
                    "decision",
                    "invalid_choice",
                    "Use approve, reject, request_reupload or waive.",
                );
                None
            }
            None => {
                c.push(
                    "decision",
                    "required",
                    "Say what you decide: approve, reject, request_reupload or waive.",
                );
                None
            }
        };
        let expires_on = match (decision, self.expires_on.as_deref()) {
            (Some("waive"), None) => {
                c.push(
                    "expires_on",
                    "required",
                    "A waiver needs an end date (YYYY-MM-DD).",
                );
                None
            }
            (Some("waive"), Some(raw)) => {
                match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                    Ok(d) if d > today => Some(d),
                    Ok(_) => {
                        c.push(
                            "expires_on",
                            "out_of_range",
                            "The waiver must end after today.",
                        );
                        None
                    }
                    Err(_) => {
                        c.push("expires_on", "invalid_date", "Give the date as YYYY-MM-DD.");
                        None
                    }
                }
            }
            (_, Some(_)) => {
                c.push(
                    "expires_on",
                    "not_allowed",
                    "Only a waiver has an end date.",
                );
                None
            }
            _ => None,
        };
        c.finish(|| ())?;
        Ok(match decision.expect("checked") {
            "approve" => Decision::Approve { reason },
            "reject" => Decision::Reject {
                reason: reason.expect("checked"),
            },
            "request_reupload" => Decision::RequestReupload {
                reason: reason.expect("checked"),
            },
            _ => Decision::Waive {
                reason: reason.expect("checked"),
                expires_on: expires_on.expect("checked"),
            },
        })
    }
}

/// The decision as the reviewer's result on the current evidence.
pub fn reviewer_result(
    decision: &Decision,
    reviewer: &str,
    evidence_version: u32,
    at: DateTime<Utc>,
) -> VerificationResult {
    let (outcome, kind, reason) = match decision {
        Decision::Approve { reason } => (Outcome::Verified, "approve", reason.clone()),
        Decision::Waive { reason, .. } => (Outcome::Verified, "waive", Some(reason.clone())),
        Decision::Reject { reason } => (
            Outcome::Errors {
                findings: vec![Finding {
                    code: "rejected_by_reviewer".into(),
                    message: reason.clone(),
                }],
            },
            "reject",
            Some(reason.clone()),
        ),
        Decision::RequestReupload { reason } => (
            Outcome::Errors {
                findings: vec![Finding {
                    code: "reupload_requested".into(),
                    message: reason.clone(),
                }],
            },
            "request_reupload",
            Some(reason.clone()),
        ),
    };
    let expires_on = match decision {
        Decision::Waive { expires_on, .. } => Some(expires_on.to_string()),
        _ => None,
    };
    VerificationResult {
        id: format!("review:{}", ulid::Ulid::new().to_string().to_lowercase()),
        source: REVIEWER.into(),
        evidence_version,
        outcome,
        at,
        evidence: serde_json::json!({"reviewer": reviewer, "decision": kind, "reason": reason, "expires_on": expires_on}),
        // A waiver lapses: the scheduled re-check finds it on its date.
        valid_until: match decision {
            Decision::Waive { expires_on, .. } => Some(*expires_on),
            _ => None,
        },
    }
}

fn state_of(outcome: &Outcome) -> RequirementState {
    match outcome {
        Outcome::Verified => RequirementState::Verified,
        Outcome::Errors { .. } => RequirementState::Errors,
        Outcome::ManualReview { .. } => RequirementState::ManualReview,
        Outcome::Pending { .. } => RequirementState::PendingVerification,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(
        id: &str,
        source: &str,
        version: u32,
        outcome: Outcome,
        minute: i64,
    ) -> VerificationResult {
        VerificationResult {
            id: id.into(),
            source: source.into(),
            evidence_version: version,
            outcome,
            at: DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).unwrap(),
            evidence: serde_json::Value::Null,
            valid_until: None,
        }
    }

    fn errors(code: &str) -> Outcome {
        Outcome::Errors {
            findings: vec![Finding {
                code: code.into(),
                message: "fix it".into(),
            }],
        }
    }

    fn insurance() -> Requirement {
        Requirement::new("insurance", &["rules", "provider:trustlayer"])
    }

    /// Every order of the same results gives the same state.
    fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut out = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut p in permutations(&rest) {
                p.insert(0, first.clone());
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn every_source_must_verify_and_any_error_wins_in_any_order() {
        let verified_by_both = [
            result("r1", "rules", 1, Outcome::Verified, 1),
            result("p1", "provider:trustlayer", 1, Outcome::Verified, 2),
        ];
        for order in permutations(&verified_by_both) {
            let mut r = insurance();
            r.evidence(1);
            for x in order {
                r.record(x);
            }
            assert_eq!(r.state(), RequirementState::Verified);
        }
        let mixed = [
            result("r1", "rules", 1, errors("limit_too_low"), 1),
            result("p1", "provider:trustlayer", 1, Outcome::Verified, 2),
            result("p1", "provider:trustlayer", 1, Outcome::Verified, 2),
        ];
        for order in permutations(&mixed) {
            let mut r = insurance();
            for x in order {
                r.record(x);
            }
            assert_eq!(r.state(), RequirementState::Errors);
            assert_eq!(r.findings()[0].code, "limit_too_low");
        }
        let mut only_rules = insurance();
        only_rules.record(result("r1", "rules", 1, Outcome::Verified, 1));
        assert_eq!(only_rules.state(), RequirementState::PendingVerification);
    }

    #[test]
    fn duplicates_and_results_for_old_evidence_change_nothing() {
        let mut r = insurance();
        r.evidence(2);
        assert_eq!(
            r.record(result("old", "rules", 1, errors("policy_expired"), 1)),
            Recorded::Stale
        );
        assert_eq!(
            r.record(result("r2", "rules", 2, Outcome::Verified, 2)),
            Recorded::Applied
        );
        assert_eq!(
            r.record(result("r2", "rules", 2, errors("x"), 3)),
            Recorded::Duplicate
        );
        assert_eq!(r.state(), RequirementState::PendingVerification);
        // Out of order within a source: the later result stands.
        r.record(result(
            "p-late",
            "provider:trustlayer",
            2,
            Outcome::Verified,
            9,
        ));
        r.record(result(
            "p-early",
            "provider:trustlayer",
            2,
            errors("not_found"),
            5,
        ));
        assert_eq!(r.state(), RequirementState::Verified);
    }

    #[test]
    fn decisions_are_validated_and_become_reviewer_results() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let parse = |v: serde_json::Value| {
            serde_json::from_value::<DecisionInput>(v)
                .unwrap()
                .parse(today)
        };
        let crate::validation::Invalid(errors) =
            parse(serde_json::json!({"decision": "waive"})).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reason", "expires_on"]);
        assert!(
            parse(
                serde_json::json!({"decision": "waive", "reason": "r", "expires_on": "2026-11-01"})
            )
            .is_err()
        );
        assert!(parse(serde_json::json!({"decision": "maybe"})).is_err());
        let reject =
            parse(serde_json::json!({"decision": "reject", "reason": "Certificate is forged."}))
                .unwrap();
        let mut r = insurance();
        r.record(result(
            "p1",
            TRUSTLAYER,
            1,
            Outcome::ManualReview {
                reason: "down".into(),
            },
            1,
        ));
        r.record(reviewer_result(
            &reject,
            "reviewer|ana",
            1,
            chrono::Utc::now(),
        ));
        assert_eq!(r.state(), RequirementState::Errors);
        assert_eq!(r.findings()[0].code, "rejected_by_reviewer");
        let approve = parse(serde_json::json!({"decision": "approve"})).unwrap();
        r.record(reviewer_result(
            &approve,
            "reviewer|ana",
            1,
            chrono::Utc::now() + chrono::Duration::seconds(1),
        ));
        assert_eq!(
            r.state(),
            RequirementState::Verified,
            "the latest decision stands"
        );
    }

    #[test]
    fn a_reviewer_decides_over_automation_until_new_evidence_arrives() {
        let mut r = insurance();
        r.record(result(
            "p1",
            "provider:trustlayer",
            1,
            Outcome::ManualReview {
                reason: "provider down (circuit open)".into(),
            },
            1,
        ));
        assert_eq!(r.state(), RequirementState::ManualReview);
        r.record(result("d1", REVIEWER, 1, Outcome::Verified, 2));
        r.record(result("r1", "rules", 1, errors("limit_too_low"), 3));
        assert_eq!(
            r.state(),
            RequirementState::Verified,
            "the reviewer's decision stands"
        );
        r.evidence(2);
        assert_eq!(
            r.state(),
            RequirementState::PendingVerification,
            "a re-upload starts over"
        );
        let mut fresh = insurance();
        assert_eq!(fresh.state(), RequirementState::CurrentlyDue);
        fresh.evidence(1);
        assert_eq!(fresh.state(), RequirementState::PendingVerification);
    }

    fn day(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    fn verified_until(id: &str, source: &str, until: &str, minute: i64) -> VerificationResult {
        VerificationResult {
            valid_until: Some(day(until)),
            ..result(id, source, 1, Outcome::Verified, minute)
        }
    }

    #[test]
    fn a_lapse_is_found_once_and_outranks_automation_until_new_evidence() {
        let mut r = insurance();
        r.record(verified_until("r1", "rules", "2027-06-30", 1));
        r.record(result("p1", "provider:trustlayer", 1, Outcome::Verified, 2));
        assert_eq!(r.valid_until(), Some(day("2027-06-30")));
        assert_eq!(
            r.lapse(day("2027-06-30"), Utc::now()),
            None,
            "valid through its last day"
        );
        let lapse = r.lapse(day("2027-07-01"), Utc::now()).unwrap();
        assert_eq!(lapse.source, EXPIRY);
        assert_eq!(r.record(lapse.clone()), Recorded::Applied);
        assert_eq!(r.state(), RequirementState::Errors);
        assert_eq!(r.findings()[0].code, "policy_expired");
        assert!(r.findings()[0].message.contains("2027-06-30"));
        assert_eq!(r.record(lapse), Recorded::Duplicate);
        assert_eq!(
            r.lapse(day("2027-07-02"), Utc::now()),
            None,
            "only verified evidence lapses"
        );
        // A renewed certificate starts over.
        r.record(VerificationResult {
            evidence_version: 2,
            ..verified_until("r2", "rules", "2028-06-30", 10)
        });
        assert_eq!(r.state(), RequirementState::PendingVerification);
    }

    #[test]
    fn a_waiver_lapses_on_its_date_and_a_later_decision_wins_again() {
        let mut r = insurance();
        r.record(result("r1", "rules", 1, errors("limit_too_low"), 1));
        let waive = Decision::Waive {
            reason: "carrier letter on file".into(),
            expires_on: day("2027-01-31"),
        };
        let at = DateTime::from_timestamp(1_795_000_000 + 600, 0).unwrap();
        r.record(reviewer_result(&waive, "rev-1", 1, at));
        assert_eq!(r.state(), RequirementState::Verified);
        let lapse = r
            .lapse(day("2027-02-01"), at + chrono::Duration::days(1))
            .unwrap();
        r.record(lapse);
        assert_eq!(r.state(), RequirementState::Errors);
        assert_eq!(
            r.findings()
                .iter()
                .find(|f| f.code == "waiver_expired")
                .map(|f| f.code.as_str()),
            Some("waiver_expired")
        );
        let approve = Decision::Approve { reason: None };
        r.record(reviewer_result(
            &approve,
            "rev-2",
            1,
            at + chrono::Duration::days(2),
        ));
        assert_eq!(r.state(), RequirementState::Verified);
    }

    #[test]
    fn one_reviewer_holds_a_claim_until_it_lapses_or_the_item_is_decided() {
        let now = Utc::now();
        let lease = chrono::Duration::minutes(30);
        let mut r = insurance();
        assert_eq!(
            r.take_claim("rev-1", now, lease),
            Err(ClaimError::NotInReview)
        );
        r.record(result(
            "p1",
            "provider:trustlayer",
            1,
            Outcome::ManualReview {
                reason: "down".into(),
            },
            1,
        ));
        r.take_claim("rev-1", now, lease).unwrap();
        r.take_claim("rev-1", now, lease).unwrap();
        assert!(matches!(
            r.take_claim("rev-2", now, lease),
            Err(ClaimError::ClaimedByOther { .. })
        ));
        assert!(r.check_claim("rev-2", now).is_err());
        assert!(r.check_claim("rev-1", now).is_ok());
        assert!(
            r.check_claim("rev-2", now + lease + chrono::Duration::seconds(1))
                .is_ok()
        );
        r.record(reviewer_result(
            &Decision::Approve { reason: None },
            "rev-1",
            1,
            now,
        ));
        assert_eq!(r.claim, None, "a decided item has no claim");
    }
}
