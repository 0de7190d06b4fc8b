//! Correlation ids: one id follows a user action through the API, queues, topics and logs.
//!
//! At the HTTP edge it comes from the `x-correlation-id` header (when well formed) or is the
//! API Gateway request id; on queues it travels as the `correlation_id` message attribute.

use std::fmt;

pub const HEADER: &str = "x-correlation-id";
pub const MESSAGE_ATTRIBUTE: &str = "correlation_id";

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(String);

impl CorrelationId {
    /// Accepts 1–128 characters of `[A-Za-z0-9._:-]`; anything else is not trusted.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        ok.then(|| CorrelationId(raw.to_owned()))
    }

    pub fn generate() -> Self {
        CorrelationId(ulid::Ulid::new().to_string().to_lowercase())
    }

    /// The first usable candidate, or a fresh id.
    pub fn first_of<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        candidates
            .into_iter()
            .flatten()
            .find_map(CorrelationId::parse)
            .unwrap_or_else(CorrelationId::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CorrelationId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CorrelationId::parse(&value).ok_or_else(|| "invalid correlation id".to_owned())
    }
}

impl From<CorrelationId> for String {
    fn from(value: CorrelationId) -> Self {
        value.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The message attribute that carries `id` on an SQS message we send.
pub fn sqs_attribute(id: &CorrelationId) -> (String, aws_sdk_sqs::types::MessageAttributeValue) {
    let value = aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(id.as_str())
        .build()
        .expect("data type is set");
    (MESSAGE_ATTRIBUTE.to_owned(), value)
}

/// The message attribute that carries `id` on an SNS message we publish; subscribed queues
/// see it in the envelope, or as a message attribute with raw delivery.
pub fn sns_attribute(id: &CorrelationId) -> (String, aws_sdk_sns::types::MessageAttributeValue) {
    let value = aws_sdk_sns::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(id.as_str())
        .build()
        .expect("data type is set");
    (MESSAGE_ATTRIBUTE.to_owned(), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_attributes_carry_the_id() {
        let id = CorrelationId::parse("corr-9").unwrap();
        let (name, value) = sqs_attribute(&id);
        assert_eq!(name, "correlation_id");
        assert_eq!(value.string_value(), Some("corr-9"));
        assert_eq!(sns_attribute(&id).1.data_type(), "String");
    }

    #[test]
    fn rejects_untrusted_values() {
        assert!(CorrelationId::parse("abc-123:x.y_z").is_some());
        assert!(CorrelationId::parse("").is_none());
        assert!(CorrelationId::parse("has space").is_none());
        assert!(CorrelationId::parse("line\nbreak").is_none());
        assert!(CorrelationId::parse(&"a".repeat(129)).is_none());
    }

    #[test]
    fn first_of_skips_bad_candidates_and_falls_back_to_a_fresh_id() {
        let id = CorrelationId::first_of([None, Some("bad value"), Some("good-1")]);
        assert_eq!(id.as_str(), "good-1");
        let fresh = CorrelationId::first_of([None, Some("")]);
        assert_eq!(fresh.as_str().len(), 26);
    }
}
