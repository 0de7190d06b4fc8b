//! Consumes `document.extracted` events for license cards (events topic → license
//! verification queue, raw delivery): looks the card's license up in its state's registry
//! (CSLB, TDLR or DBPR adapter; answers cached for a day), cross-checks the record with the
//! card, the business name and the classifications the states the contractor serves require
//! (data: `config/license-rules.json`), and records the result on the `license` requirement.
//! Each registry sits behind its own circuit breaker; when it is open, or the retries run
//! out, a reviewer gets the card.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsMessage;
use domain::events::DomainEvent;
use domain::extraction::ExtractedField;
use domain::licensing::{LicenseFacts, LicenseRules, Lookup, license_result};
use domain::ports::{ContractorRepository, RepoError};
use domain::steps::StepName;
use domain::verification::{LICENSE, LICENSE_LOOKUP, LICENSE_SOURCES};
use platform::sqs::{Backoff, MessageContext, PROVIDER_RETRIES, SqsConsumer};
use platform::{BoxError, Env};
use providers::ProviderError;
use providers::licenses::Registries;
use store::{DynamoContractors, DynamoRequirements, Gate, LicenseCache, ProviderGuard, Table};

pub struct VerifyLicense {
    pub backoff: Backoff,
    pub contractors: DynamoContractors,
    pub requirements: DynamoRequirements,
    pub rules: LicenseRules,
    pub registries: Registries,
    pub cache: LicenseCache,
    /// One breaker per registry, by the rules' registry name.
    pub guards: BTreeMap<String, ProviderGuard>,
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
            ProviderGuard::new(table.clone(), &name, env)?,
        );
    }
    Ok(VerifyLicense {
        backoff: Backoff::new(aws.sqs(), &PROVIDER_RETRIES),
        contractors: DynamoContractors::from_env(env, &aws)?,
        requirements: DynamoRequirements::from_env(env, &aws)?,
        registries: Registries {
            http: reqwest::Client::new(),
            cslb_url: env.required("LICENSE_REGISTRY_CSLB_URL")?,
            tdlr_url: env.required("LICENSE_REGISTRY_TDLR_URL")?,
            dbpr_url: env.required("LICENSE_REGISTRY_DBPR_URL")?,
        },
        cache: LicenseCache::new(
            table,
            chrono::Duration::hours(env.parse_or("LICENSE_CACHE_HOURS", 24)?),
        ),
        rules,
        guards,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a document event: {0}")]
    NotAnEvent(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// The card a `document.extracted` event is about, when it is a license card.
struct Card {
    contractor_id: domain::ids::ContractorId,
    document_id: String,
    evidence_version: u32,
    fields: BTreeMap<String, ExtractedField>,
}

fn card_of(message: &SqsMessage) -> Result<Option<Card>, VerifyError> {
    let event: DomainEvent = serde_json::from_str(message.body.as_deref().unwrap_or_default())
        .map_err(|e| VerifyError::NotAnEvent(e.to_string()))?;
    if event.kind != domain::pipeline::EVENT_EXTRACTED || event.data["kind"] != "license" {
        return Ok(None);
    }
    let fields = serde_json::from_value(event.data["extraction"]["fields"].clone())
        .map_err(|e| VerifyError::NotAnEvent(format!("extraction fields: {e}")))?;
    Ok(Some(Card {
        contractor_id: event.contractor_id,
        document_id: event.data["document_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        evidence_version: event.data["version"].as_u64().unwrap_or(1) as u32,
        fields,
    }))
}

/// What asking the registry gave.
enum Asked {
    Answer(Lookup),
    /// Don't ask now: the reason goes to a reviewer.
    Unavailable(String),
}

impl VerifyLicense {
    /// The registry's answer for `(state, number)`: from the cache, else from the registry
    /// through its breaker (cached on success).
    async fn ask(&self, state: &str, number: &str) -> Result<Asked, VerifyError> {
        let now = chrono::Utc::now();
        if let Some(cached) = self.cache.get(state, number, now).await? {
            return Ok(Asked::Answer(cached));
        }
        let Some(rule) = self.rules.for_state(state) else {
            return Ok(Asked::Answer(Lookup::NotFound));
        };
        let guard = &self.guards[&rule.registry];
        match guard.gate(now).await? {
            Gate::Call => {}
            Gate::Refused(reason) => return Ok(Asked::Unavailable(reason)),
            Gate::Busy => return Err(RepoError::VersionConflict.into()),
        }
        match self
            .registries
            .lookup(&rule.registry, state, number, now.date_naive())
            .await
        {
            Ok(lookup) => {
                guard.succeeded().await?;
                self.cache.put(state, number, &lookup, now).await?;
                Ok(Asked::Answer(lookup))
            }
            Err(e @ ProviderError::Refused(_)) => Ok(Asked::Unavailable(e.to_string())),
            Err(e) => {
                if guard.failed(now, &e.to_string()).await? {
                    Ok(Asked::Unavailable(e.to_string()))
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn to_review(
        &self,
        card: &Card,
        reason: &str,
        correlation_id: &str,
    ) -> Result<(), VerifyError> {
        self.requirements
            .send_to_review(
                &card.contractor_id,
                LICENSE,
                &LICENSE_SOURCES,
                LICENSE_LOOKUP,
                &card.document_id,
                card.evidence_version,
                reason,
                correlation_id,
            )
            .await?;
        tracing::warn!(document_id = %card.document_id, reason, "license verification sent to manual review");
        Ok(())
    }
}

impl SqsConsumer for VerifyLicense {
    const NAME: &'static str = "verification-license";
    type Error = VerifyError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    fn retry_hint(&self, error: &VerifyError) -> Option<std::time::Duration> {
        match error {
            VerifyError::Provider(ProviderError::RateLimited {
                retry_after_seconds,
            }) => Some(std::time::Duration::from_secs(*retry_after_seconds)),
            _ => None,
        }
    }

    async fn gave_up(&self, message: &SqsMessage, ctx: &MessageContext, error: &VerifyError) {
        if let Ok(Some(card)) = card_of(message) {
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

    async fn handle(&self, message: &SqsMessage, ctx: &MessageContext) -> Result<(), VerifyError> {
        let Some(card) = card_of(message)? else {
            return Ok(());
        };
        let Some(contractor) = self.contractors.get(&card.contractor_id).await? else {
            tracing::warn!(contractor_id = %card.contractor_id, "no such contractor; event skipped");
            return Ok(());
        };
        let profile = contractor
            .steps
            .get(&StepName::BusinessProfile)
            .map(|s| &s.data);
        let text = |k: &str| {
            profile
                .and_then(|d| d.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let legal_name =
            text("legal_name").unwrap_or_else(|| contractor.business_name.as_str().to_owned());
        let dba = text("dba");
        let served: Vec<&str> = contractor
            .service_area
            .states
            .iter()
            .map(|s| s.as_str())
            .collect();
        let now = chrono::Utc::now();
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
                match Box::pin(self.ask(&state, &number)).await? {
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
        let result = license_result(
            &self.rules,
            &facts,
            lookup.as_ref(),
            &card.document_id,
            card.evidence_version,
            now,
        );
        let state = self
            .requirements
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
