//! The onboarding use cases: register, read, save a step, submit, read the audit trail, list
//! for reviewers. Each mutation is one atomic commit of the new state, its audit entry and
//! its events, guarded by the version the caller last saw.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::audit::{Actor, ActorKind, AuditEntry, ChainVerdict, GENESIS, Unsealed, verify_chain};
use crate::contractor::{Consent, Contractor, RegisterContractor, Status, StepState};
use crate::events::{
    ContractorRegistered, ContractorRejected, ContractorSubmitted, DomainEvent, Event,
    StatusChanged, StepSaved,
};
use crate::ids::{ContractorId, OwnerId};
use crate::licensing::LicenseRules;
use crate::lifecycle::{self, IllegalTransition};
use crate::ports::{
    Commit, ContractorRepository, CryptoError, FieldCipher, Page, RepoError, RequirementWrite,
};
use crate::requirements::{self, Requirements};
use crate::standing;
use crate::steps::{ALL_STEPS, AgreementVersions, StepName, StepStatus, validate_save};
use crate::verification::{Recorded, Requirement, VerificationResult};
use crate::verifying::{self, RequirementRepository};
use crate::{Invalid, Violation};

pub use domain_kernel::access::Viewer;

fn changed_meanwhile() -> OnboardingError {
    OnboardingError::Conflict {
        code: "changed_meanwhile",
        detail: "The requirement changed while you decided (new evidence arrived); reload it."
            .into(),
    }
}

/// Facts about the request that the audit trail and consent records keep.
#[derive(Clone, Debug)]
pub struct RequestFacts {
    pub request_id: String,
    pub correlation_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("contractor not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("stale version: the contractor is at version {current}")]
    StaleVersion { current: u64 },
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    ErasureRefused(#[from] domain_kernel::privacy::ErasureRefusal),
}

pub struct Onboarding<R, C> {
    pub contractors: R,
    pub cipher: C,
    pub versions: AgreementVersions,
    /// Which states require a license (what is due, and what approval needs).
    pub licenses: LicenseRules,
}

/// What a step save did, for the response and tests.
#[derive(Debug)]
pub struct Saved {
    pub contractor: Contractor,
    pub step_status: StepStatus,
}

impl<R: ContractorRepository, C: FieldCipher> Onboarding<R, C> {
    pub async fn register(
        &self,
        viewer: &Viewer,
        input: RegisterContractor,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        if !viewer.contractor {
            return Err(OnboardingError::Forbidden(
                "only a contractor registers a business",
            ));
        }
        let owner = OwnerId::parse(&viewer.subject).ok_or(OnboardingError::Forbidden(
            "the token has no usable subject",
        ))?;
        let mut contractor = input.into_contractor(ContractorId::generate(), owner, facts.now)?;
        let audit = self
            .entry(
                viewer.actor(),
                facts,
                "contractor.registered",
                json!({"status_after": Status::Draft}),
            )
            .seal(&contractor.id, 1, facts.now, GENESIS);
        contractor.audit_head = Some(audit.hash.clone());
        let event = DomainEvent::new(
            &contractor.id,
            facts.now,
            &facts.correlation_id,
            Event::ContractorRegistered(ContractorRegistered {
                contractor_version: 1,
                status: Status::Draft,
                services: contractor.trade.services.clone(),
                states: contractor.service_area.states.clone(),
            }),
        );
        self.contractors
            .create(&Commit {
                contractor: contractor.clone(),
                audit,
                events: vec![event],
                requirement: None,
            })
            .await?;
        Ok(contractor)
    }

    /// The contractor `id_or_me` names, if the viewer may see it.
    pub async fn get(
        &self,
        viewer: &Viewer,
        id_or_me: &str,
    ) -> Result<Contractor, OnboardingError> {
        let found = if id_or_me == "me" {
            match OwnerId::parse(&viewer.subject) {
                Some(owner) => self.contractors.find_by_owner(&owner).await?,
                None => None,
            }
        } else {
            match ContractorId::parse(id_or_me) {
                Some(id) => self.contractors.get(&id).await?,
                None => None,
            }
        };
        found
            .filter(|c| c.visible_to(&viewer.subject, viewer.staff))
            .ok_or(OnboardingError::NotFound)
    }

    /// The contractor, for a change by its owner at `if_match`.
    /// The account, if `viewer` owns it (staff may read it, only its owner acts for it).
    pub async fn owned(&self, viewer: &Viewer, id: &str) -> Result<Contractor, OnboardingError> {
        let c = self.get(viewer, id).await?;
        if c.owner.as_str() != viewer.subject {
            return Err(OnboardingError::Forbidden(
                "only the contractor's owner can change its onboarding",
            ));
        }
        Ok(c)
    }

    async fn for_change(
        &self,
        viewer: &Viewer,
        id: &str,
        if_match: u64,
    ) -> Result<Contractor, OnboardingError> {
        let c = self.owned(viewer, id).await?;
        if c.version != if_match {
            return Err(OnboardingError::StaleVersion { current: c.version });
        }
        Ok(c)
    }

    pub async fn save_step(
        &self,
        viewer: &Viewer,
        id: &str,
        if_match: u64,
        step: StepName,
        data: &Value,
        facts: &RequestFacts,
    ) -> Result<Saved, OnboardingError> {
        let before = self.for_change(viewer, id, if_match).await?;
        if !lifecycle::editable(before.status) {
            return Err(OnboardingError::Conflict {
                code: "contractor_not_editable",
                detail: format!(
                    "A contractor that is {} can no longer change its onboarding steps.",
                    before.status.as_str()
                ),
            });
        }
        let saved = before
            .steps
            .get(&step)
            .map(|s| s.data.clone())
            .unwrap_or_default();
        let valid = validate_save(step, &saved, data, facts.now.date_naive(), &self.versions)?;

        let mut after = before.clone();
        if step == StepName::TaxIdentity {
            if let Some(tin) = &valid.tin {
                let context = [("contractor_id", after.id.as_str()), ("field", "tin")];
                after.secrets.tin = Some(
                    self.cipher
                        .encrypt(tin.expose_digits().as_bytes(), &context)
                        .await?,
                );
            } else if !valid.data.contains_key("tin") {
                after.secrets.tin = None;
            }
        }
        if step == StepName::Agreements && valid.status == StepStatus::Complete {
            for (document, key) in [
                ("terms_of_service", "terms_version"),
                ("privacy_notice", "privacy_version"),
            ] {
                let version = valid
                    .data
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let already = after
                    .consents
                    .iter()
                    .rev()
                    .find(|c| c.document == document)
                    .is_some_and(|c| c.version == version && c.withdrawn_at.is_none());
                if !already {
                    after.consents.push(Consent {
                        document: document.to_owned(),
                        version,
                        accepted_at: facts.now,
                        source_ip: facts.source_ip.clone(),
                        user_agent: facts.user_agent.clone(),
                        request_id: facts.request_id.clone(),
                        withdrawn_at: None,
                    });
                }
            }
        }
        after.steps.insert(
            step,
            StepState {
                status: valid.status,
                data: valid.data,
                updated_at: facts.now,
            },
        );
        let next_status = match before.status {
            Status::Draft | Status::UnderReview => Status::InProgress,
            other => other,
        };
        if next_status != before.status {
            lifecycle::check(before.status, next_status)?;
        }
        after.status = next_status;
        let summary = json!({
            "step": step,
            "fields": valid.touched,
            "step_status": valid.status,
            "status_before": before.status,
            "status_after": after.status,
        });
        let events = step_events(&after, &before, step, valid.status, facts);
        let contractor = self
            .commit(
                viewer.actor(),
                before,
                after,
                facts,
                "step.saved",
                summary,
                events,
                None,
            )
            .await?;
        Ok(Saved {
            contractor,
            step_status: valid.status,
        })
    }

    /// Sends a complete onboarding for review.
    pub async fn submit(
        &self,
        viewer: &Viewer,
        id: &str,
        if_match: u64,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        let before = self.for_change(viewer, id, if_match).await?;
        lifecycle::check(before.status, Status::UnderReview)?;
        let incomplete: Vec<&str> = ALL_STEPS
            .iter()
            .filter(|s| before.step_status(**s) != StepStatus::Complete)
            .map(|s| s.as_str())
            .collect();
        if !incomplete.is_empty() {
            return Err(OnboardingError::Conflict {
                code: "requirements_incomplete",
                detail: format!(
                    "Complete these steps before submitting: {}.",
                    incomplete.join(", ")
                ),
            });
        }
        let summary = json!({"status_before": before.status, "status_after": Status::UnderReview});
        let change = StatusChange {
            to: Status::UnderReview,
            action: "contractor.submitted",
            event: Event::ContractorSubmitted(ContractorSubmitted {
                contractor_version: before.version + 1,
            }),
            summary,
        };
        self.change_status(viewer.actor(), before, change, facts)
            .await
    }

    /// Moves the account to `change.to` in one commit: the audit entry `change.action` with
    /// its summary, the event `change.action` with its data, and `status.changed`.
    async fn change_status(
        &self,
        actor: Actor,
        before: Contractor,
        change: StatusChange,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        let mut after = before.clone();
        after.status = change.to;
        let version = before.version + 1;
        let events = vec![
            DomainEvent::new(&after.id, facts.now, &facts.correlation_id, change.event),
            status_changed(&after, before.status, facts, version),
        ];
        self.commit(
            actor,
            before,
            after,
            facts,
            change.action,
            change.summary,
            events,
            None,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &self,
        actor: Actor,
        before: Contractor,
        mut after: Contractor,
        facts: &RequestFacts,
        action: &'static str,
        summary: Value,
        events: Vec<DomainEvent>,
        requirement: Option<RequirementWrite>,
    ) -> Result<Contractor, OnboardingError> {
        after.version = before.version + 1;
        after.updated_at = facts.now;
        let audit = self.entry(actor, facts, action, summary).seal(
            &after.id,
            after.version,
            facts.now,
            before.audit_head.as_deref().unwrap_or(GENESIS),
        );
        after.audit_head = Some(audit.hash.clone());
        match self
            .contractors
            .update(&Commit {
                contractor: after.clone(),
                audit,
                events,
                requirement,
            })
            .await
        {
            Ok(()) => Ok(after),
            // Someone committed between our read and our write: the caller's version is stale.
            Err(RepoError::VersionConflict) => Err(OnboardingError::StaleVersion {
                current: before.version + 1,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// What is due, pending and failed for `c`, under this marketplace's rules.
    pub fn requirements(&self, c: &Contractor) -> Requirements {
        requirements::of(c, &self.licenses)
    }

    /// Moves the account as its verification requirements say ([`crate::standing`]):
    /// approved once everything that applies is verified, suspended when an approved
    /// account's requirement fails, approved again once fixed. `system` is the function
    /// acting. Re-reads on a concurrent change; `None` when the status stays.
    pub async fn settle(
        &self,
        id: &ContractorId,
        system: &str,
        facts: &RequestFacts,
    ) -> Result<Option<Contractor>, OnboardingError> {
        for _ in 0..3 {
            let before = self
                .contractors
                .get(id)
                .await?
                .ok_or(OnboardingError::NotFound)?;
            let Some(next) = standing::next_status(&before, &self.licenses) else {
                return Ok(None);
            };
            lifecycle::check(before.status, next.to)?;
            let change = StatusChange {
                to: next.to,
                action: next.action(),
                event: next.event(before.version + 1),
                summary: next.summary(),
            };
            let actor = Actor {
                kind: ActorKind::System,
                id: system.to_owned(),
            };
            match self.change_status(actor, before, change, facts).await {
                Ok(c) => return Ok(Some(c)),
                Err(OnboardingError::StaleVersion { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(OnboardingError::Repo(RepoError::VersionConflict))
    }

    /// A reviewer closes the account (`rejected`, final) with a reason the contractor reads,
    /// guarded by the version the reviewer looked at. Requirement-level problems are
    /// decided on the requirement instead; this is for the account as a whole (fraud, a
    /// business the marketplace will not work with).
    pub async fn reject(
        &self,
        viewer: &Viewer,
        id: &str,
        if_match: u64,
        reason: &str,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        if !viewer.staff {
            return Err(OnboardingError::Forbidden(
                "only reviewers reject an account",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 1000 {
            return Err(OnboardingError::Invalid(Invalid(vec![Violation {
                field: "reason".into(),
                code: if reason.is_empty() {
                    "required"
                } else {
                    "too_long"
                },
                message: "Say why in at most 1000 characters; the contractor reads it.".into(),
            }])));
        }
        let before = self.get(viewer, id).await?;
        self.refuse_own(viewer, &before, "reject", facts).await?;
        if before.version != if_match {
            return Err(OnboardingError::StaleVersion {
                current: before.version,
            });
        }
        lifecycle::check(before.status, Status::Rejected)?;
        let change = StatusChange {
            to: Status::Rejected,
            action: "contractor.rejected",
            event: Event::ContractorRejected(ContractorRejected {
                contractor_version: before.version + 1,
                reason: reason.to_owned(),
            }),
            summary: json!({"status_before": before.status, "status_after": Status::Rejected, "reason": reason}),
        };
        self.change_status(viewer.actor(), before, change, facts)
            .await
    }

    /// Adds a reviewer's decision on a requirement to the contractor's audit trail (the
    /// account itself is unchanged but for its version).
    /// Separation of duties: staff never claim, decide or reject anything on an account
    /// they own. The refusal is kept in the account's audit trail, with who tried what.
    pub async fn guard_review(
        &self,
        viewer: &Viewer,
        id: &ContractorId,
        action: &'static str,
        facts: &RequestFacts,
    ) -> Result<(), OnboardingError> {
        let contractor = self
            .contractors
            .get(id)
            .await?
            .ok_or(OnboardingError::NotFound)?;
        self.refuse_own(viewer, &contractor, action, facts).await
    }

    /// [`Onboarding::guard_review`] on a contractor already read.
    async fn refuse_own(
        &self,
        viewer: &Viewer,
        contractor: &Contractor,
        action: &'static str,
        facts: &RequestFacts,
    ) -> Result<(), OnboardingError> {
        if contractor.owner.as_str() != viewer.subject {
            return Ok(());
        }
        self.note(
            viewer,
            &contractor.id,
            "review.refused",
            json!({"action": action, "reason": "own_account"}),
            facts,
        )
        .await?;
        Err(OnboardingError::Forbidden(
            "staff may not review or decide their own account",
        ))
    }

    /// The owner withdraws their consent to the privacy notice (docs/privacy.md). The
    /// consent record stays, marked withdrawn (the history is the proof of both). An
    /// account still onboarding has its agreements step reopened, so it cannot be
    /// submitted or approved until the notice is accepted again (an account under review
    /// goes back to in progress); an approved account keeps working under its contract.
    /// Optional emails stop (the caller turns them off). Withdrawing twice changes
    /// nothing the second time. Withdrawing the terms of service is closing the account:
    /// that is erasure.
    pub async fn withdraw_consent(
        &self,
        viewer: &Viewer,
        id: &str,
        if_match: u64,
        document: &str,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        if document != "privacy_notice" {
            let message = if document == "terms_of_service" {
                "The terms of service are the contract itself: to end it, ask for erasure (POST /v1/contractors/{id}/erasure)."
            } else {
                "Only consent to the privacy notice (privacy_notice) can be withdrawn."
            };
            return Err(OnboardingError::Invalid(Invalid(vec![Violation {
                field: "document".into(),
                code: "not_withdrawable",
                message: message.into(),
            }])));
        }
        let before = self.for_change(viewer, id, if_match).await?;
        let Some(index) = before.consents.iter().rposition(|c| c.document == document) else {
            return Err(OnboardingError::Conflict {
                code: "no_consent",
                detail: "There is no consent to the privacy notice to withdraw.".into(),
            });
        };
        if before.consents[index].withdrawn_at.is_some() {
            return Ok(before);
        }
        let mut after = before.clone();
        after.consents[index].withdrawn_at = Some(facts.now);
        let version = after.consents[index].version.clone();
        let mut events = Vec::new();
        if lifecycle::editable(before.status)
            && let Some(step) = after.steps.get_mut(&StepName::Agreements)
        {
            step.data.remove("privacy_version");
            step.status = StepStatus::InProgress;
            step.updated_at = facts.now;
            after.status = match before.status {
                Status::Draft | Status::UnderReview => Status::InProgress,
                other => other,
            };
            if after.status != before.status {
                lifecycle::check(before.status, after.status)?;
            }
            events = step_events(
                &after,
                &before,
                StepName::Agreements,
                StepStatus::InProgress,
                facts,
            );
        }
        let summary = json!({
            "document": document,
            "version": version,
            "status_before": before.status,
            "status_after": after.status,
        });
        self.commit(
            viewer.actor(),
            before,
            after,
            facts,
            "consent.withdrawn",
            summary,
            events,
            None,
        )
        .await
    }

    /// Accepts a request to erase contractor `id` (ADR 0016): its owner with a sign-in
    /// at most five minutes old, not while the account is approved; or staff with a
    /// reason (staff asking about their own account ask as its owner). The request is kept
    /// in the audit trail, which erasure keeps. Returns the contractor as it was.
    pub async fn request_erasure(
        &self,
        viewer: &Viewer,
        id: &str,
        reason: Option<&str>,
        signed_in_at: Option<DateTime<Utc>>,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        use domain_kernel::privacy::{ErasureRequester, may_request_erasure};
        let contractor = self.get(viewer, id).await?;
        let requester = if contractor.owner.as_str() == viewer.subject {
            ErasureRequester::Owner { signed_in_at }
        } else {
            ErasureRequester::Staff {
                reason: reason.unwrap_or_default(),
            }
        };
        may_request_erasure(requester, contractor.status, facts.now)?;
        let summary = match requester {
            ErasureRequester::Owner { .. } => json!({"by": "owner"}),
            ErasureRequester::Staff { reason } => json!({"by": "staff", "reason": reason.trim()}),
        };
        self.note(
            viewer,
            &contractor.id,
            "privacy.erasure_requested",
            summary,
            facts,
        )
        .await?;
        Ok(contractor)
    }

    /// Records a reviewer's `result` on requirement `name` and the decision's audit entry
    /// in one commit (ADR 0005): both or neither. Re-reads on a concurrent change to either;
    /// refuses when new evidence arrived since the reviewer looked (`changed_meanwhile`).
    /// `None` when the requirement already holds this result.
    pub async fn decide<Q: RequirementRepository>(
        &self,
        requirements: &Q,
        viewer: &Viewer,
        id: &ContractorId,
        name: &str,
        result: &VerificationResult,
        facts: &RequestFacts,
    ) -> Result<Option<Requirement>, OnboardingError> {
        for _ in 0..3 {
            let Some((mut requirement, read_version)) = requirements.get(id, name).await? else {
                return Err(changed_meanwhile());
            };
            if requirement.evidence_version != result.evidence_version {
                return Err(changed_meanwhile());
            }
            if requirement.record(result.clone()) != Recorded::Applied {
                return Ok(None);
            }
            let before = self
                .contractors
                .get(id)
                .await?
                .ok_or(OnboardingError::NotFound)?;
            let updated = verifying::updated_event(
                id,
                &requirement,
                read_version + 1,
                &result.source,
                facts.now,
                &facts.correlation_id,
            );
            // What the reviewer wrote for the contractor, never personal data.
            let summary = json!({
                "requirement": name,
                "decision": result.evidence["decision"],
                "reason": result.evidence["reason"],
                "expires_on": result.evidence["expires_on"],
                "evidence_version": requirement.evidence_version,
                "state_after": requirement.state(),
            });
            let after = before.clone();
            let write = RequirementWrite {
                requirement: requirement.clone(),
                read_version,
            };
            match self
                .commit(
                    viewer.actor(),
                    before,
                    after,
                    facts,
                    "requirement.decided",
                    summary,
                    vec![updated],
                    Some(write),
                )
                .await
            {
                Ok(_) => return Ok(Some(requirement)),
                Err(OnboardingError::StaleVersion { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(OnboardingError::Repo(RepoError::VersionConflict))
    }

    /// An audit entry on the contractor that changes nothing else (a decision recorded
    /// elsewhere, a refusal), committed at whatever version the contractor is.
    async fn note(
        &self,
        viewer: &Viewer,
        id: &ContractorId,
        action: &'static str,
        summary: Value,
        facts: &RequestFacts,
    ) -> Result<Contractor, OnboardingError> {
        for _ in 0..3 {
            let before = self
                .contractors
                .get(id)
                .await?
                .ok_or(OnboardingError::NotFound)?;
            let after = before.clone();
            match self
                .commit(
                    viewer.actor(),
                    before,
                    after,
                    facts,
                    action,
                    summary.clone(),
                    Vec::new(),
                    None,
                )
                .await
            {
                Err(OnboardingError::StaleVersion { .. }) => continue,
                other => return other,
            }
        }
        Err(OnboardingError::Repo(RepoError::VersionConflict))
    }

    pub async fn audit(
        &self,
        viewer: &Viewer,
        id: &str,
    ) -> Result<(Vec<AuditEntry>, ChainVerdict), OnboardingError> {
        let c = self.get(viewer, id).await?;
        let entries = self.contractors.audit_trail(&c.id).await?;
        let verdict = verify_chain(&entries, c.audit_head.as_deref());
        Ok((entries, verdict))
    }

    pub async fn list(
        &self,
        viewer: &Viewer,
        status: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Contractor>, OnboardingError> {
        if !viewer.staff {
            return Err(OnboardingError::Forbidden(
                "listing contractors is for reviewers",
            ));
        }
        let status: Status = serde_json::from_value(Value::String(status.to_owned())).map_err(|_| {
            Invalid(vec![Violation {
                field: "status".into(),
                code: "invalid_choice",
                message: "Use one of draft, in_progress, under_review, approved, rejected, suspended.".into(),
            }])
        })?;
        if !(1..=100).contains(&limit) {
            return Err(Invalid(vec![Violation {
                field: "limit".into(),
                code: "out_of_range",
                message: "limit must be between 1 and 100.".into(),
            }])
            .into());
        }
        Ok(self
            .contractors
            .list_by_status(status, limit, cursor)
            .await?)
    }

    fn entry(
        &self,
        actor: Actor,
        facts: &RequestFacts,
        action: &'static str,
        summary: Value,
    ) -> Unsealed {
        Unsealed {
            actor,
            action,
            summary,
            request_id: facts.request_id.clone(),
            correlation_id: facts.correlation_id.clone(),
        }
    }
}

/// A move of the account's status, as [`Onboarding::change_status`] commits it.
struct StatusChange {
    to: Status,
    /// The audit action (the event's type).
    action: &'static str,
    /// The event announcing the move.
    event: Event,
    /// The audit entry's summary.
    summary: Value,
}

/// A step's save as events: `step.saved`, and `status.changed` when the account moved.
fn step_events(
    after: &Contractor,
    before: &Contractor,
    step: StepName,
    step_status: StepStatus,
    facts: &RequestFacts,
) -> Vec<DomainEvent> {
    let mut events = vec![DomainEvent::new(
        &after.id,
        facts.now,
        &facts.correlation_id,
        Event::StepSaved(StepSaved {
            contractor_version: before.version + 1,
            step,
            step_status,
            percent_complete: after.percent_complete(),
        }),
    )];
    if after.status != before.status {
        events.push(status_changed(
            after,
            before.status,
            facts,
            before.version + 1,
        ));
    }
    events
}

fn status_changed(c: &Contractor, from: Status, facts: &RequestFacts, version: u64) -> DomainEvent {
    DomainEvent::new(
        &c.id,
        facts.now,
        &facts.correlation_id,
        Event::StatusChanged(StatusChanged {
            contractor_version: version,
            from,
            to: c.status,
        }),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ports::memory::{MemoryContractors, TestCipher};

    fn service() -> Onboarding<Arc<MemoryContractors>, TestCipher> {
        Onboarding {
            contractors: Arc::new(MemoryContractors::default()),
            cipher: TestCipher,
            versions: AgreementVersions {
                terms: "2026-09".into(),
                privacy: "2026-09".into(),
            },
            licenses: LicenseRules::shipped(),
        }
    }

    fn dana() -> Viewer {
        Viewer {
            subject: "auth0|dana".into(),
            staff: false,
            admin: false,
            contractor: true,
        }
    }

    fn facts() -> RequestFacts {
        RequestFacts {
            request_id: "req".into(),
            correlation_id: "corr".into(),
            source_ip: Some("203.0.113.7".into()),
            user_agent: Some("phone".into()),
            now: Utc::now(),
        }
    }

    fn registration() -> RegisterContractor {
        serde_json::from_value(json!({
            "business_name": "Bright Nights LLC",
            "contact": {"name": "Dana Reyes", "email": "dana@brightnights.example", "phone": "2145550142"},
            "service_area": {"states": ["TX"]},
            "trade": {"crew_size": 3, "services": ["permanent_lighting"]}
        }))
        .unwrap()
    }

    fn complete_steps() -> Vec<(StepName, Value)> {
        vec![
            (
                StepName::BusinessProfile,
                json!({"legal_name": "Bright Nights LLC", "entity_type": "llc", "phone": "2145550142",
                       "address": {"line1": "1 Elm St", "city": "Dallas", "state": "TX", "zip": "75201"}}),
            ),
            (
                StepName::TaxIdentity,
                json!({"tin_type": "ein", "tin": "12-3456789", "name_on_return": "Bright Nights LLC", "tax_classification": "llc_s"}),
            ),
            (
                StepName::License,
                json!({"state": "TX", "number": "TECL-12345", "expires_on": "2030-01-31"}),
            ),
            (
                StepName::Insurance,
                json!({"carrier": "Acme Mutual", "policy_number": "GL-1", "each_occurrence_limit": 1000000,
                       "general_aggregate_limit": 2000000, "effective_on": "2026-01-01", "expires_on": "2030-01-01"}),
            ),
            (
                StepName::BankAccount,
                json!({"account_holder_name": "Bright Nights LLC", "link_method": "plaid"}),
            ),
            (
                StepName::Agreements,
                json!({"terms_version": "2026-09", "privacy_version": "2026-09"}),
            ),
        ]
    }

    #[tokio::test]
    async fn withdrawing_privacy_consent_reopens_the_agreements_and_keeps_the_history() {
        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        let id = c.id.to_string();
        let mut version = c.version;
        // Nothing accepted yet: nothing to withdraw.
        let none = s
            .withdraw_consent(&dana(), &id, version, "privacy_notice", &facts())
            .await;
        assert!(matches!(
            none,
            Err(OnboardingError::Conflict {
                code: "no_consent",
                ..
            })
        ));
        for (step, data) in complete_steps() {
            version = s
                .save_step(&dana(), &id, version, step, &data, &facts())
                .await
                .unwrap()
                .contractor
                .version;
        }
        let submitted = s.submit(&dana(), &id, version, &facts()).await.unwrap();
        assert_eq!(submitted.status, Status::UnderReview);
        let terms = s
            .withdraw_consent(
                &dana(),
                &id,
                submitted.version,
                "terms_of_service",
                &facts(),
            )
            .await;
        assert!(matches!(terms, Err(OnboardingError::Invalid(_))));
        let stale = s
            .withdraw_consent(
                &dana(),
                &id,
                submitted.version - 1,
                "privacy_notice",
                &facts(),
            )
            .await;
        assert!(matches!(stale, Err(OnboardingError::StaleVersion { .. })));
        let reviewer = Viewer {
            subject: "auth0|rita".into(),
            staff: true,
            admin: false,
            contractor: false,
        };
        let theirs = s
            .withdraw_consent(
                &reviewer,
                &id,
                submitted.version,
                "privacy_notice",
                &facts(),
            )
            .await;
        assert!(
            matches!(theirs, Err(OnboardingError::Forbidden(_))),
            "only the owner withdraws"
        );

        let after = s
            .withdraw_consent(&dana(), &id, submitted.version, "privacy_notice", &facts())
            .await
            .unwrap();
        assert_eq!(after.status, Status::InProgress, "out of the review queue");
        assert_eq!(
            after.step_status(StepName::Agreements),
            StepStatus::InProgress
        );
        assert!(
            after.steps[&StepName::Agreements]
                .data
                .get("privacy_version")
                .is_none()
        );
        let privacy: Vec<_> = after
            .consents
            .iter()
            .filter(|c| c.document == "privacy_notice")
            .collect();
        assert_eq!(privacy.len(), 1, "the record stays");
        assert!(privacy[0].withdrawn_at.is_some());
        assert!(
            s.requirements(&after)
                .currently_due
                .contains(&"agreements".to_owned())
        );
        // Twice: nothing more happens.
        let again = s
            .withdraw_consent(&dana(), &id, after.version, "privacy_notice", &facts())
            .await
            .unwrap();
        assert_eq!(again.version, after.version);
        // Accepting again is a new record beside the withdrawn one.
        let (_, agreements) = complete_steps().pop().unwrap();
        let accepted = s
            .save_step(
                &dana(),
                &id,
                after.version,
                StepName::Agreements,
                &agreements,
                &facts(),
            )
            .await
            .unwrap()
            .contractor;
        let privacy: Vec<_> = accepted
            .consents
            .iter()
            .filter(|c| c.document == "privacy_notice")
            .collect();
        assert_eq!(privacy.len(), 2);
        assert!(privacy[1].withdrawn_at.is_none());
        let (trail, verdict) = s.audit(&dana(), &id).await.unwrap();
        assert!(trail.iter().any(|e| e.action == "consent.withdrawn"));
        assert!(verdict.valid, "{verdict:?}");
    }

    #[tokio::test]
    async fn a_full_wizard_run_from_draft_to_under_review() {
        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        assert_eq!(c.status, Status::Draft);
        let id = c.id.to_string();
        let mut version = c.version;
        for (step, data) in complete_steps() {
            let saved = s
                .save_step(&dana(), &id, version, step, &data, &facts())
                .await
                .unwrap();
            assert_eq!(saved.step_status, StepStatus::Complete, "{step}");
            assert_eq!(saved.contractor.status, Status::InProgress);
            version = saved.contractor.version;
        }
        let c = s.get(&dana(), "me").await.unwrap();
        assert_eq!(c.percent_complete(), 100);
        assert_eq!(c.consents.len(), 2);
        // The API representation built from these is checked in `wiring::views`.
        assert_eq!(c.steps[&StepName::TaxIdentity].data["tin"], "**-***6789");
        assert!(
            !serde_json::to_string(&c.steps)
                .unwrap()
                .contains("123456789"),
            "the TIN is kept only encrypted"
        );
        assert!(c.secrets.tin.is_some());
        let requirements = s.requirements(&c);
        assert!(requirements.currently_due.is_empty());
        assert_eq!(
            requirements.pending_verification,
            ["tax_identity", "license", "insurance", "bank_account"]
        );

        let submitted = s.submit(&dana(), &id, version, &facts()).await.unwrap();
        assert_eq!(submitted.status, Status::UnderReview);
        let (trail, verdict) = s.audit(&dana(), &id).await.unwrap();
        assert_eq!(trail.len(), 8);
        assert!(verdict.valid, "{verdict:?}");
        let events = s
            .contractors
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.kind().to_owned())
            .collect::<Vec<_>>();
        assert_eq!(
            events.first().map(String::as_str),
            Some("contractor.registered")
        );
        assert!(
            events.contains(&"status.changed".to_owned())
                && events.contains(&"contractor.submitted".to_owned())
        );
        assert!(
            !serde_json::to_string(&trail).unwrap().contains("3456789"),
            "no TIN in the audit trail"
        );
    }

    #[tokio::test]
    async fn stale_versions_and_strangers_are_refused() {
        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        let id = c.id.to_string();
        let data = json!({"state": "TX"});
        assert!(matches!(
            s.save_step(&dana(), &id, 7, StepName::License, &data, &facts())
                .await,
            Err(OnboardingError::StaleVersion { current: 1 })
        ));
        let eve = Viewer {
            subject: "auth0|eve".into(),
            ..dana()
        };
        assert!(matches!(
            s.save_step(&eve, &id, 1, StepName::License, &data, &facts())
                .await,
            Err(OnboardingError::NotFound)
        ));
        let rita = Viewer {
            subject: "auth0|rita".into(),
            staff: true,
            admin: false,
            contractor: false,
        };
        assert!(matches!(
            s.save_step(&rita, &id, 1, StepName::License, &data, &facts())
                .await,
            Err(OnboardingError::Forbidden(_))
        ));
        assert!(s.list(&dana(), "draft", 10, None).await.is_err());
        assert_eq!(
            s.list(&rita, "draft", 10, None).await.unwrap().items.len(),
            1
        );
    }

    #[tokio::test]
    async fn submitting_early_or_twice_is_a_conflict_with_a_code() {
        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        let id = c.id.to_string();
        let err = s.submit(&dana(), &id, 1, &facts()).await.unwrap_err();
        assert!(
            matches!(err, OnboardingError::IllegalTransition(_)),
            "draft cannot be submitted: {err:?}"
        );
        let saved = s
            .save_step(
                &dana(),
                &id,
                1,
                StepName::License,
                &json!({"state": "TX"}),
                &facts(),
            )
            .await
            .unwrap();
        let err = s
            .submit(&dana(), &id, saved.contractor.version, &facts())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            OnboardingError::Conflict {
                code: "requirements_incomplete",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn only_contractors_register_and_staff_never_review_their_own_account() {
        let s = service();
        let reviewer_only = Viewer {
            subject: "auth0|rex".into(),
            staff: true,
            admin: false,
            contractor: false,
        };
        assert!(matches!(
            s.register(&reviewer_only, registration(), &facts()).await,
            Err(OnboardingError::Forbidden(_))
        ));
        // A reviewer who also holds the contractor role registers a business of their own...
        let both = Viewer {
            contractor: true,
            ..reviewer_only.clone()
        };
        let own = s.register(&both, registration(), &facts()).await.unwrap();
        // ...and may not decide, claim or reject anything on it; the refusal is audited.
        assert!(matches!(
            s.guard_review(&both, &own.id, "decide", &facts()).await,
            Err(OnboardingError::Forbidden(_))
        ));
        assert!(matches!(
            s.reject(&both, own.id.as_str(), 2, "mine", &facts()).await,
            Err(OnboardingError::Forbidden(_))
        ));
        let trail = s.contractors.audit_trail(&own.id).await.unwrap();
        let refused: Vec<&str> = trail
            .iter()
            .filter(|e| e.action == "review.refused")
            .map(|e| e.summary["action"].as_str().unwrap())
            .collect();
        assert_eq!(refused, ["decide", "reject"]);
        assert!(
            trail
                .iter()
                .filter(|e| e.action == "review.refused")
                .all(|e| e.actor.id == "auth0|rex")
        );
        // Another reviewer may.
        let other = Viewer {
            subject: "auth0|ana".into(),
            ..reviewer_only
        };
        assert!(
            s.guard_review(&other, &own.id, "decide", &facts())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_reviewer_rejects_an_account_with_a_reason_once() {
        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        let id = c.id.to_string();
        let ana = Viewer {
            subject: "auth0|ana".into(),
            staff: true,
            admin: false,
            contractor: false,
        };
        let reject = |viewer: Viewer, version: u64, reason: &'static str| {
            let (s, id) = (&s, id.clone());
            async move { s.reject(&viewer, &id, version, reason, &facts()).await }
        };
        assert!(matches!(
            reject(dana(), 1, "no").await,
            Err(OnboardingError::Forbidden(_))
        ));
        assert!(matches!(
            reject(ana.clone(), 1, "  ").await,
            Err(OnboardingError::Invalid(_))
        ));
        assert!(matches!(
            reject(ana.clone(), 7, "fraud").await,
            Err(OnboardingError::StaleVersion { current: 1 })
        ));
        let rejected = reject(ana.clone(), 1, "Duplicate of an account closed for fraud.")
            .await
            .unwrap();
        assert_eq!(rejected.status, Status::Rejected);
        assert!(matches!(
            reject(ana.clone(), 2, "again").await,
            Err(OnboardingError::IllegalTransition(_))
        ));
        let (trail, verdict) = s.audit(&ana, &id).await.unwrap();
        let last = trail.last().unwrap();
        assert_eq!(last.action, "contractor.rejected");
        assert_eq!(last.actor.kind, ActorKind::Reviewer);
        assert!(verdict.valid, "{verdict:?}");
    }

    #[tokio::test]
    async fn a_decision_and_its_audit_entry_are_one_commit() {
        use crate::verification::{
            Decision, INSURANCE, INSURANCE_SOURCES, Outcome, RequirementState, reviewer_result,
        };
        use crate::verifying::memory::MemoryRequirements;

        let s = service();
        let c = s.register(&dana(), registration(), &facts()).await.unwrap();
        let requirements = Arc::new(MemoryRequirements::default());
        let mut waiting = Requirement::new(INSURANCE, &INSURANCE_SOURCES);
        waiting.record(VerificationResult {
            id: "rules:1".into(),
            source: "rules".into(),
            evidence_version: 1,
            outcome: Outcome::ManualReview {
                reason: "The certificate may have been altered.".into(),
            },
            at: Utc::now(),
            evidence: Value::Null,
            valid_until: None,
        });
        requirements
            .items
            .lock()
            .unwrap()
            .insert((c.id.clone(), INSURANCE.to_owned()), (waiting, 4));
        let ana = Viewer {
            subject: "auth0|ana".into(),
            staff: true,
            admin: false,
            contractor: false,
        };
        let approve = Decision::Approve {
            reason: Some("Checked with the agency.".into()),
        };
        let result = reviewer_result(&approve, &ana.subject, 1, Utc::now());
        let after = s
            .decide(&requirements, &ana, &c.id, INSURANCE, &result, &facts())
            .await
            .unwrap()
            .expect("applied");
        assert_eq!(after.state(), RequirementState::Verified);

        // The requirement went with the contractor's commit, not on its own.
        assert!(requirements.events.lock().unwrap().is_empty());
        let writes = s.contractors.requirement_writes.lock().unwrap().clone();
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].read_version, 4);
        assert_eq!(writes[0].requirement, after);
        let (trail, verdict) = s.audit(&ana, &c.id.to_string()).await.unwrap();
        let last = trail.last().unwrap();
        assert_eq!(last.action, "requirement.decided");
        assert_eq!(last.actor.kind, ActorKind::Reviewer);
        assert!(verdict.valid, "{verdict:?}");
        let events = s.contractors.events.lock().unwrap().clone();
        match &events.last().unwrap().event {
            Event::RequirementUpdated(u) => {
                assert_eq!(u.requirement_version, 5);
                assert_eq!(u.state, RequirementState::Verified);
                assert_eq!(u.source, "reviewer");
            }
            other => panic!("expected requirement.updated, got {other:?}"),
        }

        // New evidence since the reviewer looked: refused, nothing written.
        let stale = reviewer_result(&approve, &ana.subject, 0, Utc::now());
        assert!(matches!(
            s.decide(&requirements, &ana, &c.id, INSURANCE, &stale, &facts())
                .await,
            Err(OnboardingError::Conflict {
                code: "changed_meanwhile",
                ..
            })
        ));
        assert_eq!(s.contractors.requirement_writes.lock().unwrap().len(), 1);
    }
}
