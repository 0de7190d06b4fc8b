//! The work behind verified provider webhooks (the webhooks queue). TrustLayer's
//! `document.processed` becomes the insurance provider's result on the certificate's
//! requirement (`provider:trustlayer`): compliant → verified, otherwise errors with the
//! provider's reasons. Results are keyed by the provider's event id and ordered by the
//! provider's processing time, so duplicates and out-of-order deliveries give one outcome.
//! Plaid's Auth events (`AUTOMATICALLY_VERIFIED`, `VERIFICATION_EXPIRED`) update the linked
//! account's status and become Plaid's result on the contractor's `bank_account`
//! requirement; other Plaid events need no work and are acknowledged.

use domain::banking::AccountVerification;
use domain::documents::DocumentRepository;
use domain::ids::{ContractorId, DocumentId};
use domain::ports::RepoError;
use domain::verification::Requirement;
use domain::verification::{
    BANK_ACCOUNT, BANK_SOURCES, Finding, INSURANCE, INSURANCE_SOURCES, Outcome, TRUSTLAYER,
    VerificationResult,
};
use platform::sqs::{Backoff, MessageContext, Retries, SqsConsumer};
use platform::{BoxError, Env};
use providers::trustlayer::{PolicyStanding, Reason, RequestCompliance, TrustLayer};
use serde_json::Value;
use store::webhooks::Delivery;
use store::{BankLinks, DynamoDocuments};

pub struct ProcessWebhooks {
    pub metrics_namespace: String,
    pub backoff: Backoff,
    pub verification: store::Verification,
    pub banks: BankLinks,
    pub trustlayer: TrustLayer,
    pub documents: DynamoDocuments,
    pub suppressions: store::DynamoSuppressions,
}

pub async fn build(env: &Env) -> Result<ProcessWebhooks, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(ProcessWebhooks {
        metrics_namespace: platform::metrics::namespace(env),
        backoff: Backoff::from_env(aws.sqs(), env, Retries::Pipeline)?,
        verification: store::verification(env, &aws)?,
        banks: BankLinks::new(store::Table::from_env(env, &aws)?),
        trustlayer: providers::trustlayer::from_env(env, &aws).await?,
        documents: DynamoDocuments::new(store::Table::from_env(env, &aws)?),
        suppressions: store::DynamoSuppressions::new(store::Table::from_env(env, &aws)?),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("malformed webhook message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// TrustLayer could not be read: retried.
    #[error(transparent)]
    Provider(#[from] providers::ProviderError),
}

/// TrustLayer's compliance of a contractor's request records, and the standing of the
/// certificate's policies by number, as one result for the certificate's evidence version:
/// verified when every record is compliant and no policy is cancelled or expired, otherwise
/// errors with TrustLayer's own reasons. `None` while a record has not been evaluated yet.
/// The result is keyed and ordered by the newest `updatedAt` or policy change, so a
/// duplicated or late webhook (which only makes us read everything again) records nothing
/// new.
pub fn trustlayer_result(
    primary: &str,
    records: &[RequestCompliance],
    policies: &[PolicyStanding],
    evidence_version: u32,
) -> Option<VerificationResult> {
    if records.is_empty() || records.iter().any(|r| r.compliant.is_none()) {
        return None;
    }
    let at = records
        .iter()
        .filter_map(|r| r.updated_at)
        .chain(policies.iter().filter_map(|p| p.changed_at))
        .max()
        .unwrap_or_else(chrono::Utc::now);
    let policy_reasons: Vec<&Reason> = policies.iter().flat_map(|p| &p.reasons).collect();
    let outcome = if records.iter().all(|r| r.compliant == Some(true)) && policy_reasons.is_empty()
    {
        Outcome::Verified
    } else {
        let mut findings: Vec<Finding> = Vec::new();
        for record in records.iter().filter(|r| r.compliant == Some(false)) {
            if record.reasons.is_empty() {
                findings.push(Finding {
                    code: "provider_non_compliant".into(),
                    message: "The insurance provider found the certificate non-compliant.".into(),
                });
            }
        }
        let reasons = records
            .iter()
            .flat_map(|r| &r.reasons)
            .chain(policy_reasons);
        {
            for reason in reasons {
                if !findings
                    .iter()
                    .any(|f| f.code == reason.code && f.message == reason.message)
                {
                    findings.push(Finding {
                        code: reason.code.clone(),
                        message: reason.message.clone(),
                    });
                }
            }
        }
        Outcome::Errors { findings }
    };
    let evidence: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({"request_record": r.id, "compliant": r.compliant,
                "updated_at": r.updated_at.map(|t| t.to_rfc3339()),
                "reasons": r.reasons.iter().map(|x| serde_json::json!({"code": x.code, "message": x.message})).collect::<Vec<_>>()})
        })
        .collect();
    Some(VerificationResult {
        id: format!("trustlayer:{primary}:{}", at.timestamp_millis()),
        source: TRUSTLAYER.into(),
        evidence_version,
        outcome,
        at,
        evidence: serde_json::json!({"primary_record": primary, "request_records": evidence,
            "policies": policies.iter().map(|p| serde_json::json!({"number": p.number,
                "reasons": p.reasons.iter().map(|x| x.code.as_str()).collect::<Vec<_>>()})).collect::<Vec<_>>()}),
        valid_until: None,
    })
}

impl ProcessWebhooks {
    /// A TrustLayer compliance webhook: the records it names are read back (the webhook is
    /// a hint; TrustLayer's API is the truth), the contractor found by the primary record's
    /// external code, and the compliance of all its request records recorded as TrustLayer's
    /// result on the current certificate.
    async fn trustlayer(
        &self,
        event_id: &str,
        body: &Value,
        ctx: &MessageContext,
    ) -> Result<(), ProcessError> {
        let (request_record, primary) = providers::trustlayer::webhook_records(body);
        let primary = match (request_record, primary) {
            (_, Some(primary)) => primary,
            (Some(id), None) => match self.trustlayer.request_compliance(&id).await? {
                Some(record) => record.primary_record_id,
                None => {
                    tracing::warn!(
                        event_id,
                        "TrustLayer event for a request record it does not know; ignored"
                    );
                    return Ok(());
                }
            },
            (None, None) => {
                tracing::info!(event_id, kind = %body["type"], "TrustLayer event names no record; needs no work");
                return Ok(());
            }
        };
        let contractor = self
            .trustlayer
            .contractor_of(&primary)
            .await?
            .iter()
            .find_map(|code| ContractorId::parse(code));
        let Some(contractor) = contractor else {
            tracing::warn!(
                event_id,
                primary,
                "TrustLayer record of no contractor of ours; ignored"
            );
            return Ok(());
        };
        let Some((requirement, _)) = self
            .verification
            .requirements
            .get(&contractor, INSURANCE)
            .await?
        else {
            tracing::warn!(
                event_id,
                "TrustLayer result for a contractor without an insurance requirement; ignored"
            );
            return Ok(());
        };
        let records = self.trustlayer.compliance(&primary).await?;
        let mut policies = Vec::new();
        for number in self.policy_numbers(&requirement).await? {
            if let Some(policy) = self.trustlayer.policy(&number).await? {
                policies.push(policy);
            }
        }
        let Some(result) =
            trustlayer_result(&primary, &records, &policies, requirement.evidence_version)
        else {
            tracing::info!(
                event_id,
                primary,
                "TrustLayer has not evaluated every request record yet"
            );
            return Ok(());
        };
        match self
            .verification
            .record(
                &contractor,
                INSURANCE,
                &INSURANCE_SOURCES,
                &result,
                ctx.correlation_id.as_str(),
            )
            .await?
        {
            Some(state) => {
                tracing::info!(event_id, contractor_id = %contractor, state = ?state, "provider result recorded");
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

    /// The policy numbers read, surely enough, from the certificate the rules judged (their
    /// result names it), to ask TrustLayer about each policy by number.
    async fn policy_numbers(&self, requirement: &Requirement) -> Result<Vec<String>, ProcessError> {
        let document = requirement
            .results
            .get("rules")
            .and_then(|r| r.id.strip_prefix("rules:"))
            .and_then(|rest| rest.rsplit_once(':'))
            .and_then(|(id, _)| DocumentId::parse(id));
        let Some(document) = document else {
            return Ok(Vec::new());
        };
        let Some(doc) = self.documents.get(&document).await? else {
            return Ok(Vec::new());
        };
        let mut numbers: Vec<String> = doc
            .extraction
            .iter()
            .flat_map(|e| &e.fields)
            .filter(|(name, f)| {
                name.ends_with(".policy_number") && f.confidence >= reading::MIN_CONFIDENCE
            })
            .map(|(_, f)| f.value.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        numbers.sort();
        numbers.dedup();
        Ok(numbers)
    }

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
        let result = link.result(code, self.verification.now());
        let recorded = self
            .verification
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

impl ProcessWebhooks {
    /// SendGrid's Event Webhook batch: bounces, drops and spam reports suppress the
    /// address for every email; unsubscribes for what a contractor may opt out of. Other
    /// events (delivered, open, …) change nothing. Addresses are never logged.
    async fn sendgrid(&self, event_id: &str, body: &Value) -> Result<(), ProcessError> {
        use store::suppressions::Scope;
        let events = body
            .as_array()
            .ok_or_else(|| ProcessError::Malformed("SendGrid events are a JSON array".into()))?;
        let mut suppressed = 0;
        for e in events {
            let Some(address) = e["email"].as_str() else {
                continue;
            };
            let kind = e["event"].as_str().unwrap_or_default();
            let scope = match kind {
                "bounce" | "dropped" | "spamreport" => Scope::Everything,
                "unsubscribe" | "group_unsubscribe" => Scope::OptionalMail,
                _ => continue,
            };
            self.suppressions.add(address, scope, kind).await?;
            suppressed += 1;
        }
        tracing::info!(
            event_id,
            events = events.len(),
            suppressed,
            "SendGrid events recorded"
        );
        Ok(())
    }
}

impl SqsConsumer for ProcessWebhooks {
    const NAME: &'static str = "webhooks-process";
    type Message = Delivery;
    type Error = ProcessError;

    fn backoff(&self) -> Option<&Backoff> {
        Some(&self.backoff)
    }

    async fn handle(&self, delivery: &Delivery, ctx: &MessageContext) -> Result<(), ProcessError> {
        let event_id = delivery.event_id.as_str();
        let body: Value = serde_json::from_str(&delivery.body)
            .map_err(|e| ProcessError::Malformed(format!("body: {e}")))?;
        match delivery.provider.as_str() {
            "trustlayer" => self.trustlayer(event_id, &body, ctx).await,
            "plaid" => self.plaid(event_id, &body, ctx).await,
            "sendgrid" => self.sendgrid(event_id, &body).await,
            other => {
                tracing::warn!(
                    provider = other,
                    event_id,
                    "no consumer for this provider's events; kept in the webhook inbox"
                );
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: &str,
        compliant: Option<bool>,
        at: &str,
        reasons: &[(&str, &str)],
    ) -> RequestCompliance {
        RequestCompliance {
            id: id.into(),
            primary_record_id: "p1".into(),
            compliant,
            updated_at: Some(
                chrono::DateTime::parse_from_rfc3339(at)
                    .unwrap()
                    .with_timezone(&chrono::Utc),
            ),
            reasons: reasons
                .iter()
                .map(|(c, m)| providers::trustlayer::Reason {
                    code: (*c).into(),
                    message: (*m).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn trustlayer_compliance_of_every_request_record_makes_one_result() {
        let ok = [
            record("r1", Some(true), "2026-11-22T10:00:00Z", &[]),
            record("r2", Some(true), "2026-11-22T10:05:00Z", &[]),
        ];
        let r = trustlayer_result("p1", &ok, &[], 2).unwrap();
        assert_eq!(
            (r.outcome.clone(), r.evidence_version),
            (Outcome::Verified, 2)
        );
        assert_eq!(r.id, format!("trustlayer:p1:{}", r.at.timestamp_millis()));
        assert_eq!(r.at.to_rfc3339(), "2026-11-22T10:05:00+00:00");
        let mixed = [
            ok[0].clone(),
            record(
                "r2",
                Some(false),
                "2026-11-22T10:06:00Z",
                &[(
                    "policy_cancelled",
                    "TrustLayer reports General Liability cancelled.",
                )],
            ),
        ];
        assert!(
            matches!(&trustlayer_result("p1", &mixed, &[], 2).unwrap().outcome,
            Outcome::Errors { findings } if findings.len() == 1 && findings[0].code == "policy_cancelled")
        );
        let bare = [record("r3", Some(false), "2026-11-22T10:00:00Z", &[])];
        assert!(
            matches!(&trustlayer_result("p1", &bare, &[], 1).unwrap().outcome,
            Outcome::Errors { findings } if findings[0].code == "provider_non_compliant")
        );
        // A policy cancelled by number (no request record has changed yet) is an error too,
        // dated by the cancellation so it is newer than the compliant verdict.
        let cancelled = PolicyStanding {
            number: "GL1234567".into(),
            reasons: vec![Reason {
                code: "policy_cancelled".into(),
                message: "TrustLayer reports General Liability cancelled.".into(),
            }],
            changed_at: Some(
                chrono::DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
                    .unwrap()
                    .with_timezone(&chrono::Utc),
            ),
        };
        let r = trustlayer_result("p1", &ok, &[cancelled], 2).unwrap();
        assert!(
            matches!(&r.outcome, Outcome::Errors { findings } if findings[0].code == "policy_cancelled")
        );
        assert_eq!(r.at.to_rfc3339(), "2026-11-23T00:00:00+00:00");
        assert_eq!(r.evidence["policies"][0]["number"], "GL1234567");
        let waiting = [
            ok[0].clone(),
            record("r4", None, "2026-11-22T10:00:00Z", &[]),
        ];
        assert!(trustlayer_result("p1", &waiting, &[], 1).is_none());
        assert!(trustlayer_result("p1", &[], &[], 1).is_none());
    }
}
