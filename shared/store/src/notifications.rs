//! The notification log: one item per notification (`NOTIFY#<id>`), written before an email
//! is handed to a provider and completed after, so a redelivered or duplicated event, or a
//! consumer that crashed mid-batch, sends nothing twice. States: `sending` (handed over or
//! about to be; never sent again automatically: SendGrid has no idempotency key and may
//! have accepted it), `sent` (with the provider and its message id), `retry` (the provider
//! could not have accepted it: a connection error, 429, 5xx; the next attempt may send),
//! `failed` (the provider refused it, or it could not be rendered).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::ports::RepoError;

use crate::{Table, keys};

/// What a notification's log says before sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begin {
    /// Ours to send now.
    Send,
    /// Already sent: nothing to do.
    AlreadySent,
    /// Another attempt began and did not finish: it may have been accepted, so it is not
    /// sent again (at most once); the provider's event webhook settles it.
    InFlight { since: String },
    /// Refused for good earlier.
    Failed,
}

#[derive(Clone, Debug)]
pub struct DynamoNotifications {
    table: Table,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

impl DynamoNotifications {
    pub fn new(table: Table) -> Self {
        DynamoNotifications { table }
    }

    /// Claims `id` for sending (absent, or left in `retry`).
    pub async fn begin(
        &self,
        id: &str,
        contractor: &str,
        template: &str,
        now: DateTime<Utc>,
    ) -> Result<Begin, RepoError> {
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(keys::PK, s(keys::notification_pk(id)))
            .item(keys::SK, s(keys::NOTIFICATION_SK))
            .item("entity", s("notification"))
            .item("contractor_id", s(contractor))
            .item("gsi1pk", s(keys::subject_gsi1pk(contractor)))
            .item("gsi1sk", s(format!("NOTIFY#{id}")))
            .item("template", s(template))
            .item("status", s("sending"))
            .item("started_at", s(now.to_rfc3339()))
            .condition_expression("attribute_not_exists(pk) OR #status = :retry")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":retry", s("retry"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Begin::Send),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let item = self
                    .table
                    .get_item(keys::notification_pk(id), keys::NOTIFICATION_SK)
                    .await?
                    .unwrap_or_default();
                let field = |k: &str| {
                    item.get(k)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                Ok(match field("status").as_str() {
                    "sent" => Begin::AlreadySent,
                    "failed" => Begin::Failed,
                    _ => Begin::InFlight {
                        since: field("started_at"),
                    },
                })
            }
            Err(e) => Err(RepoError::Store(crate::failure(&e))),
        }
    }

    async fn set(&self, id: &str, status: &str, extra: &[(&str, String)]) -> Result<(), RepoError> {
        let mut update = "SET #status = :status".to_owned();
        let mut req = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key(keys::PK, s(keys::notification_pk(id)))
            .key(keys::SK, s(keys::NOTIFICATION_SK))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status));
        for (i, (name, value)) in extra.iter().enumerate() {
            update.push_str(&format!(", #f{i} = :v{i}"));
            req = req
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":v{i}"), s(value.clone()));
        }
        req.update_expression(update)
            .send()
            .await
            .map_err(|e| RepoError::Store(crate::failure(&e)))?;
        Ok(())
    }

    /// The provider accepted it.
    pub async fn sent(
        &self,
        id: &str,
        provider: &str,
        message_id: Option<&str>,
    ) -> Result<(), RepoError> {
        self.set(
            id,
            "sent",
            &[
                ("provider", provider.to_owned()),
                ("message_id", message_id.unwrap_or("").to_owned()),
                ("sent_at", Utc::now().to_rfc3339()),
            ],
        )
        .await
    }

    /// The provider could not have accepted it: the next attempt may send.
    pub async fn retry(&self, id: &str, why: &str) -> Result<(), RepoError> {
        self.set(id, "retry", &[("last_error", why.to_owned())])
            .await
    }

    /// It will never be sent (refused by the provider, or not renderable).
    pub async fn failed(&self, id: &str, why: &str) -> Result<(), RepoError> {
        self.set(id, "failed", &[("last_error", why.to_owned())])
            .await
    }
}
