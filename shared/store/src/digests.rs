//! Badges earned on a day, kept for the next day's digest email (one email per contractor
//! instead of one per badge). Spread over `DIGEST_SHARDS` partitions by contractor so a
//! season's burst of awards has no hot key; expire after two weeks.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use domain::ids::ContractorId;
use domain::ports::RepoError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct DynamoDigests {
    table: Table,
}

/// One badge awarded to one contractor on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earned {
    pub contractor_id: ContractorId,
    pub badge: String,
}

pub(crate) fn shard(contractor: &ContractorId) -> u32 {
    let d = Sha256::digest(contractor.as_str().as_bytes());
    u32::from(d[0]) % keys::DIGEST_SHARDS
}

impl DynamoDigests {
    pub fn new(table: Table) -> Self {
        DynamoDigests { table }
    }

    /// Notes that `contractor` earned `badge` on `day` (idempotent: the same award is one item).
    pub async fn note(
        &self,
        day: NaiveDate,
        contractor: &ContractorId,
        badge: &str,
    ) -> Result<(), RepoError> {
        let expires = (day + chrono::Days::new(14))
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp());
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(
                keys::PK,
                AttributeValue::S(keys::digest_pk(day, shard(contractor))),
            )
            .item(keys::SK, AttributeValue::S(format!("{contractor}#{badge}")))
            .item("entity", AttributeValue::S("digest_badge".into()))
            .item("contractor_id", AttributeValue::S(contractor.to_string()))
            .item("badge", AttributeValue::S(badge.to_owned()))
            .item("expires_at", AttributeValue::N(expires.to_string()))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }

    /// Every badge noted for `day`, across the shards (a contractor's badges are adjacent:
    /// its shard holds them all, in key order).
    pub async fn of_day(&self, day: NaiveDate) -> Result<Vec<Earned>, RepoError> {
        let mut all = Vec::new();
        for shard in 0..keys::DIGEST_SHARDS {
            let mut items: Vec<Earned> = self
                .table
                .query_prefix(keys::digest_pk(day, shard), ContractorId::PREFIX)
                .await?;
            all.append(&mut items);
        }
        Ok(all)
    }
}
