//! The account's standing follows its verification requirements: a submitted account is
//! approved once every requirement that applies to it is verified; an approved account is
//! suspended when one of them fails (a lapsed policy, a revoked license, an expired bank
//! verification) and approved again once it is fixed. Derived from the requirements as they
//! are now, so replaying events gives the same answer.

use serde_json::{Value, json};

use crate::contractor::{Contractor, Status};
use crate::events::{Event, StandingChanged};
use crate::licensing::LicenseRules;
use crate::verification::{BANK_ACCOUNT, INSURANCE, LICENSE, RequirementState};

/// The requirements an account must have verified before it can take jobs.
pub const REQUIRED_FOR_APPROVAL: [&str; 3] = [INSURANCE, LICENSE, BANK_ACCOUNT];

/// Where a requirement stands for the account's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    Satisfied,
    Waiting,
    Failed,
}

fn standing_of(c: &Contractor, name: &str, licenses: &LicenseRules) -> Standing {
    let states: Vec<&str> = c.service_area.states.iter().map(|s| s.as_str()).collect();
    let requirement = c.verifications.iter().find(|r| r.name == name);
    match requirement.map(|r| r.state()) {
        Some(RequirementState::Verified) => Standing::Satisfied,
        Some(RequirementState::Errors) => Standing::Failed,
        // No state the account serves asks for a license: nothing to verify.
        _ if name == LICENSE && licenses.required_states(&states).is_empty() => Standing::Satisfied,
        _ => Standing::Waiting,
    }
}

/// The status the account should move to now, with the audit summary; `None` to stay.
/// A move of the account's standing: where it goes and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub from: Status,
    pub to: Status,
    /// The requirements that are satisfied.
    pub verified: Vec<String>,
    /// The requirements that failed.
    pub failed: Vec<String>,
}

impl Move {
    /// The audit entry's summary.
    pub fn summary(&self) -> Value {
        json!({"status_before": self.from, "status_after": self.to, "verified": self.verified, "failed": self.failed})
    }

    /// The event announcing the move at the contractor's `version`.
    pub fn event(&self, contractor_version: u64) -> Event {
        let changed = StandingChanged {
            contractor_version,
            status_before: self.from,
            status_after: self.to,
            verified: self.verified.clone(),
            failed: self.failed.clone(),
        };
        match self.to {
            Status::Approved => Event::ContractorApproved(changed),
            _ => Event::ContractorSuspended(changed),
        }
    }

    /// The audit action (the event's type).
    pub fn action(&self) -> &'static str {
        match self.to {
            Status::Approved => "contractor.approved",
            _ => "contractor.suspended",
        }
    }
}

pub fn next_status(c: &Contractor, licenses: &LicenseRules) -> Option<Move> {
    let standings: Vec<(&str, Standing)> = REQUIRED_FOR_APPROVAL
        .iter()
        .map(|name| (*name, standing_of(c, name, licenses)))
        .collect();
    let all_satisfied = standings.iter().all(|(_, s)| *s == Standing::Satisfied);
    let failed: Vec<&str> = standings
        .iter()
        .filter(|(_, s)| *s == Standing::Failed)
        .map(|(n, _)| *n)
        .collect();
    let to = match c.status {
        Status::UnderReview | Status::Suspended if all_satisfied => Status::Approved,
        Status::Approved if !failed.is_empty() => Status::Suspended,
        _ => return None,
    };
    let verified = standings
        .iter()
        .filter(|(_, s)| *s == Standing::Satisfied)
        .map(|(n, _)| (*n).to_owned())
        .collect();
    Some(Move {
        from: c.status,
        to,
        verified,
        failed: failed.into_iter().map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contractor::tests_support::contractor_serving;
    use crate::verification::{Outcome, Requirement, VerificationResult};

    fn verified(name: &str, source: &str) -> Requirement {
        let mut r = Requirement::new(name, &[source]);
        r.record(VerificationResult {
            id: format!("{name}-ok"),
            source: source.into(),
            evidence_version: 1,
            outcome: Outcome::Verified,
            at: chrono::Utc::now(),
            evidence: Value::Null,
            valid_until: None,
        });
        r
    }

    fn failed(name: &str) -> Requirement {
        let mut r = Requirement::new(name, &["rules"]);
        r.record(VerificationResult {
            id: format!("{name}-bad"),
            source: "rules".into(),
            evidence_version: 1,
            outcome: Outcome::Errors { findings: vec![] },
            at: chrono::Utc::now(),
            evidence: Value::Null,
            valid_until: None,
        });
        r
    }

    fn rules() -> LicenseRules {
        LicenseRules::shipped()
    }

    #[test]
    fn approved_only_when_every_requirement_that_applies_is_verified() {
        let mut c = contractor_serving(&["CA"]);
        c.status = Status::UnderReview;
        c.verifications = vec![verified(INSURANCE, "rules"), verified(BANK_ACCOUNT, "p")];
        assert_eq!(
            next_status(&c, &rules()),
            None,
            "California requires a license"
        );
        c.verifications.push(verified(LICENSE, "state_lookup"));
        let approval = next_status(&c, &rules()).unwrap();
        assert_eq!(approval.to, Status::Approved);
        assert_eq!(approval.summary()["failed"], json!([]));
        // Where no served state requires a license, it is not applicable.
        let mut elsewhere = contractor_serving(&["OR"]);
        elsewhere.status = Status::UnderReview;
        elsewhere.verifications = vec![verified(INSURANCE, "rules"), verified(BANK_ACCOUNT, "p")];
        assert_eq!(
            next_status(&elsewhere, &rules()).unwrap().to,
            Status::Approved
        );
    }

    #[test]
    fn not_before_submission_suspended_on_failure_and_reinstated_when_fixed() {
        let mut c = contractor_serving(&["OR"]);
        c.verifications = vec![verified(INSURANCE, "rules"), verified(BANK_ACCOUNT, "p")];
        c.status = Status::InProgress;
        assert_eq!(
            next_status(&c, &rules()),
            None,
            "the contractor submits first"
        );
        c.status = Status::Approved;
        assert_eq!(next_status(&c, &rules()), None);
        c.verifications[0] = failed(INSURANCE);
        let suspension = next_status(&c, &rules()).unwrap();
        assert_eq!(suspension.to, Status::Suspended);
        assert_eq!(suspension.summary()["failed"], json!(["insurance"]));
        c.status = Status::Suspended;
        assert_eq!(
            next_status(&c, &rules()),
            None,
            "stays suspended while it fails"
        );
        c.verifications[0] = verified(INSURANCE, "rules");
        assert_eq!(next_status(&c, &rules()).unwrap().to, Status::Approved);
        c.status = Status::Rejected;
        assert_eq!(next_status(&c, &rules()), None, "rejected is final");
    }
}
