//! SQS event source mappings, as Lambda runs them: long-poll the queue, hand a batch to the
//! function, delete what succeeded. With `ReportBatchItemFailures` only the reported items
//! stay; an invalid report, an error or a timeout leaves the whole batch. What stays becomes
//! visible again after the queue's visibility timeout, and after `maxReceiveCount` receives
//! the queue's redrive policy moves it to the dead-letter queue (moto does that part).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::functions::LoadedFunction;
use crate::model::SqsSource;
use crate::resolve::REGION;

pub struct Poller {
    pub source: SqsSource,
    pub queue_url: String,
    pub function: Arc<LoadedFunction>,
    pub sqs: aws_sdk_sqs::Client,
}

impl Poller {
    pub async fn run(self) {
        tracing::info!(function = %self.source.function, queue = %self.queue_url, batch = self.source.batch_size, "SQS event source started");
        loop {
            let batch = match self.receive_batch().await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(queue = %self.queue_url, error = %e, "receive failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                continue;
            }
            self.deliver(batch).await;
        }
    }

    /// Up to `BatchSize` messages, waiting at most the batching window for more.
    async fn receive_batch(&self) -> Result<Vec<Message>, String> {
        let wanted = self.source.batch_size.max(1) as usize;
        let deadline = Instant::now() + self.source.batching_window;
        let mut batch = Vec::new();
        loop {
            let room = (wanted - batch.len()).min(10) as i32;
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(room)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
            let got = out.messages.unwrap_or_default();
            let empty = got.is_empty();
            batch.extend(got);
            // A full batch, the batching window spent, or nothing more waiting: deliver.
            if batch.len() >= wanted || Instant::now() >= deadline || empty {
                return Ok(batch);
            }
        }
    }

    async fn deliver(&self, batch: Vec<Message>) {
        if let Some(redeliver_after) = self.function.take_crash() {
            return self.crash(batch, redeliver_after).await;
        }
        let event = json!({"Records": batch.iter().map(|m| record(m, &self.source.queue_arn)).collect::<Vec<_>>()});
        let ids: Vec<String> = batch.iter().filter_map(|m| m.message_id.clone()).collect();
        let outcome = self.function.invoke(event).await;
        let keep: Vec<String> = match outcome {
            Err(e) => {
                tracing::warn!(function = %self.source.function, error = %e, messages = ids.len(), "batch failed; every message will be retried");
                ids.clone()
            }
            Ok(response) if self.source.report_batch_item_failures => {
                match failed_ids(&response, &ids) {
                    Some(failed) => failed,
                    None => {
                        tracing::warn!(function = %self.source.function, response = %response, "invalid batchItemFailures; the whole batch will be retried");
                        ids.clone()
                    }
                }
            }
            Ok(_) => Vec::new(),
        };
        let done: Vec<&Message> = batch
            .iter()
            .filter(|m| m.message_id.as_ref().is_some_and(|id| !keep.contains(id)))
            .collect();
        for chunk in done.chunks(10) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            if let Err(e) = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete failed; messages may be delivered again");
            }
        }
        tracing::debug!(function = %self.source.function, delivered = ids.len(), retried = keep.len(), "batch done");
    }
}

impl Poller {
    /// An injected crash: the function handles the first half of the batch and dies before
    /// answering, so nothing is deleted; the batch comes back after `redeliver_after`.
    async fn crash(&self, batch: Vec<Message>, redeliver_after: Duration) {
        let half = batch.len().div_ceil(2);
        let event = json!({"Records": batch[..half].iter().map(|m| record(m, &self.source.queue_arn)).collect::<Vec<_>>()});
        let _ = self.function.invoke(event).await;
        tracing::warn!(function = %self.source.function, handled = half, messages = batch.len(), "injected crash mid-batch: nothing acknowledged");
        for m in &batch {
            let _ = self
                .sqs
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                .visibility_timeout(redeliver_after.as_secs() as i32)
                .send()
                .await;
        }
    }
}

/// The failed ids of a `ReportBatchItemFailures` response, or `None` if it is invalid
/// (not an object, an empty or unknown identifier), which fails the whole batch as on AWS.
pub fn failed_ids(response: &Value, batch_ids: &[String]) -> Option<Vec<String>> {
    match response {
        Value::Null => Some(Vec::new()),
        Value::Object(map) => match map.get("batchItemFailures") {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.get("itemIdentifier")
                        .and_then(Value::as_str)
                        .filter(|id| !id.is_empty() && batch_ids.iter().any(|b| b == id))
                        .map(str::to_owned)
                })
                .collect(),
            Some(_) => None,
        },
        _ => None,
    }
}

/// One record of the SQS event, shaped as Lambda shapes it.
pub fn record(m: &Message, queue_arn: &str) -> Value {
    let mut attributes = Map::new();
    for (k, v) in m.attributes.clone().unwrap_or_default() {
        attributes.insert(k.as_str().to_owned(), Value::String(v));
    }
    let mut message_attributes = Map::new();
    for (k, v) in m.message_attributes.clone().unwrap_or_default() {
        let b64 = |b: &aws_sdk_sqs::primitives::Blob| {
            base64::engine::general_purpose::STANDARD.encode(b.as_ref())
        };
        message_attributes.insert(
            k,
            json!({
                "stringValue": v.string_value,
                "binaryValue": v.binary_value.as_ref().map(b64),
                "stringListValues": v.string_list_values.unwrap_or_default(),
                "binaryListValues": v.binary_list_values.unwrap_or_default().iter().map(b64).collect::<Vec<_>>(),
                "dataType": v.data_type,
            }),
        );
    }
    json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_of_body,
        "md5OfMessageAttributes": m.md5_of_message_attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_item_failures_are_read_like_lambda_reads_them() {
        let ids = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            failed_ids(
                &json!({"batchItemFailures": [{"itemIdentifier": "b"}]}),
                &ids
            ),
            Some(vec!["b".into()])
        );
        assert_eq!(
            failed_ids(&json!({"batchItemFailures": []}), &ids),
            Some(vec![])
        );
        assert_eq!(failed_ids(&Value::Null, &ids), Some(vec![]));
        assert_eq!(
            failed_ids(
                &json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
                &ids
            ),
            None
        );
        assert_eq!(
            failed_ids(
                &json!({"batchItemFailures": [{"itemIdentifier": "zzz"}]}),
                &ids
            ),
            None
        );
        assert_eq!(failed_ids(&json!("nonsense"), &ids), None);
    }
}
