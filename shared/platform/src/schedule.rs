//! Scheduled jobs (SAM `Schedule` events: EventBridge "Scheduled Event" payloads).

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::Instrument;

use crate::BoxError;
use crate::correlation::CorrelationId;
use crate::telemetry;

pub trait ScheduledJob: Send + Sync + 'static {
    const NAME: &'static str;

    /// Runs the job once. Returns a summary for the logs (what was found, what was done).
    /// Must be safe to run twice for the same tick: EventBridge delivers at least once.
    fn run(
        &self,
        event: &EventBridgeEvent<Value>,
    ) -> impl Future<Output = Result<Value, BoxError>> + Send;
}

pub async fn run_job<J: ScheduledJob>(
    job: Arc<J>,
    event: LambdaEvent<EventBridgeEvent<Value>>,
) -> Result<Value, BoxError> {
    let LambdaEvent { payload, context } = event;
    let correlation_id = CorrelationId::first_of([payload.id.as_deref()]);
    let span = telemetry::invocation_span(J::NAME, &context, &correlation_id);
    let result = job.run(&payload).instrument(span.clone()).await;
    let _entered = span.enter();
    match &result {
        Ok(summary) => tracing::info!(summary = %summary, "scheduled job finished"),
        Err(err) => tracing::error!(error = %err, "scheduled job failed"),
    }
    result
}
