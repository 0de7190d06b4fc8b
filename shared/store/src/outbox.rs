//! The transactional outbox: events are written with the change that caused them and
//! removed once published. `DynamoOutbox::pending` finds what is left (a publish that failed,
//! a function that died after committing) for the relay.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::events::DomainEvent;
use domain::ids::EventId;
use serde::{Deserialize, Serialize};

use crate::{Table, keys};

#[derive(Serialize, Deserialize)]
pub(crate) struct OutboxItem {
    pk: String,
    sk: String,
    entity: String,
    gsi2pk: String,
    gsi2sk: String,
    event: DomainEvent,
}

impl OutboxItem {
    pub(crate) fn new(event: &DomainEvent) -> Self {
        OutboxItem {
            pk: keys::outbox_pk(&event.id),
            sk: keys::OUTBOX_SK.to_owned(),
            entity: "outbox".to_owned(),
            gsi2pk: keys::OUTBOX_GSI2PK.to_owned(),
            gsi2sk: format!(
                "{}#{}",
                event
                    .occurred_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                event.id
            ),
            event: event.clone(),
        }
    }
}

/// Publishes one event on the events topic, its type as the `event_type` attribute.
pub async fn publish(
    publisher: &platform::events::SnsPublisher,
    event: &DomainEvent,
) -> Result<(), platform::BoxError> {
    publisher
        .publish(event.kind(), &event.correlation_id, event.to_json())
        .await
}

/// Publishes events just committed with their outbox items and removes those items; an
/// event that fails to publish stays in the outbox for the relay.
pub(crate) async fn publish_committed(
    publisher: Option<&platform::events::SnsPublisher>,
    table: &Table,
    events: &[DomainEvent],
) {
    let Some(publisher) = publisher else {
        return;
    };
    for event in events {
        match publish(publisher, event).await {
            Ok(()) => {
                if let Err(e) = remove_outbox_item(&table.client, &table.name, &event.id).await {
                    tracing::warn!(event_id = %event.id, error = %e, "published; outbox item left for the relay");
                }
            }
            Err(e) => {
                tracing::warn!(event_id = %event.id, error = %e, "publish failed; the relay will retry")
            }
        }
    }
}

/// Writes `primary` (a conditional put) and `events`' outbox items in one transaction, then
/// publishes the events. A failed condition on `primary` is a [`RepoError::VersionConflict`].
pub(crate) async fn commit_with_events(
    table: &Table,
    publisher: Option<&platform::events::SnsPublisher>,
    primary: aws_sdk_dynamodb::types::Put,
    events: &[DomainEvent],
) -> Result<(), domain::ports::RepoError> {
    use aws_sdk_dynamodb::types::TransactWriteItem;
    use domain::ports::RepoError;
    let mut items = vec![TransactWriteItem::builder().put(primary).build()];
    for event in events {
        let outbox = serde_dynamo::to_item(OutboxItem::new(event))
            .map_err(|e| RepoError::Store(Box::new(e)))?;
        items.push(crate::contractors::put(&table.name, outbox, None)?);
    }
    match table
        .client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => {
            publish_committed(publisher, table, events).await;
            Ok(())
        }
        Err(err) => {
            let codes = crate::contractors::cancellation_codes(&err);
            if codes.first().and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed") {
                Err(RepoError::VersionConflict)
            } else {
                Err(RepoError::Store(crate::failure(&err)))
            }
        }
    }
}

pub(crate) async fn remove_outbox_item(
    client: &Client,
    table: &str,
    id: &EventId,
) -> Result<(), String> {
    client
        .delete_item()
        .table_name(table)
        .key(keys::PK, AttributeValue::S(keys::outbox_pk(id)))
        .key(keys::SK, AttributeValue::S(keys::OUTBOX_SK.to_owned()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

#[derive(Clone, Debug)]
pub struct DynamoOutbox {
    table: Table,
}

impl DynamoOutbox {
    pub fn new(table: Table) -> Self {
        DynamoOutbox { table }
    }

    pub fn from_env(
        env: &platform::Env,
        aws: &platform::aws::Aws,
    ) -> Result<Self, platform::ConfigError> {
        Ok(DynamoOutbox::new(Table::from_env(env, aws)?))
    }

    /// Unpublished events that occurred before `before`, oldest first.
    pub async fn pending(
        &self,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<DomainEvent>, String> {
        let out = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name(keys::GSI2)
            .key_condition_expression("gsi2pk = :pk AND gsi2sk < :before")
            .expression_attribute_values(":pk", AttributeValue::S(keys::OUTBOX_GSI2PK.to_owned()))
            .expression_attribute_values(
                ":before",
                AttributeValue::S(before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            )
            .limit(limit)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item::<_, OutboxItem>(item)
                    .map(|o| o.event)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    pub async fn remove(&self, id: &EventId) -> Result<(), String> {
        remove_outbox_item(&self.table.client, &self.table.name, id).await
    }
}
