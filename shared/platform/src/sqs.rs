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
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::BoxError;
use crate::correlation::{self, CorrelationId};
use crate::telemetry;

/// How many records of a standard queue's batch are handled at once.
const CONCURRENCY: usize = 8;

/// A queue our functions put work on: a JSON body and the correlation id as a message
/// attribute (the consumer's batch loop picks it up), the one way to send.
#[derive(Clone, Debug)]
pub struct WorkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl WorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        WorkQueue {
            client,
            url: url.into(),
        }
    }

    /// The queue whose URL is in the variable `name`.
    pub fn from_env(
        client: aws_sdk_sqs::Client,
        env: &crate::Env,
        name: &str,
    ) -> Result<Self, crate::ConfigError> {
        Ok(WorkQueue::new(client, env.required(name)?))
    }

    pub async fn send(
        &self,
        body: &serde_json::Value,
        correlation: Option<&CorrelationId>,
    ) -> Result<(), WorkQueueError> {
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body.to_string());
        if let Some(id) = correlation {
            let (name, value) = correlation::sqs_attribute(id);
            send = send.message_attributes(name, value);
        }
        send.send()
            .await
            .map_err(|e| WorkQueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// Moves up to `limit` messages from a dead-letter queue back to the queue it serves, body
/// and message attributes as they were; each is deleted from the DLQ only once it is sent
/// (a crash in between sends it twice: consumers are idempotent). The same logic serves the
/// local stack (`make redrive`) and AWS (`redrive` binary). Returns how many moved.
pub async fn redrive(
    client: &aws_sdk_sqs::Client,
    dead_letters: &str,
    target: &str,
    limit: usize,
) -> Result<usize, WorkQueueError> {
    let fail = |e: &dyn std::fmt::Display| WorkQueueError(e.to_string());
    let mut moved = 0;
    while moved < limit {
        let page = client
            .receive_message()
            .queue_url(dead_letters)
            .max_number_of_messages((limit - moved).min(10) as i32)
            .visibility_timeout(60)
            .wait_time_seconds(0)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| fail(&aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let messages = page.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            client
                .send_message()
                .queue_url(target)
                .set_message_body(m.body)
                .set_message_attributes(m.message_attributes)
                .send()
                .await
                .map_err(|e| fail(&aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            if let Some(handle) = m.receipt_handle {
                client
                    .delete_message()
                    .queue_url(dead_letters)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| fail(&aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            }
            moved += 1;
        }
    }
    Ok(moved)
}

/// A message that could not be queued.
#[derive(Debug, thiserror::Error)]
#[error("could not queue the message: {0}")]
pub struct WorkQueueError(pub String);

/// What the batch loop knows about a record besides its body.
#[derive(Clone, Debug)]
pub struct MessageContext {
    pub message_id: String,
    pub correlation_id: CorrelationId,
    /// SQS's `ApproximateReceiveCount`: 1 on first delivery.
    pub receive_count: u32,
}

/// A queue's consumer. The batch loop parses each record's body as [`SqsConsumer::Message`]
/// (JSON); a body that does not parse is logged and reported failed, so the queue retries
/// it and then dead-letters it: nothing is dropped.
pub trait SqsConsumer: Send + Sync + 'static {
    const NAME: &'static str;
    /// What a record's body is (a domain event, an S3 notification, a webhook delivery).
    type Message: DeserializeOwned + Send + Sync + 'static;
    type Error: std::error::Error + Send + Sync + 'static;

    /// Handles one record. Must be idempotent: SQS delivers at least once.
    fn handle(
        &self,
        message: &Self::Message,
        ctx: &MessageContext,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// How a failed record waits before its next try. `None`: the queue's visibility timeout.
    fn backoff(&self) -> Option<&Backoff> {
        None
    }

    /// The least wait an error asks for (a provider's `Retry-After`); the backoff waits at
    /// least this long.
    fn retry_hint(&self, _error: &Self::Error) -> Option<std::time::Duration> {
        None
    }

    /// Called when a record fails its last try (the backoff's schedule is spent, so the
    /// queue dead-letters it next): the place to hand the work to a person, so nothing is
    /// lost silently. The record is still reported failed.
    fn gave_up(
        &self,
        _message: &Self::Message,
        _ctx: &MessageContext,
        _error: &Self::Error,
    ) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Retry delays for the document pipeline's consumers: quick for a blip (a clamd restart),
/// longer for an outage; with `maxReceiveCount: 5` the fifth failure dead-letters.
pub const PIPELINE_RETRIES: [std::time::Duration; 4] = [
    std::time::Duration::from_secs(30),
    std::time::Duration::from_secs(120),
    std::time::Duration::from_secs(600),
    std::time::Duration::from_secs(1800),
];

/// Retry delays for calls to outside providers (insurance verifier, license registries,
/// Plaid): 1 min, 5 min, 15 min, 1 h, 6 h; the queue's `maxReceiveCount` is 6 (the first
/// try and five retries), and the last failure goes to a reviewer as well as the DLQ.
pub const PROVIDER_RETRIES: [std::time::Duration; 5] = [
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(300),
    std::time::Duration::from_secs(900),
    std::time::Duration::from_secs(3600),
    std::time::Duration::from_secs(6 * 3600),
];

/// Retry delays for failed records, applied by setting the message's visibility
/// (`ChangeMessageVisibility`): the n-th receive that fails waits `schedule[n-1]` (the last
/// entry after that), ±20% jitter so a burst of failures does not come back at once. The
/// queue's `maxReceiveCount` still bounds the tries and dead-letters the message.
pub struct Backoff {
    sqs: aws_sdk_sqs::Client,
    schedule: Vec<std::time::Duration>,
    queue_urls: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// The retry schedules, each overridable by its variable (seconds, comma-separated, e.g.
/// `3,3,3`): the end-to-end suite shortens the provider schedule instead of waiting out
/// real minutes; production leaves them unset.
#[derive(Clone, Copy, Debug)]
pub enum Retries {
    /// [`PIPELINE_RETRIES`], or `PIPELINE_RETRY_DELAYS_SECONDS`.
    Pipeline,
    /// [`PROVIDER_RETRIES`], or `PROVIDER_RETRY_DELAYS_SECONDS`.
    Provider,
}

impl Retries {
    fn variable(self) -> &'static str {
        match self {
            Retries::Pipeline => "PIPELINE_RETRY_DELAYS_SECONDS",
            Retries::Provider => "PROVIDER_RETRY_DELAYS_SECONDS",
        }
    }

    fn default_schedule(self) -> &'static [std::time::Duration] {
        match self {
            Retries::Pipeline => &PIPELINE_RETRIES,
            Retries::Provider => &PROVIDER_RETRIES,
        }
    }

    /// The schedule `env` sets for this kind, else the default.
    pub fn schedule(
        self,
        env: &crate::Env,
    ) -> Result<Vec<std::time::Duration>, crate::ConfigError> {
        let key = self.variable();
        let listed = env.list(key);
        if listed.is_empty() {
            return Ok(self.default_schedule().to_vec());
        }
        listed
            .iter()
            .map(|raw| {
                raw.parse::<u64>()
                    .ok()
                    .filter(|s| (1..=12 * 3600).contains(s))
                    .map(std::time::Duration::from_secs)
                    .ok_or_else(|| crate::ConfigError::Invalid {
                        key: key.to_owned(),
                        reason: format!("{raw:?} is not a number of seconds from 1 to 43200"),
                    })
            })
            .collect()
    }
}

impl Backoff {
    /// The backoff `retries` gives in this environment (its default unless overridden).
    pub fn from_env(
        sqs: aws_sdk_sqs::Client,
        env: &crate::Env,
        retries: Retries,
    ) -> Result<Self, crate::ConfigError> {
        Ok(Backoff::new(sqs, &retries.schedule(env)?))
    }

    pub fn new(sqs: aws_sdk_sqs::Client, schedule: &[std::time::Duration]) -> Self {
        Backoff {
            sqs,
            schedule: schedule.to_vec(),
            queue_urls: Default::default(),
        }
    }

    /// The delay before the try after failed receive number `receive_count` (1-based),
    /// with `jitter` in [0, 1) spreading it over ±20%.
    pub fn delay(&self, receive_count: u32, jitter: f64) -> std::time::Duration {
        let i = (receive_count.max(1) as usize - 1).min(self.schedule.len().saturating_sub(1));
        let base = self.schedule.get(i).copied().unwrap_or_default();
        // SQS visibility is at most 12 hours.
        base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
            .min(std::time::Duration::from_secs(12 * 3600))
    }

    /// [`Backoff::delay`], but at least `at_least` (a provider's `Retry-After`), within
    /// SQS's 12-hour visibility limit.
    pub fn delay_at_least(
        &self,
        receive_count: u32,
        jitter: f64,
        at_least: Option<std::time::Duration>,
    ) -> std::time::Duration {
        self.delay(receive_count, jitter)
            .max(at_least.unwrap_or_default())
            .min(std::time::Duration::from_secs(12 * 3600))
    }

    /// Whether failed receive number `receive_count` was the last try: the schedule has one
    /// delay per retry, so a queue using it has `maxReceiveCount` = schedule length + 1.
    pub fn is_last_try(&self, receive_count: u32) -> bool {
        receive_count as usize > self.schedule.len()
    }

    /// The queue URL for a queue ARN (`arn:aws:sqs:region:account:name`), asked once.
    async fn queue_url(&self, arn: &str) -> Result<String, BoxError> {
        if let Some(url) = self.queue_urls.lock().expect("queue urls").get(arn) {
            return Ok(url.clone());
        }
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
            return Err(format!("not a queue ARN: {arn}").into());
        };
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?
            .queue_url
            .ok_or("no queue URL")?;
        self.queue_urls
            .lock()
            .expect("queue urls")
            .insert(arn.to_owned(), url.clone());
        Ok(url)
    }

    async fn defer(
        &self,
        record: &SqsMessage,
        receive_count: u32,
        at_least: Option<std::time::Duration>,
    ) -> Result<std::time::Duration, BoxError> {
        let arn = record
            .event_source_arn
            .as_deref()
            .ok_or("record without eventSourceARN")?;
        let handle = record
            .receipt_handle
            .as_deref()
            .ok_or("record without receiptHandle")?;
        let jitter = (ulid::Ulid::new().random() % 1000) as f64 / 1000.0;
        let delay = self.delay_at_least(receive_count, jitter, at_least);
        self.sqs
            .change_message_visibility()
            .queue_url(self.queue_url(arn).await?)
            .receipt_handle(handle)
            .visibility_timeout(delay.as_secs() as i32)
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        Ok(delay)
    }
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
    let message: C::Message = match serde_json::from_str(record.body.as_deref().unwrap_or_default())
    {
        Ok(m) => m,
        Err(e) => {
            let _entered = span.enter();
            // Never the body itself: it may hold personal data.
            tracing::error!(message_id = %ctx.message_id, receive_count = ctx.receive_count, error = %e, "record body is not what this queue carries; it will be dead-lettered");
            return Err(ctx.message_id);
        }
    };
    // Boxed: consumers' futures nest deeply (SDK calls inside domain services), and a
    // pointer keeps the batch future's type small for the compiler.
    let outcome = Box::pin(consumer.handle(&message, &ctx))
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match outcome {
        Ok(()) => Ok(()),
        Err(err) => {
            if consumer
                .backoff()
                .is_some_and(|b| b.is_last_try(ctx.receive_count))
            {
                tracing::error!(message_id = %ctx.message_id, receive_count = ctx.receive_count, error = %err, "record failed its last try; handing it over");
                Box::pin(consumer.gave_up(&message, &ctx, &err)).await;
                return Err(ctx.message_id);
            }
            let retry_in = match consumer.backoff() {
                None => None,
                Some(backoff) => match backoff
                    .defer(&record, ctx.receive_count, consumer.retry_hint(&err))
                    .await
                {
                    Ok(delay) => Some(delay.as_secs()),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                        None
                    }
                },
            };
            tracing::warn!(message_id = %ctx.message_id, receive_count = ctx.receive_count, retry_in_s = ?retry_in, error = %err, "record failed; it will be retried");
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
        type Message = String;
        type Error = Poison;
        async fn handle(&self, body: &String, _ctx: &MessageContext) -> Result<(), Poison> {
            self.seen.lock().unwrap().push(body.clone());
            if body.contains("poison") {
                Err(Poison)
            } else {
                Ok(())
            }
        }
    }

    /// A batch whose records carry `bodies` as JSON strings.
    fn event(bodies: &[&str], arn: &str) -> LambdaEvent<SqsEvent> {
        let json: Vec<String> = bodies
            .iter()
            .map(|b| serde_json::to_string(b).unwrap())
            .collect();
        raw_event(&json.iter().map(String::as_str).collect::<Vec<_>>(), arn)
    }

    fn raw_event(bodies: &[&str], arn: &str) -> LambdaEvent<SqsEvent> {
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

    #[test]
    fn backoff_follows_its_schedule_with_bounded_jitter() {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .build();
        let minutes = |m: u64| std::time::Duration::from_secs(60 * m);
        let b = Backoff::new(
            aws_sdk_sqs::Client::from_conf(conf),
            &[minutes(1), minutes(5), minutes(15)],
        );
        assert_eq!(b.delay(1, 0.5), minutes(1));
        assert_eq!(b.delay(2, 0.5), minutes(5));
        assert_eq!(b.delay(9, 0.5), minutes(15), "the last step repeats");
        assert_eq!(b.delay(1, 0.0), std::time::Duration::from_secs(48));
        assert_eq!(b.delay(1, 0.999).as_secs(), 71);
        assert!(
            !b.is_last_try(3) && b.is_last_try(4),
            "three retries: the fourth try is the last"
        );
        // A provider's Retry-After lengthens the wait, never shortens it.
        assert_eq!(b.delay_at_least(1, 0.5, Some(minutes(3))), minutes(3));
        assert_eq!(b.delay_at_least(2, 0.5, Some(minutes(3))), minutes(5));
        assert_eq!(
            b.delay_at_least(1, 0.5, Some(minutes(24 * 60))),
            minutes(12 * 60),
            "SQS's visibility limit"
        );
    }

    /// Gives up on every record that reaches its last try, remembering which.
    struct Patient {
        backoff: Backoff,
        handed_over: Mutex<Vec<String>>,
    }

    impl SqsConsumer for Patient {
        const NAME: &'static str = "test-patient";
        type Message = String;
        type Error = Poison;
        async fn handle(&self, _message: &String, _ctx: &MessageContext) -> Result<(), Poison> {
            Err(Poison)
        }
        fn backoff(&self) -> Option<&Backoff> {
            Some(&self.backoff)
        }
        async fn gave_up(&self, message: &String, ctx: &MessageContext, _e: &Poison) {
            assert_eq!(ctx.receive_count, 3);
            self.handed_over.lock().unwrap().push(message.clone());
        }
    }

    #[test]
    fn retry_schedules_are_the_defaults_unless_the_environment_sets_them() {
        let env = |pairs: &[(&str, &str)]| {
            crate::Env::from_map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert_eq!(
            Retries::Provider.schedule(&env(&[])).unwrap(),
            PROVIDER_RETRIES.to_vec()
        );
        assert_eq!(
            Retries::Provider
                .schedule(&env(&[("PROVIDER_RETRY_DELAYS_SECONDS", "3, 3,5")]))
                .unwrap(),
            [3, 3, 5].map(std::time::Duration::from_secs).to_vec()
        );
        assert_eq!(
            Retries::Pipeline
                .schedule(&env(&[("PROVIDER_RETRY_DELAYS_SECONDS", "3")]))
                .unwrap(),
            PIPELINE_RETRIES.to_vec(),
            "each kind reads its own variable"
        );
        for bad in ["0", "soon", "-1", "50000"] {
            assert!(
                Retries::Provider
                    .schedule(&env(&[("PROVIDER_RETRY_DELAYS_SECONDS", bad)]))
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn the_last_try_is_handed_over_and_still_reported_failed() {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .build();
        let consumer = Arc::new(Patient {
            backoff: Backoff::new(aws_sdk_sqs::Client::from_conf(conf), &PIPELINE_RETRIES[..2]),
            handed_over: Mutex::new(Vec::new()),
        });
        let mut batch = event(&["late", "also late"], STANDARD);
        for r in &mut batch.payload.records {
            r.attributes
                .insert("ApproximateReceiveCount".into(), "3".into());
        }
        assert!(
            process_batch(consumer.clone(), batch).await.is_err(),
            "every record failed"
        );
        let mut handed = consumer.handed_over.lock().unwrap().clone();
        handed.sort();
        assert_eq!(handed, ["also late", "late"]);
    }

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
    async fn a_body_that_is_not_the_queues_message_is_reported_failed_unhandled() {
        let consumer = Arc::new(Recorder::default());
        let response = process_batch(
            consumer.clone(),
            raw_event(&["\"a\"", "{\"not\": \"a string\"}", "not json"], STANDARD),
        )
        .await
        .unwrap();
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, vec!["m1", "m2"]);
        assert_eq!(*consumer.seen.lock().unwrap(), vec!["a"]);
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
