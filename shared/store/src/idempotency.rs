//! [`IdempotencyStore`] on DynamoDB: one item per (caller, key), claimed with a conditional
//! put, expired by TTL after 24 hours.

use aws_sdk_dynamodb::types::AttributeValue;
use platform::BoxError;
use platform::idempotency::{Claim, IdempotencyStore, Record};
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoIdempotency {
    table: Table,
}

impl DynamoIdempotency {
    pub fn new(table: Table) -> Self {
        DynamoIdempotency { table }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(DynamoIdempotency::new(Table::from_env(env, aws)?))
    }
}

#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    record: Record,
}

fn item(
    key: &str,
    record: &Record,
) -> Result<std::collections::HashMap<String, AttributeValue>, BoxError> {
    Ok(serde_dynamo::to_item(IdempotencyItem {
        pk: keys::idempotency_pk(key),
        sk: keys::IDEMPOTENCY_SK.to_owned(),
        entity: "idempotency".to_owned(),
        record: record.clone(),
    })?)
}

fn sdk_err<E: std::error::Error + 'static>(e: E) -> BoxError {
    aws_sdk_dynamodb::error::DisplayErrorContext(e)
        .to_string()
        .into()
}

impl DynamoIdempotency {
    async fn try_claim(
        &self,
        key: &str,
        record: &Record,
        now: i64,
    ) -> Result<Option<Claim>, BoxError> {
        let result = self
            .table.client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item(key, record)?))
            // Free, expired (TTL deletes lazily), or in progress past its deadline.
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now OR (#status = :in_progress AND in_progress_until < :now)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S("in_progress".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Some(Claim::Acquired)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let out = self
                    .table
                    .client
                    .get_item()
                    .table_name(&self.table.name)
                    .key(keys::PK, AttributeValue::S(keys::idempotency_pk(key)))
                    .key(keys::SK, AttributeValue::S(keys::IDEMPOTENCY_SK.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                match out.item {
                    Some(existing) => Ok(Some(Claim::Existing(
                        serde_dynamo::from_item::<_, IdempotencyItem>(existing)?.record,
                    ))),
                    None => Ok(None),
                }
            }
            Err(e) => Err(sdk_err(e)),
        }
    }
}

impl IdempotencyStore for DynamoIdempotency {
    async fn claim(&self, key: &str, record: &Record, now: i64) -> Result<Claim, BoxError> {
        // A record released between our put and our read sends us round again (rarely).
        for _ in 0..3 {
            if let Some(claim) = self.try_claim(key, record, now).await? {
                return Ok(claim);
            }
        }
        Err("idempotency record kept changing under us".into())
    }

    async fn complete(&self, key: &str, record: &Record) -> Result<(), BoxError> {
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item(key, record)?))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), BoxError> {
        self.table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .key(keys::PK, AttributeValue::S(keys::idempotency_pk(key)))
            .key(keys::SK, AttributeValue::S(keys::IDEMPOTENCY_SK.to_owned()))
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }
}
