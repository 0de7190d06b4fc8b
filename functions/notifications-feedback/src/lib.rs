//! Amazon SES feedback (the failover provider's bounces and complaints) into the same
//! suppression list SendGrid's Event Webhook feeds, so an address that bounced through
//! either provider gets nothing more. SES publishes to an SNS topic (the configuration set's
//! event destination, or an identity's notification topic); the topic delivers raw to this
//! queue. Both shapes are read: `eventType` (configuration sets) and `notificationType`
//! (identity notifications). A permanent bounce or a complaint suppresses the address for
//! everything; transient bounces and deliveries change nothing. Adding a suppression is a
//! put, so redeliveries are harmless. Addresses are never logged.

use platform::sqs::{MessageContext, SqsConsumer};
use platform::{BoxError, Env};
use serde_json::Value;
use store::DynamoSuppressions;
use store::suppressions::Scope;

pub struct Feedback {
    pub suppressions: DynamoSuppressions,
}

pub async fn build(env: &Env) -> Result<Feedback, BoxError> {
    Ok(Feedback {
        suppressions: DynamoSuppressions::new(store::Table::load(env).await?),
    })
}

/// The addresses an SES notification says must not be mailed again, with the reason.
pub fn suppressed(notification: &Value) -> Vec<(String, &'static str)> {
    let kind = notification["eventType"]
        .as_str()
        .or_else(|| notification["notificationType"].as_str())
        .unwrap_or_default();
    let (list, field, reason) = match kind {
        "Bounce" if notification["bounce"]["bounceType"] == "Permanent" => (
            &notification["bounce"]["bouncedRecipients"],
            "emailAddress",
            "bounce",
        ),
        "Complaint" => (
            &notification["complaint"]["complainedRecipients"],
            "emailAddress",
            "spamreport",
        ),
        _ => return Vec::new(),
    };
    list.as_array()
        .map(|recipients| {
            recipients
                .iter()
                .filter_map(|r| r[field].as_str())
                .filter(|a| a.contains('@'))
                .map(|a| (a.to_owned(), reason))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error(transparent)]
    Repo(#[from] domain::ports::RepoError),
}

impl SqsConsumer for Feedback {
    const NAME: &'static str = "notifications-feedback";
    type Message = Value;
    type Error = FeedbackError;

    async fn handle(
        &self,
        notification: &Value,
        _ctx: &MessageContext,
    ) -> Result<(), FeedbackError> {
        let addresses = suppressed(notification);
        for (address, reason) in &addresses {
            self.suppressions
                .add(address, Scope::Everything, reason)
                .await?;
        }
        tracing::info!(
            kind = notification["eventType"]
                .as_str()
                .or_else(|| notification["notificationType"].as_str())
                .unwrap_or("unknown"),
            message_id = notification["mail"]["messageId"]
                .as_str()
                .unwrap_or_default(),
            suppressed = addresses.len(),
            "SES feedback recorded"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// As SES's event publishing documents a permanent bounce (trimmed).
    fn bounce(kind: &str) -> Value {
        json!({
            "eventType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "dana@brightnights.example", "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                "timestamp": "2026-12-01T10:00:00.000Z",
                "feedbackId": "0100017c-bounce",
            },
            "mail": {"messageId": "0100017c-msg", "destination": ["dana@brightnights.example"], "tags": {"notification_id": ["ntf_1_welcome"]}},
        })
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress_transient_bounces_do_not() {
        assert_eq!(
            suppressed(&bounce("Permanent")),
            vec![("dana@brightnights.example".to_owned(), "bounce")]
        );
        assert!(suppressed(&bounce("Transient")).is_empty());
        let complaint = json!({
            "notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": "eli@example.com"}], "complaintFeedbackType": "abuse"},
            "mail": {"messageId": "m"},
        });
        assert_eq!(
            suppressed(&complaint),
            vec![("eli@example.com".to_owned(), "spamreport")]
        );
        for other in [
            json!({"eventType": "Delivery"}),
            json!({}),
            json!([1]),
            json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": "x"}}),
        ] {
            assert!(suppressed(&other).is_empty(), "{other}");
        }
    }
}
