//! Everything stored about one contractor, found by key and index, never by scanning:
//! the items under its own partitions, its documents (GSI1 `DOCS#`), the items kept under
//! other keys (GSI1 `SUBJECT#`: notification log, bank links), its owner lock, its
//! connections, its digest entries, and every object version and delete marker under its
//! prefixes. Export and erasure both start here; each find is classified by the data map.

use domain::ids::ContractorId;
use domain::ports::RepoError;
use domain::privacy::Holding;

use crate::data_map::{item_kind, object_kind};
use crate::{Table, failure, keys};

/// An item's keys (and, on the profile, its owner): all the finder reads of it.
#[derive(serde::Deserialize)]
struct Keys {
    pk: String,
    sk: String,
    #[serde(default)]
    owner: Option<String>,
}

impl Keys {
    fn of(pk: String, sk: &str) -> Self {
        Keys {
            pk,
            sk: sk.to_owned(),
            owner: None,
        }
    }
}

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

    /// Everything about `contractor`; `today` bounds the digest days to look at.
    pub async fn find(
        &self,
        contractor: &ContractorId,
        today: chrono::NaiveDate,
    ) -> Result<Found, RepoError> {
        let mut keys_found: Vec<Keys> = Vec::new();
        let own: Vec<Keys> = self
            .table
            .query_prefix(keys::contractor_pk(contractor), "")
            .await?;
        // The owner lock is keyed by the login, named on the profile.
        let owner = own
            .iter()
            .find(|k| k.sk == keys::CONTRACTOR_SK)
            .and_then(|k| k.owner.clone());
        keys_found.extend(own);
        if let Some(owner) = owner {
            let pk = format!("OWNER#{owner}");
            if self
                .table
                .get_item(pk.clone(), keys::OWNER_SK)
                .await?
                .is_some()
            {
                keys_found.push(Keys::of(pk, keys::OWNER_SK));
            }
        }
        keys_found.extend(
            self.table
                .query_prefix::<Keys>(keys::feed_pk(contractor), "")
                .await?,
        );
        let audience: Vec<Keys> = self
            .table
            .query_prefix(keys::audience_pk(&format!("contractor#{contractor}")), "")
            .await?;
        for conn in &audience {
            let Some(id) = conn.sk.strip_prefix("CONN#") else {
                continue;
            };
            let pk = keys::connection_pk(id);
            if self
                .table
                .get_item(pk.clone(), keys::CONNECTION_SK)
                .await?
                .is_some()
            {
                keys_found.push(Keys::of(pk, keys::CONNECTION_SK));
            }
        }
        keys_found.extend(audience);
        for pk in [
            keys::contractor_documents_gsi1pk(contractor),
            keys::subject_gsi1pk(contractor.as_str()),
        ] {
            let (items, _) = self
                .table
                .query_index_capped::<Keys>(keys::GSI1, "gsi1pk = :pk", &[(":pk", pk)], usize::MAX)
                .await?;
            keys_found.extend(items);
        }
        // Digest entries live a fortnight under the day they were earned.
        let shard = crate::digests::shard(contractor);
        for back in -1..=15 {
            let day = today - chrono::Duration::days(back);
            keys_found.extend(
                self.table
                    .query_prefix::<Keys>(keys::digest_pk(day, shard), &format!("{contractor}#"))
                    .await?,
            );
        }
        let mut found = Found::default();
        let mut seen = std::collections::HashSet::new();
        for Keys { pk, sk, .. } in keys_found {
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
            format!(
                "{}contractors/{contractor}/",
                crate::privacy_jobs::EXPORTS_PREFIX
            ),
        ] {
            found
                .objects
                .extend(object_versions(&self.s3, &self.bucket, &prefix).await?);
        }
        Ok(found)
    }
}

/// Every object version and delete marker under `prefix` (empty: the whole bucket), all
/// pages, each classified by the data map.
pub async fn object_versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<FoundObject>, RepoError> {
    let mut found = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
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
