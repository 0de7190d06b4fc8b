//! Consumes `document.extracted` events for insurance certificates (events topic →
//! verification queue, raw delivery): evaluates the marketplace's compliance rules (for every
//! state the contractor serves) against the extracted fields and records the verdict on the
//! contractor's `insurance` requirement, publishing `requirement.updated`. The requirement's
//! state is derived from all its results, so redeliveries and out-of-order events give the
//! same state.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsMessage;
use domain::compliance::{Facts, RuleSet, certificate_result};
use domain::events::DomainEvent;
use domain::extraction::ExtractedField;
use domain::ports::{ContractorRepository, RepoError};
use domain::steps::StepName;
use domain::verification::{INSURANCE, INSURANCE_SOURCES};
use platform::sqs::{Backoff, MessageContext, PIPELINE_RETRIES, SqsConsumer};
use platform::{BoxError, Env};
use store::{DynamoContractors, DynamoRequirements};

pub struct VerifyInsurance {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub contractors: DynamoContractors,
    pub requirements: DynamoRequirements,
    pub rules: RuleSet,
}

pub async fn build(env: &Env) -> Result<VerifyInsurance, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(VerifyInsurance {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::new(aws.sqs(), &PIPELINE_RETRIES),
        contractors: DynamoContractors::from_env(env, &aws)?,
        requirements: DynamoRequirements::from_env(env, &aws)?,
        rules: RuleSet::shipped(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not a document event: {0}")]
    NotAnEvent(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl SqsConsumer for VerifyInsurance {
    const NAME: &'static str = "verification-insurance";
    type Error = VerifyError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, message: &SqsMessage, ctx: &MessageContext) -> Result<(), VerifyError> {
        let event: DomainEvent = serde_json::from_str(message.body.as_deref().unwrap_or_default())
            .map_err(|e| VerifyError::NotAnEvent(e.to_string()))?;
        if event.kind != domain::pipeline::EVENT_EXTRACTED
            || event.data["kind"] != "insurance_certificate"
        {
            return Ok(());
        }
        let fields: BTreeMap<String, ExtractedField> =
            serde_json::from_value(event.data["extraction"]["fields"].clone())
                .map_err(|e| VerifyError::NotAnEvent(format!("extraction fields: {e}")))?;
        let document_id = event.data["document_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let evidence_version = event.data["version"].as_u64().unwrap_or(1) as u32;
        let Some(contractor) = self.contractors.get(&event.contractor_id).await? else {
            tracing::warn!(contractor_id = %event.contractor_id, "no such contractor; event skipped");
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
        let now = chrono::Utc::now();
        let result = certificate_result(
            &self.rules,
            &contractor
                .service_area
                .states
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect::<Vec<_>>(),
            &Facts {
                fields: &fields,
                legal_name: &legal_name,
                dba: dba.as_deref(),
                today: now.date_naive(),
                waivers: &[],
            },
            &document_id,
            evidence_version,
            now,
        );
        match self
            .requirements
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
                tracing::info!(document_id, state = ?state, "insurance requirement updated");
                platform::metrics::emit_count(
                    &self.metrics_namespace,
                    Self::NAME,
                    "InsuranceRulesEvaluated",
                    1,
                );
            }
            None => tracing::info!(document_id, "result already recorded or for older evidence"),
        }
        Ok(())
    }
}
