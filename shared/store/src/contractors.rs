//! [`ContractorRepository`] on DynamoDB: every commit is one transaction of the contractor
//! (conditional on its version), its audit entry and its outbox events. After the commit the
//! events are published and their outbox items removed; what fails to publish stays in the
//! outbox for the relay (`events-relay`).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use domain::audit::AuditEntry;
use domain::contractor::{Contractor, Status};
use domain::ids::{ContractorId, OwnerId};
use domain::ports::{Commit, ContractorRepository, Page, RepoError};
use platform::events::SnsPublisher;
use serde::{Deserialize, Serialize};

use crate::outbox::{OutboxItem, publish_committed};
use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoContractors {
    table: Table,
    publisher: Option<SnsPublisher>,
}

impl DynamoContractors {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoContractors {
            table: Table::new(client, table),
            publisher: None,
        }
    }

    /// Publishes committed events right away (else only the relay does).
    pub fn with_publisher(mut self, publisher: SnsPublisher) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// The adapter for `TABLE_NAME`, publishing to `EVENTS_TOPIC_ARN` when set.
    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        let repo = DynamoContractors::new(aws.dynamodb(), env.required("TABLE_NAME")?);
        Ok(match env.get("EVENTS_TOPIC_ARN") {
            Some(_) => repo.with_publisher(SnsPublisher::from_env(env, aws)?),
            None => repo,
        })
    }
}

/// The stored contractor: keys and index attributes around the domain record.
#[derive(Serialize, Deserialize)]
struct ContractorItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    #[serde(flatten)]
    contractor: Contractor,
}

impl ContractorItem {
    fn from_domain(c: &Contractor) -> Self {
        ContractorItem {
            pk: keys::contractor_pk(&c.id),
            sk: keys::CONTRACTOR_SK.to_owned(),
            entity: "contractor".to_owned(),
            gsi1pk: keys::status_gsi1pk(c.status.as_str()),
            gsi1sk: format!(
                "{}#{}",
                c.updated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                c.id
            ),
            contractor: c.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: AuditEntry,
}

fn store_err(err: impl std::error::Error + Send + Sync + 'static) -> RepoError {
    RepoError::Store(Box::new(err))
}

type Item = HashMap<String, AttributeValue>;

pub(crate) fn put(
    table: &str,
    item: Item,
    condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
) -> Result<TransactWriteItem, RepoError> {
    let mut p = Put::builder().table_name(table).set_item(Some(item));
    if let Some((expr, values)) = condition {
        p = p.condition_expression(expr);
        for (k, v) in values {
            p = p.expression_attribute_values(k, v);
        }
    }
    Ok(TransactWriteItem::builder()
        .put(p.build().map_err(store_err)?)
        .build())
}

/// The cancellation reason codes of a failed transaction, by item index.
pub(crate) fn cancellation_codes(
    err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
) -> Vec<Option<String>> {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => c
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A cancelled or failed transaction: the reasons by item index, and the error to report.
struct TransactFailure {
    codes: Vec<Option<String>>,
    error: RepoError,
}

impl TransactFailure {
    fn code(&self, index: usize) -> Option<&str> {
        self.codes.get(index).and_then(|c| c.as_deref())
    }
}

impl DynamoContractors {
    /// Writes `items` with the commit's audit entry and outbox events in one transaction,
    /// then publishes the events.
    async fn transact(
        &self,
        mut items: Vec<TransactWriteItem>,
        commit: &Commit,
    ) -> Result<(), TransactFailure> {
        let failed = |error: RepoError| TransactFailure {
            codes: Vec::new(),
            error,
        };
        items.extend(self.common_items(commit).map_err(failed)?);
        match self
            .table
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => {
                self.after_commit(commit).await;
                Ok(())
            }
            Err(err) => Err(TransactFailure {
                codes: cancellation_codes(&err),
                error: RepoError::Store(crate::failure(&err)),
            }),
        }
    }

    fn common_items(&self, commit: &Commit) -> Result<Vec<TransactWriteItem>, RepoError> {
        let audit = AuditItem {
            pk: keys::contractor_pk(&commit.contractor.id),
            sk: keys::audit_sk(commit.audit.seq),
            entity: "audit".to_owned(),
            entry: commit.audit.clone(),
        };
        let mut items = vec![put(
            &self.table.name,
            serde_dynamo::to_item(audit).map_err(store_err)?,
            Some(("attribute_not_exists(pk)", vec![])),
        )?];
        for event in &commit.events {
            let item = serde_dynamo::to_item(OutboxItem::new(event)).map_err(store_err)?;
            items.push(put(&self.table.name, item, None)?);
        }
        Ok(items)
    }

    async fn after_commit(&self, commit: &Commit) {
        publish_committed(self.publisher.as_ref(), &self.table, &commit.events).await;
    }

    async fn owner_contractor_id(
        &self,
        owner: &OwnerId,
    ) -> Result<Option<ContractorId>, RepoError> {
        let item = self
            .table
            .get_item(keys::owner_pk(owner), keys::OWNER_SK)
            .await?;
        Ok(item.and_then(|item| {
            item.get("contractor_id")
                .and_then(|v| v.as_s().ok())
                .and_then(|s| ContractorId::parse(s))
        }))
    }
}

impl DynamoContractors {
    /// Contractors in `status` whose last change fell between `from` and `to`, oldest first
    /// (the idle-draft reminder reads it). At most `cap`; `true` when more remain.
    pub async fn changed_between(
        &self,
        status: Status,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        cap: usize,
    ) -> Result<(Vec<Contractor>, bool), RepoError> {
        let micros = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        let (items, more) = self
            .table
            .query_index_capped::<ContractorItem>(
                keys::GSI1,
                "gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to",
                &[
                    (":pk", keys::status_gsi1pk(status.as_str())),
                    (":from", micros(from)),
                    (":to", format!("{}$", micros(to))),
                ],
                cap,
            )
            .await?;
        Ok((items.into_iter().map(|i| i.contractor).collect(), more))
    }
}

impl ContractorRepository for DynamoContractors {
    async fn create(&self, commit: &Commit) -> Result<(), RepoError> {
        let c = &commit.contractor;
        let owner_lock: Item = HashMap::from([
            (
                keys::PK.to_owned(),
                AttributeValue::S(keys::owner_pk(&c.owner)),
            ),
            (
                keys::SK.to_owned(),
                AttributeValue::S(keys::OWNER_SK.to_owned()),
            ),
            ("entity".to_owned(), AttributeValue::S("owner".to_owned())),
            (
                "contractor_id".to_owned(),
                AttributeValue::S(c.id.to_string()),
            ),
        ]);
        let items = vec![
            put(
                &self.table.name,
                serde_dynamo::to_item(ContractorItem::from_domain(c)).map_err(store_err)?,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
            put(
                &self.table.name,
                owner_lock,
                Some(("attribute_not_exists(pk)", vec![])),
            )?,
        ];
        match self.transact(items, commit).await {
            Ok(()) => Ok(()),
            Err(failed) => {
                if failed.code(1) == Some("ConditionalCheckFailed")
                    && let Some(existing) = self.owner_contractor_id(&c.owner).await?
                {
                    return Err(RepoError::OwnerAlreadyRegistered { existing });
                }
                Err(failed.error)
            }
        }
    }

    async fn update(&self, commit: &Commit) -> Result<(), RepoError> {
        let c = &commit.contractor;
        let expected = AttributeValue::N((c.version - 1).to_string());
        let mut items = vec![put(
            &self.table.name,
            serde_dynamo::to_item(ContractorItem::from_domain(c)).map_err(store_err)?,
            Some(("version = :expected", vec![(":expected", expected)])),
        )?];
        if let Some(write) = &commit.requirement {
            let requirement = crate::requirements::requirement_put(
                &self.table.name,
                &c.id,
                &write.requirement,
                write.read_version,
            )?;
            items.push(TransactWriteItem::builder().put(requirement).build());
        }
        // The contractor, the requirement if any, then the audit slot: a failed condition on
        // any of them means someone else wrote first.
        let guarded = items.len() + 1;
        match self.transact(items, commit).await {
            Ok(()) => Ok(()),
            // The version check failed, or a concurrent commit took the audit slot or the item.
            Err(failed)
                if (0..guarded).any(|i| failed.code(i) == Some("ConditionalCheckFailed"))
                    || failed
                        .codes
                        .iter()
                        .any(|c| c.as_deref() == Some("TransactionConflict")) =>
            {
                Err(RepoError::VersionConflict)
            }
            Err(failed) => Err(failed.error),
        }
    }

    async fn get(&self, id: &ContractorId) -> Result<Option<Contractor>, RepoError> {
        match self
            .table
            .get_item(keys::contractor_pk(id), keys::CONTRACTOR_SK)
            .await?
        {
            None => Ok(None),
            Some(item) => {
                let stored: ContractorItem = serde_dynamo::from_item(item).map_err(store_err)?;
                let mut contractor = stored.contractor;
                contractor.verifications = crate::requirements::all_of(&self.table, id).await?;
                Ok(Some(contractor))
            }
        }
    }

    async fn find_by_owner(&self, owner: &OwnerId) -> Result<Option<Contractor>, RepoError> {
        match self.owner_contractor_id(owner).await? {
            None => Ok(None),
            Some(id) => self.get(&id).await,
        }
    }

    async fn audit_trail(&self, id: &ContractorId) -> Result<Vec<AuditEntry>, RepoError> {
        let stored: Vec<AuditItem> = self
            .table
            .query_prefix(keys::contractor_pk(id), keys::AUDIT_PREFIX)
            .await?;
        Ok(stored.into_iter().map(|a| a.entry).collect())
    }

    async fn list_by_status(
        &self,
        status: Status,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Contractor>, RepoError> {
        let start = match cursor {
            None => None,
            Some(c) => Some(
                decode_cursor(c)
                    .ok_or_else(|| store_err(crate::StoreFailure("invalid cursor".into())))?,
            ),
        };
        let out = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(keys::status_gsi1pk(status.as_str())),
            )
            .scan_index_forward(false)
            .limit(limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        let mut items = Vec::new();
        for item in out.items.unwrap_or_default() {
            let stored: ContractorItem = serde_dynamo::from_item(item).map_err(store_err)?;
            items.push(stored.contractor);
        }
        let next = out
            .last_evaluated_key
            .filter(|k| !k.is_empty())
            .map(|k| encode_cursor(&k));
        Ok(Page { items, next })
    }
}

/// Cursors are the opaque, URL-safe form of DynamoDB's last evaluated key (string keys only).
fn encode_cursor(key: &Item) -> String {
    let map: HashMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str())))
        .collect();
    B64.encode(serde_json::to_vec(&map).unwrap_or_default())
}

/// A cursor of the status index: exactly the four keys DynamoDB handed out, none empty. A
/// cursor made up by a caller (`{}`, some keys, other keys) is refused here, before it can
/// make DynamoDB fail.
fn decode_cursor(cursor: &str) -> Option<Item> {
    let bytes = B64.decode(cursor).ok()?;
    let map: HashMap<String, String> = serde_json::from_slice(&bytes).ok()?;
    let keys = ["pk", "sk", "gsi1pk", "gsi1sk"];
    if map.len() != keys.len()
        || !keys.iter().all(|k| {
            map.get(*k)
                .is_some_and(|v| !v.is_empty() && v.len() <= 1024)
        })
    {
        return None;
    }
    Some(
        map.into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect(),
    )
}

/// Whether `cursor` is one this adapter could have produced for the `status` list (for
/// 422 instead of 500): well formed, and from that status's partition.
pub fn is_valid_cursor(cursor: &str, status: &str) -> bool {
    decode_cursor(cursor).is_some_and(|key| {
        key.get("gsi1pk").and_then(|v| v.as_s().ok()) == Some(&keys::status_gsi1pk(status))
    })
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    fn cursor(v: serde_json::Value) -> String {
        B64.encode(serde_json::to_vec(&v).unwrap())
    }

    #[test]
    fn only_cursors_of_the_listed_partition_are_accepted() {
        let good = serde_json::json!({"pk": "CONTRACTOR#c", "sk": "PROFILE", "gsi1pk": keys::status_gsi1pk("under_review"), "gsi1sk": "2026"});
        assert!(is_valid_cursor(&cursor(good.clone()), "under_review"));
        assert!(
            !is_valid_cursor(&cursor(good), "approved"),
            "another status's cursor"
        );
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"pk": "CONTRACTOR#c"}),
            serde_json::json!({"pk": "CONTRACTOR#c", "sk": "PROFILE", "gsi1pk": keys::status_gsi1pk("under_review")}),
            serde_json::json!({"pk": "", "sk": "PROFILE", "gsi1pk": keys::status_gsi1pk("under_review"), "gsi1sk": "x"}),
        ] {
            assert!(
                !is_valid_cursor(&cursor(bad.clone()), "under_review"),
                "{bad}"
            );
        }
        assert!(!is_valid_cursor("not base64!", "under_review"));
    }
}
