//! The two privacy requests a contractor (or staff) can make, as items: an erasure request
//! (`ERASURE#<era>` / `REQUEST`, one per contractor, kept as proof that it was honoured;
//! erasure does not find it) and an export job (`EXPORT#<exp>` / `JOB`, found under the
//! contractor's `SUBJECT#` index so erasure removes it; gone by TTL a day after its
//! archive). Neither holds a personal value: the requester is kept as a SHA-256 digest
//! of their login, enough to let them read the status back.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::ids::{ContractorId, ErasureId, ExportId};
use domain::ports::RepoError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Table, keys};

/// A login, as these records keep it.
pub fn login_digest(subject: &str) -> String {
    hex::encode(Sha256::digest(format!("login:{subject}").as_bytes()))
}

/// Where an erasure request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureStatus {
    /// Accepted; the worker has not begun (or not finished the confirmation email).
    Accepted,
    /// The confirmation went out (or could not); items and files are being removed.
    Erasing,
    Done,
}

/// What was kept, and why (legal holds, nothing personal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptHolding {
    pub holding: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    pub erasure_id: ErasureId,
    pub contractor_id: ContractorId,
    /// `owner` or `staff`.
    pub requested_by: String,
    pub requester_digest: String,
    /// The account owner's login, as a digest: they may read the request even when staff
    /// made it, after their account is gone.
    pub owner_digest: String,
    pub status: ErasureStatus,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `sent`, or why not (`no address`, `suppressed`, …), once decided.
    #[serde(default)]
    pub confirmation: Option<String>,
    #[serde(default)]
    pub items_deleted: usize,
    #[serde(default)]
    pub versions_deleted: usize,
    #[serde(default)]
    pub kept: Vec<KeptHolding>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl ErasureRequest {
    /// Whether the login `subject` asked for it or owned the account.
    pub fn concerns(&self, subject: &str) -> bool {
        let digest = login_digest(subject);
        self.requester_digest == digest || self.owner_digest == digest
    }
}

/// Where an export stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Ready,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub export_id: ExportId,
    pub contractor_id: ContractorId,
    pub requester_digest: String,
    pub status: ExportStatus,
    pub created_at: DateTime<Utc>,
    /// When the archive and its link stop being offered (the object goes by lifecycle).
    pub available_until: DateTime<Utc>,
    #[serde(default)]
    pub object_key: Option<String>,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub entries: Option<usize>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub failure: Option<String>,
}

/// An export's archive key: under the contractor, so erasure finds it; under `exports/`,
/// so a lifecycle rule removes it.
pub fn export_object_key(contractor: &ContractorId, export: &ExportId) -> String {
    format!("{EXPORTS_PREFIX}contractors/{contractor}/{export}.zip")
}

pub const EXPORTS_PREFIX: &str = "exports/";

#[derive(Clone, Debug)]
pub struct PrivacyJobs {
    table: Table,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

impl PrivacyJobs {
    pub fn new(table: Table) -> Self {
        PrivacyJobs { table }
    }

    /// Records `request` unless one exists for its contractor; returns the one that counts
    /// and whether it is new.
    pub async fn open_erasure(
        &self,
        request: &ErasureRequest,
    ) -> Result<(ErasureRequest, bool), RepoError> {
        if self
            .table
            .put_item(erasure_item(request)?, Some("attribute_not_exists(pk)"))
            .await?
        {
            return Ok((request.clone(), true));
        }
        let existing = self
            .erasure(&request.erasure_id)
            .await?
            .ok_or_else(|| RepoError::Store("erasure request vanished".into()))?;
        Ok((existing, false))
    }

    pub async fn erasure(&self, id: &ErasureId) -> Result<Option<ErasureRequest>, RepoError> {
        self.table
            .get_item(keys::erasure_pk(id), keys::ERASURE_SK)
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(|e| RepoError::Store(Box::new(e))))
            .transpose()
    }

    /// Writes the request's progress (the worker is its only writer once accepted).
    pub async fn save_erasure(&self, request: &ErasureRequest) -> Result<(), RepoError> {
        if !self
            .table
            .put_item(erasure_item(request)?, Some("attribute_exists(pk)"))
            .await?
        {
            return Err(RepoError::Store("erasure request vanished".into()));
        }
        Ok(())
    }

    /// Requests not done whose last change is older than `before` (a worker that died, a
    /// message that reached the dead-letter queue): what the daily job sends again. A
    /// scan: the requests are few, and only unfinished ones match.
    pub async fn unfinished_erasures(
        &self,
        before: DateTime<Utc>,
        cap: usize,
    ) -> Result<Vec<ErasureRequest>, RepoError> {
        self.table
            .scan_all(
                "entity = :e AND #status <> :done AND updated_at < :before",
                &[("#status", "status")],
                &[
                    (":e", "erasure_request"),
                    (":done", "done"),
                    // As serde writes `updated_at` (`Z`), so the strings order as the times.
                    (
                        ":before",
                        &before.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    ),
                ],
                cap,
            )
            .await
    }

    /// Writes an export job (new or updated), found under its contractor's subject index
    /// and removed by TTL a day after its archive stops being offered.
    pub async fn save_export(&self, job: &ExportJob) -> Result<(), RepoError> {
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(job).map_err(|e| RepoError::Store(Box::new(e)))?;
        item.insert(keys::PK.into(), s(keys::export_pk(&job.export_id)));
        item.insert(keys::SK.into(), s(keys::EXPORT_SK));
        item.insert("entity".into(), s("export"));
        item.insert(
            "gsi1pk".into(),
            s(keys::subject_gsi1pk(job.contractor_id.as_str())),
        );
        item.insert("gsi1sk".into(), s(format!("EXPORT#{}", job.export_id)));
        item.insert(
            "expires_at".into(),
            AttributeValue::N(
                (job.available_until + chrono::Duration::days(1))
                    .timestamp()
                    .to_string(),
            ),
        );
        self.table.put_item(item, None).await?;
        Ok(())
    }

    pub async fn export(&self, id: &ExportId) -> Result<Option<ExportJob>, RepoError> {
        self.table
            .get_item(keys::export_pk(id), keys::EXPORT_SK)
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(|e| RepoError::Store(Box::new(e))))
            .transpose()
    }
}

/// The erasure request as its item.
fn erasure_item(
    request: &ErasureRequest,
) -> Result<std::collections::HashMap<String, AttributeValue>, RepoError> {
    let mut item: std::collections::HashMap<String, AttributeValue> =
        serde_dynamo::to_item(request).map_err(|e| RepoError::Store(Box::new(e)))?;
    item.insert(keys::PK.into(), s(keys::erasure_pk(&request.erasure_id)));
    item.insert(keys::SK.into(), s(keys::ERASURE_SK));
    item.insert("entity".into(), s("erasure_request"));
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_is_kept_as_a_digest() {
        let d = login_digest("auth0|dana");
        assert_eq!(d.len(), 64);
        assert!(!d.contains("dana"));
        assert_ne!(d, login_digest("auth0|dana2"));
    }

    #[test]
    fn an_export_lives_under_its_contractor() {
        let c = ContractorId::generate();
        let e = ExportId::generate();
        let key = export_object_key(&c, &e);
        assert!(key.starts_with(&format!("exports/contractors/{c}/")));
        assert_eq!(crate::data_map::object_contractor(&key), Some(c.as_str()));
    }
}
