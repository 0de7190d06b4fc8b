//! Erasing a contractor: everything the subject finder finds, treated as the data map says
//! (ADR 0015). Resumable and idempotent by construction: every run finds what is left and
//! removes up to a budget of it, so a crash mid-way is finished by the next run and a run
//! after the end changes nothing. Order: the tombstone first (what is in progress, the
//! audit head to keep verifying the chain), then the contractor's data key (every sealed
//! copy is unreadable from that moment, backups included), then object versions and delete
//! markers, then items with the profile last; the ledger entry at the end.
//!
//! The ledger lives in S3 (`ledger/erasures/<sha256 of the id>`), not in the table a
//! backup restores: after a restore, [`Eraser::replay`] hashes every contractor it finds
//! and erases again those the ledger names.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use domain::privacy::Erasure;
use sha2::{Digest, Sha256};

use crate::subject::{Found, SubjectFinder};
use crate::{Table, failure, keys};

/// The ledger's prefix in the documents bucket: hashed ids only.
pub const LEDGER_PREFIX: &str = "ledger/erasures/";

/// What a run did, and what it keeps and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErasureRun {
    pub items_deleted: usize,
    pub versions_deleted: usize,
    pub key_shredded: bool,
    /// Holdings kept, with the reason (legal holds, nothing personal).
    pub kept: Vec<(String, String)>,
    /// Nothing is left to erase.
    pub done: bool,
}

#[derive(Clone, Debug)]
pub struct Eraser {
    pub finder: SubjectFinder,
    table: Table,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// The ledger's name for a contractor: the SHA-256 of its id, in hex.
pub fn hashed(contractor: &ContractorId) -> String {
    hex::encode(Sha256::digest(contractor.as_str().as_bytes()))
}

impl Eraser {
    pub fn new(table: Table, s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        let bucket = bucket.into();
        Eraser {
            finder: SubjectFinder::new(table.clone(), s3.clone(), bucket.clone()),
            table,
            s3,
            bucket,
        }
    }

    /// Erases up to `budget` items and object versions of `contractor`.
    pub async fn erase(
        &self,
        contractor: &ContractorId,
        now: chrono::DateTime<chrono::Utc>,
        budget: usize,
    ) -> Result<ErasureRun, RepoError> {
        let found = self.finder.find(contractor, now.date_naive()).await?;
        self.tombstone(contractor, &found, now).await?;
        let mut run = ErasureRun::default();
        let mut left = budget;
        if found.items.iter().any(|i| i.sk == keys::DATA_KEY_SK) && left > 0 {
            self.delete_item(&keys::contractor_pk(contractor), keys::DATA_KEY_SK)
                .await?;
            run.key_shredded = true;
            left -= 1;
        }
        for o in &found.objects {
            if left == 0 {
                break;
            }
            self.delete_version(o).await?;
            run.versions_deleted += 1;
            left -= 1;
        }
        // The profile last: while it exists, whatever started this erasure (a request, the
        // retention job reading drafts by status) can find the contractor again and finish.
        let mut items: Vec<_> = found.items.iter().collect();
        items.sort_by_key(|i| i.sk == keys::CONTRACTOR_SK);
        let mut pending = 0usize;
        for item in items {
            if item.sk == keys::DATA_KEY_SK || item.sk == keys::TOMBSTONE_SK {
                continue;
            }
            match item.holding.map(|h| (h.name, h.erasure)) {
                Some((name, Erasure::LegalHold { reason })) => {
                    note_kept(&mut run, name, reason);
                    continue;
                }
                Some((name, Erasure::NothingPersonal)) => {
                    note_kept(&mut run, name, "holds nothing personal");
                    continue;
                }
                // Unmapped things are erased too: the map's test keeps this empty.
                _ => {}
            }
            if left == 0 {
                pending += 1;
                continue;
            }
            self.delete_item(&item.pk, &item.sk).await?;
            run.items_deleted += 1;
            left -= 1;
        }
        let objects_left = found.objects.len() - run.versions_deleted;
        run.done = pending == 0 && objects_left == 0;
        if run.done && !self.in_ledger(contractor).await? {
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(format!("{LEDGER_PREFIX}{}", hashed(contractor)))
                .content_type("application/json")
                .body(
                    serde_json::json!({"erased_at": now.to_rfc3339()})
                        .to_string()
                        .into_bytes()
                        .into(),
                )
                .send()
                .await
                .map_err(|e| RepoError::Store(failure(&e)))?;
        }
        Ok(run)
    }

    /// The tombstone: no personal data; when erasure began and the audit chain's head (so
    /// the kept audit entries still verify without the profile).
    async fn tombstone(
        &self,
        contractor: &ContractorId,
        found: &Found,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), RepoError> {
        let head = match self
            .table
            .get_item(keys::contractor_pk(contractor), keys::CONTRACTOR_SK)
            .await?
        {
            Some(profile) => match profile.get("audit_head") {
                Some(AttributeValue::S(h)) => Some(h.clone()),
                _ => None,
            },
            None => None,
        };
        let exists = found.items.iter().any(|i| i.sk == keys::TOMBSTONE_SK);
        if exists && head.is_none() {
            return Ok(());
        }
        let mut put = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(keys::PK, AttributeValue::S(keys::contractor_pk(contractor)))
            .key(keys::SK, AttributeValue::S(keys::TOMBSTONE_SK.to_owned()))
            .update_expression(
                "SET entity = :e, contractor_id = :c, erasure_started_at = if_not_exists(erasure_started_at, :now)",
            )
            .expression_attribute_values(":e", AttributeValue::S("tombstone".into()))
            .expression_attribute_values(":c", AttributeValue::S(contractor.to_string()))
            .expression_attribute_values(":now", AttributeValue::S(now.to_rfc3339()));
        if let Some(h) = head {
            put = put
                .update_expression(
                    "SET entity = :e, contractor_id = :c, erasure_started_at = if_not_exists(erasure_started_at, :now), audit_head = :h",
                )
                .expression_attribute_values(":h", AttributeValue::S(h));
        }
        put.send()
            .await
            .map_err(|e| RepoError::Store(failure(&e)))?;
        Ok(())
    }

    /// One object version or delete marker, for good.
    async fn delete_version(&self, o: &crate::subject::FoundObject) -> Result<(), RepoError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(&o.key)
            .set_version_id(o.version_id.clone())
            .send()
            .await
            .map_err(|e| RepoError::Store(failure(&e)))?;
        Ok(())
    }

    async fn delete_item(&self, pk: &str, sk: &str) -> Result<(), RepoError> {
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, AttributeValue::S(pk.to_owned()))
            .key(keys::SK, AttributeValue::S(sk.to_owned()))
            .send()
            .await
            .map_err(|e| RepoError::Store(failure(&e)))?;
        Ok(())
    }

    /// Deletes one document of `contractor`: every object version and delete marker under
    /// its prefixes (original, derivative, quarantine), then its item. Idempotent: a second
    /// call finds nothing. Returns the object versions deleted.
    pub async fn erase_document(
        &self,
        contractor: &ContractorId,
        document: &domain::ids::DocumentId,
    ) -> Result<usize, RepoError> {
        let mut deleted = 0;
        for prefix in [
            format!("contractors/{contractor}/documents/{document}/"),
            format!(
                "{}contractors/{contractor}/documents/{document}/",
                crate::objects::QUARANTINE_PREFIX
            ),
        ] {
            for o in crate::subject::object_versions(&self.s3, &self.bucket, &prefix).await? {
                self.delete_version(&o).await?;
                deleted += 1;
            }
        }
        self.delete_item(&keys::document_pk(document), keys::DOCUMENT_SK)
            .await?;
        Ok(deleted)
    }

    /// Whether the ledger names `contractor`.
    pub async fn in_ledger(&self, contractor: &ContractorId) -> Result<bool, RepoError> {
        match self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key(format!("{LEDGER_PREFIX}{}", hashed(contractor)))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(RepoError::Store(failure(&e))),
        }
    }

    /// After a restore from backup: every contractor the table or bucket holds whose id
    /// the ledger names is erased again, to the end. Returns the contractors re-erased.
    pub async fn replay(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ContractorId>, RepoError> {
        #[derive(serde::Deserialize)]
        struct PartitionKey {
            pk: String,
        }
        let mut candidates = std::collections::BTreeSet::new();
        let contractors: Vec<PartitionKey> = self
            .table
            .scan_all(
                "begins_with(pk, :c)",
                &[],
                &[(":c", "CONTRACTOR#")],
                usize::MAX,
            )
            .await?;
        for PartitionKey { pk } in contractors {
            if let Some(id) = pk.strip_prefix("CONTRACTOR#").and_then(ContractorId::parse) {
                candidates.insert(id.to_string());
            }
        }
        // Files restored without their items count too.
        for prefix in [
            "contractors/".to_owned(),
            format!("{}contractors/", crate::objects::QUARANTINE_PREFIX),
            format!("{}contractors/", crate::privacy_jobs::EXPORTS_PREFIX),
        ] {
            let mut token = None;
            loop {
                let page = self
                    .s3
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(&prefix)
                    .delimiter("/")
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .map_err(|e| RepoError::Store(failure(&e)))?;
                for p in page.common_prefixes() {
                    if let Some(id) = p
                        .prefix()
                        .and_then(|p| p.strip_prefix(&prefix))
                        .map(|p| p.trim_end_matches('/'))
                        .and_then(ContractorId::parse)
                    {
                        candidates.insert(id.to_string());
                    }
                }
                match page.next_continuation_token() {
                    Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                    _ => break,
                }
            }
        }
        let mut replayed = Vec::new();
        for id in candidates {
            let Some(id) = ContractorId::parse(&id) else {
                continue;
            };
            if !self.in_ledger(&id).await? {
                continue;
            }
            while !self.erase(&id, now, 500).await?.done {}
            replayed.push(id);
        }
        Ok(replayed)
    }
}

fn note_kept(run: &mut ErasureRun, name: &str, reason: &str) {
    if !run.kept.iter().any(|(n, _)| n == name) {
        run.kept.push((name.to_owned(), reason.to_owned()));
    }
}
