//! Everything stored about one contractor, found by key and index, never by scanning:
//! the items under its own partitions, its documents (GSI1 `DOCS#`), the items kept under
//! other keys (GSI1 `SUBJECT#`: notification log, bank links), its owner lock, its
//! connections, its digest entries, and every object version and delete marker under its
//! prefixes. Export and erasure both start here; each find is classified by the data map.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use domain::privacy::Holding;

use crate::data_map::{item_kind, object_kind};
use crate::{Table, failure, keys};

type Item = HashMap<String, AttributeValue>;

/// One item about the subject, with what the data map says of it (`None`: the map does
/// not name it, which its test forbids).
#[derive(Clone, Debug)]
pub struct FoundItem {
    pub pk: String,
    pub sk: String,
    pub holding: Option<&'static Holding>,
}

/// One object version or delete marker under the subject's prefixes.
#[derive(Clone, Debug)]
pub struct FoundObject {
    pub key: String,
    pub version_id: Option<String>,
    pub delete_marker: bool,
    pub holding: Option<&'static Holding>,
}

#[derive(Clone, Debug, Default)]
pub struct Found {
    pub items: Vec<FoundItem>,
    pub objects: Vec<FoundObject>,
}

#[derive(Clone, Debug)]
pub struct SubjectFinder {
    table: Table,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

fn text(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

impl SubjectFinder {
    pub fn new(table: Table, s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        SubjectFinder {
            table,
            s3,
            bucket: bucket.into(),
        }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(SubjectFinder::new(
            Table::from_env(env, aws)?,
            aws.s3(),
            env.required("DOCUMENTS_BUCKET")?,
        ))
    }

    /// Every page of a query (table or index) as raw items.
    async fn query_all(
        &self,
        index: Option<&str>,
        condition: &str,
        values: &[(&str, String)],
    ) -> Result<Vec<Item>, RepoError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_exclusive_start_key(start.take());
            if index.is_none() {
                q = q.consistent_read(true);
            }
            for (name, value) in values {
                q = q.expression_attribute_values(*name, AttributeValue::S(value.clone()));
            }
            let out = q.send().await.map_err(|e| RepoError::Store(failure(&e)))?;
            found.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }

    /// Everything about `contractor`; `today` bounds the digest days to look at.
    pub async fn find(
        &self,
        contractor: &ContractorId,
        today: chrono::NaiveDate,
    ) -> Result<Found, RepoError> {
        let mut raw: Vec<Item> = Vec::new();
        let own = self
            .query_all(
                None,
                "pk = :pk",
                &[(":pk", keys::contractor_pk(contractor))],
            )
            .await?;
        // The owner lock is keyed by the login, named on the profile.
        let owner = own
            .iter()
            .find(|i| text(i, keys::SK).as_deref() == Some(keys::CONTRACTOR_SK))
            .and_then(|i| text(i, "owner"));
        raw.extend(own);
        if let Some(owner) = owner {
            let pk = format!("OWNER#{owner}");
            if let Some(lock) = self.table.get_item(pk, keys::OWNER_SK).await? {
                raw.push(lock);
            }
        }
        raw.extend(
            self.query_all(None, "pk = :pk", &[(":pk", keys::feed_pk(contractor))])
                .await?,
        );
        let audience = self
            .query_all(
                None,
                "pk = :pk",
                &[(
                    ":pk",
                    keys::audience_pk(&format!("contractor#{contractor}")),
                )],
            )
            .await?;
        for conn in &audience {
            let Some(id) =
                text(conn, keys::SK).and_then(|sk| sk.strip_prefix("CONN#").map(str::to_owned))
            else {
                continue;
            };
            if let Some(by_id) = self
                .table
                .get_item(keys::connection_pk(&id), keys::CONNECTION_SK)
                .await?
            {
                raw.push(by_id);
            }
        }
        raw.extend(audience);
        for pk in [
            keys::contractor_documents_gsi1pk(contractor),
            keys::subject_gsi1pk(contractor.as_str()),
        ] {
            raw.extend(
                self.query_all(Some(keys::GSI1), "gsi1pk = :pk", &[(":pk", pk)])
                    .await?,
            );
        }
        // Digest entries live a fortnight under the day they were earned.
        let shard = crate::digests::shard(contractor);
        for back in -1..=15 {
            let day = today - chrono::Duration::days(back);
            raw.extend(
                self.query_all(
                    None,
                    "pk = :pk AND begins_with(sk, :me)",
                    &[
                        (":pk", keys::digest_pk(day, shard)),
                        (":me", format!("{contractor}#")),
                    ],
                )
                .await?,
            );
        }
        let mut found = Found::default();
        let mut seen = std::collections::HashSet::new();
        for item in raw {
            let (Some(pk), Some(sk)) = (text(&item, keys::PK), text(&item, keys::SK)) else {
                continue;
            };
            if seen.insert((pk.clone(), sk.clone())) {
                found.items.push(FoundItem {
                    holding: item_kind(&pk, &sk).map(|k| &k.holding),
                    pk,
                    sk,
                });
            }
        }
        for prefix in [
            format!("contractors/{contractor}/"),
            format!(
                "{}contractors/{contractor}/",
                crate::objects::QUARANTINE_PREFIX
            ),
        ] {
            found.objects.extend(self.object_versions(&prefix).await?);
        }
        Ok(found)
    }

    async fn object_versions(&self, prefix: &str) -> Result<Vec<FoundObject>, RepoError> {
        let mut found = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| RepoError::Store(failure(&e)))?;
            for v in page.versions() {
                if let Some(key) = v.key() {
                    found.push(FoundObject {
                        key: key.to_owned(),
                        version_id: v.version_id().map(str::to_owned),
                        delete_marker: false,
                        holding: object_kind(key).map(|k| &k.holding),
                    });
                }
            }
            for m in page.delete_markers() {
                if let Some(key) = m.key() {
                    found.push(FoundObject {
                        key: key.to_owned(),
                        version_id: m.version_id().map(str::to_owned),
                        delete_marker: true,
                        holding: object_kind(key).map(|k| &k.holding),
                    });
                }
            }
            if page.is_truncated() == Some(true) {
                key_marker = page.next_key_marker().map(str::to_owned);
                version_marker = page.next_version_id_marker().map(str::to_owned);
            } else {
                return Ok(found);
            }
        }
    }
}
