//! Consumes `document.extracted` events for insurance certificates, and `step.saved` events
//! for the business profile (events topic → verification queue, raw delivery): evaluates the
//! marketplace's compliance rules (for every state the contractor serves) against the
//! certificate's extracted fields — the new one, or the newest again when the legal name or
//! DBA changed — and records the verdict on the contractor's `insurance` requirement,
//! publishing `requirement.updated`; a certificate that passes goes to the insurance verifier.
//! The requirement's state is derived from all its results, so redeliveries and
//! out-of-order events give the same state.

use domain::compliance::{Facts, RuleSet, certificate_result};
use domain::documents::DocumentKind;
use domain::events::DomainEvent;
use domain::evidence::{self, Evidence, EvidenceError};
use domain::pipeline::ObjectStore;
use domain::ports::{ContractorRepository, RepoError};
use domain::verification::{INSURANCE, INSURANCE_SOURCES, Outcome, TRUSTLAYER};
use domain::verifying::{Call, CallError, ProviderGuard};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use providers::ProviderError;
use providers::trustlayer::TrustLayer;
use store::{DynamoBreakers, DynamoContractors, DynamoDocuments, S3Objects, Verification};

pub struct VerifyInsurance {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub contractors: DynamoContractors,
    pub verification: Verification,
    pub rules: RuleSet,
    pub objects: S3Objects,
    pub verifier: TrustLayer,
    /// TrustLayer compliance profile ids by state (`default` for the others).
    pub profiles: std::collections::HashMap<String, String>,
    pub guard: ProviderGuard<DynamoBreakers>,
    pub documents: DynamoDocuments,
}

/// The breaker's name for the insurance verifier.
const PROVIDER: &str = "trustlayer";

pub async fn build(env: &Env) -> Result<VerifyInsurance, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(VerifyInsurance {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Provider)?,
        contractors: DynamoContractors::from_env(env, &aws)?,
        verification: store::verification(env, &aws)?,
        rules: RuleSet::shipped(),
        objects: S3Objects::from_env(env, &aws)?,
        verifier: providers::trustlayer::from_env(env, &aws).await?,
        profiles: providers::trustlayer::profiles_from_env(env)?,
        guard: store::provider_guard(store::Table::from_env(env, &aws)?, PROVIDER, env)?,
        documents: DynamoDocuments::new(store::Table::from_env(env, &aws)?),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Call(#[from] CallError<ProviderError>),
    #[error(transparent)]
    Engine(#[from] domain::pipeline::EngineError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
}

/// What the verifier needs to know about the certificate.
struct Certificate<'a> {
    evidence: &'a Evidence,
    party_name: &'a str,
    states: &'a [String],
}

impl VerifyInsurance {
    /// Sends a certificate that passed our rules to the insurance verifier, through the
    /// provider's circuit breaker. When the breaker is open (or the provider refuses the
    /// document) the requirement goes to manual review with the reason; while it is closed a
    /// failure is retried with backoff.
    async fn submit(
        &self,
        cert: &Certificate<'_>,
        correlation_id: &str,
    ) -> Result<(), VerifyError> {
        if let Some((requirement, _)) = self
            .verification
            .requirements
            .get(&cert.evidence.contractor_id, INSURANCE)
            .await?
            && requirement.evidence_version == cert.evidence.version
            && requirement.results.contains_key(TRUSTLAYER)
        {
            return Ok(()); // the provider has already answered for this certificate
        }
        // The certificate's bytes first: a missing object is our failure, not TrustLayer's.
        let bytes = self
            .objects
            .fetch(&cert.evidence.object_key, None)
            .await?
            .ok_or_else(|| domain::pipeline::EngineError("the certificate is gone".into()))?;
        let now = self.verification.now();
        match self.guard.call(now, self.send_to_trustlayer(cert, bytes)).await? {
            Call::Answered(provider_id) => {
                tracing::info!(document_id = cert.evidence.document_id, provider_id, "submitted to the insurance verifier");
                Ok(())
            }
            Call::Refused(e) => {
                let why = match e {
                    ProviderError::Refused(why) => why,
                    other => other.to_string(),
                };
                self.manual_review(cert.evidence, &format!("The insurance provider refused the certificate ({why}); a reviewer will check it."), correlation_id)
                    .await
            }
            Call::Unavailable(reason) => {
                self.manual_review(cert.evidence, &format!("The insurance provider is unavailable ({reason}); a reviewer will check the certificate."), correlation_id)
                    .await
            }
        }
    }

    /// The contractor as a primary record, a request record under each compliance profile
    /// its states call for, then the certificate uploaded to it. Each step finds what a
    /// previous try made, so a retry repeats nothing but the upload.
    async fn send_to_trustlayer(
        &self,
        cert: &Certificate<'_>,
        bytes: Vec<u8>,
    ) -> Result<String, ProviderError> {
        let primary = self
            .verifier
            .primary_record(cert.evidence.contractor_id.as_str(), cert.party_name)
            .await?;
        let mut profiles: Vec<&String> = cert
            .states
            .iter()
            .filter_map(|s| {
                self.profiles
                    .get(s)
                    .or_else(|| self.profiles.get("default"))
            })
            .collect();
        profiles.sort();
        profiles.dedup();
        for profile in profiles {
            self.verifier
                .request_record(
                    &primary,
                    profile,
                    &format!("Onboarding {}", cert.party_name),
                )
                .await?;
        }
        self.verifier
            .upload_certificate(
                &primary,
                &format!("{}.pdf", cert.evidence.document_id),
                bytes,
            )
            .await
    }

    async fn manual_review(
        &self,
        certificate: &Evidence,
        reason: &str,
        correlation_id: &str,
    ) -> Result<(), VerifyError> {
        self.manual_review_as(certificate, TRUSTLAYER, reason, correlation_id)
            .await
    }

    /// Hands the certificate to a reviewer in place of `source`'s verdict.
    async fn manual_review_as(
        &self,
        certificate: &Evidence,
        source: &str,
        reason: &str,
        correlation_id: &str,
    ) -> Result<(), VerifyError> {
        let handover = certificate.handover(INSURANCE, &INSURANCE_SOURCES, source, correlation_id);
        self.verification.send_to_review(&handover, reason).await?;
        tracing::warn!(
            document_id = certificate.document_id,
            reason,
            "insurance verification sent to manual review"
        );
        platform::metrics::emit_count(
            &self.metrics_namespace,
            Self::NAME,
            "InsuranceManualReview",
            1,
        );
        Ok(())
    }
}

impl VerifyInsurance {
    /// The certificate an event asks to check (a new one, or the newest again after a
    /// business-profile change).
    async fn certificate_of(&self, event: &DomainEvent) -> Result<Option<Evidence>, VerifyError> {
        Ok(evidence::for_event(event, DocumentKind::InsuranceCertificate, &self.documents).await?)
    }
}

impl SqsConsumer for VerifyInsurance {
    const NAME: &'static str = "verification-insurance";
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

    /// Out of tries: a reviewer takes the certificate (the message also goes to the DLQ).
    async fn gave_up(&self, message: &DomainEvent, ctx: &MessageContext, error: &VerifyError) {
        let Ok(Some(evidence)) = self.certificate_of(message).await else {
            return;
        };
        let reason = format!(
            "Automatic verification kept failing ({error}); a reviewer will check the certificate."
        );
        if let Err(e) = self
            .manual_review(&evidence, &reason, ctx.correlation_id.as_str())
            .await
        {
            tracing::error!(error = %e, "could not hand the certificate to a reviewer; the DLQ holds it");
        }
    }

    async fn handle(&self, message: &DomainEvent, ctx: &MessageContext) -> Result<(), VerifyError> {
        let Some(evidence) = self.certificate_of(message).await? else {
            return Ok(());
        };
        let Some(contractor) = self.contractors.get(&evidence.contractor_id).await? else {
            tracing::warn!(contractor_id = %evidence.contractor_id, "no such contractor; event skipped");
            return Ok(());
        };
        if let Some(altered) = evidence.alteration() {
            // Never verified automatically: a person compares it with what the page shows.
            let reason = format!("The certificate may have been altered: {}", altered.message);
            return self
                .manual_review_as(&evidence, "rules", &reason, ctx.correlation_id.as_str())
                .await;
        }
        let (legal_name, dba) = contractor.names();
        let now = self.verification.now();
        let states: Vec<String> = contractor
            .service_area
            .states
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let facts = Facts {
            fields: &evidence.fields,
            legal_name: &legal_name,
            dba: dba.as_deref(),
            today: now.date_naive(),
            waivers: &[],
            problems: &evidence.problems,
        };
        let mut result = certificate_result(
            &self.rules,
            &states,
            &facts,
            &evidence.document_id,
            evidence.version,
            now,
        );
        evidence.tag(&mut result);
        let document_id = evidence.document_id.as_str();
        match self
            .verification
            .record(
                &contractor.id,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result,
                ctx.correlation_id.as_str(),
            )
            .await?
        {
            Some(state) => {
                tracing::info!(document_id, state = ?state, reevaluation = ?evidence.reevaluation, "insurance requirement updated");
                platform::metrics::emit_count(
                    &self.metrics_namespace,
                    Self::NAME,
                    "InsuranceRulesEvaluated",
                    1,
                );
            }
            None => tracing::info!(document_id, "result already recorded or for older evidence"),
        }
        if result.outcome == Outcome::Verified {
            self.submit(
                &Certificate {
                    evidence: &evidence,
                    party_name: &legal_name,
                    states: &states,
                },
                ctx.correlation_id.as_str(),
            )
            .await?;
        }
        Ok(())
    }
}
