//! The webhook inbox: one item per provider event, written only if new (deduplication by the
//! provider's event id), marked once it is on the queue. A duplicate of an event that never
//! reached the queue (the function died in between) is enqueued again.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::RepoError;

use crate::{Table, keys};

/// How long received webhooks are kept for deduplication and investigation.
const RETENTION_DAYS: i64 = 30;

/// What the webhooks queue carries: a delivery whose signature was verified and which the
/// inbox recorded, with the provider's body as received.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub provider: String,
    /// The inbox's name for it (the SHA-256 of the body).
    pub event_id: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbox {
    /// First time: enqueue it.
    New,
    /// Seen before; `enqueued` says whether it reached the queue.
    Duplicate { enqueued: bool },
}

#[derive(Clone, Debug)]
pub struct WebhookInbox {
    table: Table,
}

impl WebhookInbox {
    pub fn new(table: Table) -> Self {
        WebhookInbox { table }
    }

    pub async fn record(
        &self,
        provider: &str,
        event_id: &str,
        body: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Inbox, RepoError> {
        let pk = keys::webhook_pk(provider, event_id);
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(keys::PK, AttributeValue::S(pk.clone()))
            .item(keys::SK, AttributeValue::S(keys::WEBHOOK_SK.to_owned()))
            .item("entity", AttributeValue::S("webhook".into()))
            .item("provider", AttributeValue::S(provider.into()))
            .item("event_id", AttributeValue::S(event_id.into()))
            .item("body", AttributeValue::S(body.into()))
            .item("status", AttributeValue::S("received".into()))
            .item("received_at", AttributeValue::S(now.to_rfc3339()))
            .item(
                "expires_at",
                AttributeValue::N(
                    (now + chrono::Duration::days(RETENTION_DAYS))
                        .timestamp()
                        .to_string(),
                ),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Inbox::New),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let item = self.table.get_item(pk, keys::WEBHOOK_SK).await?;
                let enqueued = item
                    .and_then(|i| i.get("status").and_then(|v| v.as_s().ok()).cloned())
                    .is_some_and(|s| s == "enqueued");
                Ok(Inbox::Duplicate { enqueued })
            }
            Err(e) => Err(RepoError::Store(crate::failure(&e))),
        }
    }

    pub async fn mark_enqueued(&self, provider: &str, event_id: &str) -> Result<(), RepoError> {
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(
                keys::PK,
                AttributeValue::S(keys::webhook_pk(provider, event_id)),
            )
            .key(keys::SK, AttributeValue::S(keys::WEBHOOK_SK.to_owned()))
            .update_expression("SET #status = :enqueued")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":enqueued", AttributeValue::S("enqueued".into()))
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }
}
