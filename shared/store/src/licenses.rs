//! Registry answers cached per license (`LICENSE#<state>#<number> / LOOKUP`) for a while, so
//! re-uploads, redeliveries and bursts don't hammer a state's registry. DynamoDB's TTL
//! removes old entries eventually; the read checks the age itself.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::licensing::Lookup;
use domain::ports::RepoError;

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct LicenseCache {
    table: Table,
    ttl: chrono::Duration,
}

impl LicenseCache {
    pub fn new(table: Table, ttl: chrono::Duration) -> Self {
        LicenseCache { table, ttl }
    }

    /// The cached answer, if fetched less than the TTL ago.
    pub async fn get(
        &self,
        state: &str,
        number: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Lookup>, RepoError> {
        let Some(item) = self
            .table
            .get_item(keys::license_pk(state, number), keys::LICENSE_SK)
            .await?
        else {
            return Ok(None);
        };
        let fresh = item
            .get("fetched_at")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .is_some_and(|at| now - at.with_timezone(&chrono::Utc) < self.ttl);
        Ok(item
            .get("lookup")
            .and_then(|v| v.as_s().ok())
            .filter(|_| fresh)
            .and_then(|json| serde_json::from_str(json).ok()))
    }

    pub async fn put(
        &self,
        state: &str,
        number: &str,
        lookup: &Lookup,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), RepoError> {
        let json = serde_json::to_string(lookup).map_err(|e| RepoError::Store(Box::new(e)))?;
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(keys::PK, AttributeValue::S(keys::license_pk(state, number)))
            .item(keys::SK, AttributeValue::S(keys::LICENSE_SK.to_owned()))
            .item("entity", AttributeValue::S("license_lookup".into()))
            .item("lookup", AttributeValue::S(json))
            .item("fetched_at", AttributeValue::S(now.to_rfc3339()))
            .item(
                "expires_at",
                AttributeValue::N((now + self.ttl).timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }
}
