//! The work behind verified provider webhooks (the webhooks queue). TrustLayer's
//! `document.processed` becomes the insurance provider's result on the certificate's
//! requirement (`provider:trustlayer`): compliant → verified, otherwise errors with the
//! provider's reasons. Results are keyed by the provider's event id and ordered by the
//! provider's processing time, so duplicates and out-of-order deliveries give one outcome.
//! Plaid's Auth events (`AUTOMATICALLY_VERIFIED`, `VERIFICATION_EXPIRED`) update the linked
//! account's status and become Plaid's result on the contractor's `bank_account`
//! requirement; other Plaid events need no work and are acknowledged.

use aws_lambda_events::event::sqs::SqsMessage;
use domain::banking::AccountVerification;
use domain::documents::DocumentRepository;
use domain::ids::DocumentId;
use domain::ports::RepoError;
use domain::verification::{
    BANK_ACCOUNT, BANK_SOURCES, Finding, INSURANCE, INSURANCE_SOURCES, Outcome, TRUSTLAYER,
    VerificationResult,
};
use platform::sqs::{Backoff, MessageContext, PIPELINE_RETRIES, SqsConsumer};
use platform::{BoxError, Env};
use serde_json::Value;
use store::{BankLinks, DynamoDocuments, DynamoRequirements};

pub struct ProcessWebhooks {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub documents: DynamoDocuments,
    pub requirements: DynamoRequirements,
    pub banks: BankLinks,
}

pub async fn build(env: &Env) -> Result<ProcessWebhooks, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ProcessWebhooks {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::new(aws.sqs(), &PIPELINE_RETRIES),
        documents: DynamoDocuments::new(store::Table::from_env(env, &aws)?),
        requirements: DynamoRequirements::from_env(env, &aws)?,
        banks: BankLinks::new(store::Table::from_env(env, &aws)?),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("malformed webhook message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// TrustLayer's verdict on a document as a verification result for its evidence version.
pub fn trustlayer_result(
    event_id: &str,
    body: &Value,
    evidence_version: u32,
) -> Option<VerificationResult> {
    let data = &body["data"];
    let at = data["processedAt"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now);
    let outcome = match data["status"].as_str()? {
        "compliant" => Outcome::Verified,
        "non_compliant" => Outcome::Errors {
            findings: data["reasons"]
                .as_array()
                .map(|reasons| {
                    reasons
                        .iter()
                        .map(|r| Finding {
                            code: r["code"]
                                .as_str()
                                .unwrap_or("provider_non_compliant")
                                .to_owned(),
                            message: r["message"]
                                .as_str()
                                .unwrap_or(
                                    "The insurance provider found the certificate non-compliant.",
                                )
                                .to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        },
        "needs_review" => Outcome::ManualReview {
            reason: "the insurance provider could not decide".into(),
        },
        _ => return None,
    };
    Some(VerificationResult {
        id: format!("trustlayer:{event_id}"),
        source: TRUSTLAYER.into(),
        evidence_version,
        outcome,
        at,
        evidence: body.clone(),
        valid_until: None,
    })
}

impl ProcessWebhooks {
    /// Plaid Auth webhooks about micro-deposit verification, by item and account.
    async fn plaid(
        &self,
        event_id: &str,
        body: &Value,
        ctx: &MessageContext,
    ) -> Result<(), ProcessError> {
        let (kind, code) = (
            body["webhook_type"].as_str().unwrap_or_default(),
            body["webhook_code"].as_str().unwrap_or_default(),
        );
        let verification = match (kind, code) {
            ("AUTH", "AUTOMATICALLY_VERIFIED") => AccountVerification::Verified,
            ("AUTH", "VERIFICATION_EXPIRED") => AccountVerification::VerificationExpired,
            // Same-day micro-deposits confirmed by a texted code: the user finishes in Link's
            // update mode, which we don't offer, so a reviewer confirms the account.
            ("AUTH", "SMS_MICRODEPOSITS_VERIFICATION") => {
                AccountVerification::PendingManualVerification
            }
            _ => {
                tracing::info!(event_id, kind, code, "Plaid event needs no work");
                return Ok(());
            }
        };
        let item_id = body["item_id"].as_str().unwrap_or_default();
        let Some(mut link) = self.banks.get(item_id).await? else {
            tracing::warn!(
                event_id,
                item_id,
                "Plaid event for an item we do not know; ignored"
            );
            return Ok(());
        };
        if body["account_id"]
            .as_str()
            .is_some_and(|a| a != link.account_id)
        {
            tracing::info!(
                event_id,
                "Plaid event for another account of the item; ignored"
            );
            return Ok(());
        }
        link.verification = verification;
        self.banks.save(&link).await?;
        let result = link.result(code, chrono::Utc::now());
        let recorded = self
            .requirements
            .record(
                &link.contractor_id,
                BANK_ACCOUNT,
                &BANK_SOURCES,
                &result,
                ctx.correlation_id.as_str(),
            )
            .await?;
        tracing::info!(event_id, item_id, code, state = ?recorded, "bank verification updated");
        Ok(())
    }
}

impl SqsConsumer for ProcessWebhooks {
    const NAME: &'static str = "webhooks-process";
    type Error = ProcessError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, message: &SqsMessage, ctx: &MessageContext) -> Result<(), ProcessError> {
        let envelope: Value = serde_json::from_str(message.body.as_deref().unwrap_or_default())
            .map_err(|e| ProcessError::Malformed(e.to_string()))?;
        let provider = envelope["provider"].as_str().unwrap_or_default();
        let event_id = envelope["event_id"].as_str().unwrap_or_default();
        let body: Value = serde_json::from_str(envelope["body"].as_str().unwrap_or_default())
            .map_err(|e| ProcessError::Malformed(format!("body: {e}")))?;
        match provider {
            "trustlayer" if body["type"] == "document.processed" => {}
            "trustlayer" => {
                tracing::info!(event_id, kind = %body["type"], "TrustLayer event needs no work");
                return Ok(());
            }
            "plaid" => return self.plaid(event_id, &body, ctx).await,
            other => {
                tracing::warn!(
                    provider = other,
                    event_id,
                    "no consumer for this provider's events; kept in the webhook inbox"
                );
                return Ok(());
            }
        }
        let found = match body["data"]["externalId"]
            .as_str()
            .and_then(DocumentId::parse)
        {
            Some(id) => self.documents.get(&id).await?,
            None => None,
        };
        let Some(doc) = found else {
            tracing::warn!(
                event_id,
                "TrustLayer result for a document we do not know; ignored"
            );
            return Ok(());
        };
        let Some(result) = trustlayer_result(event_id, &body, doc.version) else {
            return Err(ProcessError::Malformed(format!(
                "unknown status {}",
                body["data"]["status"]
            )));
        };
        match self
            .requirements
            .record(
                &doc.contractor_id,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result,
                ctx.correlation_id.as_str(),
            )
            .await?
        {
            Some(state) => {
                tracing::info!(event_id, document_id = %doc.id, state = ?state, "provider result recorded");
                platform::metrics::emit_count(
                    &self.metrics_namespace,
                    Self::NAME,
                    "ProviderResultsRecorded",
                    1,
                );
            }
            None => tracing::info!(event_id, "duplicate or stale provider result"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trustlayer_verdicts_map_to_outcomes() {
        let body = serde_json::json!({"id": "e1", "type": "document.processed", "data": {"externalId": "doc_x", "status": "non_compliant", "processedAt": "2026-11-22T10:00:00Z", "reasons": [{"code": "policy_cancelled", "message": "The policy was cancelled."}]}});
        let r = trustlayer_result("e1", &body, 2).unwrap();
        assert_eq!(r.id, "trustlayer:e1");
        assert_eq!(r.evidence_version, 2);
        assert!(
            matches!(&r.outcome, Outcome::Errors { findings } if findings[0].code == "policy_cancelled")
        );
        let ok = serde_json::json!({"data": {"status": "compliant"}});
        assert_eq!(
            trustlayer_result("e2", &ok, 1).unwrap().outcome,
            Outcome::Verified
        );
        assert!(
            trustlayer_result("e3", &serde_json::json!({"data": {"status": "?"}}), 1).is_none()
        );
    }
}
