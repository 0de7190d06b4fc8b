//! Scheduled every minute: publishes domain events left in the outbox (a publish that failed
//! or a function that stopped after its commit) and removes them. Consumers deduplicate by
//! event id, so publishing one twice is harmless.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use platform::events::SnsPublisher;
use platform::schedule::ScheduledJob;
use platform::{BoxError, Env};
use serde_json::{Value, json};
use store::DynamoOutbox;

/// Events younger than this are left to the function that committed them.
const GRACE_SECONDS: i64 = 30;

pub struct Relay {
    outbox: DynamoOutbox,
    publisher: SnsPublisher,
}

pub async fn build(env: &Env) -> Result<Relay, BoxError> {
    let aws = platform::aws::Aws::load(env).await;
    Ok(Relay {
        outbox: DynamoOutbox::from_env(env, &aws)?,
        publisher: SnsPublisher::from_env(env, &aws)?,
    })
}

impl ScheduledJob for Relay {
    const NAME: &'static str = "events-relay";

    async fn run(&self, _event: &EventBridgeEvent<Value>) -> Result<Value, BoxError> {
        let before = chrono::Utc::now() - chrono::Duration::seconds(GRACE_SECONDS);
        let pending = self.outbox.pending(before, 100).await?;
        let (mut published, mut failed) = (0, 0);
        for event in &pending {
            match store::outbox::publish(&self.publisher, event).await {
                Ok(()) => {
                    published += 1;
                    if let Err(e) = self.outbox.remove(&event.id).await {
                        tracing::warn!(event_id = %event.id, error = %e, "published but not removed; it will be published again");
                    }
                }
                Err(e) => {
                    failed += 1;
                    tracing::warn!(event_id = %event.id, error = %e, "publish failed; retried next run");
                }
            }
        }
        if failed > 0 {
            return Err(format!(
                "{failed} of {} outbox events could not be published",
                pending.len()
            )
            .into());
        }
        Ok(json!({"published": published}))
    }
}
