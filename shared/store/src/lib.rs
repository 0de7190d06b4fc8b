//! AWS storage adapters for the domain's ports: DynamoDB (one table holds every entity, see
//! `docs/data-model.md`; this crate is the only place that knows the keys) and S3 upload
//! signing.

pub mod banks;
pub mod breakers;
pub mod contractors;
pub mod data_keys;
pub mod data_map;
pub mod digests;
pub mod documents;
pub mod engagement;
pub mod erasure;
pub mod export;
pub mod idempotency;
pub mod keys;
pub mod licenses;
pub mod notifications;
pub mod objects;
pub mod outbox;
pub mod preferences;
pub mod privacy_jobs;
pub mod requirements;
pub mod sockets;
pub mod subject;
pub mod suppressions;
pub mod webhooks;

pub use banks::BankLinks;
pub use breakers::{DynamoBreakers, email_provider_guard, provider_guard};
pub use contractors::DynamoContractors;
pub use data_keys::{DynamoDataKeys, field_cipher};
pub use digests::DynamoDigests;
pub use documents::{DynamoDocuments, S3UploadSigner};
pub use engagement::{DynamoBadges, DynamoConnections, DynamoFeed, DynamoTickets};
pub use idempotency::DynamoIdempotency;
pub use licenses::LicenseCache;
pub use notifications::DynamoNotifications;
pub use objects::{S3Objects, SqsScanRequests};
pub use outbox::DynamoOutbox;
pub use preferences::DynamoPreferences;
pub use requirements::{DynamoRequirements, Verification, verification};
pub use suppressions::DynamoSuppressions;
pub use webhooks::{Inbox, WebhookInbox};

use aws_sdk_dynamodb::error::DisplayErrorContext;

/// The one table every adapter works on (`TABLE_NAME`).
#[derive(Clone, Debug)]
pub struct Table {
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) name: String,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Table {
            client,
            name: name.into(),
        }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(Table::new(aws.dynamodb(), env.required("TABLE_NAME")?))
    }

    /// The table of a function that needs nothing else from AWS (its own SDK config).
    pub async fn load(env: &platform::Env) -> Result<Self, platform::ConfigError> {
        Table::from_env(env, &platform::aws::Aws::load(env).await)
    }

    /// One item by key, read consistently.
    pub(crate) async fn get_item(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<
        Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        domain::ports::RepoError,
    > {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .key(keys::PK, AttributeValue::S(pk))
            .key(keys::SK, AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| domain::ports::RepoError::Store(failure(&e)))?;
        Ok(out.item)
    }
}

impl Table {
    /// Every page of an index query, as `T`, up to `cap` items; `true` when more remain
    /// (bounded runs: the scheduled jobs pick up the rest next time).
    pub(crate) async fn query_index_capped<T: serde::de::DeserializeOwned>(
        &self,
        index: &str,
        key_condition: &str,
        values: &[(&str, String)],
        cap: usize,
    ) -> Result<(Vec<T>, bool), domain::ports::RepoError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        use domain::ports::RepoError;
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.name)
                .index_name(index)
                .key_condition_expression(key_condition)
                .limit(cap.saturating_sub(found.len()).clamp(1, 500) as i32)
                .set_exclusive_start_key(start.take());
            for (name, value) in values {
                query = query.expression_attribute_values(*name, AttributeValue::S(value.clone()));
            }
            let out = query
                .send()
                .await
                .map_err(|e| RepoError::Store(failure(&e)))?;
            for item in out.items.unwrap_or_default() {
                found.push(
                    serde_dynamo::from_item(item).map_err(|e| RepoError::Store(Box::new(e)))?,
                );
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() && found.len() < cap => start = Some(k),
                Some(k) if !k.is_empty() => return Ok((found, true)),
                _ => return Ok((found, false)),
            }
        }
    }

    /// Every item of partition `pk` whose sort key starts with `prefix` (an empty prefix:
    /// the whole partition), read consistently, all pages, as `T`.
    pub(crate) async fn query_prefix<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<T>, domain::ports::RepoError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        use domain::ports::RepoError;
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if !prefix.is_empty() {
                query = query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()));
            }
            let out = query
                .send()
                .await
                .map_err(|e| RepoError::Store(failure(&e)))?;
            for item in out.items.unwrap_or_default() {
                found.push(
                    serde_dynamo::from_item(item).map_err(|e| RepoError::Store(Box::new(e)))?,
                );
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }
}

impl Table {
    /// Puts `item`, under `condition` when given; `false` when the condition failed.
    pub(crate) async fn put_item(
        &self,
        item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        condition: Option<&str>,
    ) -> Result<bool, domain::ports::RepoError> {
        match self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(domain::ports::RepoError::Store(failure(&e))),
        }
    }

    /// The items at `keys` (pk, sk), read consistently in batches of 100, unprocessed keys
    /// retried; absent ones are left out. Order is not kept.
    pub(crate) async fn batch_get(
        &self,
        keys: &[(String, String)],
    ) -> Result<
        Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        domain::ports::RepoError,
    > {
        use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
        use domain::ports::RepoError;
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let wanted: Vec<_> = chunk
                .iter()
                .map(|(pk, sk)| {
                    std::collections::HashMap::from([
                        (crate::keys::PK.to_owned(), AttributeValue::S(pk.clone())),
                        (crate::keys::SK.to_owned(), AttributeValue::S(sk.clone())),
                    ])
                })
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(wanted))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| RepoError::Store(Box::new(e)))?,
            );
            for attempt in 0..8u32 {
                let Some(req) = request.take() else { break };
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, req)
                    .send()
                    .await
                    .map_err(|e| RepoError::Store(failure(&e)))?;
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.name).unwrap_or_default());
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.name))
                    .filter(|k| !k.keys.is_empty());
                if request.is_some() {
                    // Throttled: back off a little before the rest.
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
            }
            if request.is_some() {
                return Err(RepoError::Store("batch read left keys unprocessed".into()));
            }
        }
        Ok(found)
    }

    /// Every item of the whole table matching `filter` (with `#status`-style `names` and
    /// `:value` strings), all pages, as `T`, up to `cap`. A scan: only for the rare jobs
    /// that have no key to go by (the ledger replay, stuck erasure requests).
    pub(crate) async fn scan_all<T: serde::de::DeserializeOwned>(
        &self,
        filter: &str,
        names: &[(&str, &str)],
        values: &[(&str, &str)],
        cap: usize,
    ) -> Result<Vec<T>, domain::ports::RepoError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        use domain::ports::RepoError;
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut scan = self
                .client
                .scan()
                .table_name(&self.name)
                .filter_expression(filter)
                .set_exclusive_start_key(start.take());
            for (name, attribute) in names {
                scan = scan.expression_attribute_names(*name, *attribute);
            }
            for (name, value) in values {
                scan =
                    scan.expression_attribute_values(*name, AttributeValue::S((*value).to_owned()));
            }
            let page = scan
                .send()
                .await
                .map_err(|e| RepoError::Store(failure(&e)))?;
            for item in page.items.unwrap_or_default() {
                found.push(
                    serde_dynamo::from_item(item).map_err(|e| RepoError::Store(Box::new(e)))?,
                );
                if found.len() >= cap {
                    return Ok(found);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(found),
            }
        }
    }
}

/// A store failure with the SDK's whole error chain in its message (for the logs).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreFailure(pub String);

pub(crate) fn failure<E: std::error::Error + 'static>(
    err: &E,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(StoreFailure(DisplayErrorContext(err).to_string()))
}
