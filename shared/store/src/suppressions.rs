//! The one suppression list every send checks first: addresses that bounced, were dropped
//! or reported us as spam (no email at all), and addresses that unsubscribed (reminders and
//! updates stop; transactional messages still go). Keyed by the address's SHA-256; fed by
//! SendGrid's Event Webhook (and SES's bounces when they are wired in).

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::RepoError;
use sha2::{Digest, Sha256};

use crate::{Table, keys};

/// What a suppression stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Nothing may be sent (bounce, dropped, spam report).
    Everything,
    /// Only what a contractor may opt out of (unsubscribe).
    OptionalMail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub scope: Scope,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct DynamoSuppressions {
    table: Table,
}

fn digest(address: &str) -> String {
    hex::encode(Sha256::digest(address.trim().to_lowercase().as_bytes()))
}

impl DynamoSuppressions {
    pub fn new(table: Table) -> Self {
        DynamoSuppressions { table }
    }

    /// Suppresses `address`; an `Everything` suppression is never narrowed by a later
    /// unsubscribe.
    pub async fn add(&self, address: &str, scope: Scope, reason: &str) -> Result<(), RepoError> {
        let scope_text = match scope {
            Scope::Everything => "everything",
            Scope::OptionalMail => "optional",
        };
        let mut put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .item(
                keys::PK,
                AttributeValue::S(keys::suppression_pk(&digest(address))),
            )
            .item(keys::SK, AttributeValue::S(keys::SUPPRESSION_SK.to_owned()))
            .item("entity", AttributeValue::S("suppression".into()))
            .item("scope", AttributeValue::S(scope_text.into()))
            .item("reason", AttributeValue::S(reason.to_owned()))
            .item("at", AttributeValue::S(chrono::Utc::now().to_rfc3339()));
        if scope == Scope::OptionalMail {
            put = put
                .condition_expression("attribute_not_exists(pk) OR #scope <> :everything")
                .expression_attribute_names("#scope", "scope")
                .expression_attribute_values(":everything", AttributeValue::S("everything".into()));
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(RepoError::Store(crate::failure(&e))),
        }
    }

    pub async fn check(&self, address: &str) -> Result<Option<Suppression>, RepoError> {
        let item = self
            .table
            .get_item(keys::suppression_pk(&digest(address)), keys::SUPPRESSION_SK)
            .await?;
        Ok(item.map(|i| {
            let field = |k: &str| {
                i.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            Suppression {
                scope: if field("scope") == "optional" {
                    Scope::OptionalMail
                } else {
                    Scope::Everything
                },
                reason: field("reason"),
            }
        }))
    }
}
