//! SQS consumers with partial batch failures (`ReportBatchItemFailures`), after Powertools'
//! batch utility: each record is handled on its own; only the failed ones are reported, so
//! the good ones are never delivered again. If every record fails the invocation fails, so
//! Lambda's error metrics and back-off see it. FIFO queues stop at the first failure and
//! report it and everything after it, keeping order.

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::StreamExt;
use lambda_runtime::LambdaEvent;
use tracing::Instrument;

use crate::BoxError;
use crate::correlation::{self, CorrelationId};
use crate::telemetry;

/// How many records of a standard queue's batch are handled at once.
const CONCURRENCY: usize = 8;

/// What the batch loop knows about a record besides its body.
#[derive(Clone, Debug)]
pub struct MessageContext {
    pub message_id: String,
    pub correlation_id: CorrelationId,
    /// SQS's `ApproximateReceiveCount`: 1 on first delivery.
    pub receive_count: u32,
}

pub trait SqsConsumer: Send + Sync + 'static {
    const NAME: &'static str;
    type Error: std::error::Error + Send + Sync + 'static;

    /// Handles one record. Must be idempotent: SQS delivers at least once.
    fn handle(
        &self,
        message: &SqsMessage,
        ctx: &MessageContext,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

pub async fn process_batch<C: SqsConsumer>(
    consumer: Arc<C>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, BoxError> {
    let LambdaEvent { payload, context } = event;
    let records = payload.records;
    let total = records.len();
    let fifo = records
        .first()
        .and_then(|r| r.event_source_arn.as_deref())
        .is_some_and(|arn| arn.ends_with(".fifo"));

    let mut failed: Vec<String> = Vec::new();
    if fifo {
        let mut iter = records.into_iter();
        for record in iter.by_ref() {
            if let Err(id) = handle_one(&*consumer, &context, record).await {
                failed.push(id);
                break;
            }
        }
        failed.extend(iter.map(|r| r.message_id.unwrap_or_default()));
    } else {
        let outcomes: Vec<Result<(), String>> = futures::stream::iter(records)
            .map(|record| handle_one(&*consumer, &context, record))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        failed.extend(outcomes.into_iter().filter_map(Result::err));
    }

    if total > 0 && failed.len() == total {
        return Err(format!("all {total} records of the batch failed").into());
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    Ok(response)
}

/// Handles one record; `Err` carries the message id to report.
async fn handle_one<C: SqsConsumer>(
    consumer: &C,
    lambda_ctx: &lambda_runtime::Context,
    record: SqsMessage,
) -> Result<(), String> {
    let ctx = MessageContext {
        message_id: record.message_id.clone().unwrap_or_default(),
        correlation_id: correlation_id_of(&record),
        receive_count: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
    };
    let span = telemetry::invocation_span(C::NAME, lambda_ctx, &ctx.correlation_id);
    // Boxed: consumers' futures nest deeply (SDK calls inside domain services), and a
    // pointer keeps the batch future's type small for the compiler.
    let outcome = Box::pin(consumer.handle(&record, &ctx))
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match outcome {
        Ok(()) => Ok(()),
        Err(err) => {
            tracing::warn!(message_id = %ctx.message_id, receive_count = ctx.receive_count, error = %err, "record failed; it will be retried");
            Err(ctx.message_id)
        }
    }
}

/// The correlation id a producer attached: an SQS message attribute, or inside an SNS
/// envelope when the message came through a topic without raw delivery.
pub fn correlation_id_of(record: &SqsMessage) -> CorrelationId {
    let from_attribute = record
        .message_attributes
        .get(correlation::MESSAGE_ATTRIBUTE)
        .and_then(|a| a.string_value.clone());
    let from_envelope = record.body.as_deref().and_then(|body| {
        let envelope: serde_json::Value = serde_json::from_str(body).ok()?;
        envelope
            .get("MessageAttributes")?
            .get(correlation::MESSAGE_ATTRIBUTE)?
            .get("Value")?
            .as_str()
            .map(str::to_owned)
    });
    CorrelationId::first_of([from_attribute.as_deref(), from_envelope.as_deref()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<String>>,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("poison message")]
    struct Poison;

    impl SqsConsumer for Recorder {
        const NAME: &'static str = "test-consumer";
        type Error = Poison;
        async fn handle(&self, message: &SqsMessage, _ctx: &MessageContext) -> Result<(), Poison> {
            let body = message.body.clone().unwrap_or_default();
            self.seen.lock().unwrap().push(body.clone());
            if body.contains("poison") {
                Err(Poison)
            } else {
                Ok(())
            }
        }
    }

    fn event(bodies: &[&str], arn: &str) -> LambdaEvent<SqsEvent> {
        let records: Vec<serde_json::Value> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                serde_json::json!({
                    "messageId": format!("m{i}"), "receiptHandle": "r", "body": b,
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                    "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"
                })
            })
            .collect();
        let payload = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    const STANDARD: &str = "arn:aws:sqs:us-east-1:123456789012:jobs";
    const FIFO: &str = "arn:aws:sqs:us-east-1:123456789012:jobs.fifo";

    #[tokio::test]
    async fn only_failed_records_are_reported() {
        let consumer = Arc::new(Recorder::default());
        let response = process_batch(consumer.clone(), event(&["a", "poison", "c"], STANDARD))
            .await
            .unwrap();
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, vec!["m1"]);
        assert_eq!(consumer.seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_batch_that_fails_entirely_fails_the_invocation() {
        let consumer = Arc::new(Recorder::default());
        assert!(
            process_batch(consumer, event(&["poison1", "poison2"], STANDARD))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn fifo_stops_at_the_first_failure_and_reports_the_rest() {
        let consumer = Arc::new(Recorder::default());
        let response = process_batch(consumer.clone(), event(&["a", "poison", "c", "d"], FIFO))
            .await
            .unwrap();
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, vec!["m1", "m2", "m3"]);
        assert_eq!(*consumer.seen.lock().unwrap(), vec!["a", "poison"]);
    }

    #[test]
    fn correlation_id_from_attribute_or_sns_envelope() {
        let mut record = SqsMessage::default();
        record.message_attributes.insert(
            "correlation_id".into(),
            serde_json::from_value(
                serde_json::json!({"stringValue": "corr-1", "dataType": "String"}),
            )
            .unwrap(),
        );
        assert_eq!(correlation_id_of(&record).as_str(), "corr-1");

        let mut wrapped = SqsMessage::default();
        wrapped.body = Some(
            serde_json::json!({"Type": "Notification", "Message": "{}",
                "MessageAttributes": {"correlation_id": {"Type": "String", "Value": "corr-2"}}})
            .to_string(),
        );
        assert_eq!(correlation_id_of(&wrapped).as_str(), "corr-2");
    }
}
