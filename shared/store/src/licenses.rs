//! Registry answers cached per license (`LICENSE#<state>#<number> / LOOKUP`) for a while, so
//! re-uploads, redeliveries and bursts don't hammer a state's registry; "not found" only
//! briefly and only for the card that asked (a new card looks again). DynamoDB's TTL
//! removes old entries eventually; the read checks the age itself.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::licensing::Lookup;
use domain::ports::RepoError;

use crate::{Table, keys};

#[derive(Clone, Debug)]
pub struct LicenseCache {
    table: Table,
    ttl: chrono::Duration,
    /// How long "not found" is remembered (for the card that asked).
    negative_ttl: chrono::Duration,
}

impl LicenseCache {
    pub fn new(table: Table, ttl: chrono::Duration, negative_ttl: chrono::Duration) -> Self {
        LicenseCache {
            table,
            ttl,
            negative_ttl,
        }
    }

    /// The cached answer, if it may stand in for asking (`cached_answer_usable`): asked for
    /// by `evidence` (the card's document) or any card when the record was found.
    pub async fn get(
        &self,
        state: &str,
        number: &str,
        now: chrono::DateTime<chrono::Utc>,
        evidence: &str,
    ) -> Result<Option<Lookup>, RepoError> {
        let Some(item) = self
            .table
            .get_item(keys::license_pk(state, number), keys::LICENSE_SK)
            .await?
        else {
            return Ok(None);
        };
        let age = item
            .get("fetched_at")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|at| now - at.with_timezone(&chrono::Utc));
        let same_evidence = item
            .get("evidence")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|e| e == evidence);
        let lookup: Option<Lookup> = item
            .get("lookup")
            .and_then(|v| v.as_s().ok())
            .and_then(|json| serde_json::from_str(json).ok());
        Ok(match (lookup, age) {
            (Some(lookup), Some(age))
                if domain::licensing::cached_answer_usable(
                    &lookup,
                    age,
                    same_evidence,
                    self.ttl,
                    self.negative_ttl,
                ) =>
            {
                Some(lookup)
            }
            _ => None,
        })
    }

    pub async fn put(
        &self,
        state: &str,
        number: &str,
        lookup: &Lookup,
        now: chrono::DateTime<chrono::Utc>,
        evidence: &str,
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
            .item("evidence", AttributeValue::S(evidence.to_owned()))
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
