//! Consumes `document.extracted` events for license cards (events topic → license
//! verification queue, raw delivery): looks the card's license up in its state's registry
//! (CSLB, TDLR or DBPR adapter; answers cached for a day), cross-checks the record with the
//! card, the business name and the classifications the states the contractor serves require
//! (data: `config/license-rules.json`), and records the result on the `license` requirement.
//! Each registry sits behind its own circuit breaker; when it is open, or the retries run
//! out, a reviewer gets the card.

use std::collections::BTreeMap;

use domain::documents::DocumentKind;
use domain::events::DomainEvent;
use domain::evidence::{self, Evidence, EvidenceError};
use domain::licensing::{LicenseFacts, LicenseRules, Lookup, license_result};
use domain::ports::{ContractorRepository, RepoError};
use domain::verification::{LICENSE, LICENSE_LOOKUP, LICENSE_SOURCES};
use domain::verifying::{Call, CallError, ProviderGuard};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use providers::ProviderError;
use providers::licenses::Registries;
use store::{
    DynamoBreakers, DynamoContractors, DynamoDocuments, LicenseCache, Table, Verification,
};

pub struct VerifyLicense {
    pub backoff: Backoff,
    pub contractors: DynamoContractors,
    pub verification: Verification,
    pub rules: LicenseRules,
    pub registries: Registries,
    pub cache: LicenseCache,
    /// One breaker per registry, by the rules' registry name.
    pub guards: BTreeMap<String, ProviderGuard<DynamoBreakers>>,
    pub documents: DynamoDocuments,
}

pub async fn build(env: &Env) -> Result<VerifyLicense, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    let table = Table::from_env(env, &aws)?;
    let rules = LicenseRules::shipped();
    let mut guards = BTreeMap::new();
    for rule in rules.states.values() {
        let name = format!("license-{}", rule.registry);
        guards.insert(
            rule.registry.clone(),
            store::provider_guard(table.clone(), &name, env)?,
        );
    }
    Ok(VerifyLicense {
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Provider)?,
        contractors: DynamoContractors::from_env(env, &aws)?,
        verification: store::verification(env, &aws)?,
        registries: Registries::from_env(env)?,
        documents: DynamoDocuments::new(table.clone()),
        cache: LicenseCache::new(
            table,
            chrono::Duration::hours(env.parse_or("LICENSE_CACHE_HOURS", 24)?),
            chrono::Duration::minutes(env.parse_or("LICENSE_NOT_FOUND_CACHE_MINUTES", 15)?),
        ),
        rules,
        guards,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Call(#[from] CallError<ProviderError>),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
}

/// What asking the registry gave.
enum Asked {
    Answer(Lookup),
    /// Don't ask now: the reason goes to a reviewer.
    Unavailable(String),
}

impl VerifyLicense {
    /// The license card an event asks to check (a new card, or the newest one again after
    /// a business-profile change).
    async fn card_of(&self, event: &DomainEvent) -> Result<Option<Evidence>, VerifyError> {
        Ok(evidence::for_event(event, DocumentKind::License, &self.documents).await?)
    }

    /// The registry's answer for `(state, number)`: from the cache, else from the registry
    /// through its breaker (cached on success).
    async fn ask(&self, state: &str, number: &str, card: &str) -> Result<Asked, VerifyError> {
        let now = self.verification.now();
        if let Some(cached) = self.cache.get(state, number, now, card).await? {
            return Ok(Asked::Answer(cached));
        }
        let Some(rule) = self.rules.for_state(state) else {
            return Ok(Asked::Answer(Lookup::NotFound));
        };
        let lookup = self
            .registries
            .lookup(&rule.registry, state, number, now.date_naive());
        match self.guards[&rule.registry].call(now, lookup).await? {
            Call::Answered(lookup) => {
                self.cache.put(state, number, &lookup, now, card).await?;
                Ok(Asked::Answer(lookup))
            }
            Call::Refused(e) => Ok(Asked::Unavailable(e.to_string())),
            Call::Unavailable(reason) => Ok(Asked::Unavailable(reason)),
        }
    }

    async fn to_review(
        &self,
        card: &Evidence,
        reason: &str,
        correlation_id: &str,
    ) -> Result<(), VerifyError> {
        let handover = card.handover(LICENSE, &LICENSE_SOURCES, LICENSE_LOOKUP, correlation_id);
        self.verification.send_to_review(&handover, reason).await?;
        tracing::warn!(document_id = %card.document_id, reason, "license verification sent to manual review");
        Ok(())
    }
}

impl SqsConsumer for VerifyLicense {
    const NAME: &'static str = "verification-license";
    type Message = DomainEvent;
    type Error = VerifyError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    fn retry_hint(&self, error: &VerifyError) -> Option<std::time::Duration> {
        match error {
            VerifyError::Call(e) => e.retry_after(),
            _ => None,
        }
    }

    async fn gave_up(&self, message: &DomainEvent, ctx: &MessageContext, error: &VerifyError) {
        if let Ok(Some(card)) = self.card_of(message).await {
            let reason = format!(
                "The state license lookup kept failing ({error}); a reviewer will check the license."
            );
            if let Err(e) = self
                .to_review(&card, &reason, ctx.correlation_id.as_str())
                .await
            {
                tracing::error!(error = %e, "could not hand the license to a reviewer; the DLQ holds it");
            }
        }
    }

    async fn handle(&self, message: &DomainEvent, ctx: &MessageContext) -> Result<(), VerifyError> {
        let Some(card) = self.card_of(message).await? else {
            return Ok(());
        };
        let Some(contractor) = self.contractors.get(&card.contractor_id).await? else {
            tracing::warn!(contractor_id = %card.contractor_id, "no such contractor; event skipped");
            return Ok(());
        };
        let (legal_name, dba) = contractor.names();
        let served: Vec<&str> = contractor
            .service_area
            .states
            .iter()
            .map(|s| s.as_str())
            .collect();
        let now = self.verification.now();
        let facts = LicenseFacts {
            card: &card.fields,
            legal_name: &legal_name,
            dba: dba.as_deref(),
            served_states: &served,
            today: now.date_naive(),
        };
        let lookup = match facts.lookup_key(&self.rules) {
            Some((state, number)) if !self.rules.required_states(&served).is_empty() => {
                // Boxed: the registry call nests deeply (breaker, cache, HTTP).
                match Box::pin(self.ask(&state, &number, &card.document_id)).await? {
                    Asked::Answer(lookup) => Some(lookup),
                    Asked::Unavailable(reason) => {
                        let why = format!(
                            "{state}'s license registry is unavailable ({reason}); a reviewer will check the license."
                        );
                        return self
                            .to_review(&card, &why, ctx.correlation_id.as_str())
                            .await;
                    }
                }
            }
            _ => None,
        };
        let mut result = license_result(
            &self.rules,
            &facts,
            lookup.as_ref(),
            &card.document_id,
            card.version,
            now,
        );
        card.tag(&mut result);
        let state = self
            .verification
            .record(
                &contractor.id,
                LICENSE,
                &LICENSE_SOURCES,
                &result,
                ctx.correlation_id.as_str(),
            )
            .await?;
        tracing::info!(document_id = %card.document_id, state = ?state, "license requirement updated");
        Ok(())
    }
}
