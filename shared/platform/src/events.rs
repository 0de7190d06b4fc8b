//! Publishing domain events to the SNS events topic, with the event type and correlation id
//! as message attributes (subscribers filter on `event_type`). What an event is belongs to
//! the domain (`domain::events`); this only sends one.

use crate::BoxError;
use crate::correlation::{self, CorrelationId};

#[derive(Clone, Debug)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsPublisher {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// The publisher for `EVENTS_TOPIC_ARN`.
    pub fn from_env(env: &crate::Env, aws: &crate::aws::Aws) -> Result<Self, crate::ConfigError> {
        Ok(SnsPublisher::new(
            aws.sns(),
            env.required("EVENTS_TOPIC_ARN")?,
        ))
    }

    /// Publishes one message: `body` (a domain event's JSON), its `event_type` attribute
    /// (what subscribers filter on) and the correlation id.
    pub async fn publish(
        &self,
        event_type: &str,
        correlation_id: &str,
        body: String,
    ) -> Result<(), BoxError> {
        let kind = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value(event_type)
            .build()?;
        let mut req = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(body)
            .message_attributes("event_type", kind);
        if let Some(id) = CorrelationId::parse(correlation_id) {
            let (name, value) = correlation::sns_attribute(&id);
            req = req.message_attributes(name, value);
        }
        req.send()
            .await
            .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string())?;
        Ok(())
    }
}
