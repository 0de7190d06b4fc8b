//! What badges and the progress ring are decided from: a snapshot of the contractor's state
//! (steps, requirements, status, dates), read from the contractor as stored now. Deciding
//! from state rather than from the event at hand is what makes a duplicated, late or
//! shuffled event decide the same thing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use domain_kernel::terms::{ALL_STEPS, RequirementState, Status, StepName, StepStatus};
use domain_onboarding::contractor::Contractor;
use domain_onboarding::requirements::{RequirementError, Requirements};

#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub steps: BTreeMap<StepName, StepStatus>,
    /// Requirements satisfied now: verified, or complete where completion is the
    /// verification (a profile, agreements, a license no served state requires).
    pub satisfied: BTreeSet<String>,
    /// Requirements whose evidence has arrived (an upload, a bank link), or satisfied.
    pub with_evidence: BTreeSet<String>,
    /// Requirements being checked (by rules, a provider or a reviewer).
    pub pending: BTreeSet<String>,
    /// What failed and why, as the contractor reads it.
    pub errors: Vec<RequirementError>,
    /// When the account was approved: when its last requirement was verified (the standing
    /// consumer approves right then), or the last change when nothing was verified.
    pub approved_at: Option<DateTime<Utc>>,
}

impl Facts {
    /// A contractor with nothing done yet, in `status`, registered 2026-10-01 (tests).
    #[cfg(test)]
    pub(crate) fn fresh(status: Status) -> Facts {
        Facts {
            status,
            created_at: "2026-10-01T10:00:00Z".parse().expect("a date"),
            steps: ALL_STEPS
                .iter()
                .map(|s| (*s, StepStatus::NotStarted))
                .collect(),
            satisfied: BTreeSet::new(),
            with_evidence: BTreeSet::new(),
            pending: BTreeSet::new(),
            errors: vec![],
            approved_at: None,
        }
    }

    /// The snapshot of `c`, whose `requirements` were derived with the marketplace's rules.
    pub fn of(c: &Contractor, requirements: &Requirements) -> Facts {
        let mut satisfied = BTreeSet::new();
        let mut with_evidence = BTreeSet::new();
        for step in ALL_STEPS {
            let name = step.as_str().to_owned();
            let verification = c
                .verifications
                .iter()
                .find(|v| v.name == name && v.evidence_version > 0);
            let ok = match verification {
                Some(v) => v.state() == RequirementState::Verified,
                None => {
                    c.step_status(step) == StepStatus::Complete
                        && !requirements.eventually_due.contains(&name)
                }
            };
            if ok || verification.is_some() {
                with_evidence.insert(name.clone());
            }
            if ok {
                satisfied.insert(name);
            }
        }
        let approved_at = (c.status == Status::Approved).then(|| {
            c.verifications
                .iter()
                .flat_map(|v| v.results.values().map(|r| r.at))
                .max()
                .unwrap_or(c.updated_at)
        });
        Facts {
            status: c.status,
            created_at: c.created_at,
            steps: ALL_STEPS.iter().map(|s| (*s, c.step_status(*s))).collect(),
            satisfied,
            with_evidence,
            pending: requirements.pending_verification.iter().cloned().collect(),
            errors: requirements.errors.clone(),
            approved_at,
        }
    }
}
