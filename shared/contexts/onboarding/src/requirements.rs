//! Requirements in the spirit of Stripe Connect: what is due now, what will be due, what is
//! being verified, what failed and why, and why the account cannot work yet.

use serde::Serialize;

use crate::contractor::{Contractor, Status};
use crate::licensing::LicenseRules;
use crate::steps::{ALL_STEPS, StepName, StepStatus};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequirementError {
    pub requirement: String,
    pub code: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Requirements {
    /// Needed now: steps the contractor has not completed.
    pub currently_due: Vec<String>,
    /// Everything not yet verified, including what is currently due.
    pub eventually_due: Vec<String>,
    /// Complete and waiting for a verification (documents, providers, a reviewer).
    pub pending_verification: Vec<String>,
    pub errors: Vec<RequirementError>,
    /// Why the account cannot take jobs yet; `None` once approved.
    pub disabled_reason: Option<String>,
}

/// Steps whose completion is itself the verification (validated input, recorded consent),
/// and the license where no state the contractor serves requires one.
fn verified_on_completion(c: &Contractor, step: StepName, licenses: &LicenseRules) -> bool {
    match step {
        StepName::BusinessProfile | StepName::Agreements => true,
        StepName::License => {
            let states: Vec<&str> = c.service_area.states.iter().map(|s| s.as_str()).collect();
            licenses.required_states(&states).is_empty()
        }
        _ => false,
    }
}

/// What is due, pending, failed and why, for `c` under the marketplace's `licenses` rules
/// (which states require a license).
pub fn of(c: &Contractor, licenses: &LicenseRules) -> Requirements {
    use crate::verification::RequirementState;
    let mut currently_due = Vec::new();
    let mut pending = Vec::new();
    let mut errors = Vec::new();
    for step in ALL_STEPS {
        let name = step.as_str().to_owned();
        // A verification with evidence speaks for its step: verified, failed (what to fix),
        // or still being checked (by a provider or a reviewer).
        let verification = c
            .verifications
            .iter()
            .find(|v| v.name == name && v.evidence_version > 0);
        match (verification.map(|v| v.state()), c.step_status(step)) {
            _ if c.status == Status::Approved => {}
            (Some(RequirementState::Verified), _) => {}
            (Some(RequirementState::Errors), _) => {
                errors.extend(
                    verification
                        .into_iter()
                        .flat_map(|v| v.findings())
                        .map(|f| RequirementError {
                            requirement: name.clone(),
                            code: f.code.clone(),
                            reason: f.message.clone(),
                        }),
                );
                currently_due.push(name);
            }
            (Some(_), _) => pending.push(name),
            (None, StepStatus::Complete) if verified_on_completion(c, step, licenses) => {}
            (None, StepStatus::Complete) => pending.push(name),
            (None, _) => currently_due.push(name),
        }
    }
    let eventually_due: Vec<String> = currently_due
        .iter()
        .chain(pending.iter())
        .cloned()
        .collect();
    let disabled_reason = match c.status {
        Status::Approved => None,
        Status::Rejected => Some("rejected".to_owned()),
        Status::Suspended => Some("suspended".to_owned()),
        Status::UnderReview => Some("under_review".to_owned()),
        _ if !currently_due.is_empty() => Some("requirements.currently_due".to_owned()),
        _ => Some("requirements.pending_submission".to_owned()),
    };
    Requirements {
        currently_due,
        eventually_due,
        pending_verification: pending,
        errors,
        disabled_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contractor::StepState;
    use crate::contractor::tests_support::contractor_serving;

    fn with_complete_license(states: &[&str]) -> Contractor {
        let mut c = contractor_serving(states);
        c.steps.insert(
            StepName::License,
            StepState {
                status: StepStatus::Complete,
                data: serde_json::Map::new(),
                updated_at: chrono::Utc::now(),
            },
        );
        c
    }

    #[test]
    fn a_license_no_served_state_requires_is_not_waited_for() {
        let license = "license".to_owned();
        let oregon = of(
            &with_complete_license(&["OR", "WA"]),
            &LicenseRules::shipped(),
        );
        assert!(!oregon.pending_verification.contains(&license));
        assert!(!oregon.currently_due.contains(&license));
        let california = of(
            &with_complete_license(&["OR", "CA"]),
            &LicenseRules::shipped(),
        );
        assert!(california.pending_verification.contains(&license));
    }

    #[test]
    fn verification_results_show_in_the_contractors_requirements() {
        use crate::verification::{Finding, Outcome, Requirement, VerificationResult};
        let mut c = contractor_serving(&["TX", "OK"]);
        let mut insurance = Requirement::new("insurance", &["rules"]);
        insurance.record(VerificationResult {
            id: "r1".into(),
            source: "rules".into(),
            evidence_version: 1,
            outcome: Outcome::Errors {
                findings: vec![Finding {
                    code: "limit_too_low".into(),
                    message: "Raise the limit.".into(),
                }],
            },
            at: chrono::Utc::now(),
            evidence: serde_json::Value::Null,
            valid_until: None,
        });
        c.verifications.push(insurance.clone());
        let r = of(&c, &LicenseRules::shipped());
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].requirement, "insurance");
        assert_eq!(r.errors[0].code, "limit_too_low");
        assert!(r.currently_due.contains(&"insurance".to_owned()));

        insurance.record(VerificationResult {
            id: "r2".into(),
            source: "rules".into(),
            evidence_version: 2,
            outcome: Outcome::Verified,
            at: chrono::Utc::now(),
            evidence: serde_json::Value::Null,
            valid_until: None,
        });
        c.verifications = vec![insurance];
        let r = of(&c, &LicenseRules::shipped());
        assert!(r.errors.is_empty());
        assert!(!r.currently_due.contains(&"insurance".to_owned()));
        assert!(!r.pending_verification.contains(&"insurance".to_owned()));
        assert!(
            !serde_json::to_string(&c).unwrap().contains("verifications"),
            "never stored with the profile"
        );
    }
}
